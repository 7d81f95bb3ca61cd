"""Find AWS credentials that leaked into cassettes or other text files.

The patterns here are the single definition of "what a credential looks like" for the
project: :mod:`bedrock_kit.testing.vcr` scrubs recordings with them, and the test suite runs
:func:`scan_for_credentials` over ``cassettes/`` so a leak fails CI instead of being pushed.

Command line::

    python -m bedrock_kit.testing.scanner cassettes/ other/file.yaml

prints one line per finding (``file:line: kind``) and exits 1 when anything was found.

Base64 blocks tagged ``!!binary`` in YAML cassettes (how vcrpy stores byte bodies and
headers) are decoded and scanned too, so a key inside an event-stream body is not hidden by
the encoding.
"""

from __future__ import annotations

import base64
import binascii
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

# One definition for the whole package: errors and logs are redacted with the same patterns.
from bedrock_kit._secrets import CREDENTIAL_PATTERNS

__all__ = ["CREDENTIAL_PATTERNS", "Finding", "main", "scan_for_credentials", "scan_text"]


_BINARY_BLOCK = re.compile(r"!!binary\s*\|?\s*\n((?:[ \t]+[A-Za-z0-9+/=]+[ \t]*\n?)+)")
_SKIPPED_SUFFIXES = frozenset({".pyc", ".png", ".jpg", ".jpeg", ".gif", ".ipynb_checkpoints"})


@dataclass(frozen=True, order=True)
class Finding:
    """One credential-looking match."""

    file: str
    """Path of the file, as given or found under a given directory."""
    line: int
    """1-based line number where the match starts (of the ``!!binary`` tag if decoded)."""
    kind: str
    """Key of :data:`CREDENTIAL_PATTERNS` that matched."""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.kind}"


def scan_text(text: str, file: str = "<text>") -> list[Finding]:
    """Scan one text, including base64 ``!!binary`` blocks decoded.

    Args:
        text: The content to scan.
        file: Name to report in the findings.

    Returns:
        Findings ordered by line, at most one per (line, kind).
    """
    found: set[Finding] = set()
    for kind, pattern in CREDENTIAL_PATTERNS.items():
        for match in pattern.finditer(text):
            found.add(Finding(file, _line_of(text, match.start()), kind))
    for block in _BINARY_BLOCK.finditer(text):
        decoded = _decode_base64_block(block.group(1))
        if decoded is None:
            continue
        line = _line_of(text, block.start())
        for kind, pattern in CREDENTIAL_PATTERNS.items():
            if pattern.search(decoded):
                found.add(Finding(file, line, kind))
    return sorted(found)


def scan_for_credentials(paths: Iterable[str | Path]) -> list[Finding]:
    """Scan files, and every file under directories, for AWS credentials.

    Args:
        paths: Files or directories. Missing paths are skipped (an absent ``cassettes/`` is
            clean by definition).

    Returns:
        All findings, ordered by file then line.
    """
    findings: list[Finding] = []
    for file in _iter_files(paths):
        try:
            text = file.read_bytes().decode("utf-8", errors="replace")
        except OSError:
            continue
        findings.extend(scan_text(text, str(file)))
    return sorted(findings)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: print findings, return 1 when there are any."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m bedrock_kit.testing.scanner PATH...", file=sys.stderr)
        return 2
    findings = scan_for_credentials(args)
    for finding in findings:
        print(finding)
    if findings:
        print(f"{len(findings)} possible credential(s) found", file=sys.stderr)
        return 1
    return 0


def _iter_files(paths: Iterable[str | Path]) -> Iterable[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            yield path
        elif path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix not in _SKIPPED_SUFFIXES:
                    yield child


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _decode_base64_block(block: str) -> str | None:
    try:
        raw = base64.b64decode("".join(block.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.decode("utf-8", errors="replace")


if __name__ == "__main__":
    raise SystemExit(main())
