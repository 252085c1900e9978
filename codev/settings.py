"""Codev settings: one module, configured by environment variables only."""
import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from codev.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CODEV_VAR_DIR", str(BASE_DIR / "var")))


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one kept in var/ so sessions survive restarts."""
    key = env_str("SECRET_KEY")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "channels",
    "accounts",
    "workshops",
    "privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "codev.security.content_security_policy",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "codev.urls"
ASGI_APPLICATION = "codev.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# SQLite (embedded default) or PostgreSQL through DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'codev.sqlite3'}"),
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN,
    # so two racing actions queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not shared-cache memory: only a file gives real locking between the threads of
    # racing actions (memory answers "table is locked" instead of waiting).
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-codev-{os.getpid()}.sqlite3")}
else:
    # One test database per test process, so parallel runs never share one.
    DATABASES["default"]["TEST"] = {"NAME": f"test_codev_{os.getpid()}"}
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3" and env_bool("DATABASE_POOL", False):
    # Each async ORM call may run on its own thread: a pool keeps connections bounded.
    DATABASES["default"]["OPTIONS"] = {
        "pool": {"min_size": 2, "max_size": env_int("DATABASE_POOL_SIZE", 20)}
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" or env_str("DATABASE_CONN_MAX_AGE"):
    # SQLite: keep the connection open. Channels runs a process's database calls on one thread, so
    # that is one connection; with CONN_MAX_AGE=0 every socket message, ping and snapshot opened and
    # closed one, and each close of the last connection also checkpointed the WAL
    # (docs/performance.md: 20 % of the server's time). PostgreSQL uses the pool (DATABASE_POOL=1),
    # or DATABASE_CONN_MAX_AGE=<seconds>. Unset on SQLite: for the process's life.
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 0) if env_str("DATABASE_CONN_MAX_AGE") else None
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # a connection the server dropped is replaced, not used

# HTTP pages run on this many threads per process, each keeping its connection (codev/pages.py).
CODEV_PAGE_THREADS = max(1, env_int("CODEV_PAGE_THREADS", 4))

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # The prefix keeps deployments (and test runs) sharing one Redis apart.
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env_str("REDIS_PREFIX", "codev")},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "codev.layers.SweptInMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SIGNIN_LINK_TIMEOUT = env_int("SIGNIN_LINK_TIMEOUT", 7 * 24 * 3600)
PASSWORD_RESET_TIMEOUT = SIGNIN_LINK_TIMEOUT  # what the sign-in token generator reads

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env_str("STATIC_ROOT") or None  # set for collectstatic in production
WHITENOISE_USE_FINDERS = True  # serve app static files without a collectstatic step

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Web hardening (docs/security.md, "Web hardening") ---------------------------------------
# Production sets CODEV_HTTPS=1 (the site is reached over https only): secure cookies, redirect to
# https, HSTS; `manage.py check --deploy` is then clean. Left off, plain http on 127.0.0.1 works
# for `make demo`. Each piece can also be set alone by its own variable.
CODEV_HTTPS = env_bool("CODEV_HTTPS", False)
# How many reverse proxies in front of Django append to X-Forwarded-For and set X-Forwarded-Proto.
# 0 when there is none, or when the ASGI server already resolves them (uvicorn --proxy-headers
# --forwarded-allow-ips, as in deploy/Procfile): REMOTE_ADDR and the scheme are then right already.
TRUSTED_PROXY = env_int("TRUSTED_PROXY", 0)
if TRUSTED_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", CODEV_HTTPS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if CODEV_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Preloading is a decision about the whole registrable domain (its apex must send the header and
# be submitted to the browsers' list), not about the one host Codev runs on: opt-in, not a warning.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"  # sign-in and invitation tokens are in URLs: never sent away
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"  # and CSP frame-ancestors 'none' (codev/security.py)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", CODEV_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if SESSION_COOKIE_SECURE:
    # Browsers keep a __Host- cookie only if it is secure, host-only and for the whole site: a
    # sibling subdomain can neither plant nor overwrite it.
    SESSION_COOKIE_NAME = "__Host-codev_session"
    CSRF_COOKIE_NAME = "__Host-codev_csrftoken"

# Argon2 first: new passwords are hashed with it, and older hashes (PBKDF2…) still verify and are
# re-hashed with Argon2 at their owner's next sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# The cache holds the throttle's counters (codev/throttle.py). Several workers must share them:
# Redis with REDIS_URL, as for events. Without Redis, Codev runs as one process (the in-memory
# channel layer already requires it), so that process's memory counts exactly, needs no table
# (DatabaseCache would need createcachetable) and adds no write to SQLite, whose single writer
# serves the rooms. A restart forgets the counts: at most LIMIT more tries per restart.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("REDIS_PREFIX", "codev"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "codev"}}

# Limits that protect the room: free text and websocket frames.
CODEV_MAX_TEXT = 5000
CODEV_MAX_MESSAGE_BYTES = 64 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# E-mail (invitations, notices): printed on the console unless an SMTP server is configured.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)  # seconds: a silent server must not hang a page
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Codev <codev@localhost>")

# Where the site is reached from outside: links in e-mails sent without a request (reminders).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

# Encryption of what participants write (codev/crypto.py): comma-separated Fernet keys, newest first.
CODEV_ENCRYPTION_KEYS = env_list("CODEV_ENCRYPTION_KEYS", [])

# Retention (privacy/retention.py): content of ended workshops is purged after this many months
# (`manage.py purge_expired`, daily from cron); a group's facilitator may set 1 to 120 for his group.
CODEV_RETENTION_MONTHS = env_int("CODEV_RETENTION_MONTHS", 12)
