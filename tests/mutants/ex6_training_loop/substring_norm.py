"""Mistake (the chapter's own): no weight decay for names containing "bias" or "norm", by substring of the full name."""

EXPECTED_FAILURES = {
    "test_param_groups_exempt_biases_and_norm_layers",
}

PATCH = [
    (
        "    exempt = set()\n"
        "    for _, module in model.named_modules():\n"
        "        for local_name, param in module.named_parameters(prefix=\"\", recurse=False):\n"
        "            if local_name == \"bias\" or isinstance(module, NO_DECAY_LAYERS):\n"
        "                exempt.add(param)\n",
        "    exempt = {param for name, param in model.named_parameters() if \"bias\" in name or \"norm\" in name}\n",
    ),
]
