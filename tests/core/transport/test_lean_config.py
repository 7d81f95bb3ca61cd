"""The lean clients take botocore's configuration: credentials, proxies, CA bundle, loops.

Credentials are botocore's own objects (profiles, refreshable credentials refreshed when
botocore would, off the event loop in async code); proxies from ``HTTP(S)_PROXY`` /
``NO_PROXY`` are used (the hostile server plays the proxy and records the absolute-form
requests it receives); the CA bundle is botocore's; one async client works across loops.
"""

from __future__ import annotations

import asyncio
import datetime
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.credentials import RefreshableCredentials
from dateutil.tz import tzlocal

from bedrock_kit.core.transport.clients import ClientSettings
from bedrock_kit.core.transport.lean import build_lean_client, lean_client_from_botocore
from bedrock_kit.errors import ModelTimeoutError, translate_errors
from bedrock_kit.testing import LocalBedrock, Reply
from bedrock_kit.testing.scripts import converse_reply
from tests.support.hostile import HostileServer, json_reply

CONVERSE = {"modelId": "m", "messages": [{"role": "user", "content": [{"text": "q"}]}]}
SECRET = "very-secret-key-0000000000000000000000"


def _credential_of(authorization: str) -> str:
    return authorization.split("Credential=")[1].split("/", maxsplit=1)[0]


def _refreshable(expires_in: float, calls: list[str]) -> RefreshableCredentials:
    def refresh() -> dict[str, str]:
        calls.append(threading.current_thread().name)
        expiry = datetime.datetime.now(tzlocal()) + datetime.timedelta(hours=1)
        return {
            "access_key": f"AKIDREFRESHED{len(calls)}",
            "secret_key": SECRET,
            "token": "tok",
            "expiry_time": expiry.isoformat(),
        }

    expiry = datetime.datetime.now(tzlocal()) + datetime.timedelta(seconds=expires_in)
    return RefreshableCredentials.create_from_metadata(
        metadata={
            "access_key": "AKIDINITIAL",
            "secret_key": SECRET,
            "token": "tok",
            "expiry_time": expiry.isoformat(),
        },
        refresh_using=refresh,
        method="test",
    )


def _client_with(credentials: Any) -> Any:
    client = boto3.session.Session(region_name="us-east-1").client("bedrock-runtime")
    client._request_signer._credentials = credentials
    return client


def test_credentials_are_botocores_own_object() -> None:
    client = boto3.session.Session(region_name="us-east-1").client("bedrock-runtime")
    lean = lean_client_from_botocore(client)
    assert lean._core.credentials is client._request_signer._credentials


def test_refreshable_credentials_refresh_before_signing() -> None:
    calls: list[str] = []
    lean = lean_client_from_botocore(_client_with(_refreshable(3600, calls)))
    _, _, headers, _ = lean.prepare_request("Converse", CONVERSE)
    assert _credential_of(headers["Authorization"]) == "AKIDINITIAL" and calls == []
    expiring = lean_client_from_botocore(_client_with(_refreshable(30, calls)))
    _, _, headers, _ = expiring.prepare_request("Converse", CONVERSE)
    assert _credential_of(headers["Authorization"]) == "AKIDREFRESHED1"
    assert len(calls) == 1


def test_async_refresh_runs_off_the_event_loop() -> None:
    calls: list[str] = []
    lean = lean_client_from_botocore(_client_with(_refreshable(30, calls)), asynchronous=True)
    signer = lean._core.operation("Converse").signer

    async def sign() -> Any:
        return await signer.afrozen_credentials()

    frozen = asyncio.run(sign())
    assert frozen.access_key == "AKIDREFRESHED1"
    assert calls and calls[0] != threading.main_thread().name


def test_profile_credentials_from_the_config_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[lean-profile]\naws_access_key_id = AKIDFROMPROFILE\naws_secret_access_key = x\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    settings = ClientSettings(region_name="eu-central-1", profile_name="lean-profile")
    lean = build_lean_client(settings, "bedrock-runtime")
    _, url, headers, _ = lean.prepare_request("Converse", CONVERSE)
    assert _credential_of(headers["Authorization"]) == "AKIDFROMPROFILE"
    assert url.startswith("https://bedrock-runtime.eu-central-1.amazonaws.com/")
    assert "bedrock-kit" in headers["User-Agent"]
    assert SECRET not in repr(lean)


def test_no_credentials_is_botocores_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import NoCredentialsError

    lean = lean_client_from_botocore(_client_with(None))
    with pytest.raises(NoCredentialsError):
        lean.converse(**CONVERSE)


def test_ca_bundle_is_botocores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("not a real bundle")
    monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))
    client = boto3.session.Session(region_name="us-east-1").client("bedrock-runtime")
    assert lean_client_from_botocore(client)._http._session._verify == str(bundle)
    assert lean_client_from_botocore(client, asynchronous=True)._http._verify == str(bundle)


def test_verify_false_is_kept() -> None:
    client = boto3.session.Session(region_name="us-east-1").client("bedrock-runtime", verify=False)
    lean = lean_client_from_botocore(client, asynchronous=True)
    context = lean._http._ssl_context()
    assert context.check_hostname is False


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_requests_go_through_the_environment_proxy(
    hostile: HostileServer, monkeypatch: pytest.MonkeyPatch, asynchronous: bool
) -> None:
    monkeypatch.setenv("HTTP_PROXY", hostile.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    hostile.always(json_reply(converse_reply("via proxy"), operation="converse"))
    client = boto3.session.Session(region_name="us-east-1").client(
        "bedrock-runtime", endpoint_url="http://bedrock.proxied.test"
    )
    lean = lean_client_from_botocore(client, asynchronous=asynchronous)
    if asynchronous:

        async def call() -> Any:
            async with lean:
                return await lean.converse(**CONVERSE)

        response = asyncio.run(call())
    else:
        response = lean.converse(**CONVERSE)
    assert response["output"]["message"]["content"][0]["text"] == "via proxy"
    assert hostile.requests[0].path == "http://bedrock.proxied.test/model/m/converse"


def test_no_proxy_bypasses_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with LocalBedrock() as server:
        client = boto3.session.Session(region_name="us-east-1").client(
            "bedrock-runtime", endpoint_url=server.endpoint_url
        )
        assert lean_client_from_botocore(client).converse(**CONVERSE)["stopReason"]


def test_one_async_client_serves_several_event_loops() -> None:
    with LocalBedrock() as server:
        client = boto3.session.Session(region_name="us-east-1").client(
            "bedrock-runtime", endpoint_url=server.endpoint_url
        )
        lean = lean_client_from_botocore(client, asynchronous=True)

        async def call() -> str:
            response = await lean.converse(**CONVERSE)
            return str(response["stopReason"])

        assert asyncio.run(call()) == asyncio.run(call()) == "end_turn"


def test_read_timeout_comes_from_the_settings() -> None:
    with LocalBedrock() as server:
        server.script("Converse", Reply.json(converse_reply("late"), delay=1.0))
        settings = ClientSettings(
            region_name="us-east-1", endpoint_url=server.endpoint_url, timeout=0.2, max_retries=0
        )
        lean = build_lean_client(settings, "bedrock-runtime")
        with pytest.raises(ModelTimeoutError), translate_errors(model_id="m"):
            lean.converse(**CONVERSE)
