"""pytest plugin: cassette tests against LocalBedrock or real Bedrock, replayed offline.

Load it from the root ``conftest.py``::

    pytest_plugins = ["bedrock_kit.testing.pytest_plugin"]

It builds on pytest-recording and provides:

* ``vcr_config``: :func:`bedrock_kit.testing.vcr.vcr_config` (scrubbing, region-agnostic and
  JSON-semantic matching, no playback repeats, record mode ``"none"``).
* ``vcr_cassette_dir``: ``<rootdir>/cassettes/<test module path under tests/, no .py>/``,
  e.g. ``cassettes/langchain/test_chat/`` for ``tests/langchain/test_chat.py``.
* ``bedrock``: a :class:`BedrockEndpoint` to point clients at. Its behaviour depends on the
  mode (see :class:`BedrockEndpoint`): replay (default) needs no server, recording without
  credentials runs LocalBedrock, recording with ``BEDROCK_KIT_LIVE=1`` and credentials
  talks to real AWS.
* ``bedrock_live``: True when this run talks to real AWS.
* An autouse fixture that replaces AWS credentials with fakes (unless live), so no test can
  pick up a developer's real keys, and disables the EC2 metadata lookup.
* A check after each ``@pytest.mark.vcr`` test: a recorded interaction that was never
  played fails the test (unless the cassette was just recorded).
* The aiohttp ``raw_headers`` shim, so aiobotocore replays cassettes.

Typical test::

    @pytest.mark.vcr
    def test_invoke(bedrock):
        bedrock.script("Converse", Reply.json({...}))   # used only when recording
        model = ChatBedrockKit(model="amazon.nova-micro-v1:0",
                               endpoint_url=bedrock.endpoint_url, region_name=bedrock.region)
        assert model.invoke("hi").content == "..."

Record or re-record with ``pytest --record-mode=once`` (new cassettes only) or
``--record-mode=rewrite``; add ``BEDROCK_KIT_LIVE=1`` with AWS credentials to record against
real Bedrock.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bedrock_kit.testing.vcr import install_aiohttp_raw_headers_shim, register_matchers
from bedrock_kit.testing.vcr import vcr_config as _vcr_config

__all__ = ["LIVE_ENV_VAR", "PLACEHOLDER_ENDPOINT", "BedrockEndpoint", "live_aws_available"]

LIVE_ENV_VAR = "BEDROCK_KIT_LIVE"
"""Set to ``1`` (with AWS credentials) to let tests reach real Bedrock."""
PLACEHOLDER_ENDPOINT = "http://127.0.0.1:9"
"""Endpoint used in replay: loopback discard port, so a request vcrpy fails to intercept is
refused at once instead of reaching anything."""
DEFAULT_REGION = "us-east-1"
"""Region used for fake credentials and LocalBedrock."""

_RECORDING_MODES = frozenset({"once", "new_episodes", "all", "rewrite"})
_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": DEFAULT_REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
# Every other variable botocore's credential chain reads, removed so only the fakes remain.
_CLEARED_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    "AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME",
)
_LIVE_KEY = pytest.StashKey[bool]()
_ENV_PATCH_KEY = pytest.StashKey[pytest.MonkeyPatch]()


@dataclass
class BedrockEndpoint:
    """Where a test's Bedrock clients should send requests.

    Modes:

    * ``"replay"`` (no ``--record-mode`` or ``none``): the cassette answers;
      ``endpoint_url`` is :data:`PLACEHOLDER_ENDPOINT` and :meth:`script` does nothing.
    * ``"local"`` (recording without live credentials, or a test without a cassette):
      LocalBedrock runs; ``endpoint_url`` is its URL and :meth:`script` queues replies on it.
    * ``"live"`` (recording with ``BEDROCK_KIT_LIVE=1`` and credentials): real AWS;
      ``endpoint_url`` is None and :meth:`script` does nothing.
    """

    mode: str
    """``"replay"``, ``"local"`` or ``"live"``."""
    endpoint_url: str | None
    """Pass as ``endpoint_url=`` to clients and models."""
    region: str
    """Pass as ``region_name=``."""
    server: Any | None = field(default=None, repr=False)
    """The running LocalBedrock in ``"local"`` mode, else None."""

    def script(self, operation: str, *replies: Any) -> None:
        """Queue ``replies`` for the next ``operation`` calls on LocalBedrock (``local`` mode).

        In replay and live modes the cassette or AWS answers, so the call is ignored; tests
        therefore script exactly what they would expect AWS to send.

        Args:
            operation: botocore operation name, e.g. ``"Converse"``.
            replies: LocalBedrock ``Reply`` objects, answered in order.
        """
        if self.server is not None:
            self.server.script(operation, *replies)

    @property
    def requests(self) -> list[Any]:
        """Requests LocalBedrock received (``local`` mode), else an empty list."""
        return list(self.server.requests) if self.server is not None else []


def live_aws_available() -> bool:
    """True when ``BEDROCK_KIT_LIVE=1`` and botocore resolves real credentials.

    Only looks for credentials when the variable is set, so ordinary runs never touch the
    credential chain (nor the EC2 metadata endpoint).
    """
    if os.environ.get(LIVE_ENV_VAR) != "1":
        return False
    import botocore.exceptions
    import botocore.session

    try:
        return botocore.session.get_session().get_credentials() is not None
    except botocore.exceptions.BotoCoreError:  # e.g. AWS_PROFILE names a missing profile
        return False


# --- hooks -----------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    """Install the aiohttp shim, decide once whether this run is live, fake credentials.

    The fakes are applied here as well as per test so that collection-time code and
    session-scoped fixtures, which run before any function fixture, cannot see real keys.
    """
    install_aiohttp_raw_headers_shim()
    live = live_aws_available()
    config.stash[_LIVE_KEY] = live
    if not live:
        patch = pytest.MonkeyPatch()
        _apply_fake_env(patch)
        config.stash[_ENV_PATCH_KEY] = patch


def pytest_unconfigure(config: pytest.Config) -> None:
    """Give the process its environment back (matters for in-process pytester runs)."""
    patch = config.stash.get(_ENV_PATCH_KEY, None)
    if patch is not None:
        patch.undo()


@pytest.hookimpl(optionalhook=True)
def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    """pytest-recording hook: register the custom matchers ``vcr_config`` names."""
    register_matchers(vcr)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Fail a passing cassette test that left recorded interactions unplayed."""
    result = yield
    funcargs = getattr(item, "funcargs", {})
    cassette = funcargs.get("vcr")
    if cassette is not None:
        _check_all_played(cassette)
    return result


# --- fixtures --------------------------------------------------------------------------


@pytest.fixture
def vcr_config() -> dict[str, Any]:
    """The project's vcrpy configuration (overrides pytest-recording's empty one).

    ``record_mode`` is left out: pytest-recording lets a config value override the
    ``--record-mode`` option, and its own default is already ``none``.
    """
    config = _vcr_config()
    config.pop("record_mode", None)
    return config


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    """``<rootdir>/cassettes/<module path relative to tests/, without .py>``."""
    return str(cassette_dir_for(Path(request.config.rootpath), Path(str(request.path))))


@pytest.fixture(scope="session")
def bedrock_live(pytestconfig: pytest.Config) -> bool:
    """True when tests in this run talk to real AWS (``BEDROCK_KIT_LIVE=1`` + credentials)."""
    return pytestconfig.stash.get(_LIVE_KEY, False)


@pytest.fixture(autouse=True)
def _bedrock_kit_aws_env(monkeypatch: pytest.MonkeyPatch, bedrock_live: bool) -> None:
    """Fake credentials for every test unless live, so real keys are never found by accident."""
    if not bedrock_live:
        _apply_fake_env(monkeypatch)


@pytest.fixture
def bedrock(request: pytest.FixtureRequest, bedrock_live: bool) -> Iterator[BedrockEndpoint]:
    """The endpoint for this test's Bedrock clients; see :class:`BedrockEndpoint`."""
    has_cassette = request.node.get_closest_marker("vcr") is not None
    recording = _record_mode(request) in _RECORDING_MODES
    if has_cassette and not recording:
        yield BedrockEndpoint("replay", PLACEHOLDER_ENDPOINT, DEFAULT_REGION)
    elif bedrock_live and recording:
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        yield BedrockEndpoint("live", None, region or DEFAULT_REGION)
    else:
        server_cls = importlib.import_module("bedrock_kit.testing.server").LocalBedrock
        with server_cls() as server:
            yield BedrockEndpoint("local", server.endpoint_url, DEFAULT_REGION, server)


# --- helpers ---------------------------------------------------------------------------


def cassette_dir_for(rootdir: Path, test_file: Path) -> Path:
    """Cassette folder of a test module: ``cassettes/<path under tests/ without suffix>``.

    A module outside ``<rootdir>/tests`` gets ``cassettes/<module name>``.
    """
    tests_dir = rootdir / "tests"
    try:
        relative = test_file.resolve().relative_to(tests_dir.resolve())
    except ValueError:
        relative = Path(test_file.name)
    return rootdir / "cassettes" / relative.with_suffix("")


def _apply_fake_env(patch: pytest.MonkeyPatch) -> None:
    for name in _CLEARED_ENV:
        patch.delenv(name, raising=False)
    for name, value in _FAKE_ENV.items():
        patch.setenv(name, value)


def _record_mode(request: pytest.FixtureRequest) -> str:
    """The record mode pytest-recording will use: CLI, then marks, then vcr_config."""
    cli = request.config.getoption("--record-mode", default=None)
    if cli:
        return str(cli)
    mode = request.getfixturevalue("vcr_config").get("record_mode", "none")
    for marker in reversed(list(request.node.iter_markers("vcr"))):
        mode = marker.kwargs.get("record_mode", mode)
    return str(mode)


def _check_all_played(cassette: Any) -> None:
    if cassette.dirty or len(cassette) == 0:
        return  # just recorded (or nothing to play): nothing can be stale
    if not cassette.all_played:
        unplayed = [
            f"{request.method} {request.path}"
            for index, request in enumerate(cassette.requests)
            if cassette.play_counts[index] == 0
        ]
        pytest.fail(
            f"cassette {cassette._path} has {len(unplayed)} unused interaction(s): "
            f"{unplayed}; re-record it or remove the stale interactions",
            pytrace=False,
        )
