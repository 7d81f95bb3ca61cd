"""Converse ``guardrailConfig``: a guardrail given as a GuardrailConfig or a dict (Bedrock's
camelCase or snake_case keys), checked once, and its wire form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bedrock_kit.core.chat.types import GuardrailConfig
from bedrock_kit.errors import ConfigurationError


def build_guardrail_config(config: GuardrailConfig, *, stream: bool) -> dict[str, Any]:
    """Converse ``guardrailConfig``; stream processing mode only on ConverseStream."""
    wire: dict[str, Any] = {
        "guardrailIdentifier": config.identifier,
        "guardrailVersion": config.version,
        "trace": config.trace,
    }
    if stream and config.stream_processing_mode:
        wire["streamProcessingMode"] = config.stream_processing_mode
    return wire


_GUARDRAIL_KEYS = {
    "guardrailIdentifier": "identifier",
    "guardrail_identifier": "identifier",
    "identifier": "identifier",
    "guardrailVersion": "version",
    "guardrail_version": "version",
    "version": "version",
    "trace": "trace",
    "streamProcessingMode": "stream_processing_mode",
    "stream_processing_mode": "stream_processing_mode",
}


def parse_guardrail_config(
    value: GuardrailConfig | Mapping[str, Any] | None,
) -> GuardrailConfig | None:
    """Accept a GuardrailConfig or a dict in Bedrock (camelCase) or snake_case form.

    Raises:
        ConfigurationError: On unknown keys or a missing identifier or version.
    """
    if value is None or isinstance(value, GuardrailConfig):
        return value
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            f"guardrail_config must be a dict or GuardrailConfig, got {type(value).__name__}"
        )
    unknown = sorted(set(value) - set(_GUARDRAIL_KEYS))
    if unknown:
        raise ConfigurationError(
            f"guardrail_config has unknown keys {unknown}; known: {sorted(_GUARDRAIL_KEYS)}"
        )
    fields = {_GUARDRAIL_KEYS[k]: v for k, v in value.items()}
    for required in ("identifier", "version"):
        if not fields.get(required):
            raise ConfigurationError(f"guardrail_config needs guardrail{required.title()}")
    fields["version"] = str(fields["version"])
    if fields.get("trace") not in (None, "enabled", "disabled", "enabled_full"):
        raise ConfigurationError(
            f"guardrail_config trace must be enabled, disabled or enabled_full, "
            f"got {fields['trace']!r}"
        )
    fields.setdefault("trace", "enabled")
    if fields["trace"] is None:
        fields["trace"] = "enabled"
    return GuardrailConfig(**fields)
