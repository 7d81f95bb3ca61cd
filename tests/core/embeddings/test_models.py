"""Every embedding model's options, bodies and responses, on literal dicts (no server)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from bedrock_kit.core.embeddings.runtime import (
    EmbeddingOptions,
    build_embed_requests,
    build_image_requests,
    embedding_model_spec,
    image_format,
    parse_embedding_response,
)
from bedrock_kit.errors import ConfigurationError, MalformedResponseError

TITAN_V1 = "amazon.titan-embed-text-v1"
TITAN_V2 = "amazon.titan-embed-text-v2:0"
TITAN_MM = "amazon.titan-embed-image-v1"
COHERE_EN = "cohere.embed-english-v3"
COHERE_ML = "cohere.embed-multilingual-v3"
COHERE_V4 = "cohere.embed-v4:0"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 16


def bodies(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [json.loads(r["body"]) for r in requests]


def response(headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"ResponseMetadata": {"RequestId": "r-1", "HTTPHeaders": headers or {}}}


# -- the model table


@pytest.mark.parametrize(
    ("model", "family", "variant", "batch"),
    [
        (TITAN_V1, "titan", "text-v1", 1),
        (TITAN_V2, "titan", "text-v2", 1),
        (TITAN_MM, "titan", "image-v1", 1),
        (COHERE_EN, "cohere", "v3", 96),
        (COHERE_ML, "cohere", "v3", 96),
        (COHERE_V4, "cohere", "v4", 96),
        ("us.cohere.embed-v4:0", "cohere", "v4", 96),
        ("cohere.embed-v4", "cohere", "v4", 96),
    ],
)
def test_every_model_is_known(model: str, family: str, variant: str, batch: int) -> None:
    spec = embedding_model_spec(model)
    assert (spec.family, spec.variant, spec.max_batch) == (family, variant, batch)


# -- options


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model_id": TITAN_V1, "dimensions": 256}, "fixed size"),
        ({"model_id": TITAN_V1, "normalize": True}, "Titan Text Embeddings v2 only"),
        ({"model_id": TITAN_MM, "normalize": True}, "v2 only"),
        ({"model_id": TITAN_MM, "dimensions": 512}, r"allowed: \(256, 384, 1024\)"),
        ({"model_id": TITAN_V1, "embedding_types": ["binary"]}, "does not apply"),
        ({"model_id": TITAN_V2, "embedding_types": ["int8"]}, r"among \('float', 'binary'\)"),
        ({"model_id": COHERE_EN, "embedding_types": ["int4"]}, "embedding_types"),
        ({"model_id": COHERE_EN, "embedding_types": "int8"}, "list of type names"),
        ({"model_id": COHERE_EN, "embedding_types": ["int8", "int8"]}, "repeats"),
        ({"model_id": COHERE_V4, "truncate": "END"}, r"\('NONE', 'LEFT', 'RIGHT'\)"),
        ({"model_id": COHERE_EN, "truncate": "LEFT"}, r"\('NONE', 'START', 'END'\)"),
        ({"model_id": TITAN_V2, "input_type": "search_query"}, "Cohere models only"),
        ({"model_id": COHERE_V4, "dimensions": 2048}, "dimensions"),
    ],
)
def test_bad_options_are_refused_naming_the_option(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        EmbeddingOptions(**kwargs)


def test_primary_type_is_float_when_asked_else_the_first() -> None:
    assert EmbeddingOptions(COHERE_EN).primary_type == "float"
    assert EmbeddingOptions(COHERE_EN, embedding_types=("int8", "float")).primary_type == "float"
    assert (
        EmbeddingOptions(COHERE_EN, embedding_types=["ubinary", "int8"]).primary_type == "ubinary"
    )


# -- text bodies


def test_titan_v1_sends_only_the_text() -> None:
    assert bodies(build_embed_requests(EmbeddingOptions(TITAN_V1), ["a"])) == [{"inputText": "a"}]


def test_titan_v2_options_and_embedding_types() -> None:
    options = EmbeddingOptions(
        TITAN_V2, dimensions=512, normalize=True, embedding_types=("float", "binary")
    )
    assert bodies(build_embed_requests(options, ["a"])) == [
        {
            "inputText": "a",
            "dimensions": 512,
            "normalize": True,
            "embeddingTypes": ["float", "binary"],
        }
    ]


def test_titan_multimodal_text_uses_embedding_config() -> None:
    options = EmbeddingOptions(TITAN_MM, dimensions=384)
    assert bodies(build_embed_requests(options, ["a"])) == [
        {"inputText": "a", "embeddingConfig": {"outputEmbeddingLength": 384}}
    ]


def test_cohere_v3_embedding_types_and_v4_truncate() -> None:
    v3 = EmbeddingOptions(COHERE_ML, embedding_types=("int8", "binary"), truncate="START")
    assert bodies(build_embed_requests(v3, ["a", "b"], "classification")) == [
        {
            "texts": ["a", "b"],
            "input_type": "classification",
            "truncate": "START",
            "embedding_types": ["int8", "binary"],
        }
    ]
    v4 = EmbeddingOptions(COHERE_V4, truncate="RIGHT", embedding_types=("uint8",))
    (body,) = bodies(build_embed_requests(v4, ["a"], "clustering"))
    assert body == {
        "texts": ["a"],
        "input_type": "clustering",
        "truncate": "RIGHT",
        "embedding_types": ["uint8"],
    }


@pytest.mark.parametrize(("model", "limit"), [(COHERE_EN, 2048), (TITAN_V2, 50_000)])
def test_texts_over_the_models_character_limit_are_refused(model: str, limit: int) -> None:
    build_embed_requests(EmbeddingOptions(model), ["x" * limit])
    with pytest.raises(ConfigurationError, match=rf"texts\[1\] has {limit + 1} characters"):
        build_embed_requests(EmbeddingOptions(model), ["ok", "x" * (limit + 1)])


# -- image bodies


def test_image_formats_are_recognised() -> None:
    assert [image_format(b) for b in (PNG, JPEG, WEBP, b"GIF89a..", b"%PDF")] == [
        "png",
        "jpeg",
        "webp",
        "gif",
        None,
    ]


def test_titan_multimodal_one_call_per_image_with_its_text() -> None:
    options = EmbeddingOptions(TITAN_MM, dimensions=256)
    sent = bodies(build_image_requests(options, [PNG, JPEG], ["a cat", "a dog"]))
    assert sent == [
        {
            "inputImage": base64.b64encode(PNG).decode(),
            "inputText": "a cat",
            "embeddingConfig": {"outputEmbeddingLength": 256},
        },
        {
            "inputImage": base64.b64encode(JPEG).decode(),
            "inputText": "a dog",
            "embeddingConfig": {"outputEmbeddingLength": 256},
        },
    ]
    assert "inputText" not in bodies(build_image_requests(options, [PNG]))[0]


def test_cohere_v3_images_one_per_call_with_input_type_image() -> None:
    sent = bodies(build_image_requests(EmbeddingOptions(COHERE_EN), [PNG, JPEG]))
    assert [b["input_type"] for b in sent] == ["image", "image"]
    assert sent[0]["images"] == ["data:image/png;base64," + base64.b64encode(PNG).decode()]
    assert sent[1]["images"][0].startswith("data:image/jpeg;base64,")


def test_cohere_v4_batches_images_and_interleaves_texts() -> None:
    options = EmbeddingOptions(COHERE_V4, dimensions=1024)
    sent = bodies(build_image_requests(options, [WEBP] * 97, input_type="search_query"))
    assert [len(b["images"]) for b in sent] == [96, 1]
    assert sent[0]["input_type"] == "search_query" and sent[0]["output_dimension"] == 1024
    (mixed,) = bodies(build_image_requests(options, [PNG], ["page 1"]))
    assert mixed["inputs"] == [
        {
            "content": [
                {"type": "text", "text": "page 1"},
                {
                    "type": "image_url",
                    "image_url": "data:image/png;base64," + base64.b64encode(PNG).decode(),
                },
            ]
        }
    ]


@pytest.mark.parametrize(
    ("model", "images", "texts", "message"),
    [
        (TITAN_V2, [PNG], None, "embeds text only"),
        (TITAN_MM, [WEBP], None, r"images\[0\] is webp; .* takes png, jpeg"),
        (TITAN_MM, [b"%PDF-1.7"], None, "not a recognised image"),
        (COHERE_EN, [PNG + b"\x00" * (5 * 1024 * 1024)], None, "up to 5 MB"),
        (COHERE_EN, [PNG], ["a"], "embeds an image alone"),
        (TITAN_MM, [PNG, PNG], ["only one"], "pair one text per image"),
        (TITAN_MM, PNG, None, "list of image bytes"),
        (TITAN_MM, [b""], None, "non-empty image bytes"),
    ],
)
def test_bad_images_are_refused_before_any_request(
    model: str, images: Any, texts: Any, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build_image_requests(EmbeddingOptions(model), images, texts)


# -- responses


def test_titan_v2_embeddings_by_type() -> None:
    raw = json.dumps(
        {
            "embedding": [0.5, -0.5],
            "embeddingsByType": {"float": [0.5, -0.5], "binary": [1, 0]},
            "inputTextTokenCount": 3,
        }
    ).encode()
    spec = embedding_model_spec(TITAN_V2)
    batch = parse_embedding_response(spec, response(), raw, 1, embedding_types=("float", "binary"))
    assert batch.vectors == [[0.5, -0.5]]
    assert batch.by_type == {"float": [[0.5, -0.5]], "binary": [[1, 0]]}
    assert batch.input_tokens == 3
    binary_only = parse_embedding_response(
        spec,
        response(),
        json.dumps({"embeddingsByType": {"binary": [0, 1]}, "inputTextTokenCount": 1}).encode(),
        1,
        embedding_types=("binary",),
    )
    assert binary_only.vectors == [[0, 1]]


def test_titan_multimodal_answer_and_its_message() -> None:
    spec = embedding_model_spec(TITAN_MM)
    raw = json.dumps({"embedding": [0.1], "inputTextTokenCount": 0, "message": None}).encode()
    assert parse_embedding_response(spec, response(), raw, 1).vectors == [[0.1]]
    failed = json.dumps({"message": "image too large"}).encode()
    with pytest.raises(MalformedResponseError, match="image too large"):
        parse_embedding_response(spec, response(), failed, 1, model_id=TITAN_MM)


def test_cohere_by_type_with_int_ranges_checked() -> None:
    spec = embedding_model_spec(COHERE_V4)
    raw = json.dumps(
        {
            "embeddings": {"int8": [[-128, 127]], "ubinary": [[255]]},
            "response_type": "embeddings_by_type",
        }
    ).encode()
    headers = {"x-amzn-bedrock-input-token-count": "4"}
    batch = parse_embedding_response(
        spec, response(headers), raw, 1, embedding_types=("int8", "ubinary")
    )
    assert batch.vectors == [[-128, 127]] and batch.by_type["ubinary"] == [[255]]
    assert batch.input_tokens == 4


@pytest.mark.parametrize(
    ("body", "types", "message"),
    [
        ({"embeddings": {"int8": [[128]]}}, ("int8",), "not a int8 value"),
        ({"embeddings": {"uint8": [[1.5]]}}, ("uint8",), "not a uint8 value"),
        ({"embeddings": {"float": [[1.0]]}}, ("float", "int8"), "no int8 embeddings"),
        ({"embeddings": [[1.0]]}, ("int8",), "plain list"),
        ({"embeddings": {"binary": [[1], [2]]}}, ("binary",), "expected 1 binary"),
    ],
)
def test_cohere_responses_not_matching_the_request_are_malformed(
    body: dict[str, Any], types: tuple[str, ...], message: str
) -> None:
    with pytest.raises(MalformedResponseError, match=message):
        parse_embedding_response(
            embedding_model_spec(COHERE_EN),
            response(),
            json.dumps(body).encode(),
            1,
            embedding_types=types,
        )
