"""The project's own Docker engine for `sam local`, inside a network namespace of its own.

The namespace has a loopback and, once dockerd runs, the engine's bridge: no uplink, so neither a
pull nor a container can send anything off the machine, and the host's firewall and bridges are
never touched (dockerd runs with --iptables=false; port publishing goes through docker-proxy
inside the namespace). Images stay in the engine's data root between runs: the Lambda base image
is built or pulled once. Everything started here is stopped by its pid in stop().

Usage: python scripts/local_engine.py base-image   (start the engine, make sure the base image of
this machine's architecture exists, stop the engine)
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("LOCAL_ENGINE_DIR", "/var/lib/tasks-api-local-engine"))
RUN_DIR = Path(os.environ.get("LOCAL_ENGINE_RUN_DIR", "/run/tasks-api-local-engine"))
DOCKER = "/usr/bin/docker"  # Debian's client, the same version as its engine
PACKAGES = {"dockerd": "docker.io", "containerd": "docker.io", "runc": "docker.io", "debootstrap": "debootstrap"}
STAND_IN_LABEL = "tasks-api.lambda-base=stand-in"


def lambda_arch() -> str:
    machine = os.uname().machine
    return {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[machine]


def base_image_name(arch: str) -> str:
    """The official image sam local builds its `-rapid-` image from (it pulls it when missing)."""
    return f"public.ecr.aws/lambda/python:3.12-{arch}"


def stand_in_image_name(arch: str) -> str:
    """The stand-in's own name: it never shadows the official image (sam gets --invoke-image)."""
    return f"tasks-api/lambda-python:3.12-{arch}"


def log(message: str) -> None:
    print(f"[local-engine] {message}", file=sys.stderr, flush=True)


def ensure_packages() -> None:
    """Debian's engine and debootstrap, installed by apt when missing (CI starts from a clean clone)."""
    missing = {package for tool, package in PACKAGES.items() if not _which(tool)}
    if not Path(DOCKER).exists():
        missing.add("docker.io")
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(f"error: needs the Debian packages {' '.join(sorted(missing))} (apt-get install, as root)")
    log(f"installing {', '.join(missing)} from Debian's packages")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *sorted(missing)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def _which(tool: str) -> str | None:
    return shutil.which(tool, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")


def die_with_parent() -> None:
    """preexec_fn: the kernel sends SIGTERM to the child if this process is killed outright
    (PR_SET_PDEATHSIG, kept across exec), so nothing outlives a `kill -9` of the caller."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop_pid(pid: int, timeout: float) -> None:
    """SIGTERM, then SIGKILL after timeout seconds; only ever the given pid."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        time.sleep(0.1)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


class Engine:
    def __init__(self, state_dir: Path = STATE_DIR, run_dir: Path = RUN_DIR) -> None:
        self.state_dir = state_dir
        self.run_dir = run_dir
        self.socket = run_dir / "docker.sock"
        self.pidfile = run_dir / "docker.pid"
        self.log_path = state_dir / "dockerd.log"
        self.holder: subprocess.Popen[bytes] | None = None
        self.dockerd: subprocess.Popen[bytes] | None = None
        self._lock: IO[str] | None = None

    @property
    def netns(self) -> str:
        assert self.holder is not None, "engine not started"
        return f"/proc/{self.holder.pid}/ns/net"

    @property
    def env(self) -> dict[str, str]:
        """The environment for docker clients (sam, the docker CLI) talking to this engine."""
        return {**os.environ, "DOCKER_HOST": f"unix://{self.socket}"}

    def in_namespace(self, command: list[str]) -> list[str]:
        return ["nsenter", f"--net={self.netns}", "--", *command]

    def start(self) -> None:
        ensure_packages()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.state_dir / "lock", "w")  # noqa: SIM115 (held until stop())
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            sys.exit(f"error: another run uses the local engine ({self.state_dir}); stop it first")
        self._stop_stale_dockerd()
        # unshare execs sleep inside the new namespace: the holder's pid is the namespace's anchor.
        # Own sessions (here and for dockerd): a Ctrl-C reaches the caller, which stops them in order.
        self.holder = subprocess.Popen(
            ["unshare", "--net", "--", "sleep", "infinity"], start_new_session=True, preexec_fn=die_with_parent
        )
        self._wait_for_own_namespace()
        subprocess.run(self.in_namespace(["ip", "link", "set", "lo", "up"]), check=True)
        log_file = open(self.log_path, "ab")  # noqa: SIM115 (dockerd writes it until it stops)
        command = [
            _which("dockerd") or "dockerd",
            f"--host=unix://{self.socket}",
            f"--data-root={self.state_dir / 'docker'}",
            f"--exec-root={self.run_dir / 'exec'}",
            f"--pidfile={self.pidfile}",
            "--iptables=false",
            "--ip6tables=false",
            "--ip-masq=false",
            "--storage-driver=overlay2",
            "--log-level=warn",
        ]
        # nsenter execs dockerd after entering the namespace: the pid is dockerd's own.
        self.dockerd = subprocess.Popen(
            self.in_namespace(command),
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        log_file.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.dockerd.poll() is not None:
                self.stop()
                sys.exit(f"error: dockerd exited ({self.dockerd.returncode}); see {self.log_path}")
            if self.socket.exists() and self.docker("version", capture=True, check=False).returncode == 0:
                log(f"engine ready (pid {self.dockerd.pid}, namespace of pid {self.holder.pid})")
                return
            time.sleep(0.3)
        self.stop()
        sys.exit(f"error: dockerd did not answer within 60 s; see {self.log_path}")

    def _wait_for_own_namespace(self) -> None:
        """Until unshare has switched, the holder's namespace is still the host's: never start
        dockerd (which makes a bridge) before the namespace is a different one."""
        host = os.stat("/proc/self/ns/net").st_ino
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.holder is not None
            if self.holder.poll() is not None:
                sys.exit("error: unshare --net failed (root is needed for sam local's engine)")
            with contextlib.suppress(OSError):
                if os.stat(self.netns).st_ino != host:
                    return
            time.sleep(0.02)
        self.stop()
        sys.exit("error: the engine's network namespace did not come up")

    def _stop_stale_dockerd(self) -> None:
        """A dockerd left by a run that was killed outright: ours only if it runs on our data root."""
        try:
            pid = int(self.pidfile.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError):
            return
        if f"--data-root={self.state_dir / 'docker'}" in cmdline:
            log(f"stopping the engine a previous run left behind (pid {pid})")
            _stop_pid(pid, 30)

    def docker(self, *args: str, capture: bool = False, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [DOCKER, *args],
            env=self.env,
            check=check,
            text=True,
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.PIPE if capture else None,
        )

    def has_image(self, name: str) -> bool:
        return self.docker("image", "inspect", name, capture=True, check=False).returncode == 0

    def stop(self) -> None:
        if self.dockerd is not None and self.dockerd.poll() is None:
            containers = self.docker("ps", "-aq", capture=True, check=False).stdout.split()
            if containers:
                self.docker("rm", "-f", *containers, capture=True, check=False)
            _stop_pid(self.dockerd.pid, 30)
        if self.holder is not None and self.holder.poll() is None:
            _stop_pid(self.holder.pid, 5)
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def ensure_base_image(engine: Engine, arch: str) -> tuple[str, bool]:
    """(image, official): the official base image where the engine has it or can pull it, else the
    stand-in, built once and kept in the engine's data root."""
    official = base_image_name(arch)
    if engine.has_image(official):
        return official, True
    stand_in = stand_in_image_name(arch)
    if engine.has_image(stand_in):
        return stand_in, False
    log(f"{official} is not in the engine; trying to pull it")
    if engine.docker("pull", official, capture=True, check=False).returncode == 0:
        return official, True
    log("the official image cannot be pulled here: building the stand-in (about 5 minutes, once)")
    subprocess.run(
        ["bash", str(REPO / "scripts" / "lambda_base_image.sh"), stand_in, STAND_IN_LABEL],
        check=True,
        env=engine.env,
    )
    return stand_in, False


def main() -> None:
    if sys.argv[1:] != ["base-image"]:
        sys.exit(__doc__)
    engine = Engine()
    engine.start()
    try:
        name, official = ensure_base_image(engine, lambda_arch())
        inspect = engine.docker("image", "inspect", "--format", "{{.Id}} {{.Config.Labels}}", name, capture=True)
        print(f"{name} ({'official' if official else 'stand-in'}): {inspect.stdout.strip()}")
    finally:
        engine.stop()


if __name__ == "__main__":
    main()
