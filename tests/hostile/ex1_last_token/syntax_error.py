"""A syntax error: this exercise scores 0, and the student's other exercises are still graded."""

EXPECTED_SCORE = 0


def last_token(hidden, lengths)
    return hidden[:, 0]
