"""LokiHandler against the fake: delivery, labels, retries, drops, warnings, flush/close/atexit."""

from __future__ import annotations

import asyncio
import gzip
import logging
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator

import orjson
import pytest

from agent_tui.log import JsonFormatter, LokiHandler, get_logger, trace
from tests.fakes.loki import LokiFake, running_loki, wait_until


@pytest.fixture
def fake() -> Iterator[LokiFake]:
    with running_loki() as server:
        yield server


def _handler(fake: LokiFake, **options: object) -> LokiHandler:
    options.setdefault("batch_max_age", 0.05)
    options.setdefault("backoff_base", 0.02)
    options.setdefault("backoff_max", 0.2)
    options.setdefault("timeout", 2.0)
    return LokiHandler(fake.url, agent_id="agent-7", service="casino", **options)  # type: ignore[arg-type]


def _logger(handler: logging.Handler, name: str) -> logging.Logger:
    log = get_logger(name)
    log.handlers = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG)
    return log


def test_delivers_with_low_cardinality_labels_and_trace_metadata(fake: LokiFake) -> None:
    """Entries arrive gzipped as JSON with labels agent_id/service/level only and trace_id as metadata."""
    handler = _handler(fake)
    log = _logger(handler, "loki.labels")
    with trace("casino.place_bet", logger=log) as tid:
        log.info("bet.placed", extra={"amount_usdc": 10})
        log.warning("rate_limit_hit")
    log.error("no.trace")
    assert handler.flush(10)
    handler.close()
    assert len(fake.entries) == 5
    by_event = {orjson.loads(e.line)["event"]: e for e in fake.entries}
    placed = by_event["bet.placed"]
    assert placed.labels == {
        "agent_id": "agent-7",
        "service": "casino",
        "level": "info",
        "service_name": "casino",
    }
    assert placed.metadata == {"trace_id": tid, "detected_level": "info"}
    assert orjson.loads(placed.line)["trace_id"] == tid
    assert by_event["rate_limit_hit"].labels["level"] == "warning"
    assert "trace_id" not in by_event["no.trace"].metadata
    request = fake.requests[0]
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Content-Encoding"] == "gzip"
    assert orjson.loads(gzip.decompress(request.body))["streams"]
    assert handler.stats().sent == 5
    assert handler.stats().dropped == 0


def test_auth_and_tenant_headers_arrive() -> None:
    """Bearer/basic auth and X-Scope-OrgID are sent; the fake enforces them."""
    with running_loki(required_headers={"Authorization": "Bearer s3cret"}, auth_enabled=True) as fake:
        handler = _handler(fake, bearer_token="s3cret", tenant_id="team-a")
        _logger(handler, "loki.auth").info("hello")
        assert handler.flush(10)
        handler.close()
        assert [e.tenant for e in fake.entries] == ["team-a"]
    with running_loki(required_headers={"Authorization": "Basic dTpw"}) as fake:
        handler = _handler(fake, basic_auth=("u", "p"))
        _logger(handler, "loki.basic").info("hello")
        assert handler.flush(10)
        handler.close()
        assert len(fake.entries) == 1


@pytest.mark.parametrize("mode", ["500", "429", "close", "hang"])
def test_outage_shorter_than_buffer_loses_nothing(fake: LokiFake, mode: str) -> None:
    """During a 5xx/429/reset/hang outage records queue up, are retried, and all arrive exactly once."""
    fake.fail(mode)
    handler = _handler(fake, timeout=0.3, batch_max_lines=50)
    log = _logger(handler, f"loki.outage.{mode}")
    for i in range(400):
        log.info("tick", extra={"i": i})
    assert wait_until(lambda: handler.stats().retried >= 2)
    fake.fail("ok")
    assert handler.flush(20)
    handler.close()
    seen = sorted(orjson.loads(line)["i"] for line in fake.lines())
    assert seen == list(range(400))
    stats = handler.stats()
    assert (stats.sent, stats.dropped, stats.failed_batches) == (400, 0, 0)
    assert stats.retried >= 2


def test_partial_429_is_resent_and_deduplicated(fake: LokiFake) -> None:
    """A batch Loki partly stored then answered 429 is resent with the same timestamps, stored once."""
    fake.fail("partial_429", count=1)
    handler = _handler(fake, batch_max_lines=100)
    log = _logger(handler, "loki.partial")
    for _ in range(100):
        log.info("same line")
    assert handler.flush(10)
    handler.close()
    assert len(fake.entries) == 100
    assert len({e.ts for e in fake.entries}) == 100
    assert handler.stats().retried == 1


def test_retry_after_is_honoured(fake: LokiFake) -> None:
    """A Retry-After header sets the delay before the retry."""
    fake.retry_after = "1"
    fake.fail("429", count=1)
    handler = _handler(fake)
    started = time.monotonic()
    _logger(handler, "loki.retry_after").info("x")
    assert handler.flush(10)
    assert time.monotonic() - started >= 0.9
    handler.close()
    assert len(fake.entries) == 1


def test_overflow_drops_oldest_and_counts_every_drop(fake: LokiFake) -> None:
    """With the server down and a small queue, the oldest records are dropped and each drop is counted."""
    fake.fail("500")
    handler = _handler(fake, queue_size=50, batch_max_lines=10)
    log = _logger(handler, "loki.overflow")
    for i in range(500):
        log.info("tick", extra={"i": i})
    fake.fail("ok")
    assert handler.flush(20)
    handler.close()
    stats = handler.stats()
    assert stats.sent + stats.dropped == 500
    assert stats.dropped == stats.overflow >= 400
    delivered = [orjson.loads(line)["i"] for line in fake.lines()]
    assert delivered[-50:] == list(range(450, 500))


def test_emit_stays_fast_while_server_hangs(fake: LokiFake) -> None:
    """emit() never waits for a hanging server: 5000 records queue in well under a second of caller time."""
    fake.fail("hang")
    handler = _handler(fake, timeout=30, queue_size=100_000)
    log = _logger(handler, "loki.hang")
    started = time.perf_counter()
    for i in range(5000):
        log.info("tick", extra={"i": i})
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0
    stats = handler.stats()
    assert stats.sent == 0
    assert stats.queued + 2000 >= 5000
    handler.close(timeout=0.2)
    assert handler.stats().dropped == 5000


def test_client_errors_drop_with_one_warning(fake: LokiFake, capsys: pytest.CaptureFixture[str]) -> None:
    """A 4xx other than 429 drops the batch, counts it, and warns on stderr only once."""
    fake.fail("400")
    handler = _handler(fake, batch_max_lines=5)
    log = _logger(handler, "loki.reject")
    for i in range(20):
        log.info("tick", extra={"i": i})
    assert handler.flush(10)
    handler.close()
    stats = handler.stats()
    assert (stats.sent, stats.dropped, stats.failed_batches) == (0, 20, 4)
    assert capsys.readouterr().err.count("Loki rejected a batch") == 1


def test_close_without_flush_delivers(fake: LokiFake) -> None:
    """close() alone delivers what is queued, and records after close are ignored, not raised."""
    handler = _handler(fake, batch_max_age=60)
    log = _logger(handler, "loki.close")
    for i in range(30):
        log.info("tick", extra={"i": i})
    handler.close()
    log.info("after close")
    assert len(fake.entries) == 30


async def test_works_from_threads_and_asyncio(fake: LokiFake) -> None:
    """Records from several threads and from asyncio tasks all arrive; flush from async via to_thread."""
    handler = _handler(fake)
    log = _logger(handler, "loki.mixed")

    def worker(n: int) -> None:
        for i in range(200):
            log.info("thread", extra={"n": n, "i": i})

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()

    async def task(n: int) -> None:
        for i in range(100):
            log.info("task", extra={"n": n, "i": i})
            await asyncio.sleep(0)

    await asyncio.gather(*(task(n) for n in range(3)))
    for t in threads:
        t.join()
    assert await asyncio.to_thread(handler.flush, 10)
    await asyncio.to_thread(handler.close)
    assert len(fake.entries) == 4 * 200 + 3 * 100


def test_atexit_delivers_in_a_real_process(fake: LokiFake) -> None:
    """A process that logs and exits without closing the handler still delivers at interpreter exit."""
    script = textwrap.dedent(
        f"""
        import logging
        from agent_tui.log import LokiHandler
        handler = LokiHandler({fake.url!r}, agent_id="a", service="s", batch_max_age=30)
        log = logging.getLogger("exit")
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        for i in range(250):
            log.info("bye", extra={{"i": i}})
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert len(fake.entries) == 250


def test_handler_formatter_is_used_and_never_raises(fake: LokiFake) -> None:
    """The JSON formatter renders the line (redaction included); odd values do not break emit()."""
    handler = _handler(fake, formatter=JsonFormatter("custom-agent", "casino"))
    log = _logger(handler, "loki.fmt")
    log.info("x", extra={"password": "hunter2", "obj": object()})
    assert handler.flush(10)
    handler.close()
    line = orjson.loads(fake.entries[0].line)
    assert line["agent_id"] == "custom-agent"
    assert line["password"] == "[REDACTED]"


def test_setup_logging_ships_to_loki(fake: LokiFake) -> None:
    """setup_logging(loki_url=...) installs a LokiHandler on the root logger that delivers records."""
    from agent_tui.log import ObservabilityConfig, setup_logging
    from agent_tui.log.handlers import OWNED_ATTR

    root = logging.getLogger()
    setup_logging(ObservabilityConfig("agent-9", "svc", console=False, loki_url=fake.url, loki_tenant="t"))
    try:
        logging.getLogger("svc.worker").warning("disk.low", extra={"free_mb": 12})
        handler = next(h for h in root.handlers if isinstance(h, LokiHandler))
        assert handler.flush(10)
    finally:
        for h in [h for h in root.handlers if getattr(h, OWNED_ATTR, False)]:
            root.removeHandler(h)
            h.close()
    events = [orjson.loads(e.line)["event"] for e in fake.entries]
    assert events == ["logging.configured", "disk.low"]
    assert fake.entries[1].labels["level"] == "warning"
    assert fake.requests[0].headers["X-Scope-OrgID"] == "t"


def test_forked_child_sends_only_its_own_records(fake: LokiFake) -> None:
    """After fork the child starts its own sender and does not resend records the parent had queued."""
    import os

    handler = _handler(fake, batch_max_age=30)
    log = _logger(handler, "loki.fork")
    log.info("parent-before-fork")
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            log.info("child")
            code = 0 if handler.flush(10) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert handler.flush(10)
    handler.close()
    assert sorted(orjson.loads(line)["event"] for line in fake.lines()) == ["child", "parent-before-fork"]
