"""Every benchmark contender makes the four calls correctly against LocalBedrock.

A contender whose calls silently returned nothing would make its timings meaningless, so
each one must return the server's exact answer through invoke, ainvoke, stream and astream.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bedrock_kit.testing import LocalBedrock
from benchmarks.contenders import CONTENDERS, POOL_SIZE, Driver

ANSWER_TOKENS = 12


@pytest.fixture(scope="module")
def server() -> Iterator[LocalBedrock]:
    with LocalBedrock(answer_tokens=ANSWER_TOKENS, chunk_tokens=2) as running:
        yield running


def _driver(key: str, endpoint: str) -> Driver:
    try:
        return CONTENDERS[key](endpoint)
    except ImportError as exc:
        pytest.skip(f"{key} not installed: {exc}")


@pytest.mark.parametrize("key", list(CONTENDERS))
async def test_contender_calls_return_the_server_answer(key: str, server: LocalBedrock) -> None:
    driver = _driver(key, server.endpoint_url)
    expected = ("echo: same prompt " * 10)[: 4 * ANSWER_TOKENS]

    assert driver.invoke("same prompt") == expected
    assert await driver.ainvoke("same prompt") == expected
    chunks = list(driver.stream("same prompt"))
    assert "".join(chunks) == expected
    assert len(chunks) == ANSWER_TOKENS // 2  # one chunk per server delta, none dropped
    assert "".join([c async for c in driver.astream("same prompt")]) == expected
    if driver.aclose is not None:
        await driver.aclose()


def test_every_contender_records_its_pool_size(server: LocalBedrock) -> None:
    for key in CONTENDERS:
        try:
            driver = CONTENDERS[key](server.endpoint_url)
        except ImportError:
            continue
        assert driver.settings["max_pool_connections"] == POOL_SIZE == 256, driver.name
