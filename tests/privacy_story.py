"""A whole workshop on Marc's case, each text a marker that can be looked for in the database.

Used by the retention, account and audit tests: every marker names who wrote it.
"""
import uuid

from django.db import connection
from django.utils import timezone

from workshops import actions, attendance, journal, membership, pool
from workshops.models import Invitation, Presence, Workshop
from workshops.steps import Step

MARKERS = {
    "case_context": "CONTEXTE-DE-MARC",
    "question": "QUESTION-DE-SOPHIE",
    "answer": "REPONSE-DE-MARC",
    "request": "DEMANDE-DE-MARC",
    "override": "RAISON-DE-CLAIRE",
    "contribution": "IDEE-DE-JULIEN",
    "sophie_contribution": "EXPERIENCE-DE-SOPHIE",
    "plan": "ACTION-DE-MARC",
    "followup": "SUIVI-DE-MARC",
    "note_sophie": "NOTE-DE-SOPHIE",
    "note_marc": "NOTE-DE-MARC",
    "learning_sophie": "APPRIS-PAR-SOPHIE",
    "learning_marc": "APPRIS-PAR-MARC",
    "comment_sophie": "AVIS-DE-SOPHIE",
    "comment_julien": "AVIS-DE-JULIEN",
    "journal_sophie": "CARNET-DE-SOPHIE",
    "end_reason": "FIN-PAR-CLAIRE",
}
M = MARKERS
CONTENT_MARKERS = [value for key, value in MARKERS.items() if key not in ("override", "end_reason")]


def cid() -> str:
    return str(uuid.uuid4())


def tell_story(cast) -> Workshop:
    """Votes, the six steps with everything written, attendance, evaluations, then an early end."""
    cast.sophie.email, cast.marc.email = "sophie@example.org", "marc@example.org"
    cast.sophie.save()
    cast.marc.save()
    cast.case.context = M["case_context"]
    cast.case.save()
    w = cast.workshop.pk
    pool.vote(w, votes=[cast.case.pk], acting_user=cast.sophie)
    pool.vote(w, votes=[cast.case.pk, cast.case.pk], acting_user=cast.julien)
    cast.at_step(Step.CLARIFICATION)
    actions.write_note(w, cid=cid(), body=M["note_sophie"], acting_user=cast.sophie)
    actions.write_note(w, cid=cid(), body=M["note_marc"], acting_user=cast.marc)
    question = actions.ask_question(w, cid=cid(), body=M["question"] + " depuis quand ?", acting_user=cast.sophie)
    actions.answer_question(w, question_id=question.pk, body=M["answer"], acting_user=cast.marc)
    cast.at_step(Step.CONTRAT)
    actions.write_request(w, request=M["request"], help_kinds=["ideas"], acting_user=cast.marc)
    actions.accept_rules(w, acting_user=cast.marc)
    actions.accept_rules(w, acting_user=cast.sophie)
    # Julien is in the room but has not accepted: Claire goes on anyway, with a reason.
    Presence.objects.create(workshop_id=w, user=cast.julien, channel_name="julien-tab", seen_at=timezone.now())
    actions.advance(w, from_step=Step.CONTRAT, override_reason=M["override"], acting_user=cast.claire)
    Presence.objects.filter(channel_name="julien-tab").delete()
    kept = actions.contribute(w, cid=cid(), kind="idea", body=M["contribution"], acting_user=cast.julien)
    actions.contribute(w, cid=cid(), kind="experience", body=M["sophie_contribution"], acting_user=cast.sophie)
    actions.mark_contribution(w, contribution_id=kept.pk, mark="keep", acting_user=cast.marc)
    cast.at_step(Step.PLAN)
    actions.add_action(w, cid=cid(), what=M["plan"], first_step="Envoyer un message", kept=[kept.pk], acting_user=cast.marc)
    cast.at_step(Step.APPRENTISSAGE)
    actions.write_learning(w, cid=cid(), body=M["learning_sophie"], acting_user=cast.sophie)
    actions.write_learning(w, cid=cid(), body=M["learning_marc"], acting_user=cast.marc)
    actions.evaluate(w, score=4, comment=M["comment_sophie"], acting_user=cast.sophie)
    actions.evaluate(w, score=5, comment=M["comment_julien"], acting_user=cast.julien)
    actions.evaluate(w, score=3, acting_user=cast.marc)
    actions.go_back(w, from_step=Step.APPRENTISSAGE, reason="Un oubli", acting_user=cast.claire)
    actions.end(w, reason=M["end_reason"], acting_user=cast.claire)  # early: from the plan step
    session = Workshop.objects.get(pk=w).session
    for user in (cast.marc, cast.sophie, cast.julien):
        attendance.mark(session, user, True, acting_user=cast.claire)
    journal.add_entry(cast.sophie, body=M["journal_sophie"])
    membership.declare_reporting_line(cast.sophie, "cheffe@example.org", membership.MANAGER)
    Invitation.objects.create(group=cast.olivier.memberships.get().group, email="sophie@example.org", token_hash="x" * 64)
    return Workshop.objects.select_related("case", "session").get(pk=w)


def raw_dump(exclude: tuple[str, ...] = ()) -> dict[str, str]:
    """Every table's rows as the database holds them (no ORM decoding): what a stolen file shows."""
    dump = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table in exclude:
                continue
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 (table names from introspection)
            dump[table] = "\n".join(" | ".join(str(bytes(v) if isinstance(v, memoryview) else v) for v in row)
                                    for row in cursor.fetchall())
    return dump


def tables_with(marker: str, exclude: tuple[str, ...] = ()) -> list[str]:
    return [table for table, text in raw_dump(exclude).items() if marker in text]
