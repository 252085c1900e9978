"""Codev's settings plus a change to measure before adopting it (`python -m bench --settings
bench.tuned_settings`). Not for production.

Its first use, persistent database connections, is now Codev's default (codev/settings.py;
docs/performance.md, change 1): this module adds nothing today and stays as the place to try the
next settings change. To measure without persistent connections: `DATABASE_CONN_MAX_AGE=0
python -m bench …` (the server inherits the environment).
"""
from codev.settings import *  # noqa: F403
