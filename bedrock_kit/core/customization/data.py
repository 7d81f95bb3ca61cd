"""Training data: build each customization format, validate it before upload, split it.

Builders take neutral inputs (core :class:`~bedrock_kit.core.chat.types.Message` lists,
``(prompt, completion)`` pairs, raw texts) and return the JSONL records the base model's
profile asks for; a pair becomes a one-exchange conversation and a one-exchange conversation
becomes a pair when the format needs it. :func:`validate_records` checks everything the
profile documents and raises one :class:`~bedrock_kit.errors.TrainingDataError` that lists
every bad record by its JSONL line number, so nothing is uploaded on failure.

Token lengths are counted with the caller's counter (CountTokens, for exact figures) or the
core estimate (:mod:`bedrock_kit.core.chat.token_estimate`), which errs high: a record the
estimate refuses may still fit, and the message says the count was estimated.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bedrock_kit.core.chat.token_estimate import estimate_text_tokens
from bedrock_kit.core.chat.types import Message, TextBlock
from bedrock_kit.core.customization.profiles import (
    CONVERSATION_SCHEMA,
    CustomizationProfile,
    DataFormat,
)
from bedrock_kit.errors import ConfigurationError, TrainingDataError

Record = dict[str, Any]
TokenCounter = Callable[[str], int]

_MAX_LISTED = 50  # problems spelled out in the message; all of them stay on the error


@dataclass(frozen=True)
class Conversation:
    """One training conversation: alternating turns, user first, assistant last."""

    messages: Sequence[Message]
    """The turns (core messages, text content only)."""
    system: str | None = None
    """System prompt of this conversation."""


@dataclass(frozen=True)
class DatasetReport:
    """What validation measured on a dataset that passed."""

    records: int
    """Number of records."""
    bytes: int
    """Size of the JSONL file in bytes."""
    max_record_tokens: int
    """Largest record's token count."""
    total_tokens: int
    """Tokens of every record (what one epoch trains on)."""
    estimated: bool
    """True when the counts are the core estimate (which errs high), not a tokenizer's."""


# -- builders


def _message_text(message: Message, where: str, problems: list[str]) -> str:
    for block in message.content:
        if not isinstance(block, TextBlock):
            problems.append(f"{where}: {type(block).__name__} content is not text")
    return "".join(b.text for b in message.content if isinstance(b, TextBlock))


def conversation_record(conversation: Conversation | Sequence[Message]) -> Record:
    """One ``bedrock-conversation-2024`` record from a conversation.

    Raises:
        ConfigurationError: A turn holds content other than text (images, tool calls).
    """
    conv = conversation if isinstance(conversation, Conversation) else Conversation(conversation)
    problems: list[str] = []
    messages = [
        {"role": m.role, "content": [{"text": _message_text(m, f"turn {i + 1}", problems)}]}
        for i, m in enumerate(conv.messages)
    ]
    if problems:
        raise ConfigurationError("; ".join(problems))
    record: Record = {"schemaVersion": CONVERSATION_SCHEMA}
    if conv.system:
        record["system"] = [{"text": conv.system}]
    record["messages"] = messages
    return record


def _as_pair(item: Any) -> tuple[str, str]:
    if (
        isinstance(item, Conversation | list | tuple)
        and item
        and isinstance((item.messages if isinstance(item, Conversation) else item)[0], Message)
    ):
        conv = item if isinstance(item, Conversation) else Conversation(item)
        turns = list(conv.messages)
        if len(turns) != 2 or [t.role for t in turns] != ["user", "assistant"]:
            raise ConfigurationError(
                "prompt-completion records need one user turn then one assistant turn"
            )
        problems: list[str] = []
        prompt = _message_text(turns[0], "turn 1", problems)
        completion = _message_text(turns[1], "turn 2", problems)
        if problems:
            raise ConfigurationError("; ".join(problems))
        if conv.system:
            prompt = f"{conv.system}\n\n{prompt}"
        return prompt, completion
    if isinstance(item, tuple) and len(item) == 2 and all(isinstance(x, str) for x in item):
        return item[0], item[1]
    raise ConfigurationError(
        f"expected a (prompt, completion) pair or a conversation, got {item!r}"
    )


def _as_conversation(item: Any) -> Conversation:
    if isinstance(item, Conversation):
        return item
    if isinstance(item, tuple) and len(item) == 2 and all(isinstance(x, str) for x in item):
        return Conversation(
            (Message("user", (TextBlock(item[0]),)), Message("assistant", (TextBlock(item[1]),)))
        )
    if isinstance(item, list | tuple) and all(isinstance(m, Message) for m in item):
        return Conversation(item)
    raise ConfigurationError(
        f"expected a conversation or a (prompt, completion) pair, got {item!r}"
    )


def build_records(items: Iterable[Any], fmt: DataFormat | CustomizationProfile) -> list[Record]:
    """Training records in ``fmt`` (or the profile's format) from neutral inputs.

    Args:
        items: ``(prompt, completion)`` string pairs, :class:`Conversation` objects or lists
            of core messages (``prompt_completion`` and ``conversation``), or strings
            (``pretraining``).
        fmt: The data format, or the base model's profile.

    Raises:
        ConfigurationError: An item cannot be expressed in the format (a three-turn
            conversation for prompt-completion, an image, a pair for pre-training).
    """
    data_format = fmt.format if isinstance(fmt, CustomizationProfile) else fmt
    records: list[Record] = []
    for index, item in enumerate(items):
        try:
            if data_format == "pretraining":
                if not isinstance(item, str):
                    raise ConfigurationError(f"pre-training takes texts, got {type(item).__name__}")
                records.append({"input": item})
            elif data_format == "prompt_completion":
                prompt, completion = _as_pair(item)
                records.append({"prompt": prompt, "completion": completion})
            elif data_format == "conversation":
                records.append(conversation_record(_as_conversation(item)))
            else:
                raise ConfigurationError(f"unknown data format {data_format!r}")
        except ConfigurationError as exc:
            raise ConfigurationError(f"item {index}: {exc.message}") from None
    return records


def to_jsonl(records: Iterable[Mapping[str, Any]]) -> bytes:
    """The JSONL bytes of ``records`` (UTF-8, one compact object per line)."""
    return b"".join(
        json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode() + b"\n" for r in records
    )


def parse_jsonl(data: bytes | str) -> list[tuple[int, Any]]:
    """``(line number, decoded value)`` per non-blank line; undecodable lines keep the
    ``ValueError`` as their value so the validator reports them by line."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    out: list[tuple[int, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            out.append((number, None))
            continue
        try:
            out.append((number, json.loads(line)))
        except ValueError as exc:
            out.append((number, exc))
    return out


# -- validation


def _text_of_content(content: Any, where: str, problems: list[str]) -> str:
    if not isinstance(content, list) or not content:
        problems.append(f"{where}: content must be a non-empty list of text blocks")
        return ""
    texts: list[str] = []
    for block in content:
        if not isinstance(block, Mapping) or not isinstance(block.get("text"), str):
            problems.append(f"{where}: a content block is not {{'text': str}}")
            continue
        texts.append(block["text"])
    return "".join(texts)


def _check_conversation(
    record: Mapping[str, Any], profile: CustomizationProfile, problems: list[str]
) -> list[str]:
    extra = set(record) - {"schemaVersion", "system", "messages"}
    if extra:
        problems.append(f"unexpected fields {sorted(extra)}")
    if record.get("schemaVersion") != CONVERSATION_SCHEMA:
        problems.append(f"schemaVersion must be {CONVERSATION_SCHEMA!r}")
    texts: list[str] = []
    system = record.get("system")
    if system is not None:
        texts.append(_text_of_content(system, "system", problems))
    messages = record.get("messages")
    fewest = 1 if profile.prompts_only else 2
    if not isinstance(messages, list) or len(messages) < fewest:
        turns = "a user turn" if profile.prompts_only else "a user and an assistant turn"
        problems.append(f"messages must list at least {turns}")
        return texts
    roles = [m.get("role") if isinstance(m, Mapping) else None for m in messages]
    if roles[0] != "user":
        problems.append("the first turn must be the user's")
    if roles[-1] != "assistant" and not profile.prompts_only:
        problems.append("the last turn must be the assistant's")
    for i in range(1, len(roles)):
        if roles[i] == roles[i - 1]:
            problems.append(f"turns {i} and {i + 1} are both {roles[i]!r}: roles must alternate")
    bad_roles = sorted({str(r) for r in roles if r not in ("user", "assistant")})
    if bad_roles:
        problems.append(f"unknown roles {bad_roles}")
    if not profile.multi_turn and roles.count("user") > 1:
        problems.append(f"{profile.name} takes one user/assistant exchange per record")
    for i, message in enumerate(messages, start=1):
        if isinstance(message, Mapping):
            text = _text_of_content(message.get("content"), f"turn {i}", problems)
            if not text.strip():
                problems.append(f"turn {i} is empty")
            texts.append(text)
    return texts


def _check_flat(
    record: Mapping[str, Any], fields: tuple[str, ...], problems: list[str]
) -> list[str]:
    extra = set(record) - set(fields)
    if extra:
        problems.append(f"unexpected fields {sorted(extra)}")
    texts: list[str] = []
    for name in fields:
        value = record.get(name)
        if not isinstance(value, str):
            problems.append(f"{name!r} is missing or not a string")
        elif not value.strip():
            problems.append(f"{name!r} is empty")
        else:
            texts.append(value)
    return texts


def validate_records(
    records: Iterable[Any],
    profile: CustomizationProfile,
    *,
    validation: bool = False,
    count_tokens: TokenCounter | None = None,
) -> DatasetReport:
    """Check a dataset against the base model's profile before anything is uploaded.

    Checks: the JSON of each line, required fields and no others, non-empty text, roles
    alternating from user to assistant, the profile's reserved keywords, tokens per record,
    bytes per record, duplicate records, the record count (training or validation limits)
    and the file size.

    Args:
        records: Records (dicts) in the order they will be written, or the output of
            :func:`parse_jsonl` (``(line number, value)`` pairs) to report file lines.
        profile: The base model's profile.
        validation: Check against the validation-set limits instead of the training ones.
        count_tokens: Exact counter (a
            :class:`~bedrock_kit.core.customization.counting.RecordTokenCounter` asks
            CountTokens); None uses the core estimate (errs high). The report's
            ``estimated`` says which was used.

    Raises:
        TrainingDataError: Every problem, each with its JSONL line number (0: the file).
    """
    counter = count_tokens or estimate_text_tokens
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    count = size = max_tokens = total = 0
    fields = {"prompt_completion": ("prompt", "completion"), "pretraining": ("input",)}
    for position, item in enumerate(records, start=1):
        line, record = item if isinstance(item, tuple) and len(item) == 2 else (position, item)
        if record is None:
            problems.append((line, "empty line"))
            continue
        count += 1
        if isinstance(record, ValueError):
            problems.append((line, f"not valid JSON: {record}"))
            continue
        if not isinstance(record, Mapping):
            problems.append((line, f"a record must be a JSON object, got {type(record).__name__}"))
            continue
        found: list[str] = []
        if profile.format == "conversation":
            texts = _check_conversation(record, profile, found)
        else:
            texts = _check_flat(record, fields[profile.format], found)
        encoded = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        length = len(encoded.encode()) + 1
        size += length
        if profile.max_record_bytes is not None and length > profile.max_record_bytes:
            found.append(f"{length} bytes, above the {profile.max_record_bytes} per record")
        for keyword in profile.reserved_keywords:
            if any(keyword in t for t in texts):
                found.append(f"contains the reserved keyword {keyword!r}")
        tokens = sum(counter(t) for t in texts)
        max_tokens, total = max(max_tokens, tokens), total + tokens
        if profile.max_tokens_per_record is not None and tokens > profile.max_tokens_per_record:
            how = "estimated (the estimate errs high)" if _estimated(count_tokens) else "counted"
            found.append(
                f"{tokens} tokens {how}, above the {profile.max_tokens_per_record} per record"
            )
        if encoded in seen:
            found.append(f"duplicate of line {seen[encoded]}")
        else:
            seen[encoded] = line
        problems.extend((line, reason) for reason in found)
    _check_totals(profile, validation, count, size, problems)
    if problems:
        listed = "; ".join(f"line {n}: {why}" if n else why for n, why in problems[:_MAX_LISTED])
        more = f" (and {len(problems) - _MAX_LISTED} more)" if len(problems) > _MAX_LISTED else ""
        kind = "validation" if validation else "training"
        raise TrainingDataError(
            f"{len(problems)} problem(s) in the {kind} data for {profile.name}: {listed}{more}",
            problems=problems,
        )
    return DatasetReport(count, size, max_tokens, total, estimated=_estimated(count_tokens))


def _estimated(count_tokens: TokenCounter | None) -> bool:
    """True when the counts are estimates: no counter, or one that fell back to the estimate
    (a :class:`~bedrock_kit.core.customization.counting.RecordTokenCounter` says so)."""
    return count_tokens is None or bool(getattr(count_tokens, "estimated", False))


def _check_totals(
    profile: CustomizationProfile,
    validation: bool,
    count: int,
    size: int,
    problems: list[tuple[int, str]],
) -> None:
    low = None if validation else profile.min_records
    high = profile.max_validation_records if validation else profile.max_records
    what = "validation" if validation else "training"
    if count == 0:
        problems.append((0, f"the {what} data holds no records"))
    if low is not None and count < low:
        problems.append((0, f"{count} {what} records, fewer than the {low} {profile.name} needs"))
    if high is not None and count > high:
        problems.append((0, f"{count} {what} records, more than the {high} {profile.name} takes"))
    if profile.max_file_bytes is not None and size > profile.max_file_bytes:
        problems.append((0, f"{size} bytes, above the {profile.max_file_bytes} file limit"))


def train_validation_split(
    records: Sequence[Record],
    *,
    validation_fraction: float = 0.1,
    seed: int = 0,
    profile: CustomizationProfile | None = None,
) -> tuple[list[Record], list[Record]]:
    """Shuffle (reproducibly) and split into training and validation records.

    Args:
        records: All records.
        validation_fraction: Share held out for validation, in ``[0, 1)``.
        seed: Shuffle seed; the same seed gives the same split.
        profile: When given, the validation set is capped at its
            ``max_validation_records`` (the rest stays in training).

    Raises:
        ConfigurationError: A fraction outside ``[0, 1)``, or a split leaving no training record.
    """
    if not 0 <= validation_fraction < 1:
        raise ConfigurationError(
            f"validation_fraction must be in [0, 1), got {validation_fraction!r}"
        )
    order = list(records)
    random.Random(seed).shuffle(order)
    held = round(len(order) * validation_fraction)
    if profile is not None and profile.max_validation_records is not None:
        held = min(held, profile.max_validation_records)
    if held >= len(order):
        raise ConfigurationError("the split leaves no training records")
    return order[held:], order[:held]


__all__ = [
    "Conversation",
    "DatasetReport",
    "build_records",
    "conversation_record",
    "parse_jsonl",
    "to_jsonl",
    "train_validation_split",
    "validate_records",
]
