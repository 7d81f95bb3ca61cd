"""Pure builders of Retrieve and RetrieveAndGenerate(Stream) requests, and the paginator.

Every function here returns botocore keyword arguments (camelCase wire dicts) and checks
its input first, raising :class:`ConfigurationError` naming the bad argument.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bedrock_kit.core.chat.converse import request_id_of
from bedrock_kit.core.chat.guardrail_config import parse_guardrail_config
from bedrock_kit.core.chat.types import GuardrailConfig, InferenceConfig
from bedrock_kit.core.knowledge_bases.filters import Filter, coerce_filter
from bedrock_kit.core.knowledge_bases.results import (
    RetrievalResult,
    RetrieveResult,
    parse_guardrail_action,
    parse_retrieval_results,
)
from bedrock_kit.core.knowledge_bases.sources import Sources, coerce_sources
from bedrock_kit.core.transport.validation import check_arn_reachable, check_text, partition_of
from bedrock_kit.core.transport.wire import WireReader
from bedrock_kit.errors import ConfigurationError

_SEARCH_TYPES = ("HYBRID", "SEMANTIC")
_SESSION_ID = re.compile(r"^[0-9a-zA-Z._:-]{2,100}$")
# Cross-region inference profile ids (us.anthropic...) need an account id to become ARNs,
# which a client does not know; Bedrock accepts them as they are.
_PROFILE_PREFIX = re.compile(r"^(us|eu|apac|jp|au|ca|us-gov|global)\.")
_MAX_PAGE = 100  # numberOfResults range is 1..100


@dataclass(frozen=True)
class RetrievalOptions:
    """How a knowledge base searches (``retrievalConfiguration``)."""

    number_of_results: int | None = None
    """Results per request (1-100); Bedrock's default is 5."""
    search_type: Literal["HYBRID", "SEMANTIC"] | None = None
    """``overrideSearchType``; None lets Bedrock choose."""
    filter: Filter | Mapping[str, Any] | None = None
    """Metadata filter: a :class:`Filter` or a raw ``RetrievalFilter`` dict."""
    implicit_filter_configuration: Mapping[str, Any] | None = None
    """``implicitFilterConfiguration`` passed through (metadataAttributes, modelArn)."""
    reranking_configuration: Mapping[str, Any] | None = None
    """``rerankingConfiguration`` passed through."""
    raw: Mapping[str, Any] | None = None
    """A raw ``retrievalConfiguration`` the typed fields are merged into (the shape
    langchain-aws's ``retrieval_config`` takes)."""

    def __post_init__(self) -> None:
        n = self.number_of_results
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 100):
            raise ConfigurationError(f"number_of_results must be an int in 1..100, got {n!r}")
        if self.search_type is not None and self.search_type not in _SEARCH_TYPES:
            raise ConfigurationError(
                f"search_type must be one of {_SEARCH_TYPES}, got {self.search_type!r}"
            )
        if self.filter is not None:
            object.__setattr__(self, "filter", coerce_filter(self.filter))
        for name in ("implicit_filter_configuration", "reranking_configuration", "raw"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Mapping):
                raise ConfigurationError(f"{name} must be a dict, got {type(value).__name__}")


def coerce_guardrail(
    value: GuardrailConfig | Mapping[str, Any] | None, argument: str = "guardrail"
) -> GuardrailConfig | None:
    """Accept a GuardrailConfig, a Knowledge Bases dict (``guardrailId``/``guardrailVersion``)
    or a Converse-style dict (``guardrailIdentifier``/``guardrailVersion``).

    Raises:
        ConfigurationError: Unknown keys, or a missing id or version.
    """
    if value is None or isinstance(value, GuardrailConfig):
        return value
    if isinstance(value, Mapping) and set(value) == {"guardrailId", "guardrailVersion"}:
        if not value["guardrailId"] or not value["guardrailVersion"]:
            raise ConfigurationError(f"{argument} needs guardrailId and guardrailVersion")
        return GuardrailConfig(str(value["guardrailId"]), str(value["guardrailVersion"]))
    try:
        return parse_guardrail_config(value)
    except ConfigurationError as exc:
        message = exc.message if argument in exc.message else f"{argument}: {exc.message}"
        raise ConfigurationError(message) from exc


def build_guardrail_configuration(
    guardrail: GuardrailConfig | Mapping[str, Any] | None,
) -> dict[str, Any] | None:
    """Knowledge Bases ``guardrailConfiguration`` (id and version only; no trace here)."""
    config = coerce_guardrail(guardrail)
    if config is None:
        return None
    return {"guardrailId": config.identifier, "guardrailVersion": config.version}


def _merge(target: dict[str, Any], key: str, value: Any, argument: str) -> None:
    if value is None:
        return
    if key in target and target[key] != value:
        raise ConfigurationError(
            f"{argument} conflicts with {key!r} already set in the raw configuration"
        )
    target[key] = value


def build_retrieval_configuration(
    options: RetrievalOptions | None, *, number_of_results: int | None = None
) -> dict[str, Any] | None:
    """``retrievalConfiguration`` for Retrieve and for knowledge-base RetrieveAndGenerate.

    Args:
        options: The search options.
        number_of_results: Page size to use when ``options`` leaves it unset.
    """
    options = options or RetrievalOptions()
    config = copy.deepcopy(dict(options.raw or {}))
    vector = dict(config.get("vectorSearchConfiguration") or {})
    _merge(
        vector,
        "numberOfResults",
        options.number_of_results or (None if "numberOfResults" in vector else number_of_results),
        "number_of_results",
    )
    _merge(vector, "overrideSearchType", options.search_type, "search_type")
    if isinstance(options.filter, Filter):
        _merge(vector, "filter", options.filter.to_wire(), "filter")
    if options.implicit_filter_configuration is not None:
        implicit = dict(options.implicit_filter_configuration)
        _merge(vector, "implicitFilterConfiguration", implicit, "implicit_filter_configuration")
    if options.reranking_configuration is not None:
        reranking = dict(options.reranking_configuration)
        _merge(vector, "rerankingConfiguration", reranking, "reranking_configuration")
    if vector:
        config["vectorSearchConfiguration"] = vector
    return config or None


def _check_text(value: object, argument: str) -> str:
    if not isinstance(value, str):
        raise ConfigurationError(f"{argument} must be a string, got {type(value).__name__}")
    return value


def _check_id(value: object, argument: str) -> str:
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        raise ConfigurationError(f"{argument} must be a non-empty id, got {value!r}")
    return value


def build_retrieve_request(
    knowledge_base_id: str,
    query: str,
    options: RetrievalOptions | None = None,
    *,
    guardrail: GuardrailConfig | Mapping[str, Any] | None = None,
    next_token: str | None = None,
    number_of_results: int | None = None,
) -> dict[str, Any]:
    """Retrieve arguments. ``nextToken`` is a top-level body member, as botocore expects.

    Args:
        knowledge_base_id: Knowledge base id or ARN.
        query: Query text.
        options: Search options.
        guardrail: Guardrail applied to the query and results.
        next_token: Resume token from an earlier page.
        number_of_results: Page size when ``options`` leaves it unset.
    """
    request: dict[str, Any] = {
        "knowledgeBaseId": _check_id(knowledge_base_id, "knowledge_base_id"),
        "retrievalQuery": {"text": _check_text(query, "query")},
    }
    config = build_retrieval_configuration(options, number_of_results=number_of_results)
    if config:
        request["retrievalConfiguration"] = config
    guard = build_guardrail_configuration(guardrail)
    if guard:
        request["guardrailConfiguration"] = guard
    if next_token is not None:
        request["nextToken"] = _check_id(next_token, "next_token")
    check_text(request, "retrieve request")
    return request


@dataclass
class RetrievePager:
    """Pagination state for one retrieval; sync and async loops drive the same object.

    ``max_results=None`` makes one request. Otherwise pages are fetched until
    ``max_results`` results (after ``min_score``) are collected, Bedrock sends no
    ``nextToken``, a token repeats, or a page comes back empty.
    """

    request: dict[str, Any]
    """The first page's request."""
    max_results: int | None = None
    """Upper bound on results returned."""
    min_score: float | None = None
    """Results scoring below this are dropped (results without a score are kept)."""
    results: list[RetrievalResult] = field(default_factory=list)
    dropped: int = 0
    pages: int = 0
    next_token: str | None = None
    guardrail_action: str | None = None
    request_ids: list[str] = field(default_factory=list)
    _tokens: set[str] = field(default_factory=set)
    _done: bool = False

    def __post_init__(self) -> None:
        m = self.max_results
        if m is not None and (isinstance(m, bool) or not isinstance(m, int) or m < 1):
            raise ConfigurationError(f"max_results must be an int >= 1, got {m!r}")
        s = self.min_score
        if s is not None and (isinstance(s, bool) or not isinstance(s, int | float)):
            raise ConfigurationError(f"min_score must be a number, got {s!r}")

    def next_request(self) -> dict[str, Any] | None:
        """The next request to send, or None when done."""
        if self._done:
            return None
        if self.pages == 0:
            return self.request
        return {**self.request, "nextToken": self.next_token}

    def add_page(self, response: Mapping[str, Any]) -> None:
        """Take one Retrieve response into the state."""
        request_id = request_id_of(response)
        r = WireReader(
            "Retrieve response",
            model_id=str(self.request.get("knowledgeBaseId") or "") or None,
            request_id=request_id,
        )
        with r.guard(response):
            body = r.obj(response, "the response")
            action = parse_guardrail_action(r, body.get("guardrailAction"), "guardrailAction")
            page = parse_retrieval_results(body.get("retrievalResults"), r)
            token = r.opt_text(body.get("nextToken"), "nextToken") or None
        self.pages += 1
        if request_id:
            self.request_ids.append(request_id)
        if action and self.guardrail_action != "INTERVENED":
            self.guardrail_action = action
        for result in page:
            score, floor = result.score, self.min_score
            if floor is not None and score is not None and score < floor:
                self.dropped += 1
                continue
            self.results.append(result)
        self.next_token = token
        self._done = (
            self.max_results is None
            or len(self.results) >= self.max_results
            or token is None
            or token in self._tokens
            or not page
        )
        if token:
            self._tokens.add(token)

    def result(self) -> RetrieveResult:
        """The typed result, cut to ``max_results``."""
        results = self.results if self.max_results is None else self.results[: self.max_results]
        return RetrieveResult(
            results=tuple(results),
            next_token=self.next_token,
            pages=self.pages,
            dropped_below_min_score=self.dropped,
            guardrail_action=self.guardrail_action,
            request_ids=tuple(self.request_ids),
        )


def page_size_for(options: RetrievalOptions | None, max_results: int | None) -> int | None:
    """numberOfResults to ask for when the caller set only ``max_results``."""
    if options is not None and options.number_of_results is not None:
        return None
    return min(max_results, _MAX_PAGE) if max_results is not None else None


# -- RetrieveAndGenerate


_LATENCY = ("standard", "optimized")


@dataclass(frozen=True)
class GenerationOptions:
    """How RetrieveAndGenerate writes its answer."""

    prompt_template: str | None = None
    """Generation prompt (``$search_results$``, ``$query$``, ``$output_format_instructions$``)."""
    orchestration_prompt_template: str | None = None
    """Orchestration (query reformulation) prompt; knowledge bases only."""
    inference: InferenceConfig | None = None
    """``textInferenceConfig`` of the generation step."""
    guardrail: GuardrailConfig | Mapping[str, Any] | None = None
    """Guardrail applied to the generation (GuardrailConfig or dict)."""
    generation_configuration: Mapping[str, Any] | None = None
    """Raw ``generationConfiguration`` the typed fields are merged into."""
    orchestration_configuration: Mapping[str, Any] | None = None
    """Raw ``orchestrationConfiguration`` passed through (knowledge bases only)."""
    session_kms_key_arn: str | None = None
    """``sessionConfiguration.kmsKeyArn`` encrypting the session."""
    performance_latency: Literal["standard", "optimized"] | None = None
    """``performanceConfig.latency`` of the generation (``optimized``: latency-optimized)."""
    additional_model_request_fields: Mapping[str, Any] | None = None
    """``additionalModelRequestFields`` passed to the generating model unchanged."""

    def __post_init__(self) -> None:
        latency = self.performance_latency
        if latency is not None and latency not in _LATENCY:
            raise ConfigurationError(
                f"performance_latency must be one of {_LATENCY}, got {latency!r}"
            )
        for name in (
            "generation_configuration",
            "orchestration_configuration",
            "additional_model_request_fields",
        ):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Mapping):
                raise ConfigurationError(f"{name} must be a dict, got {type(value).__name__}")


def model_arn_for(model: str, region: str | None) -> str:
    """The ``modelArn`` RetrieveAndGenerate takes for a model id or ARN.

    ARNs pass through. A bare foundation model id becomes
    ``arn:<partition>:bedrock:<region>::foundation-model/<id>`` when the region is known;
    inference profile ids (``us.`` ...) and ids without a region pass through, which
    Bedrock accepts.
    """
    model = _check_id(model, "model")
    check_arn_reachable(model, region, "model")
    if model.startswith("arn:") or region is None or _PROFILE_PREFIX.match(model):
        return model
    return f"arn:{partition_of(region)}:bedrock:{region}::foundation-model/{model}"


def _inference_wire(config: InferenceConfig | None) -> dict[str, Any] | None:
    if config is None:
        return None
    text: dict[str, Any] = {
        k: v
        for k, v in (
            ("maxTokens", config.max_tokens),
            ("temperature", config.temperature),
            ("topP", config.top_p),
        )
        if v is not None
    }
    if config.stop_sequences:
        text["stopSequences"] = list(config.stop_sequences)
    return {"textInferenceConfig": text} if text else None


def _generation_configuration(options: GenerationOptions) -> dict[str, Any] | None:
    config = copy.deepcopy(dict(options.generation_configuration or {}))
    if options.prompt_template is not None:
        template = {"textPromptTemplate": _check_text(options.prompt_template, "prompt_template")}
        _merge(config, "promptTemplate", template, "prompt_template")
    _merge(config, "inferenceConfig", _inference_wire(options.inference), "inference")
    guard = build_guardrail_configuration(options.guardrail)
    _merge(config, "guardrailConfiguration", guard, "guardrail")
    if options.performance_latency is not None:
        performance = {"latency": options.performance_latency}
        _merge(config, "performanceConfig", performance, "performance_latency")
    if options.additional_model_request_fields is not None:
        extra = copy.deepcopy(dict(options.additional_model_request_fields))
        _merge(config, "additionalModelRequestFields", extra, "additional_model_request_fields")
    return config or None


def _orchestration_configuration(options: GenerationOptions) -> dict[str, Any] | None:
    config = copy.deepcopy(dict(options.orchestration_configuration or {}))
    if options.orchestration_prompt_template is not None:
        template = {
            "textPromptTemplate": _check_text(
                options.orchestration_prompt_template, "orchestration_prompt_template"
            )
        }
        _merge(config, "promptTemplate", template, "orchestration_prompt_template")
    return config or None


def build_retrieve_and_generate_request(
    query: str,
    *,
    model: str,
    region: str | None = None,
    knowledge_base_id: str | None = None,
    sources: Sources | None = None,
    retrieval: RetrievalOptions | None = None,
    generation: GenerationOptions | None = None,
    session_id: str | None = None,
) -> dict[str, Any]:
    """RetrieveAndGenerate / RetrieveAndGenerateStream arguments.

    Args:
        query: The user's question.
        model: Model id or ARN that writes the answer (ids become ARNs, see
            :func:`model_arn_for`).
        region: Region used to build the model ARN.
        knowledge_base_id: Knowledge base to search (``KNOWLEDGE_BASE``).
        sources: The document to read instead (``EXTERNAL_SOURCES``): an
            :class:`ExternalSource`, an ``s3://`` URI or a dict (see :func:`coerce_sources`).
        retrieval: Search options (knowledge bases only).
        generation: Prompt, inference, guardrail and passthrough configuration.
        session_id: Session of an earlier turn, to continue the conversation.
    """
    generation = generation or GenerationOptions()
    if (knowledge_base_id is None) == (sources is None):
        raise ConfigurationError(
            "give exactly one of knowledge_base_id or sources (RetrieveAndGenerate answers "
            "from a knowledge base or from an external document, not both)"
        )
    model_arn = model_arn_for(model, region)
    gen = _generation_configuration(generation)
    config: dict[str, Any]
    if knowledge_base_id is not None:
        kb: dict[str, Any] = {
            "knowledgeBaseId": _check_id(knowledge_base_id, "knowledge_base_id"),
            "modelArn": model_arn,
        }
        retrieval_config = build_retrieval_configuration(retrieval)
        if retrieval_config:
            kb["retrievalConfiguration"] = retrieval_config
        if gen:
            kb["generationConfiguration"] = gen
        orchestration = _orchestration_configuration(generation)
        if orchestration:
            kb["orchestrationConfiguration"] = orchestration
        config = {"type": "KNOWLEDGE_BASE", "knowledgeBaseConfiguration": kb}
    else:
        if retrieval is not None:
            raise ConfigurationError("retrieval options apply to knowledge bases, not sources")
        if generation.orchestration_configuration or generation.orchestration_prompt_template:
            raise ConfigurationError("orchestration applies to knowledge bases, not sources")
        listed = coerce_sources(sources)
        external: dict[str, Any] = {
            "modelArn": model_arn,
            "sources": [s.to_wire() for s in listed],
        }
        if gen:
            external["generationConfiguration"] = gen
        config = {"type": "EXTERNAL_SOURCES", "externalSourcesConfiguration": external}
    request: dict[str, Any] = {
        "input": {"text": _check_text(query, "query")},
        "retrieveAndGenerateConfiguration": config,
    }
    if session_id is not None:
        if not isinstance(session_id, str) or not _SESSION_ID.match(session_id):
            raise ConfigurationError(
                f"session_id must be 2-100 characters of [0-9a-zA-Z._:-], got {session_id!r}"
            )
        request["sessionId"] = session_id
    if generation.session_kms_key_arn:
        request["sessionConfiguration"] = {"kmsKeyArn": generation.session_kms_key_arn}
    check_text(request, "retrieve_and_generate request")
    return request


@dataclass(frozen=True)
class GenerationCall:
    """One RetrieveAndGenerate(Stream) question, checked when constructed."""

    query: str
    """The user's question."""
    model: str
    """Model id or ARN that writes the answer."""
    knowledge_base_id: str | None = None
    """Knowledge base to search."""
    sources: Sources | None = None
    """The document to read instead of a knowledge base (kept as a checked tuple)."""
    retrieval: RetrievalOptions | None = None
    """Search options (knowledge bases only)."""
    generation: GenerationOptions | None = None
    """Prompt, inference, guardrail and passthrough configuration."""
    session_id: str | None = None
    """Session of an earlier turn."""

    def __post_init__(self) -> None:
        if self.sources is not None and self.knowledge_base_id is None:
            object.__setattr__(self, "sources", coerce_sources(self.sources))
        self.to_request(None)  # bad input fails here, before any client exists

    def to_request(self, region: str | None) -> dict[str, Any]:
        """The request, with the model ARN built for ``region``."""
        return build_retrieve_and_generate_request(
            self.query,
            model=self.model,
            region=region,
            knowledge_base_id=self.knowledge_base_id,
            sources=self.sources,
            retrieval=self.retrieval,
            generation=self.generation,
            session_id=self.session_id,
        )
