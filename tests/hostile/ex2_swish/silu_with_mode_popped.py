"""forward pops the op recorder off the dispatch mode stack itself, calls F.silu, and pushes the recorder back.

What _disable_current_modes does, by hand with torch._C. It must cost test_uses_custom_function,
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
        "        popped = [torch._C._pop_torch_dispatch_stack(None) for _ in range(torch._C._len_torch_dispatch_stack())]\n"
        "        try:\n"
        "            return F.silu(beta * x) / beta\n"
        "        finally:\n"
        "            for mode in reversed(popped):\n"
        "                torch._C._push_on_torch_dispatch_stack(mode)\n",
    ),
]
