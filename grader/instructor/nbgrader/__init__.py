"""nbgrader support: the course and its source notebooks, the preprocessors its config names,
and ``batch --nbgrader`` (the gradebook and the autograded notebooks)."""
