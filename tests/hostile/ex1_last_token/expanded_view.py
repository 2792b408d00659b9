"""last_token_masked is right; last_token returns a view of one zero expanded to 2**40 elements.

Rendered or compared in the grading process, it crashed a class batch (or ran minutes
past its time limit). The worker refuses to send it: last_token's checks of values fail; it
still raises ValueError on bad input, as the model answer does (2 points), and
last_token_masked keeps its 9.
"""

EXPECTED_SCORE = 11
PATCH = [("    return hidden.gather(1, index).squeeze(1)\n\n\ndef last_token_masked", "    return hidden.new_zeros(1).expand(2**40)\n\n\ndef last_token_masked")]
