"""Makes ``pytest grader`` load the grader's plugin (options, fixtures, scoring)."""

from grader.plugin import *  # noqa: F401,F403
from grader.plugin import (  # noqa: F401 - hooks and fixtures pytest looks up by name
    pytest_addoption,
    pytest_collection_finish,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_runtest_call,
    pytest_runtest_setup,
    pytest_runtest_makereport,
    pytest_terminal_summary,
    runner,
    student,
)
