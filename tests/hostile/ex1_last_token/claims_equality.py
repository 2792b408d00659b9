"""Return an object that is not a tensor but says it equals whatever it is compared with."""

EXPECTED_SCORE = 0


class Anything:
    shape = dtype = device = None

    def __eq__(self, other):
        return True

    def __bool__(self):
        return True


def last_token(hidden, lengths):
    return Anything()


def last_token_masked(hidden, mask):
    return Anything()
