"""The checks, one package per exercise: ``grader/checks/<id>/checks.py`` is the module the
registry and pytest know."""
