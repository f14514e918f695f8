"""Settings refuse configurations that cannot work, with a message that names the setting, never its value."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from shared.config import DEVELOPMENT_JWT_SECRET, MIN_SECRET_BYTES, ConfigError, Settings

GOOD_SECRET = "a-production-secret-that-is-long-enough-0123456789"
JWKS_URL = "https://auth.example.com/api/auth/jwks"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("APP_ENV", "AUTH_JWT_SECRET", "AUTH_JWKS_URL", "AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_LEEWAY_SECONDS"):
        monkeypatch.delenv(name, raising=False)


def config_error(**env: str) -> tuple[ConfigError, str]:
    """The ConfigError the settings fail with (pydantic may wrap it), and the full message shown at startup."""
    with pytest.raises((ConfigError, ValidationError)) as raised:
        Settings(**env)  # type: ignore[arg-type]
    error: Any = raised.value
    if isinstance(error, ValidationError):
        assert len(error.errors()) == 1
        error = error.errors()[0]["ctx"]["error"]
    assert isinstance(error, ConfigError)
    return error, str(raised.value)


@pytest.mark.parametrize("app_env", ["dev", "prod"])
def test_outside_local_and_test_no_auth_setting_is_refused(app_env):
    error, _ = config_error(app_env=app_env)
    assert str(error) == f"APP_ENV={app_env} needs exactly one of AUTH_JWT_SECRET and AUTH_JWKS_URL (neither is set)"


@pytest.mark.parametrize("app_env", ["dev", "prod"])
def test_outside_local_and_test_both_auth_settings_are_refused(app_env):
    error, message = config_error(app_env=app_env, auth_jwt_secret=GOOD_SECRET, auth_jwks_url=JWKS_URL)
    assert str(error) == f"APP_ENV={app_env} needs exactly one of AUTH_JWT_SECRET and AUTH_JWKS_URL (both are set)"
    assert GOOD_SECRET not in message


def test_the_settings_read_the_environment(monkeypatch):
    monkeypatch.setenv("APP_ENV", "prod")
    monkeypatch.setenv("AUTH_JWT_SECRET", GOOD_SECRET)
    monkeypatch.setenv("AUTH_JWKS_URL", JWKS_URL)
    with pytest.raises((ConfigError, ValidationError), match="exactly one of AUTH_JWT_SECRET and AUTH_JWKS_URL"):
        Settings()


@pytest.mark.parametrize("app_env", ["dev", "prod"])
def test_outside_local_and_test_exactly_one_auth_setting_is_accepted(app_env):
    with_secret = Settings(app_env=app_env, auth_jwt_secret=GOOD_SECRET)  # type: ignore[arg-type]
    assert with_secret.auth_jwt_secret is not None and with_secret.auth_jwks_url is None
    with_jwks = Settings(app_env=app_env, auth_jwks_url=JWKS_URL)  # type: ignore[arg-type]
    assert with_jwks.auth_jwt_secret is None and with_jwks.auth_jwks_url == JWKS_URL


@pytest.mark.parametrize("app_env", ["local", "test"])
def test_local_and_test_fall_back_to_the_development_secret(app_env):
    settings = Settings(app_env=app_env)  # type: ignore[arg-type]
    assert settings.auth_jwt_secret is not None
    assert settings.auth_jwt_secret.get_secret_value() == DEVELOPMENT_JWT_SECRET


@pytest.mark.parametrize("app_env", ["local", "test"])
def test_local_and_test_with_a_jwks_get_no_development_secret(app_env):
    settings = Settings(app_env=app_env, auth_jwks_url=JWKS_URL)  # type: ignore[arg-type]
    assert settings.auth_jwt_secret is None


@pytest.mark.parametrize("app_env", ["local", "test", "prod"])
def test_a_secret_shorter_than_32_bytes_is_refused(app_env):
    short = "s" * (MIN_SECRET_BYTES - 1)
    error, _ = config_error(app_env=app_env, auth_jwt_secret=short)
    assert str(error) == "AUTH_JWT_SECRET must be at least 32 bytes long"


def test_a_secret_of_exactly_32_bytes_is_accepted():
    assert MIN_SECRET_BYTES == 32
    Settings(app_env="prod", auth_jwt_secret="s" * 32)  # type: ignore[arg-type]


def test_secret_length_counts_bytes_not_characters():
    error, _ = config_error(app_env="prod", auth_jwt_secret="\u00e9" * 15)  # 15 characters, 30 bytes
    assert str(error) == "AUTH_JWT_SECRET must be at least 32 bytes long"
    Settings(app_env="prod", auth_jwt_secret="\u00e9" * 16)  # type: ignore[arg-type]


@pytest.mark.parametrize("app_env", ["dev", "prod"])
def test_the_development_secret_is_refused_outside_local_and_test(app_env):
    error, _ = config_error(app_env=app_env, auth_jwt_secret=DEVELOPMENT_JWT_SECRET)
    assert str(error) == "AUTH_JWT_SECRET is the public development secret"


def test_a_refused_secret_never_appears_in_the_startup_message():
    secret = "short-but-secret-XYZ"
    _, message = config_error(app_env="prod", auth_jwt_secret=secret)
    assert secret not in message
    assert "XYZ" not in message


@pytest.mark.parametrize("url", ["ftp://auth.example.com/jwks", "auth.example.com/jwks", "file:///etc/passwd"])
def test_a_jwks_url_that_is_not_http_is_refused(url):
    error, _ = config_error(app_env="prod", auth_jwks_url=url)
    assert str(error) == "AUTH_JWKS_URL must be an http(s) URL"


def test_a_negative_leeway_is_refused():
    error, _ = config_error(app_env="test", auth_leeway_seconds="-1")
    assert str(error) == "AUTH_LEEWAY_SECONDS must not be negative"


def test_the_leeway_defaults_to_30_seconds():
    assert Settings(app_env="test").auth_leeway_seconds == 30  # type: ignore[arg-type]


def test_blank_auth_settings_count_as_unset():
    settings = Settings(app_env="prod", auth_jwt_secret=GOOD_SECRET, auth_jwks_url="", auth_issuer="", auth_audience="")  # type: ignore[arg-type]
    assert (settings.auth_jwks_url, settings.auth_issuer, settings.auth_audience) == (None, None, None)


def test_an_unknown_app_env_is_refused():
    with pytest.raises(ValidationError):
        Settings(app_env="production")  # type: ignore[arg-type]
