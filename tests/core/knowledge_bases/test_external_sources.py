"""External sources for RetrieveAndGenerate: every accepted form, every refusal (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_kit.core.knowledge_bases.requests import GenerationCall, GenerationOptions
from bedrock_kit.core.knowledge_bases.sources import ExternalSource, coerce_source, coerce_sources
from bedrock_kit.errors import ConfigurationError

URI = "s3://my-bucket/docs/handbook.pdf"


@pytest.mark.parametrize(
    "value",
    [
        URI,
        {"s3_uri": URI},
        ExternalSource(s3_uri=URI),
        {"sourceType": "S3", "s3Location": {"uri": URI}},
        [URI],
        (URI,),
    ],
)
def test_every_form_of_an_s3_source(value: Any) -> None:
    (source,) = coerce_sources(value)
    assert source == ExternalSource(s3_uri=URI)
    assert source.to_wire() == {"sourceType": "S3", "s3Location": {"uri": URI}}


def test_byte_content_from_the_wire_form_and_its_repr_hides_the_bytes() -> None:
    wire = {
        "sourceType": "BYTE_CONTENT",
        "byteContent": {"data": b"secret text", "contentType": "text/plain", "identifier": "a"},
    }
    source = coerce_source(wire)
    assert source.to_wire() == wire
    assert "secret" not in repr(source) and "11 bytes" in repr(source)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"sourceType": "WEB"}, "a wire source needs"),
        ({"s3_uri": URI, "content_type": "text/plain"}, "apply to data, not s3_uri"),
        ("s3://UPPER/key", "s3://bucket/key"),
        ("s3://bucket", "s3://bucket/key"),
        ({"data": "text", "content_type": "text/plain", "identifier": "a"}, "non-empty bytes"),
        ({"data": b"x", "content_type": "pdf", "identifier": "a"}, "MIME type"),
        ({"data": b"x", "content_type": "text/plain", "identifier": "i" * 1025}, "1-1024"),
        (b"raw bytes", "must be an ExternalSource"),
        ([3], "items must be ExternalSource"),
    ],
)
def test_refusals_name_what_is_wrong(value: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        coerce_sources(value)


def test_generation_configuration_of_external_sources() -> None:
    call = GenerationCall(
        "q",
        "arn:aws:bedrock:us-east-1::foundation-model/m",
        sources=URI,
        generation=GenerationOptions(
            performance_latency="standard",
            additional_model_request_fields={"k": 1},
            generation_configuration={"promptTemplate": {"textPromptTemplate": "t"}},
        ),
    )
    assert call.sources == (ExternalSource(s3_uri=URI),)
    external = call.to_request(None)["retrieveAndGenerateConfiguration"][
        "externalSourcesConfiguration"
    ]
    assert external["generationConfiguration"] == {
        "promptTemplate": {"textPromptTemplate": "t"},
        "performanceConfig": {"latency": "standard"},
        "additionalModelRequestFields": {"k": 1},
    }
    with pytest.raises(ConfigurationError, match="additional_model_request_fields conflicts"):
        GenerationCall(
            "q",
            "m",
            sources=URI,
            generation=GenerationOptions(
                additional_model_request_fields={"k": 1},
                generation_configuration={"additionalModelRequestFields": {"k": 2}},
            ),
        )
