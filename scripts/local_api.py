"""`make local-api`: the real `sam local start-api` for template.yaml, on this machine's architecture.

1. the database: DATABASE_URL, else the embedded PostgreSQL of `make run` (.data/pg); migrated;
2. APP_ENV=dev with AUTH_JWT_SECRET from the environment, else a generated one kept in
   .data/local-api/ (`make token` signs with it while this runs);
3. `sam build` for this architecture (scripts/build.sh), the project's own engine in a network
   namespace without uplink (scripts/local_engine.py), the Lambda base image (official where the
   engine has or can pull it, else the stand-in, built once);
4. sam local start-api inside the namespace, with --warm-containers EAGER and
   host.docker.internal mapped to the engine's gateway, where a forwarder relays to PostgreSQL;
   a second forwarder makes the API reachable on 127.0.0.1:$PORT.
Ctrl-C or SIGTERM stops everything it started, each by its pid.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import devdb  # noqa: E402
from scripts.local_engine import Engine, _stop_pid, die_with_parent, ensure_base_image, lambda_arch, log  # noqa: E402
from scripts.nsforward import Endpoint, Forwarder  # noqa: E402

REPO = devdb.REPO
STATE_DIR = REPO / ".data" / "local-api"
STATE_FILE = STATE_DIR / "running.json"
SECRET_FILE = STATE_DIR / "auth-jwt-secret"
SAM_PORT_IN_NAMESPACE = 3000
DB_PORT_IN_NAMESPACE = 5432


def generated_secret() -> str:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    if not SECRET_FILE.exists():
        SECRET_FILE.touch(mode=0o600)
        SECRET_FILE.write_text(secrets.token_urlsafe(48))
    return SECRET_FILE.read_text().strip()


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from shared.config import normalize_database_url

    config = Config(str(REPO / "alembic.ini"))
    config.attributes["url"] = normalize_database_url(url)
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")


def database_target(url: str) -> tuple[Endpoint, Any]:
    """Where the forwarder reaches the database (host side), and the URL with that part removed."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    socket_dir = parsed.query.get("host")
    if isinstance(socket_dir, str) and socket_dir.startswith("/"):
        target = Endpoint(f"unix:{socket_dir}/.s.PGSQL.{parsed.port or 5432}")
        parsed = parsed.difference_update_query(["host"])
    else:
        target = Endpoint(f"{parsed.host or '127.0.0.1'}:{parsed.port or 5432}")
    return target, parsed


def container_database_url(parsed: Any) -> str:
    url = parsed.set(drivername="postgresql", host="host.docker.internal", port=DB_PORT_IN_NAMESPACE)
    rendered: str = url.render_as_string(hide_password=False)
    return rendered


def wait_ready(url: str, sam: subprocess.Popen[bytes], stop: threading.Event, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop.is_set():
        if sam.poll() is not None:
            raise RuntimeError(f"sam local start-api exited ({sam.returncode})")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        time.sleep(1)
    raise RuntimeError("stopped before it was ready" if stop.is_set() else f"{url} did not answer in {timeout:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 3000))
    parser.add_argument("--log-file", help="write the function's output (the container's) to this file")
    parser.add_argument("--ready-file", help="write {url, ...} as JSON here once the API answers")
    args = parser.parse_args()

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    started: list[Any] = []  # what to stop, in reverse order
    sam: subprocess.Popen[bytes] | None = None
    try:
        url = os.environ.get("DATABASE_URL")
        if not url:
            server = devdb.start(REPO / ".data" / "pg", keep=True)
            started.append(server.cleanup)
            url = devdb.url_of(server)
        migrate(url)
        log("database migrated")
        # make token signs with the generated secret only: one given by the caller stays the caller's.
        secret = os.environ.get("AUTH_JWT_SECRET") or generated_secret()
        running = {"pid": os.getpid()} if os.environ.get("AUTH_JWT_SECRET") else {"secret_file": str(SECRET_FILE)}

        arch = lambda_arch()
        build_dir = REPO / ".aws-sam" / "local" / arch
        build = ["bash", str(REPO / "scripts" / "build.sh"), "--arch", arch, "--build-dir", str(build_dir)]
        subprocess.run(build, check=True)

        engine = Engine()
        engine.start()
        started.append(engine.stop)
        image, official = ensure_base_image(engine, arch)
        log(f"Lambda base image: {image} ({'official' if official else 'stand-in'})")

        target, parsed = database_target(url)
        started.append(Forwarder(Endpoint(f"0.0.0.0:{DB_PORT_IN_NAMESPACE}", engine.netns), target).close)
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        env_file = STATE_DIR / "env.json"
        env_file.touch(mode=0o600)
        variables = {
            "APP_ENV": "dev",
            "DATABASE_URL": container_database_url(parsed),
            "AUTH_JWT_SECRET": secret,
            # Plain values win over these; emptied so that no Secrets Manager call is even tried.
            "DATABASE_URL_SECRET_ARN": "",
            "AUTH_JWT_SECRET_SECRET_ARN": "",
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        }
        env_file.write_text(json.dumps({"ApiFunction": variables}))

        command = [
            "bash", str(REPO / "scripts" / "sam.sh"), "local", "start-api",
            "--template", str(build_dir / "template.yaml"),
            "--parameter-overrides", f"Architecture={arch} StageName=dev",
            "--env-vars", str(env_file),
            "--warm-containers", "EAGER",
            "--add-host", "host.docker.internal:host-gateway",
            "--host", "127.0.0.1", "--port", str(SAM_PORT_IN_NAMESPACE),
            "--skip-pull-image",
        ]  # fmt: skip
        if not official:
            command += ["--invoke-image", image]
        if args.log_file:
            command += ["--log-file", args.log_file]
        # Its own session: Ctrl-C reaches this process only, which then stops sam first.
        sam = subprocess.Popen(
            engine.in_namespace(command), env=engine.env, start_new_session=True, preexec_fn=die_with_parent
        )
        started.append(lambda: _stop_pid(sam.pid, 30) if sam is not None else None)
        sam_in_namespace = Endpoint(f"127.0.0.1:{SAM_PORT_IN_NAMESPACE}", engine.netns)
        started.append(Forwarder(Endpoint(f"127.0.0.1:{args.port}"), sam_in_namespace).close)

        base = f"http://127.0.0.1:{args.port}"
        wait_ready(f"{base}/health", sam, stop, timeout=300)
        if args.ready_file:
            Path(args.ready_file).write_text(json.dumps({"url": base, "image": image, "official_image": official}))
        STATE_FILE.write_text(json.dumps({**running, "pid": os.getpid(), "url": base}))
        started.append(lambda: STATE_FILE.unlink(missing_ok=True))
        print(
            f"\nTasks API through sam local start-api on {base}  (APP_ENV=dev, {arch}, image {image})\n"
            "get a token signed with this run's secret:  make token USER=alice\n"
            f'try it:  curl -H "Authorization: Bearer $(make -s token USER=alice)" {base}/api/alice/tasks\n'
            "Ctrl-C stops sam, the engine and the database it started.\n",
            flush=True,
        )
        while not stop.wait(1):
            if sam.poll() is not None:
                log(f"sam local start-api exited ({sam.returncode})")
                return 1
        return 0
    except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
        log(f"error: {error}")
        return 1
    finally:
        for action in reversed(started):
            with contextlib.suppress(Exception):
                action()
        log("stopped everything it started")


if __name__ == "__main__":
    sys.exit(main())
