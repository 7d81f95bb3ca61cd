"""BedrockKitEmbeddings over every embedding model: cassettes recorded through LocalBedrock."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bedrock_kit import Ledger, load_prices
from bedrock_kit.errors import BudgetExceededError, ConfigurationError
from bedrock_kit.langchain.embeddings import BedrockKitEmbeddings
from tests.support.scenarios import embedding_models as em


def make(bedrock: Any, model: str, **kwargs: Any) -> BedrockKitEmbeddings:
    return BedrockKitEmbeddings(
        model=model, endpoint_url=bedrock.endpoint_url, region_name=bedrock.region, **kwargs
    )


def sent(vcr: Any) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in vcr.requests]


@pytest.mark.vcr
def test_titan_text_v1(bedrock, vcr) -> None:
    vectors = make(bedrock, em.TITAN_V1).embed_documents(em.TEXTS)
    assert len(vectors) == 2 and len(vectors[0]) == 1024 and vectors[0] != vectors[1]
    assert sent(vcr) == [{"inputText": t} for t in em.TEXTS]


@pytest.mark.vcr
async def test_titan_text_v2_binary_async(bedrock, vcr) -> None:
    embeddings = make(bedrock, em.TITAN_V2, dimensions=256, embedding_types=["binary"])
    try:
        vector = await embeddings.aembed_query(em.TEXTS[0])
    finally:
        await embeddings.aclose()
    assert len(vector) == 256 and set(vector) <= {0, 1}
    assert sent(vcr) == [
        {"inputText": em.TEXTS[0], "dimensions": 256, "embeddingTypes": ["binary"]}
    ]


@pytest.mark.vcr
def test_titan_multimodal_images_from_bytes_and_paths(bedrock, vcr, tmp_path: Path) -> None:
    path = tmp_path / "dog.png"
    path.write_bytes(em.DOG)
    embeddings = make(bedrock, em.TITAN_MM, dimensions=384)
    images = embeddings.embed_image([em.CAT, str(path)])
    text = embeddings.embed_query("a cat")
    assert [len(v) for v in [*images, text]] == [384, 384, 384]
    assert images[0] != images[1]
    bodies = sent(vcr)
    assert base64.b64decode(bodies[1]["inputImage"]) == em.DOG
    assert bodies[2] == {"inputText": "a cat", "embeddingConfig": {"outputEmbeddingLength": 384}}


@pytest.mark.vcr
async def test_cohere_v3_int8_and_float_async(bedrock, vcr) -> None:
    embeddings = make(bedrock, em.COHERE_ML, embedding_types=["int8", "float"])
    try:
        result = await embeddings.runtime.aembed(em.TEXTS, "classification")
        docs = await embeddings.aembed_documents(em.TEXTS)
    finally:
        await embeddings.aclose()
    assert set(result.by_type) == {"int8", "float"}
    assert all(isinstance(x, int) and -128 <= x <= 127 for x in result.by_type["int8"][0])
    assert docs == result.by_type["float"]  # floats are the vectors when asked for
    assert [b["input_type"] for b in sent(vcr)] == ["classification", "search_document"]


@pytest.mark.vcr
def test_cohere_v4_images_and_dimensions(bedrock, vcr) -> None:
    embeddings = make(bedrock, em.COHERE_V4, dimensions=512)
    vectors = embeddings.embed_image([em.CAT, em.DOG])
    assert [len(v) for v in vectors] == [512, 512]
    (body,) = sent(vcr)
    assert body == {
        "input_type": "search_document",
        "images": [em.data_uri(em.CAT), em.data_uri(em.DOG)],
        "embedding_types": ["float"],
        "output_dimension": 512,
    }


@pytest.mark.vcr
def test_ledger_is_charged_the_reported_tokens(bedrock) -> None:
    prices = load_prices({"models": {em.COHERE_EN: {"input": "0.1", "output": "0"}}})
    ledger = Ledger(prices=prices)
    embeddings = make(bedrock, em.COHERE_EN, ledger=ledger)
    embeddings.embed_documents(em.TEXTS)
    (row,) = [r for r in ledger.report().rows if r.model_id == em.COHERE_EN]
    assert row.calls == 1 and row.input_tokens > 0
    assert ledger.spent() == Decimal(row.input_tokens) * Decimal("0.1") / 1000
    with pytest.raises(BudgetExceededError):
        make(bedrock, em.COHERE_EN, ledger=Ledger(prices=prices, max_cost="0")).embed_query("x")


def test_bad_options_and_inputs_fail_before_any_request() -> None:
    with pytest.raises(ConfigurationError, match="embedding_types"):
        BedrockKitEmbeddings(model=em.TITAN_V1, embedding_types=["binary"])
    with pytest.raises(ConfigurationError, match="embeds text only"):
        BedrockKitEmbeddings(model=em.TITAN_V2, region_name="us-east-1").embed_image([em.CAT])
    with pytest.raises(ConfigurationError, match=r"images\[0\]: cannot read"):
        BedrockKitEmbeddings(model=em.TITAN_MM, region_name="us-east-1").embed_image(["/nope.png"])
    with pytest.raises(ConfigurationError, match=r"texts\[0\] has 2049 characters"):
        BedrockKitEmbeddings(model=em.COHERE_EN, region_name="us-east-1").embed_documents(
            ["x" * 2049]
        )
