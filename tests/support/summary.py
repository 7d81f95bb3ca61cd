"""The end of a test run, short: skipped tests grouped by reason, one line per reason.

Registered by tests/conftest.py; pytest's own per-test SKIPPED lines are off (``-rfE`` in
pyproject.toml), so a run ends with failures and errors in full, then these few lines.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

# Parametrised skips repeat one reason with an id in it; these parts are cut to group them.
_VARYING = re.compile(r"\s*\[[^\]]*\]$")


def skip_reason(report: pytest.TestReport) -> str:
    """The reason a test was skipped, without pytest's ``Skipped: `` prefix."""
    longrepr: Any = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return _VARYING.sub("", str(reason).removeprefix("Skipped: ").strip())


def group_skips(reports: list[Any]) -> list[tuple[str, int]]:
    """``(reason, count)`` for the skipped reports, most frequent first, then by reason."""
    counts = Counter(skip_reason(r) for r in reports if getattr(r, "skipped", False))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    del exitstatus, config
    groups = group_skips(terminalreporter.stats.get("skipped", []))
    if not groups:
        return
    total = sum(count for _, count in groups)
    terminalreporter.write_sep("-", f"{total} skipped, by reason")
    for reason, count in groups:
        terminalreporter.write_line(f"{count:>5}  {reason}")
