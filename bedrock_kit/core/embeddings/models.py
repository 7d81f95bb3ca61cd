"""What bedrock-kit knows about each embedding model, and the validated options for one.

Facts are from the Bedrock user guide pages of each model ("Amazon Titan Text Embeddings",
"Amazon Titan Multimodal Embeddings G1", "Cohere Embed v3", "Cohere Embed v4"); every
option is checked here, so a bad one fails when the embedder is built, not at the call.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from bedrock_kit.core.chat.models import base_model_id
from bedrock_kit.core.transport.validation import check_text
from bedrock_kit.errors import ConfigurationError

InputType: TypeAlias = Literal[
    "search_document", "search_query", "classification", "clustering", "image"
]
INPUT_TYPES: tuple[InputType, ...] = (
    "search_document",
    "search_query",
    "classification",
    "clustering",
)
"""Cohere text input types (Cohere Embed v3 also takes ``image`` for image inputs)."""
TRUNCATE_MODES = ("NONE", "START", "END")
"""Cohere Embed v3 ``truncate`` values (v4: ``NONE``, ``LEFT``, ``RIGHT``)."""
COHERE_TYPES = ("float", "int8", "uint8", "binary", "ubinary")
TITAN_TYPES = ("float", "binary")
_MB = 1024 * 1024


@dataclass(frozen=True)
class EmbeddingModelSpec:
    """What bedrock-kit knows about one embedding model."""

    family: Literal["titan", "cohere"]
    """Request/response body family."""
    max_batch: int
    """Inputs per InvokeModel call (Titan takes one)."""
    dimensions: tuple[int, ...] = ()
    """Output sizes the model accepts; empty when it has one fixed size."""
    default_dimensions: int | None = None
    """Size returned when ``dimensions`` is not given (None: fixed by the model)."""
    variant: str = ""
    """``text-v1``, ``text-v2``, ``image-v1`` (Titan) or ``v3``, ``v4`` (Cohere)."""
    embedding_types: tuple[str, ...] = ()
    """Vector types one may ask for; empty: floats only, no choice."""
    truncate_modes: tuple[str, ...] = ()
    """``truncate`` values the model takes; empty: no truncate option."""
    input_types: tuple[str, ...] = ()
    """Input types of text inputs; empty: the model has none."""
    image_formats: tuple[str, ...] = ()
    """Image formats the model embeds; empty: text only."""
    max_image_bytes: int = 0
    """Largest image accepted, in bytes."""
    max_images: int = 0
    """Images per call."""
    max_text_chars: int | None = None
    """Longest text accepted, in characters; None when the limit is in tokens only."""
    text_only: bool = True
    """False when texts and images may be combined in one input."""

    @property
    def takes_images(self) -> bool:
        """True when the model embeds images."""
        return bool(self.image_formats)


_COHERE_V3 = EmbeddingModelSpec(
    "cohere",
    96,
    variant="v3",
    embedding_types=COHERE_TYPES,
    truncate_modes=TRUNCATE_MODES,
    input_types=INPUT_TYPES,
    image_formats=("png", "jpeg"),
    max_image_bytes=5 * _MB,
    max_images=1,
    max_text_chars=2048,
)
_MODELS: dict[str, EmbeddingModelSpec] = {
    "amazon.titan-embed-text-v1": EmbeddingModelSpec("titan", 1, variant="text-v1"),
    "amazon.titan-embed-text-v2:0": EmbeddingModelSpec(
        "titan",
        1,
        (256, 512, 1024),
        1024,
        variant="text-v2",
        embedding_types=TITAN_TYPES,
        max_text_chars=50_000,
    ),
    "amazon.titan-embed-image-v1": EmbeddingModelSpec(
        "titan",
        1,
        (256, 384, 1024),
        1024,
        variant="image-v1",
        image_formats=("png", "jpeg"),
        max_image_bytes=25 * _MB,
        max_images=1,
        text_only=False,
    ),
    "cohere.embed-english-v3": _COHERE_V3,
    "cohere.embed-multilingual-v3": _COHERE_V3,
    "cohere.embed-v4:0": EmbeddingModelSpec(
        "cohere",
        96,
        (256, 512, 1024, 1536),
        1536,
        variant="v4",
        embedding_types=COHERE_TYPES,
        truncate_modes=("NONE", "LEFT", "RIGHT"),
        input_types=INPUT_TYPES,
        image_formats=("png", "jpeg", "webp", "gif"),
        max_image_bytes=5 * _MB,
        max_images=96,
        text_only=False,
    ),
}
SUPPORTED_MODELS: tuple[str, ...] = tuple(_MODELS)
"""Embedding model ids bedrock-kit can build bodies for."""


def embedding_model_spec(model_id: str) -> EmbeddingModelSpec:
    """The spec of ``model_id`` (inference-profile prefixes and ``:0`` suffixes allowed).

    Raises:
        ConfigurationError: The model is not a supported embedding model.
    """
    base = base_model_id(model_id) if isinstance(model_id, str) else ""
    spec = _MODELS.get(base) or _MODELS.get(base.removesuffix(":0")) or _MODELS.get(f"{base}:0")
    if spec is None:
        raise ConfigurationError(
            f"model {model_id!r} is not a supported embedding model; "
            f"supported: {', '.join(SUPPORTED_MODELS)}"
        )
    return spec


def check_input_type(input_type: object) -> InputType:
    """Validate an ``input_type`` argument (a Cohere text input type)."""
    if input_type not in INPUT_TYPES:
        raise ConfigurationError(f"input_type must be one of {INPUT_TYPES}, got {input_type!r}")
    return input_type


def _names(model_id: str, what: str, allowed: Sequence[object]) -> str:
    if not allowed:
        return f"{what} does not apply to {model_id}"
    return f"{what} for {model_id} must be among {tuple(allowed)}"


@dataclass(frozen=True)
class EmbeddingOptions:
    """A validated embedding configuration: model plus its body parameters."""

    model_id: str
    """Model id as given (profile id or ARN kept for the request)."""
    dimensions: int | None = None
    """Vector size (Titan v2: 256/512/1024; Titan Multimodal: 256/384/1024; Cohere v4:
    256/512/1024/1536)."""
    normalize: bool | None = None
    """Titan Text v2 only: unit-length vectors (Bedrock default True)."""
    truncate: str | None = None
    """Cohere only: v3 ``NONE``/``START``/``END``, v4 ``NONE``/``LEFT``/``RIGHT``."""
    input_type: InputType | None = None
    """Cohere: fixed input type; None lets each call choose (documents vs queries)."""
    embedding_types: tuple[str, ...] = ()
    """Vector types to ask for (Cohere: float, int8, uint8, binary, ubinary; Titan Text v2:
    float, binary); empty asks for the model's default (floats). The first requested
    type is the result's ``vectors`` unless ``float`` is requested too."""
    spec: EmbeddingModelSpec = field(init=False, repr=False, compare=False)
    """The model's spec, looked up from ``model_id``."""

    def __post_init__(self) -> None:
        spec = embedding_model_spec(self.model_id)
        object.__setattr__(self, "spec", spec)
        model = self.model_id
        if self.dimensions is not None and self.dimensions not in spec.dimensions:
            allowed = spec.dimensions or "no choice (the model has a fixed size)"
            raise ConfigurationError(
                f"dimensions={self.dimensions!r} is not valid for {model}; allowed: {allowed}"
            )
        if self.normalize is not None and spec.variant != "text-v2":
            raise ConfigurationError(
                f"normalize applies to Titan Text Embeddings v2 only, not {model}"
            )
        if self.truncate is not None:
            if spec.family != "cohere":
                raise ConfigurationError(f"truncate applies to Cohere models only, not {model}")
            if self.truncate not in spec.truncate_modes:
                raise ConfigurationError(
                    f"truncate must be one of {spec.truncate_modes} for {model}, "
                    f"got {self.truncate!r}"
                )
        if self.input_type is not None:
            if spec.family != "cohere":
                raise ConfigurationError(f"input_type applies to Cohere models only, not {model}")
            check_input_type(self.input_type)
        types = self.embedding_types
        if isinstance(types, str) or not isinstance(types, Sequence):
            raise ConfigurationError(
                f"embedding_types must be a list of type names, got {type(types).__name__}"
            )
        object.__setattr__(self, "embedding_types", tuple(types))
        bad = [t for t in types if t not in spec.embedding_types]
        if bad:
            raise ConfigurationError(
                f"{_names(model, 'embedding_types', spec.embedding_types)}, got {bad}"
            )
        if len(set(types)) != len(types):
            raise ConfigurationError(f"embedding_types repeats a type: {list(types)}")

    @property
    def primary_type(self) -> str:
        """The vector type returned as ``vectors``."""
        types = self.embedding_types
        return "float" if not types or "float" in types else types[0]


def check_texts(
    texts: object, argument: str = "texts", *, max_chars: int | None = None
) -> list[str]:
    """Validate a list of non-blank strings (Bedrock rejects empty inputs), naming the argument.

    Args:
        texts: The texts.
        argument: Names the argument in errors.
        max_chars: Longest text the model takes, when it has a character limit.
    """
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise ConfigurationError(
            f"{argument} must be a list of strings, got {type(texts).__name__}"
        )
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise ConfigurationError(
                f"{argument}[{index}] must be a string, got {type(text).__name__}"
            )
        if not text.strip():
            raise ConfigurationError(f"{argument}[{index}] is empty; Bedrock rejects empty texts")
        if max_chars is not None and len(text) > max_chars:
            raise ConfigurationError(
                f"{argument}[{index}] has {len(text)} characters; the model takes at most "
                f"{max_chars} (split it, or use a model with a longer limit)"
            )
        check_text(text, f"{argument}[{index}]")
    return list(texts)


# -- images

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)


def image_format(data: bytes) -> str | None:
    """``png``, ``jpeg``, ``gif`` or ``webp`` from the file's first bytes; None otherwise."""
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def check_images(images: object, spec: EmbeddingModelSpec, model_id: str) -> list[bytes]:
    """Validate image bytes for ``spec``: a format it takes, within its size limit.

    Raises:
        ConfigurationError: Naming ``images[i]`` and what is wrong with it.
    """
    if not spec.takes_images:
        raise ConfigurationError(
            f"{model_id} embeds text only; images need amazon.titan-embed-image-v1, "
            "a Cohere Embed v3 model or cohere.embed-v4:0"
        )
    if isinstance(images, bytes | bytearray | str) or not isinstance(images, Sequence):
        raise ConfigurationError(
            f"images must be a list of image bytes, got {type(images).__name__}"
        )
    checked: list[bytes] = []
    for index, data in enumerate(images):
        where = f"images[{index}]"
        if not isinstance(data, bytes | bytearray) or not data:
            raise ConfigurationError(
                f"{where} must be non-empty image bytes, got {type(data).__name__}"
            )
        found = image_format(bytes(data))
        if found not in spec.image_formats:
            raise ConfigurationError(
                f"{where} is {found or 'not a recognised image'}; {model_id} takes "
                f"{', '.join(spec.image_formats)}"
            )
        if len(data) > spec.max_image_bytes:
            raise ConfigurationError(
                f"{where} is {len(data)} bytes; {model_id} takes images up to "
                f"{spec.max_image_bytes // _MB} MB"
            )
        checked.append(bytes(data))
    return checked


def data_uri(data: bytes) -> str:
    """A ``data:image/<format>;base64,...`` URI for image bytes (Cohere's image form)."""
    return f"data:image/{image_format(data)};base64,{base64.b64encode(data).decode()}"
