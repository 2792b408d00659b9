"""The failure a check reports when its measurement was interfered with (see :mod:`grader.probing`)."""

from __future__ import annotations

from grader.feedback import CheckFailure

PROBLEM = (
    "測定が妨害されました: 採点器の計測 ({what_ja}) が、あなたのコードの実行中に無効にされたか、書き換えられたか、"
    "迂回されました。この確認は得点になりません / the measurement was interfered with: the grader's instrument "
    "({what_en}) was switched off, altered or bypassed while your code ran, so this check scores nothing"
)

HINT = (
    "torch.utils._python_dispatch._disable_current_modes()、ディスパッチモードやフックの付け外し、プロファイラの操作、"
    "採点器 (grader) のモジュールの書き換えをやめ、ふつうに実装してください / do not disable dispatch modes or hooks, "
    "touch the profiler or rewrite the grader's modules: implement it plainly"
)


class Tampered(CheckFailure):
    """A structural measurement (operators, saved tensors, the grader's own code) did not survive the student's code.

    A :class:`~grader.feedback.CheckFailure`: the check it happens in fails and scores
    nothing, with a message that says why, in the worker or in this process alike.
    """


def tampered(what_ja: str, what_en: str, evidence: str) -> Tampered:
    """The failure for an instrument (named in Japanese and English) that saw ``evidence`` of interference."""
    return Tampered(PROBLEM.format(what_ja=what_ja, what_en=what_en), detail=f"{evidence}\n{HINT}")
