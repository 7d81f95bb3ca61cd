"""`bedrock-kit demo`: the offline pipeline runs end to end through both adapters."""

from __future__ import annotations

import io

import pytest

from bedrock_kit import demo
from bedrock_kit.cli import main


@pytest.mark.parametrize("framework", ["langchain", "llama-index"])
def test_offline_pipeline_runs_every_stage(framework: str) -> None:
    out = io.StringIO()
    assert demo.run(framework=framework, out=out) == 0
    text = out.getvalue()
    assert demo.MASKED in text and "jane.doe@example.com" not in text.split("question:")[1]
    assert "s3://handbook/travel/nordics.md" in text
    assert "get_weather({'city': 'Oslo'})" in text
    assert demo.ANSWER in text
    report = text.split("Token budget")[1]
    assert "us.anthropic.claude-haiku-4-5-20251001-v1:0      2       0" in report  # 2 calls settled
    guard_row = next(line for line in report.splitlines() if "guardrail:gr-demo" in line)
    assert guard_row.split()[1:3] == ["3", "0"]  # every ApplyGuardrail call charged
    assert int(guard_row.split()[7]) > 0  # with its text units
    assert "Pipeline finished" in text


def test_live_without_credentials_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_PROFILE",
        "BEDROCK_KIT_KB_ID",
        "BEDROCK_KIT_GUARDRAIL_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    out = io.StringIO()
    assert demo.run(live=True, out=out) == 2
    assert "AWS credentials" in out.getvalue() and "BEDROCK_KIT_KB_ID" in out.getvalue()


def test_cli_rejects_unknown_framework(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--framework", "haystack"])
    assert "invalid choice" in capsys.readouterr().err


def test_prices_command_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prices"]) == 0
    assert "anthropic.claude" in capsys.readouterr().out
