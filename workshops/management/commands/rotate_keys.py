"""Re-encrypt every encrypted column under the first key of CODEV_ENCRYPTION_KEYS.

Rotation: put the new key first (`CODEV_ENCRYPTION_KEYS=new,old`), restart the application, run
`manage.py rotate_keys`, check with `manage.py rotate_keys --check`, then remove the old key.
Columns are found by field class in every installed model, so new encrypted fields are covered.
Safe to interrupt and run again: what is already under the first key is left as it is.
"""
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from codev import crypto
from codev.fields import encrypted_columns, rewrite_columns, stored_rows


def encrypted_tables():
    """(label, table, pk column, encrypted columns) for every model that has some."""
    for model in apps.get_models():
        columns = encrypted_columns(model)
        if columns:
            yield model._meta.label, model._meta.db_table, model._meta.pk.column, columns


class Command(BaseCommand):
    help = "Re-encrypt every encrypted value with the first key of CODEV_ENCRYPTION_KEYS (--check: only count)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="only report how many values are not under the first key; exit 1 if any")
        parser.add_argument("--batch-size", type=int, default=500, help="rows read per transaction (default 500)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, check=False, batch_size=500, database=DEFAULT_DB_ALIAS, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        crypto.reset()  # the keys as configured now
        connection = connections[database]
        total = 0
        for label, table, pk, columns in encrypted_tables():
            if check:
                stale = self._count_stale(connection, table, pk, columns, batch_size)
                total += stale
                self.stdout.write(f"{label}: {stale} value(s) not under the first key")
            else:
                rows, values = rewrite_columns(connection, table, pk, columns, _to_first_key, batch_size=batch_size)
                total += values
                self.stdout.write(f"{label}: {values} value(s) re-encrypted in {rows} row(s)")
        if check and total:
            raise CommandError(f"{total} value(s) are not under the first key: run manage.py rotate_keys")
        if not check:
            self.stdout.write(self.style.SUCCESS(f"Done: {total} value(s) re-encrypted; every value is under the first key."))

    @staticmethod
    def _count_stale(connection, table, pk, columns, batch_size) -> int:
        stale = 0
        for batch in stored_rows(connection, table, pk, columns, batch_size=batch_size):
            for _, *values in batch:
                for value in values:
                    if value is None or value == "" or crypto.under_first_key(value):
                        continue
                    if crypto.is_encrypted(value) and not crypto.readable(value):
                        raise CommandError(f"{table}: a value cannot be decrypted with any key of CODEV_ENCRYPTION_KEYS")
                    stale += 1
        return stale


def _to_first_key(value: str) -> str | None:
    """None when the value is already under the first key; else the same text under it."""
    return None if crypto.under_first_key(value) else crypto.rotate(value)
