"""The event log: every change gets the workshop's next sequence number, is saved with the change,
and is published only once the transaction has committed.

Recipients are explicit: the whole group of a workshop, or one member for what is private.
"""
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models import Q

from workshops.models import Event, Workshop

# Events that change the shape of the room (step, roles, status): browsers re-render it whole.
STRUCTURAL = frozenset(
    {
        "workshop.started", "client.designated", "step.changed", "workshop.ended",
        # The opening of a session: pool, votes and follow-up are re-rendered per viewer, because
        # the tally is the facilitator's alone.
        "pool.changed", "votes.updated", "followup.updated", "plan.closed",
    }
)


def workshop_group(workshop_id: int) -> str:
    return f"workshop.{workshop_id}"


def private_group(workshop_id: int, user_id: int) -> str:
    return f"workshop.{workshop_id}.user.{user_id}"


def record(workshop: Workshop, kind: str, payload: dict, *, actor, audience=None) -> Event:
    """Append an event. The caller holds the workshop row lock inside a transaction."""
    workshop.seq += 1
    Workshop.objects.filter(pk=workshop.pk).update(seq=workshop.seq)
    event = Event.objects.create(
        workshop=workshop,
        seq=workshop.seq,
        kind=kind,
        payload=payload,
        actor=actor,
        audience=audience,
    )
    transaction.on_commit(lambda: publish(event))
    return event


def as_message(event: Event) -> dict:
    return {"seq": event.seq, "kind": event.kind, "data": event.payload}


def publish(event: Event) -> None:
    group = (
        private_group(event.workshop_id, event.audience_id)
        if event.audience_id
        else workshop_group(event.workshop_id)
    )
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(group, {"type": "workshop.event", "event": as_message(event)})


def presence_message(people: list[dict]) -> dict:
    """Presence is not content and is not numbered: each message replaces the whole list. The
    sockets send it from the event loop (to `workshop_group`), after the database work."""
    return {"type": "workshop.presence", "people": people}


def catch_up(workshop_id: int, user_id: int, since: int) -> tuple[int, list[Event]]:
    """The head first, then what was missed: every event up to that head is already committed,
    since the head moves in the same transaction as its event, so the browser may jump to it."""
    head = Workshop.objects.values_list("seq", flat=True).get(pk=workshop_id)
    return head, visible_since(workshop_id, user_id, since)


def visible_since(workshop_id: int, user_id: int, since: int) -> list[Event]:
    """What this member may see, after sequence number `since`: the catch-up after a reconnect."""
    return list(
        Event.objects.filter(workshop_id=workshop_id, seq__gt=since)
        .filter(Q(audience__isnull=True) | Q(audience_id=user_id))
        .order_by("seq")
    )
