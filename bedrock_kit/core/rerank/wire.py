"""Pure request builders and response parsers for reranking.

Two wire forms reach the same models:

* the Rerank API of ``bedrock-agent-runtime`` (``POST /rerank``), for Amazon Rerank
  (``amazon.rerank-v1:0``) and Cohere Rerank 3.5 (``cohere.rerank-v3-5:0``): camelCase,
  shapes from botocore's service model (``RerankRequest`` / ``RerankResponse``);
* InvokeModel on ``bedrock-runtime`` with Cohere's own body (``query``, ``documents``,
  ``top_n``, ``api_version``), for ``cohere.rerank-v3-5:0`` only.

Both give a :class:`RerankResult`: one :class:`RerankedDocument` per returned document,
best first, each with its relevance score and its index in the input list.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from bedrock_kit.core.chat.models import base_model_id
from bedrock_kit.core.transport.validation import check_arn_reachable, check_text, partition_of
from bedrock_kit.core.transport.wire import WireReader
from bedrock_kit.errors import ConfigurationError

RerankApi: TypeAlias = Literal["rerank", "invoke"]
Document: TypeAlias = "str | Mapping[str, Any]"
"""A document to rerank: text, or a JSON object (Rerank API ``jsonDocument``)."""

MAX_TEXT = 32_000  # RerankTextDocumentTextString: 1..32000 characters
MAX_DOCUMENTS = 1000  # RerankSourcesList: 1..1000
DOCUMENTS_PER_QUERY = 100  # Bedrock bills one query per 100 documents of a request
COHERE_API_VERSION = 2


@dataclass(frozen=True)
class RerankModelSpec:
    """What bedrock-kit knows about one reranker model."""

    apis: tuple[RerankApi, ...]
    """Wire forms the model is served over."""
    max_documents: int = MAX_DOCUMENTS
    """Documents one request takes."""


# Bedrock user guide, "Supported Regions and models for reranking in Amazon Bedrock".
_MODELS: dict[str, RerankModelSpec] = {
    "amazon.rerank-v1:0": RerankModelSpec(("rerank",)),
    "cohere.rerank-v3-5:0": RerankModelSpec(("rerank", "invoke")),
}
SUPPORTED_MODELS: tuple[str, ...] = tuple(_MODELS)
"""Reranker model ids bedrock-kit can build requests for."""


def rerank_model_spec(model_id: str) -> RerankModelSpec:
    """The spec of ``model_id`` (an id or a foundation-model ARN).

    Raises:
        ConfigurationError: The model is not a supported reranker.
    """
    base = base_model_id(model_id) if isinstance(model_id, str) else ""
    base = base.rsplit("/", 1)[-1]
    spec = _MODELS.get(base)
    if spec is None:
        raise ConfigurationError(
            f"model {model_id!r} is not a supported reranker model; "
            f"supported: {', '.join(SUPPORTED_MODELS)}",
            model_id=model_id if isinstance(model_id, str) else None,
        )
    return spec


def _check_count(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigurationError(f"{name} must be an int in {low}..{high}, got {value!r}")
    return value


@dataclass(frozen=True)
class RerankOptions:
    """A validated reranker configuration."""

    model_id: str
    """``amazon.rerank-v1:0``, ``cohere.rerank-v3-5:0`` or a foundation-model ARN of one."""
    top_n: int | None = None
    """Documents to return, best first (1-1000); None returns every document."""
    api: RerankApi = "rerank"
    """``rerank`` (the Rerank API) or ``invoke`` (InvokeModel, Cohere Rerank 3.5 only)."""
    additional_model_request_fields: Mapping[str, Any] | None = None
    """Model-specific fields: Rerank API ``additionalModelRequestFields``, or extra keys of
    the Cohere InvokeModel body (``max_tokens_per_doc``...)."""
    spec: RerankModelSpec = field(init=False, repr=False, compare=False)
    """The model's spec, looked up from ``model_id``."""

    def __post_init__(self) -> None:
        spec = rerank_model_spec(self.model_id)
        object.__setattr__(self, "spec", spec)
        if self.api not in ("rerank", "invoke"):
            raise ConfigurationError(f"api must be 'rerank' or 'invoke', got {self.api!r}")
        if self.api not in spec.apis:
            raise ConfigurationError(
                f"{self.model_id} is served by the Rerank API only; use api='rerank' "
                "(InvokeModel reranking is Cohere Rerank 3.5's)",
                model_id=self.model_id,
            )
        if self.top_n is not None:
            _check_count(self.top_n, "top_n", 1, spec.max_documents)
        extra = self.additional_model_request_fields
        if extra is not None:
            if not isinstance(extra, Mapping):
                raise ConfigurationError(
                    f"additional_model_request_fields must be a dict, got {type(extra).__name__}"
                )
            reserved = {"query", "documents", "top_n", "api_version"} & set(extra)
            if self.api == "invoke" and reserved:
                raise ConfigurationError(
                    f"additional_model_request_fields may not set {sorted(reserved)}: "
                    "bedrock-kit builds them from the call"
                )


def check_query(query: object) -> str:
    """A query Bedrock accepts: a non-blank string of at most 32,000 characters."""
    if not isinstance(query, str):
        raise ConfigurationError(f"query must be a string, got {type(query).__name__}")
    if not query.strip():
        raise ConfigurationError("query is empty; Bedrock rejects empty rerank queries")
    if len(query) > MAX_TEXT:
        raise ConfigurationError(
            f"query has {len(query)} characters; the Rerank API takes at most {MAX_TEXT}"
        )
    check_text(query, "query")
    return query


def check_documents(documents: object, spec: RerankModelSpec) -> list[Document]:
    """Documents Bedrock accepts: 1 to 1,000 non-blank texts or JSON objects."""
    if isinstance(documents, str | bytes) or not isinstance(documents, Sequence):
        raise ConfigurationError(
            f"documents must be a list of strings or dicts, got {type(documents).__name__}"
        )
    if not documents:
        raise ConfigurationError("documents is empty: give at least one document to rerank")
    if len(documents) > spec.max_documents:
        raise ConfigurationError(
            f"documents has {len(documents)} items; one rerank request takes at most "
            f"{spec.max_documents}"
        )
    checked: list[Document] = []
    for index, document in enumerate(documents):
        where = f"documents[{index}]"
        if isinstance(document, str):
            if not document.strip():
                raise ConfigurationError(f"{where} is empty; Bedrock rejects empty documents")
            if len(document) > MAX_TEXT:
                raise ConfigurationError(
                    f"{where} has {len(document)} characters; at most {MAX_TEXT}"
                )
        elif isinstance(document, Mapping):
            if not document:
                raise ConfigurationError(f"{where} is an empty object")
            try:
                json.dumps(document)
            except (TypeError, ValueError) as exc:
                raise ConfigurationError(f"{where} is not JSON-serializable: {exc}") from exc
        else:
            raise ConfigurationError(
                f"{where} must be a string or a dict, got {type(document).__name__}"
            )
        check_text(document, where)
        checked.append(document)
    return checked


def billed_queries(documents: int) -> int:
    """Queries Bedrock bills for one request over ``documents`` documents (one per 100)."""
    return max(1, math.ceil(documents / DOCUMENTS_PER_QUERY))


def model_arn(model_id: str, region: str | None) -> str:
    """The foundation-model ARN the Rerank API's ``modelArn`` needs.

    Raises:
        ConfigurationError: A bare id and no region to build the ARN in.
    """
    check_arn_reachable(model_id, region, "model")
    if model_id.startswith("arn:"):
        return model_id
    if region is None:
        raise ConfigurationError(
            f"the Rerank API needs a model ARN; give region_name so {model_id} can become "
            "arn:aws:bedrock:<region>::foundation-model/...",
            model_id=model_id,
        )
    return f"arn:{partition_of(region)}:bedrock:{region}::foundation-model/{model_id}"


def _source(document: Document) -> dict[str, Any]:
    if isinstance(document, str):
        inline: dict[str, Any] = {"type": "TEXT", "textDocument": {"text": document}}
    else:
        inline = {"type": "JSON", "jsonDocument": dict(document)}
    return {"type": "INLINE", "inlineDocumentSource": inline}


def build_rerank_request(
    options: RerankOptions,
    query: str,
    documents: Sequence[Document],
    *,
    region: str | None,
    next_token: str | None = None,
) -> dict[str, Any]:
    """Rerank API keyword arguments (``queries``, ``sources``, ``rerankingConfiguration``)."""
    model: dict[str, Any] = {"modelArn": model_arn(options.model_id, region)}
    if options.additional_model_request_fields:
        model["additionalModelRequestFields"] = dict(options.additional_model_request_fields)
    bedrock: dict[str, Any] = {"modelConfiguration": model}
    if options.top_n is not None:
        bedrock["numberOfResults"] = min(options.top_n, len(documents))
    request: dict[str, Any] = {
        "queries": [{"type": "TEXT", "textQuery": {"text": check_query(query)}}],
        "sources": [_source(d) for d in check_documents(documents, options.spec)],
        "rerankingConfiguration": {
            "type": "BEDROCK_RERANKING_MODEL",
            "bedrockRerankingConfiguration": bedrock,
        },
    }
    if next_token is not None:
        request["nextToken"] = next_token
    return request


def build_invoke_request(
    options: RerankOptions, query: str, documents: Sequence[Document]
) -> dict[str, Any]:
    """InvokeModel keyword arguments with Cohere Rerank's body."""
    body: dict[str, Any] = {
        "query": check_query(query),
        "documents": [
            d if isinstance(d, str) else dict(d) for d in check_documents(documents, options.spec)
        ],
        "api_version": COHERE_API_VERSION,
    }
    if options.top_n is not None:
        body["top_n"] = min(options.top_n, len(documents))
    body.update(options.additional_model_request_fields or {})
    return {
        "modelId": options.model_id,
        "body": json.dumps(body),
        "contentType": "application/json",
        "accept": "application/json",
    }


# -- responses


@dataclass(frozen=True)
class RerankedDocument:
    """One document as the reranker returned it."""

    index: int
    """Position of the document in the input list."""
    score: float
    """Relevance score (higher is more relevant)."""
    document: Document
    """The input document at ``index``."""


@dataclass(frozen=True)
class RerankResult:
    """What one rerank call returned, best first."""

    model_id: str
    """The reranker model."""
    results: tuple[RerankedDocument, ...]
    """Returned documents, highest score first."""
    queries: int = 1
    """Queries Bedrock bills for the call (one per 100 documents)."""
    request_ids: tuple[str, ...] = ()
    """``x-amzn-RequestId`` of every request (pages included)."""
    response_id: str | None = None
    """Cohere's response ``id`` (InvokeModel form)."""


def _request_id(response: Mapping[str, Any]) -> str | None:
    meta = response.get("ResponseMetadata") or {}
    found = meta.get("RequestId")
    return str(found) if found else None


def _item(
    r: WireReader, wire: Any, documents: Sequence[Document], keys: tuple[str, str], where: str
) -> RerankedDocument:
    wire = r.obj(wire, where)
    index = r.count(wire.get(keys[0]), f"{where}.{keys[0]}")
    if index >= len(documents):
        raise r.malformed(f"{where}.{keys[0]} is {index}, but {len(documents)} documents were sent")
    score = r.number(wire.get(keys[1]), f"{where}.{keys[1]}")
    return RerankedDocument(index=index, score=score, document=documents[index])


def _checked(r: WireReader, items: list[RerankedDocument], top_n: int | None) -> None:
    indexes = [item.index for item in items]
    if len(set(indexes)) != len(indexes):
        raise r.malformed(f"a document index repeats: {indexes}")
    if top_n is not None and len(items) > top_n:
        raise r.malformed(f"{len(items)} results for top_n={top_n}")


@dataclass
class RerankPager:
    """Rerank API pagination: pages are added until Bedrock sends no ``nextToken``."""

    options: RerankOptions
    """The configuration."""
    documents: Sequence[Document]
    """The documents sent, to map indexes back."""
    results: list[RerankedDocument] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)
    next_token: str | None = None
    pages: int = 0
    _tokens: set[str] = field(default_factory=set)

    def add_page(self, response: Mapping[str, Any]) -> bool:
        """Take one RerankResponse; True when another page must be fetched.

        Raises:
            MalformedResponseError: Not the documented shape, an index out of range or
                repeated, a token that repeats.
        """
        r = WireReader(
            "Rerank response", model_id=self.options.model_id, request_id=_request_id(response)
        )
        with r.guard(response):
            body = r.obj(response, "the response")
            wire = r.items(body.get("results"), "results")
            page = [
                _item(r, item, self.documents, ("index", "relevanceScore"), f"results[{i}]")
                for i, item in enumerate(wire)
            ]
            token = r.opt_text(body.get("nextToken"), "nextToken") or None
            if token is not None and token in self._tokens:
                raise r.malformed(f"nextToken {token!r} repeats")
        self.pages += 1
        if r.request_id:
            self.request_ids.append(r.request_id)
        self.results.extend(page)
        self.next_token = token
        if token is not None:
            self._tokens.add(token)
        more = token is not None and bool(page)
        if not more:
            _checked(r, self.results, self.options.top_n)
        return more

    def result(self) -> RerankResult:
        """The typed result, best first."""
        ordered = sorted(self.results, key=lambda item: -item.score)
        return RerankResult(
            model_id=self.options.model_id,
            results=tuple(ordered),
            queries=billed_queries(len(self.documents)),
            request_ids=tuple(self.request_ids),
        )


def parse_invoke_response(
    options: RerankOptions,
    documents: Sequence[Document],
    response: Mapping[str, Any],
    raw: bytes,
) -> RerankResult:
    """Type the InvokeModel answer of Cohere Rerank (``results[].index/relevance_score``).

    Raises:
        MalformedResponseError: Not a JSON object with ``results``, or an index out of range
            or repeated.
    """
    request_id = _request_id(response)
    r = WireReader(
        "Cohere rerank response", model_id=options.model_id, request_id=request_id, body=raw
    )
    body = r.loads_object(raw)
    with r.guard(body):
        wire = r.items(body.get("results"), "results")
        items = [
            _item(r, item, documents, ("index", "relevance_score"), f"results[{i}]")
            for i, item in enumerate(wire)
        ]
        _checked(r, items, options.top_n)
        response_id = r.opt_text(body.get("id"), "id")
    return RerankResult(
        model_id=options.model_id,
        results=tuple(sorted(items, key=lambda item: -item.score)),
        queries=billed_queries(len(documents)),
        request_ids=(request_id,) if request_id else (),
        response_id=response_id,
    )
