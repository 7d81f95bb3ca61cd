"""The raw HTTP body of the ApplyGuardrail call in flight, for typed malformed-answer errors.

botocore reads an HTML page or an empty body as ``{}``; a before-parse hook keeps what was
actually received, so :class:`~bedrock_kit.core.guardrails.apply.GuardrailClient` reports it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from bedrock_kit.core.guardrails import _wire as _w
from bedrock_kit.errors import BedrockKitError, MalformedResponseError

__all__ = ["Received", "received", "watched"]

# The HTTP body of the ApplyGuardrail call in flight, so a malformed answer is reported with
# what was actually received (botocore reads an HTML page or an empty body as ``{}``). A
# context variable: one per thread and per asyncio task, so concurrent calls never mix.
_BODY: ContextVar[list[Received] | None] = ContextVar(
    "bedrock_kit_apply_guardrail_body", default=None
)
_HOOK = "before-parse.bedrock-runtime.ApplyGuardrail"


@dataclass(frozen=True)
class Received:
    body: bytes
    request_id: str | None


def _keep_body(response_dict: Mapping[str, Any] | None = None, **_: Any) -> None:
    holder = _BODY.get()
    if holder is not None and isinstance(response_dict, Mapping):
        body = response_dict.get("body")
        headers = response_dict.get("headers") or {}
        request_id = headers.get("x-amzn-requestid") if isinstance(headers, Mapping) else None
        holder.append(
            Received(
                body if isinstance(body, bytes) else b"",
                request_id if isinstance(request_id, str) else None,
            )
        )


def watched(client: Any) -> Any:
    """``client`` with the body hook registered (once per client; injected doubles skipped)."""
    register = getattr(getattr(getattr(client, "meta", None), "events", None), "register", None)
    if callable(register):
        register(_HOOK, _keep_body, unique_id="bedrock-kit-apply-guardrail-body")
    return client


@contextmanager
def received(label: str, guardrail_id: str) -> Iterator[list[Received]]:
    """Collect the bodies received; a bare error while botocore parsed one is malformed."""
    from botocore.exceptions import BotoCoreError, ClientError

    holder: list[Received] = []
    token = _BODY.set(holder)
    try:
        yield holder
    except (BedrockKitError, ClientError, BotoCoreError):
        raise
    except Exception as exc:
        if not holder:  # nothing was received: not a parse failure, leave it to the caller
            raise
        # e.g. botocore's parser on ``"outputs": "oops"`` or a JSON list: AttributeError
        last = holder[-1]
        raise MalformedResponseError(
            f"ApplyGuardrail response of guardrail {label} could not be parsed: "
            f"{type(exc).__name__}: {_w.excerpt(str(exc))}; body {_w.excerpt(last.body)!r}",
            raw=_w.excerpt(last.body),
            model_id=guardrail_id,
            request_id=last.request_id,
        ) from exc
    finally:
        _BODY.reset(token)
