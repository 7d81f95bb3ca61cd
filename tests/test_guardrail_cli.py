"""``bedrock-kit guardrail test`` against LocalBedrock (real boto3 client, real HTTP)."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from bedrock_kit import guardrail_cli
from bedrock_kit.testing import LocalBedrock, Reply


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bedrock-kit guardrail")
    guardrail_cli.configure(parser)
    return parser.parse_args(argv)


def test_guardrail_test_prints_action_and_policies(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("hello there\n\nmail a@b.com\nbuy stocks?\nand more\n")
    with LocalBedrock() as server:
        server.script(
            "ApplyGuardrail",
            Reply.json({"action": "NONE", "outputs": [], "assessments": []}),
            Reply.json({"action": "GUARDRAIL_INTERVENED", "outputs": [{"text": "mail {EMAIL}"}],
                        "assessments": [{"sensitiveInformationPolicy": {"piiEntities": [
                            {"type": "EMAIL", "match": "a@b.com", "action": "ANONYMIZED"}]}}]}),
            Reply.json({"action": "GUARDRAIL_INTERVENED", "outputs": [{"text": "no"}],
                        "assessments": [{"topicPolicy": {"topics": [
                            {"name": "Investing", "type": "DENY", "action": "BLOCKED"}]}}]}),
            Reply.error(429, "ThrottlingException", "slow down"),
        )  # fmt: skip
        args = _parse(["test", str(prompts), "--id", "gr-1", "--version", "3",
                       "--region", "us-east-1", "--endpoint-url", server.endpoint_url,
                       "--max-retries", "0"])  # fmt: skip
        out = io.StringIO()
        status = guardrail_cli.run(args, out)
        sent = [r.body["content"][0]["text"]["text"] for r in server.requests]
        versions = {r.path_params["guardrailVersion"] for r in server.requests}
    rows = out.getvalue().splitlines()
    assert sent == ["hello there", "mail a@b.com", "buy stocks?", "and more"]
    assert versions == {"3"}
    assert rows[1].split()[:3] == ["1", "NONE", "-"]
    assert rows[2].split()[:3] == ["2", "NOT_CHECKED", "empty"]  # the blank line, not sent
    assert rows[3].split()[:3] == ["3", "MASKED", "pii:EMAIL:ANONYMIZED"]
    assert rows[4].split()[:3] == ["4", "BLOCKED", "topic:Investing"]
    assert rows[5].split()[:2] == ["5", "ERROR"] and "slow down" in rows[5]
    assert status == 1  # a failed call is reported in the exit status


def test_bad_version_exits_2_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts = tmp_path / "p.txt"
    prompts.write_text("x\n")
    assert guardrail_cli.run(_parse(["test", str(prompts), "--id", "g", "--version", "v1"])) == 2
    assert "guardrail_version" in capsys.readouterr().err
