"""BedrockKitEmbedding over every embedding model: cassettes recorded through LocalBedrock."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.embeddings import MultiModalEmbedding

from bedrock_kit import Ledger, load_prices
from bedrock_kit.errors import BudgetExceededError, ConfigurationError
from bedrock_kit.llama_index.embeddings import BedrockKitEmbedding
from tests.support.scenarios import embedding_models as em


def make(bedrock: Any, model: str, **kwargs: Any) -> BedrockKitEmbedding:
    return BedrockKitEmbedding(
        model=model, endpoint_url=bedrock.endpoint_url, region_name=bedrock.region, **kwargs
    )


def sent(vcr: Any) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in vcr.requests]


@pytest.mark.vcr
def test_titan_text_v1(bedrock, vcr) -> None:
    embed = make(bedrock, em.TITAN_V1)
    assert isinstance(embed, MultiModalEmbedding)
    vectors = embed.get_text_embedding_batch(em.TEXTS)
    assert [len(v) for v in vectors] == [1024, 1024]
    assert sent(vcr) == [{"inputText": t} for t in em.TEXTS]


@pytest.mark.vcr
async def test_titan_multimodal_async_images(bedrock, vcr, tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(em.CAT)
    embed = make(bedrock, em.TITAN_MM, dimensions=256)
    try:
        from_path = await embed.aget_image_embedding(str(path))
        from_file = await embed.aget_image_embedding(io.BytesIO(em.DOG))
        batch = await embed.aget_image_embedding_batch([em.CAT, em.DOG])
    finally:
        await embed.aclose()
    assert len(from_path) == 256 and from_path != from_file
    assert batch == [from_path, from_file]  # same image, same vector
    assert base64.b64decode(sent(vcr)[1]["inputImage"]) == em.DOG


@pytest.mark.vcr
def test_cohere_v3_image_and_binary_types(bedrock, vcr) -> None:
    embed = make(bedrock, em.COHERE_EN, embedding_types=["ubinary"])
    vector = embed.get_image_embedding(em.CAT)
    assert len(vector) == 1024 // 8 and all(0 <= x <= 255 for x in vector)
    (body,) = sent(vcr)
    assert body == {
        "input_type": "image",
        "images": [em.data_uri(em.CAT)],
        "embedding_types": ["ubinary"],
    }


@pytest.mark.vcr
async def test_cohere_v4_text_and_image_pairs_async(bedrock, vcr) -> None:
    embed = make(bedrock, em.COHERE_V4, dimensions=256)
    try:
        result = await embed.runtime.aembed_images([em.CAT], texts=["a cat"])
        query = await embed.aget_query_embedding("cats")
    finally:
        await embed.aclose()
    assert len(result.vectors[0]) == 256 and result.images == 1
    assert result.usage.input_tokens > 0
    first, second = sent(vcr)
    assert first["inputs"][0]["content"][0] == {"type": "text", "text": "a cat"}
    assert second["input_type"] == "search_query" and len(query) == 256


@pytest.mark.vcr
def test_ledger_is_charged_and_refuses(bedrock) -> None:
    prices = load_prices({"models": {em.TITAN_V2: {"input": "0.00002", "output": "0"}}})
    ledger = Ledger(prices=prices)
    make(bedrock, em.TITAN_V2, ledger=ledger).get_text_embedding("tides")
    (row,) = [r for r in ledger.report().rows if r.model_id == em.TITAN_V2]
    assert row.calls == 1 and row.input_tokens > 0 and ledger.open_reservations() == 0
    with pytest.raises(BudgetExceededError):
        make(bedrock, em.TITAN_V2, ledger=Ledger(prices=prices, max_calls=0)).get_query_embedding(
            "x"
        )


def test_bad_options_and_images_fail_before_any_request() -> None:
    with pytest.raises(ConfigurationError, match="truncate"):
        BedrockKitEmbedding(model=em.COHERE_V4, truncate="END")
    with pytest.raises(ConfigurationError, match="embeds text only"):
        BedrockKitEmbedding(model=em.TITAN_V1, region_name="us-east-1").get_image_embedding(em.CAT)
    with pytest.raises(ConfigurationError, match="cannot read image"):
        BedrockKitEmbedding(model=em.TITAN_MM, region_name="us-east-1").get_image_embedding(
            "/no.png"
        )
    with pytest.raises(ConfigurationError, match="an image must be"):
        BedrockKitEmbedding(model=em.TITAN_MM, region_name="us-east-1").get_image_embedding(3)  # type: ignore[arg-type]
