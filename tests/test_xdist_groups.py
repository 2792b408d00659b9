"""The suite's grouped fixtures are built once per run only if ``--dist loadgroup`` honours groups."""

import pytest


@pytest.mark.xdist_group("grouping-probe")
def test_xdist_groups_are_honoured(request: pytest.FixtureRequest) -> None:
    """A class batch, the release and each graded group of mutants are shared through xdist groups.

    pytest 9.2 with pytest-xdist 3.8 silently ignored the groups, and each worker built them
    all again (see pyproject.toml): this fails if that ever comes back.
    """
    if getattr(request.config.option, "loadgroup", False):  # a worker of `-n N --dist loadgroup`
        assert request.node.nodeid.endswith("@grouping-probe"), "pytest-xdist ignores xdist_group marks"
