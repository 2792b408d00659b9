"""Instruments that measure structure where the student's code runs, and check one another.

A structural check (no Python loop, no F.silu, only x saved for backward) is measured
in the process that runs the student's code, so that code could switch the measurement
off. Each measurement is therefore cross-checked, and any disagreement fails the check
as :class:`~grader.probing.tampering.Tampered`:

- ``recorder``: the dispatch mode that counts operators (the measurement itself);
- ``witness``: torch's C++ RecordFunction events, which no Python dispatch mode can
  switch off: operators that ran where the recorder did not see them;
- ``provenance``: tensors made during the call from memory no seen operator produced;
- ``saved``: the tensors an autograd graph keeps, against what the pack hook saw;
- ``seal``: the grader's own modules, fingerprinted before any student code runs.

:mod:`grader.probes` puts them together.
"""
