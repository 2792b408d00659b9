"""TransformerBlock drops inside its attention (as nn.TransformerEncoderLayer) and not inside feed_forward: the same number of draws, in other places."""

# eval mode is right and self.dropout still runs twice: only a train-mode output under a fixed seed shows it
EXPECTED_FAILURES = {"test_dropout_train_and_eval"}

PATCH = [
    (
        "        self.attention = MultiHeadAttention(d_model, num_heads)\n",
        "        self.attention = MultiHeadAttention(d_model, num_heads, dropout=dropout)  # as nn.TransformerEncoderLayer\n",
    ),
    (
        "            nn.Dropout(dropout),\n            nn.Linear(d_ff, d_model),\n",
        "            nn.Identity(),  # keeps feed_forward.3 where the state_dict expects it\n            nn.Linear(d_ff, d_model),\n",
    ),
]
