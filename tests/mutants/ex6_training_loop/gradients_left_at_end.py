"""Mistake: gradients are cleared at the start of each window instead of after its step, so the last step's remain."""

EXPECTED_FAILURES = {
    "test_stale_gradients_are_ignored_and_cleared",
}

PATCH = [
    ("            optimizer.zero_grad(set_to_none=True)\n            steps += 1\n", "            steps += 1\n"),
    (
        "        loss = loss_fn(model(x), y)\n        (loss / size).backward()\n",
        "        if i == first:\n            optimizer.zero_grad(set_to_none=True)\n"
        "        loss = loss_fn(model(x), y)\n        (loss / size).backward()\n",
    ),
]
