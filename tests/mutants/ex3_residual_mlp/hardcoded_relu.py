"""Mistake: the activation argument is ignored; every block uses nn.ReLU."""

EXPECTED_FAILURES = {"test_other_activations"}

PATCH = [
    (
        '        self.activation = activation()  # a fresh instance per block\n',
        '        self.activation = nn.ReLU()\n',
    ),
]
