"""``BedrockKitEmbeddings``: LangChain embeddings over Amazon Titan and Cohere Embed models."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings
from pydantic import ConfigDict, Field, PrivateAttr

from bedrock_kit.core.embeddings.runtime import (
    DEFAULT_MAX_CONCURRENCY,
    EmbeddingOptions,
    EmbeddingResult,
    EmbeddingsRuntime,
    UsageHook,
    check_input_type,
)
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.langchain._client import BedrockClientArgs
from bedrock_kit.langchain._tags import LedgerTags


def read_images(images: Sequence[bytes | str | Path]) -> list[bytes]:
    """Image bytes from bytes or file paths (a path that cannot be read is named)."""
    if isinstance(images, str | bytes | Path):
        raise ConfigurationError("images must be a list of image bytes or file paths")
    out: list[bytes] = []
    for index, image in enumerate(images):
        if isinstance(image, bytes | bytearray):
            out.append(bytes(image))
            continue
        if not isinstance(image, str | Path):
            raise ConfigurationError(
                f"images[{index}] must be bytes or a file path, got {type(image).__name__}"
            )
        try:
            out.append(Path(image).read_bytes())
        except OSError as exc:
            raise ConfigurationError(f"images[{index}]: cannot read {str(image)!r}: {exc}") from exc
    return out


class BedrockKitEmbeddings(BedrockClientArgs, LedgerTags, Embeddings):
    """Bedrock embeddings, native async: Titan Text Embeddings v1 and v2, Titan Multimodal
    Embeddings (text and images), Cohere Embed v3 (English, multilingual) and v4.

    Documents are embedded with Cohere's ``search_document`` input type and queries with
    ``search_query``; Cohere texts go 96 per call, Titan texts one per call (concurrently
    in the async forms). :meth:`embed_image` embeds images (bytes or file paths) with the
    multimodal models. ``embedding_types`` asks for int8/binary... vectors too (see
    ``runtime.embed`` for all of them). With a ``ledger``, every call is reserved before
    it is sent and settled to the input tokens Bedrock reports.

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
    embedding_types: list[str] | None = None
    """Vector types to ask for (Cohere: float/int8/uint8/binary/ubinary; Titan v2:
    float/binary); the first (or ``float``) is what the embed methods return."""
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    """Async InvokeModel calls in flight at once."""
    on_usage: UsageHook | None = Field(default=None, exclude=True)
    """Called with ``(model_id, input_tokens)`` after each call."""
    ledger: Any = Field(default=None, exclude=True)
    """A :class:`~bedrock_kit.Ledger`: each call reserved before, settled after."""
    progress: bool | None = Field(default=None, exclude=True)
    """A bar of texts embedded when a call needs several requests: None (default) on a
    terminal, True whenever tqdm is installed, False never."""

    _runtime: EmbeddingsRuntime | None = PrivateAttr(default=None)

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        # Checked after pydantic so callers get ConfigurationError, not a wrapped one.
        self._runtime = EmbeddingsRuntime(
            self.client_settings(),
            EmbeddingOptions(
                self.model_id,
                self.dimensions,
                self.normalize,
                self.truncate,
                check_input_type(self.input_type) if self.input_type else None,
                tuple(self.embedding_types or ()),
            ),
            client=self.client,
            async_client=self.async_client,
            on_usage=self.on_usage,
            max_concurrency=self.max_concurrency,
            ledger=self.ledger,
            progress=self.progress,
        )

    @property
    def runtime(self) -> EmbeddingsRuntime:
        """The core runtime: ``runtime.embed(...)`` returns vectors with usage."""
        assert self._runtime is not None  # set in model_post_init
        return self._runtime

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents (Cohere ``search_document``)."""
        with self._tagged():
            return self.runtime.embed(texts, "search_document").vectors

    def embed_query(self, text: str) -> list[float]:
        """Embed a query (Cohere ``search_query``)."""
        with self._tagged():
            return self.runtime.embed([text], "search_query").vectors[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async :meth:`embed_documents` over aiobotocore."""
        with self._tagged():
            result: EmbeddingResult = await self.runtime.aembed(texts, "search_document")
        return result.vectors

    async def aembed_query(self, text: str) -> list[float]:
        """Async :meth:`embed_query` over aiobotocore."""
        with self._tagged():
            return (await self.runtime.aembed([text], "search_query")).vectors[0]

    def embed_image(self, uris: Sequence[bytes | str | Path]) -> list[list[float]]:
        """Embed images given as bytes or file paths (Titan Multimodal, Cohere v3/v4)."""
        with self._tagged():
            return self.runtime.embed_images(read_images(uris)).vectors

    async def aembed_image(self, uris: Sequence[bytes | str | Path]) -> list[list[float]]:
        """Async :meth:`embed_image`."""
        with self._tagged():
            return (await self.runtime.aembed_images(read_images(uris))).vectors
