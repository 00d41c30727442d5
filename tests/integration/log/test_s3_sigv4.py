"""SigV4 signing against AWS's published test vectors and botocore, plus uploader configuration."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from agent_tui.log.s3 import S3Credentials, S3Uploader, S3UploadError, sigv4_authorization

SUITE = S3Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
SCOPE = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _suite_sign(method: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> str:
    return sigv4_authorization(
        method,
        "/",
        query=query,
        headers={"Host": "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z", **headers},
        payload_sha256=hashlib.sha256(body).hexdigest(),
        credentials=SUITE,
        region="us-east-1",
        service="service",
    )


def test_get_vanilla_vector() -> None:
    """The get-vanilla example of the SigV4 test suite signs to AWS's published signature."""
    assert _suite_sign("GET", {}, {}, b"") == (
        SCOPE + "SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    )


def test_post_x_www_form_urlencoded_vector() -> None:
    """The post-x-www-form-urlencoded example (signed body and content-type) matches AWS's signature."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert _suite_sign("POST", {}, headers, b"Param1=value1") == (
        SCOPE + "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
    )


def test_get_vanilla_query_order_key_case_vector() -> None:
    """Query parameters are sorted into the canonical query as the suite's query-order example expects."""
    signed = _suite_sign("GET", {"Param2": "value2", "Param1": "value1"}, {}, b"")
    assert signed.endswith("Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")


def test_put_with_session_token_and_odd_key_matches_botocore() -> None:
    """A PUT with a session token and a percent-encoded key signs exactly like botocore's S3 signer."""
    creds = S3Credentials("ASIAEXAMPLE", "secret/with+chars", "token==/+")
    path = "/bucket/logs/a%20b/%C3%A9t%C3%A9%2Bx.jsonl.gz"
    sha = hashlib.sha256(b"body").hexdigest()
    headers = {
        "host": "127.0.0.1:9000",
        "x-amz-date": "20261126T010203Z",
        "x-amz-content-sha256": sha,
        "content-md5": "aGVsbG8=",
        "content-type": "application/gzip",
        "x-amz-security-token": creds.session_token or "",
    }
    ours = sigv4_authorization(
        "PUT", path, query={}, headers=headers, payload_sha256=sha, credentials=creds, region="auto"
    )
    request = AWSRequest(method="PUT", url="http://127.0.0.1:9000" + path, data=b"body", headers=headers)
    request.context["timestamp"] = "20261126T010203Z"
    auth = S3SigV4Auth(Credentials("ASIAEXAMPLE", "secret/with+chars", "token==/+"), "s3", "auto")
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    assert ours.endswith(f"Signature={expected}")


def test_addressing_styles_and_env_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS defaults to virtual-host URLs, custom endpoints to path style; AWS_* variables configure all."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "env-token")
    aws = S3Uploader("my-logs", region="eu-west-1")
    assert aws.url_for("logs/a b.gz") == "https://my-logs.s3.eu-west-1.amazonaws.com/logs/a%20b.gz"
    assert aws.credentials == S3Credentials("AKIAENV", "env-secret", "env-token")
    dotted = S3Uploader("my.logs", region="eu-west-1")
    assert dotted.url_for("k") == "https://s3.eu-west-1.amazonaws.com/my.logs/k"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000")
    monkeypatch.setenv("AWS_REGION", "auto")
    minio = S3Uploader("my-logs")
    assert (minio.url_for("k"), minio.region) == ("http://127.0.0.1:9000/my-logs/k", "auto")
    virtual = S3Uploader("b", endpoint_url="https://acct.r2.example", addressing_style="virtual")
    assert virtual.url_for("k") == "https://b.acct.r2.example/k"


def test_bad_configuration_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Missing credentials, a non-http endpoint and an unknown addressing style raise with a clear message."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    with pytest.raises(S3UploadError, match="AWS_ACCESS_KEY_ID"):
        S3Uploader("b", endpoint_url="http://127.0.0.1:1")
    creds = S3Credentials("k", "s")
    with pytest.raises(ValueError, match="endpoint_url"):
        S3Uploader("b", endpoint_url=f"file://{tmp_path}", credentials=creds)
    with pytest.raises(ValueError, match="addressing_style"):
        S3Uploader("b", endpoint_url="http://127.0.0.1:1", credentials=creds, addressing_style="dns")
