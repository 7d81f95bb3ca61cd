"""LocalBedrock out of the box: no AWS credentials anywhere, every class pointed at it with
``client_kwargs()``, ``bedrock-kit local-server`` printing what to export, ``bedrock-kit
guardrail test`` answered by its rules, and errors naming the resource that failed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bedrock_kit import errors
from bedrock_kit.core.guardrails.apply import GuardrailClient
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.langchain import (
    BedrockAgentRunnable,
    BedrockKnowledgeBaseRetriever,
    ChatBedrockKit,
)
from bedrock_kit.testing import LocalBedrock, Reply

ROOT = Path(__file__).resolve().parents[2]


def _no_aws_environment() -> dict[str, str]:
    """This process's environment without a trace of AWS credentials, config or region."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=str(ROOT),
    )
    return env


def test_every_class_runs_on_client_kwargs_with_no_aws_setup_at_all() -> None:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("every_class_script.py"))],
        env=_no_aws_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["lc.chat"] == out["li.chat"] == out["core.chat"] == "echo: hi"
    assert out["lc.guard"] == out["li.guard"] == "{EMAIL}"
    assert out["core.guard"] == "NONE"
    assert out["lc.kb"] == out["li.kb"] == []  # the default knowledge base has no documents
    assert out["lc.rag"] == out["li.rag"] == "echo: q"
    assert out["lc.agent"] == out["li.agent"] == "echo: yo"
    assert out["lc.embed"] == out["li.embed"] == 1024


def test_missing_credentials_name_the_knowledge_base_not_a_model() -> None:
    code = (
        "from bedrock_kit.langchain import BedrockKnowledgeBaseRetriever\n"
        "r = BedrockKnowledgeBaseRetriever(knowledge_base_id='KB12345678',"
        " endpoint_url='http://127.0.0.1:9', region_name='us-east-1')\n"
        "try:\n    r.invoke('q')\nexcept Exception as e:\n    print(type(e).__name__, e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=_no_aws_environment(), capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    assert done.stdout.startswith("AccessDeniedError no AWS credentials found")
    assert "knowledge_base=KB12345678" in done.stdout and "model=" not in done.stdout


def test_environment_sends_unmodified_boto3_code_here(server: LocalBedrock) -> None:
    env = server.environment()
    assert env["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] == server.endpoint_url
    assert env["AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME"] == server.endpoint_url
    code = (
        "import boto3\n"
        "c = boto3.client('bedrock-runtime')\n"
        "r = c.converse(modelId='m', messages=[{'role': 'user', 'content': [{'text': 'env'}]}])\n"
        "print(r['output']['message']['content'][0]['text'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env={**_no_aws_environment(), **env},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "echo: env"


RULES = {"guardrail": {"denied_words": ["bitcoin"], "pii": {"EMAIL": "ANONYMIZED"}}}
PROMPTS = "hello there\nmail ada@example.com\nany bitcoin tips?\n"


def _guardrail_test(argv: list[str], env: dict[str, str], prompts: Path) -> list[list[str]]:
    done = subprocess.run(
        [sys.executable, "-m", "bedrock_kit.cli", "guardrail", "test", "--id", "gr-local",
         "--version", "1", *argv, str(prompts)],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return [row.split()[:3] for row in done.stdout.splitlines()[1:]]


def test_local_server_prints_exports_and_answers_guardrail_test(tmp_path: Path) -> None:
    rules, prompts = tmp_path / "rules.json", tmp_path / "prompts.txt"
    rules.write_text(json.dumps(RULES))
    prompts.write_text(PROMPTS)
    env = _no_aws_environment()
    process = subprocess.Popen(
        [sys.executable, "-m", "bedrock_kit.cli", "local-server", "--port", "0",
         "--rules", str(rules)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(2)]
        while not lines[-1].startswith("# Ctrl-C"):
            lines.append(process.stdout.readline().strip())
        exports = dict(
            line.removeprefix("export ").split("=", 1)
            for line in lines
            if line.startswith("export ")
        )
        endpoint = lines[1].split("=", 1)[1]
        assert exports["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] == endpoint
        assert {"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(exports)
        assert any("1 denied words" in line for line in lines)
        expected = [
            ["1", "NONE", "-"],
            ["2", "MASKED", "pii:EMAIL:ANONYMIZED"],
            ["3", "BLOCKED", "word:bitcoin"],
        ]
        # With the printed exports, and with nothing but --endpoint-url.
        assert _guardrail_test([], {**env, **exports}, prompts) == expected
        assert _guardrail_test(["--endpoint-url", endpoint], env, prompts) == expected
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_a_bad_rule_file_exits_2_naming_the_key(tmp_path: Path) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"guardrail": {"denied": ["x"]}}))
    done = subprocess.run(
        [sys.executable, "-m", "bedrock_kit.cli", "local-server", "--rules", str(rules)],
        env=_no_aws_environment(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "['denied']" in done.stderr


def _not_found() -> Reply:
    return Reply.error(404, "ResourceNotFoundException", "no such thing")


def test_errors_name_the_resource_that_failed(server: LocalBedrock) -> None:
    kw = {**server.client_kwargs(), "max_retries": 0}
    for operation in ("ApplyGuardrail", "Retrieve", "InvokeAgent", "Converse"):
        server.script(operation, _not_found())
    calls = {
        "guardrail=gr-missing": lambda: GuardrailClient(
            "gr-missing", "1", settings=ClientSettings(**kw)
        ).apply("x"),
        "knowledge_base=KBMISSING1": lambda: BedrockKnowledgeBaseRetriever(
            knowledge_base_id="KBMISSING1", **kw
        ).invoke("q"),
        "agent=AGENT1/ALIAS1": lambda: BedrockAgentRunnable(
            agent_id="AGENT1", agent_alias_id="ALIAS1", **kw
        ).invoke("q"),
        "model=m-missing": lambda: ChatBedrockKit(model="m-missing", **kw).invoke("q"),
    }
    for named, call in calls.items():
        with pytest.raises(errors.ResourceNotFoundError) as caught:
            call()
        assert named in str(caught.value), str(caught.value)
        assert caught.value.resource == named.split("=")[0]
