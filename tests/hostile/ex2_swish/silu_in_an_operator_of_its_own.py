"""forward calls an operator of its own (torch.library.custom_op) whose Python body calls F.silu.

The op recorder sees one operator, "hostile::scaled_silu", and not what runs inside it. It
must cost test_uses_custom_function, as F.silu does honestly (the mutant silu_forward.py).
"""

EXPECTED_SCORE = 23
PATCH = [
    (
        "from torch import nn\n",
        "from torch import nn\n"
        "import torch.nn.functional as F\n\n\n"
        "@torch.library.custom_op(\"hostile::scaled_silu\", mutates_args=())\n"
        "def scaled_silu(x: torch.Tensor, beta: float) -> torch.Tensor:\n"
        "    return F.silu(beta * x) / beta\n",
    ),
    (
        "        return x * torch.sigmoid(beta * x)\n",
        "        return scaled_silu(x, float(beta))\n",
    ),
]
