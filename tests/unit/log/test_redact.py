"""Redaction: secret keys and token-looking values never reach the file."""

from __future__ import annotations

import logging
from pathlib import Path

import orjson

from agent_tui.log import REDACTED, JsonFormatter, ObservabilityConfig, Redactor, setup_logging

from .conftest import FileLog

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"
SECRET = "sk-live-0123456789abcdef"


def test_secret_keys_any_case_and_nesting(file_log: FileLog) -> None:
    """Keys like password/apiKey/Authorization are redacted at any depth; token counts are not."""
    file_log.logger.info(
        "call",
        extra={
            "password": SECRET,
            "apiKey": SECRET,
            "headers": {"Authorization": SECRET, "X-Api-Key": SECRET, "accept": "json"},
            "items": [{"client_secret": SECRET}],
            "gen_ai.usage.input_tokens": 120,
            "max_tokens": 500,
            "Cookie": SECRET,
            "private_key": SECRET,
            "access_token": SECRET,
        },
    )
    line = file_log.lines()[0]
    assert SECRET not in line
    obj = orjson.loads(line)
    assert obj["password"] == obj["apiKey"] == obj["Cookie"] == REDACTED
    assert obj["headers"] == {"Authorization": REDACTED, "X-Api-Key": REDACTED, "accept": "json"}
    assert obj["items"] == [{"client_secret": REDACTED}]
    assert obj["gen_ai.usage.input_tokens"] == 120
    assert obj["max_tokens"] == 500


def test_token_looking_values(file_log: FileLog) -> None:
    """Bearer tokens, JWTs and PEM private keys are redacted wherever they appear as values."""
    file_log.logger.info(
        "req",
        extra={"hdr": f"Bearer {JWT}", "note": f"got {JWT} back", "k": PEM, "fine": "a normal sentence here"},
    )
    file_log.logger.info(f"header was bearer {SECRET}")
    text = "\n".join(file_log.lines())
    assert JWT not in text and "PRIVATE KEY" not in text and SECRET not in text
    first, second = (orjson.loads(line) for line in file_log.lines())
    assert first["hdr"] == first["note"] == first["k"] == REDACTED
    assert first["fine"] == "a normal sentence here"
    assert second["event"] == REDACTED


def test_bound_fields_and_exception_messages_are_redacted(file_log: FileLog) -> None:
    """Secrets in bound context and in exception messages are redacted too."""
    from agent_tui.log import bind

    with bind(api_key=SECRET):
        try:
            raise PermissionError(f"Bearer {SECRET} rejected")
        except PermissionError:
            file_log.logger.exception("auth.revoked")
    line = file_log.lines()[0]
    assert SECRET not in line
    obj = orjson.loads(line)
    assert obj["api_key"] == REDACTED
    assert obj["error"]["message"] == REDACTED


def test_configurable_patterns_and_off_switch() -> None:
    """Custom key/value patterns apply, and redact=False writes values as given."""
    redactor = Redactor(r"(?:^|_)pin(?:$|_)", [r"\bACCT-\d{6}\b"], extra_keys=["Ssn"])
    fmt = JsonFormatter("a", "s", redactor=redactor)
    record = logging.LogRecord("x", 20, "", 0, "m", None, None)
    record.__dict__.update(card_pin="1234", ref="ACCT-123456", ssn="1", password="kept")
    obj = orjson.loads(fmt.format_bytes(record))
    assert obj["card_pin"] == obj["ref"] == obj["ssn"] == REDACTED
    assert obj["password"] == "kept"
    plain = orjson.loads(JsonFormatter("a", "s", redact=False).format_bytes(record))
    assert plain["card_pin"] == "1234"


def test_leaked_key_never_reaches_the_file_via_setup(tmp_path: Path) -> None:
    """With setup_logging defaults, an API key logged by mistake is not in the JSONL file."""
    setup_logging(ObservabilityConfig("agent-x", "svc", log_dir=str(tmp_path), console=False))
    logging.getLogger("svc").warning("llm.call", extra={"openai_api_key": SECRET, "model": "m"})
    text = (tmp_path / "agent-x.jsonl").read_text()
    assert "llm.call" in text
    assert SECRET not in text
