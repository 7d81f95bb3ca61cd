"""vcrpy configuration for Bedrock cassettes: scrubbing, matching, async replay.

Use with pytest-recording (the project's pytest plugin wires all of this in)::

    @pytest.mark.vcr
    def test_something(bedrock): ...

or with plain vcrpy::

    my_vcr = vcr.VCR()
    register_matchers(my_vcr)
    with my_vcr.use_cassette("x.yaml", **vcr_config()): ...

What the configuration guarantees:

* Credentials never reach a cassette: credential-bearing request headers are dropped,
  response cookies too, and access key ids, SigV4 signatures, credential scopes and session
  tokens are replaced in request and response bodies (event-stream bodies are rewritten frame
  by frame with fresh CRCs, so they stay valid).
* Matching is region-agnostic: method + path (+ query), never host or port, so a cassette
  recorded at ``bedrock-runtime.us-east-1.amazonaws.com`` or at LocalBedrock's
  ``http://127.0.0.1:PORT`` replays against any endpoint.
* JSON request bodies match semantically (parsed equality), other bodies byte for byte.
* Each recorded interaction plays at most once (``allow_playback_repeats=False``), and the
  default record mode is ``"none"``: a missing cassette fails instead of calling AWS.

vcrpy's aiohttp stub builds responses without ``raw_headers``, which aiobotocore iterates
on every response; :func:`install_aiohttp_raw_headers_shim` fixes that.
"""

from __future__ import annotations

import binascii
import json
import re
import struct
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from bedrock_kit.testing.scanner import CREDENTIAL_PATTERNS

__all__ = [
    "BODY_MATCHER",
    "PATH_MATCHER",
    "SENSITIVE_REQUEST_HEADERS",
    "SENSITIVE_RESPONSE_HEADERS",
    "install_aiohttp_raw_headers_shim",
    "match_body",
    "match_path",
    "register_matchers",
    "scrub_bytes",
    "scrub_request",
    "scrub_response",
    "vcr_config",
]

PATH_MATCHER = "bedrock_path"
"""Name under which :func:`match_path` is registered on a ``vcr.VCR``."""
BODY_MATCHER = "bedrock_body"
"""Name under which :func:`match_body` is registered on a ``vcr.VCR``."""

SENSITIVE_REQUEST_HEADERS: tuple[str, ...] = (
    "authorization",
    "x-amz-security-token",
    "x-amz-date",
    "x-amz-content-sha256",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
    "x-amz-user-agent",
    "user-agent",
    "cookie",
    "proxy-authorization",
    "x-api-key",
    "x-amz-client-context",
)
"""Request headers dropped before recording: credentials, signatures and per-call noise
(dates, invocation ids, user agents that name the machine)."""

SENSITIVE_RESPONSE_HEADERS: tuple[str, ...] = ("set-cookie", "x-amz-security-token")
"""Response headers dropped before recording (load-balancer cookies identify the session)."""

_REDACTIONS: dict[str, str] = {
    "access_key_id": "REDACTED-ACCESS-KEY-ID",
    "sigv4_signature": "Signature=REDACTED",
    "credential_scope": "Credential=REDACTED",
    "session_token": "REDACTED-SESSION-TOKEN",
    "secret_access_key": "REDACTED-SECRET-KEY",
}
_EVENT_STREAM = "application/vnd.amazon.eventstream"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})
_PRELUDE = struct.Struct(">II")


def vcr_config() -> dict[str, Any]:
    """Keyword arguments for ``VCR.use_cassette`` / pytest-recording's ``vcr_config``.

    The custom matchers named in ``match_on`` must be registered on the VCR instance first
    (:func:`register_matchers`; the pytest plugin does it in ``pytest_recording_configure``).
    pytest-recording lets a ``record_mode`` in this dict override ``--record-mode``, so the
    plugin's ``vcr_config`` fixture drops that key (pytest-recording's default is ``none``).

    Returns:
        A fresh dict each call, safe to modify.
    """
    return {
        "filter_headers": list(SENSITIVE_REQUEST_HEADERS),
        "before_record_request": scrub_request,
        "before_record_response": scrub_response,
        "match_on": ("method", PATH_MATCHER, BODY_MATCHER),
        "allow_playback_repeats": False,
        "record_mode": "none",
        "decode_compressed_response": False,
    }


def register_matchers(vcr_instance: Any) -> Any:
    """Register the region-agnostic path matcher and the JSON body matcher.

    Args:
        vcr_instance: A ``vcr.VCR``.

    Returns:
        The same instance, for chaining.
    """
    vcr_instance.register_matcher(PATH_MATCHER, match_path)
    vcr_instance.register_matcher(BODY_MATCHER, match_body)
    return vcr_instance


def match_path(r1: Any, r2: Any) -> None:
    """vcrpy matcher: same path and query, whatever the scheme, host, port or region.

    Paths are compared percent-decoded, because ``a%3A0`` and ``a:0`` name the same model.

    Raises:
        AssertionError: When they differ (vcrpy's matcher protocol).
    """
    p1, p2 = _path_key(r1.uri), _path_key(r2.uri)
    assert p1 == p2, f"path {p1!r} != {p2!r}"


def match_body(r1: Any, r2: Any) -> None:
    """vcrpy matcher: JSON bodies compared parsed, anything else compared as bytes.

    Raises:
        AssertionError: When they differ (vcrpy's matcher protocol).
    """
    b1, b2 = _body_key(r1.body), _body_key(r2.body)
    assert b1 == b2, "request bodies differ"


def scrub_bytes(data: bytes) -> bytes:
    """Replace every credential-looking match in ``data`` with a fixed placeholder."""
    text = data.decode("latin-1")  # byte-preserving for the ASCII patterns
    for kind, pattern in CREDENTIAL_PATTERNS.items():
        text = pattern.sub(_REDACTIONS[kind], text)
    return text.encode("latin-1")


def scrub_request(request: Any) -> Any:
    """``before_record_request`` hook: scrub credentials from the request body.

    Headers are handled by ``filter_headers``; this removes anything that also slipped into
    the body (a presigned URL, an STS response echoed back). It also drops the random port
    of a loopback endpoint (LocalBedrock), so re-recording does not churn every ``uri:``
    line; matching ignores host and port anyway.
    """
    parts = urlsplit(request.uri)
    if parts.hostname in _LOOPBACK_HOSTS and parts.port is not None:
        request.uri = urlunsplit(parts._replace(netloc=parts.hostname))
    body = request.body
    if isinstance(body, str):
        request.body = scrub_bytes(body.encode("utf-8")).decode("utf-8")
    elif isinstance(body, bytes | bytearray):
        request.body = scrub_bytes(bytes(body))
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """``before_record_response`` hook: drop sensitive headers, scrub the body.

    Event-stream bodies are rewritten frame by frame so their CRCs stay valid; a body that
    does not parse as frames is scrubbed as plain bytes.
    """
    headers = response.get("headers") or {}
    for name in list(headers):
        if name.lower() in SENSITIVE_RESPONSE_HEADERS:
            del headers[name]
    body = response.get("body") or {}
    data = body.get("string")
    if isinstance(data, bytes) and data:
        if _EVENT_STREAM in _header(headers, "content-type"):
            clean = _scrub_event_stream(data)
        else:
            clean = scrub_bytes(data)
        body["string"] = clean
    elif isinstance(data, str) and data:
        body["string"] = scrub_bytes(data.encode("utf-8")).decode("utf-8")
        clean = body["string"].encode("utf-8")
    else:
        return response
    for name in headers:
        # A replacement changes the body's length; a stale Content-Length breaks replay.
        if name.lower() == "content-length":
            headers[name] = [str(len(clean))]
    return response


def install_aiohttp_raw_headers_shim() -> bool:
    """Give vcrpy's replayed aiohttp responses the ``raw_headers`` aiobotocore reads.

    aiobotocore's ``AIOHTTPSession.send`` builds botocore's header dict from
    ``response.raw_headers`` (pairs of bytes). vcrpy's ``build_response`` sets only
    ``_headers``, so ``raw_headers`` is ``None`` and every replayed async call fails with
    ``TypeError: 'NoneType' object is not iterable``. The shim wraps ``build_response`` to
    derive ``_raw_headers`` from the recorded headers. Bodies need nothing: vcrpy already
    serves them through a real ``aiohttp.StreamReader`` (``response.content``), which
    aiobotocore's streaming body and event-stream reader consume.

    Idempotent; safe to call many times.

    Returns:
        True when the shim is (now) installed, False when vcrpy's aiohttp stub is missing.
    """
    try:
        from vcr.stubs import aiohttp_stubs
    except ImportError:  # aiohttp not installed: nothing to replay through
        return False
    current: Callable[..., Any] = aiohttp_stubs.build_response
    if getattr(current, "_bedrock_kit_shim", False):
        return True

    def build_response(vcr_request: Any, vcr_response: Any, history: Any) -> Any:
        response = current(vcr_request, vcr_response, history)
        if getattr(response, "_raw_headers", None) is None:
            response._raw_headers = tuple(
                (str(name).encode("utf-8"), str(value).encode("utf-8"))
                for name, value in response.headers.items()
            )
        return response

    build_response._bedrock_kit_shim = True  # type: ignore[attr-defined]
    build_response.__wrapped__ = current  # type: ignore[attr-defined]
    aiohttp_stubs.build_response = build_response
    return True


def _path_key(uri: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    parts = urlsplit(uri)
    path = re.sub(r"/{2,}", "/", unquote(parts.path)) or "/"
    return path, tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))


def _body_key(body: Any) -> Any:
    if body is None:
        return b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    if not isinstance(body, bytes | bytearray):
        return body
    try:
        return ("json", json.loads(body))
    except (ValueError, UnicodeDecodeError):
        return bytes(body)


def _header(headers: dict[str, Any], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            values = value if isinstance(value, list) else [value]
            return ",".join(v.decode() if isinstance(v, bytes) else str(v) for v in values)
    return ""


def _scrub_event_stream(data: bytes) -> bytes:
    """Scrub each frame's payload and re-frame it; headers are kept byte for byte."""
    frames: list[bytes] = []
    offset = 0
    changed = False
    while offset < len(data):
        if len(data) - offset < 16:
            return scrub_bytes(data)
        total, headers_len = _PRELUDE.unpack_from(data, offset)
        if total < 16 + headers_len or offset + total > len(data):
            return scrub_bytes(data)
        headers = data[offset + 12 : offset + 12 + headers_len]
        payload = data[offset + 12 + headers_len : offset + total - 4]
        clean = scrub_bytes(payload)
        changed = changed or clean != payload
        frames.append(_frame(headers, clean))
        offset += total
    return b"".join(frames) if changed else data


def _frame(headers: bytes, payload: bytes) -> bytes:
    prelude = _PRELUDE.pack(16 + len(headers) + len(payload), len(headers))
    prelude += struct.pack(">I", binascii.crc32(prelude))
    message = prelude + headers + payload
    return message + struct.pack(">I", binascii.crc32(message))
