"""A real server for real browsers: a fresh database, the demo seed, uvicorn in a subprocess.

pytest-django's live server cannot serve websockets, so the application runs exactly as in
production (`uvicorn codev.asgi:application`), on a free loopback port, against its own SQLite
file — or its own PostgreSQL database when the suite runs with DATABASE_URL=postgres://…
Every subprocess is killed and every database dropped by the fixtures' finalizers.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CODEV_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"


def pytest_collection_modifyitems(config, items):
    """Without Chromium the browser tests skip with a reason — unless CODEV_REQUIRE_BROWSER=1."""
    if os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return
    reason = f"Chromium not found at {CHROMIUM} (apt install chromium, or set CODEV_CHROMIUM)"
    if os.environ.get("CODEV_REQUIRE_BROWSER") == "1":
        return  # the `browser_executable` fixture fails loudly instead
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser_executable() -> str:
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"CODEV_REQUIRE_BROWSER=1 but Chromium is missing at {CHROMIUM}")
    try:
        import playwright  # noqa: F401
    except ImportError:
        message = "the playwright Python package is missing: .venv/bin/pip install -e '.[test]'"
        if os.environ.get("CODEV_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    base_url: str
    workshop: int
    links: dict  # username -> {"username", "name", "role", "url"}
    env: dict
    database_url: str
    log_path: Path
    stop: Callable[[], None]  # a server restart: stop(), then start() on the same port
    start: Callable[[], None]

    def room_url(self) -> str:
        return f"{self.base_url}/workshops/{self.workshop}/"

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def decrypt(self, stored: str) -> str:
        """A value of an encrypted column, as the server would read it; fails on plain text."""
        from cryptography.fernet import Fernet, MultiFernet

        keys = self.env.get("CODEV_ENCRYPTION_KEYS") or (Path(self.env["CODEV_VAR_DIR"]) / "encryption_key").read_text()
        fernet = MultiFernet([Fernet(key.strip().encode()) for key in keys.split(",") if key.strip()])
        assert stored.startswith("fernet:"), f"stored in clear: {stored!r}"
        return fernet.decrypt(stored.removeprefix("fernet:").encode()).decode()

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read the server's database directly; write parameters as %s (turned into ? for SQLite)."""
        if self.database_url.startswith("sqlite:"):
            import sqlite3

            path = urlsplit(self.database_url).path
            with sqlite3.connect(path, timeout=20) as con:
                return con.execute(sql.replace("%s", "?"), params).fetchall()
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as con:
            return con.execute(sql, params).fetchall()


class _PostgresDatabase:
    """A dedicated PostgreSQL database for the server under test, dropped at the end."""

    def __init__(self, url: str):
        import psycopg

        self.psycopg = psycopg
        parts = urlsplit(url)
        self.name = f"codev_browser_{os.getpid()}"
        # Administrative connection: the suite's database if it exists, else the `postgres` one.
        self.admin_urls = [url, urlunsplit(parts._replace(path="/postgres"))]
        self.url = urlunsplit(parts._replace(path="/" + self.name))

    def _admin(self):
        last = None
        for url in self.admin_urls:
            try:
                return self.psycopg.connect(url, autocommit=True, connect_timeout=5)
            except self.psycopg.OperationalError as error:
                last = error
        raise last

    def create(self) -> str:
        with self._admin() as con:
            con.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            con.execute(f'CREATE DATABASE "{self.name}"')
        return self.url

    def drop(self) -> None:
        with self._admin() as con:
            con.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _run(args: list[str], env: dict, timeout: float = 120) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _wait_until_up(url: str, process: subprocess.Popen, log_path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - our own http:// URL
                if answer.status < 500:
                    return
        except urllib.error.HTTPError as error:
            if error.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"uvicorn did not answer on {url} within {timeout} s:\n{log_path.read_text(errors='replace')}")


@pytest.fixture
def codev_server(tmp_path_factory, request) -> LiveServer:
    """A migrated, seeded database and uvicorn serving it; everything is torn down afterwards."""
    tmp = tmp_path_factory.mktemp("codev-browser")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    outer_url = os.environ.get("DATABASE_URL", "")

    if outer_url.startswith(("postgres://", "postgresql://")):
        database = _PostgresDatabase(outer_url)
        database_url = database.create()
        request.addfinalizer(database.drop)
    else:
        database_url = f"sqlite:///{tmp / 'db.sqlite3'}"

    env = {
        **os.environ,
        "CODEV_VAR_DIR": str(tmp),
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "codev.settings",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
    }
    for name in ("DEBUG", "SECURE_COOKIES", "CSRF_TRUSTED_ORIGINS", "STATIC_ROOT"):
        env.pop(name, None)  # the server under test runs with the defaults
    # REDIS_URL, when set, passes through: the channel layer is then Redis pub/sub.

    _run(["migrate", "--noinput", "-v0"], env)
    seeded = json.loads(_run(["seed_demo", "--json", "--base-url", base_url], env))

    log_path = tmp / "uvicorn.log"
    log = open(log_path, "wb")
    request.addfinalizer(log.close)
    running = {}

    def launch():
        running["process"] = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "codev.asgi:application", "--host", "127.0.0.1", "--port", str(port),
             "--no-access-log", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: nothing leaks into ours
        )
        _wait_until_up(f"{base_url}/login/", running["process"], log_path)

    def stop():
        _stop(running["process"])

    request.addfinalizer(lambda: _stop(running["process"]))
    launch()

    server = LiveServer(
        base_url=base_url,
        workshop=seeded["workshop"],
        links={link["username"]: link for link in seeded["links"]},
        env=env,
        database_url=database_url,
        log_path=log_path,
        stop=stop,
        start=launch,
    )
    yield server
    # Keep the server log next to the screenshots: the first place to look when a run fails.
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        shutil.copyfile(log_path, ARTIFACTS / "browser-server.log")
    except OSError:
        pass


@pytest.fixture
def screenshots_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        if not old.name.startswith(("cycle-", "a11y-", "guidance-")):  # test_cycle.py and a11y.py keep their own
            old.unlink()
    return SCREENSHOTS
