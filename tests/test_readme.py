"""The README's Python blocks run, in order, against LocalBedrock (no AWS)."""

from __future__ import annotations

import ast
import asyncio
import re
from pathlib import Path

import pytest

from bedrock_kit.testing import LocalBedrock

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_has_python_blocks() -> None:
    assert len(BLOCKS) >= 4


def test_readme_blocks_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with LocalBedrock(default_text="Tides follow the Moon.") as server:
        # botocore's service-specific endpoint variables route the README's unmodified code here.
        for service in ("BEDROCK_RUNTIME", "BEDROCK_AGENT_RUNTIME"):
            monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", server.endpoint_url)
        monkeypatch.setenv("AWS_REGION", "us-east-1")
        namespace: dict[str, object] = {}

        async def run_all() -> None:
            for block in BLOCKS:
                code = compile(block, "README.md", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
                result = eval(code, namespace)  # a coroutine when the block awaits
                if asyncio.iscoroutine(result):
                    await result

        asyncio.run(run_all())
        assert server.requests_for("Converse") and server.requests_for("ConverseStream")
    out = capsys.readouterr().out
    assert out.count("Tides follow the Moon.") == 2  # invoke, then the async stream
