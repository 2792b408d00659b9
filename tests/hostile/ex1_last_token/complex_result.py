"""last_token is right (9); last_token_masked returns a complex tensor (its rendering crashed a class batch).

Refused as a reply, it fails last_token_masked's checks of values; its ValueError on bad
input is still right (2 points).
"""

EXPECTED_SCORE = 11
PATCH = [
    (
        "    index = last.view(B, 1, 1).expand(B, 1, D)\n    return hidden.gather(1, index).squeeze(1)\n",
        "    index = last.view(B, 1, 1).expand(B, 1, D)\n    return hidden.gather(1, index).squeeze(1).to(torch.complex64)\n",
    )
]
