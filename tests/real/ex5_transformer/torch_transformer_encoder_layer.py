"""nn.TransformerEncoderLayer's block: the chapter's layout, but its self-attention has a dropout of its own.

Source: pytorch/pytorch, torch/nn/modules/transformer.py, commit
91a8950d1b07074bdd6a13051956e8c470d17f83 (the same code as torch 2.13.0):
``TransformerEncoderLayer.__init__``, ``forward`` (the Python path), ``_sa_block``, ``_ff_block``.
Edits (interface only), as a PATCH of the model answer (attention, PositionalEncoding and
the rest are the model answer's): ``self_attn = MultiheadAttention(d_model, nhead,
dropout=dropout)`` is the exercise's ``MultiHeadAttention(d_model, num_heads,
dropout=dropout)`` (same mask convention as the rest of the exercise), linear1 / activation
(ReLU, the default) / dropout / linear2 are the four entries of ``feed_forward``, dropout1
and dropout2 (two nn.Dropout(dropout)) are the contract's one ``dropout``, norm1 / norm2
keep their names (eps 1e-5, the default); keyword arguments and the fast path are left out.
Kept: x + dropout1(self_attn(x, x, x)) then x + dropout2(linear2(dropout(relu(linear1(x))))),
norm first or after, exactly as ``forward`` orders them.

Decided before grading: eval mode is the chapter's block, and dropout runs twice through
``dropout``; but in train mode the attention also drops its weights, a third draw the
contract does not make. Only the dropout check (train mode under a fixed seed) fails.
"""

EXPECTED_FAILURES = {"test_dropout_train_and_eval"}

PATCH = [
    (
        'class TransformerBlock(nn.Module):\n    """The chapter\'s block, post-norm by default, pre-norm with norm_first=True."""\n\n    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1, norm_first: bool = False) -> None:\n        super().__init__()\n        self.norm_first = norm_first\n        self.attention = MultiHeadAttention(d_model, num_heads)\n        self.norm1 = nn.LayerNorm(d_model)\n        self.norm2 = nn.LayerNorm(d_model)\n        self.feed_forward = nn.Sequential(\n            nn.Linear(d_model, d_ff),\n            nn.ReLU(),\n            nn.Dropout(dropout),\n            nn.Linear(d_ff, d_model),\n        )\n        self.dropout = nn.Dropout(dropout)\n\n    def forward(self, x, mask=None):\n        if self.norm_first:\n            h = self.norm1(x)\n            x = x + self.dropout(self.attention(h, h, h, mask))\n            x = x + self.dropout(self.feed_forward(self.norm2(x)))\n        else:\n            attn_output = self.attention(x, x, x, mask)\n            x = self.norm1(x + self.dropout(attn_output))\n            ff_output = self.feed_forward(x)\n            x = self.norm2(x + self.dropout(ff_output))\n        return x\n',
        'class TransformerBlock(nn.Module):\n    """nn.TransformerEncoderLayer\'s block (post-norm by default, pre-norm with norm_first=True)."""\n\n    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1, norm_first: bool = False) -> None:\n        super().__init__()\n        self.attention = MultiHeadAttention(d_model, num_heads, dropout=dropout)  # self_attn\n        self.feed_forward = nn.Sequential(  # linear1, activation, dropout, linear2\n            nn.Linear(d_model, d_ff),\n            nn.ReLU(),\n            nn.Dropout(dropout),\n            nn.Linear(d_ff, d_model),\n        )\n        self.norm_first = norm_first\n        self.norm1 = nn.LayerNorm(d_model, eps=1e-5)\n        self.norm2 = nn.LayerNorm(d_model, eps=1e-5)\n        self.dropout = nn.Dropout(dropout)  # dropout1 and dropout2\n\n    def forward(self, x, mask=None):\n        if self.norm_first:\n            x = x + self._sa_block(self.norm1(x), mask)\n            x = x + self._ff_block(self.norm2(x))\n        else:\n            x = self.norm1(x + self._sa_block(x, mask))\n            x = self.norm2(x + self._ff_block(x))\n        return x\n\n    def _sa_block(self, x, mask):\n        x = self.attention(x, x, x, mask)\n        return self.dropout(x)  # dropout1\n\n    def _ff_block(self, x):\n        return self.dropout(self.feed_forward(x))  # dropout2(linear2(dropout(activation(linear1(x)))))\n',
    ),
]
