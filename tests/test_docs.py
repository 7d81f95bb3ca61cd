"""The documentation site: every public name in the API reference, every nav page present,
every guide's Python parses. (`make docs` builds it with ``mkdocs build --strict``.)"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
REFERENCE = {
    "bedrock_kit": "bedrock_kit.md",
    "bedrock_kit.langchain": "langchain.md",
    "bedrock_kit.llama_index": "llama_index.md",
    "bedrock_kit.testing": "testing.md",
    "bedrock_kit.errors": "errors.md",
}


class _Loader(yaml.SafeLoader):
    """mkdocs.yml may hold python tags; ignore them (only the nav is read)."""


_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *_: None)
CONFIG = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=_Loader)


def _nav_pages(nav: object) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [page for item in nav for page in _nav_pages(item)]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in _nav_pages(value)]
    return []


PAGES = _nav_pages(CONFIG["nav"])
GUIDES = sorted((DOCS / "guides").glob("*.md"))


@pytest.mark.parametrize("module", sorted(REFERENCE))
def test_every_public_name_is_in_the_api_reference(module: str) -> None:
    page = (DOCS / "reference" / REFERENCE[module]).read_text()
    documented = set(re.findall(rf"^::: {re.escape(module)}\.(\w+)$", page, flags=re.M))
    public = {n for n in importlib.import_module(module).__all__ if not n.startswith("__")}
    assert public - documented == set(), f"add to docs/reference/{REFERENCE[module]}"
    modules = {n for n in documented - public if importlib.util.find_spec(f"{module}.{n}")}
    assert documented - public - modules == set(), "documented names that are not public"


def test_every_nav_page_exists_and_every_guide_is_in_the_nav() -> None:
    for page in PAGES:
        assert (DOCS / page).exists(), page
    assert {f"guides/{g.name}" for g in GUIDES} <= set(PAGES)
    assert len(GUIDES) >= 10
    assert sum(page.endswith(".ipynb") for page in PAGES) == len(
        list((ROOT / "notebooks").glob("*.ipynb"))
    )


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_guide_code_is_valid_python(guide: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", guide.read_text(), flags=re.DOTALL)
    for block in blocks:
        ast.parse(block, filename=str(guide))


def test_the_docs_name_the_distribution_not_the_taken_name() -> None:
    text = "\n".join(p.read_text() for p in DOCS.rglob("*.md"))
    assert "pip install 'bedrock-bridge[" in text
    assert "pip install 'bedrock-kit" not in text and "pip install bedrock-kit" not in text


def test_sphinx_markup_in_docstrings_is_shown_as_markdown() -> None:
    pytest.importorskip("griffe")
    spec = importlib.util.spec_from_file_location(
        "sphinx_to_markdown", DOCS / "_ext" / "sphinx_to_markdown.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = (
        "Handler.\n\nExample:\n    .. code-block:: python\n\n        h = handler([f])\n"
        "        h(event)\n    See :func:`load_prompt` and :class:`~bedrock_kit.Ledger`."
    )
    assert module.convert(text) == (
        "Handler.\n\nExample:\n    ```python\n    h = handler([f])\n    h(event)\n    ```\n\n"
        "    See `load_prompt` and `Ledger`."
    )
