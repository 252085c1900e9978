"""System checks for the encryption of content at rest (codev/crypto.py)."""
from cryptography.fernet import Fernet
from django.core.checks import Error, Warning

from codev import crypto


def encryption_keys_valid(app_configs=None, **kwargs) -> list:
    """Every run: a malformed key would only fail at the first page that reads content."""
    errors = []
    for position, key in enumerate(crypto.configured_keys(), start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            errors.append(Error(
                f"CODEV_ENCRYPTION_KEYS: key number {position} is not a Fernet key (32 url-safe base64-encoded bytes).",
                hint="Generate one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'",
                id="codev.E001",
            ))
    return errors


def encryption_keys_set(app_configs=None, **kwargs) -> list:
    """Deploy: the key generated into var/ sits next to the database, in the same backups."""
    if crypto.configured_keys():
        return []
    return [Warning(
        "CODEV_ENCRYPTION_KEYS is not set: content is encrypted with a key generated into "
        f"{crypto.key_file()}, which is fit for development only.",
        hint="Set CODEV_ENCRYPTION_KEYS in the environment and keep the key outside the database's backups "
             "(if var/encryption_key was already used, list it after the new key and run manage.py rotate_keys).",
        id="codev.W001",
    )]


def generated_key_not_forgotten(app_configs=None, **kwargs) -> list:
    """Every run: switching from the generated key to CODEV_ENCRYPTION_KEYS without listing it
    would make everything written so far unreadable."""
    keys = crypto.configured_keys()
    path = crypto.key_file()
    if not keys or not path.exists() or path.read_text().strip() in keys:
        return []
    return [Warning(
        f"CODEV_ENCRYPTION_KEYS does not include the key generated into {path}: content encrypted "
        "with it cannot be read.",
        hint="If this database was used with that key, append it to CODEV_ENCRYPTION_KEYS, run "
             "manage.py rotate_keys, then remove it; otherwise delete the file.",
        id="codev.W002",
    )]
