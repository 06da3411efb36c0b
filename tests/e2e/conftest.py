"""Browser tests: the production build of the app in a subprocess, driven by Playwright in Debian's Chromium."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

# A shared 2-core machine builds and serves the app while tests run: give assertions room.
expect.set_options(timeout=15_000)

ROOT = Path(__file__).resolve().parents[2]
E2E_WEBHOOK_SECRET = "e2e-webhook-secret"
E2E_TOOLS_SECRET = "e2e-tools-secret"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chromium() -> str:
    for path in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if path and Path(path).exists():
            return path
    pytest.fail("Chromium is not installed: run `make test` (it installs it) or set CHROMIUM_PATH")


@pytest.fixture(scope="session")
def e2e_database(tmp_path_factory):
    """A fresh database for the running app: PostgreSQL when DATABASE_URL points at one, else SQLite."""
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith("postgresql"):
        import sqlalchemy as sa

        name = f"navaia_e2e_{uuid.uuid4().hex[:10]}"
        admin_url = sa.engine.make_url(base).set(database="postgres")
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'navaia.db'}"


@pytest.fixture(scope="session")
def build_lock():
    """One Reflex build at a time in this checkout (it compiles into ./.web)."""
    import fcntl

    with open(ROOT / ".web-build.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
        fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def e2e_redis_url():
    """A redis-server of this run's own, so its jobs never meet another run's worker."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9")
        return
    port = _free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        if time.monotonic() > deadline:
            pytest.fail("the e2e redis-server did not start")
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def fake_elevenlabs():
    """The stand-in for ElevenLabs (tests/e2e/fake_elevenlabs.py) that the app's voice agent talks to."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("fake_elevenlabs.py")), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail("the ElevenLabs stand-in did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def app_log(tmp_path_factory) -> Path:
    """Where the running app writes its output (every test fails on a backend error written there)."""
    return tmp_path_factory.mktemp("e2e-log") / "app.log"


# What a backend exception or an error-level event looks like in the app's output (console or JSON logs).
SERVER_ERROR = re.compile(r"Traceback \(most recent call last\)|\[(error|critical)\s*\]|\"level\": ?\"(error|critical)\""
                          r"|Exception in ASGI application|Unhandled exception", re.I)
# Reflex's toast for an exception in an event handler (and our own wording for the unforeseen).
ERROR_TOAST = "An error occurred|Contact the website administrator|Something went wrong"


def server_errors(text: str) -> list[str]:
    """The lines of the app's output that say something broke (with the line after, for context)."""
    lines = text.splitlines()
    return [" | ".join(lines[i:i + 2]) for i, line in enumerate(lines) if SERVER_ERROR.search(line)]


@pytest.fixture(autouse=True)
def no_backend_errors(request):
    """Every browser test fails when the app logged an exception or an error while it ran.

    A test that provokes one on purpose says so: @pytest.mark.server_errors(r"regex of the expected lines")."""
    if "live_app" not in request.fixturenames:
        yield
        return
    path: Path = request.getfixturevalue("app_log")
    request.getfixturevalue("live_app")
    start = path.stat().st_size if path.exists() else 0
    yield
    time.sleep(0.5)  # the last events' log lines
    with open(path, encoding="utf-8", errors="replace") as handle:
        handle.seek(start)
        found = server_errors(handle.read())
    marker = request.node.get_closest_marker("server_errors")
    if marker is not None:
        expected = re.compile(marker.args[0])
        found = [line for line in found if not expected.search(line)]
    if found:
        pytest.fail("the app logged errors during this test:\n" + "\n".join(found[:20]), pytrace=False)


@pytest.fixture(scope="session")
def app_clock(tmp_path_factory) -> Path:
    """The TEST_CLOCK_FILE of the app and its workers (core.types.utcnow): seconds to add to the real clock.
    No file: the real time. A test that moves the clock removes the file when it is done."""
    return tmp_path_factory.mktemp("clock") / "offset"


@pytest.fixture(scope="session")
def live_app(build_lock, e2e_database, e2e_redis_url, fake_elevenlabs, app_log, app_clock, tmp_path_factory):
    """Start `reflex run --env prod` on a free port against the fresh database; stop it afterwards."""
    port = _free_port()
    base_url = f"http://localhost:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": e2e_database,
        "APP_ENV": "test",
        "TEST_CLOCK_FILE": str(app_clock),
        "PORT": str(port),
        "PUBLIC_BASE_URL": base_url,
        "ALLOWED_ORIGINS": base_url,
        "ALLOW_SIGNUP": "false",
        # Call automation: webhook and tools secrets, recordings, and a Redis database for the e2e jobs only.
        "ELEVENLABS_WEBHOOK_SECRET": E2E_WEBHOOK_SECRET,
        "AGENT_TOOLS_SECRET": E2E_TOOLS_SECRET,
        "MEDIA_DIR": str(tmp_path_factory.mktemp("media")),
        "REDIS_URL": e2e_redis_url,
        "ELEVENLABS_API_BASE_URL": fake_elevenlabs,
        "ELEVENLABS_AGENT_ID": "agent_e2e",
        "ELEVENLABS_API_KEY": "e2e-api-key",
        "REFLEX_USE_NPM": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "PATH": f"{ROOT / '.tools/node_modules/.bin'}:{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
    }
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    log_path = app_log
    log = open(log_path, "w")
    reflex = shutil.which("reflex", path=str(Path(sys.executable).parent)) or "reflex"
    proc = subprocess.Popen([reflex, "run", "--env", "prod", "--loglevel", "info"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 420
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the app exited early:\n{log_path.read_text()[-4000:]}")
            try:
                if httpx.get(f"{base_url}/api/health", timeout=2).status_code == 200 and \
                        httpx.get(f"{base_url}/login", timeout=5, follow_redirects=True).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the app did not answer within 420 s:\n{log_path.read_text()[-4000:]}")
            time.sleep(1)
        yield base_url
    finally:
        stop_group(proc)
        log.close()


def stop_group(proc: subprocess.Popen) -> None:
    """Stop a process started in a session of its own, and its children (SIGTERM, then SIGKILL)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def start_worker(live_app: str, database: str, redis_url: str, log_path: Path, **env: str) -> subprocess.Popen:
    """`python -m navaia_app.cli worker` against the running app's database and Redis, the simulated carrier
    20 times faster than life and no post-call events; `env` adds to that. Stop it with stop_group."""
    env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": redis_url, "APP_ENV": "test",
           "PUBLIC_BASE_URL": live_app, "ELEVENLABS_WEBHOOK_SECRET": "",
           "TELEPHONY_PROVIDER": "simulated", "SIMULATED_TIME_SCALE": "0.05", "PYTHONPATH": str(ROOT), **env}
    with open(log_path, "w") as log:
        return subprocess.Popen([sys.executable, "-m", "navaia_app.cli", "worker"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


@pytest.fixture(scope="module")
def e2e_worker(live_app, e2e_database, e2e_redis_url, tmp_path_factory):
    """A worker (start_worker) for one test module; its simulated carrier sends no post-call events (the
    bookings they make would take the slots other browser tests book; tests/telephony covers that path)."""
    proc = start_worker(live_app, e2e_database, e2e_redis_url, tmp_path_factory.mktemp("e2e-worker") / "worker.log")
    yield proc
    stop_group(proc)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


# Reports every error toast that says something broke, the moment it appears (toasts vanish after a while).
_WATCH_TOASTS = """(() => {
  const pattern = new RegExp(%r, "i");
  const reported = new WeakSet();
  const check = () => {
    for (const toast of document.querySelectorAll("[data-sonner-toast]")) {
      const text = toast.innerText || "";
      if (!reported.has(toast) && pattern.test(text)) { reported.add(toast); window.navaiaErrorToast(text); }
    }
  };
  new MutationObserver(check).observe(document, {childList: true, subtree: true, characterData: true});
})();""" % ERROR_TOAST


def watch_error_toasts(context) -> list[str]:
    """The texts of the error toasts any page of `context` shows from now on."""
    seen: list[str] = []
    context.expose_function("navaiaErrorToast", lambda text: seen.append(" ".join(str(text).split())))
    context.add_init_script(_WATCH_TOASTS)
    return seen


@pytest.fixture
def new_context(browser, live_app):
    """new_context(**options) -> a browser context (a person's own browser) whose tabs fail the test on an
    error toast."""
    made: list[tuple[object, list[str]]] = []

    def _new(**options):
        context = browser.new_context(**{"base_url": live_app, "viewport": {"width": 1280, "height": 800}, **options})
        context.set_default_timeout(20_000)
        made.append((context, watch_error_toasts(context)))
        return context

    yield _new
    toasts = [text for _, seen in made for text in seen]
    for context, _ in made:
        context.close()
    fail_on_error_toasts(toasts)


def fail_on_error_toasts(toasts: list[str]) -> None:
    if toasts:
        pytest.fail("the page showed an error toast: " + "; ".join(toasts[:5]), pytrace=False)


@pytest.fixture
def page(new_context):
    return new_context().new_page()


# The browser tests share one app and one database (session-scoped). The first-user sign-up in
# test_auth_and_customers.py needs that database empty, and other files create their admin with the CLI,
# so that file runs first whatever the file names sort to.
FIRST_FILE = "test_auth_and_customers.py"


def pytest_collection_modifyitems(config, items):
    e2e = [i for i, item in enumerate(items) if item.path.parent.name == "e2e"]
    if not e2e:
        return
    block = [items[i] for i in e2e]
    block.sort(key=lambda item: item.path.name != FIRST_FILE)  # stable: every other order is kept
    for i, item in zip(e2e, block):
        items[i] = item
