"""Mistake: restore loads with strict=False, so a snapshot with missing or extra keys is accepted silently."""

EXPECTED_FAILURES = {
    "test_restore_gives_back_the_exact_weights",
}

PATCH = [("    model.load_state_dict(snap, strict=True)\n", "    model.load_state_dict(snap, strict=False)\n")]
