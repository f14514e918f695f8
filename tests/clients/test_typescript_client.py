"""A TypeScript client generated from the live OpenAPI document (openapi-typescript +
openapi-fetch), type-checked with `tsc --strict`, runs the whole task flow against a server."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx

from functions.api.openapi import unresolved_refs
from tests.clients.conftest import CLIENTS, NODE_MODULES, LiveServer
from tests.support.tokens import make_token

# The openapi-typescript options the service supports (docs/contract-decisions.md): without
# `--default-non-nullable false` every request-body field that has a default becomes required.
SUPPORTED_FLAGS = ["--default-non-nullable", "false"]


def test_every_ref_in_the_served_document_resolves(live_server: LiveServer) -> None:
    document = httpx.get(f"{live_server.base}/openapi.json").json()
    refs = json.dumps(document).count('"$ref"')
    assert refs > 0
    assert unresolved_refs(document) == []
    assert "$defs" not in json.dumps(document)


def _workspace(tmp_path: Path, document: dict[str, object]) -> Path:
    """The program beside the packages: its imports resolve through the node_modules link."""
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    (tmp_path / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    for name in ("flow.ts", "tsconfig.json"):
        (tmp_path / name).write_text((CLIENTS / name).read_text())
    return tmp_path


def _run(args: list[str], cwd: Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_a_generated_typescript_client_runs_the_whole_flow(node: str, live_server: LiveServer, tmp_path: Path) -> None:
    document = httpx.get(f"{live_server.base}/openapi.json").json()
    work = _workspace(tmp_path, document)
    bin_dir = NODE_MODULES / ".bin"
    _run([str(bin_dir / "openapi-typescript"), "openapi.json", *SUPPORTED_FLAGS, "-o", "api.ts"], work)
    assert "TaskPublic" in (work / "api.ts").read_text()
    _run([str(bin_dir / "tsc"), "-p", ".", "--strict", "--noEmit", "false"], work)

    user = f"ts-{uuid.uuid4().hex[:10]}"
    env = {"API_BASE": live_server.base, "API_TOKEN": make_token(user), "API_USER": user, "PATH": "/usr/bin:/bin"}
    result = _run([node, "out/flow.js"], work, env=env)
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary == {
        "ok": True,
        "pages": ["Buy milk", "Call mum", "Pay rent"],
        "not_found": "Not Found",
        "validation": "value_error",
    }


def test_a_type_error_against_the_generated_types_fails_the_check(
    node: str, live_server: LiveServer, tmp_path: Path
) -> None:
    """The type check is real: a body the document forbids does not compile."""
    document = httpx.get(f"{live_server.base}/openapi.json").json()
    work = _workspace(tmp_path, document)
    bin_dir = NODE_MODULES / ".bin"
    _run([str(bin_dir / "openapi-typescript"), "openapi.json", *SUPPORTED_FLAGS, "-o", "api.ts"], work)
    flow = (work / "flow.ts").read_text()
    broken = flow.replace('priority: "high"', 'priority: "urgent"', 1)
    assert broken != flow
    (work / "flow.ts").write_text(broken)
    result = subprocess.run([str(bin_dir / "tsc"), "-p", "."], cwd=work, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert '"urgent"' in result.stdout
