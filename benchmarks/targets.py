"""The issues' targets (9 and 18), evaluated on one run's results."""

from __future__ import annotations

import math
from typing import Any

from benchmarks import shares as floor_shares
from benchmarks.stats import median, paired, ratio

KIT_PEERS = {
    "bedrock-kit ChatBedrockKit": "langchain-aws ChatBedrockConverse",
    "bedrock-kit BedrockKitLLM": "llama-index BedrockConverse",
}
"""Each bedrock-kit adapter and the peer a user would switch from."""
FLOOR = "raw boto3/aiobotocore"
LC_FLOOR = "langchain-core floor (raw clients in a minimal BaseChatModel)"
LEAN = "bedrock-kit lean transport (bare)"
LC_FLOOR_LEAN = "langchain-core floor over the lean transport (minimal BaseChatModel)"
KIT_LC = "bedrock-kit ChatBedrockKit"
KIT_LI = "bedrock-kit BedrockKitLLM"


def _target(
    name: str,
    value: float,
    limit: float,
    at_least: bool,
    interval: list[float] | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    met = (value >= limit) if at_least else (value <= limit)
    found = {
        "target": name,
        "value": round(value, 3) if not math.isnan(value) else None,
        "interval": None if interval is None else [round(x, 3) for x in interval],
        "limit": ("≥ " if at_least else "≤ ") + f"{limit:g}",
        "met": bool(met) if not math.isnan(value) else None,
    }
    if source is not None:  # where a target can come from more than one scenario
        found["source"] = source
    return found


def paired_value(
    item: dict[str, Any], key: str, fallback: float
) -> tuple[float, list[float] | None]:
    """The median of the per-repetition ratios (or differences) under ``key`` and its
    interval, when the run recorded them; else ``fallback`` (the ratio or difference of two
    medians) without an interval."""
    found = item.get(key)
    if not found or not found.get("pairs"):
        return fallback, None
    return float(found["median"]), list(found["interval"])


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, evaluated on this run's ratios."""
    scenarios = results["scenarios"]
    found: list[dict[str, Any]] = []
    conc = scenarios.get("concurrency", {}).get("results", {})
    if conc:
        top = str(max(int(n) for n in next(iter(conc.values()))))
        floor_rps = conc.get(FLOOR, {}).get(top, {}).get("rps_median", math.nan)
        for kit, peer in KIT_PEERS.items():
            if kit not in conc:
                continue
            rps = conc[kit][top]["rps_median"]
            peer_rps = conc.get(peer, {}).get(top, {}).get("rps_median", math.nan)
            found.append(
                _target(f"{kit} async req/s at N={top} / {peer}", ratio(rps, peer_rps), 5, True)
            )
            value, spread = paired_value(
                conc[kit][top], "ratio_vs_floor_paired", ratio(rps, floor_rps)
            )
            found.append(
                _target(f"{kit} async req/s at N={top} / raw aiobotocore", value, 0.9, True, spread)
            )
    if conc:
        at = "128" if "128" in next(iter(conc.values())) else top
        floor_at = conc.get(FLOOR, {}).get(at, {}).get("rps_median", math.nan)
        for name, limit in ((LEAN, 1.4), (KIT_LC, 1.0), (KIT_LI, 1.0)):
            if name in conc:
                item = conc[name][at]
                value, spread = paired_value(
                    item, "ratio_vs_floor_paired", ratio(item["rps_median"], floor_at)
                )
                found.append(
                    _target(
                        f"{name} async req/s at N={at} / raw aiobotocore",
                        value,
                        limit,
                        True,
                        spread,
                    )
                )
    sync = scenarios.get("sync_overhead", {}).get("results", {})
    for name in (LEAN, KIT_LC):
        if name in sync:
            for measure in ("wall", "cpu"):
                value, spread = paired_value(
                    sync[name],
                    f"{measure}_ratio_vs_floor_paired",
                    sync[name][f"{measure}_ratio_vs_floor"],
                )
                found.append(
                    _target(
                        f"{name} sync {measure} per call / raw boto3", value, 1.0, False, spread
                    )
                )
    found += _share_targets(scenarios)
    for kit, peer in KIT_PEERS.items():
        if kit not in sync:
            continue
        value, spread = paired_value(
            sync[kit], "wall_ratio_vs_floor_paired", sync[kit]["wall_ratio_vs_floor"]
        )
        found.append(_target(f"{kit} sync wall per call / raw boto3", value, 1.1, False, spread))
        if peer in sync:
            found.append(
                _target(
                    f"{kit} sync wall per call / {peer}",
                    ratio(sync[kit]["wall_ms_per_call"], sync[peer]["wall_ms_per_call"]),
                    1.0,
                    False,
                )
            )
    stream = scenarios.get("streaming", {}).get("results", {})
    for kit in [*KIT_PEERS, "bedrock-kit core ConverseRuntime"]:
        for mode in ("stream", "astream"):
            if kit in stream:
                item = stream[kit][mode]
                value, spread = paired_value(
                    item, "cpu_per_chunk_ratio_paired", item["cpu_per_chunk_ratio_vs_floor"]
                )
                found.append(
                    _target(
                        f"{kit} {mode} CPU per chunk / raw botocore event-stream iteration",
                        value,
                        1.0 if kit == KIT_LC else 1.3,
                        False,
                        spread,
                    )
                )
                for measure, key in (("wall", "ttft_ms"), ("CPU", "ttft_cpu_ms")):
                    value, spread = paired_value(
                        item, f"{key}_beyond_floor_paired", item[f"{key}_beyond_floor"]
                    )
                    found.append(
                        _target(
                            f"{kit} {mode} time to first token beyond raw, {measure} (ms)",
                            value,
                            1.0,
                            False,
                            spread,
                        )
                    )
    imports = scenarios.get("cold_start", {}).get("imports", {})
    if isinstance(imports.get("bedrock_kit", {}).get("import_ms"), float | int):
        found.append(
            _target("import bedrock_kit (ms)", imports["bedrock_kit"]["import_ms"], 200, False)
        )
    for module, info in imports.items():
        if module.startswith("bedrock_kit") and "isolation_ok" in info:
            found.append(
                _target(
                    f"import {module} loads no other framework",
                    float(info["isolation_ok"]),
                    1,
                    True,
                )
            )
    return found


def own_share(results: dict[str, Any]) -> dict[str, float]:
    """bedrock-kit's own share of ChatBedrockKit's cost, against the lean langchain floor:
    the throughput ChatBedrockKit loses against the floor at N=128 (or the largest N).

    (The sync CPU share of every adapter is among :func:`benchmarks.shares.share_targets`.)
    """
    scenarios = results["scenarios"]
    shares: dict[str, float] = {}
    conc = scenarios.get("concurrency", {}).get("results", {})
    if KIT_LC in conc and LC_FLOOR_LEAN in conc:
        ns = list(conc[KIT_LC])
        at = "128" if "128" in ns else ns[-1]
        kit, floor = conc[KIT_LC][at], conc[LC_FLOOR_LEAN][at]
        per_rep = paired(kit.get("rps_reps", []), floor.get("rps_reps", []))
        shares[f"async req/s at N={at}"] = (
            1 - median(per_rep)
            if per_rep
            else ratio(floor["rps_median"] - kit["rps_median"], floor["rps_median"])
        )
    return shares


def _share_targets(scenarios: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        _target(f"bedrock-kit's own share of ChatBedrockKit, {measure}", value, 0.1, False)
        for measure, value in own_share({"scenarios": scenarios}).items()
    ] + [
        _target(name, value, floor_shares.TARGET, False, spread, source)
        for name, value, spread, source in floor_shares.share_targets(scenarios)
    ]
