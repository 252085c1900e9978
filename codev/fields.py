"""Model fields whose content is encrypted in the database (see codev/crypto.py).

The database only sees ciphertext: it cannot filter, order or search these columns. A lookup on
them other than isnull or = "" raises FieldError instead of silently matching nothing; ordering
cannot be refused that way, so sort in Python (`sorted(..., key=lambda c: c.title.casefold())`).
An empty string stays empty: blank or not is all the database can tell about a text.
"""
import json
from collections.abc import Iterator

from django.core.exceptions import FieldError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import lookups

from codev import crypto


class BlankExact(lookups.Exact):
    """`field=""` (or None) only: an empty text is stored empty, any other value is a ciphertext
    that no equality can match, so asking for it is a programming error, not an empty result."""

    def get_prep_lookup(self):
        if self.rhs is not None and not (isinstance(self.rhs, str) and self.rhs == ""):
            raise FieldError(f"{self.lhs.output_field.name} is encrypted: only isnull and = \"\" can be looked up; compare in Python")
        return super().get_prep_lookup()


class _Opaque:
    """A ciphertext can only be told blank or null: every other lookup or transform is refused."""

    stores_blank_as_blank = True

    def get_lookup(self, lookup_name):
        if lookup_name == "exact" and self.stores_blank_as_blank:
            return BlankExact
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None

    def get_transform(self, name):
        return None


class EncryptedTextField(_Opaque, models.TextField):
    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        # Always encrypt what the program hands over, even text that looks like a token: someone
        # may type "fernet:…", and it must come back as typed.
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)


class EncryptedJSONField(_Opaque, models.TextField):
    """A JSON value stored as one encrypted text (event payloads carry what people wrote)."""

    description = "JSON encrypted at rest"
    stores_blank_as_blank = False  # every JSON value is encrypted, {} included: only isnull

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default", dict)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return json.loads(crypto.decrypt(value))

    def to_python(self, value):
        if isinstance(value, str):  # deserialisation (loaddata) and forms hand over JSON text
            return json.loads(crypto.decrypt(value))
        return value

    def get_prep_value(self, value):
        if value is None:
            return value
        return crypto.encrypt(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj), cls=DjangoJSONEncoder)


ENCRYPTED_FIELDS = (EncryptedTextField, EncryptedJSONField)


def encrypted_columns(model) -> list[str]:
    """The model's own encrypted columns (a child table in multi-table inheritance lists its own)."""
    if model._meta.proxy or not model._meta.managed:
        return []
    return [field.column for field in model._meta.local_concrete_fields if isinstance(field, ENCRYPTED_FIELDS)]


def stored_rows(connection, table: str, pk: str, columns: list[str], *, batch_size: int = 500) -> Iterator[list[tuple]]:
    """Batches of (pk, *stored values) in primary-key order. Raw SQL on purpose: the stored text,
    not what the field would turn it into."""
    quote = connection.ops.quote_name
    head = f"SELECT {quote(pk)}, {', '.join(quote(c) for c in columns)} FROM {quote(table)}"  # noqa: S608 (quoted names)
    first, following = f"{head} ORDER BY {quote(pk)} LIMIT %s", f"{head} WHERE {quote(pk)} > %s ORDER BY {quote(pk)} LIMIT %s"
    last = None
    while True:
        with connection.cursor() as cursor:
            cursor.execute(*((first, [batch_size]) if last is None else (following, [last, batch_size])))
            batch = cursor.fetchall()
        if batch:
            yield batch
        if len(batch) < batch_size:
            return
        last = batch[-1][0]


def rewrite_columns(connection, table: str, pk: str, columns: list[str], change, *, batch_size: int = 500) -> tuple[int, int]:
    """Store `change(value)` wherever it returns a new value (None: keep it); blank values stay.

    Each batch is written in one transaction, one UPDATE per row of only its changed columns,
    guarded by their old values: a row edited meanwhile by the application is left as the
    application wrote it (already under the current keys). Returns (rows updated, values changed).
    """
    quote = connection.ops.quote_name
    rows_updated = values_changed = 0
    for batch in stored_rows(connection, table, pk, columns, batch_size=batch_size):
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            for row_pk, *values in batch:
                changes = {}
                for column, value in zip(columns, values, strict=True):
                    new = None if value is None or value == "" else change(value)
                    if new is not None and new != value:
                        changes[column] = (value, new)
                if not changes:
                    continue
                sets = ", ".join(f"{quote(c)} = %s" for c in changes)
                guards = " AND ".join(f"{quote(c)} = %s" for c in changes)
                cursor.execute(
                    f"UPDATE {quote(table)} SET {sets} WHERE {quote(pk)} = %s AND {guards}",  # noqa: S608 (quoted names, bound values)
                    [*(new for _, new in changes.values()), row_pk, *(old for old, _ in changes.values())],
                )
                if cursor.rowcount:
                    rows_updated += 1
                    values_changed += len(changes)
    return rows_updated, values_changed
