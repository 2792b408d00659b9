"""The autograder for the chapter's exercises.

Grading data flows one way:
target folder -> loader/runner -> checks (draw examples, call the student's code,
compare with ``reference``) -> results -> report (table, Gradescope JSON).

This folder is the check engine, what a student release ships. Above it, and never
imported by it except at two named seams (README, "Layout"): ``isolation/`` (the
student's code in worker processes) and ``instructor/`` (batch, release, nbgrader).
"""
