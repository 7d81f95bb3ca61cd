"""The README's Python blocks, in order, run as one script (``python``, no notebook, no
top-level ``await``) against LocalBedrock, with nothing but its exported variables."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bedrock_kit.testing import LocalBedrock

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
ANSWER = "Tides follow the Moon."


def test_readme_has_python_blocks() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_every_block_is_plain_python(index: int) -> None:
    # A top-level `async for` or `await` runs only in a notebook: a SyntaxError here.
    ast.parse(BLOCKS[index], filename=f"README.md block {index + 1}")


def test_readme_runs_as_a_script(tmp_path: Path) -> None:
    script = tmp_path / "readme.py"
    script.write_text("\n\n".join(BLOCKS))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=str(ROOT),
        PYTHONWARNINGS="error::ResourceWarning",
    )
    with LocalBedrock(default_text=ANSWER) as server:
        env.update(server.environment())
        done = subprocess.run(
            [sys.executable, "-X", "dev", str(script)],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-4000:]
        assert server.requests_for("Converse") and server.requests_for("ConverseStream")
    # chain.invoke, the async stream, the LlamaIndex achat
    assert done.stdout.count(ANSWER) == 3, done.stdout
    assert "input_tokens" in done.stdout and "stop_reason" in done.stdout
