"""Knowledge Base data sources: chunking and data-source configuration builders, typed.

Every builder checks Bedrock's documented ranges (botocore's ``bedrock-agent`` model) before
anything is sent, and names the argument it refuses:

.. code-block:: python

    request = build_create_data_source_request(
        knowledge_base_id="KB12345678",
        name="docs",
        configuration=s3_data_source("my-bucket", prefix="kb/docs/"),
        chunking=hierarchical_chunking(parent_max_tokens=1500, child_max_tokens=300),
    )
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bedrock_kit.errors import ConfigurationError, MalformedResponseError

__all__ = [
    "DataSource",
    "build_create_data_source_request",
    "check_id",
    "custom_data_source",
    "fixed_size_chunking",
    "hierarchical_chunking",
    "no_chunking",
    "parse_data_source",
    "s3_data_source",
    "semantic_chunking",
]

_ID = re.compile(r"^[0-9a-zA-Z]{10}$")
_NAME = re.compile(r"^([0-9a-zA-Z][_-]?){1,100}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_MAX_CHUNK_TOKENS = 8192


def check_id(value: str, what: str) -> str:
    """``value`` when it is a 10-character Bedrock id (knowledge base, data source, agent).

    Raises:
        ConfigurationError: Anything else, naming ``what``.
    """
    if not isinstance(value, str) or not _ID.match(value):
        raise ConfigurationError(f"{what} must be a 10-character Bedrock id, got {value!r}")
    return value


def _int_in(value: Any, low: int, high: int | None, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(f"{what} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        upper = f" to {high}" if high is not None else " or more"
        raise ConfigurationError(f"{what} must be {low}{upper}, got {value}")
    return value


def fixed_size_chunking(max_tokens: int = 300, overlap_percentage: int = 20) -> dict[str, Any]:
    """``FIXED_SIZE`` chunking: chunks of at most ``max_tokens`` that overlap.

    Args:
        max_tokens: Tokens per chunk, 1 to 8192.
        overlap_percentage: Overlap between consecutive chunks, 1 to 99 percent.

    Raises:
        ConfigurationError: A value outside its range.
    """
    return {
        "chunkingStrategy": "FIXED_SIZE",
        "fixedSizeChunkingConfiguration": {
            "maxTokens": _int_in(max_tokens, 1, _MAX_CHUNK_TOKENS, "max_tokens"),
            "overlapPercentage": _int_in(overlap_percentage, 1, 99, "overlap_percentage"),
        },
    }


def hierarchical_chunking(
    parent_max_tokens: int = 1500, child_max_tokens: int = 300, overlap_tokens: int = 60
) -> dict[str, Any]:
    """``HIERARCHICAL`` chunking: child chunks searched, their parent chunk returned.

    Args:
        parent_max_tokens: Tokens per parent chunk, 1 to 8192.
        child_max_tokens: Tokens per child chunk, 1 to 8192 and smaller than the parent's.
        overlap_tokens: Tokens shared by consecutive child chunks, at least 1 and smaller
            than ``child_max_tokens``.

    Raises:
        ConfigurationError: A value outside its range, or a child as large as its parent.
    """
    parent = _int_in(parent_max_tokens, 1, _MAX_CHUNK_TOKENS, "parent_max_tokens")
    child = _int_in(child_max_tokens, 1, _MAX_CHUNK_TOKENS, "child_max_tokens")
    overlap = _int_in(overlap_tokens, 1, None, "overlap_tokens")
    if child >= parent:
        raise ConfigurationError(
            f"child_max_tokens ({child}) must be smaller than parent_max_tokens ({parent})"
        )
    if overlap >= child:
        raise ConfigurationError(
            f"overlap_tokens ({overlap}) must be smaller than child_max_tokens ({child})"
        )
    return {
        "chunkingStrategy": "HIERARCHICAL",
        "hierarchicalChunkingConfiguration": {
            "levelConfigurations": [{"maxTokens": parent}, {"maxTokens": child}],
            "overlapTokens": overlap,
        },
    }


def semantic_chunking(
    max_tokens: int = 300, buffer_size: int = 0, breakpoint_percentile_threshold: int = 95
) -> dict[str, Any]:
    """``SEMANTIC`` chunking: split where the meaning of consecutive sentences changes.

    Args:
        max_tokens: Tokens per chunk, 1 to 8192.
        buffer_size: Sentences around each sentence compared for similarity, 0 or 1.
        breakpoint_percentile_threshold: Dissimilarity percentile that splits, 50 to 99.

    Raises:
        ConfigurationError: A value outside its range.
    """
    return {
        "chunkingStrategy": "SEMANTIC",
        "semanticChunkingConfiguration": {
            "maxTokens": _int_in(max_tokens, 1, _MAX_CHUNK_TOKENS, "max_tokens"),
            "bufferSize": _int_in(buffer_size, 0, 1, "buffer_size"),
            "breakpointPercentileThreshold": _int_in(
                breakpoint_percentile_threshold, 50, 99, "breakpoint_percentile_threshold"
            ),
        },
    }


def no_chunking() -> dict[str, Any]:
    """``NONE``: every document is one chunk (split documents yourself beforehand)."""
    return {"chunkingStrategy": "NONE"}


def s3_data_source(
    bucket: str, *, prefix: str | None = None, bucket_owner_account_id: str | None = None
) -> dict[str, Any]:
    """An ``S3`` data source configuration.

    Args:
        bucket: Bucket name (or ``arn:aws:s3:::bucket``).
        prefix: The one inclusion prefix Bedrock allows (documents outside it are ignored).
        bucket_owner_account_id: The bucket owner's 12-digit account id, when not yours.

    Raises:
        ConfigurationError: A bad bucket name, prefix or account id.
    """
    name = bucket.split(":::", 1)[1] if bucket.startswith("arn:") and ":::" in bucket else bucket
    if not _BUCKET.match(name):
        raise ConfigurationError(f"bucket {bucket!r} is not an S3 bucket name")
    config: dict[str, Any] = {"bucketArn": f"arn:aws:s3:::{name}"}
    if prefix is not None:
        if not prefix or len(prefix) > 300:
            raise ConfigurationError(f"prefix must be 1 to 300 characters, got {prefix!r}")
        config["inclusionPrefixes"] = [prefix]
    if bucket_owner_account_id is not None:
        if not _ACCOUNT.match(bucket_owner_account_id):
            raise ConfigurationError(
                f"bucket_owner_account_id must be 12 digits, got {bucket_owner_account_id!r}"
            )
        config["bucketOwnerAccountId"] = bucket_owner_account_id
    return {"type": "S3", "s3Configuration": config}


def custom_data_source() -> dict[str, Any]:
    """A ``CUSTOM`` data source: documents sent directly (IngestKnowledgeBaseDocuments)."""
    return {"type": "CUSTOM"}


_STRATEGIES = {
    "FIXED_SIZE": "fixedSizeChunkingConfiguration",
    "HIERARCHICAL": "hierarchicalChunkingConfiguration",
    "SEMANTIC": "semanticChunkingConfiguration",
    "NONE": None,
}


def build_create_data_source_request(
    *,
    knowledge_base_id: str,
    name: str,
    configuration: Mapping[str, Any],
    chunking: Mapping[str, Any] | None = None,
    description: str | None = None,
    data_deletion_policy: Literal["RETAIN", "DELETE"] | None = None,
    client_token: str | None = None,
) -> dict[str, Any]:
    """CreateDataSource keyword arguments.

    Args:
        knowledge_base_id: The Knowledge Base.
        name: Data source name (letters, digits, ``_`` and ``-``, at most 100).
        configuration: :func:`s3_data_source` or :func:`custom_data_source`.
        chunking: One of the chunking builders; None keeps Bedrock's default.
        description: 1 to 200 characters.
        data_deletion_policy: What happens to vectors when the data source is deleted.
        client_token: Idempotency token (33 to 256 characters); None makes one.

    Raises:
        ConfigurationError: A bad id, name, description, configuration or chunking.
    """
    check_id(knowledge_base_id, "knowledge_base_id")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigurationError(
            f"data source name {name!r}: use letters, digits, '_' and '-' (at most 100)"
        )
    kind = configuration.get("type")
    if kind not in ("S3", "CUSTOM"):
        raise ConfigurationError(
            f"configuration type {kind!r}: build it with s3_data_source() or custom_data_source()"
        )
    request: dict[str, Any] = {
        "knowledgeBaseId": knowledge_base_id,
        "name": name,
        "dataSourceConfiguration": dict(configuration),
        "clientToken": client_token or uuid.uuid4().hex + uuid.uuid4().hex[:8],
    }
    if chunking is not None:
        strategy = chunking.get("chunkingStrategy")
        if strategy not in _STRATEGIES:
            raise ConfigurationError(
                f"chunking strategy {strategy!r}: build it with fixed_size_chunking(), "
                "hierarchical_chunking(), semantic_chunking() or no_chunking()"
            )
        member = _STRATEGIES[strategy]
        if member is not None and member not in chunking:
            raise ConfigurationError(f"{strategy} chunking needs its {member}")
        request["vectorIngestionConfiguration"] = {"chunkingConfiguration": dict(chunking)}
    if description is not None:
        if not 1 <= len(description) <= 200:
            raise ConfigurationError("description must be 1 to 200 characters")
        request["description"] = description
    if data_deletion_policy is not None:
        if data_deletion_policy not in ("RETAIN", "DELETE"):
            raise ConfigurationError(
                f"data_deletion_policy must be 'RETAIN' or 'DELETE', got {data_deletion_policy!r}"
            )
        request["dataDeletionPolicy"] = data_deletion_policy
    return request


@dataclass(frozen=True)
class DataSource:
    """A data source as GetDataSource / CreateDataSource returned it."""

    knowledge_base_id: str
    """The Knowledge Base."""
    data_source_id: str
    """The data source."""
    name: str
    """Its name."""
    type: str
    """``S3``, ``CUSTOM``, ``WEB``..."""
    status: str
    """``AVAILABLE``, ``DELETING``, ``DELETE_UNSUCCESSFUL``."""
    bucket: str | None = None
    """S3 data sources: the bucket name."""
    prefix: str | None = None
    """S3 data sources: the inclusion prefix, if any."""
    chunking: Mapping[str, Any] | None = None
    """The chunking configuration, as sent."""


def parse_data_source(response: Mapping[str, Any]) -> DataSource:
    """Typed ``dataSource`` of a GetDataSource / CreateDataSource response.

    Raises:
        MalformedResponseError: The response lacks the data source or its ids.
    """
    body = response.get("dataSource")
    if not isinstance(body, Mapping):
        raise MalformedResponseError("GetDataSource response has no dataSource object")
    try:
        config = body.get("dataSourceConfiguration") or {}
        s3 = config.get("s3Configuration") or {}
        arn = s3.get("bucketArn")
        prefixes = s3.get("inclusionPrefixes") or []
        vector = body.get("vectorIngestionConfiguration") or {}
        return DataSource(
            knowledge_base_id=str(body["knowledgeBaseId"]),
            data_source_id=str(body["dataSourceId"]),
            name=str(body.get("name", "")),
            type=str(config.get("type", "")),
            status=str(body.get("status", "")),
            bucket=str(arn).split(":::", 1)[-1] if arn else None,
            prefix=str(prefixes[0]) if prefixes else None,
            chunking=vector.get("chunkingConfiguration"),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise MalformedResponseError(f"GetDataSource response: bad dataSource ({exc})") from exc
