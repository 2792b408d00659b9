"""The Annotated Transformer's feed-forward sublayer (SublayerConnection around PositionwiseFeedForward) with its own LayerNorm.

Source: harvardnlp/annotated-transformer, the_annotated_transformer.py, commit
0a91a254735c07532e23733dce8a693e504f3a08: ``LayerNorm``, ``SublayerConnection``,
``PositionwiseFeedForward``, and the final ``norm`` of ``Encoder``.
Edits (interface only), as a PATCH of the model answer (input_proj, output_proj and argument
checks kept): w_1 / w_2 become fc1 / fc2 of width hidden, ``.relu()`` becomes the contract's
``activation()``, the LayerNorm's a_2 / b_2 are named weight / bias, the feed-forward's own
dropout is ``inner_dropout`` and the SublayerConnection's is ``dropout``.
Kept: LayerNorm = a_2 * (x - mean) / (std + eps) + b_2 with torch's (unbiased) std and eps
1e-6 added to the std; x + dropout(w_2(dropout(relu(w_1(norm(x)))))).

Decided before grading: the norm is not nn.LayerNorm's (unbiased std, eps outside the root),
so every value compared with the reference differs, and with one hidden feature the std of
a single number is NaN: the eval, train and activation checks fail, and the gradient check
sees a NaN output. The model's own properties hold (dropout=0 is eval, a zeroed fc2 makes
the block the identity), and its state_dict has the reference's names and shapes.
"""

EXPECTED_FAILURES = {
    "test_eval_matches_reference",
    "test_train_matches_reference",
    "test_other_activations",
    "test_gradients_reach_every_parameter",
}

PATCH = [
    (
        "class Block(nn.Module):\n",
        "class LayerNorm(nn.Module):\n"
        "    \"\"\"The Annotated Transformer's LayerNorm (a_2, b_2 named weight, bias).\"\"\"\n"
        "\n"
        "    def __init__(self, features: int, eps: float = 1e-6) -> None:\n"
        "        super().__init__()\n"
        "        self.weight = nn.Parameter(torch.ones(features))\n"
        "        self.bias = nn.Parameter(torch.zeros(features))\n"
        "        self.eps = eps\n"
        "\n"
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        mean = x.mean(-1, keepdim=True)\n"
        "        std = x.std(-1, keepdim=True)\n"
        "        return self.weight * (x - mean) / (std + self.eps) + self.bias\n"
        "\n"
        "\n"
        "class Block(nn.Module):\n",
    ),
    (
        "        self.norm = nn.LayerNorm(hidden)\n"
        "        self.fc1 = nn.Linear(hidden, hidden)\n",
        "        self.norm = LayerNorm(hidden)  # SublayerConnection.norm\n"
        "        self.fc1 = nn.Linear(hidden, hidden)  # w_1\n"
        "        self.inner_dropout = nn.Dropout(p)  # PositionwiseFeedForward.dropout\n",
    ),
    (
        "        h = self.norm(x)\n"
        "        h = self.fc1(h)\n"
        "        h = self.activation(h)\n"
        "        h = self.fc2(h)\n"
        "        return x + self.dropout(h)  # dropout on the branch only, then the residual sum\n",
        "        h = self.fc2(self.inner_dropout(self.activation(self.fc1(self.norm(x)))))  # w_2(dropout(w_1(x).relu()))\n"
        "        return x + self.dropout(h)  # SublayerConnection: x + dropout(sublayer(norm(x)))\n",
    ),
    (
        "        self.norm = nn.LayerNorm(hidden_features)\n",
        "        self.norm = LayerNorm(hidden_features)  # Encoder.norm\n",
    ),
]
