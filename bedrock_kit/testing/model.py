"""A scripted "model" for LocalBedrock: answers that follow the request, without AWS.

:class:`ScriptedModel` reads each Converse / ConverseStream request and answers the way a
cooperative model would, so whole frameworks (agents, structured output, LangChain's and
LlamaIndex's conformance suites) run offline:

* it enforces Bedrock's request rules first (roles alternate, no blank text, tool results
  answer tool calls, tool blocks need a ``toolConfig``, no forced tool choice with thinking,
  reasoning comes back signed and unaltered, signed reasoning precedes a tool call when
  thinking is on) and answers a ``ValidationException`` (400) as Bedrock does;
* with a forced tool choice it calls that tool; with tools bound and a prompt that names a
  tool (``magic_function(3)``, ``get_weather(city="Oslo")``), its topic ("weather" for
  ``get_weather``) or asks for one ("use the tool"), it calls it, arguments read off the
  prompt or made valid for the schema;
* otherwise, with ``outputConfig``, it answers JSON valid for the schema;
* given a ReAct system prompt (LlamaIndex's ``> Tool Name:`` / ``Action Input:`` format) it
  answers in that format: a ``Thought``/``Action``/``Action Input`` for a tool the prompt
  asks for, then, after the ``Observation``, an ``Answer`` quoting it;
* after tool results it answers text quoting them;
* with thinking on, a signed reasoning block comes first;
* stop sequences cut the text (``stopReason`` ``stop_sequence``);
* InvokeModel with a Titan or Cohere embedding body gets unit vectors derived from each
  text (the same text, the same vector), of the requested size.

Example:
    >>> with LocalBedrock() as server:  # doctest: +SKIP
    ...     ScriptedModel().install(server)
    ...     ChatBedrockKit(model=..., endpoint_url=server.endpoint_url).invoke("hi")
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bedrock_kit.testing import embeddings as embedding_replies
from bedrock_kit.testing import rerank as rerank_replies
from bedrock_kit.testing import scripts
from bedrock_kit.testing._instances import instance
from bedrock_kit.testing._rules import sign, thinking_enabled, violation
from bedrock_kit.testing.replies import Reply

_ASKS_FOR_TOOL = re.compile(r"\b(use|using|call|calling|invoke|run)\b[^.?!]*\btools?\b", re.I)
_LATENCY_MS = 1


@dataclass(frozen=True)
class Answer:
    """What the scripted model decided to answer one request with."""

    text: str | None = None
    """Answer text (None: no text block)."""
    tool_uses: tuple[dict[str, Any], ...] = ()
    """``{"toolUseId", "name", "input"}`` tool calls."""
    reasoning: str | None = None
    """Reasoning text, sent first and signed."""
    server_tools: tuple[dict[str, Any], ...] = ()
    """:func:`~bedrock_kit.testing.scripts.server_tool` turns Bedrock ran (system tools)."""
    stop_reason: str | None = None
    """``stopReason``; None picks ``tool_use`` or ``end_turn``."""


def _texts(blocks: Sequence[Any]) -> list[str]:
    return [str(b["text"]) for b in blocks if isinstance(b, Mapping) and "text" in b]


def _last_user(request: Mapping[str, Any]) -> Mapping[str, Any]:
    for message in reversed(request.get("messages") or ()):
        if isinstance(message, Mapping) and message.get("role") == "user":
            return message
    return {}


def _tool_results(message: Mapping[str, Any]) -> list[str]:
    found = []
    for block in message.get("content") or ():
        result = block.get("toolResult") if isinstance(block, Mapping) else None
        if isinstance(result, Mapping):
            parts = []
            for item in result.get("content") or ():
                if "text" in item:
                    parts.append(str(item["text"]))
                elif "json" in item:
                    parts.append(json.dumps(item["json"], sort_keys=True))
                else:
                    parts.append(f"<{next(iter(item), 'block')}>")
            found.append(" ".join(parts))
    return found


def _tools(request: Mapping[str, Any]) -> list[dict[str, Any]]:
    config = request.get("toolConfig") or {}
    return [t["toolSpec"] for t in config.get("tools") or () if "toolSpec" in t]


def _schema(tool: Mapping[str, Any]) -> dict[str, Any]:
    return dict((tool.get("inputSchema") or {}).get("json") or {})


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return text.strip().strip("'\"")


_QUOTED = re.compile(r"'([^']+)'|\"([^\"]+)\"")


def _call_arguments(prompt: str, tool: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments written in the prompt as ``name(3)`` or ``name(city="Oslo")``, else the
    prompt's quoted strings for the string arguments, in order."""
    properties = _schema(tool).get("properties") or {}
    names = list(properties)
    found = re.search(re.escape(str(tool["name"])) + r"\(([^)]*)\)", prompt)
    if not found or not found.group(1).strip():
        quoted = [a or b for a, b in _QUOTED.findall(prompt)]
        strings = [n for n in names if (properties[n] or {}).get("type") == "string"]
        return dict(zip(strings, quoted, strict=False))
    hints: dict[str, Any] = {}
    for position, part in enumerate(p for p in found.group(1).split(",") if p.strip()):
        key, equals, value = part.partition("=")
        if equals and key.strip().isidentifier():
            hints[key.strip()] = _literal(value)
        elif position < len(names):
            hints[names[position]] = _literal(part)
    return hints


class ScriptedModel:
    """A Converse / ConverseStream reply source that follows the request.

    Args:
        text: The plain answer when nothing else applies; None echoes the last user text
            (``echo: <text>``).
        answer_tokens: Pad or cut plain answers to this many (estimated) tokens.
        chunk_chars: Characters per streamed delta.
    """

    def __init__(
        self, *, text: str | None = None, answer_tokens: int | None = None, chunk_chars: int = 8
    ) -> None:
        if answer_tokens is not None and answer_tokens < 1:
            raise ValueError(f"answer_tokens must be >= 1, got {answer_tokens}")
        if chunk_chars < 1:
            raise ValueError(f"chunk_chars must be >= 1, got {chunk_chars}")
        self.text = text
        self.answer_tokens = answer_tokens
        self.chunk_chars = chunk_chars

    def install(self, server: Any) -> ScriptedModel:
        """Make this model ``server``'s default answer for Converse, ConverseStream and
        (embedding bodies) InvokeModel."""
        server.set_default("Converse", self)
        server.set_default("ConverseStream", self)
        server.set_default("InvokeModel", self)
        return self

    # -- the reply source

    def __call__(self, request: Any) -> Reply:
        """The reply to a LocalBedrock :class:`~bedrock_kit.testing.ReceivedRequest`."""
        body = request.body if isinstance(request.body, Mapping) else {}
        if request.operation == "InvokeModel" and rerank_replies.is_rerank_body(body):
            return rerank_replies.answer_invoke_rerank(body)
        if request.operation == "InvokeModel":
            return embedding_reply(str(request.path_params.get("modelId", "")), body)
        problem = violation(body)
        if problem is not None:
            return Reply.error(400, "ValidationException", problem)
        answer = self.answer(body)
        usage = self.usage(body, answer)
        shape: dict[str, Any] = {
            "text": answer.text,
            "tool_uses": answer.tool_uses,
            "reasoning": answer.reasoning,
            "reasoning_signature": sign(answer.reasoning) if answer.reasoning else None,
            "stop_reason": answer.stop_reason,
            "usage": usage,
            "latency_ms": _LATENCY_MS,
            "server_tools": answer.server_tools,
            # The only shape real recordings show (Nova): an empty object.
            "server_tool_usage": {} if answer.server_tools else None,
        }
        if request.operation == "ConverseStream":
            return Reply.events(
                scripts.converse_stream_events(**shape, chunk_chars=self.chunk_chars)
            )
        return Reply.json(scripts.converse_reply(**shape))

    def usage(self, request: Mapping[str, Any], answer: Answer | None = None) -> dict[str, int]:
        """The ``usage`` this model bills for a request (so tests can check token counts).

        Args:
            request: The Converse request body.
            answer: Its answer; None decides it again (answers are deterministic).
        """
        found = self.answer(request) if answer is None else answer
        return scripts.build_usage(_input_tokens(request), _output_tokens(found))

    def answer(self, request: Mapping[str, Any]) -> Answer:
        """Decide the answer to a (valid) Converse request body."""
        reasoning = None
        prompt = " ".join(_texts(_last_user(request).get("content") or ()))
        if thinking_enabled(request):
            reasoning = f"The user asks: {prompt or 'for the next step'}. I answer directly."
        react = _react_answer(request, prompt)
        if react is not None:
            return Answer(react, reasoning=reasoning)
        calls = self._tool_calls(request, prompt)
        if calls:
            return Answer(None, tuple(calls), reasoning)
        servers = _server_calls(request, prompt)
        if servers:
            return Answer(self._plain(prompt), reasoning=reasoning, server_tools=servers)
        output = (request.get("outputConfig") or {}).get("textFormat") or {}
        if output.get("type") == "json_schema":
            schema = json.loads(output["structure"]["jsonSchema"]["schema"])
            return Answer(json.dumps(instance(schema)), reasoning=reasoning)
        results = _tool_results(_last_user(request))
        plain = "The tools returned: " + "; ".join(results) if results else self._plain(prompt)
        text, stopped = _apply_stops(plain, request)
        return Answer(text, reasoning=reasoning, stop_reason="stop_sequence" if stopped else None)

    # -- helpers

    def _plain(self, prompt: str) -> str:
        text = self.text if self.text is not None else f"echo: {prompt}".rstrip()
        if self.answer_tokens is not None:
            wanted = 4 * self.answer_tokens
            text = ((text + " ") * (wanted // (len(text) + 1) + 1))[:wanted]
        return text

    def _tool_calls(self, request: Mapping[str, Any], prompt: str) -> list[dict[str, Any]]:
        tools = _tools(request)
        if not tools or _tool_results(_last_user(request)):
            return []
        choice = (request.get("toolConfig") or {}).get("toolChoice") or {}
        if "tool" in choice:
            chosen: list[Mapping[str, Any]] = [
                t for t in tools if t["name"] == choice["tool"]["name"]
            ]
        else:
            chosen = _asked_for(tools, prompt, force="any" in choice)
        calls = []
        for index, tool in enumerate(chosen):
            schema = _schema(tool)
            arguments = instance(schema, hints=_call_arguments(prompt, tool))
            call_id = f"tooluse_{len(request.get('messages') or ())}_{index}_{tool['name']}"
            calls.append({"toolUseId": call_id, "name": tool["name"], "input": arguments})
        return calls


def _server_calls(request: Mapping[str, Any], prompt: str) -> tuple[dict[str, Any], ...]:
    """One server-side call per bound system tool, run "by Bedrock", before the answer."""
    config = request.get("toolConfig") or {}
    names = [
        str(t["systemTool"].get("name"))
        for t in config.get("tools") or ()
        if isinstance(t.get("systemTool"), Mapping)
    ]
    if not names or _tool_results(_last_user(request)):
        return ()
    turn = len(request.get("messages") or ())
    calls = []
    for index, name in enumerate(names):
        call_id = f"tooluse_server_{turn}_{index}"
        if "code" in name:
            calls.append(
                scripts.server_tool(
                    name,
                    {"code": f"print({prompt!r})"},
                    [{"json": {"stdout": f"{prompt}\n", "exit_code": 0}}],
                    tool_use_id=call_id,
                )
            )
        else:
            calls.append(
                scripts.server_tool(
                    name,
                    {"query": prompt},
                    [{"text": f"results for {prompt}"}],
                    tool_use_id=call_id,
                )
            )
    return tuple(calls)


def _asked_for(
    tools: Sequence[Mapping[str, Any]], prompt: str, *, force: bool = False
) -> list[Mapping[str, Any]]:
    """The tools a prompt names, else those whose topic it mentions, else (when it asks for
    a tool, or ``force``) the first."""
    chosen = [t for t in tools if re.search(rf"\b{re.escape(str(t['name']))}\b", prompt)]
    chosen = chosen or [t for t in tools if _topic_of(t).intersection(_words(prompt))]
    if not chosen and (force or _ASKS_FOR_TOOL.search(prompt)):
        chosen = list(tools[:1])
    return chosen


_REACT_TOOL = re.compile(
    r"> Tool Name: (?P<name>[^\n]+)\nTool Description: .*?\nTool Args: (?P<args>[^\n]*)", re.S
)


def _react_answer(request: Mapping[str, Any], prompt: str) -> str | None:
    """A ReAct-format answer when the system prompt asks for one, else None."""
    system = "\n".join(_texts(request.get("system") or ()))
    if "Action Input:" not in system or "> Tool Name:" not in system:
        return None
    if prompt.startswith("Observation:"):
        observation = prompt.removeprefix("Observation:").strip()
        return (
            "Thought: I can answer without using any more tools.\n"
            f"Answer: The tools returned: {observation}"
        )
    tools = []
    for found in _REACT_TOOL.finditer(system):
        try:
            schema = json.loads(found["args"])
        except ValueError:
            schema = {}
        tools.append({"name": found["name"].strip(), "inputSchema": {"json": schema}})
    chosen = _asked_for(tools, prompt)
    if not chosen:
        return f"Thought: I can answer without using any more tools.\nAnswer: echo: {prompt}"
    tool = chosen[0]
    arguments = instance(_schema(tool), hints=_call_arguments(prompt, tool))
    return (
        "Thought: I need to use a tool to help me answer the question.\n"
        f"Action: {tool['name']}\nAction Input: {json.dumps(arguments)}"
    )


# Words of a tool name that say nothing about its topic.
_GENERIC = frozenset({"get", "set", "fetch", "find", "lookup", "search", "tool", "function"})


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) >= 4}


def _topic_of(tool: Mapping[str, Any]) -> set[str]:
    """The words of a tool's name that name its topic (``get_weather`` -> ``weather``)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", str(tool["name"]))
    return _words(spaced.replace("_", " ").replace("-", " ")) - _GENERIC


def _apply_stops(text: str, request: Mapping[str, Any]) -> tuple[str | None, bool]:
    stops = (request.get("inferenceConfig") or {}).get("stopSequences") or ()
    cut = min((text.find(s) for s in stops if s and s in text), default=-1)
    if cut < 0:
        return text, False
    return text[:cut] or None, True


def _input_tokens(request: Mapping[str, Any]) -> int:
    return max(1, scripts.estimate_tokens(" ".join(scripts.request_texts(request))))


def _output_tokens(answer: Answer) -> int:
    spent = (answer.text or "") + (answer.reasoning or "")
    spent += "".join(json.dumps(t["input"]) for t in answer.tool_uses)
    return max(1, scripts.estimate_tokens(spent))


# -- embeddings

_DEFAULT_DIMENSIONS = (("cohere.embed-v4", 1536), ("", 1024))


def embedding(text: str, dimensions: int) -> list[float]:
    """A unit vector of ``dimensions`` floats derived from ``text`` (deterministic)."""
    values: list[float] = []
    counter = 0
    while len(values) < dimensions:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        values.extend((byte - 127.5) / 127.5 for byte in digest)
        counter += 1
    vector = values[:dimensions]
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [round(v / norm, 6) for v in vector]


def embedding_reply(model_id: str, body: Mapping[str, Any]) -> Reply:
    """InvokeModel's answer to a Titan (``inputText``) or Cohere (``texts``) embedding body."""
    extended = embedding_replies.answer_embedding(model_id, body)
    if extended is not None:
        return extended
    size = next(n for key, n in _DEFAULT_DIMENSIONS if key in model_id)
    if isinstance(body.get("inputText"), str):
        text = body["inputText"]
        dimensions = int(body.get("dimensions") or size)
        tokens = max(1, scripts.estimate_tokens(text))
        return Reply.json(
            {"embedding": embedding(text, dimensions), "inputTextTokenCount": tokens},
            headers={"X-Amzn-Bedrock-Input-Token-Count": str(tokens)},
        )
    texts = body.get("texts")
    if isinstance(texts, list) and all(isinstance(t, str) for t in texts):
        dimensions = int(body.get("output_dimension") or size)
        vectors = [embedding(t, dimensions) for t in texts]
        tokens = max(1, sum(scripts.estimate_tokens(t) for t in texts))
        answer: dict[str, Any] = {"id": "scripted", "texts": texts}
        if body.get("embedding_types"):
            answer.update(embeddings={"float": vectors}, response_type="embeddings_by_type")
        else:
            answer.update(embeddings=vectors, response_type="embeddings_floats")
        return Reply.json(answer, headers={"X-Amzn-Bedrock-Input-Token-Count": str(tokens)})
    return Reply.error(
        400,
        "ValidationException",
        "ScriptedModel answers InvokeModel for Titan and Cohere embedding bodies only; "
        "script other InvokeModel replies with server.script('InvokeModel', ...)",
    )
