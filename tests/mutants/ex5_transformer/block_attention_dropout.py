"""TransformerBlock gives its attention a dropout of its own, as nn.TransformerEncoderLayer's self_attn has: three draws where the contract has two."""

# eval mode is right and self.dropout still runs twice: only a train-mode output under a fixed seed shows it
EXPECTED_FAILURES = {"test_dropout_train_and_eval"}

PATCH = [
    (
        "        self.attention = MultiHeadAttention(d_model, num_heads)\n",
        "        self.attention = MultiHeadAttention(d_model, num_heads, dropout=dropout)  # as nn.TransformerEncoderLayer\n",
    ),
]
