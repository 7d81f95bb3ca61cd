"""The price table's data files: the packaged ``prices.json`` and the user's overrides.

:func:`~bedrock_kit.core.budget.pricing.load_prices` reads the packaged data, merges the
overrides into it and builds the :class:`~bedrock_kit.core.budget.pricing.PriceTable`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from bedrock_kit.core.budget.model_ids import normalise_model_id
from bedrock_kit.errors import ConfigurationError

__all__ = ["RATE_KEYS", "merge_overrides", "packaged_data", "read_overrides"]

RATE_KEYS = ("input", "output", "cache_read", "cache_write", "cache_write_1h")
"""The per-1,000-token rate fields of a model entry."""


def merge_overrides(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` merged into the table data ``base``, field by field per model."""
    models = {k: dict(v) for k, v in (base.get("models") or {}).items()}
    for model_id, entry in (overrides.get("models") or {}).items():
        key = normalise_model_id(model_id)[0]
        given = {**entry}
        if any(k in given for k in RATE_KEYS):
            # The user's figures replace the packaged ones: drop their unverified flags.
            given.setdefault("unverified_rates", [])
        models[key] = {**models.get(key, {}), "evidence": "user", **given}
    guardrails = dict(base.get("guardrails") or {})
    if "guardrails" in overrides:
        policies = {**(guardrails.get("policies") or {})}
        for name, spec in ((overrides["guardrails"] or {}).get("policies") or {}).items():
            policies[name] = {"evidence": "user", **spec}
        guardrails = {**guardrails, **overrides["guardrails"], "policies": policies}
    merged = {**base, **{k: v for k, v in overrides.items() if k not in ("models", "guardrails")}}
    return {**merged, "models": models, "guardrails": guardrails}


def read_overrides(overrides: str | Path | Mapping[str, Any]) -> Mapping[str, Any]:
    """Price overrides from a JSON file or a mapping, checked for their outer shape.

    Raises:
        ConfigurationError: The file cannot be read, or the data is not ``{"models": {...}}``.
    """
    if isinstance(overrides, Mapping):
        data: Any = overrides
    else:
        try:
            data = json.loads(Path(overrides).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read price overrides {overrides!s}: {exc}") from exc
    if not isinstance(data, Mapping) or not isinstance(data.get("models", {}), Mapping):
        raise ConfigurationError("price overrides must be a mapping with a 'models' mapping")
    return data


@cache
def packaged_data() -> dict[str, Any]:
    """The packaged ``prices.json``, parsed once."""
    text = resources.files("bedrock_kit.core.budget").joinpath("prices.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
