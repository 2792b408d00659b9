"""Mistake: the epoch's loss is summed as tensors (.item() only at the end), so every micro-batch's graph is kept."""

EXPECTED_FAILURES = {
    "test_train_epoch_keeps_no_graph",
}

PATCH = [
    ("        total += loss.item() * len(y)\n", "        total = total + loss * len(y)\n"),
    ('    return {"loss": total / seen, "steps": steps, "grad_norms": norms}\n', '    return {"loss": total.item() / seen, "steps": steps, "grad_norms": norms}\n'),
]
