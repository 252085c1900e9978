"""Plain dicts of what the room shows: stored in events, rendered by the same templates as the page."""
from django.contrib.auth import get_user_model

from workshops.models import Case, Contribution, Learning, PlannedAction, PrivateNote
from workshops.people import display_name


def person(user) -> dict:
    return {"id": user.pk, "name": display_name(user)}


def case(c: Case) -> dict:
    return {
        "id": c.pk,
        "title": c.title,
        "owner": person(c.owner),
        "context": c.context,
        "problem": c.problem,
        "tried": c.tried,
        "expectations": c.expectations,
        "summary": c.summary,
        "stakes": c.stakes,
        "urgency": c.urgency,
        "urgency_label": str(c.get_urgency_display()),
    }


def contribution(c: Contribution) -> dict:
    return {
        "id": c.pk,
        "cid": str(c.cid),
        "step": c.step,
        "kind": c.kind,
        "body": c.body,
        "answer": c.answer,
        "mark": c.mark,
        "flagged": c.flagged,
        "author": person(c.author),
    }


def contributions(rows) -> list[dict]:
    """`contribution` for every row of a queryset, from plain values: a room with hundreds of
    contributions has only a handful of authors, so they are read once, not joined per row."""
    values = list(rows.values("id", "cid", "step", "kind", "body", "answer", "mark", "flagged", "author_id"))
    return [
        {**{k: v for k, v in row.items() if k != "author_id"}, "cid": str(row["cid"]), "author": author}
        for row, author in zip(values, _authors(values), strict=True)
    ]


def learnings(rows) -> list[dict]:
    """`learning` for every row of a queryset (see `contributions`)."""
    values = list(rows.values("id", "cid", "body", "author_id"))
    return [
        {"id": row["id"], "cid": str(row["cid"]), "body": row["body"], "author": author}
        for row, author in zip(values, _authors(values), strict=True)
    ]


def _authors(values: list[dict]) -> list[dict]:
    ids = {row["author_id"] for row in values}
    people = {user.pk: person(user) for user in get_user_model().objects.filter(pk__in=ids)} if ids else {}
    return [people[row["author_id"]] for row in values]


def note(n: PrivateNote) -> dict:
    return {"id": n.pk, "cid": str(n.cid), "step": n.step, "body": n.body}


def planned_action(a: PlannedAction) -> dict:
    return {
        "id": a.pk,
        "cid": str(a.cid),
        "what": a.what,
        "first_step": a.first_step,
        "due": a.due.isoformat() if a.due else "",
        "success_sign": a.success_sign,
        "kept": [{"id": k.pk, "body": k.body} for k in a.kept.all()],
        "followup": a.followup,
        "followup_label": str(a.get_followup_display()),
        "followup_comment": a.followup_comment,
    }


def learning(item: Learning) -> dict:
    return {"id": item.pk, "cid": str(item.cid), "body": item.body, "author": person(item.author)}
