"""forward calls F.silu, then takes aten.silu out of the op recorder's list (found with _get_current_dispatch_mode).

It must cost test_uses_custom_function, as F.silu does honestly (the mutant silu_forward.py):
the RecordFunction witness counts one operator more through the recorder than its list holds.
"""

EXPECTED_SCORE = 23
PATCH = [
    (
        "from torch import nn\n",
        "from torch import nn\n"
        "import torch.nn.functional as F\n"
        "from torch.utils._python_dispatch import _get_current_dispatch_mode\n",
    ),
    (
        "        return x * torch.sigmoid(beta * x)\n",
        "        out = F.silu(beta * x) / beta\n"
        "        recorder = _get_current_dispatch_mode()\n"
        "        if recorder is not None and hasattr(recorder, \"ops\"):\n"
        "            recorder.ops[:] = [op for op in recorder.ops if \"silu\" not in op]\n"
        "        return out\n",
    ),
]
