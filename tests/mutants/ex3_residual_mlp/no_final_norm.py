"""Mistake: no final LayerNorm before output_proj (so the reference's state_dict does not load)."""

EXPECTED_FAILURES = {"test_eval_matches_reference", "test_other_activations", "test_structure_loads_reference_state_dict", "test_train_matches_reference"}

PATCH = [
    (
        '        self.norm = nn.LayerNorm(hidden_features)\n',
        '',
    ),
    (
        '        return self.output_proj(self.norm(h))  # (..., out)\n',
        '        return self.output_proj(h)  # (..., out)\n',
    ),
]
