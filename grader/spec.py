"""How a check declares itself: its points and its bilingual title and hint.

A check file reads like the specification::

    @check(3, needs_reference=True, ja="値が参照実装と一致する", en="values match the reference",
           hint_ja="...", hint_en="...")
    @on_devices()
    @given(...)
    def test_values(student, device, dtype, ...): ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import pytest

F = TypeVar("F", bound=Callable[..., object])


@dataclass(frozen=True)
class CheckInfo:
    """What a report says about a check."""

    points: float
    ja: str
    en: str
    hint_ja: str
    hint_en: str
    #: Whether the check compares with ``reference/`` (the answers). Such checks are hidden
    #: tests in an nbgrader course; a student release runs them on a recorded oracle bank.
    needs_reference: bool = False

    @property
    def title(self) -> str:
        return f"{self.ja} / {self.en}"

    @property
    def hint(self) -> str:
        return hint_text(self.hint_ja, self.hint_en)


def hint_text(ja: str, en: str) -> str:
    """A hint as reports print it: Japanese, then English."""
    return f"ヒント: {ja}\nHint: {en}"


def check(
    points: float, *, ja: str, en: str, hint_ja: str, hint_en: str, needs_reference: bool = False
) -> Callable[[F], F]:
    """Declare a graded check worth ``points``, shared among its device/dtype cases.

    ``needs_reference=True`` says that the check computes expected values with ``reference/``
    (``tests/test_check_specs.py`` holds every check to what it declares).
    """
    if points <= 0:
        raise ValueError("a check must be worth a positive number of points")
    return pytest.mark.check(CheckInfo(points, ja, en, hint_ja, hint_en, needs_reference))


def titles(check_fn: Callable[..., object]) -> tuple[str, str]:
    """The (ja, en) title of a check function, to name it in another check's failure."""
    found = next(m.args[0] for m in getattr(check_fn, "pytestmark", []) if m.name == "check")
    return found.ja, found.en


def info(item: pytest.Item) -> CheckInfo | None:
    """The :class:`CheckInfo` of a collected test item, if it is a graded check."""
    marker = item.get_closest_marker("check")
    return marker.args[0] if marker else None
