"""Settings come from SHOPCAST_* variables with sensible defaults."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from shopcast.core.settings import Settings


def test_defaults_are_the_embedded_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPCAST_DATA_DIR", str(tmp_path / "data"))
    settings = Settings()
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{(tmp_path / 'data' / 'shopcast.db').resolve()}"
    assert settings.redis_url is None
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)


def test_variables_are_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPCAST_ALLOWED_ORIGINS", "https://shop.example.com/, https://brand.example ")
    monkeypatch.setenv("SHOPCAST_DATABASE_URL", "postgresql+asyncpg://u@db/shopcast")
    monkeypatch.setenv("SHOPCAST_PORT", "9000")
    settings = Settings()
    assert settings.allowed_origins == ["https://shop.example.com", "https://brand.example"]
    assert settings.effective_database_url == "postgresql+asyncpg://u@db/shopcast"
    assert settings.port == 9000
    monkeypatch.setenv("SHOPCAST_PORT", "99999")
    with pytest.raises(ValidationError, match="port"):
        Settings()


def test_a_generated_secret_is_kept_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    key = settings.signing_key()
    assert len(key) >= 48
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert Settings(_env_file=None, data_dir=tmp_path).signing_key() == key  # type: ignore[call-arg]
    assert Settings(_env_file=None, data_dir=tmp_path, secret_key="given").signing_key() == "given"  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("public_url", "origin"),
    [
        ("https://Live.Example.com:443/shopcast/", "https://live.example.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1]:80/", "http://[::1]"),
        (None, None),
    ],
)
def test_the_public_url_gives_the_origin_browsers_send(public_url: str | None, origin: str | None) -> None:
    assert Settings(_env_file=None, public_url=public_url).public_origin == origin  # type: ignore[call-arg]


@pytest.mark.parametrize("public_url", ["live.example.com", "ftp://live.example.com", "https://live.example.com:99999"])
def test_a_public_url_that_is_not_a_web_address_is_refused(public_url: str) -> None:
    with pytest.raises(ValidationError, match="public_url"):
        Settings(_env_file=None, public_url=public_url)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("smtp_url", "reason"),
    [
        ("http://user:hunter2@mail.example.com", "use smtp://"),
        ("smtp://", "use smtp://"),
        ("smtps://user:hunter2@mail.example.com:99999", "the port is not a number"),
    ],
)
def test_an_smtp_url_is_checked_without_repeating_its_password(smtp_url: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason) as refused:
        Settings(_env_file=None, smtp_url=smtp_url)  # type: ignore[call-arg]
    assert "hunter2" not in str(refused.value)


def test_the_sender_address_and_the_outbox_s_claim_are_checked() -> None:
    settings = Settings(_env_file=None, mail_from="Shop <orders@shop.example.com>", smtp_url=" ")  # type: ignore[call-arg]
    assert settings.mail_from == "orders@shop.example.com" and settings.smtp_url is None
    with pytest.raises(ValidationError, match="not an email address"):
        Settings(_env_file=None, mail_from="orders")  # type: ignore[call-arg]
    # A claim shorter than a send would let a second worker send the same email meanwhile.
    with pytest.raises(ValidationError, match="longer than SHOPCAST_SMTP_TIMEOUT_SECONDS"):
        Settings(_env_file=None, smtp_timeout_seconds=60, outbox_claim_seconds=30)  # type: ignore[call-arg]


def test_webrtc_ports_are_a_range_and_the_internal_host_an_address_others_reach(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOPCAST_WEBRTC_PORTS", " 40000-40099 ")
    assert Settings().webrtc_ports == (40000, 40099)
    for refused, reason in (
        ("40000", "is not a port range FIRST-LAST"),
        ("40099-40000", "from FIRST to LAST"),
        ("80-90", "from 1024 to 65535"),
    ):
        monkeypatch.setenv("SHOPCAST_WEBRTC_PORTS", refused)
        with pytest.raises(ValidationError, match=reason):
            Settings()
    monkeypatch.delenv("SHOPCAST_WEBRTC_PORTS")
    monkeypatch.setenv("SHOPCAST_INTERNAL_HOST", "0.0.0.0")
    with pytest.raises(ValidationError, match="not every address"):
        Settings()
