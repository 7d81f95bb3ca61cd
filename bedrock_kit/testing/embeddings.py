"""LocalBedrock answers for the embedding bodies beyond plain float text vectors.

Titan Multimodal (``inputImage``, alone or with ``inputText``), Titan Text v2
``embeddingTypes``, Cohere ``images`` / ``inputs`` and ``embedding_types``: each answered in
the shape Bedrock documents for it, with deterministic vectors
(:func:`~bedrock_kit.testing.builders.fake_embedding`) and a fresh response ``id`` per
Cohere reply.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from bedrock_kit.testing.builders import fake_embedding, new_id
from bedrock_kit.testing.replies import Reply
from bedrock_kit.testing.scripts import estimate_tokens

_TOKEN_HEADER = "X-Amzn-Bedrock-Input-Token-Count"
_IMAGE_TOKENS = 500  # what a scripted image "costs" in input tokens


def typed(vector: Sequence[float], kind: str) -> list[Any]:
    """``vector`` as an embedding of ``kind`` (float, int8, uint8, binary, ubinary)."""
    if kind == "float":
        return list(vector)
    if kind == "int8":
        return [max(-128, min(127, round(v * 127))) for v in vector]
    if kind == "uint8":
        return [max(0, min(255, round((v + 1) * 127.5))) for v in vector]
    bits = [1 if v > 0 else 0 for v in vector]
    packed = [
        int("".join(map(str, bits[i : i + 8])).ljust(8, "0"), 2) for i in range(0, len(bits), 8)
    ]
    return packed if kind == "ubinary" else [p - 256 if p > 127 else p for p in packed]


def _image_key(data: str) -> str:
    raw = data.split(",", 1)[-1]
    return "image:" + hashlib.sha256(base64.b64decode(raw + "==")).hexdigest()


def _titan(body: Mapping[str, Any]) -> Reply | None:
    image = body.get("inputImage")
    types = body.get("embeddingTypes")
    if image is None and not types and "embeddingConfig" not in body:
        return None
    text = body.get("inputText") if isinstance(body.get("inputText"), str) else None
    key = " ".join(k for k in (text, _image_key(image) if isinstance(image, str) else None) if k)
    size = int((body.get("embeddingConfig") or {}).get("outputEmbeddingLength") or 0)
    size = size or int(body.get("dimensions") or 1024)
    vector = fake_embedding(key, size)
    tokens = max(1, estimate_tokens(text)) if text else 0
    answer: dict[str, Any] = {"embedding": vector, "inputTextTokenCount": tokens}
    if image is not None:
        answer["message"] = None
    if types:
        answer["embeddingsByType"] = {
            kind: (vector if kind == "float" else [1 if v > 0 else 0 for v in vector])
            for kind in types
        }
        if "float" not in types:
            del answer["embedding"]
    return Reply.json(answer, headers={_TOKEN_HEADER: str(tokens)})


def _cohere_keys(body: Mapping[str, Any]) -> tuple[list[str], int] | None:
    if isinstance(body.get("images"), list):
        return [_image_key(u) for u in body["images"]], _IMAGE_TOKENS * len(body["images"])
    if isinstance(body.get("inputs"), list):
        keys, tokens = [], 0
        for item in body["inputs"]:
            parts = []
            for part in item.get("content") or []:
                if part.get("type") == "text":
                    parts.append(part["text"])
                    tokens += max(1, estimate_tokens(part["text"]))
                else:
                    parts.append(_image_key(part.get("image_url", "")))
                    tokens += _IMAGE_TOKENS
            keys.append(" ".join(parts))
        return keys, tokens
    return None


def _cohere(model_id: str, body: Mapping[str, Any]) -> Reply | None:
    types = list(body.get("embedding_types") or [])
    found = _cohere_keys(body)
    if found is None:
        texts = body.get("texts")
        plain = types in ([], ["float"]) and "output_dimension" not in body
        if not isinstance(texts, list) or plain:
            return None  # plain float text vectors: the basic rules answer those
        found = list(texts), sum(max(1, estimate_tokens(t)) for t in texts)
    keys, tokens = found
    size = int(body.get("output_dimension") or (1536 if "embed-v4" in model_id else 1024))
    vectors = [fake_embedding(key, size) for key in keys]
    answer: dict[str, Any] = {"id": new_id(), "texts": list(body.get("texts") or [])}
    if types:
        answer["response_type"] = "embeddings_by_type"
        answer["embeddings"] = {kind: [typed(v, kind) for v in vectors] for kind in types}
    else:
        answer["response_type"] = "embeddings_floats"
        answer["embeddings"] = vectors
    if "images" in body:
        answer["images"] = [
            {"format": u.split(";")[0].removeprefix("data:")} for u in body["images"]
        ]
    return Reply.json(answer, headers={_TOKEN_HEADER: str(max(1, tokens))})


def answer_embedding(model_id: str, body: Mapping[str, Any]) -> Reply | None:
    """The reply to an embedding body this module covers; None for plain float text bodies
    (and for bodies that are not embedding requests)."""
    if "textGenerationConfig" in body:
        return None
    if any(key in body for key in ("inputImage", "embeddingTypes", "embeddingConfig")):
        return _titan(body)
    if any(key in body for key in ("images", "inputs", "texts")) and "input_type" in body:
        return _cohere(model_id, body)
    return None
