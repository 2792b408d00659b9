"""At import, rebind the grader's op counting wherever it is found: aten_ops in every grader module, and the recorder's method.

The worker imports the grader before the student's file, so the file can reach it
(grader.probes.aten_ops = ..., grader.checks.ex2_swish.drivers.aten_ops = ...). forward
calls F.silu: honestly that costs test_uses_custom_function (the mutant silu_forward.py).

Once the grader's own code in the process is rewritten, no measurement taken there is
believed: both checks whose drivers measure (test_uses_custom_function, test_saves_only_input:
they verify the grader's fingerprint, see grader/probing/seal.py) fail as interfered with.
The other checks compare values with the reference's, which a rewritten grader cannot fake.
PATCHES_GRADER: graded alone when graded in one process.
"""

EXPECTED_SCORE = 21
PATCHES_GRADER = True
PATCH = [
    (
        "from torch import nn\n",
        "from torch import nn\n"
        "import sys\n"
        "import torch.nn.functional as F\n\n"
        "for _name, _module in list(sys.modules.items()):\n"
        "    if _name.startswith(\"grader\") and hasattr(_module, \"aten_ops\"):\n"
        "        _module.aten_ops = lambda fn: (fn(), [])\n"
        "    for _cls in (\"OpRecorder\", \"_OpRecorder\"):\n"
        "        if _name.startswith(\"grader\") and hasattr(_module, _cls):\n"
        "            getattr(_module, _cls).__torch_dispatch__ = lambda self, func, types, args=(), kwargs=None: func(*args, **(kwargs or {}))\n",
    ),
    (
        "        return x * torch.sigmoid(beta * x)\n",
        "        return F.silu(beta * x) / beta\n",
    ),
]
