"""Servers of a test's or a script's own: PostgreSQL, Redis, the web app and the worker as processes.

Every server here runs on a free loopback port that this module picked, so a test or a `bench/`
script can stop, kill or restart it without touching the PostgreSQL and Redis this machine already
runs. Used by tests (fixtures wrap these classes) and by the load and fault scripts in `bench/`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = next((p for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), Path("/nonexistent"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def _stop_group(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    """Signal a process started with start_new_session=True and all of its children; wait for it."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=timeout)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


def postgres_available() -> bool:
    return (PG_BIN / "initdb").exists() and (os.geteuid() != 0 or shutil.which("runuser") is not None)


class OwnPostgres:
    """A throw-away PostgreSQL cluster (run as the postgres user when we are root) on a port of its own."""

    def __init__(self, database: str = "navaia"):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="navaia-pg-"))
        self.data = self.dir / "data"
        self.database = database
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}?connect_timeout=2"

    def _run(self, *args) -> None:
        command = [str(a) for a in args]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> OwnPostgres:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()
        self._run(PG_BIN / "createdb", "-h", "127.0.0.1", "-p", self.port, "-U", "postgres", self.database)
        return self

    def start(self) -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-w", "-l", self.dir / "log", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                  f"-c max_connections=200", "start")

    def stop(self, mode: str = "immediate") -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-w", "-m", mode, "stop")

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class OwnRedis:
    """A redis-server of our own. Without persistence (the default) a restart comes back empty;
    with `persistence=True` it keeps an append-only file in its own directory, like production."""

    def __init__(self, *, persistence: bool = False, port: int | None = None):
        self.port = port or free_port()
        self.persistence = persistence
        self.dir = Path(tempfile.mkdtemp(prefix="navaia-redis-"))
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10) -> OwnRedis:
        import redis

        binary = shutil.which("redis-server") or "redis-server"
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir), "--save", ""]
        args += ["--appendonly", "yes", "--appendfsync", "everysec"] if self.persistence else ["--appendonly", "no"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    client.ping()
                    return self
                except redis.RedisError:
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def app_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment our processes run with: this checkout on PYTHONPATH, its Node.js first on PATH."""
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "REFLEX_REDIS_URL": redis_url,
           "APP_ENV": "test", "PYTHONPATH": str(ROOT), "REFLEX_TELEMETRY_ENABLED": "false", "REFLEX_USE_NPM": "1",
           "PATH": f"{ROOT / '.tools/node_modules/.bin'}:{os.environ.get('PATH', '')}"}
    env.update(extra)
    return env


class _Process:
    """A child process in a session of its own, logging to a file; stop() is TERM, kill() is KILL."""

    name = "process"
    proc: subprocess.Popen | None = None

    def _spawn(self, args: list[str], env: dict[str, str]) -> None:
        self.log_path = Path(tempfile.mkstemp(prefix=f"navaia-{self.name}-", suffix=".log")[1])
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        _stop_group(self.proc)

    def kill(self) -> None:
        _stop_group(self.proc, signal.SIGKILL)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


class AppProcess(_Process):
    """The web backend as `reflex run --env prod` serves it (Granian, the app's ASGI factory), without
    building the page bundle: /api, the webhooks and Reflex's /_event websocket all answer on `port`.
    Several of these against one database and one Redis are what a scaled deployment runs."""

    name = "web"

    def __init__(self, database_url: str, redis_url: str, *, port: int | None = None, **extra: str):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # `extra` may override any of these (a production check sets an https PUBLIC_BASE_URL, APP_ENV=prod)
        env = app_env(database_url, redis_url, **{"BACKEND_PORT": str(self.port), "PUBLIC_BASE_URL": self.url,
                                                  "GRANIAN_LOG_LEVEL": "warning", "REFLEX_ENV_MODE": "prod",
                                                  "REFLEX_SKIP_COMPILE": "true", "REFLEX_BACKEND_ONLY": "true",
                                                  **extra})
        env.pop("PORT", None)
        self.env = env
        self.start()

    def start(self) -> None:
        self._spawn([sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", "127.0.0.1",
                     "--port", str(self.port), "--workers", "1", "--log-level", "warning",
                     "navaia_app.navaia_app:app"], self.env)

    def wait(self, timeout: float = 180) -> AppProcess:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"the app exited:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code in (200, 503):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the app did not answer within {timeout:.0f} s:\n{self.log_tail()}")


class WorkerProcess(_Process):
    """`python -m navaia_app.cli worker`: the RQ worker with its scheduler."""

    name = "worker"

    def __init__(self, database_url: str, redis_url: str, **extra: str):
        self.env = app_env(database_url, redis_url, **extra)
        self.start()

    def start(self) -> None:
        self._spawn([sys.executable, "-m", "navaia_app.cli", "worker"], self.env)
