"""Chunking and data-source builders: Bedrock's documented ranges, refused by name."""

from __future__ import annotations

import pytest

from bedrock_kit.core.knowledge_bases.data_sources import (
    build_create_data_source_request,
    custom_data_source,
    fixed_size_chunking,
    hierarchical_chunking,
    no_chunking,
    parse_data_source,
    s3_data_source,
    semantic_chunking,
)
from bedrock_kit.core.knowledge_bases.documents import metadata_sidecar, object_key
from bedrock_kit.errors import ConfigurationError, MalformedResponseError


def test_builders_make_the_wire_shapes() -> None:
    assert hierarchical_chunking(1500, 300, 60) == {
        "chunkingStrategy": "HIERARCHICAL",
        "hierarchicalChunkingConfiguration": {
            "levelConfigurations": [{"maxTokens": 1500}, {"maxTokens": 300}],
            "overlapTokens": 60,
        },
    }
    assert semantic_chunking(400, 1, 90)["semanticChunkingConfiguration"] == {
        "maxTokens": 400,
        "bufferSize": 1,
        "breakpointPercentileThreshold": 90,
    }
    assert no_chunking() == {"chunkingStrategy": "NONE"}
    assert s3_data_source("arn:aws:s3:::docs-bucket", prefix="kb/") == {
        "type": "S3",
        "s3Configuration": {"bucketArn": "arn:aws:s3:::docs-bucket", "inclusionPrefixes": ["kb/"]},
    }
    request = build_create_data_source_request(
        knowledge_base_id="KB12345678",
        name="docs_v2",
        configuration=custom_data_source(),
        chunking=no_chunking(),
        data_deletion_policy="DELETE",
    )
    assert request["vectorIngestionConfiguration"] == {"chunkingConfiguration": no_chunking()}
    assert 33 <= len(request["clientToken"]) <= 256


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: fixed_size_chunking(0, 20), "max_tokens must be 1 to 8192"),
        (lambda: fixed_size_chunking(8193, 20), "max_tokens must be 1 to 8192"),
        (lambda: fixed_size_chunking(300, 100), "overlap_percentage must be 1 to 99"),
        (lambda: fixed_size_chunking(True, 20), "max_tokens must be an integer"),
        (lambda: hierarchical_chunking(300, 300, 20), "must be smaller than parent_max_tokens"),
        (lambda: hierarchical_chunking(1500, 300, 300), "must be smaller than child_max_tokens"),
        (lambda: hierarchical_chunking(9000, 300, 20), "parent_max_tokens must be 1 to 8192"),
        (lambda: semantic_chunking(300, 2, 95), "buffer_size must be 0 to 1"),
        (lambda: semantic_chunking(300, 0, 49), "breakpoint_percentile_threshold must be 50"),
        (lambda: s3_data_source("Bad_Bucket"), "not an S3 bucket name"),
        (lambda: s3_data_source("bucket", bucket_owner_account_id="12"), "12 digits"),
        (
            lambda: build_create_data_source_request(
                knowledge_base_id="KB12345678", name="bad name", configuration=custom_data_source()
            ),
            "data source name 'bad name'",
        ),
        (
            lambda: build_create_data_source_request(
                knowledge_base_id="KB12345678", name="n", configuration={"type": "WEB"}
            ),
            "configuration type 'WEB'",
        ),
        (
            lambda: build_create_data_source_request(
                knowledge_base_id="KB12345678",
                name="n",
                configuration=custom_data_source(),
                chunking={"chunkingStrategy": "FIXED_SIZE"},
            ),
            "FIXED_SIZE chunking needs its fixedSizeChunkingConfiguration",
        ),
        (
            lambda: build_create_data_source_request(
                knowledge_base_id="short", name="n", configuration=custom_data_source()
            ),
            "knowledge_base_id must be a 10-character",
        ),
    ],
)
def test_out_of_range_values_are_refused_by_name(build: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build()  # type: ignore[operator]


def test_sidecars_and_keys() -> None:
    assert metadata_sidecar({"a": True, "b": 1.5, "c": ["x"]}) == (
        b'{"metadataAttributes": {"a": true, "b": 1.5, "c": ["x"]}}'
    )
    with pytest.raises(ConfigurationError, match="Bedrock reads at most 10240"):
        metadata_sidecar({f"k{i}": "v" * 300 for i in range(40)})
    assert object_key("kb", "faq/refunds v2.md") == "kb/faq_refunds_v2.md.txt"


def test_parse_data_source_refuses_what_is_not_a_data_source() -> None:
    with pytest.raises(MalformedResponseError, match="no dataSource"):
        parse_data_source({})
    with pytest.raises(MalformedResponseError, match="bad dataSource"):
        parse_data_source({"dataSource": {"name": "x"}})
