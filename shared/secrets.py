"""Resolve secret settings from Secrets Manager or SSM Parameter Store, once per cold start.

For each name in SECRET_NAMES: a plain environment variable wins (local runs, simple setups);
else `<NAME>_SECRET_ARN` (a Secrets Manager ARN or name) is read; else `<NAME>_SSM_PARAMETER`
(a SecureString, decrypted). A SecretString that is a JSON object must carry the value under
`<NAME>`, `url` or `value` (first match); any other SecretString is the value itself.
Values are never logged, and errors name the variable, never the value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

SECRET_NAMES = ("DATABASE_URL", "DIRECT_DATABASE_URL", "AUTH_JWT_SECRET")
JSON_KEYS = ("url", "value")
SOURCES = ("_SECRET_ARN", "_SSM_PARAMETER")  # in order of precedence


class SecretResolutionError(RuntimeError):
    """A secret reference was set but its value could not be read."""


def _boto3_client(service: str) -> Any:
    # Imported here: boto3 comes with the Lambda runtime and is not a runtime requirement.
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"})
    return boto3.client(service, config=config)


def _from_secret_string(name: str, secret_string: str) -> str:
    try:
        document = json.loads(secret_string)
    except ValueError:
        return secret_string
    if not isinstance(document, dict):
        return secret_string
    for key in (name, *JSON_KEYS):
        value = document.get(key)
        if isinstance(value, str):
            return value
    raise SecretResolutionError(f"{name}: the JSON secret has no string key {name!r}, 'url' or 'value'")


def _read(name: str, source: str, reference: str, client: Callable[[str], Any]) -> str:
    if source.endswith("_SECRET_ARN"):
        response = client("secretsmanager").get_secret_value(SecretId=reference)
        return _from_secret_string(name, response["SecretString"])
    response = client("ssm").get_parameter(Name=reference, WithDecryption=True)
    return str(response["Parameter"]["Value"])


def references_to_resolve(environ: Mapping[str, str]) -> list[str]:
    """The settings whose value must be read from AWS (a reference is set, the value is not)."""
    return [
        name
        for name in SECRET_NAMES
        if not environ.get(name) and any(environ.get(f"{name}{suffix}") for suffix in SOURCES)
    ]


def resolve_secrets(
    environ: Mapping[str, str],
    *,
    client_factory: Callable[[str], Any] = _boto3_client,
) -> dict[str, str]:
    """Return the values read from AWS, by setting name; names set directly are left out."""
    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in clients:
            clients[service] = client_factory(service)
        return clients[service]

    resolved: dict[str, str] = {}
    for name in SECRET_NAMES:
        if environ.get(name):
            continue
        source = next((f"{name}{suffix}" for suffix in SOURCES if environ.get(f"{name}{suffix}")), None)
        if source is None:
            continue
        try:
            value = _read(name, source, environ[source], client)
        except SecretResolutionError:
            raise
        except Exception as exc:  # botocore errors, no credentials, a SecretBinary-only secret, ...
            code = getattr(exc, "response", {}).get("Error", {}).get("Code") or type(exc).__name__
            raise SecretResolutionError(f"{name}: could not read it via {source} ({code})") from exc
        if not value:
            raise SecretResolutionError(f"{name}: the value read via {source} is empty")
        resolved[name] = value
    return resolved
