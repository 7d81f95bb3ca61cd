"""Scenario 4: import time (fresh interpreters), chat-model construction, clients per call.

Clients and sessions are counted by wrapping botocore's and aiobotocore's
``Session.create_client`` and ``Session.__init__``, so every contender is counted the same
way whether or not it keeps a count of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from benchmarks._server import ServerConfig, ServerProcess
from benchmarks.children import run_child
from benchmarks.contenders import CONTENDERS
from benchmarks.params import Params
from benchmarks.stats import median, ms, rotations

IMPORTS = (
    ("boto3", "floor"),
    ("bedrock_kit", "bedrock-kit core"),
    ("bedrock_kit.langchain", "bedrock-kit LangChain adapter"),
    ("bedrock_kit.llama_index", "bedrock-kit LlamaIndex adapter"),
    ("langchain_aws", "peer"),
    ("llama_index.llms.bedrock_converse", "peer"),
)
"""Modules whose cold import is timed; expected other-framework leaks are checked."""

_MUST_NOT_LOAD = {
    "bedrock_kit": {"langchain", "llama_index"},
    "bedrock_kit.langchain": {"llama_index"},
    "bedrock_kit.llama_index": {"langchain"},
}


def _imports(params: Params) -> dict[str, Any]:
    modules = [(m, role) for m, role in IMPORTS if m in (params.import_modules or [m])]
    samples: dict[str, list[dict[str, Any]]] = {module: [] for module, _ in modules}
    for _, order in rotations([m for m, _ in modules], params.import_reps):
        for module in order:
            samples[module].append(run_child("import", module))
    results: dict[str, Any] = {}
    for module, role in modules:
        good = [s for s in samples[module] if "error" not in s]
        if not good:
            results[module] = {"role": role, "error": samples[module][0]["error"]}
            continue
        loaded = set(good[0]["frameworks_loaded"])
        results[module] = {
            "role": role,
            "import_ms": ms(median([s["seconds"] for s in good])),
            "modules_loaded": good[0]["modules_loaded"],
            "namespace_package": good[0]["namespace_package"],
            "frameworks_loaded": sorted(loaded),
            "aiobotocore_loaded": good[0]["aiobotocore_loaded"],
            "isolation_ok": not (loaded & _MUST_NOT_LOAD.get(module, set())),
        }
    return results


@contextlib.contextmanager
def _counting() -> Iterator[Counter[str]]:
    """Count sessions and clients built through botocore and aiobotocore."""
    import botocore.session
    from aiobotocore.session import AioSession

    counts: Counter[str] = Counter()
    patched = [
        (botocore.session.Session, "__init__", "sessions"),
        (botocore.session.Session, "create_client", "sync_clients"),
        (AioSession, "create_client", "async_clients"),
    ]
    originals = [(cls, name, cls.__dict__[name]) for cls, name, _ in patched]

    def wrap(original: Any, key: str) -> Any:
        def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            counts[key] += 1
            return original(self, *args, **kwargs)

        return counted

    for (cls, name, key), (_, _, original) in zip(patched, originals, strict=True):
        setattr(cls, name, wrap(original, key))
    from bedrock_kit.core.transport import lean

    build = lean.build_lean_client

    def counted_lean(*args: Any, **kwargs: Any) -> Any:
        client = build(*args, **kwargs)
        counts["sync_clients"] -= 1  # its botocore client only configures it
        counts["async_clients" if kwargs.get("asynchronous") else "sync_clients"] += 1
        return client

    lean.build_lean_client = counted_lean  # type: ignore[assignment]
    try:
        yield counts
    finally:
        lean.build_lean_client = build  # type: ignore[assignment]
        for cls, name, original in originals:
            setattr(cls, name, original)


def _clients(key: str, endpoint: str, calls: int) -> dict[str, Any]:
    with _counting() as counts:
        driver = CONTENDERS[key](endpoint)
        at_construction = dict(counts)
        for _ in range(calls):
            driver.invoke("count")

        async def many() -> None:
            for _ in range(calls):
                await driver.ainvoke("count")
            if driver.aclose is not None:
                await driver.aclose()

        asyncio.run(many())
    return {
        "contender": driver.name,
        "calls": {"invoke": calls, "ainvoke": calls},
        "at_construction": at_construction,
        "after_calls": dict(counts),
        "own_count": driver.clients_built() if driver.clients_built else None,
    }


def _construction(endpoint: str, params: Params) -> tuple[dict[str, Any], dict[str, str]]:
    keys, skipped = [], {}
    for key, make in CONTENDERS.items():
        try:
            make(endpoint)  # imports happen here, outside the timing
            keys.append(key)
        except ImportError as exc:
            skipped[key] = f"not installed: {exc}"
    construct: dict[str, list[float]] = {k: [] for k in keys}
    first_call: dict[str, list[float]] = {k: [] for k in keys}
    for _, order in rotations(keys, params.construct_reps):
        for key in order:
            start = time.perf_counter()
            driver = CONTENDERS[key](endpoint)
            built = time.perf_counter()
            driver.invoke("first")
            construct[key].append(built - start)
            first_call[key].append(time.perf_counter() - start)
    results = {
        key: {
            "construct_ms": ms(median(construct[key])),
            "construct_and_first_invoke_ms": ms(median(first_call[key])),
        }
        for key in keys
    }
    return results, skipped


def run(params: Params, only: list[str] | None = None) -> dict[str, Any]:
    """Import times, construction times and client counts."""
    imports = _imports(params)
    with ServerProcess(ServerConfig()) as server:
        construction, skipped = _construction(server.endpoint_url, params)
        keys = [k for k in construction if not only or k in only]
        clients = {key: _clients(key, server.endpoint_url, params.count_calls) for key in keys}
    names = {key: clients[key]["contender"] for key in keys}
    return {
        "imports": imports,
        "construction": {names[k]: construction[k] for k in keys},
        "clients": {names[k]: clients[k] for k in keys},
        "skipped": skipped,
    }
