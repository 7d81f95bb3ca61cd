"""The distribution name: ours on the package index, used by every install line.

``bedrock-kit`` on the package index is an unrelated project (it also imports
``bedrock_kit``); installing it by that name quietly gets somebody else's code.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="tomllib is Python 3.11+")

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DISTRIBUTION = "bedrock-bridge"
INSTALL = re.compile(r"pip install ['\"]?([A-Za-z0-9_.-]+)\[")


def _texts() -> dict[str, str]:
    paths = [ROOT / "README.md", *sorted((ROOT / "bedrock_kit").rglob("*.py"))]
    paths += sorted((ROOT / "notebooks").glob("*.ipynb"))
    paths += sorted((ROOT / "docs").rglob("*.md"))
    return {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8") for path in paths}


def test_pyproject_names_the_distribution_and_keeps_the_command():
    assert PYPROJECT["project"]["name"] == DISTRIBUTION
    assert PYPROJECT["project"]["scripts"] == {"bedrock-kit": "bedrock_kit.cli:main"}
    assert PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["bedrock_kit"]


def test_the_all_extra_refers_to_this_distribution():
    extras = PYPROJECT["project"]["optional-dependencies"]
    (only,) = extras["all"]
    name, _, listed = only.partition("[")
    assert name == DISTRIBUTION
    # Every runtime extra: not the tool sets (test, docs, notebooks), not itself.
    tools = {"all", "test", "docs", "notebooks"}
    assert set(listed.rstrip("]").split(",")) == set(extras) - tools


def test_every_install_line_and_hint_uses_the_distribution_name():
    found: dict[str, list[str]] = {}
    for where, text in _texts().items():
        for name in INSTALL.findall(text):
            found.setdefault(name, []).append(where)
    assert DISTRIBUTION in found, "no install line found at all"
    assert set(found) == {DISTRIBUTION}, {k: v for k, v in found.items() if k != DISTRIBUTION}


def test_every_install_hint_names_a_real_extra():
    extras = set(PYPROJECT["project"]["optional-dependencies"])
    pattern = re.compile(re.escape(DISTRIBUTION) + r"\[([a-z0-9,-]+)\]")
    named = {
        extra
        for text in _texts().values()
        for group in pattern.findall(text)
        for extra in group.split(",")
    }
    assert named and named <= extras, named - extras


def test_readme_says_why_the_name_differs_from_the_import():
    readme = (ROOT / "README.md").read_text()
    assert f"pip install '{DISTRIBUTION}[all]'" in readme
    assert "import bedrock_kit" in readme and "unrelated project" in readme
