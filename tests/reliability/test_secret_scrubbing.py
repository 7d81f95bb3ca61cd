"""No credential in an error, its cause, its traceback, or any log record, at DEBUG.

Auth failures come from the hostile server, whose error bodies echo the access key id, the
session token, the canonical request and the string to sign, as AWS's SignatureDoesNotMatch
and IncompleteSignature answers do. Successful calls go to LocalBedrock with botocore,
aiobotocore and urllib3 logging at DEBUG (botocore logs the Authorization header and the
canonical request there). Everything is scanned with the project's credential patterns and
for the literal keys.
"""

from __future__ import annotations

import asyncio
import gc
import io
import logging
import os
import pickle
import re
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bedrock_kit import ClientSettings
from bedrock_kit._secrets import (
    _LOGGER_ROOTS,
    CREDENTIAL_PATTERNS,
    LOG_FILTER,
    install_log_redaction,
    redact,
    remember_secrets,
)
from bedrock_kit.errors import (
    AccessDeniedError,
    BedrockKitError,
    MalformedResponseError,
    ModelStreamError,
)
from bedrock_kit.testing import scanner
from bedrock_kit.testing.scanner import scan_text
from tests.support.catalogue import CASES, Case, serve
from tests.support.hostile import HostileServer, exception_event, json_reply, stream_reply

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
STS_TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD6EXAMPLETOKEN0123456789"
# A token without a known prefix: only its label (x-amz-security-token) and the literal
# registry of live settings can find it.
OPAQUE_TOKEN = "Zm9vYmFyOPAQUEtokenWITHOUTaKNOWNprefix0123456789abcdefghij0123456789ABCDEFGHIJKL"
TOKENS = [pytest.param(STS_TOKEN, id="sts-token"), pytest.param(OPAQUE_TOKEN, id="opaque-token")]
SIGNED_HEADERS = "content-type;host;x-amz-date;x-amz-security-token"
HEX = "4f1c6e2a9d8b7c3e5f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a"


def _keys(token: str) -> dict[str, str]:
    return {
        "aws_access_key_id": KEY_ID,
        "aws_secret_access_key": SECRET,
        "aws_session_token": token,
    }


def _leaks(text: str, token: str) -> list[str]:
    """Every credential-looking thing in ``text``: literals, scanner findings, SigV4 parts."""
    found = [name for name, value in _literals(token).items() if value in text]
    found += [f.kind for f in scan_text(text)]
    if re.search(rf"(\n|\\n){SIGNED_HEADERS}(\n|\\n)", text):  # its signed-headers line
        found.append("canonical request")
    if "x-amz-security-token:" in text.lower():
        found.append("token header line")
    if "AWS4-HMAC-SHA256\n2" in text:
        found.append("string to sign")
    return found


def _literals(token: str) -> dict[str, str]:
    return {"key id": KEY_ID, "secret": SECRET, "token": token}


# -- what a hostile server echoes in auth failures


def _canonical(token: str) -> str:
    return (
        "POST\n/model/amazon.nova-micro-v1%3A0/converse\n\ncontent-type:application/json\n"
        "host:bedrock-runtime.us-east-1.amazonaws.com\nx-amz-date:20250101T000000Z\n"
        f"x-amz-security-token:{token}\n\n{SIGNED_HEADERS}\n{HEX}"
    )


def _signature_mismatch(token: str) -> str:
    string_to_sign = (
        f"AWS4-HMAC-SHA256\n20250101T000000Z\n20250101/us-east-1/bedrock/aws4_request\n{HEX}"
    )
    return (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service "
        "documentation for details.\n\nThe Canonical String for this request should have "
        f"been\n'{_canonical(token)}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n"
    )


def _incomplete_signature(token: str) -> str:
    header = (
        f"AWS4-HMAC-SHA256 Credential={KEY_ID}/20250101/us-east-1/bedrock/aws4_request, "
        f"SignedHeaders={SIGNED_HEADERS}, Signature={HEX}"
    )
    return (
        f"'{header}' not a valid key=value pair (missing equal-sign) in Authorization header: "
        f"'{header}'. X-Amz-Security-Token={token}"
    )


def _echo_everything(token: str) -> str:
    # A hostile proxy that echoes the request's credentials however it likes.
    return f"denied for key {KEY_ID} with secret {SECRET} and token {token}"


BODIES: list[Any] = [
    pytest.param(
        _signature_mismatch,
        "SignatureDoesNotMatch",
        "signature we calculated does not match",
        id="SignatureDoesNotMatch",
    ),
    pytest.param(
        _incomplete_signature,
        "IncompleteSignature",
        "not a valid key=value pair",
        id="IncompleteSignature",
    ),
    pytest.param(_echo_everything, "AccessDeniedException", "denied for key", id="echo-all"),
]


def _auth_failure(body: Callable[[str], str], code: str, token: str) -> Any:
    error_type = f"{code}:http://internal.amazon.com/coral/com.amazon.coral.service/"
    return json_reply({"message": body(token)}, status=403, **{"x-amzn-ErrorType": error_type})


def _callers() -> list[Any]:
    """Public entry points over each service, sync and async."""

    def lc_chat(args: dict[str, Any]) -> Any:
        from bedrock_kit.langchain import ChatBedrockKit

        return ChatBedrockKit(model="amazon.nova-micro-v1:0", **args)

    def li_llm(args: dict[str, Any]) -> Any:
        from bedrock_kit.llama_index import BedrockKitLLM

        return BedrockKitLLM(model="amazon.nova-micro-v1:0", **args)

    def lc_stream(o: Any) -> Any:
        return "".join(str(c.content) for c in o.stream("hi"))

    async def lc_astream(o: Any) -> Any:
        return "".join([str(c.content) async for c in o.astream("hi")])

    by_name = {c.name: c for c in CASES}
    picked = [
        "core.ConverseRuntime",
        "core.GuardrailClient",
        "langchain.ChatBedrockKit",
        "langchain.BedrockKnowledgeBaseRetriever",
        "langchain.BedrockKitEmbeddings",
        "llama_index.BedrockKitLLM",
        "llama_index.BedrockGuardrail",
        "llama_index.BedrockAgentQueryEngine",
    ]
    callers = []
    for name in picked:
        case = by_name[name]
        callers.append(pytest.param(case.build, case.call, id=f"{name}-sync"))
        callers.append(pytest.param(case.build, _sync(case.acall), id=f"{name}-async"))
    callers.append(pytest.param(lc_chat, lc_stream, id="langchain.ChatBedrockKit-stream-sync"))
    callers.append(
        pytest.param(lc_chat, _sync(lc_astream), id="langchain.ChatBedrockKit-stream-async")
    )
    callers.append(
        pytest.param(li_llm, lambda o: list(o.stream_complete("hi")), id="llama_index-stream")
    )
    return callers


def _sync(acall: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda obj: asyncio.run(acall(obj))


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """Every record of every logger at DEBUG, formatted with tracebacks, into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def _everything_printed(exc: BaseException) -> str:
    """All a user can see of an error: str, repr, args, causes and the full traceback."""
    parts = [str(exc), repr(exc), repr(exc.args), "".join(traceback.format_exception(exc))]
    for linked in (exc.__cause__, exc.__context__):
        if linked is not None:
            parts += [str(linked), repr(linked), repr(linked.args)]
            response = getattr(linked, "response", None)
            if isinstance(response, dict):
                parts.append(repr(response.get("Error")))
    return "\n".join(parts)


@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize(("body", "code", "phrase"), BODIES)
@pytest.mark.parametrize(("build", "call"), _callers())
def test_auth_failure_echoes_are_scrubbed_from_errors_causes_tracebacks_and_logs(
    hostile: HostileServer,
    debug_log: io.StringIO,
    build: Callable[[dict[str, Any]], Any],
    call: Callable[[Any], Any],
    body: Callable[[str], str],
    code: str,
    phrase: str,
    token: str,
) -> None:
    hostile.always(_auth_failure(body, code, token))
    args = {"region_name": "us-east-1", "endpoint_url": hostile.url, "max_retries": 0}
    obj = build({**args, **_keys(token)})
    with pytest.raises(BedrockKitError) as info:
        call(obj)
    error = info.value
    assert isinstance(error, AccessDeniedError) and error.status_code == 403
    assert error.error_code == code
    assert hostile.requests, "the call reached the server"
    assert phrase in str(error)  # the error still says what happened, minus the credentials
    assert _leaks(_everything_printed(error), token) == []
    assert _leaks(debug_log.getvalue(), token) == []
    assert "Response body" in debug_log.getvalue()  # botocore did log the echoed body


@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_in_stream_exception_echoes_are_scrubbed(
    hostile: HostileServer, debug_log: io.StringIO, token: str, asynchronous: bool
) -> None:
    from bedrock_kit.langchain import ChatBedrockKit

    message = f"model failed for {KEY_ID} token {token}: {_canonical(token)}"
    hostile.always(stream_reply([exception_event("modelStreamErrorException", message)]))
    llm = ChatBedrockKit(
        model="amazon.nova-micro-v1:0",
        region_name="us-east-1",
        endpoint_url=hostile.url,
        max_retries=0,
        **_keys(token),
    )

    async def astream() -> None:
        async for _ in llm.astream("hi"):
            pass

    with pytest.raises(ModelStreamError) as info:
        if asynchronous:
            asyncio.run(astream())
        else:
            list(llm.stream("hi"))
    assert "model failed for" in str(info.value)
    assert _leaks(_everything_printed(info.value), token) == []
    assert _leaks(debug_log.getvalue(), token) == []


# -- DEBUG logs of successful calls, every public class


@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_debug_logs_of_real_calls_hold_no_credential(
    debug_log: io.StringIO, case: Case, token: str
) -> None:
    with serve(case) as (_, args):
        obj = case.build({**args, **_keys(token)})
        case.call(obj)
        asyncio.run(case.acall(obj))
    text = debug_log.getvalue()
    # botocore's signer logged the canonical requests (security token included); the lean
    # transport, the default, never logs the request's headers at all.
    assert "CanonicalRequest" in text and "StringToSign" in text
    assert _leaks(text, token) == []
    assert "[REDACTED:" in text


FRESH = """
import asyncio, io, logging, sys
buffer = io.StringIO()
logging.basicConfig(level=logging.DEBUG, handlers=[logging.StreamHandler(buffer)])
from bedrock_kit.testing import LocalBedrock
from bedrock_kit.langchain import ChatBedrockKit
from bedrock_kit.llama_index import BedrockKitLLM

with LocalBedrock() as server:
    args = dict(region_name="us-east-1", endpoint_url=server.endpoint_url,
                aws_access_key_id=sys.argv[1], aws_secret_access_key=sys.argv[2],
                aws_session_token=sys.argv[3])
    llm = ChatBedrockKit(model="amazon.nova-micro-v1:0", **args)
    llm.invoke("first ever call")
    asyncio.run(llm.ainvoke("first async call"))
    asyncio.run(BedrockKitLLM(model="amazon.nova-micro-v1:0", **args).acomplete("li"))
sys.stdout.write(buffer.getvalue())
"""


@pytest.mark.parametrize("token", TOKENS)
def test_the_first_calls_of_a_fresh_interpreter_log_no_credential(token: str) -> None:
    # Loggers botocore creates while the first clients are built must be covered before the
    # first request is logged.
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", FRESH, KEY_ID, SECRET, token],
        capture_output=True,
        check=False,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    # One signature logged per call, the two async calls' included.
    assert result.stdout.count("CanonicalRequest:") >= 3, result.stdout[-2000:]
    assert _leaks(result.stdout, token) == []


# -- the filter's scope


def test_the_filter_is_on_every_driven_logger_and_no_other() -> None:
    install_log_redaction()
    registry = logging.Logger.manager.loggerDict
    driven = [
        logger
        for name, logger in registry.items()
        if isinstance(logger, logging.Logger) and name.split(".")[0] in _LOGGER_ROOTS
    ]
    assert any(lg.name == "botocore.auth" for lg in driven)
    assert any(lg.name == "urllib3.connectionpool" for lg in driven)
    assert all(LOG_FILTER in lg.filters for lg in driven)
    others = [lg for lg in registry.values() if isinstance(lg, logging.Logger)]
    assert not any(LOG_FILTER in lg.filters for lg in others if lg not in driven)
    assert LOG_FILTER not in logging.getLogger().filters


def test_a_users_own_logger_is_left_alone(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    logging.getLogger("myapp.audit").info("rotated key %s", KEY_ID)
    (record,) = [r for r in caplog.records if r.name == "myapp.audit"]
    assert record.getMessage() == f"rotated key {KEY_ID}" and record.args == (KEY_ID,)


def test_records_without_credentials_are_untouched_and_with_them_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    logger = logging.getLogger("botocore.endpoint")
    logger.debug("Sending %s to %s", "request", "host")
    logger.debug("headers %r", {"Authorization": f"Credential={KEY_ID}/x, Signature={HEX}"})
    plain, secret = [r for r in caplog.records if r.name == "botocore.endpoint"]
    assert plain.msg == "Sending %s to %s" and plain.args == ("request", "host")
    assert KEY_ID not in secret.getMessage() and HEX not in secret.getMessage()
    assert "[REDACTED:credential]" in secret.getMessage()


def test_a_logger_created_later_gets_the_filter_on_the_next_call() -> None:
    install_log_redaction()
    late = logging.getLogger("botocore.created_after_install_for_the_test")
    assert LOG_FILTER not in late.filters
    (case,) = [c for c in CASES if c.name == "core.ConverseRuntime"]
    with serve(case) as (_, args):
        case.call(case.build(args))
    assert LOG_FILTER in late.filters


def test_a_placeholder_that_becomes_a_logger_gets_the_filter() -> None:
    logging.getLogger("urllib3.placeholder_parent_for_test.child")
    install_log_redaction()
    parent = logging.getLogger("urllib3.placeholder_parent_for_test")  # was a placeholder
    install_log_redaction()
    assert LOG_FILTER in parent.filters


def test_logged_tracebacks_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("bedrock_kit.test")
    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    try:
        raise RuntimeError(f"boom with {KEY_ID}")
    except RuntimeError:
        logger.exception("failed")
    assert KEY_ID not in caplog.text and "boom with [REDACTED:access_key_id]" in caplog.text


# -- redaction itself


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (f"key {KEY_ID} used", "access_key_id"),
        ("temporary ASIAIOSFODNN7EXAMPLE", "access_key_id"),
        (f"Authorization: ... Signature={HEX}", "signature"),
        (f"Signature:\n{HEX}", "signature"),
        (f"url?X-Amz-Signature={HEX}&", "signature"),
        ("Credential=notAnAkiaKey/20250101/us-east-1/bedrock/aws4_request,", "credential"),
        (f"token {STS_TOKEN}", "session_token"),
        ("old FwoGZXIvYXdzEBQaDEXAMPLEoldSTStokenXXXXXXXX", "session_token"),
        (f"'X-Amz-Security-Token': b'{OPAQUE_TOKEN}'", "security_token"),
        (f"aws_secret_access_key = {SECRET}", "secret_access_key"),
        (_canonical(OPAQUE_TOKEN), "canonical_request"),
        (repr(_canonical(OPAQUE_TOKEN).encode()), "canonical_request"),
    ],
)
def test_redact_replaces_each_kind(text: str, kind: str) -> None:
    clean = redact(text)
    assert f"[REDACTED:{kind}]" in clean, clean
    assert _leaks(clean, OPAQUE_TOKEN) == [], clean


@pytest.mark.parametrize(
    "text",
    [
        "",
        "echo: hello world",
        f"sha256 of the body is {HEX}",  # a bare hash is no secret
        "AKIA is a prefix, AKIASHORT is too short",
        "POST /model/x/converse HTTP/1.1",
    ],
)
def test_redact_leaves_ordinary_text_alone(text: str) -> None:
    assert redact(text) == text


def test_explicit_keys_of_any_shape_are_redacted_while_their_settings_live() -> None:
    odd = "an-odd-secret-shaped-like-nothing-aws-uses"
    settings = ClientSettings(aws_access_key_id="plainkeyid-0123456789", aws_secret_access_key=odd)
    assert redact(f"echo {odd}") == "echo [REDACTED:explicit_key]"
    del settings
    gc.collect()
    assert redact(f"echo {odd}") == f"echo {odd}"  # nothing outlives its owner


def test_short_values_are_not_registered() -> None:
    owner = ClientSettings()
    remember_secrets(owner, ["testing", None, "x"])
    assert redact("testing the x") == "testing the x"


def test_errors_scrub_their_message_raw_text_and_the_exception_they_handle() -> None:
    class WireError(Exception):
        pass

    with pytest.raises(BedrockKitError) as info:
        try:
            raise WireError(f"echoed {KEY_ID} and {STS_TOKEN}")
        except WireError as exc:
            raise BedrockKitError(f"failed: {exc}") from exc
    assert _leaks(_everything_printed(info.value), STS_TOKEN) == []
    assert isinstance(info.value.__cause__, WireError)
    malformed = MalformedResponseError("bad body", raw=f'{{"key": "{KEY_ID}"}}')
    assert KEY_ID not in malformed.raw and "[REDACTED:access_key_id]" in malformed.raw
    assert KEY_ID not in repr(pickle.loads(pickle.dumps(info.value)).args)


def test_the_scanner_uses_the_same_patterns() -> None:
    assert scanner.CREDENTIAL_PATTERNS is CREDENTIAL_PATTERNS
    assert [f.kind for f in scan_text(f"{KEY_ID}\n{STS_TOKEN}")] == [
        "access_key_id",
        "session_token",
    ]
