"""Mistake: evaluate builds a graph (no torch.no_grad()), keeping every intermediate result for nothing."""

EXPECTED_FAILURES = {
    "test_evaluate_builds_no_graph",
}

PATCH = [
    (
        "        with torch.no_grad():\n            for x, y in loader:\n",
        "        if True:\n            for x, y in loader:\n",
    ),
]
