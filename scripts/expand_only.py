"""Expand-only migrations: the previous release must keep working on the new schema.

Migrations run before the deploy, and during a canary (and after a rollback) the previous release
serves on the schema they produced. This check, run by CI (`make expand-check`):

1. finds the previous release: --previous, else $PREVIOUS_RELEASE, else the newest `release-*` tag
   that is an ancestor of HEAD other than HEAD itself, else the commit in .ci/previous-release;
2. checks it out with `git worktree add` and requires its migration files to be unchanged at HEAD
   (a released migration has already run somewhere: edit it and the databases disagree);
3. migrates a scratch database to the previous head, snapshots the schema, upgrades it to the new
   head and compares (scripts/schema_compat.py: no drops, renames, type changes, new NOT NULL
   without default);
4. runs the previous release's API tests (its tests/api, or $EXPAND_TESTS) on a database built by
   HEAD's migrations: the new migration files are copied into its tree, so its own conftest
   (`alembic upgrade head`) builds the new schema under the old code.

Database: $EXPAND_DATABASE_URL, else $TEST_DATABASE_URL (scratch databases are created next to
it and dropped), else an embedded PostgreSQL.

Migrations must be self-contained (sqlalchemy and alembic.op only, no imports from shared/): the
previous release's tree runs them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from scripts.schema_compat import incompatibilities, snapshot  # noqa: E402
from shared.config import normalize_database_url  # noqa: E402

VERSIONS = Path("shared/migrations/versions")
RELEASE_FILE = ROOT / ".ci" / "previous-release"
DEFAULT_TESTS = "tests/api"


def git(*args: str, cwd: Path = ROOT) -> str:
    # git from PATH, as every other tool of the pipeline.
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()  # noqa: S607


def previous_release(explicit: str | None) -> tuple[str, str]:
    """(commit, where it came from)."""
    if explicit:
        return git("rev-parse", "--verify", f"{explicit}^{{commit}}"), "--previous"
    if os.environ.get("PREVIOUS_RELEASE"):
        return git("rev-parse", "--verify", f"{os.environ['PREVIOUS_RELEASE']}^{{commit}}"), "PREVIOUS_RELEASE"
    head = git("rev-parse", "HEAD")
    for tag in git("tag", "--list", "release-*", "--sort=-creatordate", "--merged", "HEAD").splitlines():
        commit = git("rev-parse", f"{tag}^{{commit}}")
        if commit != head:
            return commit, f"tag {tag}"
    lines = [line.strip() for line in RELEASE_FILE.read_text().splitlines()]
    recorded = next(line for line in lines if line and not line.startswith("#"))
    return git("rev-parse", "--verify", f"{recorded}^{{commit}}"), str(RELEASE_FILE.relative_to(ROOT))


@contextmanager
def worktree(commit: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="tasks-api-previous-"))
    git("worktree", "add", "--detach", "--force", str(path), commit)
    try:
        yield path
    finally:
        git("worktree", "remove", "--force", str(path))
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def server_url() -> Iterator[str]:
    url = os.environ.get("EXPAND_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    from scripts import devdb

    with tempfile.TemporaryDirectory(prefix="tasks-api-expand-pg-") as data_dir:
        server = devdb.start(Path(data_dir), keep=False)
        try:
            yield devdb.url_of(server)
        finally:
            server.cleanup()


@contextmanager
def scratch_database(url: str) -> Iterator[str]:
    admin_url = make_url(normalize_database_url(url))
    name = f"{admin_url.database}_expand_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def edited_migrations(previous: Path) -> list[str]:
    problems = []
    for old in sorted((previous / VERSIONS).glob("*.py")):
        new = ROOT / VERSIONS / old.name
        if not new.exists():
            problems.append(f"{VERSIONS / old.name}: released migration deleted or renamed")
        elif new.read_bytes() != old.read_bytes():
            problems.append(f"{VERSIONS / old.name}: released migration edited (add a new one instead)")
    return problems


def alembic_config(tree: Path, url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config(str(tree / "alembic.ini"))
    config.set_main_option("script_location", str(tree / "shared" / "migrations"))
    config.attributes["url"] = normalize_database_url(url)
    config.attributes["configure_logging"] = False
    return config


def schema_problems(previous: Path, url: str) -> tuple[list[str], str, str]:
    from alembic import command
    from alembic.script import ScriptDirectory

    old_head = ScriptDirectory.from_config(alembic_config(previous, url)).get_current_head()
    new_head = ScriptDirectory.from_config(alembic_config(ROOT, url)).get_current_head()
    assert old_head and new_head
    with scratch_database(url) as scratch:
        config = alembic_config(ROOT, scratch)  # HEAD's scripts include every released one (step 2)
        engine = create_engine(normalize_database_url(scratch))
        try:
            command.upgrade(config, old_head)
            with engine.connect() as connection:
                before = snapshot(connection)
            command.upgrade(config, "head")
            with engine.connect() as connection:
                after = snapshot(connection)
        finally:
            engine.dispose()
    return incompatibilities(before, after), old_head, new_head


def pins(requirements: Path) -> dict[str, str]:
    """name -> version of every ``name==version`` line, following ``-r`` includes."""
    found: dict[str, str] = {}
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found.update(pins(requirements.parent / line[3:].strip()))
        elif "==" in line:  # a lock line ends in a continuation: `name==version \`
            name, version = line.rstrip("\\").split("==", 1)
            found[re.sub(r"\[.*\]", "", name).strip().lower().replace("_", "-")] = version.strip()
    return found


def satisfied(wanted: dict[str, str]) -> bool:
    for name, version in wanted.items():
        try:
            if metadata.version(name) != version:
                return False
        except metadata.PackageNotFoundError:
            return False
    return True


def python_for(previous: Path) -> str:
    """HEAD's interpreter when it has every package the previous release pins, else a venv of its own."""
    requirements = previous / "requirements-dev.txt"
    if satisfied(pins(requirements)):
        return sys.executable
    digest = hashlib.sha256(json.dumps(pins(requirements), sort_keys=True).encode()).hexdigest()[:16]
    venv = ROOT / f".venv-previous-{digest}"
    if not (venv / ".installed").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(requirements)], check=True, cwd=previous)
        (venv / ".installed").touch()
    return str(venv / "bin" / "python")


def run_previous_tests(previous: Path, url: str | None, tests: list[str]) -> int:
    for migration in (ROOT / VERSIONS).glob("*.py"):
        shutil.copy2(migration, previous / VERSIONS / migration.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PREVIOUS_", "EXPAND_"))}
    env.update(PYTHONPATH=str(previous), PYTHONDONTWRITEBYTECODE="1")
    if url:
        env["TEST_DATABASE_URL"] = url
    command = [python_for(previous), "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests]
    print(f"== previous release's tests on the new schema: {' '.join(tests)}", flush=True)
    return subprocess.run(command, cwd=previous, env=env).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--previous", help="the previous release (commit, tag or branch)")
    parser.add_argument("--schema-only", action="store_true", help="skip running the previous release's tests")
    args = parser.parse_args()
    commit, source = previous_release(args.previous)
    head = git("rev-parse", "HEAD")
    print(f"== expand-only check: previous release {commit[:12]} ({source}), HEAD {head[:12]}", flush=True)
    with worktree(commit) as previous:
        if not (previous / VERSIONS).is_dir() or not any((previous / VERSIONS).glob("*.py")):
            print("the previous release has no migrations: nothing to check")
            return 0
        problems = edited_migrations(previous)
        with server_url() as url:
            if not problems:
                schema, old_head, new_head = schema_problems(previous, url)
                print(f"schema {old_head} -> {new_head}: {len(schema)} incompatible change(s)")
                problems += schema
            for problem in problems:
                print(f"error: {problem}", file=sys.stderr)
            if problems:
                return 1
            if args.schema_only:
                return 0
            tests = os.environ.get("EXPAND_TESTS", DEFAULT_TESTS).split()
            with scratch_database(url) as scratch:
                status = run_previous_tests(previous, scratch, tests)
    print("expand-only: ok" if status == 0 else "error: the previous release fails on the new schema")
    return status


if __name__ == "__main__":
    sys.exit(main())
