"""Codev's settings plus the changes docs/performance.md proposes, to measure them before the
lead applies them (`python -m bench --settings bench.tuned_settings`). Not for production.

- Persistent database connections. With CONN_MAX_AGE=0, every database call of a socket (each
  message, ping, snapshot) opens a connection and closes it; on SQLite in WAL mode, closing the
  last connection checkpoints the WAL, so the server pays a connect, a checkpoint and a close per
  call. Channels runs the consumers' database calls on one thread per process, so one kept
  connection is enough. (With DATABASE_POOL on PostgreSQL, the pool already keeps them.)
"""
from codev.settings import *  # noqa: F403
from codev.settings import DATABASES

if "pool" not in DATABASES["default"].get("OPTIONS", {}):
    DATABASES["default"]["CONN_MAX_AGE"] = None
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
