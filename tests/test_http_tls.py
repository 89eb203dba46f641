"""TLS of the shared HTTP layer: one verifying context shared by every client, still verifying.

Building httpx's default context (certifi's CA bundle) cost every provider ~30-60 ms of CPU
before its pane could show anything; the clients now share one. These tests check that sharing
changed nothing a server can notice: an unknown certificate is refused, ``ca_file`` trusts its
own CA, and an ``http://`` client's context trusts nobody.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from sre_cockpit.providers.base import ProviderError
from sre_cockpit.providers.http import HttpOptions, build_client, tls_context


def opts(url: str, **kw: object) -> HttpOptions:
    return HttpOptions.model_validate({"type": "test", "url": url, **kw})


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl, as on the CI image)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True,
                   timeout=60)
    return cert, key


@asynccontextmanager
async def tls_server(certificate: tuple[Path, Path]) -> AsyncIterator[str]:
    """An HTTPS server on 127.0.0.1 answering every request with ``ok``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(certificate[0]), str(certificate[1]))

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_client, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


def test_clients_share_one_verifying_context() -> None:
    first = tls_context(opts("https://prom.example"), "prom")
    second = tls_context(opts("https://loki.example:3100"), "loki")
    assert isinstance(first, ssl.SSLContext) and first is second
    assert first.verify_mode is ssl.CERT_REQUIRED and first.check_hostname
    assert first.cert_store_stats()["x509_ca"] > 0  # the CA bundle is loaded


def test_plain_http_clients_get_a_context_that_trusts_nobody() -> None:
    plain = tls_context(opts("http://127.0.0.1:9090"), "prom")
    assert isinstance(plain, ssl.SSLContext)
    assert plain is tls_context(opts("http://alerts:9093"), "alerts")
    assert plain.verify_mode is ssl.CERT_REQUIRED and plain.check_hostname
    assert plain.get_ca_certs() == []
    # a proxy may tunnel TLS: such a client keeps the verifying context
    proxied = tls_context(opts("http://prom:9090", proxy="http://proxy:3128"), "prom")
    assert proxied is tls_context(opts("https://prom.example"), "prom")


async def test_an_unknown_certificate_is_still_refused(certificate: tuple[Path, Path]) -> None:
    async with tls_server(certificate) as url:
        client = build_client(opts(url, timeout=5), provider="prom")
        try:
            with pytest.raises(ProviderError, match=r"(?i)certificate|ssl|tls"):
                await client.request("GET", "/")
        finally:
            await client.aclose()


async def test_ca_file_trusts_its_own_authority(certificate: tuple[Path, Path]) -> None:
    async with tls_server(certificate) as url:
        client = build_client(opts(url, timeout=5, ca_file=str(certificate[0])),
                              provider="prom")
        try:
            response = await client.request("GET", "/")
        finally:
            await client.aclose()
    assert response.status_code == 200 and response.content == b"ok"
