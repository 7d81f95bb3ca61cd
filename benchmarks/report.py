"""Turn a results dict into ``<timestamp>.json``, ``latest.md`` and ``latest.png``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from benchmarks import shares as floor_shares
from benchmarks.stats import ratio
from benchmarks.targets import (
    FLOOR,
    KIT_LC,
    LC_FLOOR,
    LC_FLOOR_LEAN,
    own_share,
    paired_value,
)


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _interval(found: list[float] | None) -> str:
    return "-" if not found else f"[{found[0]:.3f}, {found[1]:.3f}]"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


# --------------------------------------------------------------------- markdown


def _meta_lines(results: dict[str, Any]) -> list[str]:
    meta = results["meta"]
    packages = ", ".join(f"{k} {v}" for k, v in meta["packages"].items() if v)
    return [
        f"# bedrock-kit benchmarks ({meta['mode']} run, {meta['timestamp']})",
        "",
        f"Python {meta['python']} on {meta['platform']}, {meta['cpu_count']} CPUs; "
        f"load average {meta.get('load_average_at_start')} at start, "
        f"{meta.get('load_average_at_end')} at end; run took {meta.get('seconds')} s.",
        "",
        f"Packages: {packages}.",
        "",
        *[f"- {note}" for note in meta["notes"]],
        "",
    ]


def _concurrency_lines(section: dict[str, Any]) -> list[str]:
    results = section["results"]
    ns = [str(n) for n in section["concurrency"]]
    floor = results.get(FLOOR, {})
    rows = []
    for name, per in results.items():
        row: list[Any] = [name]
        for n in ns:
            item = per[n]
            share, _ = paired_value(
                item,
                "ratio_vs_floor_paired",
                ratio(item["rps_median"], floor.get(n, {}).get("rps_median", math.nan)),
            )
            row.append(
                f"{item['rps_median']:.1f} ({share:.2f}x) · "
                f"{item['p50_ms']:.0f}/{item['p99_ms']:.0f}"
            )
        rows.append(row)
    lines = [
        f"## 1. Async concurrency ({section['server']['latency_s'] * 1000:.0f} ms server latency)",
        "",
        f"Method: {section.get('method', 'waves of N calls started together')}.",
        "",
        "req/s median (median of the per-repetition ratios to raw aiobotocore) · p50/p99",
        "latency in ms.",
        "",
    ]
    return lines + _table(["contender", *[f"N={n}" for n in ns]], rows)


def _overhead_lines(section: dict[str, Any]) -> list[str]:
    rows = [
        [
            name,
            r["wall_ms_per_call"],
            paired_value(r, "wall_ratio_vs_floor_paired", r["wall_ratio_vs_floor"])[0],
            r["cpu_ms_per_call"],
            paired_value(r, "cpu_ratio_vs_floor_paired", r["cpu_ratio_vs_floor"])[0],
            r["cpu_ms_beyond_floor"],
            r.get("python_calls_per_call"),
        ]
        for name, r in section["results"].items()
    ]
    return [
        "## 2. Sync overhead (sequential invoke, zero server latency, "
        f"{section['calls_per_rep']} calls per rep)",
        "",
        *_table(
            [
                "contender",
                "wall ms/call",
                "wall x raw",
                "CPU ms/call",
                "CPU x raw",
                "CPU ms beyond raw",
                "Python calls/call",
            ],
            rows,
        ),
        *floor_shares.lines("Adapters beyond their floor", floor_shares.overhead_shares(section)),
    ]


def _streaming_lines(section: dict[str, Any]) -> list[str]:
    server = section["server"]
    rows = []
    for name, modes in section["results"].items():
        for mode, r in modes.items():
            rows.append(
                [
                    name,
                    mode,
                    r["ttft_ms"],
                    paired_value(r, "ttft_ms_beyond_floor_paired", r["ttft_ms_beyond_floor"])[0],
                    paired_value(
                        r, "ttft_cpu_ms_beyond_floor_paired", r["ttft_cpu_ms_beyond_floor"]
                    )[0],
                    r["total_ms"],
                    r["cpu_us_per_chunk"],
                    paired_value(
                        r, "cpu_per_chunk_ratio_paired", r["cpu_per_chunk_ratio_vs_floor"]
                    )[0],
                ]
            )
    return [
        f"## 3. Streaming ({server['answer_tokens']} tokens in {server['text_deltas_sent']} "
        f"deltas of {server['chunk_tokens']} tokens)",
        "",
        *_table(
            [
                "contender",
                "mode",
                "TTFT ms",
                "TTFT beyond raw ms",
                "TTFT CPU beyond raw ms",
                "total ms",
                "CPU µs/chunk",
                "CPU x raw",
            ],
            rows,
        ),
        *_stream_calls_lines(section),
    ]


def _stream_calls_lines(section: dict[str, Any]) -> list[str]:
    calls = section.get("python_calls_per_chunk")
    if not calls:
        return []
    return [
        "Python function calls per streamed chunk (sync stream; counted, so host load cannot",
        "skew it):",
        "",
        *_table(["contender", "calls/chunk"], [[name, value] for name, value in calls.items()]),
    ]


def _cold_start_lines(section: dict[str, Any]) -> list[str]:
    imports = [
        [
            module,
            info.get("role"),
            "namespace package, no adapter yet"
            if info.get("namespace_package")
            else info.get("import_ms", info.get("error")),
            info.get("modules_loaded"),
            ", ".join(info.get("frameworks_loaded", [])) or "none",
            info.get("isolation_ok"),
        ]
        for module, info in section["imports"].items()
    ]
    construction = [
        [name, r["construct_ms"], r["construct_and_first_invoke_ms"]]
        for name, r in section["construction"].items()
    ]
    clients = [
        [
            name,
            r["calls"]["invoke"],
            r["calls"]["ainvoke"],
            r["at_construction"].get("sync_clients", 0),
            r["after_calls"].get("sync_clients", 0),
            r["after_calls"].get("async_clients", 0),
            r["after_calls"].get("sessions", 0),
            r["own_count"],
        ]
        for name, r in section["clients"].items()
    ]
    return [
        "## 4. Cold start",
        "",
        *_table(
            [
                "module",
                "role",
                "import ms (fresh interpreter)",
                "modules loaded",
                "frameworks loaded",
                "isolation ok",
            ],
            imports,
        ),
        *_table(["contender", "construct ms", "construct + first invoke ms"], construction),
        "Clients and sessions built (counted by wrapping botocore/aiobotocore):",
        "",
        *_table(
            [
                "contender",
                "invokes",
                "ainvokes",
                "sync clients at construction",
                "sync clients total",
                "async clients total",
                "sessions total",
                "own count",
            ],
            clients,
        ),
    ]


def _memory_lines(section: dict[str, Any]) -> list[str]:
    streams = [
        [
            name,
            r["streams"],
            r["chunks_per_stream"],
            r["tracemalloc_peak_kib"],
            r["max_rss_growth_kib"],
            r["seconds"],
        ]
        for name, r in section["streams"].items()
    ]
    flat = [
        [
            name,
            r["calls"],
            r["rss_growth_kib"],
            r["rss_growth_second_half_kib"],
            r["object_growth"],
            r["clients_built"],
        ]
        for name, r in section["flat"].items()
    ]
    return [
        "## 5. Memory",
        "",
        *_table(
            [
                "contender",
                "concurrent astreams",
                "chunks each",
                "tracemalloc peak KiB",
                "max RSS growth KiB",
                "seconds",
            ],
            streams,
        ),
        *_table(
            [
                "contender",
                "sequential invokes",
                "RSS growth KiB",
                "RSS growth 2nd half KiB",
                "gc object growth",
                "clients built",
            ],
            flat,
        ),
    ]


def _adapter_lines(results: dict[str, Any]) -> list[str]:
    """ChatBedrockKit against the langchain-core floors: the share bedrock-kit itself adds."""
    kit = KIT_LC
    scenarios = results["scenarios"]
    rows: list[list[Any]] = []
    conc = scenarios.get("concurrency", {}).get("results", {})
    if kit in conc and LC_FLOOR in conc:
        for n in conc[kit]:
            value = ratio(conc[kit][n]["rps_median"], conc[LC_FLOOR][n]["rps_median"])
            rows.append([f"async req/s at N={n}, ratio", value])
    sync = scenarios.get("sync_overhead", {}).get("results", {})
    if kit in sync and LC_FLOOR in sync:
        extra = sync[kit]["cpu_ms_per_call"] - sync[LC_FLOOR]["cpu_ms_per_call"]
        rows.append(["sync CPU ms per call, difference", extra])
    stream = scenarios.get("streaming", {}).get("results", {})
    if kit in stream and LC_FLOOR in stream:
        for mode in ("stream", "astream"):
            extra = (
                stream[kit][mode]["cpu_us_per_chunk"] - stream[LC_FLOOR][mode]["cpu_us_per_chunk"]
            )
            rows.append([f"{mode} CPU µs per chunk, difference", extra])
    if kit in sync and LC_FLOOR_LEAN in sync:
        extra = sync[kit]["cpu_ms_per_call"] - sync[LC_FLOOR_LEAN]["cpu_ms_per_call"]
        rows.append(["sync CPU ms per call, difference to the lean floor", extra])
    if kit in conc and LC_FLOOR_LEAN in conc:
        for n in conc[kit]:
            value = ratio(conc[kit][n]["rps_median"], conc[LC_FLOOR_LEAN][n]["rps_median"])
            rows.append([f"async req/s at N={n}, ratio to the lean floor", value])
    for measure, share in own_share(results).items():
        rows.append([f"bedrock-kit's own share, {measure}", share])
    if not rows:
        return []
    return [
        "## ChatBedrockKit against the langchain-core floors",
        "",
        "What bedrock-kit's LangChain adapter costs beyond what langchain-core costs any chat",
        "model: raw clients in a minimal BaseChatModel, and the bare lean transport in the same",
        "minimal BaseChatModel (the difference to the latter is bedrock-kit's own share).",
        "",
        *_table(["measure", "ChatBedrockKit vs floor"], rows),
    ]


def _shared_budget_lines(section: dict[str, Any]) -> list[str]:
    if section.get("skipped"):
        return ["## 6. Shared budget and rate limiter (Redis)", ""]
    rows = [
        [name, r["calls"], r["calls_per_second"], r["reserve_ms_p50"], r["reserve_ms_p99"],
         r["settle_ms_p50"], r["settle_ms_p99"]]
        for name, r in section["ledger_throughput"].items()
    ]  # fmt: skip
    calls = [
        [name, r["ms_per_call"], r["ms_beyond_no_ledger"]]
        for name, r in section["per_chat_call"].items()
    ]
    limiter = section["rate_limiter"]
    return [
        "## 6. Shared budget and rate limiter (Redis)",
        "",
        "Reserve then settle, as fast as possible, every process on one budget.",
        "",
        *_table(
            [
                "store",
                "calls",
                "calls/s",
                "reserve p50 ms",
                "reserve p99 ms",
                "settle p50 ms",
                "settle p99 ms",
            ],
            rows,
        ),
        "",
        "Sequential ChatBedrockKit.invoke against LocalBedrock (no latency):",
        "",
        *_table(["ledger", "ms per call", "ms beyond no ledger"], calls),
        "",
        f"Redis rate limiter, acquire + settle: p50 {limiter['acquire_settle_ms_p50']} ms, "
        f"p99 {limiter['acquire_settle_ms_p99']} ms ({limiter['ops']} calls).",
        "",
    ]


def _layers_lines(section: dict[str, Any]) -> list[str]:
    results = section["results"]
    layers = sorted(
        {layer for r in results.values() for mode in r.values() for layer in mode["layers"]}
    )
    lines = [
        "## 7. Where the time goes (cProfile, Python function calls per call by layer)",
        "",
        f"{section['calls_profiled']} calls profiled per contender and mode; each cell is "
        "function calls per call, then the layer's share of the profiled own time.",
        "",
    ]
    for mode in ("invoke", "ainvoke"):
        rows = []
        for name, r in results.items():
            per = r[mode]
            cells = []
            for layer in layers:
                item = per["layers"].get(layer)
                cells.append(f"{item['calls']} · {item['time_share']:.0%}" if item else "-")
            rows.append([name, per["calls_per_call"], *cells])
        lines += [f"`{mode}`:", "", *_table(["contender", "total", *layers], rows)]
    return lines + floor_shares.lines(
        "Adapters beyond their floor", floor_shares.layers_shares(section)
    )


def markdown(results: dict[str, Any]) -> str:
    """The Markdown report: one table per scenario, then the targets."""
    lines = _meta_lines(results)
    contenders: dict[str, Any] = {}
    sections = {
        "concurrency": _concurrency_lines,
        "sync_overhead": _overhead_lines,
        "streaming": _streaming_lines,
        "cold_start": _cold_start_lines,
        "memory": _memory_lines,
        "shared_budget": _shared_budget_lines,
        "layers": _layers_lines,
        "own_share": floor_shares.own_share_lines,
    }
    for name, render in sections.items():
        section = results["scenarios"].get(name)
        if section is not None:
            lines += render(section)
            contenders.update(section.get("contender_settings", {}))
            if section.get("skipped"):
                lines += [f"Skipped: {section['skipped']}", ""]
    lines += _adapter_lines(results)
    if contenders:
        lines += ["## Contender settings", ""]
        lines += _table(
            ["contender", "settings"], [[k, json.dumps(v)] for k, v in contenders.items()]
        )
    lines += ["## Targets (issues 9 and 18)", ""]
    lines += [
        "Ratios and amounts beyond raw are medians of per-repetition ratios or differences",
        "(each repetition runs every contender back to back) where the run recorded them, with",
        "a bootstrap 95% interval of that median; a target is met on its median. A target",
        "that more than one scenario can give names the one it came from: the sync CPU share",
        "comes from `own_share` (adapter and floor paired block by block) when the run has it,",
        "else from `sync_overhead`.",
        "",
    ]
    rows = [
        [
            t["target"] + (f" (from `{t['source']}`)" if t.get("source") else ""),
            t["value"],
            _interval(t.get("interval")),
            t["limit"],
            {True: "met", False: "missed", None: "-"}[t["met"]],
        ]
        for t in results.get("targets", [])
    ]
    lines += _table(["target", "value", "95% interval", "limit", "status"], rows)
    return "\n".join(lines)


# --------------------------------------------------------------------- chart


def chart(results: dict[str, Any], path: Path) -> None:
    """A 2x2 PNG: throughput vs N, sync cost, streaming CPU per chunk, stream memory."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = results["scenarios"]
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    conc = scenarios.get("concurrency")
    ax = axes[0][0]
    if conc:
        for name, per in conc["results"].items():
            ns = sorted(int(n) for n in per)
            ax.plot(ns, [per[str(n)]["rps_median"] for n in ns], marker="o", label=name)
        ax.set_xscale("log", base=2)
        ax.legend(fontsize=7)
    ax.set(title="1. async throughput (req/s, higher is better)", xlabel="concurrent calls N")
    sync = scenarios.get("sync_overhead")
    if sync:
        _bars(
            axes[0][1],
            sync["results"],
            ["wall_ms_per_call", "cpu_ms_per_call"],
            "2. sync invoke cost (ms/call)",
        )
    stream = scenarios.get("streaming")
    if stream:
        flat = {
            name: {m: r[m]["cpu_us_per_chunk"] for m in r} for name, r in stream["results"].items()
        }
        _bars(axes[1][0], flat, ["stream", "astream"], "3. streaming client CPU (µs/chunk)")
    memory = scenarios.get("memory")
    if memory and memory["streams"]:
        _bars(
            axes[1][1],
            memory["streams"],
            ["tracemalloc_peak_kib"],
            "5. peak Python heap, concurrent astreams (KiB)",
        )
    fig.suptitle(
        f"bedrock-kit benchmarks, {results['meta']['mode']} run {results['meta']['timestamp']}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _bars(ax: Any, data: dict[str, dict[str, Any]], keys: list[str], title: str) -> None:
    names = list(data)
    width = 0.8 / len(keys)
    for offset, key in enumerate(keys):
        xs = [i + offset * width for i in range(len(names))]
        ax.bar(xs, [data[n].get(key) or 0 for n in names], width, label=key)
    ax.set_xticks([i + width * (len(keys) - 1) / 2 for i in range(len(names))])
    ax.set_xticklabels([n.split(" (")[0] for n in names], fontsize=7, rotation=25, ha="right")
    ax.set_title(title)
    if len(keys) > 1:
        ax.legend(fontsize=7)


def write(results: dict[str, Any], out: Path) -> list[Path]:
    """Write the three files into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    stamp = results["meta"]["timestamp"].replace(":", "").replace("-", "")
    json_path = out / f"{stamp}.json"
    json_path.write_text(json.dumps(results, indent=1, allow_nan=True) + "\n")
    md_path = out / "latest.md"
    md_path.write_text(markdown(results) + "\n")
    png_path = out / "latest.png"
    try:
        chart(results, png_path)
    except ImportError:  # matplotlib is a benchmarks/requirements.txt extra
        return [json_path, md_path]
    return [json_path, md_path, png_path]
