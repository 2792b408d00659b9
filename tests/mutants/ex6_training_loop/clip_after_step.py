"""Mistake: the gradients are clipped after optimizer.step(), when clipping no longer changes the update."""

EXPECTED_FAILURES = {
    "test_train_epoch_clipping_matches_reference",
}

PATCH = [
    (
        "            if max_grad_norm is not None:\n"
        "                norm = nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)\n"
        "                norms.append(norm.item())\n"
        "            optimizer.step()\n",
        "            optimizer.step()\n"
        "            if max_grad_norm is not None:\n"
        "                norm = nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)\n"
        "                norms.append(norm.item())\n",
    ),
]
