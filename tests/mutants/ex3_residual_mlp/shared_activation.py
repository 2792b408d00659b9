"""Mistake: one activation instance is shared by all blocks (so a learnable activation shares its parameters)."""

EXPECTED_FAILURES = {"test_other_activations"}

PATCH = [
    (
        '        self.activation = activation()  # a fresh instance per block\n',
        '        self.activation = activation  # an instance, shared\n',
    ),
    (
        '        self.blocks = nn.ModuleList([Block(hidden_features, dropout, activation) for _ in range(depth)])\n',
        '        shared = activation()\n'
        '        self.blocks = nn.ModuleList([Block(hidden_features, dropout, shared) for _ in range(depth)])\n',
    ),
]
