"""The hostile server sends exactly the bytes it is told to, and records what it received."""

from __future__ import annotations

import socket
import urllib.request

import pytest

from tests.support.hostile import HostileServer, Script, json_reply


def test_sends_scripted_bytes_and_records_requests(hostile: HostileServer) -> None:
    hostile.push(Script(body=b"<html>captive</html>", headers={"content-type": "text/html"}))
    request = urllib.request.Request(hostile.url + "/model/x/converse", data=b"{}", method="POST")
    with urllib.request.urlopen(request) as response:
        assert response.read() == b"<html>captive</html>"
        assert response.headers["content-type"] == "text/html"
    assert [(r.method, r.path, r.body) for r in hostile.requests] == [
        ("POST", "/model/x/converse", b"{}")
    ]


def test_routes_by_operation_and_reports_unscripted(hostile: HostileServer) -> None:
    hostile.push(json_reply({"a": 1}, operation="apply"), json_reply({"b": 2}))
    with urllib.request.urlopen(hostile.url + "/model/x/converse") as response:
        assert response.read() == b'{"b": 2}'
    with urllib.request.urlopen(hostile.url + "/guardrail/g/version/1/apply") as response:
        assert response.read() == b'{"a": 1}'
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(hostile.url + "/x")
    assert info.value.code == 599


def test_cut_after_closes_mid_body(hostile: HostileServer) -> None:
    hostile.push(Script(body=b"0123456789", cut_after=4))
    host, port = hostile.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"content-length: 10" in head.lower()
    assert body == b"0123"
