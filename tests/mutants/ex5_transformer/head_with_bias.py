"""AttentionHead's W_q, W_k, W_v have a bias (the chapter's have none)."""

# gradients are believed only with the reference's weights loaded (the biases do not load) and its output matched
EXPECTED_FAILURES = {"test_attention_head_values", "test_gradients_reach_every_parameter"}

PATCH = [
    (
        '        self.W_q = nn.Linear(d_model, d_k, bias=False)\n'
        '        self.W_k = nn.Linear(d_model, d_k, bias=False)\n'
        '        self.W_v = nn.Linear(d_model, d_k, bias=False)\n',
        '        self.W_q = nn.Linear(d_model, d_k)\n'
        '        self.W_k = nn.Linear(d_model, d_k)\n'
        '        self.W_v = nn.Linear(d_model, d_k)\n',
    ),
]
