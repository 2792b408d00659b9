"""A correct answer that also starts threads burning CPU for as long as its worker lives.

Its own score is honest (full marks); what it must not do is cost a classmate graded at
the same time their points, or outlive its turn. The workers run at a lower priority than
the grading processes, each worker has a CPU-time limit (every thread counts), and the
fork server kills whatever is left when the student's turn ends.
"""

EXPECTED_SCORE = 18

PATCH = [
    (
        "import torch\n",
        "import threading\n\nimport torch\n\n\n"
        "def _burn():\n"
        "    a = torch.randn(256, 256)\n"
        "    while True:\n"
        "        a = (a @ a).tanh()\n\n"
        "for _ in range(8):\n"
        "    threading.Thread(target=_burn, daemon=True).start()\n",
    )
]
