"""nanoGPT's MLP sublayer as the residual block (x + mlp(ln_2(x))), its LayerNorm for every norm: the contract's block exactly.

Source: karpathy/nanoGPT, model.py, commit 04a1d697ddc57aadb2edbe95816bf86c6b8918b0 (as stored
in our index): ``LayerNorm`` (bias=True), ``MLP`` and the second line of ``Block.forward``;
the final ``ln_f`` of ``GPT``.
Edits (interface only), as a PATCH of the model answer (which keeps its input_proj, blocks,
output_proj and argument checks): c_fc / c_proj become fc1 / fc2 of width hidden (nanoGPT's
are 4 x n_embd), the hard-coded GELU becomes ``activation()``, ln_2 becomes ``norm``;
nanoGPT's attention half of the block is left out. Kept: F.layer_norm with eps 1e-5, then
fc1, activation, fc2, one dropout, and the residual sum.

Decided before grading: the same operations as the contract's block; correct.
"""

EXPECTED_FAILURES = set()

PATCH = [
    (
        "class Block(nn.Module):\n",
        "class LayerNorm(nn.Module):\n"
        "    \"\"\"nanoGPT's LayerNorm (with its bias): F.layer_norm, eps 1e-5.\"\"\"\n"
        "\n"
        "    def __init__(self, ndim: int, bias: bool = True) -> None:\n"
        "        super().__init__()\n"
        "        self.weight = nn.Parameter(torch.ones(ndim))\n"
        "        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None\n"
        "\n"
        "    def forward(self, input: torch.Tensor) -> torch.Tensor:\n"
        "        return nn.functional.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)\n"
        "\n"
        "\n"
        "class Block(nn.Module):\n",
    ),
    (
        "        self.norm = nn.LayerNorm(hidden)\n"
        "        self.fc1 = nn.Linear(hidden, hidden)\n",
        "        self.norm = LayerNorm(hidden)  # nanoGPT's ln_2\n"
        "        self.fc1 = nn.Linear(hidden, hidden)  # c_fc\n",
    ),
    (
        "        h = self.norm(x)\n"
        "        h = self.fc1(h)\n"
        "        h = self.activation(h)\n"
        "        h = self.fc2(h)\n"
        "        return x + self.dropout(h)  # dropout on the branch only, then the residual sum\n",
        "        h = self.fc1(self.norm(x))  # MLP.forward: c_fc, gelu, c_proj, dropout\n"
        "        h = self.activation(h)\n"
        "        h = self.fc2(h)\n"
        "        h = self.dropout(h)\n"
        "        return x + h  # Block.forward: x = x + self.mlp(self.ln_2(x))\n",
    ),
    (
        "        self.norm = nn.LayerNorm(hidden_features)\n",
        "        self.norm = LayerNorm(hidden_features)  # GPT's ln_f\n",
    ),
]
