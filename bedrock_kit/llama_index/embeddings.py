"""``BedrockKitEmbedding``: LlamaIndex (multimodal) embeddings over Titan and Cohere Embed."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.embeddings.base import Embedding
from llama_index.core.embeddings.multi_modal_base import MultiModalEmbedding
from llama_index.core.schema import ImageType
from pydantic import ConfigDict, Field, PrivateAttr

from bedrock_kit.core.embeddings.runtime import (
    DEFAULT_MAX_CONCURRENCY,
    EmbeddingOptions,
    EmbeddingsRuntime,
    UsageHook,
    check_input_type,
)
from bedrock_kit.errors import ConfigurationError
from bedrock_kit.llama_index._client import BedrockClientArgs
from bedrock_kit.llama_index._tags import LedgerTags


def _image_bytes(image: ImageType) -> bytes:
    if isinstance(image, bytes | bytearray):
        return bytes(image)
    if isinstance(image, str):
        try:
            with open(image, "rb") as handle:
                return handle.read()
        except OSError as exc:
            raise ConfigurationError(f"cannot read image {image!r}: {exc}") from exc
    read = getattr(image, "read", None)
    if callable(read):
        data = read()
        if isinstance(data, bytes):
            return data
    raise ConfigurationError(
        f"an image must be bytes, a file path or a binary file, got {type(image).__name__}"
    )


class BedrockKitEmbedding(BedrockClientArgs, LedgerTags, MultiModalEmbedding):
    """Bedrock embeddings, native async: Titan Text Embeddings v1 and v2, Titan Multimodal
    Embeddings (text and images), Cohere Embed v3 (English, multilingual) and v4.

    Texts are embedded with Cohere's ``search_document`` input type and queries with
    ``search_query``; Cohere texts go up to 96 per call, Titan texts one per call
    (concurrently in the async forms). Images (``get_image_embedding``, paths, bytes or
    binary files) need a multimodal model. ``embedding_types`` asks for int8/binary...
    vectors too. With a ``ledger``, every call is reserved before it is sent and settled to
    the input tokens Bedrock reports.

    Example:
        .. code-block:: python

            from bedrock_kit.llama_index.embeddings import BedrockKitEmbedding

            embed_model = BedrockKitEmbedding(model="cohere.embed-english-v3")
            index = VectorStoreIndex.from_documents(docs, embed_model=embed_model)
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    model_name: str = Field(alias="model")
    """Embedding model id (``amazon.titan-embed-text-v2:0``, ``cohere.embed-english-v3``...)."""
    embed_batch_size: int = Field(default=96, gt=0)
    """Texts LlamaIndex hands over per batch (Cohere's per-call limit is 96)."""
    dimensions: int | None = None
    """Vector size: Titan v2 256/512/1024, Cohere v4 256/512/1024/1536."""
    normalize: bool | None = None
    """Titan only: unit-length vectors (Bedrock's default is True)."""
    truncate: str | None = None
    """Cohere only: ``NONE``, ``START`` or ``END`` for texts over the model's limit."""
    input_type: str | None = None
    """Cohere: one input type for texts and queries (e.g. ``classification``)."""
    embedding_types: list[str] | None = None
    """Vector types to ask for (Cohere: float/int8/uint8/binary/ubinary; Titan v2:
    float/binary); the first (or ``float``) is what the embedding methods return."""
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
                self.model_name,
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

    @classmethod
    def class_name(cls) -> str:
        """Serialization name."""
        return "BedrockKitEmbedding"

    @property
    def runtime(self) -> EmbeddingsRuntime:
        """The core runtime: ``runtime.embed(...)`` returns vectors with usage."""
        assert self._runtime is not None  # set in __init__
        return self._runtime

    def _get_query_embedding(self, query: str) -> Embedding:
        with self._tagged():
            return self.runtime.embed([query], "search_query").vectors[0]

    async def _aget_query_embedding(self, query: str) -> Embedding:
        with self._tagged():
            return (await self.runtime.aembed([query], "search_query")).vectors[0]

    def _get_text_embedding(self, text: str) -> Embedding:
        with self._tagged():
            return self.runtime.embed([text], "search_document").vectors[0]

    async def _aget_text_embedding(self, text: str) -> Embedding:
        with self._tagged():
            return (await self.runtime.aembed([text], "search_document")).vectors[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        with self._tagged():
            return self.runtime.embed(texts, "search_document").vectors

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        with self._tagged():
            return (await self.runtime.aembed(texts, "search_document")).vectors

    def _get_image_embedding(self, img_file_path: ImageType) -> Embedding:
        with self._tagged():
            return self.runtime.embed_images([_image_bytes(img_file_path)]).vectors[0]

    async def _aget_image_embedding(self, img_file_path: ImageType) -> Embedding:
        with self._tagged():
            return (await self.runtime.aembed_images([_image_bytes(img_file_path)])).vectors[0]

    def _get_image_embeddings(self, img_file_paths: list[ImageType]) -> list[Embedding]:
        with self._tagged():
            return self.runtime.embed_images([_image_bytes(p) for p in img_file_paths]).vectors

    async def _aget_image_embeddings(self, img_file_paths: list[ImageType]) -> list[Embedding]:
        images = [_image_bytes(p) for p in img_file_paths]
        with self._tagged():
            return (await self.runtime.aembed_images(images)).vectors
