"""Mistake: evaluate averages the batches' mean losses, which is wrong when the last batch is smaller."""

EXPECTED_FAILURES = {
    "test_evaluate_matches_reference",
}

PATCH = [
    ("                total += loss_fn(out, y).item() * len(y)\n", "                total += loss_fn(out, y).item()\n"),
    ('    return {"loss": total / seen, "accuracy": correct / seen}\n', '    return {"loss": total / len(loader), "accuracy": correct / seen}\n'),
]
