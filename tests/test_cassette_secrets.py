"""No credential may be committed in cassettes/ (the scanner also runs as a CLI)."""

from __future__ import annotations

from pathlib import Path

from bedrock_kit.testing.scanner import CREDENTIAL_PATTERNS, scan_for_credentials

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"


def test_project_cassettes_hold_no_credentials() -> None:
    findings = scan_for_credentials([CASSETTES])
    assert findings == [], "\n".join(str(f) for f in findings)


def test_scanner_catches_every_kind_in_a_dirty_cassette(tmp_path: Path) -> None:
    dirty = tmp_path / "dirty.yaml"
    dirty.write_text(
        "interactions:\n"
        "- request:\n"
        "    headers:\n"
        "      Authorization:\n"
        "      - AWS4-HMAC-SHA256 Credential=AKIA" + "F" * 16 + "/20250101/us-east-1/bedrock/"
        "aws4_request, SignedHeaders=host, Signature=" + "9" * 64 + "\n"
        "      X-Amz-Security-Token:\n"
        "      - IQoJb3JpZ2luX2VjE" + "k" * 300 + "\n"
        '    body: \'{"aws_secret_access_key": "' + "Z" * 20 + "/" + "y" * 19 + "\"}'\n"
    )
    kinds = {f.kind for f in scan_for_credentials([dirty])}
    assert kinds == set(CREDENTIAL_PATTERNS)
