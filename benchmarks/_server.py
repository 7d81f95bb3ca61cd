"""LocalBedrock in a separate process, so its CPU never counts against a contender."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
_READY_PREFIX = "endpoint_url="


def child_env() -> dict[str, str]:
    """Environment for child processes: the worktree importable, fake AWS credentials."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.update(
        AWS_ACCESS_KEY_ID="AKIDBENCHMARK",
        AWS_SECRET_ACCESS_KEY="benchmark-secret",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


@dataclass(frozen=True)
class ServerConfig:
    """How the LocalBedrock process answers."""

    latency: float = 0.0
    """Seconds the server waits before every response."""
    answer_tokens: int | None = None
    """Length of every default answer in tokens; None echoes the prompt."""
    chunk_tokens: int = 4
    """Tokens per ConverseStream text delta."""


class ServerProcess:
    """``bedrock-kit local-server --port 0`` as a child process.

    Args:
        config: Latency and answer size.
    """

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.endpoint_url = ""
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> ServerProcess:
        command = [
            sys.executable,
            "-m",
            "bedrock_kit.cli",
            "local-server",
            "--port",
            "0",
            "--latency",
            str(self.config.latency),
            "--chunk-tokens",
            str(self.config.chunk_tokens),
        ]
        if self.config.answer_tokens is not None:
            command += ["--answer-tokens", str(self.config.answer_tokens)]
        self._process = subprocess.Popen(
            command, cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if line.startswith(_READY_PREFIX):
                self.endpoint_url = line[len(_READY_PREFIX) :].strip()
                return self
        self.__exit__(None, None, None)
        raise RuntimeError(f"LocalBedrock exited before printing {_READY_PREFIX!r}")

    @property
    def pid(self) -> int:
        """Process id of the server (to read its CPU time)."""
        assert self._process is not None
        return self._process.pid

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
