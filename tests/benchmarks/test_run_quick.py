"""``benchmarks/run.py --quick`` runs every scenario end to end and writes its files.

Timings are not asserted (the suite has no timed tests); the properties checked are ones a
broken harness or a regression in client reuse would change.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
KIT = "bedrock-kit ChatBedrockKit"
FLOOR = "raw boto3/aiobotocore"
# Peers take seconds to import; the smoke run keeps to the floor and bedrock-kit.
CONTENDERS = (
    "raw",
    "lean",
    "langchain-floor",
    "langchain-floor-lean",
    "kit-core",
    "kit-langchain",
    "kit-llama-index",
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench")
    command = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--out", str(out)]
    for key in CONTENDERS:
        command += ["--contender", key]
    # The timeout only guards against a hang; nothing here measures speed.
    completed = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    (json_file,) = out.glob("*.json")
    return out, json.loads(json_file.read_text())


def test_writes_every_scenario(run: tuple[Path, dict[str, Any]]) -> None:
    _, results = run
    assert results["meta"]["mode"] == "quick"
    assert set(results["scenarios"]) == {
        "concurrency",
        "sync_overhead",
        "streaming",
        "cold_start",
        "memory",
        "shared_budget",
        "layers",
        "own_share",
    }
    concurrency = results["scenarios"]["concurrency"]["results"]
    for name in (FLOOR, KIT):
        for n in results["scenarios"]["concurrency"]["concurrency"]:
            assert concurrency[name][str(n)]["rps_median"] > 0
    streaming = results["scenarios"]["streaming"]
    sent = streaming["server"]["text_deltas_sent"]
    for mode in ("stream", "astream"):
        assert streaming["results"][KIT][mode]["chunks_seen"] == sent


def test_markdown_and_chart(run: tuple[Path, dict[str, Any]]) -> None:
    out, results = run
    markdown = (out / "latest.md").read_text()
    assert "## 1. Async concurrency" in markdown
    assert "## Targets (issues 9 and 18)" in markdown
    assert "## 7. Where the time goes" in markdown
    assert "bedrock-kit's own share" in markdown
    assert KIT in markdown
    assert results["targets"], "targets were evaluated"
    if importlib.util.find_spec("matplotlib") is not None:
        assert (out / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_one_client_per_kind_however_many_calls(run: tuple[Path, dict[str, Any]]) -> None:
    _, results = run
    clients = results["scenarios"]["cold_start"]["clients"][KIT]
    assert clients["calls"]["invoke"] > 1
    assert clients["after_calls"]["sync_clients"] == 1
    assert clients["after_calls"]["async_clients"] == 1
    assert clients["own_count"] == 2


def test_imports_stay_isolated(run: tuple[Path, dict[str, Any]]) -> None:
    _, results = run
    imports = results["scenarios"]["cold_start"]["imports"]
    assert imports["bedrock_kit"]["frameworks_loaded"] == []
    assert imports["bedrock_kit.langchain"]["frameworks_loaded"] == ["langchain"]


def test_shared_budget_scenario_ran(run: tuple[Path, dict[str, Any]]) -> None:
    _, results = run
    section = results["scenarios"]["shared_budget"]
    if "skipped" in section:
        pytest.skip(section["skipped"])
    shared = section["ledger_throughput"]["Redis, 2 processes"]
    assert shared["calls"] == 2 * results["meta"]["params"]["budget_ops"]
    assert shared["booked_calls"] == shared["calls"] + 2  # and one warm-up call per process
    assert shared["calls_per_second"] > 0
    assert set(section["per_chat_call"]) == {"no ledger", "in-process ledger", "Redis ledger"}


def test_memory_checks_ran(run: tuple[Path, dict[str, Any]]) -> None:
    _, results = run
    memory = results["scenarios"]["memory"]
    assert memory["streams"][KIT]["tracemalloc_peak_kib"] > 0
    assert memory["flat"][KIT]["calls"] == results["meta"]["params"]["flat_calls"]


def test_layers_attribute_every_call(run: tuple[Path, dict[str, Any]]) -> None:
    _, results = run
    layers = results["scenarios"]["layers"]["results"]
    for mode in ("invoke", "ainvoke"):
        kit = layers[KIT][mode]
        assert kit["layers"]["bedrock-kit transport"]["calls"] > 0  # the lean default
        attributed = sum(v["calls"] for v in kit["layers"].values())
        assert abs(kit["calls_per_call"] - attributed) <= len(kit["layers"])  # rounding only
        raw = layers[FLOOR][mode]
        assert "bedrock-kit transport" not in raw["layers"]
    assert "langchain-core floor over the lean transport" in "".join(layers)
