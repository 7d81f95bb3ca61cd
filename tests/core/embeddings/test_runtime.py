"""Embeddings core: pure bodies/parsing/batching, and the runtime against LocalBedrock."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bedrock_kit.core.embeddings.runtime import (
    SUPPORTED_MODELS,
    EmbeddingBatch,
    EmbeddingOptions,
    EmbeddingsRuntime,
    batched,
    build_embed_requests,
    check_texts,
    combine_batches,
    embedding_model_spec,
    parse_embedding_response,
)
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import (
    BedrockValidationError,
    ConfigurationError,
    MalformedResponseError,
    ThrottlingError,
)
from bedrock_kit.testing import LocalBedrock, Reply

TITAN = "amazon.titan-embed-text-v2:0"
COHERE = "cohere.embed-english-v3"
COHERE_V4 = "cohere.embed-v4:0"
TOKEN_HEADER = "X-Amzn-Bedrock-Input-Token-Count"


def titan_reply(vector: list[float], tokens: int) -> Reply:
    return Reply.json({"embedding": vector, "inputTextTokenCount": tokens})


def cohere_reply(texts: list[str], tokens: int | None = None) -> Reply:
    body = {
        "embeddings": [[float(i), 0.5] for i in range(len(texts))],
        "id": "e-1",
        "response_type": "embeddings_floats",
        "texts": texts,
    }
    headers = {TOKEN_HEADER: str(tokens)} if tokens is not None else {}
    return Reply.json(body, headers=headers)


def bodies(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [json.loads(r["body"]) for r in requests]


# -- pure: model table and options


def test_model_lookup_accepts_profiles_and_names_supported_models_otherwise() -> None:
    assert embedding_model_spec(TITAN).family == "titan"
    assert embedding_model_spec("us.cohere.embed-v4:0").max_batch == 96
    assert embedding_model_spec("cohere.embed-multilingual-v3:0").family == "cohere"
    with pytest.raises(ConfigurationError) as info:
        embedding_model_spec("amazon.titan-embed-g1-text-02")
    for model in SUPPORTED_MODELS:
        assert model in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"model_id": TITAN, "dimensions": 300}, "dimensions"),
        ({"model_id": COHERE, "dimensions": 256}, "dimensions"),
        ({"model_id": COHERE, "normalize": True}, "normalize"),
        ({"model_id": TITAN, "truncate": "END"}, "truncate"),
        ({"model_id": COHERE, "truncate": "MIDDLE"}, "truncate"),
        ({"model_id": COHERE, "input_type": "search"}, "input_type"),
    ],
)
def test_invalid_options_name_the_argument(kwargs: dict[str, Any], argument: str) -> None:
    with pytest.raises(ConfigurationError, match=argument):
        EmbeddingOptions(**kwargs)


def test_texts_are_validated_before_any_request() -> None:
    with pytest.raises(ConfigurationError, match="texts must be a list"):
        check_texts("one string")
    with pytest.raises(ConfigurationError, match=r"texts\[1\] is empty"):
        check_texts(["ok", "  "])
    with pytest.raises(ConfigurationError, match=r"texts\[0\] must be a string"):
        check_texts([3])
    with pytest.raises(ConfigurationError, match="input_type"):
        build_embed_requests(EmbeddingOptions(COHERE), ["a"], "documents")  # type: ignore[arg-type]


# -- pure: request bodies and batching


def test_titan_sends_one_text_per_call_with_dimensions_and_normalize() -> None:
    options = EmbeddingOptions(TITAN, dimensions=256, normalize=False)
    requests = build_embed_requests(options, ["a", "b"], "search_query")
    assert bodies(requests) == [
        {"inputText": "a", "dimensions": 256, "normalize": False},
        {"inputText": "b", "dimensions": 256, "normalize": False},
    ]
    assert requests[0]["modelId"] == TITAN
    assert requests[0]["contentType"] == requests[0]["accept"] == "application/json"
    # Defaults leave Bedrock's own defaults in place.
    assert bodies(build_embed_requests(EmbeddingOptions(TITAN), ["a"])) == [{"inputText": "a"}]


def test_cohere_batches_96_texts_per_call_in_order() -> None:
    texts = [f"t{i}" for i in range(200)]
    requests = build_embed_requests(EmbeddingOptions(COHERE, truncate="END"), texts, "search_query")
    sent = bodies(requests)
    assert [len(b["texts"]) for b in sent] == [96, 96, 8]
    assert [t for b in sent for t in b["texts"]] == texts
    assert {b["input_type"] for b in sent} == {"search_query"}
    assert {b["truncate"] for b in sent} == {"END"}
    assert "embedding_types" not in sent[0]  # v3 answers a plain list of float vectors
    assert batched([1, 2, 3], 2) == [[1, 2], [3]]
    assert build_embed_requests(EmbeddingOptions(COHERE), []) == []


def test_cohere_v4_asks_for_floats_and_the_output_dimension() -> None:
    (body,) = bodies(build_embed_requests(EmbeddingOptions(COHERE_V4, dimensions=512), ["x"]))
    assert body == {
        "texts": ["x"],
        "input_type": "search_document",
        "embedding_types": ["float"],
        "output_dimension": 512,
    }


def test_a_fixed_input_type_wins_over_the_calls_choice() -> None:
    options = EmbeddingOptions(COHERE, input_type="clustering")
    (body,) = bodies(build_embed_requests(options, ["x"], "search_query"))
    assert body["input_type"] == "clustering"


# -- pure: response parsing


def _response(headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"ResponseMetadata": {"RequestId": "r-1", "HTTPHeaders": headers or {}}}


def test_titan_tokens_come_from_the_body() -> None:
    raw = json.dumps({"embedding": [0.1, 2], "inputTextTokenCount": 7}).encode()
    batch = parse_embedding_response(embedding_model_spec(TITAN), _response(), raw, 1)
    assert batch == EmbeddingBatch([[0.1, 2.0]], 7, "r-1")


def test_cohere_tokens_come_from_the_header_and_both_vector_shapes_parse() -> None:
    spec = embedding_model_spec(COHERE)
    plain = json.dumps({"embeddings": [[1, 2], [3, 4]], "texts": ["a", "b"]}).encode()
    batch = parse_embedding_response(
        spec, _response({"x-amzn-bedrock-input-token-count": "12"}), plain, 2
    )
    assert batch.vectors == [[1.0, 2.0], [3.0, 4.0]]
    assert batch.input_tokens == 12
    by_type = json.dumps({"embeddings": {"float": [[5, 6]]}, "response_type": "x"}).encode()
    batch = parse_embedding_response(spec, _response(), by_type, 1)
    assert batch.vectors == [[5.0, 6.0]]
    assert batch.input_tokens is None  # not reported: not invented


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2]",
        json.dumps({"embeddings": [[1.0]]}).encode(),  # one vector for two texts
        json.dumps({"embeddings": [[1.0], ["x"]]}).encode(),
        json.dumps({"embeddings": {"int8": [[1], [2]]}}).encode(),
    ],
)
def test_malformed_bodies_raise_with_the_raw_text(raw: bytes) -> None:
    with pytest.raises(MalformedResponseError) as info:
        parse_embedding_response(embedding_model_spec(COHERE), _response(), raw, 2)
    assert info.value.raw == raw.decode()


def test_combine_keeps_order_sums_tokens_and_counts_unreported_calls() -> None:
    result = combine_batches(
        COHERE,
        [EmbeddingBatch([[1.0]], 5, "a"), EmbeddingBatch([[2.0]], None, "b")],
    )
    assert result.vectors == [[1.0], [2.0]]
    assert result.usage.input_tokens == 5
    assert result.calls == 2
    assert result.unreported_calls == 1
    assert result.request_ids == ("a", "b")


# -- the runtime against LocalBedrock (real boto3 and aiobotocore over HTTP)


def runtime(server: LocalBedrock, model: str, **kwargs: Any) -> EmbeddingsRuntime:
    settings = ClientSettings(region_name="us-east-1", endpoint_url=server.endpoint_url)
    options = EmbeddingOptions(model, **kwargs.pop("options", {}))
    return EmbeddingsRuntime(settings, options, **kwargs)


def test_sync_titan_calls_once_per_text_and_reports_usage(server: LocalBedrock) -> None:
    server.script("InvokeModel", titan_reply([0.1, 0.2], 3), titan_reply([0.3, 0.4], 4))
    seen: list[tuple[str, int]] = []
    embedder = runtime(
        server, TITAN, options={"dimensions": 256}, on_usage=lambda m, n: seen.append((m, n))
    )
    result = embedder.embed(["first text", "second"])
    assert result.vectors == [[0.1, 0.2], [0.3, 0.4]]
    assert result.usage.input_tokens == 7
    assert result.calls == 2 and len(result.request_ids) == 2
    assert seen == [(TITAN, 3), (TITAN, 4)]
    requests = server.requests_for("InvokeModel")
    assert [r.body for r in requests] == [
        {"inputText": "first text", "dimensions": 256},
        {"inputText": "second", "dimensions": 256},
    ]
    assert requests[0].path_params == {"modelId": TITAN}


def test_sync_cohere_batches_and_reads_the_token_header(server: LocalBedrock) -> None:
    texts = [f"doc {i}" for i in range(100)]
    server.script("InvokeModel", cohere_reply(texts[:96], 300), cohere_reply(texts[96:], 9))
    seen: list[int] = []
    result = runtime(server, COHERE, on_usage=lambda _, n: seen.append(n)).embed(texts)
    assert len(result.vectors) == 100
    assert result.vectors[95] == [95.0, 0.5] and result.vectors[96] == [0.0, 0.5]
    assert result.usage.input_tokens == 309
    assert seen == [300, 9]
    sent = [r.body for r in server.requests_for("InvokeModel")]
    assert [len(b["texts"]) for b in sent] == [96, 4]
    assert sent[1]["input_type"] == "search_document"


async def test_async_titan_runs_concurrently_bounded_and_keeps_input_order(
    server: LocalBedrock,
) -> None:
    texts = [f"text {i}" for i in range(6)]
    # Replies are handed out in arrival order; each carries its arrival number.
    server.script("InvokeModel", *(titan_reply([float(i)], 10 + i) for i in range(6)))
    embedder = runtime(server, TITAN, max_concurrency=3)
    client = await embedder.pool.async_client()
    in_flight = peak = 0

    def before(**_: Any) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)

    def after(**_: Any) -> None:
        nonlocal in_flight
        in_flight -= 1

    call = client._make_api_call  # the lean client and aiobotocore's alike

    async def counting(operation: str, params: Any) -> Any:
        before()
        try:
            return await call(operation, params)
        finally:
            after()

    client._make_api_call = counting
    try:
        result = await embedder.aembed(texts)
    finally:
        await embedder.pool.aclose()
    assert 1 < peak <= 3
    arrival = [r.body["inputText"] for r in server.requests_for("InvokeModel")]
    assert sorted(arrival) == texts
    # Text k got the reply of the request that arrived with it, whatever the order.
    assert result.vectors == [[float(arrival.index(t))] for t in texts]
    assert result.usage.input_tokens == sum(range(10, 16))


async def test_async_cohere_batches(server: LocalBedrock) -> None:
    texts = [f"q{i}" for i in range(97)]
    server.script("InvokeModel", cohere_reply(texts[:96], 5), cohere_reply(texts[96:], 1))
    # One call at a time: FIFO replies of different sizes must meet their batches.
    embedder = runtime(server, COHERE, max_concurrency=1)
    try:
        result = await embedder.aembed(texts, "search_query")
    finally:
        await embedder.pool.aclose()
    assert len(result.vectors) == 97 and result.usage.input_tokens == 6
    sent = [r.body for r in server.requests_for("InvokeModel")]
    assert [len(b["texts"]) for b in sent] == [96, 1]
    assert {b["input_type"] for b in sent} == {"search_query"}


async def test_errors_are_translated_sync_and_async(server: LocalBedrock) -> None:
    throttled = Reply.error(429, "ThrottlingException", "slow down")
    server.script("InvokeModel", throttled, throttled)
    embedder = EmbeddingsRuntime(
        ClientSettings(region_name="us-east-1", endpoint_url=server.endpoint_url, max_retries=0),
        EmbeddingOptions(COHERE),
    )
    with pytest.raises(ThrottlingError, match="slow down") as info:
        embedder.embed(["a"])
    assert info.value.model_id == COHERE
    try:
        with pytest.raises(ThrottlingError):
            await embedder.aembed(["a"])
    finally:
        await embedder.pool.aclose()


def test_max_concurrency_is_validated() -> None:
    with pytest.raises(ConfigurationError, match="max_concurrency"):
        EmbeddingsRuntime(ClientSettings(), EmbeddingOptions(TITAN), max_concurrency=0)


async def test_one_failed_async_call_fails_the_embed_and_the_client_stays_usable(
    server: LocalBedrock,
) -> None:
    server.script(
        "InvokeModel",
        titan_reply([1.0], 1),
        Reply.error(400, "ValidationException", "bad input"),
        titan_reply([1.0], 1),
        titan_reply([2.0], 1),
    )
    embedder = EmbeddingsRuntime(
        ClientSettings(region_name="us-east-1", endpoint_url=server.endpoint_url, max_retries=0),
        EmbeddingOptions(TITAN),
        max_concurrency=1,
    )
    try:
        with pytest.raises(BedrockValidationError, match="bad input"):
            await embedder.aembed(["a", "b", "c"])
        # No call is left running (and billing) after the failure was raised.
        assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
        server.script("InvokeModel", titan_reply([3.0], 1), titan_reply([3.0], 1))
        assert len((await embedder.aembed(["d"])).vectors) == 1
    finally:
        await embedder.pool.aclose()
