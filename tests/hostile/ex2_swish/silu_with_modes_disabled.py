"""forward calls F.silu inside _disable_current_modes(), so that the op recorder (a dispatch mode) does not see it.

Honestly, F.silu costs test_uses_custom_function (the mutant silu_forward.py); hidden, it
must cost the same: the RecordFunction witness sees aten::silu run out of the recorder's sight.
"""

EXPECTED_SCORE = 23
PATCH = [
    (
        "from torch import nn\n",
        "from torch import nn\n"
        "import torch.nn.functional as F\n"
        "from torch.utils._python_dispatch import _disable_current_modes\n",
    ),
    (
        "        return x * torch.sigmoid(beta * x)\n",
        "        with _disable_current_modes():\n"
        "            return F.silu(beta * x) / beta\n",
    ),
]
