"""The servers a bench run starts, each on its own throwaway state, and what they cost.

- Codev: N uvicorn processes on free loopback ports, on a temp SQLite file (one process, the
  in-memory channel layer) or a PostgreSQL database created for this run (codev_bench_<pid>,
  dropped at the end) with Redis pub/sub under a prefix of its own.
- The baseline: bench.baseline, one process.
"""
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{tail(log)}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not listen on {port} within {timeout} s:\n{tail(log)}")


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


class PostgresDatabase:
    """codev_bench_<pid>: created for this run, dropped with FORCE at its end."""

    def __init__(self, url: str, name: str | None = None):
        parts = urlsplit(url)
        self.name = name or f"codev_bench_{os.getpid()}"
        self.admin_urls = [url, urlunsplit(parts._replace(path="/postgres"))]
        self.url = urlunsplit(parts._replace(path="/" + self.name))

    def _admin(self):
        import psycopg

        last = None
        for url in self.admin_urls:
            try:
                return psycopg.connect(url, autocommit=True, connect_timeout=5)
            except psycopg.OperationalError as error:
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


class CodevServer:
    def __init__(self, *, workers: int = 1, postgres: str | None = None, redis: str | None = None,
                 deflate: bool = False, pool_size: int = 20, database_name: str | None = None,
                 settings: str = "codev.settings"):
        if workers > 1 and not redis:
            raise SystemExit("--workers above 1 needs --redis: the in-memory channel layer lives in one process")
        self.workers, self.postgres_admin, self.redis = workers, postgres, redis
        self.tmp = Path(tempfile.mkdtemp(prefix="codev-bench-"))
        self.database = PostgresDatabase(postgres, database_name) if postgres else None
        self.processes: list[subprocess.Popen] = []
        self.ports: list[int] = []
        self.logs: list[Path] = []
        self.deflate = deflate
        self.env = {
            **os.environ,
            "CODEV_VAR_DIR": str(self.tmp),
            "DJANGO_SETTINGS_MODULE": settings,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        for name in ("DEBUG", "REDIS_URL", "DATABASE_POOL", "CSRF_TRUSTED_ORIGINS", "STATIC_ROOT"):
            self.env.pop(name, None)
        if redis:
            self.env["REDIS_URL"] = redis
            self.env["REDIS_PREFIX"] = f"codev-bench-{os.getpid()}-{secrets.token_hex(4)}"
        if postgres:
            self.env["DATABASE_POOL"] = "1"
            self.env["DATABASE_POOL_SIZE"] = str(pool_size)

    @property
    def layout(self) -> str:
        db = "PostgreSQL" if self.database else "SQLite"
        layer = "Redis pub/sub" if self.redis else "in-memory layer"
        return f"{self.workers} worker{'s' if self.workers > 1 else ''}, {db}, {layer}"

    def manage(self, *args: str, timeout: float = 600) -> str:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        return done.stdout

    def prepare(self, workshops: int) -> dict:
        """A fresh database, migrated and seeded with K workshops of 8."""
        if self.database:
            self.env["DATABASE_URL"] = self.database.create()
        else:
            self.env["DATABASE_URL"] = f"sqlite:///{self.tmp / 'bench.sqlite3'}"
        self.manage("migrate", "--noinput", "-v0")
        return json.loads(self.manage("seed_bench", "--workshops", str(workshops)))

    def start(self) -> None:
        for i in range(self.workers):
            port = self.ports[i] if i < len(self.ports) else free_port()
            log = self.tmp / f"uvicorn-{i}.log"
            args = [sys.executable, "-m", "uvicorn", "codev.asgi:application", "--host", "127.0.0.1", "--port", str(port),
                    "--no-access-log", "--log-level", "warning", "--backlog", "4096"]
            if not self.deflate:
                args.append("--ws-per-message-deflate=false")
            process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                                       start_new_session=True)
            if i < len(self.ports):
                self.processes[i] = process
            else:
                self.ports.append(port)
                self.logs.append(log)
                self.processes.append(process)
        for port, process, log in zip(self.ports, self.processes, self.logs, strict=True):
            wait_port(port, process, log)

    def stop(self) -> None:
        for process in self.processes:
            stop(process)

    def urls(self) -> list[str]:
        return [f"ws://127.0.0.1:{port}" for port in self.ports]

    def http(self) -> str:
        return f"http://127.0.0.1:{self.ports[0]}"

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.poll() is None]

    def errors_logged(self) -> str:
        return "\n".join(tail(log, 20) for log in self.logs if log.exists() and log.stat().st_size)

    def cleanup(self) -> None:
        self.stop()
        try:
            if self.database:
                self.database.drop()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


class BaselineServer:
    def __init__(self, deflate: bool = False):
        self.tmp = Path(tempfile.mkdtemp(prefix="codev-baseline-"))
        self.port = free_port()
        self.deflate = deflate
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = self.tmp / "baseline.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.baseline", "--port", str(self.port), "--compression", "deflate" if self.deflate else "none"],
            cwd=ROOT, stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_port(self.port, self.process, log)

    def urls(self) -> list[str]:
        return [f"ws://127.0.0.1:{self.port}"]

    def pids(self) -> list[int]:
        return [self.process.pid] if self.process and self.process.poll() is None else []

    def cleanup(self) -> None:
        if self.process:
            stop(self.process)
        shutil.rmtree(self.tmp, ignore_errors=True)


class Meter:
    """CPU seconds and resident memory of the server processes, sampled in a thread."""

    def __init__(self, pids_of, helpers: bool = False):
        import psutil

        self.psutil = psutil
        self.pids_of = pids_of
        self.helpers = helpers  # also PostgreSQL and Redis, whose CPU the scaled layout spends
        self.peak_rss = 0
        self.last_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _procs(self):
        procs = []
        for pid in self.pids_of():
            try:
                procs.append(self.psutil.Process(pid))
            except self.psutil.NoSuchProcess:
                continue
        return procs

    def rss(self) -> int:
        total = 0
        for p in self._procs():
            try:
                total += p.memory_info().rss
            except self.psutil.Error:
                continue
        return total

    def cpu(self) -> float:
        total = 0.0
        for p in self._procs():
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except self.psutil.Error:
                continue
        return total

    def helper_cpu(self) -> float:
        """PostgreSQL (postmaster, its backends, and the reaped ones) and redis-server."""
        if not self.helpers:
            return 0.0
        total = 0.0
        for p in self.psutil.process_iter(["name"]):
            name = p.info["name"] or ""
            if name.startswith(("postgres", "redis-server")):
                try:
                    t = p.cpu_times()
                    total += t.user + t.system
                    if name.startswith("postgres"):
                        total += t.children_user + t.children_system
                except self.psutil.Error:
                    continue
        return total

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            self.last_rss = self.rss()
            self.peak_rss = max(self.peak_rss, self.last_rss)

    def start(self) -> None:
        self.peak_rss = self.rss()
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
