"""forward runs F.silu in another thread: dispatch modes and the profiler watch only the thread that runs the check.

It must cost test_uses_custom_function, as F.silu does honestly (the mutant silu_forward.py):
the tensor it returns was made during the call by no operator the recorder saw.
"""

EXPECTED_SCORE = 23
PATCH = [
    (
        "from torch import nn\n",
        "from torch import nn\n"
        "import threading\n"
        "import torch.nn.functional as F\n",
    ),
    (
        "        return x * torch.sigmoid(beta * x)\n",
        "        out = []\n"
        "        worker = threading.Thread(target=lambda: out.append(F.silu(beta * x) / beta))\n"
        "        worker.start()\n"
        "        worker.join()\n"
        "        return out[0] * 1  # a seen operator, to launder it\n",
    ),
]
