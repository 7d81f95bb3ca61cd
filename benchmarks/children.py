"""Run :mod:`benchmarks._child` in a fresh interpreter and read its JSON answer."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from benchmarks._server import ROOT, child_env


def run_child(*args: str, timeout: float = 600) -> dict[str, Any]:
    """The child's JSON result, or ``{"error": ...}`` when it failed."""
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks._child", *args],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        tail = completed.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"error": tail[0]}
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result
