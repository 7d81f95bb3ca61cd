"""Equivalence: the lean transport sends exactly the request a boto3 client sends.

For every operation of bedrock-runtime and bedrock-agent-runtime (bidirectional streams
aside), with the clock and the invocation id frozen, the lean client's signed request and
the one a boto3 client hands to its HTTP layer have the same method, URL, body bytes,
headers (User-Agent aside: botocore's lists per-call feature ids), canonical request and
signature. The compiled fast path is also fuzzed against botocore's validator and serializer
with hypothesis: valid inputs give the same request, invalid inputs the same
``ParamValidationError`` report.
"""

from __future__ import annotations

import datetime
import os
import uuid
from collections.abc import Iterator
from functools import cache
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.config import Config
from botocore.exceptions import ParamValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedrock_kit.core.transport.lean import lean_client_from_botocore
from tests.core.transport.shapes_support import (
    all_operations,
    corrupt,
    input_strategy,
    sample_input,
    service_model,
)

FROZEN = datetime.datetime(2025, 3, 4, 5, 6, 7)
INVOCATION = uuid.UUID("12345678-1234-5678-1234-567812345678")
KEYS = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "secret/key+example"}
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
OPERATIONS = sorted(all_operations())


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda *a, **k: FROZEN)
    monkeypatch.setattr(uuid, "uuid4", lambda: INVOCATION)


class _Body:
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield b"{}"

    def close(self) -> None:
        pass


@cache
def _session() -> Any:
    return boto3.session.Session(region_name="us-east-1", **KEYS)


def _boto3(service: str, **kwargs: Any) -> Any:
    config = Config(retries={"mode": "standard"}, **kwargs.pop("config", {}))
    return _session().client(service, config=config, **kwargs)


_CLIENTS: dict[str, tuple[Any, Any]] = {}


def _pair(service: str, **kwargs: Any) -> tuple[Any, Any]:
    """A boto3 client and the lean client built from it (cached per configuration)."""
    key = f"{service}{sorted(kwargs.items())}"
    if key not in _CLIENTS:
        client = _boto3(service, **kwargs)
        _CLIENTS[key] = (client, lean_client_from_botocore(client))
    return _CLIENTS[key]


def _capture(client: Any, method: str, params: dict[str, Any]) -> Any:
    """The AWSPreparedRequest boto3 would send (answered locally, never sent)."""
    seen: list[Any] = []

    def before_send(request: Any, **_: Any) -> Any:
        seen.append(request)
        return AWSResponse(request.url, 200, {}, _Body())

    client.meta.events.register("before-send", before_send)
    try:
        getattr(client, method)(**params)
    except Exception:  # the local answer may not parse; the request was captured
        pass
    finally:
        client.meta.events.unregister("before-send", before_send)
    assert len(seen) == 1
    return seen[0]


def _canonical(method: str, url: str, headers: dict[str, str], body: bytes, region: str) -> str:
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=url, headers=_text(headers), data=body)
    request.context["timestamp"] = FROZEN.strftime("%Y%m%dT%H%M%SZ")
    auth = SigV4Auth(Credentials(KEYS["aws_access_key_id"], "x"), "bedrock", region)
    return str(auth.canonical_request(request))


def _text(headers: Any) -> dict[str, str]:
    return {k: v.decode() if isinstance(v, bytes) else str(v) for k, v in headers.items()}


def _normalise(headers: Any) -> dict[str, str]:
    out = {}
    for name, value in headers.items():
        text = value.decode() if isinstance(value, bytes) else str(value)
        if name.lower() != "user-agent":
            out[name.lower()] = text
    return out


def _compare(service: str, operation: str, params: dict[str, Any], **client_kwargs: Any) -> None:
    from botocore import xform_name

    client, lean = _pair(service, **client_kwargs)
    method, url, headers, body = lean.prepare_request(operation, params)
    sent = _capture(client, xform_name(operation), params)
    expected_body = sent.body or b""
    if hasattr(expected_body, "read"):
        expected_body = expected_body.read()
    assert (method, url) == (sent.method, sent.url)
    assert body == expected_body
    assert _normalise(headers) == _normalise(sent.headers)
    region = client.meta.region_name
    assert _canonical(method, url, headers, body, region) == _canonical(
        sent.method, sent.url, dict(sent.headers), expected_body, region
    )


@pytest.mark.parametrize(("service", "operation"), OPERATIONS, ids=str)
@pytest.mark.parametrize("full", [False, True], ids=["required", "full"])
def test_signed_request_is_botocores(service: str, operation: str, full: bool) -> None:
    model = service_model(service).operation_model(operation)
    for variant in range(3):
        params = sample_input(model, full=full, variant=variant)
        _compare(service, operation, params)


@pytest.mark.parametrize(
    "client_kwargs",
    [
        {},
        {"endpoint_url": "http://127.0.0.1:9/base/"},
        {"config": {"region_name": "eu-west-3"}},
        {"config": {"use_fips_endpoint": True}},
        {"config": {"use_dualstack_endpoint": True}},
    ],
    ids=["default", "endpoint-url-with-path", "region", "fips", "dualstack"],
)
def test_endpoint_resolution_is_botocores(client_kwargs: dict[str, Any]) -> None:
    params = {"modelId": "us.anthropic.claude:0", "messages": []}
    _compare("bedrock-runtime", "Converse", params, **client_kwargs)


def test_service_endpoint_variable_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "https://bedrock.example.test")
    client = _boto3("bedrock-runtime")
    _, url, _, _ = lean_client_from_botocore(client).prepare_request(
        "Converse", {"modelId": "m", "messages": []}
    )
    assert url == "https://bedrock.example.test/model/m/converse"
    _compare("bedrock-runtime", "Converse", {"modelId": "m", "messages": []})


def test_session_token_is_signed() -> None:
    client = boto3.session.Session(
        region_name="us-east-1", aws_session_token="token-value", **KEYS
    ).client("bedrock-runtime")
    lean = lean_client_from_botocore(client)
    _, _, headers, _ = lean.prepare_request("Converse", {"modelId": "m", "messages": []})
    assert headers["X-Amz-Security-Token"] == "token-value"
    assert "x-amz-security-token" in headers["Authorization"]


def test_bedrock_api_key_is_sent_as_bearer_like_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-value")
    client = _boto3("bedrock-runtime")
    lean = lean_client_from_botocore(client)
    params = {"modelId": "m", "messages": []}
    _, _, headers, _ = lean.prepare_request("Converse", params)
    sent = _capture(client, "converse", params)
    assert headers["Authorization"] == _text(sent.headers)["Authorization"]
    assert headers["Authorization"] == "Bearer bedrock-api-key-value"
    assert lean.uses_bearer_token
    assert "bedrock-api-key-value" not in repr(lean) + repr(lean._core.operation("Converse").signer)
    # bedrock-agent-runtime does not accept bearer tokens: SigV4 as botocore does.
    agent = lean_client_from_botocore(_boto3("bedrock-agent-runtime"))
    _, _, agent_headers, _ = agent.prepare_request(
        "Retrieve", {"knowledgeBaseId": "KB12345678", "retrievalQuery": {"text": "q"}}
    )
    assert agent_headers["Authorization"].startswith("AWS4-HMAC-SHA256")


def test_explicit_api_key_wins() -> None:
    lean = lean_client_from_botocore(_boto3("bedrock-runtime"), api_key="explicit-key")
    _, _, headers, _ = lean.prepare_request("Converse", {"modelId": "m", "messages": []})
    assert headers["Authorization"] == "Bearer explicit-key"


def test_bedrock_kit_requests_are_botocores() -> None:
    """Requests the core builds (images, documents, tools, guardrails, cache points)."""
    from bedrock_kit.core.chat.converse import build_converse_request
    from bedrock_kit.core.chat.tool_config import build_tool_config
    from bedrock_kit.core.chat.types import (
        CachePointBlock,
        ImageBlock,
        InferenceConfig,
        Message,
        TextBlock,
        ToolSpec,
    )

    turns = [
        Message(
            "user",
            (TextBlock("describe"), ImageBlock("png", b"\x89PNG\r\n\x00"), CachePointBlock()),
        )
    ]
    schema = {"type": "object", "properties": {"q": {"type": "string"}}}
    tool = ToolSpec("lookup", "Look up", schema)
    request = build_converse_request(
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku",
        turns,
        system=[TextBlock("be brief")],
        inference=InferenceConfig(max_tokens=10, temperature=0.5, top_p=0.9),
        tool_config=build_tool_config([tool], "any"),
    )
    _compare("bedrock-runtime", "Converse", dict(request))
    _compare("bedrock-runtime", "ConverseStream", dict(request))


# ------------------------------------------------------------------ fast path vs botocore


def _plan(service: str, operation: str) -> Any:
    return _pair(service)[1]._core.operation(operation).request


def _same_outcome(plan: Any, params: Any) -> None:
    try:
        expected = plan.build_with_botocore(params)
    except ParamValidationError as exc:
        with pytest.raises(ParamValidationError) as raised:
            plan.build(params)
        assert str(raised.value) == str(exc)
        return
    except Exception as exc:  # botocore's serializer itself fails: so must we
        with pytest.raises(type(exc)):
            plan.build(params)
        return
    assert plan.build(params) == expected


_FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize(("service", "operation"), OPERATIONS, ids=str)
def test_fuzzed_valid_inputs_build_botocores_request(service: str, operation: str) -> None:
    plan = _plan(service, operation)
    shape = plan.model.input_shape

    @_FUZZ
    @given(input_strategy(shape) if shape is not None else st.just({}))
    def check(params: Any) -> None:
        _same_outcome(plan, params)

    check()


@pytest.mark.parametrize(("service", "operation"), OPERATIONS, ids=str)
def test_fuzzed_invalid_inputs_raise_botocores_report(service: str, operation: str) -> None:
    plan = _plan(service, operation)
    shape = plan.model.input_shape
    if shape is None:
        pytest.skip("no input")

    @_FUZZ
    @given(input_strategy(shape).flatmap(corrupt))
    def check(params: Any) -> None:
        if not isinstance(params, dict):
            params = {"value": params}
        _same_outcome(plan, params)

    check()


def test_fast_path_is_taken_for_bedrock_kit_requests() -> None:
    """The fast path really runs (no silent fallback) for the common operations."""
    plan = _plan("bedrock-runtime", "Converse")
    params = {
        "modelId": "m",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"text": "hi"},
                    {"image": {"format": "png", "source": {"bytes": b"\x00"}}},
                ],
            }
        ],
        "inferenceConfig": {"maxTokens": 5, "temperature": 0.5},
    }
    assert plan._build_fast(params) == plan.build_with_botocore(params)
    invoke = _plan("bedrock-runtime", "InvokeModel")
    body = {"modelId": "m", "body": b'{"a": 1}', "contentType": "application/json"}
    assert invoke._build_fast(body) == invoke.build_with_botocore(body)
