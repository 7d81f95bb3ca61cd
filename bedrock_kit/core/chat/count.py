"""Input tokens of a chat request: Bedrock's CountTokens, or the estimate where it cannot count.

What both adapters' token counting calls (LangChain ``get_num_tokens_from_messages``,
LlamaIndex ``count_tokens``). The estimate is used only where CountTokens cannot count:

* a model CountTokens does not support: Bedrock answers ``ValidationException: The provided
  model doesn't support counting tokens.`` (remembered per model, so it is asked once; Bedrock
  is asked rather than a table, since models gain support over time);
* an InvokeModel request (``api="invoke"``): provider bodies are estimated.

Every other refusal is raised as its typed error: an invalid model identifier or request
(:class:`~bedrock_kit.errors.BedrockValidationError`), missing permission
(:class:`~bedrock_kit.errors.AccessDeniedError`), throttling, a malformed answer... A count
is never silently replaced by a guess. Each fallback says why in a debug log
(logger ``bedrock_kit.core.chat.count``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, MutableSet
from typing import Any

from bedrock_kit.core.chat.models import base_model_id
from bedrock_kit.core.chat.runtime import ConverseRuntime
from bedrock_kit.core.chat.token_estimate import estimate_invoke_tokens, estimate_request_tokens
from bedrock_kit.errors import BedrockValidationError

__all__ = ["acount_input_tokens", "count_input_tokens", "estimate_input_tokens", "is_unsupported"]

_log = logging.getLogger(__name__)
# Bedrock's message for a model CountTokens cannot count (ValidationException, HTTP 400);
# an invalid model identifier or request says something else and is raised.
_UNSUPPORTED = "doesn't support counting tokens"


def estimate_input_tokens(request: Mapping[str, Any]) -> int:
    """The documented estimate (errs high) for a Converse or InvokeModel request."""
    if "body" in request:  # InvokeModel: the provider body holds prompt and tools
        return estimate_invoke_tokens(request["body"])
    return estimate_request_tokens(request)


def is_unsupported(error: BaseException) -> bool:
    """Whether ``error`` is Bedrock saying the model does not support CountTokens."""
    return isinstance(error, BedrockValidationError) and _UNSUPPORTED in str(error).lower()


def _estimate(request: Mapping[str, Any], why: str) -> int:
    _log.debug(
        "CountTokens not used for model %s (%s): returning the estimate",
        request.get("modelId"),
        why,
    )
    return estimate_input_tokens(request)


def _without_asking(request: Mapping[str, Any], unsupported: MutableSet[str]) -> int | None:
    """The estimate when CountTokens cannot count this request; None: ask it."""
    model_id = str(request.get("modelId", ""))
    if "body" in request:
        return _estimate(request, "an InvokeModel body; CountTokens is asked for Converse only")
    if base_model_id(model_id) in unsupported:
        return _estimate(request, "Bedrock said earlier that it cannot count this model")
    return None


def _refused(request: Mapping[str, Any], error: Exception, unsupported: MutableSet[str]) -> int:
    if not is_unsupported(error):
        raise error
    unsupported.add(base_model_id(str(request.get("modelId", ""))))
    return _estimate(request, f"Bedrock answered: {error}")


def count_input_tokens(
    runtime: ConverseRuntime, request: Mapping[str, Any], unsupported: MutableSet[str]
) -> int:
    """Input tokens of a request built by :func:`~bedrock_kit.core.chat.send.build_chat_request`.

    Args:
        runtime: Where CountTokens is called.
        request: The Converse (or InvokeModel) request.
        unsupported: Base model ids Bedrock said it cannot count (read and updated), kept
            by the caller so a refusing model is not asked again.

    Raises:
        BedrockValidationError: Bedrock rejected the model identifier or the request.
        BedrockKitError: Any other refusal or failure of CountTokens, typed.
    """
    estimate = _without_asking(request, unsupported)
    if estimate is not None:
        return estimate
    try:
        return runtime.count_tokens(request)
    except BedrockValidationError as error:
        return _refused(request, error, unsupported)


async def acount_input_tokens(
    runtime: ConverseRuntime, request: Mapping[str, Any], unsupported: MutableSet[str]
) -> int:
    """Async :func:`count_input_tokens` (CountTokens over the async client)."""
    estimate = _without_asking(request, unsupported)
    if estimate is not None:
        return estimate
    try:
        return await runtime.acount_tokens(request)
    except BedrockValidationError as error:
        return _refused(request, error, unsupported)
