"""The autograder for the chapter's exercises.

Grading data flows one way:
target folder -> loader/runner -> checks (draw examples, call the student's code,
compare with ``reference``) -> results -> report (table, Gradescope JSON).
"""
