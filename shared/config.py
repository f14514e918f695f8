"""Settings: the only reader of the environment."""

from __future__ import annotations

import hashlib
import os
from functools import cached_property, lru_cache
from typing import Any, Literal, cast

from pydantic import SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The front end's development server (Next.js), allowed by default in local runs as the SAM
# template's AllowedOrigins allows it when deployed.
LOCAL_CORS_ORIGIN = "http://localhost:3000"
# Used only when APP_ENV is local or test and no auth setting is given, so `make run` and
# `make token` work out of the box. Never accepted anywhere else.
DEVELOPMENT_JWT_SECRET = "local-development-secret-do-not-use-in-production"  # noqa: S105 (public on purpose)
MIN_SECRET_BYTES = 32


class ConfigError(ValueError):
    """The configuration cannot work; the message says which setting and why (never its value)."""


def normalize_database_url(url: str) -> str:
    """Accept URLs exactly as Neon (or any provider) prints them and name the driver explicitly.

    SQLAlchemy 2.1 maps ``postgresql://`` to psycopg 3 and rejects ``postgres://``.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigError("DATABASE_URL is not a URL")
    if scheme in ("postgres", "postgresql", "postgresql+psycopg2"):
        return f"postgresql+psycopg2://{rest}"
    raise ConfigError(f"DATABASE_URL has unsupported scheme {scheme!r}; use postgresql://")


class InitSettings(BaseSettings):
    """What the app reads while the process initialises: plain settings only, no secret resolved
    and no network. With SnapStart, init runs once per published version and every restored copy
    shares its result, so secrets are read by get_settings() on the first request instead."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_ignore_empty=True)

    app_env: Literal["local", "test", "dev", "prod"] = "local"
    cors_allow_origins: str | None = None
    log_level: str = "INFO"

    @property
    def cors_origins(self) -> list[str]:
        """Origins the app itself allows. Unset: the front end's dev server in local runs; none
        elsewhere (deployed, API Gateway answers CORS; tests set what they test)."""
        if self.cors_allow_origins is None:
            return [LOCAL_CORS_ORIGIN] if self.app_env == "local" else []
        return [o.strip() for o in self.cors_allow_origins.split(",") if o.strip()]


def get_init_settings() -> InitSettings:
    """The plain settings; and, when no secret has to be fetched for them, the full settings are
    checked too, so that a broken configuration stops the process before it serves anything."""
    from shared.secrets import references_to_resolve

    if not references_to_resolve(os.environ):
        get_settings()
    return InitSettings()


class Settings(InitSettings):
    # hide_input_in_errors: a refused setting may be a secret; errors must not repeat it.
    model_config = SettingsConfigDict(
        extra="ignore", case_sensitive=False, env_ignore_empty=True, hide_input_in_errors=True
    )

    database_url: SecretStr | None = None
    direct_database_url: SecretStr | None = None

    auth_jwt_secret: SecretStr | None = None
    auth_jwks_url: str | None = None
    auth_issuer: str | None = None
    auth_audience: str | None = None
    auth_leeway_seconds: int = 30

    cursor_secret: SecretStr | None = None
    port: int = 8000

    db_connect_timeout_seconds: int = 3
    db_statement_timeout_ms: int = 5000
    db_lock_timeout_ms: int = 2000
    db_pool_size: int = 0  # 0: 1 on Lambda (one request at a time), 5 elsewhere

    @field_validator("auth_jwks_url", "auth_issuer", "auth_audience", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("auth_jwt_secret", "database_url", "direct_database_url", "cursor_secret", mode="before")
    @classmethod
    def _blank_secret_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _check_auth(self) -> Settings:
        local = self.app_env in ("local", "test")
        if self.auth_jwt_secret is None and self.auth_jwks_url is None and local:
            self.auth_jwt_secret = SecretStr(DEVELOPMENT_JWT_SECRET)
        has_secret = self.auth_jwt_secret is not None
        has_jwks = self.auth_jwks_url is not None
        if not local and has_secret == has_jwks:
            raise ConfigError(
                f"APP_ENV={self.app_env} needs exactly one of AUTH_JWT_SECRET and AUTH_JWKS_URL "
                f"({'both are' if has_secret else 'neither is'} set)"
            )
        if has_secret:
            secret = self.auth_jwt_secret.get_secret_value().encode()  # type: ignore[union-attr]
            if len(secret) < MIN_SECRET_BYTES:
                raise ConfigError(f"AUTH_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes long")
            if not local and secret == DEVELOPMENT_JWT_SECRET.encode():
                raise ConfigError("AUTH_JWT_SECRET is the public development secret")
        if has_jwks and not (self.auth_jwks_url or "").startswith(("https://", "http://")):
            raise ConfigError("AUTH_JWKS_URL must be an http(s) URL")
        if self.auth_leeway_seconds < 0:
            raise ConfigError("AUTH_LEEWAY_SECONDS must not be negative")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url is None:
            raise ConfigError("DATABASE_URL is not set")
        return normalize_database_url(self.database_url.get_secret_value())

    @property
    def migrations_url(self) -> str:
        url = self.direct_database_url or self.database_url
        if url is None:
            raise ConfigError("DIRECT_DATABASE_URL (or DATABASE_URL) is not set")
        return normalize_database_url(url.get_secret_value())

    @cached_property
    def cursor_key(self) -> bytes:
        """HMAC key for list cursors: CURSOR_SECRET, else derived from another secret setting."""
        secret = self.cursor_secret or self.auth_jwt_secret or self.database_url
        material = secret.get_secret_value() if secret is not None else self.auth_jwks_url or ""
        return hashlib.sha256(b"tasks-api cursor key\0" + material.encode()).digest()

    @cached_property
    def on_lambda(self) -> bool:
        """Running in AWS Lambda (the runtime sets this): one request at a time per process."""
        return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))

    @property
    def pool_size(self) -> int:
        if self.db_pool_size > 0:
            return self.db_pool_size
        return 1 if self.on_lambda else 5


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the settings once per process (once per Lambda cold start).

    Secret references (`<NAME>_SECRET_ARN`, `<NAME>_SSM_PARAMETER`) are resolved here, so the
    values never sit in the function's configuration.
    """
    from shared.secrets import resolve_secrets

    resolved = {name.lower(): value for name, value in resolve_secrets(os.environ).items()}
    try:
        return Settings(**cast(dict[str, Any], resolved))
    except ValidationError as error:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors())
        raise ConfigError(f"invalid settings: {reasons}") from None
