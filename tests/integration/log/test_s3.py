"""S3Uploader against a real S3 server (moto, SigV4 verified) on 127.0.0.1, with real rotating files."""

from __future__ import annotations

import gzip
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from agent_tui.log import JsonFormatter, RotatingJsonlHandler, get_logger, rotated_siblings
from agent_tui.log.s3 import OUTBOX_DIR, S3Credentials, S3Uploader
from tests.fakes.s3 import FaultProxy, MotoS3, self_signed_tls

AGENT = "agent-7"
KEY_RE = re.compile(
    rf"logs/{AGENT}/(\d{{4}}-\d{{2}}-\d{{2}})/{AGENT}\.jsonl\.\d{{8}}T\d{{6}}\.\d{{6}}Z-[0-9a-f]{{12}}\.gz"
)


@pytest.fixture
def proxy(s3: MotoS3) -> Iterator[FaultProxy]:
    fault_proxy = FaultProxy(s3.endpoint).start()
    yield fault_proxy
    fault_proxy.stop()


def _uploader(s3: MotoS3, bucket: str, endpoint: str | None = None, **kw: object) -> S3Uploader:
    options: dict[str, object] = {"settle_seconds": 0.0, "backoff": 0.01, **kw}
    creds = options.pop("credentials", S3Credentials(s3.access_key_id, s3.secret_access_key))
    return S3Uploader(bucket, endpoint_url=endpoint or s3.endpoint, credentials=creds, **options)  # type: ignore[arg-type]


def _write(log_dir: Path, records: range, *, compress: bool, max_bytes: int = 3000) -> None:
    """Log ``records`` through a real rotating handler; ``max_bytes=0`` rotates exactly once at the end."""
    handler = RotatingJsonlHandler(
        log_dir / f"{AGENT}.jsonl",
        JsonFormatter(AGENT, "svc"),
        max_bytes=max_bytes,
        backup_count=500,
        compress=compress,
        compress_delay=0,
    )
    log = get_logger(f"s3test.{id(handler)}")
    log.handlers, log.propagate = [handler], False
    log.setLevel(logging.INFO)
    for i in records:
        log.info("tick", extra={"i": i, "pad": "x" * 40})
    if not max_bytes:
        handler.doRollover()
    handler.wait_compressed()
    handler.close()


def _rotated_bytes(log_dir: Path) -> bytes:
    """Everything in the rotated files, oldest first, decompressed."""
    out = b""
    for name in rotated_siblings(str(log_dir / f"{AGENT}.jsonl")):
        data = Path(name).read_bytes()
        out += gzip.decompress(data) if name.endswith(".gz") else data
    return out


def _numbers(data: bytes) -> list[int]:
    return [orjson.loads(line)["i"] for line in data.splitlines()]


def _wait_for(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_rotated_files_land_with_keys_and_content(s3: MotoS3, tmp_path: Path) -> None:
    """Plain and gzipped rotated files land under dated keys with equal content and are removed locally."""
    _write(tmp_path, range(200), compress=True)
    _write(tmp_path, range(200, 300), compress=False)
    rotated = rotated_siblings(str(tmp_path / f"{AGENT}.jsonl"))
    assert any(n.endswith(".gz") for n in rotated) and not all(n.endswith(".gz") for n in rotated)
    expected, live = _rotated_bytes(tmp_path), (tmp_path / f"{AGENT}.jsonl").read_bytes()
    live_inode = os.stat(tmp_path / f"{AGENT}.jsonl").st_ino
    bucket = s3.new_bucket()

    results = _uploader(s3, bucket).ship_rotated(tmp_path, AGENT)

    assert [r.error for r in results] == [None] * len(rotated)
    objects = s3.objects(bucket)
    assert sorted(objects) == [r.key for r in results]
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert all((m := KEY_RE.fullmatch(k)) and m.group(1) == today for k in objects)
    assert b"".join(gzip.decompress(objects[r.key]) for r in results) == expected
    assert _numbers(expected + live) == list(range(300))
    assert rotated_siblings(str(tmp_path / f"{AGENT}.jsonl")) == []
    assert os.listdir(tmp_path / OUTBOX_DIR) == [f"{AGENT}.lock"]
    assert (tmp_path / f"{AGENT}.jsonl").read_bytes() == live
    assert os.stat(tmp_path / f"{AGENT}.jsonl").st_ino == live_inode


def test_young_plain_files_wait_for_the_settle_time(s3: MotoS3, tmp_path: Path) -> None:
    """An uncompressed rotated file written moments ago is left in place until it has settled."""
    _write(tmp_path, range(100), compress=False)
    before = _rotated_bytes(tmp_path)
    bucket, offset = s3.new_bucket(), [0.0]
    uploader = _uploader(s3, bucket, settle_seconds=30.0, clock=lambda: time.time() + offset[0])

    assert uploader.ship_rotated(tmp_path, AGENT) == []
    assert _rotated_bytes(tmp_path) == before
    offset[0] = 60.0
    results = uploader.ship_rotated(tmp_path, AGENT)
    assert results and all(r.ok for r in results)
    assert b"".join(gzip.decompress(s3.objects(bucket)[r.key]) for r in results) == before


def test_wrong_secret_is_rejected_and_the_file_kept(s3: MotoS3, tmp_path: Path) -> None:
    """moto verifies SigV4: a wrong secret fails with a clear 403 and nothing is lost until a good upload."""
    _write(tmp_path, range(100), compress=True, max_bytes=0)
    expected = _rotated_bytes(tmp_path)
    bucket = s3.new_bucket()
    bad = _uploader(s3, bucket, credentials=S3Credentials(s3.access_key_id, "not-the-secret"))

    results = bad.ship_rotated(tmp_path, AGENT)

    assert len(results) == 1
    assert results[0].error is not None
    assert "403 SignatureDoesNotMatch" in results[0].error
    assert bucket in results[0].error
    assert s3.objects(bucket) == {}
    kept = sorted((tmp_path / OUTBOX_DIR).glob("*.gz"))
    assert b"".join(gzip.decompress(p.read_bytes()) for p in kept) == expected
    assert bad.stats.failed == 1
    unknown = _uploader(s3, bucket, credentials=S3Credentials("AKIAUNKNOWN", "x"))
    assert "403 InvalidAccessKeyId" in (unknown.ship_rotated(tmp_path, AGENT)[0].error or "")

    good = _uploader(s3, bucket).ship_rotated(tmp_path, AGENT)
    assert all(r.ok for r in good)
    assert b"".join(gzip.decompress(s3.objects(bucket)[r.key]) for r in good) == expected


def test_session_token_credentials(s3: MotoS3, tmp_path: Path) -> None:
    """Assumed-role credentials upload with their session token signed in; a wrong token is refused."""
    temp = s3.temporary
    bucket = s3.new_bucket()
    wrong = S3Credentials(temp["AccessKeyId"], temp["SecretAccessKey"], "not-the-token")
    _write(tmp_path, range(40), compress=True, max_bytes=0)
    refused = _uploader(s3, bucket, credentials=wrong, max_attempts=1).ship_rotated(tmp_path, AGENT)
    assert refused[0].error is not None and "InvalidToken" in refused[0].error

    good = S3Credentials(temp["AccessKeyId"], temp["SecretAccessKey"], temp["SessionToken"])
    results = _uploader(s3, bucket, credentials=good).ship_rotated(tmp_path, AGENT)
    assert [r.ok for r in results] == [True] and list(s3.objects(bucket)) == [results[0].key]


def test_server_errors_and_drops_are_retried(s3: MotoS3, proxy: FaultProxy, tmp_path: Path) -> None:
    """500, 503 and a dropped connection are retried with backoff and the upload then succeeds."""
    _write(tmp_path, range(40), compress=True, max_bytes=0)
    expected = _rotated_bytes(tmp_path)
    bucket = s3.new_bucket()
    proxy.faults.extend([500, 503, "drop"])

    results = _uploader(s3, bucket, proxy.endpoint).ship_rotated(tmp_path, AGENT)

    assert [r.ok for r in results] == [True]
    assert [status for _, _, status in proxy.seen] == [500, 503, 0, 200]
    assert gzip.decompress(s3.objects(bucket)[results[0].key]) == expected


def test_a_body_corrupted_on_the_way_is_detected_and_resent(
    s3: MotoS3, proxy: FaultProxy, tmp_path: Path
) -> None:
    """An object whose ETag is not the MD5 we sent is uploaded again, leaving the right bytes behind."""
    _write(tmp_path, range(40), compress=True, max_bytes=0)
    expected = _rotated_bytes(tmp_path)
    bucket = s3.new_bucket()
    proxy.faults.append("corrupt")

    results = _uploader(s3, bucket, proxy.endpoint).ship_rotated(tmp_path, AGENT)

    assert [r.ok for r in results] == [True]
    assert [status for _, _, status in proxy.seen] == [200, 200]
    assert gzip.decompress(s3.objects(bucket)[results[0].key]) == expected

    _write(tmp_path, range(40, 80), compress=True, max_bytes=0)
    proxy.faults.extend(["corrupt"] * 2)
    failed = _uploader(s3, bucket, proxy.endpoint, max_attempts=2).ship_rotated(tmp_path, AGENT)
    assert failed[0].error is not None and "does not match the MD5" in failed[0].error
    assert len(list((tmp_path / OUTBOX_DIR).glob("*.gz"))) == 1


def test_client_errors_are_not_retried(s3: MotoS3, proxy: FaultProxy, tmp_path: Path) -> None:
    """A 400 fails at once with the server's error code, and the file waits in the outbox for next time."""
    _write(tmp_path, range(40), compress=True, max_bytes=0)
    expected = _rotated_bytes(tmp_path)
    bucket = s3.new_bucket()
    proxy.faults.append(400)
    uploader = _uploader(s3, bucket, proxy.endpoint)

    results = uploader.ship_rotated(tmp_path, AGENT)

    assert len(proxy.seen) == 1
    assert results[0].error is not None and "400 Injected400" in results[0].error
    assert s3.objects(bucket) == {}
    again = uploader.ship_rotated(tmp_path, AGENT)
    assert again[0].ok and again[0].key == results[0].key
    assert gzip.decompress(s3.objects(bucket)[again[0].key]) == expected


def test_exhausted_retries_keep_the_file(s3: MotoS3, proxy: FaultProxy, tmp_path: Path) -> None:
    """When every attempt gets a 503 the error says so and the next round uploads the kept file."""
    _write(tmp_path, range(40), compress=False, max_bytes=0)
    expected = _rotated_bytes(tmp_path)
    bucket = s3.new_bucket()
    proxy.faults.extend([503, 503, 503])
    uploader = _uploader(s3, bucket, proxy.endpoint, max_attempts=3)

    failed = uploader.ship_rotated(tmp_path, AGENT)
    assert failed[0].error is not None and "after 3 attempts" in failed[0].error
    ok = uploader.ship_rotated(tmp_path, AGENT)
    assert [r.ok for r in ok] == [True]
    assert gzip.decompress(s3.objects(bucket)[ok[0].key]) == expected


def test_shipping_while_a_writer_rotates_loses_nothing(s3: MotoS3, tmp_path: Path) -> None:
    """A shipper looping while a writer rotates (and gzips) every few KB ships each record exactly once."""
    bucket, total = s3.new_bucket(), 1500
    uploader = _uploader(s3, bucket)
    done = threading.Event()

    def write() -> None:
        try:
            _write(tmp_path, range(total), compress=True, max_bytes=6000)
        finally:
            done.set()

    writer = threading.Thread(target=write)
    writer.start()
    rounds = 0
    while not done.is_set():
        assert all(r.ok for r in uploader.ship_rotated(tmp_path, AGENT))
        rounds += 1
    writer.join()
    assert all(r.ok for r in uploader.ship_rotated(tmp_path, AGENT))

    shipped = b"".join(gzip.decompress(data) for data in s3.objects(bucket).values())
    live = (tmp_path / f"{AGENT}.jsonl").read_bytes()
    assert sorted(_numbers(shipped + live)) == list(range(total))
    assert rounds > 1 and uploader.stats.uploaded == len(s3.objects(bucket))


def test_periodic_thread_counts_failures_and_warns_once(
    s3: MotoS3, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The background thread never raises: failures are counted and one warning goes to stderr."""
    _write(tmp_path, range(100), compress=True)
    bucket = s3.new_bucket()
    bad = _uploader(s3, bucket, credentials=S3Credentials(s3.access_key_id, "wrong"))
    bad.start_periodic(tmp_path, AGENT, interval=0.02)
    _wait_for(lambda: bad.stats.failed >= 3)
    bad.stop()
    err = capsys.readouterr().err
    assert err.count("agent_tui.log.s3: log upload failed") == 1
    assert "SignatureDoesNotMatch" in err

    good = _uploader(s3, bucket)
    good.start_periodic(tmp_path, AGENT, interval=0.02)
    _wait_for(lambda: good.stats.uploaded >= 1)
    good.stop()
    assert len(s3.objects(bucket)) == good.stats.uploaded
    assert capsys.readouterr().err == ""


def test_keep_local_copies_when_asked(s3: MotoS3, tmp_path: Path) -> None:
    """With delete_after_upload=False uploaded files move to the outbox's sent/ folder and are not re-sent."""
    _write(tmp_path, range(100), compress=True)
    bucket = s3.new_bucket()
    uploader = _uploader(s3, bucket, delete_after_upload=False)

    first = uploader.ship_rotated(tmp_path, AGENT)

    assert first and all(r.ok for r in first)
    sent = sorted(p.name for p in (tmp_path / OUTBOX_DIR / "sent").iterdir())
    assert sent == sorted(r.key.rsplit("/", 1)[1] for r in first)
    assert uploader.ship_rotated(tmp_path, AGENT) == []


def test_https_endpoint_with_a_custom_ca(s3: MotoS3, tmp_path: Path) -> None:
    """Uploads go over TLS to an https endpoint trusted through ssl_context, and fail on an untrusted one."""
    _write(tmp_path, range(40), compress=True, max_bytes=0)
    expected = _rotated_bytes(tmp_path)
    server_tls, client_tls = self_signed_tls(tmp_path)
    proxy = FaultProxy(s3.endpoint, tls=server_tls).start()
    try:
        bucket = s3.new_bucket()
        untrusted = _uploader(s3, bucket, proxy.endpoint, max_attempts=1).ship_rotated(tmp_path, AGENT)
        assert untrusted[0].error is not None and "CERTIFICATE_VERIFY_FAILED" in untrusted[0].error
        results = _uploader(s3, bucket, proxy.endpoint, ssl_context=client_tls).ship_rotated(tmp_path, AGENT)
    finally:
        proxy.stop()
    assert proxy.endpoint.startswith("https://") and [r.ok for r in results] == [True]
    assert gzip.decompress(s3.objects(bucket)[results[0].key]) == expected


def test_stop_cuts_retries_short_and_final_round_ships(
    s3: MotoS3, proxy: FaultProxy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """stop() interrupts a long retry wait and keeps the file; stop(final_round=True) ships what is left."""
    _write(tmp_path, range(40), compress=True, max_bytes=0)
    expected = _rotated_bytes(tmp_path)
    bucket = s3.new_bucket()
    proxy.faults.extend([503] * 10)
    slow = _uploader(s3, bucket, proxy.endpoint, backoff=60.0, max_attempts=10)
    slow.start_periodic(tmp_path, AGENT, interval=60.0)
    _wait_for(lambda: len(proxy.seen) >= 1)
    started = time.monotonic()
    slow.stop(timeout=20.0)
    assert time.monotonic() - started < 15.0
    assert len(proxy.seen) == 1 and slow.stats.failed == 1
    assert "stopped while retrying" in capsys.readouterr().err
    proxy.faults.clear()

    final = _uploader(s3, bucket, proxy.endpoint)
    final.start_periodic(tmp_path, AGENT, interval=60.0)
    _wait_for(lambda: final.stats.rounds >= 1)
    _write(tmp_path, range(40, 80), compress=True, max_bytes=0)
    final.stop(final_round=True)
    assert final.stats.uploaded == 2
    shipped = [gzip.decompress(v) for _, v in sorted(s3.objects(bucket).items())]
    assert sorted(_numbers(b"".join(shipped))) == list(range(80))
    assert expected in shipped
