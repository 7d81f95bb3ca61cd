"""Every notebook runs offline, top to bottom, and is stored with its outputs."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_with_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code), "store notebooks executed"
    assert sum(1 for c in code if c.get("outputs")) >= len(code) // 2
    for cell in code:
        assert not any(o.get("output_type") == "error" for o in cell.get("outputs", []))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_offline(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BEDROCK_KIT_LIVE", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")  # headless: the plots render to PNG, no display
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    nb = nbformat.read(path, as_version=4)
    stored_plots = _plots(nb)
    NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert outputs and not any(o.get("output_type") == "error" for o in outputs)
    # A notebook stored with plots draws them again headless (PNG outputs, Agg backend).
    assert _plots(nb) >= stored_plots


def _plots(nb: nbformat.NotebookNode) -> int:
    return sum(
        1
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    )


def test_the_budgets_notebook_plots_cost_per_step_and_per_operation() -> None:
    nb = nbformat.read(ROOT / "notebooks" / "05_token_budget_and_cost.ipynb", as_version=4)
    sources = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "summary.by_operation" in sources and "summary.by_tag" in sources
    assert _plots(nb) >= 2  # cost per step (chat run), per step and per operation (pipeline)
