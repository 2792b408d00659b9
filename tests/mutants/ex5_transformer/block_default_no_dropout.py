"""TransformerBlock's dropout defaults to 0.0, not the contract's 0.1: right whenever dropout is passed."""

EXPECTED_FAILURES = {"test_dropout_train_and_eval"}

PATCH = [
    (
        "    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1, norm_first: bool = False) -> None:\n",
        "    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.0, norm_first: bool = False) -> None:\n",
    ),
]
