"""Content at rest: what participants write is stored as Fernet tokens (AES-128-CBC + HMAC-SHA256).

Keys come from CODEV_ENCRYPTION_KEYS (comma-separated Fernet keys, the first one encrypts, all of
them decrypt: rotation = put a new key first, run `manage.py rotate_keys`, then drop the old one).
Without it, a key is generated into var/encryption_key so the demo and the tests run; production
sets the variable (`manage.py check --deploy` warns otherwise).

A value that cannot be decrypted raises ImproperlyConfigured: a missing key must stop the page,
never show garbage or an empty text that someone might then save over the real one.
"""
import os
import secrets
from functools import cache, lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

PREFIX = "fernet:"  # marks an encrypted value; anything else is legacy plain text (before migration 0004)


def key_file() -> Path:
    return Path(settings.VAR_DIR) / "encryption_key"


def _generated_key() -> str:
    """The development key, created once. Written aside then linked into place, so two processes
    starting together (tests, workers) end up with the same key, and it is never world-readable."""
    path = key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(Fernet.generate_key().decode())
        try:
            os.link(draft, path)  # fails if another process was first: its key wins
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def configured_keys() -> list[str]:
    """CODEV_ENCRYPTION_KEYS, newest first; a comma-separated string is accepted too."""
    raw = settings.CODEV_ENCRYPTION_KEYS or []
    if isinstance(raw, str):
        raw = raw.split(",")
    return [key.strip() for key in raw if key.strip()]


def _keys() -> list[str]:
    return configured_keys() or [_generated_key()]


def _fernet_of(key: str) -> Fernet:
    try:
        return Fernet(key.encode())
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured("CODEV_ENCRYPTION_KEYS: each key must be a url-safe base64 Fernet key") from error


@cache
def _fernets() -> tuple[MultiFernet, Fernet]:
    fernets = [_fernet_of(key) for key in _keys()]
    return MultiFernet(fernets), fernets[0]


def reset() -> None:
    """Forget the cached keys (tests, and rotate_keys after the settings changed)."""
    _fernets.cache_clear()
    _plain.cache_clear()


@receiver(setting_changed)
def _settings_changed(*, setting, **kwargs) -> None:
    if setting in ("CODEV_ENCRYPTION_KEYS", "VAR_DIR"):
        reset()


def _token(value: str) -> bytes:
    try:
        return value[len(PREFIX):].encode("ascii")
    except UnicodeEncodeError as error:
        raise ImproperlyConfigured("A stored value marked as encrypted is not a Fernet token") from error


def encrypt(text: str) -> str:
    return PREFIX + _fernets()[0].encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(value: str) -> str:
    if not value.startswith(PREFIX):
        return value  # legacy plain text: readable, and encrypted at its next save or rotation
    return _plain(value)


# A live room is read again at every snapshot and page: the same few hundred texts each time, and
# Fernet (HMAC + AES) was a fifth of a room page with 300 contributions. A token always decrypts to
# the same text, so the latest ones are remembered. This keeps nothing a memory reader could not
# get anyway (the keys are in the same process); a reset (new keys) forgets them.
@lru_cache(maxsize=8192)
def _plain(value: str) -> str:
    try:
        return _fernets()[0].decrypt(_token(value)).decode("utf-8")
    except InvalidToken as error:
        raise ImproperlyConfigured("A stored value cannot be decrypted with CODEV_ENCRYPTION_KEYS: a key is missing") from error


def is_encrypted(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def under_first_key(value: str) -> bool:
    """Whether a stored value is already encrypted with the first key (nothing to rotate)."""
    if not is_encrypted(value):
        return False
    try:
        _fernets()[1].decrypt(_token(value))
    except (InvalidToken, ImproperlyConfigured):
        return False
    return True


def readable(value: str) -> bool:
    """Whether a stored value marked as encrypted decrypts with one of the keys."""
    try:
        decrypt(value)
    except ImproperlyConfigured:
        return False
    return True


def rotate(value: str) -> str:
    """The same plain text under the first key (plain legacy values get encrypted)."""
    if not is_encrypted(value):
        return encrypt(value)
    try:
        return PREFIX + _fernets()[0].rotate(_token(value)).decode("ascii")
    except InvalidToken as error:
        raise ImproperlyConfigured("A stored value cannot be decrypted with CODEV_ENCRYPTION_KEYS: a key is missing") from error
