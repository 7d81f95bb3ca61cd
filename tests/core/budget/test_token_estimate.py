"""The input estimate errs high for every script (and against real Bedrock counts)."""

from __future__ import annotations

import math
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bedrock_kit.core.chat.token_estimate import (
    IMAGE_TOKENS,
    MESSAGE_OVERHEAD,
    REQUEST_OVERHEAD,
    TOOLS_OVERHEAD,
    estimate_invoke_tokens,
    estimate_request_tokens,
    estimate_text_tokens,
    estimate_tokens,
)
from bedrock_kit.testing.conformance import load_recordings
from tests.support.token_samples import CLAUDE_TOKENS, SAMPLES


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_estimate_is_never_below_claudes_tokenizer(name):
    estimate = estimate_text_tokens(SAMPLES[name])
    assert estimate >= CLAUDE_TOKENS[name], (name, estimate, CLAUDE_TOKENS[name])


def test_cjk_is_no_longer_reserved_at_a_quarter_token_per_character():
    text = SAMPLES["zh"]
    assert math.ceil(len(text) / 4) < CLAUDE_TOKENS["zh"] / 3  # the old estimate
    assert estimate_text_tokens(text) >= len(unicodedata.normalize("NFKC", text).encode())


def test_ascii_prose_and_code_are_not_over_reserved_more_than_twice():
    for name in ("english", "code_py", "code_js", "url", "de"):
        ratio = estimate_text_tokens(SAMPLES[name]) / CLAUDE_TOKENS[name]
        assert 1 <= ratio <= 2, (name, ratio)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_at_least_one_token_per_non_ascii_byte(text):
    non_ascii = "".join(c for c in text if not c.isascii())
    nfkc = unicodedata.normalize("NFKC", non_ascii)
    assert estimate_text_tokens(text) >= len(nfkc.encode("utf-8", "replace")) - len(
        [c for c in nfkc if c.isascii()]
    )
    assert estimate_text_tokens(text) >= len(non_ascii)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_costs_at_least_one_token_per_four_characters(text):
    # the word rule (4 letters per token) is the most generous; nothing is cheaper except a
    # single space joining a word, and a run of spaces (4 per token)
    assert estimate_text_tokens(text) >= math.ceil(len(text.replace(" ", "")) / 4)


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text())
def test_concatenation_never_costs_much_less_than_its_parts(a, b):
    # pieces merge at the seam (a word split in two) by at most a couple of tokens
    assert estimate_text_tokens(a + b) >= estimate_text_tokens(a) + estimate_text_tokens(b) - 3


def test_overheads_are_added_per_request_message_image_and_tools():
    assert estimate_tokens("", messages=0) == 0
    assert estimate_tokens("", messages=2, images=1) == (
        REQUEST_OVERHEAD + 2 * MESSAGE_OVERHEAD + IMAGE_TOKENS
    )
    plain = {"modelId": "m", "messages": [{"role": "user", "content": [{"text": "hi"}]}]}
    tool = {"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object"}}}}
    with_tools = {**plain, "toolConfig": {"tools": [tool]}}
    schema = estimate_text_tokens("get_weather") + estimate_text_tokens('{"type": "object"}')
    assert estimate_request_tokens(with_tools) == (
        estimate_request_tokens(plain) + TOOLS_OVERHEAD + schema
    )


def test_text_documents_are_estimated_as_text_and_binary_ones_by_bytes():
    cjk = SAMPLES["zh"].encode("utf-8")

    def request(fmt):
        block = {"document": {"format": fmt, "name": "d", "source": {"bytes": cjk}}}
        return {"messages": [{"role": "user", "content": [block]}]}

    assert estimate_request_tokens(request("txt")) - estimate_request_tokens(request("pdf")) == (
        estimate_text_tokens(SAMPLES["zh"]) - math.ceil(len(cjk) / 2)
    )


def test_invoke_bodies_count_media_as_images_not_as_base64_text():
    image = {"type": "image", "source": {"type": "base64", "data": "A" * 100_000}}
    body = {"messages": [{"role": "user", "content": [image, {"type": "text", "text": "hi"}]}]}
    import json

    tokens = estimate_invoke_tokens(json.dumps(body).encode())
    assert IMAGE_TOKENS <= tokens < IMAGE_TOKENS + 200
    assert estimate_invoke_tokens(b"not json at all") == estimate_tokens("not json at all")


def _billed_input(interaction):
    if interaction.operation == "CountTokens":
        return interaction.response_json["inputTokens"], interaction.request_json["input"][
            "converse"
        ]
    usage = None
    if interaction.operation == "Converse":
        usage = interaction.response_json.get("usage")
    elif interaction.operation == "ConverseStream":
        usage = next(
            (e.payload.get("usage") for e in interaction.events if e.event_type == "metadata"),
            None,
        )
    if not usage:
        return None, None
    billed = sum(
        usage.get(k, 0) for k in ("inputTokens", "cacheReadInputTokens", "cacheWriteInputTokens")
    )
    return billed, interaction.request_json


def _recorded_inputs():
    found = []
    for recording in load_recordings():
        for index, interaction in enumerate(recording.interactions):
            if interaction.status != 200 or not interaction.request_json:
                continue
            if interaction.operation not in ("CountTokens", "Converse", "ConverseStream"):
                continue
            billed, request = _billed_input(interaction)
            if billed:
                found.append(pytest.param(billed, request, id=f"{recording.id}#{index}"))
    return found


RECORDED = _recorded_inputs()


@pytest.mark.skipif(not RECORDED, reason="conformance cassettes not available")
@pytest.mark.parametrize(("billed", "request_json"), RECORDED)
def test_estimate_covers_what_bedrock_really_counted_and_billed(billed, request_json):
    """Real CountTokens answers and Converse usage (Claude 3.7/4/4.5, Nova, Titan)."""
    assert estimate_request_tokens(request_json) >= billed
