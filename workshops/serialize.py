"""Plain dicts of what the room shows: stored in events, rendered by the same templates as the page."""
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
