"""The pytest plugin, exercised in throw-away pytest runs (pytester, subprocess)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]

CASSETTE = """\
interactions:
{interactions}
version: 1
"""
INTERACTION = """\
- request:
    body: '{{"messages": [{{"role": "user", "content": [{{"text": "{text}"}}]}}]}}'
    headers: {{}}
    method: POST
    uri: https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse
  response:
    body:
      string: '{{"output": {{"message": {{"role": "assistant",
        "content": [{{"text": "re {text}"}}]}}}}, "stopReason": "end_turn",
        "usage": {{"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}},
        "metrics": {{"latencyMs": 1}}}}'
    headers:
      Content-Type:
      - application/json
    status:
      code: 200
      message: OK
"""

TEST_MODULE = """\
import os

import boto3
import pytest
from botocore.config import Config

NO_RETRY = Config(retries={"total_max_attempts": 1})
AT_IMPORT = os.environ.get("AWS_ACCESS_KEY_ID")


@pytest.fixture(scope="session")
def session_key():
    return os.environ.get("AWS_ACCESS_KEY_ID")


def _converse(bedrock, text):
    client = boto3.client("bedrock-runtime", region_name=bedrock.region,
                          endpoint_url=bedrock.endpoint_url, config=NO_RETRY)
    messages = [{"role": "user", "content": [{"text": text}]}]
    reply = client.converse(modelId="m", messages=messages)
    return reply["output"]["message"]["content"][0]["text"]


@pytest.mark.vcr
def test_one(bedrock):
    assert bedrock.mode == "replay"
    bedrock.script("Converse", object())  # ignored in replay
    assert _converse(bedrock, "one") == "re one"


@pytest.mark.vcr
def test_two(bedrock):
    assert _converse(bedrock, "one") == "re one"
    assert _converse(bedrock, "two") == "re two"


def test_env_and_dirs(bedrock_live, vcr_cassette_dir, vcr_config, session_key):
    assert bedrock_live is False
    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
    assert AT_IMPORT == "testing" and session_key == "testing"
    assert os.environ["AWS_EC2_METADATA_DISABLED"] == "true"
    assert "AWS_PROFILE" not in os.environ
    assert vcr_cassette_dir == os.path.join(os.getcwd(), "cassettes", "pkg", "test_mod")
    assert vcr_config["allow_playback_repeats"] is False
"""


def _interactions(*texts: str) -> str:
    return CASSETTE.format(interactions="".join(INTERACTION.format(text=t) for t in texts))


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("AWS_PROFILE", "someone-real")  # must not reach the tests
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA-looks-real")
    # Only the plugins these runs need: langsmith's and hypothesis's cost seconds each.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p pytest_recording.plugin -p no:cacheprovider")
    pytester.makeconftest('pytest_plugins = ["bedrock_kit.testing.pytest_plugin"]\n')
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    (pytester.path / "tests" / "pkg").mkdir(parents=True)
    (pytester.path / "tests" / "conftest.py").write_text("")
    (pytester.path / "tests" / "pkg" / "test_mod.py").write_text(TEST_MODULE)
    (pytester.path / "cassettes" / "pkg" / "test_mod").mkdir(parents=True)
    return pytester


def _write(project: pytest.Pytester, name: str, content: str) -> None:
    (project.path / "cassettes" / "pkg" / "test_mod" / name).write_text(content)


def test_replay_passes_when_every_interaction_is_used(project: pytest.Pytester) -> None:
    _write(project, "test_one.yaml", _interactions("one"))
    _write(project, "test_two.yaml", _interactions("one", "two"))
    result = project.runpytest("tests")
    result.assert_outcomes(passed=3)


def test_unused_interaction_fails_the_test(project: pytest.Pytester) -> None:
    _write(project, "test_one.yaml", _interactions("one", "two"))
    _write(project, "test_two.yaml", _interactions("one", "two"))
    result = project.runpytest("tests")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*test_one.yaml has 1 unused interaction(s)*/model/m/converse*"])


def test_missing_cassette_fails_without_network(project: pytest.Pytester) -> None:
    _write(project, "test_two.yaml", _interactions("one", "two"))
    result = project.runpytest("tests")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*Can't overwrite existing cassette*test_one.yaml*"])


def test_live_mode_uses_real_aws_and_keeps_credentials(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BEDROCK_KIT_LIVE", "1")
    monkeypatch.delenv("AWS_PROFILE")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "live-key-id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "live-secret")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    (project.path / "tests" / "test_live.py").write_text(
        "import os, pytest\n"
        "@pytest.mark.vcr\n"
        "def test_live(bedrock, bedrock_live):\n"
        "    assert bedrock_live and bedrock.mode == 'live'\n"
        "    assert bedrock.endpoint_url is None and bedrock.region == 'eu-west-3'\n"
        "    bedrock.script('Converse', object())\n"
        "    assert os.environ['AWS_ACCESS_KEY_ID'] == 'live-key-id'\n"
    )
    result = project.runpytest("tests/test_live.py", "--record-mode=once")
    result.assert_outcomes(passed=1)
    assert not (project.path / "cassettes" / "test_live").exists()  # nothing recorded


def test_live_flag_without_recording_still_replays(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BEDROCK_KIT_LIVE", "1")
    monkeypatch.delenv("AWS_PROFILE")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "live-key-id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "live-secret")
    _write(project, "test_one.yaml", _interactions("one"))
    result = project.runpytest("tests/pkg/test_mod.py::test_one")
    result.assert_outcomes(passed=1)


RECORDING_MODULE = """\
import aiobotocore.session
import boto3
import pytest
from botocore.config import Config

from bedrock_kit.testing.replies import Reply

NO_RETRY = Config(retries={"total_max_attempts": 1})
MESSAGES = [{"role": "user", "content": [{"text": "hi"}]}]
REPLY = {"output": {"message": {"role": "assistant", "content": [{"text": "scripted"}]}},
         "stopReason": "end_turn", "metrics": {"latencyMs": 1},
         "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}}
EVENTS = [{"messageStart": {"role": "assistant"}},
          {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "streamed"}}},
          {"contentBlockStop": {"contentBlockIndex": 0}},
          {"messageStop": {"stopReason": "end_turn"}},
          {"metadata": {"usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
                        "metrics": {"latencyMs": 1}}}]


@pytest.mark.vcr
def test_sync(bedrock, request):
    expected_mode = request.config.getoption("--record-mode") or "none"
    assert bedrock.mode == ("replay" if expected_mode == "none" else "local")
    bedrock.script("Converse", Reply.json(REPLY))
    client = boto3.client("bedrock-runtime", region_name=bedrock.region,
                          endpoint_url=bedrock.endpoint_url, config=NO_RETRY)
    reply = client.converse(modelId="m", messages=MESSAGES)
    assert reply["output"]["message"]["content"][0]["text"] == "scripted"
    assert len(bedrock.requests) == (0 if bedrock.mode == "replay" else 1)


@pytest.mark.vcr
async def test_async(bedrock):
    bedrock.script("Converse", Reply.json(REPLY))
    bedrock.script("ConverseStream", Reply.events(EVENTS))
    session = aiobotocore.session.get_session()
    async with session.create_client("bedrock-runtime", region_name=bedrock.region,
                                     endpoint_url=bedrock.endpoint_url) as client:
        reply = await client.converse(modelId="m", messages=MESSAGES)
        stream = await client.converse_stream(modelId="m", messages=MESSAGES)
        events = [event async for event in stream["stream"]]
    assert reply["output"]["message"]["content"][0]["text"] == "scripted"
    assert events[1]["contentBlockDelta"]["delta"]["text"] == "streamed"
    assert events[-1]["metadata"]["usage"]["totalTokens"] == 2


def test_without_cassette_runs_local_bedrock(bedrock):
    assert bedrock.mode == "local" and bedrock.endpoint_url.startswith("http://127.0.0.1:")
"""


@pytest.fixture
def recording_project(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv(
        "PYTEST_ADDOPTS",
        "-p pytest_recording.plugin -p pytest_asyncio.plugin -p no:cacheprovider",
    )
    project.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    (project.path / "tests" / "pkg" / "test_mod.py").write_text(RECORDING_MODULE)
    return project


def test_record_through_local_bedrock_then_replay(recording_project: pytest.Pytester) -> None:
    folder = recording_project.path / "cassettes" / "pkg" / "test_mod"
    recorded = recording_project.runpytest("tests", "--record-mode=once")
    recorded.assert_outcomes(passed=3)
    assert sorted(p.name for p in folder.iterdir()) == ["test_async.yaml", "test_sync.yaml"]
    text = (folder / "test_async.yaml").read_text()
    assert "!!binary" in text and "converse-stream" in text
    assert "authorization" not in text.lower() and "testing" not in text

    replayed = recording_project.runpytest("tests")  # record mode "none": no server
    replayed.assert_outcomes(passed=3)


def test_rewrite_replaces_a_stale_cassette(recording_project: pytest.Pytester) -> None:
    _write(recording_project, "test_sync.yaml", _interactions("stale one", "stale two"))
    stale = recording_project.runpytest("tests/pkg/test_mod.py::test_sync")
    stale.assert_outcomes(failed=1)  # the stale cassette does not answer this request

    rewritten = recording_project.runpytest(
        "tests/pkg/test_mod.py::test_sync", "--record-mode=rewrite"
    )
    rewritten.assert_outcomes(passed=1)
    text = (recording_project.path / "cassettes/pkg/test_mod/test_sync.yaml").read_text()
    assert "stale" not in text and text.count("- request:") == 1
    recording_project.runpytest("tests/pkg/test_mod.py::test_sync").assert_outcomes(passed=1)
