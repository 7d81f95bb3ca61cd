"""The ``bedrock-kit`` command.

Subcommands register themselves in :data:`_COMMANDS` with a function that adds their
arguments and one that runs them, so new ones (``demo``) slot in without touching ``main``.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bedrock_kit.testing import LocalBedrock

Configure = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], int]


def _configure_local_server(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port; 0 picks a free one")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds to wait before every response"
    )
    parser.add_argument("--default-text", default=None, help="fixed answer instead of the echo")
    parser.add_argument(
        "--answer-tokens", type=int, default=None, help="make default answers N tokens long"
    )
    parser.add_argument(
        "--chunk-tokens", type=int, default=4, help="tokens per ConverseStream delta"
    )
    parser.add_argument(
        "--rules",
        default=None,
        metavar="FILE",
        help="JSON rule file: guardrail denied words, regexes and PII; knowledge base "
        "documents (see bedrock_kit.testing.rules); default: mask e-mail addresses",
    )


def _run_local_server(args: argparse.Namespace) -> int:
    from bedrock_kit.testing import LocalBedrock

    if args.latency < 0:
        print("bedrock-kit local-server: --latency must be >= 0", file=sys.stderr)
        return 2
    try:
        server = LocalBedrock(
            host=args.host,
            port=args.port,
            latency=args.latency,
            default_text=args.default_text,
            answer_tokens=args.answer_tokens,
            chunk_tokens=args.chunk_tokens,
            rules=args.rules,
        )
    except (OSError, ValueError) as exc:
        print(f"bedrock-kit local-server: --rules: {exc}", file=sys.stderr)
        return 2
    with server:
        print(f"LocalBedrock listening on {server.endpoint_url}", flush=True)
        print(f"endpoint_url={server.endpoint_url}", flush=True)
        print(_local_server_help(server, args.rules), flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopping", flush=True)
    return 0


def _local_server_help(server: LocalBedrock, rules: str | None) -> str:
    """What to export in another shell, and what the server answers unscripted."""
    exports = "\n".join(f"export {name}={value}" for name, value in server.environment().items())
    found = server.answers.rules
    if rules is None:
        ruled = "rules: built-in (guardrails mask e-mail addresses; no knowledge base documents)"
    else:
        guard = found.guardrail
        ruled = (
            f"rules: {rules} ({len(guard.denied_words)} denied words, {len(guard.regexes)} "
            f"regexes, PII {', '.join(guard.pii) or 'none'}; {len(found.documents)} documents)"
        )
    return (
        "# In another shell, point unmodified boto3 / bedrock-kit code here (any credentials\n"
        "# are accepted; these are dummies):\n"
        f"{exports}\n"
        f"# or pass endpoint_url={server.endpoint_url}, region_name=us-east-1 and any keys\n"
        f"# {ruled}\n"
        "# Ctrl-C stops."
    )


def _configure_demo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--framework",
        choices=("langchain", "llama-index"),
        default="langchain",
        help="which adapters run the pipeline",
    )
    parser.add_argument("--live", action="store_true", help="use real Bedrock (needs credentials)")
    parser.add_argument("--model", default=None, help="model id for --live")


def _run_demo(args: argparse.Namespace) -> int:
    from bedrock_kit.demo import run

    return run(live=args.live, model=args.model, framework=args.framework)


def _configure_guardrail(parser: argparse.ArgumentParser) -> None:
    from bedrock_kit import guardrail_cli

    guardrail_cli.configure(parser)


def _run_guardrail(args: argparse.Namespace) -> int:
    from bedrock_kit import guardrail_cli

    return guardrail_cli.run(args)


def _configure_prices(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--overrides", default=None, help="JSON file of price overrides")


def _run_prices(args: argparse.Namespace) -> int:
    from bedrock_kit.core.budget.price_text import format_prices
    from bedrock_kit.core.budget.pricing import load_prices

    print(format_prices(load_prices(args.overrides)))
    return 0


_COMMANDS: dict[str, tuple[str, Configure, Run]] = {
    "prices": (
        "print the price table used for costs and budgets (with sources and dates)",
        _configure_prices,
        _run_prices,
    ),
    "guardrail": (
        "test prompts against a guardrail with ApplyGuardrail",
        _configure_guardrail,
        _run_guardrail,
    ),
    "demo": (
        "run the end-to-end pipeline (offline against LocalBedrock unless --live)",
        _configure_demo,
        _run_demo,
    ),
    "local-server": (
        "run LocalBedrock, a Bedrock-compatible server for offline use (Ctrl-C stops)",
        _configure_local_server,
        _run_local_server,
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subparser per registered command."""
    parser = argparse.ArgumentParser(
        prog="bedrock-kit", description="Amazon Bedrock's managed features, offline tools."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (summary, configure, run) in _COMMANDS.items():
        sub = commands.add_parser(name, help=summary, description=summary)
        configure(sub)
        sub.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bedrock-kit`` command.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns:
        The process exit status.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
