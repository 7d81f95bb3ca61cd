"""Converse request fields beyond messages and tools, checked once for both adapters.

``serviceTier``, ``performanceConfig``, ``requestMetadata``, ``promptVariables`` and
``additionalModelResponseFieldPaths`` are refused here, by name, with what Bedrock accepts
(botocore's bedrock-runtime service model), before any request is sent. InvokeModel takes
three of them as its own members (``serviceTier``, ``performanceConfigLatency`` and
``requestMetadata`` as a JSON string): :func:`invoke_fields` builds those.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bedrock_kit.errors import ConfigurationError

__all__ = [
    "LATENCIES",
    "SERVICE_TIERS",
    "check_performance_config",
    "check_prompt_request",
    "check_request_metadata",
    "check_response_field_paths",
    "check_service_tier",
    "invoke_fields",
    "is_prompt_arn",
    "prompt_variables_to_wire",
]

SERVICE_TIERS = ("priority", "default", "flex", "reserved")
"""botocore ``ServiceTierType``."""
LATENCIES = ("standard", "optimized")
"""botocore ``PerformanceConfigLatency``."""

# RequestMetadata: at most 16 pairs; keys 1-256, values 0-256 of these characters.
_METADATA_MAX = 16
_METADATA_TEXT = re.compile(r"^[a-zA-Z0-9\s:_@$#=/+,\-.]{0,256}$")
# additionalModelResponseFieldPaths: at most 10 JSON pointers of 1-256 characters.
_PATHS_MAX = 10
_PATH_MAX_CHARS = 256
# A Prompt Management prompt version ARN, as ConversationalModelId's pattern has it.
_PROMPT_ARN = re.compile(
    r"^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:prompt/[0-9a-zA-Z]{10}(?::[0-9]{1,5})?$"
)
# Fields a Prompt Management prompt defines itself; Converse refuses them next to its ARN.
_PROMPT_OWNED = ("system", "inferenceConfig", "toolConfig", "additionalModelRequestFields")


def check_service_tier(value: Any) -> str | None:
    """``service_tier``: None, or one of :data:`SERVICE_TIERS`.

    Raises:
        ConfigurationError: Any other value.
    """
    if value is None or value in SERVICE_TIERS:
        return value  # type: ignore[no-any-return]
    raise ConfigurationError(
        f"service_tier must be one of {', '.join(SERVICE_TIERS)}, got {value!r}"
    )


def check_performance_config(config: Any) -> str | None:
    """The latency of ``performance_config={"latency": "standard" | "optimized"}`` (or None).

    Raises:
        ConfigurationError: Unknown keys or latency values.
    """
    if not config:
        return None
    if not isinstance(config, Mapping):
        raise ConfigurationError(
            f"performance_config takes {{'latency': 'standard' | 'optimized'}}, got {config!r}"
        )
    unknown = sorted(set(config) - {"latency"})
    latency = config.get("latency")
    if unknown or latency not in LATENCIES:
        raise ConfigurationError(
            f"performance_config takes {{'latency': 'standard' | 'optimized'}}, got {config!r}"
        )
    return str(latency)


def check_request_metadata(metadata: Any) -> dict[str, str] | None:
    """``request_metadata``: at most 16 string pairs of Bedrock's allowed characters.

    Raises:
        ConfigurationError: Naming the offending key or value.
    """
    if not metadata:
        return None
    if not isinstance(metadata, Mapping):
        raise ConfigurationError(
            f"request_metadata must be a dict of strings, got {type(metadata).__name__}"
        )
    if len(metadata) > _METADATA_MAX:
        raise ConfigurationError(
            f"request_metadata holds {len(metadata)} pairs; Bedrock takes at most {_METADATA_MAX}"
        )
    for key, value in metadata.items():
        if not isinstance(key, str) or not key or not _METADATA_TEXT.match(key):
            raise ConfigurationError(
                f"request_metadata key {key!r} is invalid: 1-256 letters, digits, spaces "
                "and :_@$#=/+,-."
            )
        if not isinstance(value, str) or not _METADATA_TEXT.match(value):
            raise ConfigurationError(
                f"request_metadata[{key!r}] = {value!r:.60} is invalid: a string of at most "
                "256 letters, digits, spaces and :_@$#=/+,-."
            )
    return dict(metadata)


def check_response_field_paths(paths: Any) -> list[str]:
    """``additional_model_response_field_paths``: at most 10 JSON pointers (``/stop_sequence``).

    Raises:
        ConfigurationError: Not a list of 1-256 character strings, or more than 10.
    """
    if not paths:
        return []
    if isinstance(paths, str) or not isinstance(paths, Sequence):
        raise ConfigurationError(
            "additional_model_response_field_paths must be a list of JSON pointers, "
            f"got {paths!r:.80}"
        )
    if len(paths) > _PATHS_MAX:
        raise ConfigurationError(
            f"additional_model_response_field_paths holds {len(paths)} paths; Bedrock takes "
            f"at most {_PATHS_MAX}"
        )
    for path in paths:
        if not isinstance(path, str) or not path or len(path) > _PATH_MAX_CHARS:
            raise ConfigurationError(
                f"additional_model_response_field_paths: {path!r:.80} is not a JSON pointer "
                "of 1-256 characters (e.g. '/stop_sequence')"
            )
    return list(paths)


def is_prompt_arn(model_id: str) -> bool:
    """True when ``model_id`` is a Prompt Management prompt (version) ARN."""
    return bool(_PROMPT_ARN.match(model_id or ""))


def prompt_variables_to_wire(model_id: str, variables: Any) -> dict[str, dict[str, str]] | None:
    """Converse ``promptVariables`` (``{"name": {"text": "value"}}``) for a prompt ARN.

    Args:
        model_id: The request's model id; it must be a Prompt Management ARN.
        variables: ``{"name": "value"}`` (or values already ``{"text": ...}``).

    Raises:
        ConfigurationError: Variables for a model id that is not a prompt ARN, or values
            that are not text.
    """
    if not variables:
        return None
    if not is_prompt_arn(model_id):
        raise ConfigurationError(
            f"prompt_variables fill a Prompt Management prompt: the model id must be a prompt "
            f"ARN (arn:aws:bedrock:<region>:<account>:prompt/<id>[:<version>]), got {model_id!r}"
        )
    if not isinstance(variables, Mapping):
        raise ConfigurationError(
            f"prompt_variables must be a dict of name -> text, got {type(variables).__name__}"
        )
    wire: dict[str, dict[str, str]] = {}
    for name, value in variables.items():
        if isinstance(value, Mapping) and set(value) == {"text"}:
            value = value["text"]
        if not isinstance(name, str) or not name or not isinstance(value, str):
            raise ConfigurationError(
                f"prompt_variables[{name!r}] must be text, got {type(value).__name__} "
                f"(prompt {model_id!r})"
            )
        wire[name] = {"text": value}
    return wire


def check_prompt_request(request: Mapping[str, Any]) -> None:
    """Refuse, for a prompt ARN, the fields the prompt itself defines (Converse would).

    Raises:
        ConfigurationError: Naming the fields, and the prompt.
    """
    model_id = str(request.get("modelId", ""))
    if not is_prompt_arn(model_id):
        return
    clash = [key for key in _PROMPT_OWNED if request.get(key)]
    if clash:
        raise ConfigurationError(
            f"prompt {model_id!r} defines its own {', '.join(clash)}: Converse refuses them "
            "next to a Prompt Management ARN (set them in the prompt, or drop them here)"
        )


def invoke_fields(
    *,
    service_tier: str | None,
    performance_latency: str | None,
    request_metadata: Mapping[str, str] | None,
) -> dict[str, Any]:
    """The InvokeModel members for the same fields (``requestMetadata`` as a JSON string)."""
    fields: dict[str, Any] = {}
    if service_tier:
        fields["serviceTier"] = service_tier
    if performance_latency:
        fields["performanceConfigLatency"] = performance_latency
    if request_metadata:
        fields["requestMetadata"] = json.dumps(dict(request_metadata), separators=(",", ":"))
    return fields
