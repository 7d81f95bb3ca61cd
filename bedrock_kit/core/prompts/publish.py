"""Publish prompt templates to Bedrock Prompt Management: the reverse of ``load_prompt``.

Both adapters turn their framework's template into :class:`PromptSpec` (role and text per
message, in the framework's brace syntax); this module maps it to Bedrock's ``{{var}}``
syntax, refuses what Bedrock cannot hold (:class:`~bedrock_kit.errors.UnsupportedTemplateError`
naming every problem), and publishes it: CreatePrompt or UpdatePrompt for the DRAFT, then
CreatePromptVersion. Re-publishing an unchanged template creates no version: the variant
carries a content hash in its metadata, compared with the DRAFT's and the latest version's.

The calls are planned once (:func:`_publish_plan`, a generator of requests that receives
the responses) and driven by a sync and a native async loop, so both share one
implementation.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bedrock_kit.core.chat.converse import inference_to_wire
from bedrock_kit.core.chat.types import InferenceConfig
from bedrock_kit.core.prompts.management import _VARIABLE, PromptManagement, prompt_management
from bedrock_kit.core.transport.wire import WireReader
from bedrock_kit.errors import ConfigurationError, UnsupportedTemplateError, translate_errors

__all__ = [
    "PromptPart",
    "PromptSpec",
    "PublishedPrompt",
    "apublish_spec",
    "bedrock_template",
    "publish_spec",
]

Flavor = Literal["format", "llama_index", "literal"]
"""How a part's text marks variables: ``format`` (``str.format`` / LangChain f-strings,
``{{`` escapes a brace), ``llama_index`` (``{name}`` of known names, no escape), or
``literal`` (no variables: a fixed message)."""

HASH_KEY = "bedrock-kit:template-sha256"
"""Variant metadata key holding the hash of what was published."""

# botocore's bedrock-agent patterns.
_VARIABLE_NAME = re.compile(r"^([0-9a-zA-Z][_-]?){1,100}$")
_PROMPT_NAME = re.compile(r"^([0-9a-zA-Z][_-]?){1,100}$")
_PROMPT_ID = re.compile(
    r"[0-9a-zA-Z]{10}|arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:prompt/[0-9a-zA-Z]{10}"
)
_LLAMA_FIELD = re.compile(r"\{([^{}]+)\}")
_ROLES = ("system", "user", "assistant")
_MAX_DESCRIPTION = 200


@dataclass(frozen=True)
class PromptPart:
    """One message of a template, in its framework's syntax."""

    role: Literal["system", "user", "assistant"]
    """Bedrock role (system parts become the variant's ``system`` blocks)."""
    text: str
    """The message text."""
    flavor: Flavor = "format"
    """How ``text`` marks variables."""


@dataclass(frozen=True)
class PromptSpec:
    """A template to publish, framework-neutral."""

    name: str
    """Prompt name (``([0-9a-zA-Z][_-]?){1,100}``); finds the prompt to update."""
    template_type: Literal["TEXT", "CHAT"]
    """``TEXT`` (one user part) or ``CHAT``."""
    parts: tuple[PromptPart, ...]
    """Messages in order; system parts first."""
    input_variables: tuple[str, ...]
    """Variable names, in order."""
    model_id: str | None = None
    """Model the prompt runs on."""
    inference: InferenceConfig = field(default_factory=InferenceConfig)
    """Text inference configuration."""
    additional_model_request_fields: Mapping[str, Any] = field(default_factory=dict)
    """Provider-specific request fields."""
    description: str | None = None
    """Prompt description."""
    variant_name: str = "default"
    """Name of the one variant published."""
    problems: tuple[str, ...] = ()
    """What the adapter already found unrepresentable."""


@dataclass(frozen=True)
class PublishedPrompt:
    """Where a template was published."""

    id: str
    """Prompt id."""
    arn: str
    """Prompt ARN (with ``:version``)."""
    version: str
    """The version holding the template (new or unchanged)."""
    name: str
    """Prompt name."""
    created: bool
    """The prompt did not exist and was created."""
    draft_updated: bool
    """The DRAFT was changed."""
    new_version: bool
    """A version was created; False when the latest version already held the template."""


# -- template text


def _from_format(text: str, names: set[str], where: str, problems: list[str]) -> str:
    out: list[str] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        problems.append(f"{where}: not a valid f-string template ({exc})")
        return text
    for literal, name, spec, conversion in parsed:
        out.append(literal)
        if name is None:
            continue
        if not name or not name.isidentifier() or name not in names:
            problems.append(
                f"{where}: field {{{name}}} is not a named variable of the template "
                "(positional, attribute or index fields have no Bedrock form)"
            )
        elif spec or conversion:
            problems.append(
                f"{where}: variable {{{name}}} has a format spec or conversion "
                f"({conversion or ''}{spec or ''}), which Bedrock prompts cannot apply"
            )
        out.append("{{" + name + "}}")
    return "".join(out)


def _from_llama(text: str, names: set[str]) -> str:
    def replace(found: re.Match[str]) -> str:
        name = found.group(1)
        return "{{" + name + "}}" if name in names else found.group(0)

    return _LLAMA_FIELD.sub(replace, text)


def _render(part: PromptPart, values: Mapping[str, str]) -> str:
    """``part`` formatted as its framework would (values hold no braces)."""
    if part.flavor == "literal":
        return part.text
    if part.flavor == "llama_index":
        return _LLAMA_FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), part.text)
    out = []
    for literal, name, _spec, _conversion in string.Formatter().parse(part.text):
        out.append(literal)
        if name is not None:
            out.append(values.get(name, ""))
    return "".join(out)


def _render_bedrock(text: str, values: Mapping[str, str]) -> str:
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def bedrock_template(
    part: PromptPart, variables: Sequence[str], where: str
) -> tuple[str, list[str]]:
    """``part`` in Bedrock's ``{{var}}`` syntax, and the problems that prevent it.

    The result is checked by rendering both templates with marker values: Bedrock must
    read exactly the variables the framework would fill, where it fills them. Literal
    text that Bedrock would read as a variable (``{{name}}``) is a problem: Bedrock
    templates have no escape for it.
    """
    names = set(variables)
    problems: list[str] = []
    if part.flavor == "format":
        text = _from_format(part.text, names, where, problems)
    elif part.flavor == "llama_index":
        text = _from_llama(part.text, names)
    else:
        text = part.text
    if problems:
        return text, problems
    markers = {name: f"\x01{index}\x02" for index, name in enumerate(variables)}
    for found in _VARIABLE.finditer(text):
        if found.group(1) not in names:
            problems.append(
                f"{where}: literal text {found.group(0)!r} would be read by Bedrock as a "
                "variable; Bedrock templates cannot escape it"
            )
    if not problems and _render_bedrock(text, markers) != _render(part, markers):
        problems.append(
            f"{where}: literal braces next to variables would change meaning in Bedrock's "
            f"{{{{var}}}} syntax: {part.text[:80]!r}"
        )
    return text, problems


# -- the request


def _inference(config: InferenceConfig) -> dict[str, Any]:
    text = inference_to_wire(config)
    return {"text": text} if text else {}


def _check_spec(spec: PromptSpec) -> list[str]:
    problems = list(spec.problems)
    if not isinstance(spec.name, str) or not _PROMPT_NAME.fullmatch(spec.name):
        problems.append(f"name={spec.name!r} is not a prompt name ([0-9a-zA-Z][_-]?, 1-100)")
    for name in spec.input_variables:
        if not _VARIABLE_NAME.fullmatch(name):
            problems.append(
                f"variable {name!r} is not a Bedrock variable name (letters and digits, "
                "single - or _ between them, at most 100)"
            )
    if spec.description is not None and len(spec.description) > _MAX_DESCRIPTION:
        problems.append(f"description is longer than {_MAX_DESCRIPTION} characters")
    seen_other = False
    for part in spec.parts:
        if part.role not in _ROLES:
            problems.append(f"message {part.text[:40]!r}: role {part.role!r} has no Bedrock form")
        if part.role == "system" and seen_other:
            problems.append(
                f"system message {part.text[:40]!r} comes after other messages; Bedrock "
                "prompts hold system text before the conversation only"
            )
        seen_other = seen_other or part.role != "system"
    if spec.template_type == "CHAT" and not any(p.role != "system" for p in spec.parts):
        problems.append("a chat template needs at least one user or assistant message")
    if spec.template_type == "TEXT" and len(spec.parts) != 1:
        problems.append("a text template has exactly one part")
    if spec.model_id is not None and (not isinstance(spec.model_id, str) or not spec.model_id):
        problems.append(f"model={spec.model_id!r} is not a model id")
    return problems


def build_variant(spec: PromptSpec) -> dict[str, Any]:
    """The ``variants[0]`` of CreatePrompt / UpdatePrompt, with its content hash.

    Raises:
        UnsupportedTemplateError: Naming every problem found.
    """
    problems = _check_spec(spec)
    texts: list[tuple[str, str]] = []
    for part in spec.parts:
        where = f"{part.role} message {part.text[:40]!r}"
        text, found = bedrock_template(part, spec.input_variables, where)
        problems.extend(found)
        texts.append((part.role, text))
    if problems:
        raise UnsupportedTemplateError(
            f"prompt {spec.name!r} cannot be published: " + "; ".join(problems),
            problems=problems,
            model_id=spec.name,
            resource="prompt",
        )
    variables = [{"name": name} for name in spec.input_variables]
    if spec.template_type == "TEXT":
        configuration: dict[str, Any] = {"text": {"text": texts[0][1], "inputVariables": variables}}
    else:
        chat: dict[str, Any] = {
            "messages": [
                {"role": role, "content": [{"text": text}]}
                for role, text in texts
                if role != "system"
            ],
            "inputVariables": variables,
        }
        system = [{"text": text} for role, text in texts if role == "system"]
        if system:
            chat["system"] = system
        configuration = {"chat": chat}
    variant: dict[str, Any] = {
        "name": spec.variant_name,
        "templateType": spec.template_type,
        "templateConfiguration": configuration,
    }
    if spec.model_id:
        variant["modelId"] = spec.model_id
    inference = _inference(spec.inference)
    if inference:
        variant["inferenceConfiguration"] = inference
    if spec.additional_model_request_fields:
        variant["additionalModelRequestFields"] = dict(spec.additional_model_request_fields)
    digest = hashlib.sha256(
        json.dumps(
            {"variant": variant, "name": spec.name, "description": spec.description},
            sort_keys=True,
            separators=(",", ":"),
        ).encode("utf-8")
    ).hexdigest()
    variant["metadata"] = [{"key": HASH_KEY, "value": digest}]
    return variant


def _prompt_request(spec: PromptSpec, variant: Mapping[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = {
        "name": spec.name,
        "variants": [dict(variant)],
        "defaultVariant": spec.variant_name,
    }
    if spec.description is not None:
        request["description"] = spec.description
    return request


def _hash_of(response: Mapping[str, Any], variant_name: str) -> str | None:
    for variant in response.get("variants") or ():
        if isinstance(variant, Mapping) and variant.get("name") == variant_name:
            for entry in variant.get("metadata") or ():
                if isinstance(entry, Mapping) and entry.get("key") == HASH_KEY:
                    return str(entry.get("value"))
    return None


# -- the plan: requests out, responses in

_Call = tuple[str, dict[str, Any]]


def _summaries(r: WireReader, page: Any) -> tuple[list[Mapping[str, Any]], str | None]:
    page = r.obj(page, "ListPrompts response")
    items = [
        r.obj(s, f"promptSummaries[{i}]")
        for i, s in enumerate(r.items(page.get("promptSummaries"), "promptSummaries"))
    ]
    return items, r.opt_text(page.get("nextToken"), "nextToken")


def _publish_plan(
    spec: PromptSpec, prompt_id: str | None
) -> Generator[_Call, Any, PublishedPrompt]:
    variant = build_variant(spec)
    digest = _hash_of({"variants": [variant]}, spec.variant_name)
    r = WireReader("Prompt Management response", spec.name)
    if prompt_id is None:
        token: str | None = None
        while prompt_id is None:
            page = yield (
                "list_prompts",
                {"maxResults": 100, **({"nextToken": token} if token else {})},
            )
            items, token = _summaries(r, page)
            for item in items:
                if item.get("name") == spec.name:
                    prompt_id = r.text(item.get("id"), "promptSummaries[].id", empty=False)
                    break
            if token is None:
                break
    created = draft_updated = False
    if prompt_id is None:
        # The content hash as idempotency token: a retried create makes one prompt, and
        # the request is the same bytes every time (botocore would make up a random one).
        request = {**_prompt_request(spec, variant), "clientToken": digest}
        response = yield ("create_prompt", request)
        prompt_id = r.text(
            r.obj(response, "CreatePrompt").get("id"), "CreatePrompt.id", empty=False
        )
        created = draft_updated = True
    else:
        draft = yield ("get_prompt", {"promptIdentifier": prompt_id})
        if _hash_of(r.obj(draft, "GetPrompt"), spec.variant_name) != digest:
            yield (
                "update_prompt",
                {"promptIdentifier": prompt_id, **_prompt_request(spec, variant)},
            )
            draft_updated = True
        versions: list[int] = []
        token = None
        while True:
            query = {"promptIdentifier": prompt_id, "maxResults": 100}
            page = yield ("list_prompts", {**query, **({"nextToken": token} if token else {})})
            items, token = _summaries(r, page)
            versions.extend(
                int(v)
                for v in (item.get("version") for item in items)
                if isinstance(v, str) and v.isdigit()
            )
            if token is None:
                break
        if versions:
            latest = str(max(versions))
            got = yield ("get_prompt", {"promptIdentifier": prompt_id, "promptVersion": latest})
            got = r.obj(got, "GetPrompt")
            if _hash_of(got, spec.variant_name) == digest:
                return PublishedPrompt(
                    id=prompt_id,
                    arn=r.text(got.get("arn"), "GetPrompt.arn"),
                    version=latest,
                    name=spec.name,
                    created=False,
                    draft_updated=draft_updated,
                    new_version=False,
                )
    response = r.obj(
        (yield ("create_prompt_version", {"promptIdentifier": prompt_id, "clientToken": digest})),
        "CreatePromptVersion",
    )
    return PublishedPrompt(
        id=prompt_id,
        arn=r.text(response.get("arn"), "CreatePromptVersion.arn"),
        version=r.text(response.get("version"), "CreatePromptVersion.version", empty=False),
        name=spec.name,
        created=created,
        draft_updated=draft_updated,
        new_version=True,
    )


def _check_prompt_id(prompt_id: str | None) -> None:
    if prompt_id is None:
        return
    if not isinstance(prompt_id, str) or not _PROMPT_ID.fullmatch(prompt_id):
        raise ConfigurationError(
            f"prompt_id must be a 10-character prompt id or a prompt ARN, got {prompt_id!r}"
        )


def publish_with(
    management: PromptManagement, spec: PromptSpec, prompt_id: str | None = None
) -> PublishedPrompt:
    """Publish ``spec`` through ``management``'s ``bedrock-agent`` client."""
    _check_prompt_id(prompt_id)
    plan = _publish_plan(spec, prompt_id)
    with translate_errors(
        model_id=prompt_id or spec.name, region=management.pool.region, resource="prompt"
    ):
        try:
            method, kwargs = next(plan)
            while True:
                method, kwargs = plan.send(getattr(management.pool.client, method)(**kwargs))
        except StopIteration as done:
            result: PublishedPrompt = done.value
            return result


async def apublish_with(
    management: PromptManagement, spec: PromptSpec, prompt_id: str | None = None
) -> PublishedPrompt:
    """Async :func:`publish_with` (aiobotocore)."""
    _check_prompt_id(prompt_id)
    plan = _publish_plan(spec, prompt_id)
    with translate_errors(
        model_id=prompt_id or spec.name, region=management.pool.region, resource="prompt"
    ):
        client = await management.pool.async_client()
        try:
            method, kwargs = next(plan)
            while True:
                method, kwargs = plan.send(await getattr(client, method)(**kwargs))
        except StopIteration as done:
            result: PublishedPrompt = done.value
            return result


def publish_spec(
    spec: PromptSpec, prompt_id: str | None = None, **client_args: Any
) -> PublishedPrompt:
    """Publish ``spec`` with the client arguments every bedrock-kit class takes.

    Args:
        spec: The template.
        prompt_id: Update this prompt; None finds the prompt by ``spec.name`` (ListPrompts)
            or creates it.
        **client_args: ``region_name``, ``endpoint_url``, ``aws_*``, ``client``...

    Raises:
        UnsupportedTemplateError: The template cannot be represented (nothing was sent).
    """
    build_variant(spec)  # refuse before any client is built
    management = prompt_management(**client_args)
    try:
        return publish_with(management, spec, prompt_id)
    finally:
        management.pool.close()  # injected clients stay open


async def apublish_spec(
    spec: PromptSpec, prompt_id: str | None = None, **client_args: Any
) -> PublishedPrompt:
    """Async :func:`publish_spec`; the one-off async client is closed afterwards."""
    build_variant(spec)
    management = prompt_management(**client_args)
    try:
        return await apublish_with(management, spec, prompt_id)
    finally:
        await management.pool.aclose()
