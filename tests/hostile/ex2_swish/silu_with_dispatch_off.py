"""forward calls F.silu under torch._C._DisableTorchDispatch(): the Python dispatch key is off, so no mode sees it.

Another route around the op recorder than _disable_current_modes (the mode stays on its
stack, but the dispatcher skips the Python key). It must cost test_uses_custom_function,
as F.silu does honestly (the mutant silu_forward.py).
"""

EXPECTED_SCORE = 23
PATCH = [
    (
        "from torch import nn\n",
        "from torch import nn\n"
        "import torch.nn.functional as F\n",
    ),
    (
        "        return x * torch.sigmoid(beta * x)\n",
        "        with torch._C._DisableTorchDispatch():\n"
        "            return F.silu(beta * x) / beta\n",
    ),
]
