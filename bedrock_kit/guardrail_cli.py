"""``bedrock-kit guardrail test``: the console's guardrail test window, in a terminal.

Runs every prompt of a file (one per line) through ApplyGuardrail and prints a table of the
action and the policies that acted::

    bedrock-kit guardrail test --id gr-123 --version 1 prompts.txt

Rows are numbered by line. A blank (or whitespace-only) line is not sent: its row says
``NOT_CHECKED  empty``, as every guardrail entry point reports empty text.

Registered in :mod:`bedrock_kit.cli` through :func:`configure` and :func:`run`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO
from urllib.parse import urlsplit

from bedrock_kit.core.guardrails.apply import SOURCES, GuardrailClient, GuardrailResult
from bedrock_kit.core.progress import track
from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.errors import BedrockKitError

_PROMPT_WIDTH = 48


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``test`` subcommand to the ``guardrail`` command's parser."""
    commands = parser.add_subparsers(dest="guardrail_command", metavar="SUBCOMMAND")
    test = commands.add_parser("test", help="run prompts through a guardrail and print what it did")
    test.add_argument("prompts", help="file with one prompt per line ('-' reads stdin)")
    test.add_argument("--id", required=True, dest="guardrail_id", help="guardrail id or ARN")
    test.add_argument("--version", default="DRAFT", help="DRAFT (default) or a version number")
    test.add_argument("--source", choices=SOURCES, default="INPUT", help="INPUT or OUTPUT")
    test.add_argument("--region", default=None, help="AWS region")
    test.add_argument("--endpoint-url", default=None, help="custom endpoint (LocalBedrock)")
    test.add_argument("--profile", default=None, help="AWS profile")
    test.add_argument("--max-retries", type=int, default=None, help="botocore retries")
    test.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (tqdm); default: on a terminal when tqdm is installed",
    )


def policies_of(result: GuardrailResult) -> str:
    """Short description of the findings that acted, e.g. ``topic:Investing pii:EMAIL``."""
    parts: list[str] = []
    for a in result.assessments:
        parts += [f"topic:{t.name}" for t in a.topics if t.action != "NONE"]
        parts += [f"content:{f.type}" for f in a.content_filters if f.action != "NONE"]
        parts += [f"word:{w.match}" for w in a.words if w.action != "NONE"]
        parts += [f"pii:{p.type}:{p.action}" for p in a.pii_entities if p.action != "NONE"]
        parts += [f"regex:{r.name}:{r.action}" for r in a.regexes if r.action != "NONE"]
        parts += [f"{g.type.lower()}:{g.score:.2f}<{g.threshold:.2f}" for g in a.grounding
                  if g.action != "NONE"]  # fmt: skip
    return " ".join(parts) or "-"


def format_row(index: int, prompt: str, outcome: GuardrailResult | BedrockKitError) -> str:
    """One table row: number, action, policies that acted, the prompt (shortened)."""
    short = prompt if len(prompt) <= _PROMPT_WIDTH else prompt[: _PROMPT_WIDTH - 3] + "..."
    if isinstance(outcome, BedrockKitError):
        return f"{index:>3}  {'ERROR':<20}  {outcome}  | {short}"
    if outcome.not_checked is not None:
        return f"{index:>3}  {'NOT_CHECKED':<20}  {outcome.not_checked}  | {short}"
    action = "BLOCKED" if outcome.blocked else "MASKED" if outcome.anonymized else "NONE"
    return f"{index:>3}  {action:<20}  {policies_of(outcome)}  | {short}"


def run_prompts(
    client: GuardrailClient,
    prompts: Sequence[str],
    source: str,
    out: TextIO,
    *,
    show_progress: bool | None = False,
) -> int:
    """Check each prompt, print the table; returns 1 when a call failed, else 0."""
    print(f"{'#':>3}  {'action':<20}  policies  | prompt", file=out)
    failed = False
    numbered = enumerate(prompts, 1)
    rows = track(numbered, total=len(prompts), desc="guardrail test", progress=show_progress)
    for index, prompt in rows:
        outcome: GuardrailResult | BedrockKitError
        try:
            outcome = client.apply(prompt, source=source)
        except BedrockKitError as exc:
            outcome, failed = exc, True
        print(format_row(index, prompt, outcome), file=out, flush=True)
    return 1 if failed else 0


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _loopback_defaults(args: argparse.Namespace) -> dict[str, Any]:
    """Dummy credentials (and a region) for an endpoint on this machine, such as LocalBedrock.

    Nothing on a loopback address is AWS, so the user's real credentials are not used to sign
    for it and none are required. ``--profile`` or credentials in the environment still win.
    """
    host = urlsplit(args.endpoint_url or "").hostname
    if host not in _LOOPBACK or args.profile or os.environ.get("AWS_ACCESS_KEY_ID"):
        return {}
    # Any region will do (LocalBedrock answers them all); botocore reads AWS_DEFAULT_REGION.
    env = os.environ
    found = args.region or env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION")
    args.region = found or "us-east-1"
    return {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run the ``guardrail`` command."""
    out = out or sys.stdout
    if getattr(args, "guardrail_command", None) != "test":
        print("usage: bedrock-kit guardrail test --id ID [--version V] PROMPTS", file=sys.stderr)
        return 2
    stream = sys.stdin if args.prompts == "-" else open(args.prompts, encoding="utf-8")  # noqa: SIM115
    with stream:
        prompts = [line.strip() for line in stream]
    local = _loopback_defaults(args)
    try:
        client = GuardrailClient(
            args.guardrail_id,
            args.version,
            settings=ClientSettings(
                region_name=args.region,
                endpoint_url=args.endpoint_url,
                profile_name=args.profile,
                max_retries=args.max_retries,
                **local,
            ),
        )
    except BedrockKitError as exc:
        print(f"bedrock-kit guardrail test: {exc}", file=sys.stderr)
        return 2
    return run_prompts(
        client, prompts, args.source, out, show_progress=getattr(args, "progress", None)
    )
