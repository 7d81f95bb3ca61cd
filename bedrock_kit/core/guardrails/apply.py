"""ApplyGuardrail: check text and images against a guardrail without calling a model.

Request building and response parsing are pure functions; :class:`GuardrailClient` only moves
requests over the wire, with one sync and one native async method per operation around the
same code. The contextual grounding check (answer vs. retrieved sources and the query) is one
ApplyGuardrail call with qualified content, so it lives here too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from bedrock_kit.core.budget.operations import charging_guardrail, check_policies
from bedrock_kit.core.guardrails import _wire as _w
from bedrock_kit.core.guardrails._received import Received, received, watched
from bedrock_kit.core.guardrails.assessments import (
    GroundingFinding,
    GuardrailAssessment,
    GuardrailUsage,
    _assessment,
    _usage,
)
from bedrock_kit.core.transport.clients import ClientPool, ClientSettings
from bedrock_kit.core.transport.lifecycle import OwnsClients
from bedrock_kit.core.transport.validation import check_text
from bedrock_kit.errors import (
    ConfigurationError,
    GuardrailInterventionError,
    translate_errors,
)

_SERVICE = "bedrock-runtime"

GuardrailSource = Literal["INPUT", "OUTPUT"]
"""Whether the content is a user prompt (``INPUT``) or a model answer (``OUTPUT``)."""

SOURCES: tuple[str, ...] = ("INPUT", "OUTPUT")
QUALIFIERS: tuple[str, ...] = ("grounding_source", "query", "guard_content")
IMAGE_FORMATS: tuple[str, ...] = ("png", "jpeg")
OUTPUT_SCOPES: tuple[str, ...] = ("INTERVENTIONS", "FULL")

TEXT_UNIT_CHARACTERS = 1000
"""Bedrock bills guardrails per text unit of up to 1,000 characters, rounded up per call."""

INTERVENED = "GUARDRAIL_INTERVENED"
ACTIONS: tuple[str, ...] = ("NONE", INTERVENED)
"""The documented ``action`` values of an ApplyGuardrail response; anything else is malformed."""

NotChecked = Literal["empty"]
"""Why content was not sent to the guardrail: ``empty``, no text but whitespace (or none)."""

EMPTY: NotChecked = "empty"


def text_units(characters: int) -> int:
    """Text units one ApplyGuardrail call on ``characters`` characters is billed per policy."""
    return math.ceil(characters / TEXT_UNIT_CHARACTERS) if characters > 0 else 0


@dataclass(frozen=True)
class GuardrailText:
    """A piece of text to check."""

    text: str
    """The text."""
    qualifiers: tuple[str, ...] = ()
    """``grounding_source``, ``query`` or ``guard_content`` (contextual grounding checks)."""


@dataclass(frozen=True)
class GuardrailImage:
    """An image to check (content filters only)."""

    data: bytes
    """Raw image bytes (not base64: botocore encodes them)."""
    format: str
    """``png`` or ``jpeg``."""


GuardrailContent = GuardrailText | GuardrailImage
"""One block of content sent to ApplyGuardrail."""


@dataclass(frozen=True)
class GuardrailResult:
    """The typed answer of one ApplyGuardrail call."""

    action: str
    """``NONE`` or ``GUARDRAIL_INTERVENED``."""
    source: str
    """``INPUT`` or ``OUTPUT``, as sent."""
    outputs: tuple[str, ...] = ()
    """Texts Bedrock returned: the masked text or the blocked message (empty when NONE)."""
    assessments: tuple[GuardrailAssessment, ...] = ()
    """Per-guardrail findings."""
    usage: GuardrailUsage = field(default_factory=GuardrailUsage)
    """Text units billed, per policy."""
    action_reason: str | None = None
    """``actionReason`` (e.g. ``Guardrail blocked.``)."""
    guarded_characters: int | None = None
    """Characters the guardrail evaluated (``guardrailCoverage``)."""
    total_characters: int | None = None
    """Characters sent."""
    guarded_images: int | None = None
    """Images the guardrail evaluated."""
    total_images: int | None = None
    """Images sent."""
    checked_characters: int = 0
    """Characters of text this call sent, counted locally (for :attr:`text_units`)."""
    request_id: str | None = None
    """``x-amzn-RequestId`` of the call."""
    not_checked: NotChecked | None = None
    """Why no request was made: ``"empty"`` when every text block was empty or whitespace
    only (and no image was given): the content is returned unchanged, nothing is billed and
    ``action`` is ``NONE``. None when the guardrail checked the content."""
    empty_blocks: tuple[int, ...] = ()
    """Indexes (in the content given) of text blocks not sent because they were empty or
    whitespace only; they are used unchanged and :attr:`outputs` covers only the blocks sent."""

    @property
    def checked(self) -> bool:
        """True when ApplyGuardrail saw the content (False: :attr:`not_checked` says why)."""
        return self.not_checked is None

    @property
    def intervened(self) -> bool:
        """True when the guardrail blocked or masked something."""
        return self.action == INTERVENED

    @property
    def blocked(self) -> bool:
        """True when the content must not be used (a policy blocked it).

        An intervention without any BLOCKED finding is a masking; an intervention that says
        neither (no findings at all), or a masking that returned no masked text, counts as
        blocked, so unknown cases fail closed.
        """
        if not self.intervened:
            return False
        if any(a.blocked for a in self.assessments):
            return True
        return not self.outputs or not any(a.anonymized for a in self.assessments)

    @property
    def anonymized(self) -> bool:
        """True when the guardrail only masked PII: :attr:`output_text` is the masked text."""
        return self.intervened and not self.blocked

    @property
    def output_text(self) -> str:
        """The returned texts joined: masked text, or the blocked message."""
        return "".join(self.outputs)

    @property
    def text_units(self) -> int:
        """Text units of this call per policy, from the characters sent."""
        return text_units(self.checked_characters)

    @property
    def assessment(self) -> GuardrailAssessment:
        """The first assessment (one per guardrail; ApplyGuardrail applies one)."""
        return self.assessments[0] if self.assessments else GuardrailAssessment()

    def released_text(self, original: str) -> str:
        """What may be shown for ``original``: itself, or the masked text.

        Raises:
            GuardrailInterventionError: When the content was blocked.
        """
        if self.blocked:
            raise intervention_error(self)
        return self.output_text if self.anonymized else original


@dataclass(frozen=True)
class GroundingResult:
    """Scores of a contextual grounding check against their thresholds."""

    grounding: GroundingFinding | None
    """Is the answer supported by the sources? None when the guardrail did not score it."""
    relevance: GroundingFinding | None
    """Does the answer address the query? None when no query was sent."""
    result: GuardrailResult
    """The full ApplyGuardrail result."""

    @property
    def passed(self) -> bool:
        """True when every score reached its threshold and nothing blocked."""
        findings = [f for f in (self.grounding, self.relevance) if f is not None]
        return not self.result.blocked and all(f.score >= f.threshold for f in findings)


def _content_block(item: str | GuardrailContent, index: int) -> dict[str, Any]:
    if isinstance(item, str):
        item = GuardrailText(item)
    if isinstance(item, GuardrailText):
        if not isinstance(item.text, str):
            raise ConfigurationError(f"content[{index}].text must be a str")
        bad = [q for q in item.qualifiers if q not in QUALIFIERS]
        if bad:
            raise ConfigurationError(
                f"content[{index}].qualifiers: {bad} not in {list(QUALIFIERS)}"
            )
        text: dict[str, Any] = {"text": item.text}
        if item.qualifiers:
            text["qualifiers"] = list(item.qualifiers)
        return {"text": text}
    if isinstance(item, GuardrailImage):
        if item.format not in IMAGE_FORMATS:
            raise ConfigurationError(
                f"content[{index}].format must be one of {list(IMAGE_FORMATS)}, got {item.format!r}"
            )
        if not isinstance(item.data, bytes | bytearray) or not item.data:
            raise ConfigurationError(f"content[{index}].data must be non-empty bytes")
        return {"image": {"format": item.format, "source": {"bytes": bytes(item.data)}}}
    raise ConfigurationError(
        f"content[{index}] must be a str, GuardrailText or GuardrailImage, "
        f"got {type(item).__name__}"
    )


def is_empty_text(text: object) -> bool:
    """True for a str with nothing to check: empty or whitespace only."""
    return isinstance(text, str) and not text.strip()


def not_checked_result(source: str, empty_blocks: Sequence[int] = ()) -> GuardrailResult:
    """The result of content that was not sent because it held no text to check."""
    return GuardrailResult(
        action="NONE", source=source, not_checked=EMPTY, empty_blocks=tuple(empty_blocks)
    )


def _items(
    content: str | GuardrailContent | Sequence[str | GuardrailContent],
) -> list[str | GuardrailContent]:
    if isinstance(content, str | GuardrailText | GuardrailImage):
        return [content]
    if isinstance(content, Sequence):
        return list(content)
    raise ConfigurationError(
        "content must be a str, GuardrailText, GuardrailImage or a list of them, "
        f"got {type(content).__name__}"
    )


def split_empty(
    content: str | GuardrailContent | Sequence[str | GuardrailContent],
) -> tuple[list[str | GuardrailContent], tuple[int, ...]]:
    """The blocks worth sending and the indexes of empty or whitespace-only text blocks.

    Every block is validated first, so bad input is refused by name even when it is empty.

    Raises:
        ConfigurationError: For a block of the wrong type or with bad qualifiers.
    """
    items = _items(content)
    blocks = [_content_block(item, i) for i, item in enumerate(items)]
    empty = tuple(
        i
        for i, block in enumerate(blocks)
        if "text" in block and is_empty_text(block["text"]["text"])
    )
    return [item for i, item in enumerate(items) if i not in empty], empty


def check_version(guardrail_version: str | int) -> str:
    """``DRAFT`` or a version number, as the string Bedrock expects."""
    version = str(guardrail_version)
    if version != "DRAFT" and not version.isdigit():
        raise ConfigurationError(
            f"guardrail_version must be 'DRAFT' or a version number, got {guardrail_version!r}"
        )
    return version


def build_apply_guardrail_request(
    guardrail_identifier: str,
    guardrail_version: str | int,
    content: str | GuardrailContent | Sequence[str | GuardrailContent],
    *,
    source: str = "INPUT",
    output_scope: str | None = None,
) -> dict[str, Any]:
    """ApplyGuardrail arguments (botocore names) for ``content``.

    Args:
        guardrail_identifier: Guardrail id or ARN.
        guardrail_version: ``DRAFT`` or a version number.
        content: Text, images, or text with grounding qualifiers.
        source: ``INPUT`` (prompt) or ``OUTPUT`` (model answer).
        output_scope: ``FULL`` also reports findings that did not act (scores, NONE
            filters); ``INTERVENTIONS`` (Bedrock's default) only the ones that did.

    Raises:
        ConfigurationError: For an invalid argument, before any request.
    """
    check_options(guardrail_identifier, source, output_scope)
    items = _items(content)
    if not items:
        raise ConfigurationError("content must not be empty")
    request: dict[str, Any] = {
        "guardrailIdentifier": guardrail_identifier,
        "guardrailVersion": check_version(guardrail_version),
        "source": source,
        "content": [_content_block(item, i) for i, item in enumerate(items)],
    }
    if output_scope is not None:
        request["outputScope"] = output_scope
    check_text(request["content"], "content")
    return request


def check_options(guardrail_identifier: str, source: str, output_scope: str | None) -> None:
    """Refuse a bad guardrail identifier, ``source`` or ``output_scope`` (ConfigurationError)."""
    if not guardrail_identifier or not isinstance(guardrail_identifier, str):
        raise ConfigurationError("guardrail_identifier must be a non-empty str")
    if source not in SOURCES:
        raise ConfigurationError(f"source must be one of {list(SOURCES)}, got {source!r}")
    if output_scope is not None and output_scope not in OUTPUT_SCOPES:
        raise ConfigurationError(
            f"output_scope must be one of {list(OUTPUT_SCOPES)}, got {output_scope!r}"
        )


def request_characters(request: Mapping[str, Any]) -> int:
    """Characters of text in an ApplyGuardrail request (what text units are counted on)."""
    return sum(len((b.get("text") or {}).get("text", "")) for b in request.get("content", ()))


def _request_id(response: Mapping[str, Any]) -> str | None:
    meta = response.get("ResponseMetadata")
    if not isinstance(meta, Mapping):
        return None
    headers = meta.get("HTTPHeaders")
    found = meta.get("RequestId") or (
        headers.get("x-amzn-requestid") if isinstance(headers, Mapping) else None
    )
    return found if isinstance(found, str) else None


def _outputs(response: Mapping[str, Any]) -> tuple[str, ...]:
    outputs = response.get("outputs")
    key = "outputs"
    if outputs is None:  # older responses (and recordings) also carry the singular key
        outputs, key = response.get("output"), "output"
    return tuple(
        _w.text(o.get("text"), f"{key}[{i}].text") for i, o in enumerate(_w.objects(outputs, key))
    )


def _result(response: Any, source: str, checked_characters: int) -> GuardrailResult:
    wire = _w.obj(response, "response")
    action = wire.get("action")
    if action not in ACTIONS:
        # botocore reads a body that is not JSON as {} plus {"message": ...}: no action.
        problem = "no action" if action is None else f"unknown action {_w.excerpt(action)!r}"
        raise _w.WireShapeError("action", f"one of {list(ACTIONS)}", action, problem=problem)
    coverage = _w.obj(wire.get("guardrailCoverage"), "guardrailCoverage")
    chars = _w.obj(coverage.get("textCharacters"), "guardrailCoverage.textCharacters")
    images = _w.obj(coverage.get("images"), "guardrailCoverage.images")
    return GuardrailResult(
        action=action,
        source=source,
        outputs=_outputs(wire),
        assessments=tuple(
            _assessment(a, f"assessments[{i}]")
            for i, a in enumerate(_w.objects(wire.get("assessments"), "assessments"))
        ),
        usage=_usage(wire.get("usage"), "usage"),
        action_reason=_w.opt_str(wire.get("actionReason"), "actionReason"),
        guarded_characters=_w.opt_count(chars.get("guarded"), "textCharacters.guarded"),
        total_characters=_w.opt_count(chars.get("total"), "textCharacters.total"),
        guarded_images=_w.opt_count(images.get("guarded"), "images.guarded"),
        total_images=_w.opt_count(images.get("total"), "images.total"),
        checked_characters=checked_characters,
        request_id=_request_id(wire),
    )


def parse_apply_guardrail_response(
    response: Mapping[str, Any],
    *,
    source: str = "INPUT",
    checked_characters: int = 0,
    guardrail: str | None = None,
    raw: bytes | None = None,
) -> GuardrailResult:
    """Parse an ApplyGuardrail response (botocore dict or recorded JSON) into a result.

    Fails closed: a response without a known ``action`` (``NONE`` or
    ``GUARDRAIL_INTERVENED``) is malformed, never read as NONE. botocore turns an empty body,
    an HTML page or any body that is not JSON into a dict without ``action``.

    Args:
        response: The botocore response dict.
        source: ``INPUT`` or ``OUTPUT``, as sent.
        checked_characters: Characters of text the request sent.
        guardrail: ``<id> version <version>``, named in errors.
        raw: The HTTP body as received, excerpted into errors.

    Raises:
        MalformedResponseError: When the response is not of the documented shape.
    """
    request_id = _request_id(response) if isinstance(response, Mapping) else None
    what = "ApplyGuardrail response" + (f" of guardrail {guardrail}" if guardrail else "")
    with _w.malformed(
        what, raw=response, body=raw, model_id=_guardrail_id(guardrail), request_id=request_id
    ):
        return _result(response, source, checked_characters)


def _guardrail_id(guardrail: str | None) -> str | None:
    return guardrail.split(" ", 1)[0] if guardrail else None


def intervention_error(result: GuardrailResult) -> GuardrailInterventionError:
    """The error raised when ``result`` blocked content."""
    reason = result.action_reason or "Guardrail blocked."
    policies = sorted(
        {
            type(f).__name__.removesuffix("Finding")
            for a in result.assessments
            for f in a.findings
            if f.action == "BLOCKED"
        }
    )
    detail = f" ({', '.join(policies)})" if policies else ""
    return GuardrailInterventionError(
        f"guardrail blocked the {result.source.lower()}: {reason}{detail}",
        assessment=result.assessment,
        output_text=result.output_text,
        model_id=result.assessment.guardrail_id,
        resource="guardrail",
        request_id=result.request_id,
    )


def build_grounding_content(
    answer: str, grounding_source: str | Sequence[str], query: str | None = None
) -> list[GuardrailText]:
    """Content of a contextual grounding check: sources, the query, then the answer."""
    sources = [grounding_source] if isinstance(grounding_source, str) else list(grounding_source)
    if not sources or not all(isinstance(s, str) and s for s in sources):
        raise ConfigurationError("grounding_source must be a non-empty str or list of str")
    if not isinstance(answer, str) or is_empty_text(answer):
        raise ConfigurationError(
            "answer must be a str with text: an empty answer has nothing to score"
        )
    content = [GuardrailText(s, ("grounding_source",)) for s in sources]
    if query:
        content.append(GuardrailText(query, ("query",)))
    content.append(GuardrailText(answer, ("guard_content",)))
    return content


def parse_grounding(result: GuardrailResult) -> GroundingResult:
    """Pick the grounding and relevance scores out of an ApplyGuardrail result."""
    found = {g.type: g for a in result.assessments for g in a.grounding}
    return GroundingResult(found.get("GROUNDING"), found.get("RELEVANCE"), result)


class GuardrailClient(OwnsClients):
    """Calls ApplyGuardrail for one guardrail version, sync or natively async.

    Args:
        guardrail_identifier: Guardrail id or ARN.
        guardrail_version: ``DRAFT`` or a version number.
        settings: How to reach Bedrock.
        client: Injected boto3 ``bedrock-runtime`` client.
        async_client: Injected aiobotocore ``bedrock-runtime`` client.
        output_scope: Default ``outputScope`` of every call (``FULL`` or ``INTERVENTIONS``).
        ledger: A budget :class:`~bedrock_kit.core.budget.ledger.Ledger`: every call is
            reserved from its text length before it is sent (refused with
            BudgetExceededError when it could cross a limit) and settled to the text units
            the assessment billed, per policy, once per request id.
        policies: The policies the guardrail has configured (``content``, ``topic``,
            ``word``, ``sensitive_information``, ``contextual_grounding``,
            ``automated_reasoning``), so the reservation holds only those; every priced
            text policy when None.
    """

    def __init__(
        self,
        guardrail_identifier: str,
        guardrail_version: str | int = "DRAFT",
        *,
        settings: ClientSettings | None = None,
        client: Any = None,
        async_client: Any = None,
        output_scope: str | None = None,
        ledger: Any = None,
        policies: Sequence[str] | None = None,
    ) -> None:
        # Validate everything now, so a bad argument fails at construction.
        build_apply_guardrail_request(
            guardrail_identifier, guardrail_version, "x", output_scope=output_scope
        )
        self.guardrail_identifier = guardrail_identifier
        self.guardrail_version = check_version(guardrail_version)
        self.output_scope = output_scope
        self.ledger = ledger
        self.policies = check_policies(policies, guardrail_id=guardrail_identifier)
        self.pool = ClientPool(
            settings or ClientSettings(), _SERVICE, client=client, async_client=async_client
        )

    def __repr__(self) -> str:
        return (
            f"GuardrailClient({self.guardrail_identifier!r}, {self.guardrail_version!r}, "
            f"settings={self.pool.settings!r})"
        )

    def build_request(
        self,
        content: str | GuardrailContent | Sequence[str | GuardrailContent],
        *,
        source: str = "INPUT",
        output_scope: str | None = None,
    ) -> dict[str, Any]:
        """The ApplyGuardrail arguments this client would send."""
        return build_apply_guardrail_request(
            self.guardrail_identifier,
            self.guardrail_version,
            content,
            source=source,
            output_scope=output_scope or self.output_scope,
        )

    def _errors(self) -> Any:
        return translate_errors(
            model_id=self.guardrail_identifier, region=self.pool.region, resource="guardrail"
        )

    @property
    def _label(self) -> str:
        return f"{self.guardrail_identifier} version {self.guardrail_version}"

    def _charging(
        self, request: Mapping[str, Any]
    ) -> AbstractContextManager[Callable[[GuardrailUsage, str | None], Any]]:
        return charging_guardrail(
            self.ledger, self.guardrail_identifier, request_characters(request), self.policies
        )

    def _parse(
        self,
        request: Mapping[str, Any],
        response: Mapping[str, Any],
        body: list[Received],
        empty: tuple[int, ...] = (),
    ) -> GuardrailResult:
        result = parse_apply_guardrail_response(
            response,
            source=request["source"],
            checked_characters=request_characters(request),
            guardrail=self._label,
            raw=body[-1].body if body else None,
        )
        return replace(result, empty_blocks=empty) if empty else result

    def apply(
        self,
        content: str | GuardrailContent | Sequence[str | GuardrailContent],
        *,
        source: str = "INPUT",
        output_scope: str | None = None,
    ) -> GuardrailResult:
        """Check ``content``; never raises on an intervention (read ``result.blocked``).

        Empty or whitespace-only text is not sent: when nothing else is left (``""``,
        ``"  "``, ``[]``), no request is made and the result says ``not_checked="empty"``
        (action ``NONE``, nothing billed); otherwise the other blocks are sent and
        ``empty_blocks`` lists the ones left out.

        Raises:
            ConfigurationError: For invalid content or arguments, before any request.
            MalformedResponseError: When the answer is not a documented ApplyGuardrail
                response (not JSON, empty, HTML, no known ``action``, wrong-typed members).
            BedrockKitError: When the call fails (translated AWS error).
        """
        planned = self._plan(content, source, output_scope)
        if isinstance(planned, GuardrailResult):
            return planned
        request, empty = planned
        with self._charging(request) as settle:
            with self._errors(), received(self._label, self.guardrail_identifier) as body:
                response = watched(self.pool.client).apply_guardrail(**request)
            result = self._parse(request, response, body, empty)
            settle(result.usage, result.request_id)
        return result

    def _plan(
        self,
        content: str | GuardrailContent | Sequence[str | GuardrailContent],
        source: str,
        output_scope: str | None,
    ) -> GuardrailResult | tuple[dict[str, Any], tuple[int, ...]]:
        """The request to send, or the not-checked result when there is nothing to send."""
        check_options(self.guardrail_identifier, source, output_scope)
        kept, empty = split_empty(content)
        if not kept:
            return not_checked_result(source, empty)
        return self.build_request(kept, source=source, output_scope=output_scope), empty

    async def aapply(
        self,
        content: str | GuardrailContent | Sequence[str | GuardrailContent],
        *,
        source: str = "INPUT",
        output_scope: str | None = None,
    ) -> GuardrailResult:
        """Async :meth:`apply` (aiobotocore, no threads); empty text is not sent either."""
        planned = self._plan(content, source, output_scope)
        if isinstance(planned, GuardrailResult):
            return planned
        request, empty = planned
        with self._charging(request) as settle:
            with self._errors(), received(self._label, self.guardrail_identifier) as body:
                client = watched(await self.pool.async_client())
                response = await client.apply_guardrail(**request)
            result = self._parse(request, response, body, empty)
            settle(result.usage, result.request_id)
        return result

    def check_grounding(
        self, answer: str, grounding_source: str | Sequence[str], query: str | None = None
    ) -> GroundingResult:
        """Score ``answer`` against the retrieved sources and the query.

        Sends outputScope FULL so passing scores are reported too.

        Raises:
            ConfigurationError: When the guardrail has no contextual grounding policy (no
                score came back), or for empty arguments.
        """
        content = build_grounding_content(answer, grounding_source, query)
        return self._grounding(self.apply(content, source="OUTPUT", output_scope="FULL"))

    async def acheck_grounding(
        self, answer: str, grounding_source: str | Sequence[str], query: str | None = None
    ) -> GroundingResult:
        """Async :meth:`check_grounding`."""
        content = build_grounding_content(answer, grounding_source, query)
        return self._grounding(await self.aapply(content, source="OUTPUT", output_scope="FULL"))

    def _grounding(self, result: GuardrailResult) -> GroundingResult:
        grounding = parse_grounding(result)
        if grounding.grounding is None and grounding.relevance is None:
            raise ConfigurationError(
                f"guardrail {self.guardrail_identifier} version {self.guardrail_version} "
                "returned no contextual grounding scores: enable its contextual grounding policy"
            )
        return grounding
