"""The final norm is written by hand with the unbiased std and no eps: off for every width, and NaN (the same NaN every call) when hidden_features is 1."""

# values only: the model's own properties (train = eval without dropout, a zeroed block) hold, NaN or not;
# its gradient check sees the NaN output
EXPECTED_FAILURES = {
    "test_eval_matches_reference",
    "test_train_matches_reference",
    "test_other_activations",
    "test_gradients_reach_every_parameter",
}

PATCH = [
    (
        "        return self.output_proj(self.norm(h))  # (..., out)\n",
        "        normed = (h - h.mean(-1, keepdim=True)) / h.std(-1, keepdim=True)  # LayerNorm by hand\n"
        "        return self.output_proj(normed * self.norm.weight + self.norm.bias)  # (..., out)\n",
    ),
]
