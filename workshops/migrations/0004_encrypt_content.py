"""Encrypt what people wrote (issue 4, content at rest).

Text columns keep their SQL type (text): only the model state changes for them. Case.title
(varchar 200) and Event.payload (json) become text, since a Fernet token is neither short nor JSON.
Then existing rows are encrypted in batches with the current CODEV_ENCRYPTION_KEYS (or the
generated development key); running it again skips what is already encrypted. Backwards, values
are decrypted before the columns get their old types back.

Run it with the server stopped. The old plain text may survive outside the live rows: PostgreSQL's
dead row versions until `VACUUM FULL`, SQLite free pages until `VACUUM` (zeroed here while it
runs), and every backup taken before (see docs/security.md, "Content at rest").
"""
from django.db import migrations

import codev.fields
from codev import crypto
from codev.fields import rewrite_columns

# Frozen here (not discovered): what this migration encrypts must not change with later models.
CONTENT = {
    "Case": ["title", "summary", "stakes", "context", "problem", "tried", "expectations"],
    "Workshop": ["request"],
    "Contribution": ["body", "answer"],
    "PrivateNote": ["body"],
    "PlannedAction": ["what", "first_step", "success_sign", "followup_comment"],
    "Learning": ["body"],
    "Evaluation": ["comment"],
    "JournalEntry": ["body"],
    "Event": ["payload"],
}
BLANK = {"summary", "stakes", "context", "problem", "tried", "expectations", "request", "answer",
         "first_step", "success_sign", "followup_comment", "comment"}
VERBOSE = {"title": "title", "summary": "short description", "stakes": "stakes", "context": "context",
           "problem": "problem", "tried": "what I tried", "expectations": "what I expect"}


def _text_field(name):
    kwargs = {"blank": True} if name in BLANK else {}
    if name in VERBOSE:
        kwargs["verbose_name"] = VERBOSE[name]
    return codev.fields.EncryptedTextField(**kwargs)


def _seal(value):
    """Encrypt a plain value; leave one that already decrypts (a second run, or a row written
    by the new code meanwhile). Plain text that merely starts like a token gets encrypted too."""
    if crypto.is_encrypted(value) and crypto.readable(value):
        return None
    return crypto.encrypt(value)


def _open(value):
    return crypto.decrypt(value) if crypto.is_encrypted(value) else None


def _secure_delete(on):
    """SQLite: zero what gets freed (the plain text of rebuilt tables and of updated cells)
    instead of leaving it in free pages of the file."""
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(f"PRAGMA secure_delete = {'ON' if on else 'OFF'}")
    return run


def _walk(change):
    def run(apps, schema_editor):
        crypto.reset()  # the keys as configured for this run of migrate
        for model_name, columns in CONTENT.items():
            model = apps.get_model("workshops", model_name)
            rewrite_columns(schema_editor.connection, model._meta.db_table, model._meta.pk.column,
                            [model._meta.get_field(name).column for name in columns], change)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("workshops", "0003_contribution_flag"),
    ]

    operations = [
        migrations.RunPython(_secure_delete(True), _secure_delete(False), elidable=False),
        # Same SQL type (text): the state changes, the table stays (SQLite would rebuild it for nothing).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name=model.lower(), name=name, field=_text_field(name))
                for model, names in CONTENT.items()
                for name in names
                if (model, name) not in {("Case", "title"), ("Event", "payload")}
            ],
        ),
        migrations.AlterField(model_name="case", name="title", field=_text_field("title")),
        migrations.AlterField(model_name="event", name="payload", field=codev.fields.EncryptedJSONField(default=dict)),
        migrations.RunPython(_walk(_seal), _walk(_open), elidable=False),
        migrations.RunPython(_secure_delete(False), _secure_delete(True), elidable=False),
    ]
