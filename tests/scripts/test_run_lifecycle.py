"""`make run` and its embedded PostgreSQL live and die together: SIGTERM to make, Ctrl-C (SIGINT to
the foreground group) and the terminal closing (the shell's SIGHUP) all stop the database; a pid
left behind by a killed server never blocks the next start or stop; a port in use is said before
the banner. Each case runs `make run` as a subprocess, on a data directory of its own."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import socket
import subprocess
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

REPO = Path(__file__).resolve().parents[2]
BANNER = "Tasks API on"
START_SECONDS = 120  # initdb and migrations on a loaded two-core machine
STOP_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("devdb") / "pg"


class Run:
    """One `make run`, its output collected as it comes."""

    def __init__(self, data_dir: Path, port: int, *, terminal: bool = False) -> None:
        self.data_dir, self.port = data_dir, port
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_") and k != "DATABASE_URL"}
        env.update(APP_ENV="local", PORT=str(port), DEVDB_DIR=str(data_dir), PYTHONPATH=str(REPO), PS1="$ ")
        self.output = ""
        self.master: int | None = None
        self.hung_up, self.closed = threading.Event(), threading.Event()
        if terminal:
            # An interactive shell on a terminal of its own, typing `make run` as a user does.
            self.master, slave = pty.openpty()

            def controlling_terminal() -> None:
                os.setsid()
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)

            self.process = subprocess.Popen(
                ["bash", "--norc", "--noprofile", "-i"],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=REPO,
                env=env,
                preexec_fn=controlling_terminal,
            )
            os.close(slave)
            os.write(self.master, b"make run\n")
            reader = self._read_terminal
        else:
            self.process = subprocess.Popen(
                ["make", "run"],
                cwd=REPO,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
            reader = self._read_pipe
        threading.Thread(target=reader, daemon=True).start()

    def _read_pipe(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output += line

    def _read_terminal(self) -> None:
        assert self.master is not None
        while not self.hung_up.is_set():
            readable, _, _ = select.select([self.master], [], [], 0.1)
            if not readable:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.output += chunk.decode(errors="replace")
        os.close(self.master)  # closed here: a close while another thread reads would not hang up
        self.closed.set()

    def hang_up(self) -> None:
        """The terminal window closes."""
        self.hung_up.set()
        assert self.closed.wait(10)

    def wait_for_banner(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while BANNER not in self.output:
            assert self.process.poll() is None or self.master is not None, self.output
            assert time.monotonic() < deadline, self.output
            time.sleep(0.1)
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(self.output)

    def server_process(self) -> psutil.Process:
        (server,) = [
            p for p in psutil.Process(self.process.pid).children(recursive=True) if "scripts/serve.py" in p.cmdline()
        ]
        return server

    def everything(self) -> list[psutil.Process]:
        try:
            return [psutil.Process(self.process.pid), *psutil.Process(self.process.pid).children(recursive=True)]
        except psutil.Error:
            return []


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().split()[0])


def assert_database_stops(data_dir: Path, pid: int) -> None:
    deadline = time.monotonic() + STOP_SECONDS
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, f"the embedded PostgreSQL ({pid}) is still running"
        time.sleep(0.2)
    assert not (data_dir / "postmaster.pid").exists()


@pytest.fixture
def runs(data_dir: Path) -> Iterator[list[Run]]:
    """Every run started, cleaned up whatever the test found (today's code leaves servers behind)."""
    started: list[Run] = []
    yield started
    leftovers: list[psutil.Process] = []
    for run in started:
        leftovers += run.everything()
        if run.master is not None and not run.hung_up.is_set():
            run.hang_up()
    for process in leftovers:
        with contextlib.suppress(psutil.Error):
            process.kill()
    if (data_dir / "postmaster.pid").exists():
        with contextlib.suppress(OSError, ValueError):
            os.kill(postmaster_pid(data_dir), signal.SIGINT)  # fast shutdown
        deadline = time.monotonic() + STOP_SECONDS
        while (data_dir / "postmaster.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    (data_dir / ".handle_pids.json").unlink(missing_ok=True)


def _start(runs: list[Run], data_dir: Path, *, terminal: bool = False) -> Run:
    run = Run(data_dir, _free_port(), terminal=terminal)
    runs.append(run)
    run.wait_for_banner()
    return run


def test_sigterm_to_make_stops_the_embedded_database(runs, data_dir) -> None:
    run = _start(runs, data_dir)
    database = postmaster_pid(data_dir)
    os.kill(run.process.pid, signal.SIGTERM)  # `kill <pid of make>`
    run.process.wait(STOP_SECONDS)
    assert_database_stops(data_dir, database)


def test_ctrl_c_stops_the_embedded_database(runs, data_dir) -> None:
    run = _start(runs, data_dir)
    database = postmaster_pid(data_dir)
    os.killpg(run.process.pid, signal.SIGINT)  # what the terminal sends the foreground job
    run.process.wait(STOP_SECONDS)
    assert_database_stops(data_dir, database)


def test_closing_the_terminal_stops_the_embedded_database(runs, data_dir) -> None:
    run = _start(runs, data_dir, terminal=True)
    database = postmaster_pid(data_dir)
    server = run.server_process()
    run.hang_up()  # the shell gets SIGHUP and passes it on to its jobs
    server.wait(STOP_SECONDS)
    assert_database_stops(data_dir, database)


@pytest.mark.parametrize("leftover", ["killed-server", "garbage"])
def test_a_stale_pid_file_never_blocks_the_next_start_or_stop(runs, data_dir, leftover) -> None:
    if leftover == "killed-server":
        first = _start(runs, data_dir)
        first.server_process().kill()  # SIGKILL: no cleanup at all; its pid stays in the file
        first.process.wait(STOP_SECONDS)
        assert (data_dir / "postmaster.pid").exists()  # the database outlives it, as it would
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / ".handle_pids.json").write_text('[99999999, "x"')
    run = _start(runs, data_dir)
    database = postmaster_pid(data_dir)
    os.kill(run.process.pid, signal.SIGTERM)
    run.process.wait(STOP_SECONDS)
    assert_database_stops(data_dir, database)


def test_make_run_on_a_port_in_use_says_so_before_the_banner(runs, tmp_path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        run = Run(tmp_path / "pg", port)
        runs.append(run)
        code = run.process.wait(START_SECONDS)
    time.sleep(0.2)  # the reader thread drains the pipe
    assert code != 0
    assert f"port {port}" in run.output and "in use" in run.output, run.output
    assert BANNER not in run.output
    assert not (tmp_path / "pg" / "postmaster.pid").exists()  # nothing was started first
