"""A griffe extension for the API reference: Sphinx markup in docstrings, shown as Markdown.

The docstrings are Google style, but some use reST's ``.. code-block:: python`` and
cross-reference roles (``:class:`~bedrock_kit.Ledger```), which Markdown would print as is.
This rewrites them when the reference is built; the source stays as it is.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|exc|obj|const):`(~?)([^`]+)`")
_BLOCK = re.compile(r"^(\s*)\.\. code-block::\s*(\w*)\s*$")


def _role(match: re.Match[str]) -> str:
    short, target = match.group(1), match.group(2)
    return f"`{target.rsplit('.', 1)[-1] if short else target}`"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def convert(text: str) -> str:
    """``text`` with code-block directives as fenced blocks and roles as code spans."""
    lines = text.splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        found = _BLOCK.match(lines[index])
        if found is None:
            out.append(_ROLE.sub(_role, lines[index]))
            index += 1
            continue
        margin, language = found.group(1), found.group(2) or "python"
        index += 1
        body: list[str] = []
        while index < len(lines) and (
            not lines[index].strip() or _indent(lines[index]) > len(margin)
        ):
            body.append(lines[index])
            index += 1
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
        depth = min((_indent(line) for line in body if line.strip()), default=0)
        out.append(f"{margin}```{language}")
        out.extend(f"{margin}{line[depth:]}" if line.strip() else "" for line in body)
        out.append(f"{margin}```")
        if index < len(lines) and lines[index].strip():
            out.append("")
    return "\n".join(out)


class SphinxToMarkdown(griffe.Extension):
    """Rewrites every docstring griffe loads."""

    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value)
