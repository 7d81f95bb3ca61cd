"""What an AWS credential looks like, and how bedrock-kit keeps it out of errors and logs.

This module is at the very bottom of the package, beside :mod:`bedrock_kit.errors` (which
imports it): it imports nothing from bedrock-kit. It holds:

- :data:`CREDENTIAL_PATTERNS`, the single definition of "what a credential looks like",
  used by the cassette scanner (:mod:`bedrock_kit.testing.scanner`), the VCR scrubber and
  the runtime redaction below;
- :func:`redact`, which replaces credentials in a text (those patterns, the SigV4 shapes
  botocore and AWS echo: canonical requests, strings to sign, signatures, ``Credential=``
  and ``X-Amz-Security-Token`` values, and the explicit keys given to live
  ``ClientSettings``);
- :func:`scrub_exception`, which redacts an exception's ``args`` and those of its causes;
- :class:`RedactingFilter` and :func:`install_log_redaction`: a logging filter installed on
  the loggers bedrock-kit drives (``botocore``, ``boto3``, ``aiobotocore``, ``urllib3``,
  ``aiohttp``, ``bedrock_kit`` and their children). It only redacts, always, and only on
  those loggers: records are never dropped, records without a credential are untouched,
  and no other logger (the user's own) is changed.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import logging
import operator
import re
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any

CREDENTIAL_PATTERNS: dict[str, re.Pattern[str]] = {
    # Long-term (AKIA) and temporary (ASIA) access key ids are 20 upper-case alphanumerics.
    "access_key_id": re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"),
    # SigV4: "Signature=" followed by the 64 hex digits of an HMAC-SHA256.
    "sigv4_signature": re.compile(r"Signature=[0-9a-f]{64}(?![0-9a-f])"),
    # SigV4 credential scope: <key id>/<yyyymmdd>/<region>/<service>/aws4_request.
    "credential_scope": re.compile(
        r"Credential=[A-Za-z0-9]{16,128}/\d{8}/[a-z0-9-]+/[a-z0-9-]+/aws4_request"
    ),
    # STS session tokens start with the base64 of a fixed header ("IQoJb3JpZ2lu" decodes to
    # "!\n\torigin"; older global-endpoint tokens start "FwoGZXIvYXdz" or "AQoDYXdz"); any
    # token is long base64 after X-Amz-Security-Token.
    "session_token": re.compile(
        r"(?:IQoJb3JpZ2lu|FwoGZXIvYXdz|AQoDYXdz)[A-Za-z0-9+/=%]{20,}"
        r"|(?i:x-amz-security-token)[\"']?\s*[:=]\s*(?:-\s*)?[\"']?[A-Za-z0-9+/=%]{100,}"
    ),
    # A secret access key is 40 base64 characters; only flag it next to a telling name so
    # random 40-character strings (hashes, ids) do not drown the real findings.
    "secret_access_key": re.compile(
        r"(?i:aws_secret_access_key|secret_?access_?key)[\"']?\s*[:=]\s*[\"']?"
        r"[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/])"
    ),
}
"""Kind name -> compiled pattern: what a credential in a file or a text looks like."""

# A line break as text holds it, or escaped once (JSON: "\\n") or twice (the repr of a JSON
# body in botocore's DEBUG log: "\\\\n").
_NL = r"(?:\r?\n|\\{1,2}(?:r\\{1,2})?n)"

# Shapes AWS error bodies and botocore's DEBUG logs carry, redacted before the patterns
# above (a canonical request contains a token line; redacting it whole is simpler).
_SIGV4_SHAPES: dict[str, re.Pattern[str]] = {
    # METHOD / path / query / header lines / signed headers / payload hash.
    "canonical_request": re.compile(
        rf"(?:GET|POST|PUT|DELETE|PATCH|HEAD){_NL}/[\s\S]{{0,16000}}?{_NL}"
        rf"[a-z0-9-]+(?:;[a-z0-9-]+)*{_NL}(?:[0-9a-f]{{64}}|UNSIGNED-PAYLOAD|STREAMING-[A-Z0-9-]+)"
    ),
    "string_to_sign": re.compile(
        rf"AWS4-HMAC-SHA256{_NL}\d{{8}}T\d{{6}}Z{_NL}\d{{8}}/[a-z0-9-]+/[a-z0-9-]+/aws4_request"
        rf"{_NL}[0-9a-f]{{64}}"
    ),
    # botocore logs "Signature:\n<hex>"; query strings carry X-Amz-Signature=<hex>.
    "signature": re.compile(
        rf"(?i:signature)[\"']?\s*[:=]\s*[\"']?(?:{_NL})?[0-9a-f]{{64}}(?![0-9a-f])"
    ),
    # Whatever follows Credential= in an Authorization header is the key id and its scope.
    "credential": re.compile(r"Credential=[^\s,;'\"\\]+"),
    "security_token": re.compile(
        r"(?i:x-amz-security-token)[\"']?\s*[:=]\s*b?[\"']?[A-Za-z0-9+/=%]{16,}"
    ),
}

_MIN_LITERAL = 16  # shorter "keys" (test dummies like "testing") are not worth redacting


class _KnownSecrets:
    """The explicit keys of live ``ClientSettings``, redacted literally whatever their shape.

    Entries go away with their owner (a weak finalizer), so nothing outlives the object
    that was given the key.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[int, tuple[str, ...]] = {}
        self._pattern: re.Pattern[str] | None = None
        self._dead: collections.deque[int] = collections.deque()
        self._keys = itertools.count()

    def remember(self, owner: object, values: Iterable[str | None]) -> None:
        kept = tuple(v for v in values if isinstance(v, str) and len(v) >= _MIN_LITERAL)
        if not kept:
            return
        key = next(self._keys)  # not id(owner): ids are reused once an owner is collected
        with self._lock:
            self._drain()
            self._values[key] = kept
            self._pattern = None
        weakref.finalize(owner, self._dead.append, key)

    def _drain(self) -> None:
        # Called with the lock held. Finalizers only queue their key (deque.append is atomic):
        # a finalizer can run inside any allocation, including one made while this thread
        # holds the lock, so taking the lock there would deadlock.
        while self._dead:
            self._values.pop(self._dead.popleft(), None)
            self._pattern = None

    def pattern(self) -> re.Pattern[str] | None:
        with self._lock:
            self._drain()
            if self._pattern is None and self._values:
                literals = sorted({v for vs in list(self._values.values()) for v in vs}, key=len)
                self._pattern = re.compile("|".join(re.escape(v) for v in reversed(literals)))
            return self._pattern


_KNOWN = _KnownSecrets()


def remember_secrets(owner: object, values: Iterable[str | None]) -> None:
    """Redact ``values`` literally (whatever their shape) for as long as ``owner`` lives.

    Args:
        owner: The object holding the secrets (a ``ClientSettings``); must support weakrefs.
        values: Access key id, secret key, session token; None and short values are skipped.
    """
    _KNOWN.remember(owner, values)


def redact(text: str) -> str:
    """``text`` with every credential replaced by ``[REDACTED:<kind>]``.

    Args:
        text: Any text: an error message, a log message, a response body excerpt.

    Returns:
        The text, unchanged when it holds no credential.
    """
    if not text:
        return text
    for kind, pattern in _SIGV4_SHAPES.items():
        text = pattern.sub(f"[REDACTED:{kind}]", text)
    for kind, pattern in CREDENTIAL_PATTERNS.items():
        text = pattern.sub(f"[REDACTED:{kind}]", text)
    known = _KNOWN.pattern()
    if known is not None:
        text = known.sub("[REDACTED:explicit_key]", text)
    return text


def _redact_value(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes):
        text = value.decode("utf-8", errors="replace")
        clean = redact(text)
        return value if clean == text else clean.encode("utf-8")
    return value


def scrub_exception(exc: BaseException | None) -> None:
    """Redact, in place, the ``args`` of ``exc`` and of every exception in its cause chain.

    botocore's ``ClientError`` keeps its message in ``args`` (what ``str()`` and tracebacks
    print) and in ``response["Error"]["Message"]``; both are redacted. A typed bedrock-kit
    error keeps the botocore error as ``__cause__``, which tracebacks print too.

    Args:
        exc: The exception (None is allowed and ignored).
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        with contextlib.suppress(AttributeError, TypeError):  # a type with read-only args
            exc.args = tuple(_redact_value(a) for a in exc.args)
        response = getattr(exc, "response", None)
        error = response.get("Error") if isinstance(response, dict) else None
        if isinstance(error, dict):
            for key in ("Message", "message"):
                if isinstance(error.get(key), str):
                    error[key] = redact(error[key])
        kwargs = getattr(exc, "kwargs", None)  # botocore's BotoCoreError formats from these
        if isinstance(kwargs, dict):
            for key, value in list(kwargs.items()):
                kwargs[key] = _redact_value(value)
        exc = exc.__cause__ or exc.__context__


# -- logging

_LOGGER_ROOTS = ("botocore", "boto3", "aiobotocore", "urllib3", "aiohttp", "bedrock_kit")
"""The loggers bedrock-kit drives; the filter goes on them and on each of their children."""

_FORMATTER = logging.Formatter()


class RedactingFilter(logging.Filter):
    """Redacts credentials in a record's message, traceback and stack; never drops a record.

    A record without a credential is left exactly as it was (message and args untouched).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; always keep it."""
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is logging's to report, not ours
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            text = _FORMATTER.formatException(record.exc_info)
            clean = redact(text)
            if clean != text:
                record.exc_text = clean  # formatters use the cached text as is
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


LOG_FILTER = RedactingFilter()
"""The one filter instance installed on every driven logger."""


class _Installer:
    """Sweeps the logger registry for driven loggers that have no filter yet."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._size = -1  # size of the registry at the last sweep
        # The driven names that were placeholders then, read in one C call, and what that
        # read gave: a placeholder turned logger replaces its entry (the size stays).
        self._read: Callable[[Any], Any] | None = None
        self._seen: Any = None

    def __call__(self) -> None:
        registry = logging.Logger.manager.loggerDict
        if len(registry) == self._size:
            try:
                if self._read is None or self._read(registry) == self._seen:
                    return
            except KeyError:  # a placeholder's entry was removed: sweep
                pass
        with self._lock:
            for root in _LOGGER_ROOTS:
                logging.getLogger(root)
            waiting = []
            for name, logger in list(registry.items()):
                if name.split(".", 1)[0] not in _LOGGER_ROOTS:
                    continue
                if not isinstance(logger, logging.Logger):
                    waiting.append(name)  # becomes a logger without adding an entry
                elif LOG_FILTER not in logger.filters:
                    logger.addFilter(LOG_FILTER)
            self._read = operator.itemgetter(*waiting) if waiting else None
            self._seen = self._read(registry) if self._read is not None else None
            self._size = len(registry)


_INSTALL = _Installer()


install_log_redaction: Callable[[], None] = _INSTALL
"""Put :data:`LOG_FILTER` on every existing ``botocore``/``urllib3``/... logger.

A filter on a logger applies only to records logged through that very logger (not to
its children's records propagating up), so every child gets one. Cheap to call on each
request: the registry is swept again only when loggers were added since the last sweep
(the sweeper itself, not a function around it: one call less per request).
"""
