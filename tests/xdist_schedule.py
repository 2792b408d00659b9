"""``--dist loadgroup``, heaviest first: each free xdist worker takes the longest unit of work left.

pytest-xdist hands out its units (an ``xdist_group``, or one ungrouped test) in the order
of their number of tests, largest first. The suite's heaviest units have few tests (the
release: 3 tests, one a fresh virtual environment; a class batch run: 1 test), so one of
them could start last and leave one worker idle while the other finished it. Here each
free worker takes the unit of largest :data:`COSTS` left (longest processing time first,
a classic rule for keeping two workers busy to the end), and the units without a cost
(the many quick tests) follow in xdist's own order, where they fill the gaps.

The costs are seconds of one worker's time, measured on 2 cores (2026-12-06, a slow day), and
only order the work: a wrong or missing one costs time, never a test. Groups stay whole.
"""

from __future__ import annotations

from xdist.scheduler import LoadGroupScheduling
from xdist.workermanage import WorkerController

#: Unit (an ``xdist_group`` name, or an ungrouped test's node id) -> seconds of one worker's time.
COSTS: dict[str, float] = {
    # one grader process per exercise's mutants, variants and real files (tests/graded_groups.py)
    "grading-ex6_training_loop": 235,
    "grading-ex5_transformer": 168,
    "grading-ex3_residual_mlp": 87,
    "grading-ex2_swish": 86,
    "grading-ex4_sgdr": 53,
    "grading-ex1_last_token": 25,
    "batch": 110,  # the class with 2 workers, then 16 of its students with 1: killed half way, resumed, one file changed
    "release": 131,  # the release (40 s), then a fresh virtual environment (91 s)
    "nbgrader": 131,  # the course, the nbgrader cycle, batch --nbgrader
    "hostile": 100,  # tests/hostile/ after ex1, graded isolated (grading profile) and in one process (smoke)
    "grader_errors": 101,  # faults in real grading runs (25 s of it in the fast loop)
    "tests/test_grader_cli.py::test_isolated_grading_gives_solutions_full_marks_and_stubs_zero[solutions-True]": 71,
    "sandbox": 45,
    "batch_dask": 30,
    "batch_safety": 22,
    "cli_solutions": 20,  # the model answers through the CLI, its oracle traced (conftest)
    "tests/test_grader_cli.py::test_isolated_grading_gives_solutions_full_marks_and_stubs_zero[exercises-False]": 17,
    "cli_ex1_mutant": 13,
    "cli_stubs": 12,
    "cli_awkward": 8,  # one folder of broken, missing and notebook files, graded once
}


class HeaviestFirst(LoadGroupScheduling):
    """:class:`LoadGroupScheduling` that gives a free worker the costliest unit left."""

    def _assign_work_unit(self, node: WorkerController) -> None:
        # max() returns the first of equal costs: the units without a cost keep xdist's order
        heaviest = max(self.workqueue, key=lambda scope: COSTS.get(scope, 0.0))
        self.workqueue.move_to_end(heaviest, last=False)  # the parent hands out the first unit
        super()._assign_work_unit(node)
