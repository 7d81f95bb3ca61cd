"""The architecture as promised: pinned public API, framework-neutral core, separate adapters."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import bedrock_kit

ROOT = Path(__file__).resolve().parents[1]

PUBLIC_API = {
    "BedrockBatchJob",
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
    "SystemTool",
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
    "RateLimiter",
    "Reservation",
    "load_prices",
    # issue 23: cost breakdowns, tags, retired-model warnings
    "CostSummary",
    "RetiredModelWarning",
    "summarize",
    "tagged",
    # issue 23: time-based charges (provisioned throughput, custom model storage)
    "Forecast",
    "RecurringCharge",
    "RecurringCharges",
    "recurring_charges",
    "Citation",
    "EmbeddingOptions",
    "EmbeddingResult",
    "ExternalSource",
    "GenerationOptions",
    "GenerationResult",
    "RerankOptions",
    "RerankResult",
    "RerankedDocument",
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
    loaded = _imports("bedrock_kit") | _imports("bedrock_kit.core.chat.runtime")
    assert not loaded & {"langchain_core", "langchain", "llama_index"}


def test_langchain_adapter_does_not_import_llama_index():
    loaded = _imports("bedrock_kit.langchain")
    assert "langchain_core" in loaded
    assert "llama_index" not in loaded


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in (ROOT / "bedrock_kit").rglob("*.py")}


def _imported_names(path: Path) -> set[str]:
    """Every module named by an import statement anywhere in the file.

    Function-level and ``TYPE_CHECKING`` imports count too: a cycle hidden behind a lazy
    import is still a cycle in the design.
    """
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from pkg import submodule`` depends on the submodule, not on pkg's __init__.
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in MODULES else base)
    return found


def _project_module(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        deps = {_project_module(n) for n in _imported_names(path) if n.startswith("bedrock_kit")}
        graph[name] = {d for d in deps if d and d != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root, edges_of_root in graph.items():
        if root in index:
            continue
        work = [(root, iter(sorted(edges_of_root)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_anywhere():
    assert _cycles(_import_graph()) == []


def test_errors_module_imports_nothing_from_the_package():
    # Only leaf modules beside it: the credential patterns (redaction of messages) and the
    # HTTP stacks' stream errors.
    graph = _import_graph()
    leaves = {"bedrock_kit._secrets", "bedrock_kit._stream_errors"}
    assert graph["bedrock_kit.errors"] <= leaves, graph["bedrock_kit.errors"]
    for leaf in leaves:
        assert graph[leaf] == set(), graph[leaf]


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("bedrock_kit.core")))
def test_core_never_imports_a_framework(name):
    imported = {n.split(".")[0] for n in _imported_names(MODULES[name])}
    assert not imported & {"langchain", "langchain_core", "llama_index"}, name


def test_core_is_one_package_per_feature():
    core = ROOT / "bedrock_kit" / "core"
    loose = sorted(p.name for p in core.glob("*.py") if p.name != "__init__.py")
    assert loose == [], f"core modules outside a feature package: {loose}"
    for package in (p for p in core.iterdir() if p.is_dir() and p.name != "__pycache__"):
        init = package / "__init__.py"
        assert init.exists() and ast.get_docstring(ast.parse(init.read_text())), package


def test_adapters_mirror_each_other_file_for_file():
    def public(folder: str) -> set[str]:
        return {
            p.name
            for p in (ROOT / "bedrock_kit" / folder).glob("*.py")
            if not p.name.startswith("_")
        }

    assert public("langchain") == public("llama_index")


@pytest.mark.parametrize("path", sorted((ROOT / "bedrock_kit").rglob("*.py")))
def test_modules_stay_small(path):
    assert len(path.read_text().splitlines()) <= 700, (
        f"{path} is over 700 lines: split it by concern"
    )
