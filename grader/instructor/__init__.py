"""The instructor's tools, never in a student release.

batch.py grades a class, release.py builds the student release, nbgrader/ writes and
grades nbgrader courses, and cli.py adds their commands to ``python -m grader``.
"""
