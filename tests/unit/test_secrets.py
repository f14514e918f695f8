"""shared.secrets against botocore's Stubber: no AWS account or network involved."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from shared.secrets import SecretResolutionError, resolve_secrets

DB_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tasks-api/dev/database-url-AbCdEf"
JWT_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tasks-api/dev/auth-jwt-secret-GhIjKl"
DB_URL = "postgresql://app:s3cr3t-pw@ep-x-pooler.us-east-1.aws.neon.tech/tasks?sslmode=require"


class StubbedAws:
    """A client factory whose clients are stubbed with the responses queued by expect()."""

    def __init__(self) -> None:
        self.setups: dict[str, Callable[[Stubber], None]] = {}
        self.stubbers: dict[str, Stubber] = {}
        self.created: list[str] = []

    def expect(self, service: str, setup: Callable[[Stubber], None]) -> None:
        self.setups[service] = setup

    def factory(self, service: str) -> Any:
        self.created.append(service)
        client = boto3.client(service, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
        stubber = self.stubbers[service] = Stubber(client)
        self.setups.get(service, lambda _: None)(stubber)
        stubber.activate()
        return client


@pytest.fixture
def aws() -> Iterator[StubbedAws]:
    stubbed = StubbedAws()
    yield stubbed
    for stubber in stubbed.stubbers.values():
        stubber.assert_no_pending_responses()


def secret_responses(*pairs: tuple[str, str]) -> Callable[[Stubber], None]:
    def setup(stubber: Stubber) -> None:
        for arn, secret_string in pairs:
            stubber.add_response("get_secret_value", {"ARN": arn, "SecretString": secret_string}, {"SecretId": arn})

    return setup


def test_plain_variables_win_and_no_client_is_created(aws: StubbedAws) -> None:
    environ = {
        "DATABASE_URL": DB_URL,
        "DATABASE_URL_SECRET_ARN": DB_ARN,
        "AUTH_JWT_SECRET": "x" * 32,
    }

    assert resolve_secrets(environ, client_factory=aws.factory) == {}
    assert aws.created == []


def test_nothing_referenced_resolves_nothing(aws: StubbedAws) -> None:
    assert resolve_secrets({"APP_ENV": "dev"}, client_factory=aws.factory) == {}
    assert aws.created == []


def test_plain_secret_strings_are_read_with_one_client(aws: StubbedAws) -> None:
    aws.expect("secretsmanager", secret_responses((DB_ARN, DB_URL), (JWT_ARN, "j" * 40)))
    environ = {"DATABASE_URL_SECRET_ARN": DB_ARN, "AUTH_JWT_SECRET_SECRET_ARN": JWT_ARN}

    assert resolve_secrets(environ, client_factory=aws.factory) == {
        "DATABASE_URL": DB_URL,
        "AUTH_JWT_SECRET": "j" * 40,
    }
    assert aws.created == ["secretsmanager"]


@pytest.mark.parametrize("key", ["DATABASE_URL", "url", "value"])
def test_json_secret_takes_the_name_url_or_value_key(aws: StubbedAws, key: str) -> None:
    document = json.dumps({"username": "app", key: DB_URL})
    aws.expect("secretsmanager", secret_responses((DB_ARN, document)))

    resolved = resolve_secrets({"DATABASE_URL_SECRET_ARN": DB_ARN}, client_factory=aws.factory)

    assert resolved == {"DATABASE_URL": DB_URL}


def test_json_secret_without_a_known_key_fails_without_its_content(aws: StubbedAws) -> None:
    aws.expect("secretsmanager", secret_responses((DB_ARN, json.dumps({"password": "s3cr3t-pw"}))))

    with pytest.raises(SecretResolutionError, match="DATABASE_URL") as error:
        resolve_secrets({"DATABASE_URL_SECRET_ARN": DB_ARN}, client_factory=aws.factory)
    assert "s3cr3t-pw" not in str(error.value)


def test_ssm_parameter_is_read_with_decryption(aws: StubbedAws) -> None:
    def setup(stubber: Stubber) -> None:
        stubber.add_response(
            "get_parameter",
            {
                "Parameter": {
                    "Name": "/tasks-api/dev/direct-url",
                    "Type": "SecureString",
                    "Value": DB_URL,
                }
            },
            {"Name": "/tasks-api/dev/direct-url", "WithDecryption": True},
        )

    aws.expect("ssm", setup)
    environ = {"DIRECT_DATABASE_URL_SSM_PARAMETER": "/tasks-api/dev/direct-url"}

    assert resolve_secrets(environ, client_factory=aws.factory) == {"DIRECT_DATABASE_URL": DB_URL}


def test_secret_arn_takes_precedence_over_ssm_parameter(aws: StubbedAws) -> None:
    aws.expect("secretsmanager", secret_responses((JWT_ARN, "j" * 40)))
    environ = {"AUTH_JWT_SECRET_SECRET_ARN": JWT_ARN, "AUTH_JWT_SECRET_SSM_PARAMETER": "/unused"}

    assert resolve_secrets(environ, client_factory=aws.factory) == {"AUTH_JWT_SECRET": "j" * 40}
    assert aws.created == ["secretsmanager"]


def test_fetch_failure_names_the_variable_and_the_error_code(aws: StubbedAws) -> None:
    aws.expect(
        "secretsmanager",
        lambda stubber: stubber.add_client_error(
            "get_secret_value", service_error_code="AccessDeniedException", http_status_code=400
        ),
    )

    with pytest.raises(SecretResolutionError) as error:
        resolve_secrets({"DATABASE_URL_SECRET_ARN": DB_ARN}, client_factory=aws.factory)
    assert str(error.value) == ("DATABASE_URL: could not read it via DATABASE_URL_SECRET_ARN (AccessDeniedException)")


def test_empty_secret_value_is_an_error(aws: StubbedAws) -> None:
    aws.expect("secretsmanager", secret_responses((JWT_ARN, json.dumps({"value": ""}))))

    with pytest.raises(SecretResolutionError, match="AUTH_JWT_SECRET: .* AUTH_JWT_SECRET_SECRET_ARN is empty"):
        resolve_secrets({"AUTH_JWT_SECRET_SECRET_ARN": JWT_ARN}, client_factory=aws.factory)
