"""Content at rest: what people write never reaches the database file in clear, keys rotate, and a
missing key stops the reading instead of showing garbage."""
import importlib
import io
import json
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core import checks
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from codev import crypto
from codev.fields import encrypted_columns, rewrite_columns
from workshops import actions, events, followup, journal, pool, room, sessions
from workshops.models import Case, Contribution, Event, JournalEntry, PlannedAction, Workshop
from workshops.steps import Step

BEFORE = ("workshops", "0003_contribution_flag")
migration_0004 = importlib.import_module("workshops.migrations.0004_encrypt_content")


@pytest.fixture(autouse=True)
def _fresh_keys():
    crypto.reset()
    yield
    crypto.reset()  # the settings fixture restores the keys; nothing cached may outlive the test


def new_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def keys(settings) -> SimpleNamespace:
    """Three fresh keys, the first one in use; request it before `cast`, which writes a case."""
    ring = SimpleNamespace(a=new_key(), b=new_key(), c=new_key())
    use_keys(settings, ring.a)
    return ring


def use_keys(settings, *keys):
    settings.CODEV_ENCRYPTION_KEYS = list(keys)
    crypto.reset()


def write_everything(cast, mark: str) -> dict[str, str]:
    """Every kind of text a member writes, through the domain actions; returns what was written."""
    texts = {what: f"{mark}-{what}-{uuid.uuid4().hex[:8]}" for what in (
        "pool-title", "summary", "stakes", "title", "context", "problem", "tried", "expectations", "note",
        "question", "answer", "back-reason", "request", "contribution", "what", "first-step", "success-sign",
        "learning", "evaluation", "journal", "followup",
    )}
    w = cast.workshop.pk
    pool.submit_case(cast.group.pk, title=texts["pool-title"], summary=texts["summary"], stakes=texts["stakes"], acting_user=cast.sophie)
    cast.at_step(Step.EXPOSE)
    case_fields = {name: texts[name] for name in ("title", "context", "problem", "tried", "expectations")}
    actions.edit_case(w, fields=case_fields, acting_user=cast.marc)
    actions.write_note(w, cid=uuid.uuid4(), body=texts["note"], acting_user=cast.sophie)
    cast.at_step(Step.CLARIFICATION)
    question = actions.ask_question(w, cid=uuid.uuid4(), body=texts["question"], acting_user=cast.sophie, anyway=True)
    actions.answer_question(w, question_id=question.pk, body=texts["answer"], acting_user=cast.marc)
    actions.go_back(w, from_step=Step.CLARIFICATION, reason=texts["back-reason"], acting_user=cast.claire)
    cast.at_step(Step.CONTRAT)
    actions.write_request(w, request=texts["request"], help_kinds=["ideas"], acting_user=cast.marc)
    cast.at_step(Step.CONSULTATION)
    actions.contribute(w, cid=uuid.uuid4(), kind="idea", body=texts["contribution"], acting_user=cast.julien)
    cast.at_step(Step.PLAN)
    action = actions.add_action(w, cid=uuid.uuid4(), what=texts["what"], first_step=texts["first-step"],
                                success_sign=texts["success-sign"], acting_user=cast.marc)
    cast.at_step(Step.APPRENTISSAGE)
    actions.write_learning(w, cid=uuid.uuid4(), body=texts["learning"], acting_user=cast.sophie)
    actions.evaluate(w, score=4, comment=texts["evaluation"], acting_user=cast.julien)
    actions.end(w, acting_user=cast.claire)
    journal.add_entry(cast.sophie, body=texts["journal"])
    nxt = sessions.plan_session(cast.group, facilitator=cast.claire, number=2).workshops.get()
    followup.report(nxt.pk, action_id=action.pk, followup="done", comment=texts["followup"], acting_user=cast.marc)
    return texts


def encrypted_models():
    return [model for model in apps.get_models() if encrypted_columns(model)]


def stored(model) -> list[str]:
    """The raw text of every encrypted column of a model, as the database holds it."""
    columns = encrypted_columns(model)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(map(quote, columns))} FROM {quote(model._meta.db_table)}")  # noqa: S608
        return [value for row in cursor.fetchall() for value in row if value not in (None, "")]


def read_through_the_orm() -> str:
    """Everything encrypted, as the application reads it, in one text."""
    parts = []
    for model in encrypted_models():
        names = [f.name for f in model._meta.local_concrete_fields if f.column in encrypted_columns(model)]
        for row in model.objects.values_list(*names):
            parts += [json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value) for value in row]
    return "\n".join(parts)


# --- what the database holds ----------------------------------------------------------------------


def test_texts_come_back_as_written_and_are_stored_as_tokens(cast):
    texts = write_everything(cast, "RT")
    seen = read_through_the_orm()
    assert all(text in seen for text in texts.values())
    case = Case.objects.get(pk=cast.case.pk)
    assert (case.title, case.tried) == (texts["title"], texts["tried"])
    raw = [value for model in encrypted_models() for value in stored(model)]
    assert raw and all(value.startswith("fernet:") for value in raw)
    assert not any(text in value for value in raw for text in texts.values())


def test_raw_columns_hold_no_marker_on_any_database(cast):
    """What an administrator with `psql` or `sqlite3` sees: tokens only, in every content column."""
    texts = write_everything(cast, "RAW")
    with connection.cursor() as cursor:
        cursor.execute("SELECT body, answer FROM workshops_contribution")
        contributions = [value for row in cursor.fetchall() for value in row if value]
        cursor.execute("SELECT payload FROM workshops_event")
        payloads = [row[0] for row in cursor.fetchall()]
    assert len(contributions) == 3 and len(payloads) > 10
    for value in contributions + payloads:
        assert value.startswith("fernet:")
        assert not any(text in value for text in texts.values())


@pytest.mark.django_db(transaction=True)
def test_the_sqlite_file_holds_no_marker(cast):
    if connection.vendor != "sqlite":
        pytest.skip("the database file is read on SQLite; PostgreSQL is checked column by column above")
    control = f"CONTROLE-{uuid.uuid4().hex}"  # a group name is not encrypted: proves the bytes are searched
    cast.group.name = control
    cast.group.save()
    texts = write_everything(cast, "FILE")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = Path(connection.settings_dict["NAME"])
    files = [path] + [p for p in (path.with_name(path.name + "-wal"),) if p.exists()]
    content = b"".join(p.read_bytes() for p in files)
    assert control.encode() in content
    leaked = [text for text in texts.values() if text.encode() in content]
    assert leaked == []


def test_text_that_looks_like_a_token_is_still_encrypted(cast):
    entry = journal.add_entry(cast.sophie, body="fernet:gAAAA-not-a-token")
    assert JournalEntry.objects.get(pk=entry.pk).body == "fernet:gAAAA-not-a-token"
    assert stored(JournalEntry)[0] != "fernet:gAAAA-not-a-token"


def test_the_database_cannot_filter_encrypted_text_and_says_so(cast):
    with pytest.raises(FieldError):
        list(Case.objects.filter(title="Reprendre une équipe"))
    with pytest.raises(FieldError):
        list(Contribution.objects.filter(body__icontains="x"))
    with pytest.raises(FieldError):
        list(Event.objects.filter(payload__step=3))
    assert list(Case.objects.exclude(summary="")) == []  # blank or not is all it can tell
    assert Case.objects.filter(summary="").count() == 1


def test_the_pool_is_still_listed_by_title(cast):
    for title in ("zèbre", "Alpha", "été"):
        pool.submit_case(cast.group.pk, title=title, acting_user=cast.sophie)
    titles = [c["title"] for c in room.context(cast.workshop, cast.claire)["cases"]]
    assert titles == ["Alpha", "été", "Reprendre une équipe", "zèbre"]


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=st.text(max_size=5000))
@example(text="")
@example(text="\x00")
@example(text="é" * 5000)
@example(text="🙂" * 5000)
@example(text="\u200f\ufeff\u202e <script>alert(1)</script> '; DROP TABLE x; --")
@example(text="fernet:")
def test_any_unicode_text_round_trips(cast, text):
    entry = JournalEntry.objects.create(owner=cast.sophie, body=text)
    assert JournalEntry.objects.get(pk=entry.pk).body == text
    assert crypto.decrypt(crypto.encrypt(text)) == text


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.dictionaries(st.text(max_size=20), st.one_of(st.text(max_size=200), st.integers(), st.booleans(), st.none(),
                                                                st.lists(st.text(max_size=20), max_size=3)), max_size=5))
def test_any_event_payload_round_trips(cast, payload):
    workshop = Workshop.objects.get(pk=cast.workshop.pk)
    event = events.record(workshop, "test.payload", payload, actor=None)
    assert Event.objects.get(pk=event.pk).payload == payload


# --- keys -------------------------------------------------------------------------------------------


def test_keys_rotate_and_a_missing_key_fails_loudly(keys, cast, settings):
    a, b, c = keys.a, keys.b, keys.c
    texts = write_everything(cast, "ROT")

    use_keys(settings, b, a)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("rotate_keys", "--check", stdout=out)
    assert "workshops.Contribution: 3 value(s) not under the first key" in out.getvalue()
    out = io.StringIO()
    call_command("rotate_keys", "--batch-size", "2", stdout=out)
    assert "workshops.Contribution: 3 value(s) re-encrypted in 2 row(s)" in out.getvalue()
    out = io.StringIO()
    call_command("rotate_keys", stdout=out)  # again: nothing left to do
    assert "workshops.Contribution: 0 value(s) re-encrypted" in out.getvalue()
    call_command("rotate_keys", "--check", stdout=io.StringIO())

    use_keys(settings, b)  # the old key is gone: everything still reads
    seen = read_through_the_orm()
    assert all(text in seen for text in texts.values())
    page = room.render_room(room.context(Workshop.objects.get(pk=cast.workshop.pk), cast.marc))
    assert texts["contribution"] in page
    token = stored(Contribution)[0].removeprefix("fernet:").encode()
    assert Fernet(b.encode()).decrypt(token)
    with pytest.raises(Exception):  # noqa: B017 - any failure: the old key opens nothing any more
        Fernet(a.encode()).decrypt(token)

    use_keys(settings, c)  # a wrong key: an error, never garbage
    for model in encrypted_models():
        if model.objects.exists():
            with pytest.raises(ImproperlyConfigured):
                list(model.objects.all())
    with pytest.raises(CommandError):
        call_command("rotate_keys", "--check", stdout=io.StringIO())


def test_a_malformed_key_is_refused(settings):
    use_keys(settings, "not-a-key")
    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x")


def test_legacy_plain_rows_read_fine_and_get_encrypted_by_rotate_keys(cast):
    cast.at_step(Step.CLARIFICATION)
    question = actions.ask_question(cast.workshop.pk, cid=uuid.uuid4(), body="chiffrée", acting_user=cast.sophie)
    event = Event.objects.filter(workshop=cast.workshop).last()
    with connection.cursor() as cursor:  # as written before migration 0004
        cursor.execute("UPDATE workshops_contribution SET body = %s WHERE id = %s", ["écrite avant", question.pk])
        cursor.execute("UPDATE workshops_event SET payload = %s WHERE id = %s", ['{"écrit": "avant"}', event.pk])
    assert Contribution.objects.get(pk=question.pk).body == "écrite avant"
    assert Event.objects.get(pk=event.pk).payload == {"écrit": "avant"}

    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("rotate_keys", "--check", stdout=out)
    assert "workshops.Contribution: 1 value(s) not under the first key" in out.getvalue()
    assert "workshops.Event: 1 value(s) not under the first key" in out.getvalue()
    call_command("rotate_keys", stdout=io.StringIO())
    assert all(value.startswith("fernet:") for model in (Contribution, Event) for value in stored(model))
    assert Contribution.objects.get(pk=question.pk).body == "écrite avant"
    assert Event.objects.get(pk=event.pk).payload == {"écrit": "avant"}


def test_a_row_edited_during_the_rotation_keeps_the_new_text(keys, cast, settings):
    entry = journal.add_entry(cast.sophie, body="avant")
    use_keys(settings, keys.b, keys.a)

    def rotate_while_the_member_edits(value):
        journal.edit_entry(cast.sophie, entry.pk, body="pendant")  # saved under b by the application
        return crypto.rotate(value)

    assert rewrite_columns(connection, "workshops_journalentry", "id", ["body"], rotate_while_the_member_edits) == (0, 0)
    assert JournalEntry.objects.get(pk=entry.pk).body == "pendant"


def test_the_generated_key_is_private_and_stable(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    use_keys(settings)
    token = crypto.encrypt("secret")
    key = tmp_path / "encryption_key"
    assert key.stat().st_mode & 0o777 == 0o600
    crypto.reset()
    assert crypto.decrypt(token) == "secret"
    assert [p.name for p in tmp_path.iterdir()] == ["encryption_key"]  # no draft left behind


def test_deploy_check_warns_without_keys_and_errors_on_a_bad_one(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    use_keys(settings)
    ids = {m.id for m in checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])}
    assert "codev.W001" in ids
    assert "codev.W001" not in {m.id for m in checks.run_checks(tags=[checks.Tags.security])}
    use_keys(settings, new_key())
    assert "codev.W001" not in {m.id for m in checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])}
    (tmp_path / "encryption_key").write_text(new_key())  # used before the variable was set, and forgotten
    assert "codev.W002" in {m.id for m in checks.run_checks(tags=[checks.Tags.security])}
    use_keys(settings, new_key(), "oops")
    assert "codev.E001" in {m.id for m in checks.run_checks(tags=[checks.Tags.security])}


# --- migration 0004 on rows written before it ------------------------------------------------------


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return executor


@pytest.mark.django_db(transaction=True)
def test_migration_0004_encrypts_what_was_written_before_it_and_back():
    executor = _migrate([BEFORE])
    old = executor.loader.project_state([BEFORE]).apps
    marks = {name: f"AVANT-{name}-{uuid.uuid4().hex[:6]}" for name in ("title", "problem", "request", "body", "answer", "what", "journal", "payload")}
    try:
        user = old.get_model("auth", "User").objects.create(username="ancien")
        group = old.get_model("workshops", "Group").objects.create(name="Groupe d'avant")
        case = old.get_model("workshops", "Case").objects.create(group=group, owner=user, title=marks["title"], problem=marks["problem"])
        workshop = old.get_model("workshops", "Workshop").objects.create(group=group, title="Séance 1", facilitator=user, case=case,
                                                                         request=marks["request"])
        old.get_model("workshops", "Contribution").objects.create(workshop=workshop, author=user, step=2, kind="question",
                                                                   body=marks["body"], answer=marks["answer"])
        old.get_model("workshops", "PlannedAction").objects.create(workshop=workshop, what=marks["what"])
        old.get_model("workshops", "JournalEntry").objects.create(owner=user, body=marks["journal"])
        old.get_model("workshops", "Event").objects.create(workshop=workshop, seq=1, kind="contribution.added",
                                                            payload={"body": marks["payload"], "n": 1})
    finally:
        _migrate(None)

    raw = [value for model in encrypted_models() for value in stored(model)]
    assert len(raw) == 8 and all(value.startswith("fernet:") for value in raw)
    assert not any(mark in value for value in raw for mark in marks.values())
    assert Case.objects.get().title == marks["title"] and Case.objects.get().problem == marks["problem"]
    assert Contribution.objects.get().answer == marks["answer"]
    assert Event.objects.get().payload == {"body": marks["payload"], "n": 1}
    assert PlannedAction.objects.get().what == marks["what"]

    migration_0004._walk(migration_0004._seal)(apps, SimpleNamespace(connection=connection))  # a second run
    assert [value for model in encrypted_models() for value in stored(model)] == raw

    _migrate([BEFORE])  # backwards: plain text again, JSON again
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT title, problem FROM workshops_case")
            assert cursor.fetchall() == [(marks["title"], marks["problem"])]
            cursor.execute("SELECT payload FROM workshops_event")
            assert json.loads(cursor.fetchone()[0]) == {"body": marks["payload"], "n": 1}
    finally:
        _migrate(None)
    assert JournalEntry.objects.get().body == marks["journal"]
