"""Start, health-check and stop the servers under test, and the throwaway databases behind them.

Why context managers: a benchmark that dies half-way (Laurel not starting, wrk failing, Ctrl-C)
must still stop both servers and drop the PostgreSQL database it created, and an ExitStack of
these unwinds in the right order (servers first, then their database) whatever happened.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

HealthCheck = Callable[[httpx.Client, str], bool]


class ServerError(RuntimeError):
    """A server did not start, or did not become healthy in time."""


@dataclass
class ServerSpec:
    """How to run one server. `{port}` in argv is replaced by a free port."""

    name: str
    argv: list[str]
    cwd: Path
    health: HealthCheck
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Server:
    spec: ServerSpec
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    argv: list[str]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid


def free_port() -> int:
    """A port the kernel just handed out; the tiny race with other binders is acceptable here."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_ok(path: str) -> HealthCheck:
    """Health by a GET that must answer 200 (Laurel: /healthz)."""

    def check(client: httpx.Client, base_url: str) -> bool:
        return client.get(base_url + path).status_code == 200

    return check


def graphql_ok(query: str) -> HealthCheck:
    """Health by a GraphQL POST without errors (the floor app has no /healthz)."""

    def check(client: httpx.Client, base_url: str) -> bool:
        resp = client.post(base_url + "/graphql", json={"query": query})
        return resp.status_code == 200 and "errors" not in resp.json()

    return check


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextmanager
def ignoring_sigint() -> Iterator[None]:
    """Keep a second Ctrl-C from cutting a teardown short and leaving a server or database."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _start(spec: ServerSpec, log_path: Path) -> Server:
    port = free_port()
    argv = [arg.replace("{port}", str(port)) for arg in spec.argv]
    with log_path.open("wb") as log:
        # A session of its own: Ctrl-C at the terminal reaches run.py (which then stops the
        # server in order), not the server directly; and the group id is the server's pid.
        proc = subprocess.Popen(
            argv,
            cwd=spec.cwd,
            env={**os.environ, **spec.env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(spec=spec, port=port, proc=proc, log_path=log_path, argv=argv)


def ensure_alive(server: Server) -> None:
    """Fail the run, with the log's tail, if a server died under load (a crash, OOM)."""
    if server.proc.poll() is not None:
        raise ServerError(
            f"{server.spec.name} exited with status {server.proc.returncode} during the run.\n"
            f"log {server.log_path}:\n{log_tail(server.log_path)}"
        )


def _wait_healthy(server: Server, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                raise ServerError(
                    f"{server.spec.name} exited with status {server.proc.returncode} before it "
                    f"was healthy.\ncommand: {' '.join(server.argv)}\n"
                    f"log {server.log_path}:\n{log_tail(server.log_path)}"
                )
            try:
                if server.spec.health(client, server.base_url):
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.2)
    raise ServerError(
        f"{server.spec.name} not healthy after {timeout_s:.0f} s on {server.base_url}.\n"
        f"log {server.log_path}:\n{log_tail(server.log_path)}"
    )


def _stop(server: Server, grace_s: float = 10.0) -> None:
    """SIGTERM to the server's own process group (uvicorn shuts down cleanly), SIGKILL if stuck."""
    if server.proc.poll() is not None:
        return
    with ignoring_sigint():
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.proc.wait(timeout=grace_s)
        except ProcessLookupError:
            pass


@contextmanager
def running(spec: ServerSpec, log_path: Path, timeout_s: float) -> Iterator[Server]:
    """A started, healthy server, stopped on the way out whatever happened."""
    server = _start(spec, log_path)
    try:
        _wait_healthy(server, timeout_s)
        yield server
    finally:
        _stop(server)


@contextmanager
def sqlite_database() -> Iterator[str]:
    """A DATABASE_URL for a fresh SQLite file in a temporary directory, removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="laurel_bench_"))
    try:
        yield f"sqlite://{tmp / 'laurel.sqlite3'}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _psql(admin_url: str, sql: str) -> None:
    parts = urlsplit(admin_url)
    argv = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c", sql]
    argv += ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432)]
    argv += ["-U", parts.username or "postgres"]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    if proc.returncode != 0:
        raise ServerError(f"psql failed ({sql}): {proc.stderr.strip()}")


@contextmanager
def postgres_database(admin_url: str, name: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one run, dropped afterwards (even if it is still in use)."""
    _psql(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rstrip('/')}/{name}"
    finally:
        with ignoring_sigint():
            _psql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
