"""Run a batch's jobs on an executor, and replace a process pool that breaks.

When a pool process dies (``BrokenProcessPool``), every job still in that pool fails with
it, though only one of them may be the cause. So the pool is replaced (``replace()``) and
each job hit by a break is tried again in the fresh pool, on its own, until the one that
breaks a pool alone is found: that job gets the error as its result, and the others are
graded (together again). Without ``replace`` (a Dask cluster), a break is each job's error.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

Job = TypeVar("Job")


class Pool:
    """The executor in use; :meth:`replace` swaps a broken one for a fresh one (and shuts the old one down)."""

    def __init__(self, executor: concurrent.futures.Executor, replace: Callable[[], concurrent.futures.Executor] | None) -> None:
        self.executor, self._replace, self.created = executor, replace, []

    @property
    def can_replace(self) -> bool:
        return self._replace is not None

    def replace(self) -> None:
        assert self._replace is not None
        _shutdown(self.executor)
        self.executor = self._replace()
        self.created.append(self.executor)

    def close(self) -> None:
        """Shut down the executors this pool made (the caller's own is the caller's to shut down)."""
        for executor in self.created:
            _shutdown(executor)


def run_jobs(
    pool: Pool,
    jobs: Sequence[Job],
    submit: Callable[[concurrent.futures.Executor, Job], concurrent.futures.Future],
    done: Callable[[Job, Any, BaseException | None], None],
) -> None:
    """Submit every job; call ``done(job, result, error)`` once per job, as each finishes."""
    breaks = {id(job): 0 for job in jobs}
    pending = list(jobs)
    while pending:
        fresh = [job for job in pending if breaks[id(job)] == 0]
        group = fresh or pending[:1]  # untried jobs together; then the suspects of a break, one at a time
        pending = [job for job in pending if not any(job is g for g in group)]
        futures = {submit(pool.executor, job): job for job in group}
        broke = False
        try:
            for future in concurrent.futures.as_completed(futures):
                job = futures[future]
                try:
                    result, error = future.result(), None
                except BrokenProcessPool as err:
                    broke = True
                    breaks[id(job)] += 1
                    if pool.can_replace and len(group) > 1:
                        pending.append(job)  # a suspect: tried again, alone
                        continue
                    result, error = None, err
                    for suspect in pending:  # the cause is found: the others go together again
                        breaks[id(suspect)] = 0
                except Exception as err:  # noqa: BLE001 - the caller records it as this job's error
                    result, error = None, err
                done(job, result, error)
        finally:
            for future in futures:
                future.cancel()
        if broke and pool.can_replace:
            pool.replace()


def _shutdown(executor: concurrent.futures.Executor) -> None:
    try:
        executor.shutdown(wait=False, cancel_futures=True)
    except TypeError:  # a Dask ClientExecutor knows no cancel_futures
        executor.shutdown(wait=False)
    except Exception:  # noqa: BLE001, S110 - a broken pool may fail to shut down; it is replaced anyway
        pass
