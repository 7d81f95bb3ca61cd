"""Budget scenarios: flat test prices, the limit that fits 20 calls, racing threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from bedrock_kit.core.budget.pricing import load_prices
from bedrock_kit.errors import BudgetExceededError
from bedrock_kit.testing import LocalBedrock

FLAT_PRICES = load_prices(
    {"models": {"acme.flat-v1": {"input": "0.001", "output": "0.002", "cache_write": "0.001"}}}
)
"""Per 1,000 tokens: a call of 1,000 input and 1,000 output tokens costs 0.003."""
LIMIT = Decimal("0.0601")
"""20 calls of 0.003 fit, 21 do not."""
NOVA = "us.amazon.nova-micro-v1:0"


def chat_requests(server: LocalBedrock) -> int:
    """Converse and ConverseStream requests the server received."""
    return sum(r.operation in ("Converse", "ConverseStream") for r in server.requests)


def race_threads(call: Callable[[], object], n: int = 64) -> list[str]:
    """Run ``call`` in ``n`` threads released at once by a barrier.

    Returns:
        Per thread, ``"ok"`` or ``"refused"`` (it raised :class:`BudgetExceededError`).
    """
    barrier = threading.Barrier(n)

    def run(_: int) -> str:
        barrier.wait()
        try:
            call()
        except BudgetExceededError:
            return "refused"
        return "ok"

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))
