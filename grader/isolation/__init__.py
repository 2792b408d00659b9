"""The student's code in worker processes, forked from a CUDA-free fork server.

runner.py is the grading side, worker.py the worker, preload.py and warm_up.py what the
fork server loads, guard.py the worker's audit hook, wire.py what may travel back.
"""
