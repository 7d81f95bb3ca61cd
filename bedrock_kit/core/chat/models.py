"""What bedrock-kit knows about model ids: provider, and per-provider capabilities."""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

from bedrock_kit.core.transport.validation import check_arn_reachable
from bedrock_kit.errors import ConfigurationError

# Foundation model ids, inference-profile ids (us.anthropic...), and ARNs.
_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/+-]*$")
_PROFILE_PREFIX = re.compile(r"^(us|eu|apac|jp|au|ca|us-gov|global)\.")
_APPLICATION_PROFILE = re.compile(
    r"^arn:aws(-[a-z-]+)?:bedrock:[a-z0-9-]+:\d{12}:application-inference-profile/[A-Za-z0-9]+$"
)
# Application inference profile ARN -> the foundation model id it routes to. A profile's
# model is fixed when the profile is created, so one answer per ARN holds for the process.
_PROFILE_BASES: dict[str, str] = {}
_PROFILE_LOCK = threading.Lock()

# Providers whose Converse tool support includes forcing a named tool / any tool
# (Bedrock user guide, "Call a tool with the Converse API": Anthropic Claude 3+ and Amazon
# Nova support ``tool``; Mistral Large also supports ``any``).
_NAMED_TOOL_CHOICE = frozenset({"anthropic", "amazon.nova"})
_ANY_TOOL_CHOICE = frozenset({"anthropic", "amazon.nova", "mistral"})


def validate_model_id(model_id: object) -> str:
    """Return ``model_id`` if it looks like a Bedrock model id, profile id or ARN."""
    if not isinstance(model_id, str) or not model_id:
        raise ConfigurationError(f"model must be a non-empty string, got {model_id!r}")
    if not _MODEL_ID.match(model_id):
        raise ConfigurationError(
            f"model {model_id!r} is not a Bedrock model id, inference profile id or ARN"
        )
    return model_id


def check_model_region(model_id: str, region: str | None) -> None:
    """Refuse a model ARN that a client in ``region`` cannot reach (partition or region).

    Raises:
        ConfigurationError: An ``aws-cn`` ARN on a us-east-1 client, a us-west-2 provisioned
            model on a us-east-1 client, and the like. Plain ids always pass.
    """
    if isinstance(model_id, str) and model_id[:4] != "arn:":
        return  # a plain id resolves in the client's region, whichever it is
    check_arn_reachable(model_id, region, "model")


@lru_cache(maxsize=256)
def _checked(model_id: str, region: str | None) -> str:
    check_model_region(validate_model_id(model_id), region)
    return model_id


def checked_model(model_id: Any, region: Any) -> str:
    """:func:`validate_model_id` and :func:`check_model_region` in one, for every call.

    Both are pure functions of two strings, so the answer for a pair is kept (a refusal
    raises every time: it is not kept); anything but strings is checked afresh.

    Raises:
        ConfigurationError: As those two do.
    """
    if type(model_id) is str and (region is None or type(region) is str):
        return _checked(model_id, region)
    check_model_region(validate_model_id(model_id), region)
    return model_id  # type: ignore[no-any-return]


def is_application_profile(model_id: str) -> bool:
    """True for an application inference profile ARN (its id names no model)."""
    return bool(_APPLICATION_PROFILE.match(model_id or ""))


def remember_profile_base(profile_arn: str, base: str) -> None:
    """Record the foundation model behind an application inference profile ARN.

    Every lookup by model id (pricing, InvokeModel body codecs, CountTokens, capabilities)
    then reads the profile as that model.

    Raises:
        ConfigurationError: ``base`` is not a model id, or the ARN was already recorded with
            another model.
    """
    validate_model_id(base)
    with _PROFILE_LOCK:
        known = _PROFILE_BASES.setdefault(profile_arn, base)
    if known != base:
        raise ConfigurationError(
            f"application inference profile {profile_arn!r} routes to {known!r}, "
            f"not {base!r} (base_model_id)"
        )


def profile_base(profile_arn: str) -> str | None:
    """The recorded foundation model of an application inference profile, or None."""
    return _PROFILE_BASES.get(profile_arn)


def base_model_id(model_id: str) -> str:
    """Strip ARN and cross-region prefixes: ``us.anthropic.x`` -> ``anthropic.x``.

    An application inference profile whose model is known (:func:`remember_profile_base`)
    gives that model. ARNs of provisioned or custom models carry no model name; they come
    back unchanged after the resource part.
    """
    model_id = _PROFILE_BASES.get(model_id, model_id)
    if model_id.startswith("arn:"):
        model_id = model_id.rsplit("/", 1)[-1]
    return _PROFILE_PREFIX.sub("", model_id)


def provider_of(model_id: str) -> str:
    """``anthropic``, ``amazon.nova``, ``amazon``, ``meta``... or ``""`` when unknown."""
    base = base_model_id(model_id)
    if base.startswith("amazon.nova"):
        return "amazon.nova"
    head, dot, _ = base.partition(".")
    return head if dot else ""


def supports_tool_choice(model_id: str, choice: str) -> bool:
    """Whether the model accepts ``toolChoice`` ``any`` or a named tool (``tool``)."""
    provider = provider_of(model_id)
    if choice == "auto":
        return True
    table = _ANY_TOOL_CHOICE if choice == "any" else _NAMED_TOOL_CHOICE
    return provider in table or provider == ""  # unknown (ARN): let Bedrock decide


# Claude models that predate Bedrock's CountTokens (the user guide's table of supported
# models starts with Claude 3.5 Haiku); Nova, Titan, Llama, Mistral... are not supported at
# all and answer ValidationException ("The provided model doesn't support counting tokens").
_NO_COUNT_TOKENS = (
    "anthropic.claude-v",
    "anthropic.claude-instant",
    "anthropic.claude-3-haiku-",
    "anthropic.claude-3-sonnet-",
    "anthropic.claude-3-opus-",
)


def supports_count_tokens(model_id: str) -> bool:
    """Whether Bedrock's CountTokens API may count input for ``model_id``.

    True for Anthropic Claude models from Claude 3.5 on, addressed by model id or
    cross-region profile id (CountTokens takes the foundation model id, which
    :func:`base_model_id` gives). ARNs of provisioned or custom models are not supported.
    A region or account where the API still refuses is found out at run time (the caller
    falls back to the estimate).
    """
    model_id = _PROFILE_BASES.get(model_id, model_id)
    if model_id.startswith("arn:") and "foundation-model/" not in model_id:
        return False
    base = base_model_id(model_id)
    return base.startswith("anthropic.claude") and not base.startswith(_NO_COUNT_TOKENS)
