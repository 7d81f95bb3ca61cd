"""``python -m benchmarks.own_cpu`` in a quick mode: the structure of what it reports."""

from __future__ import annotations

import json
import subprocess
import sys

from benchmarks import own_cpu
from benchmarks._server import ROOT, child_env
from benchmarks.stats import interval


def test_bootstrap_interval_brackets_the_median() -> None:
    values = [0.1, 0.12, 0.08, 0.11, 0.3, 0.09, 0.1]
    low, high = interval(values, rounds=200)  # the interval own_cpu reports
    assert min(values) <= low <= 0.1 <= high <= max(values)


def test_quick_run_reports_every_pair() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.own_cpu", "--blocks", "3", "--calls", "2", "--json"],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    results = json.loads(done.stdout)
    assert set(results) == {kit for _, kit in own_cpu.PAIRS}
    for key, found in results.items():
        if "skipped" in found:
            assert key == "kit-llama-index", found  # only an optional framework may be absent
            continue
        assert found["blocks"] == 3 and found["calls_per_block"] == 2
        assert found["floor_cpu_us"] > 0 and found["adapter_cpu_us"] > 0
        low, high = found["share_ci95"]
        assert low <= found["share"] <= high < 1
        assert found["adapter"].startswith("bedrock-kit")
