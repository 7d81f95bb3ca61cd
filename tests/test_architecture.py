"""The architecture as promised: pinned public API, framework-neutral core, separate adapters."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import bedrock_kit

ROOT = Path(__file__).resolve().parents[1]

PUBLIC_API = {
    "BedrockKitError",
    "CachePointBlock",
    "ClientSettings",
    "ConverseResult",
    "ConverseRuntime",
    "DocumentBlock",
    "GuardContentBlock",
    "GuardrailAssessment",
    "GuardrailConfig",
    "GuardrailInterventionError",
    "GuardrailTrace",
    "GuardrailUsage",
    "ImageBlock",
    "IncompleteStreamError",
    "InferenceConfig",
    "Message",
    "ReasoningBlock",
    "TextBlock",
    "ThrottlingError",
    "ToolResultBlock",
    "ToolSpec",
    "ToolUseBlock",
    "Usage",
    "__version__",
    "BudgetExceededError",
    "BudgetReport",
    "Ledger",
    "Limits",
    "PriceEntry",
    "Reservation",
    "load_prices",
}


def test_public_api_is_pinned():
    assert set(bedrock_kit.__all__) == PUBLIC_API
    for name in bedrock_kit.__all__:
        assert hasattr(bedrock_kit, name), name


def _imports(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return {m.split(".")[0] for m in out.stdout.split()}


def test_core_imports_no_framework():
    loaded = _imports("bedrock_kit") | _imports("bedrock_kit.core.runtime")
    assert not loaded & {"langchain_core", "langchain", "llama_index"}


def test_langchain_adapter_does_not_import_llama_index():
    loaded = _imports("bedrock_kit.langchain")
    assert "langchain_core" in loaded
    assert "llama_index" not in loaded


@pytest.mark.parametrize("path", sorted((ROOT / "bedrock_kit" / "core").glob("*.py")))
def test_core_source_never_mentions_a_framework_import(path):
    text = path.read_text()
    assert "import langchain" not in text and "from langchain" not in text
    assert "import llama_index" not in text and "from llama_index" not in text


@pytest.mark.parametrize("path", sorted((ROOT / "bedrock_kit").rglob("*.py")))
def test_modules_stay_small(path):
    assert len(path.read_text().splitlines()) <= 700, (
        f"{path} is over 700 lines: split it by concern"
    )
