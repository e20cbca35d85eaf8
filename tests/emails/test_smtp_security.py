"""SHOPCAST_SMTP_URL with a password: smtp:// upgrades with STARTTLS before signing in, smtps:// speaks
TLS from the start; the server's certificate is checked; a wrong password is an attempt that failed."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shopcast.core.settings import Settings
from tests.catalog.conftest import Shop
from tests.conftest import make_settings
from tests.emails.conftest import OUTBOX, emails, eventually
from tests.emails.smtp_server import SmtpServer

USER, PASSWORD = "shop@example.com", "p@ss:w/rd"
QUOTED = "shop%40example.com:p%40ss%3Aw%2Frd"


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the tests' own authority): its file and its key's."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smtp.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp.pem", folder / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture(params=["starttls", "tls"])
async def smtp(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[SmtpServer]:
    cert, key = certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    # Shopcast trusts the system's authorities: here, the test's own.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    server = SmtpServer(tls=context, implicit_tls=request.param == "tls", login=(USER, PASSWORD))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def settings(tmp_path: Path, backend: dict[str, Any], smtp: SmtpServer, request: pytest.FixtureRequest) -> Settings:
    password = getattr(request, "param", QUOTED)
    url = smtp.url.replace("://", f"://{password}@")
    return make_settings(tmp_path, **backend, **OUTBOX, smtp_url=url)


async def test_the_email_goes_encrypted_and_signed_in(shop: Shop, smtp: SmtpServer) -> None:
    await shop.buy(await shop.guest(), "lea-1")
    [received] = await smtp.wait_for(1)
    assert received.encrypted and received.user == USER
    assert received.rcpt_tos == ["lea@example.com"]


async def failed(shop: Shop) -> dict[str, Any]:
    """The brand's one email, once an attempt at it has failed."""

    async def check() -> list[dict[str, Any]]:
        found = await emails(shop.client, shop.room.manager)
        return [e for e in found if e["state"] == "failed"]

    [email] = await eventually(check)
    return email


@pytest.mark.parametrize("settings", ["shop%40example.com:wrong"], indirect=True)
async def test_a_wrong_password_is_a_failed_attempt_tried_again(shop: Shop, smtp: SmtpServer) -> None:
    await shop.buy(await shop.guest(), "lea-1")
    assert (await failed(shop))["last_error"].startswith("535") and smtp.received == []


async def test_a_server_whose_certificate_is_not_trusted_gets_nothing(
    shop: Shop, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")  # the system's authorities alone: they never signed the test's
    await shop.buy(await shop.guest(), "lea-1")
    assert "CERTIFICATE_VERIFY_FAILED" in (await failed(shop))["last_error"] and smtp.received == []
