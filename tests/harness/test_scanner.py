"""The credential scanner finds each kind, reports lines, and its CLI exits non-zero."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

from bedrock_kit.testing.scanner import CREDENTIAL_PATTERNS, scan_for_credentials, scan_text

SAMPLES = {
    "access_key_id": "key: AKIA" + "B" * 16,
    "sigv4_signature": "SignedHeaders=host, Signature=" + "0f" * 32,
    "credential_scope": "Credential=ASIA" + "C" * 16 + "/20250101/us-east-1/bedrock/aws4_request",
    "session_token": "token: IQoJb3JpZ2luX2VjEHYaCXVzLWVhc3QtMSJHMEUCIQ" + "a" * 40,
    "secret_access_key": "aws_secret_access_key = "
    + "wJalrXUtnFEMI/K7MDENG/bPxRfiCY"
    + "A1b2C3d4E5",
}


def test_each_kind_is_found_on_its_line() -> None:
    text = "\n".join(["clean line", *list(SAMPLES.values())])
    found = {(f.line, f.kind) for f in scan_text(text)}
    for index, kind in enumerate(SAMPLES, start=2):
        assert (index, kind) in found, kind
    assert set(SAMPLES) == set(CREDENTIAL_PATTERNS)


def test_long_security_token_header_in_yaml() -> None:
    text = "headers:\n  X-Amz-Security-Token:\n  - " + "FwoGZXIvYXdzE" + "b" * 150 + "\n"
    assert [f.kind for f in scan_text(text)] == ["session_token"]


def test_key_inside_binary_body_is_found() -> None:
    encoded = base64.encodebytes(b"\x00\x00 payload AKIA" + b"D" * 16 + b" tail").decode()
    text = "body:\n  string: !!binary |\n" + "".join(f"    {line}\n" for line in encoded.split())
    findings = scan_text(text, "c.yaml")
    assert [(f.line, f.kind) for f in findings] == [(2, "access_key_id")]


def test_look_alikes_are_not_flagged() -> None:
    text = "\n".join(
        [
            "AKIA" + "E" * 15,  # too short
            "XAKIA" + "E" * 16 + "X",  # embedded in a longer token
            "Signature=REDACTED",
            "secret: " + "x" * 40,  # no telling name
            "amz-sdk-invocation-id: 3fa85f64-5717-4562-b3fc-2c963f66afa6",
        ]
    )
    assert scan_text(text) == []


def test_directories_and_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.yaml").write_text("ok\n" + SAMPLES["access_key_id"] + "\n")
    (tmp_path / "b.yaml").write_text("nothing here\n")
    findings = scan_for_credentials([tmp_path, tmp_path / "missing"])
    assert [(Path(f.file).name, f.line, f.kind) for f in findings] == [
        ("a.yaml", 2, "access_key_id")
    ]


def test_cli_exit_codes(tmp_path: Path) -> None:
    clean = tmp_path / "clean.txt"
    clean.write_text("nothing\n")
    dirty = tmp_path / "dirty.txt"
    dirty.write_text(SAMPLES["sigv4_signature"] + "\n")
    run = [sys.executable, "-m", "bedrock_kit.testing.scanner"]
    ok = subprocess.run([*run, str(clean)], capture_output=True, text=True, check=False)
    bad = subprocess.run(
        [*run, str(clean), str(dirty)], capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0 and ok.stdout == ""
    assert bad.returncode == 1
    assert bad.stdout.strip() == f"{dirty}:1: sigv4_signature"
