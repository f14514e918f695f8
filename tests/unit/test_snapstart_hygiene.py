"""SnapStart hygiene, in-process: Lambda runs the function's init once per published version and
every execution environment is restored from that snapshot. So init (importing the handler) must
open no network socket, draw no randomness of the app's own (restored copies would share it), and read no
secret from Secrets Manager or SSM (a rotated secret must reach copies restored after the
rotation). The probe runs init in a fresh interpreter set up as deployed (secret references,
no values), then forks: each child is a restored copy, and the secret store is rotated between
the snapshot and the restores."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, os, sys, types, time

repo = sys.argv[1]
store_path = sys.argv[2]
app_dirs = tuple(os.path.join(repo, d) + os.sep for d in ("functions", "shared"))
events = {"socket": [], "secret_reads": [], "randomness": []}

import socket

def audit(event, args):
    # An AF_UNIX socketpair is the event loop's self-pipe (Mangum builds its loop at init): it has no
    # peer outside the process. Any other socket, connection, bind or name lookup is the network.
    if event == "socket.__new__" and args[1] == socket.AF_UNIX:
        return
    if event.startswith("socket.") and event not in ("socket.gethostname", "socket.sethostname"):
        events["socket"].append(f"{event} {args[1:] if event == 'socket.__new__' else args}")
sys.addaudithook(audit)

def record_randomness(name, original):
    def wrapper(*args, **kwargs):
        caller = sys._getframe(1).f_code.co_filename
        if caller.startswith(app_dirs):
            events["randomness"].append(f"{name} from {os.path.relpath(caller, repo)}")
        return original(*args, **kwargs)
    return wrapper

import random, secrets, uuid
os.urandom = record_randomness("os.urandom", os.urandom)
uuid.uuid4 = record_randomness("uuid.uuid4", uuid.uuid4)
for name in ("random", "randint", "choice", "seed", "getrandbits", "randbytes"):
    setattr(random, name, record_randomness(f"random.{name}", getattr(random, name)))
for name in ("token_bytes", "token_hex", "token_urlsafe", "randbelow", "choice"):
    setattr(secrets, name, record_randomness(f"secrets.{name}", getattr(secrets, name)))

class SecretsManager:
    def get_secret_value(self, SecretId):
        events["secret_reads"].append(SecretId)
        with open(store_path) as store:
            return {"SecretString": json.load(store)[SecretId]}

boto3 = types.ModuleType("boto3")
boto3.client = lambda service, config=None: SecretsManager()
botocore = types.ModuleType("botocore")
botocore_config = types.ModuleType("botocore.config")
botocore_config.Config = lambda **kwargs: None
sys.modules.update({"boto3": boto3, "botocore": botocore, "botocore.config": botocore_config})

from functions.api import handler as entry  # the function's init
import shared.db
at_init = {key: list(value) for key, value in events.items()}
at_init["engine_created"] = shared.db._engine is not None

import jwt
from tests.support.lambda_context import FakeLambdaContext

def forbidden_or_refused(secret):
    token = jwt.encode({"sub": "bob", "exp": int(time.time()) + 60}, secret, algorithm="HS256")
    event = {
        "version": "2.0", "routeKey": "ANY /{proxy+}", "rawPath": "/api/alice/tasks", "rawQueryString": "",
        "headers": {"host": "probe", "authorization": f"Bearer {token}"},
        "requestContext": {"http": {"method": "GET", "path": "/api/alice/tasks", "protocol": "HTTP/1.1",
                                    "sourceIp": "127.0.0.1"}, "requestId": "r", "stage": "$default"},
        "isBase64Encoded": False,
    }
    response = entry.handler(event, FakeLambdaContext(uuid.uuid4().hex))
    return response["statusCode"]

print(json.dumps({"init": at_init}), flush=True)
copies = []
for copy in ("a", "b"):
    with open(store_path) as store:
        rotated = json.load(store)
    rotated["tasks-api/dev/auth-jwt-secret"] = f"rotated-before-restore-{copy}-" + "s" * 32
    with open(store_path, "w") as store:
        json.dump(rotated, store)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a copy restored from the snapshot
        os.close(read)
        old_status = forbidden_or_refused("the-secret-at-snapshot-time-" + "s" * 32)
        new_status = forbidden_or_refused(rotated["tasks-api/dev/auth-jwt-secret"])
        os.write(write, json.dumps({"old": old_status, "new": new_status}).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        copies.append(json.loads(pipe.read()))
    os.waitpid(pid, 0)
print(json.dumps({"copies": copies}), flush=True)
"""


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    store = tmp_path_factory.mktemp("snapstart") / "secrets.json"
    store.write_text(
        json.dumps(
            {
                "tasks-api/dev/database-url": "postgresql://app:pw@127.0.0.1:9/tasks",
                "tasks-api/dev/auth-jwt-secret": "the-secret-at-snapshot-time-" + "s" * 32,
            }
        )
    )
    keep = ("PATH", "HOME", "LANG", "TZ", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        PYTHONPATH=str(REPO),
        APP_ENV="dev",
        AWS_LAMBDA_FUNCTION_NAME="tasks-api-snapstart-probe",
        AWS_REGION="us-east-1",
        DATABASE_URL_SECRET_ARN="tasks-api/dev/database-url",
        AUTH_JWT_SECRET_SECRET_ARN="tasks-api/dev/auth-jwt-secret",
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(REPO), str(store)], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    probes = [line for line in lines if "_aws" not in line]  # CloudWatch metric lines share stdout
    return {**probes[0], **probes[1]}


def test_init_opens_no_socket(probe) -> None:
    assert probe["init"]["socket"] == []
    assert probe["init"]["engine_created"] is False


def test_init_reads_no_secret(probe) -> None:
    assert probe["init"]["secret_reads"] == []


def test_init_draws_no_randomness_of_the_apps_own(probe) -> None:
    assert probe["init"]["randomness"] == []


def test_each_restored_copy_reads_the_secret_as_rotated_after_the_snapshot(probe) -> None:
    # 403: the token verified (signed with the current secret) and names another user than the path.
    assert [copy["new"] for copy in probe["copies"]] == [403, 403]
    assert [copy["old"] for copy in probe["copies"]] == [401, 401]


def test_the_app_never_uses_the_random_modules_shared_state() -> None:
    """`random`'s global generator is seeded when first imported, so every copy restored from one
    snapshot would draw the same numbers; the app takes its randomness from the OS (uuid4, secrets)."""
    offenders = []
    for path in [*REPO.joinpath("functions").rglob("*.py"), *REPO.joinpath("shared").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if "random" in names:
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []
