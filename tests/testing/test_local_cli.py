"""``bedrock-kit local-server`` serves in the foreground and stops on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from bedrock_kit.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def test_parser_has_local_server_defaults() -> None:
    args = build_parser().parse_args(["local-server"])
    assert (args.host, args.port, args.latency) == ("127.0.0.1", 8000, 0.0)


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "local-server" in capsys.readouterr().out


def test_negative_latency_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local-server", "--latency", "-1"]) == 2
    assert "--latency" in capsys.readouterr().err


def test_local_server_runs_until_interrupted() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bedrock_kit.cli",
            "local-server",
            "--port",
            "0",
            "--latency",
            "0.01",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()  # "LocalBedrock listening on ..."
        line = process.stdout.readline().strip()
        assert line.startswith("endpoint_url=http://127.0.0.1:")
        client = boto3.client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=line.split("=", 1)[1],
            aws_access_key_id="AKIDLOCALBEDROCK",
            aws_secret_access_key="not-a-secret",
        )
        response = client.converse(
            modelId="m", messages=[{"role": "user", "content": [{"text": "cli"}]}]
        )
        client.close()
        assert response["output"]["message"]["content"][0]["text"] == "echo: cli"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
