"""A real S3 server for tests (moto in server mode, with IAM SigV4 checks on) and a fault-injecting proxy."""

from __future__ import annotations

import datetime
import http.client
import ipaddress
import ssl
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.server import ThreadedMotoServer

__all__ = ["FaultProxy", "MotoS3", "moto_s3", "self_signed_tls"]

_ACCOUNT = "123456789012"  # moto's default account
_BOOTSTRAP = {"aws_access_key_id": "bootstrap", "aws_secret_access_key": "bootstrap"}
_TRUST = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
    f'"Principal":{{"AWS":"arn:aws:iam::{_ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}}'
)
_POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'


@dataclass
class MotoS3:
    """A running moto server that verifies signatures, with one IAM user allowed ``s3:*``."""

    endpoint: str
    access_key_id: str
    secret_access_key: str
    temporary: dict[str, str]
    """Assumed-role ``AccessKeyId``, ``SecretAccessKey`` and ``SessionToken``, also allowed ``s3:*``."""
    _client: Any = None

    def client(self) -> Any:
        """A boto3 S3 client with the valid credentials (for setting up and checking buckets)."""
        if self._client is None:
            self._client = self._new_client()
        return self._client

    def _new_client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )

    def new_bucket(self) -> str:
        """Create an empty bucket with a unique name."""
        name = f"logs-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def objects(self, bucket: str) -> dict[str, bytes]:
        """Every object in ``bucket`` by key."""
        client = self.client()
        listing = client.list_objects_v2(Bucket=bucket).get("Contents", [])
        return {o["Key"]: client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listing}


@contextmanager
def moto_s3() -> Iterator[MotoS3]:
    """Start moto on 127.0.0.1 (ephemeral port), create an IAM user and key, then require SigV4 auth."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count
    try:
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", **_BOOTSTRAP)
        iam.create_user(UserName="shipper")
        iam.put_user_policy(UserName="shipper", PolicyName="s3", PolicyDocument=_POLICY)
        key = iam.create_access_key(UserName="shipper")["AccessKey"]
        iam.create_role(RoleName="shipper", AssumeRolePolicyDocument=_TRUST)
        iam.put_role_policy(RoleName="shipper", PolicyName="s3", PolicyDocument=_POLICY)
        sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1", **_BOOTSTRAP)
        role = f"arn:aws:iam::{_ACCOUNT}:role/shipper"
        temporary = sts.assume_role(RoleArn=role, RoleSessionName="shipper-session")["Credentials"]
        # From here on every request must carry a valid SigV4 signature from a known key.
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        ActionAuthenticatorMixin.request_count = 0
        yield MotoS3(endpoint, key["AccessKeyId"], key["SecretAccessKey"], temporary)
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count = saved
        server.stop()


LOCALHOST = ipaddress.ip_address("127.0.0.1")


def self_signed_tls(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A (server, client) TLS context pair for 127.0.0.1 with a fresh self-signed certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    return server, ssl.create_default_context(cafile=str(cert_file))


@dataclass
class FaultProxy:
    """An HTTP proxy on 127.0.0.1 that relays to ``upstream`` unless a scripted fault is queued.

    ``faults`` holds, per upcoming request, an HTTP status to answer with instead of relaying,
    ``"drop"`` to close the connection without answering, or ``"corrupt"`` to relay the body with one
    byte changed.
    """

    upstream: str
    faults: deque[int | str] = field(default_factory=deque)
    seen: list[tuple[str, str, int]] = field(default_factory=list)
    tls: ssl.SSLContext | None = None
    endpoint: str = ""
    _server: ThreadingHTTPServer | None = None

    def start(self) -> FaultProxy:
        """Listen on an ephemeral port and serve from a daemon thread."""
        proxy = self
        host = self.upstream.split("://", 1)[1]

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                fault = proxy.faults.popleft() if proxy.faults else None
                if fault == "drop":
                    proxy.seen.append((self.command, self.path, 0))
                    self.close_connection = True
                    return
                if isinstance(fault, int):
                    payload = f"<Error><Code>Injected{fault}</Code><Message>m</Message></Error>".encode()
                    self._answer(fault, {"Content-Type": "application/xml"}, payload)
                    return
                if fault == "corrupt" and body:
                    body = bytes([body[0] ^ 0xFF]) + body[1:]
                conn = http.client.HTTPConnection(host, timeout=30)
                conn.request(self.command, self.path, body=body, headers=dict(self.headers.items()))
                response = conn.getresponse()
                data = response.read()
                headers = {k: v for k, v in response.getheaders() if k.lower() not in ("transfer-encoding",)}
                conn.close()
                headers["Content-Length"] = str(len(data))
                self._answer(response.status, headers, data)

            def _answer(self, status: int, headers: dict[str, str], data: bytes) -> None:
                proxy.seen.append((self.command, self.path, status))
                self.send_response(status)
                for k, v in headers.items():
                    if k.lower() not in ("content-length", "connection", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        scheme = "http"
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
            scheme = "https"
        self.endpoint = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
