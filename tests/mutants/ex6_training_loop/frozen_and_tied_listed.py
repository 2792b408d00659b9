"""Mistake: frozen parameters are put in the groups, and tied weights twice (named_parameters(remove_duplicate=False))."""

EXPECTED_FAILURES = {
    "test_param_groups_hold_each_trainable_parameter_once",
}

PATCH = [
    (
        "    for _, param in model.named_parameters():\n        if not param.requires_grad:\n            continue\n",
        "    for _, param in model.named_parameters(remove_duplicate=False):\n",
    ),
]
