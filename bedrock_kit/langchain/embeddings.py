"""``BedrockKitEmbeddings``: LangChain embeddings over Titan Text Embeddings v2 and Cohere Embed."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr

from bedrock_kit.core.clients import ClientSettings
from bedrock_kit.core.embeddings import (
    DEFAULT_MAX_CONCURRENCY,
    EmbeddingOptions,
    EmbeddingResult,
    EmbeddingsRuntime,
    UsageHook,
    check_input_type,
)


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


class BedrockKitEmbeddings(BaseModel, Embeddings):
    """Bedrock text embeddings (Titan Text Embeddings v2, Cohere Embed v3/v4), native async.

    Documents are embedded with Cohere's ``search_document`` input type and queries with
    ``search_query``; Cohere texts go 96 per call, Titan texts one per call (concurrently
    in the async forms).

    Example:
        .. code-block:: python

            from bedrock_kit.langchain.embeddings import BedrockKitEmbeddings

            embeddings = BedrockKitEmbeddings(model="amazon.titan-embed-text-v2:0", dimensions=512)
            vectors = await embeddings.aembed_documents(["tides", "currents"])
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    model_id: str = Field(alias="model")
    """Embedding model id (``amazon.titan-embed-text-v2:0``, ``cohere.embed-english-v3``...)."""
    dimensions: int | None = None
    """Vector size: Titan v2 256/512/1024, Cohere v4 256/512/1024/1536."""
    normalize: bool | None = None
    """Titan only: unit-length vectors (Bedrock's default is True)."""
    truncate: str | None = None
    """Cohere only: how texts over the model's limit are cut."""
    input_type: str | None = None
    """Cohere: one input type for documents and queries (e.g. ``classification``)."""
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    """Async InvokeModel calls in flight at once."""
    on_usage: UsageHook | None = Field(default=None, exclude=True)
    """Called with ``(model_id, input_tokens)`` after each call, e.g. a budget ledger."""
    region_name: str | None = None
    """AWS region; falls back to the profile or ``AWS_REGION``."""
    endpoint_url: str | None = Field(default=None, alias="base_url")
    """Custom endpoint, e.g. a VPC endpoint or LocalBedrock."""
    credentials_profile_name: str | None = None
    """Named AWS profile."""
    aws_access_key_id: SecretStr | None = None
    """Explicit access key id."""
    aws_secret_access_key: SecretStr | None = None
    """Explicit secret access key."""
    aws_session_token: SecretStr | None = None
    """Explicit session token."""
    max_retries: int | None = None
    """Retries botocore makes on throttling and transient errors."""
    retry_mode: Literal["standard", "adaptive", "legacy"] = "standard"
    """botocore retry mode."""
    timeout: float | None = None
    """Read timeout in seconds."""
    client: Any = Field(default=None, exclude=True)
    """Injected boto3 ``bedrock-runtime`` client."""
    async_client: Any = Field(default=None, exclude=True)
    """Injected aiobotocore ``bedrock-runtime`` client."""

    _runtime: EmbeddingsRuntime | None = PrivateAttr(default=None)

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        # Checked after pydantic so callers get ConfigurationError, not a wrapped one.
        self._runtime = EmbeddingsRuntime(
            ClientSettings(
                region_name=self.region_name,
                endpoint_url=self.endpoint_url,
                profile_name=self.credentials_profile_name,
                aws_access_key_id=_secret(self.aws_access_key_id),
                aws_secret_access_key=_secret(self.aws_secret_access_key),
                aws_session_token=_secret(self.aws_session_token),
                max_retries=self.max_retries,
                retry_mode=self.retry_mode,
                timeout=self.timeout,
            ),
            EmbeddingOptions(
                self.model_id,
                self.dimensions,
                self.normalize,
                self.truncate,
                check_input_type(self.input_type) if self.input_type else None,
            ),
            client=self.client,
            async_client=self.async_client,
            on_usage=self.on_usage,
            max_concurrency=self.max_concurrency,
        )

    @property
    def runtime(self) -> EmbeddingsRuntime:
        """The core runtime: ``runtime.embed(...)`` returns vectors with usage."""
        assert self._runtime is not None  # set in model_post_init
        return self._runtime

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents (Cohere ``search_document``)."""
        return self.runtime.embed(texts, "search_document").vectors

    def embed_query(self, text: str) -> list[float]:
        """Embed a query (Cohere ``search_query``)."""
        return self.runtime.embed([text], "search_query").vectors[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async :meth:`embed_documents` over aiobotocore."""
        result: EmbeddingResult = await self.runtime.aembed(texts, "search_document")
        return result.vectors

    async def aembed_query(self, text: str) -> list[float]:
        """Async :meth:`embed_query` over aiobotocore."""
        return (await self.runtime.aembed([text], "search_query")).vectors[0]

    async def aclose(self) -> None:
        """Close this event loop's async client."""
        await self.runtime.pool.aclose()
