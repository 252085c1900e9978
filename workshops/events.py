"""The event log: every change gets the workshop's next sequence number, is saved with the change,
and is published only once the transaction has committed.

Recipients are explicit: the whole group of a workshop, or one member for what is private.
"""
import asyncio
import logging
import os
from collections import deque

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models import Q

from workshops.models import Event, Workshop

log = logging.getLogger(__name__)

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
    """Send a committed event to its recipients. From a thread that works for the server's event
    loop (a socket's or a page's database work), the event is handed to that loop, in commit
    order, and the thread goes on: it used to wait for the loop to send it, so under load the one
    database thread of the sockets waited for the loop's turn after every action. Anywhere else
    (a command, a test without a loop) it is sent before this returns."""
    group = private_group(event.workshop_id, event.audience_id) if event.audience_id else workshop_group(event.workshop_id)
    message = {"type": "workshop.event", "event": as_message(event)}
    loop = _serving_loop()
    if loop is None:
        async_to_sync(get_channel_layer().group_send)(group, message)
    else:
        loop.call_soon_threadsafe(_hand_over, loop, group, message)


def _serving_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop this thread works for: what asgiref's sync_to_async records in the
    threads it runs code in, and what its async_to_sync would send through."""
    local = SyncToAsync.threadlocal
    loop = getattr(local, "main_event_loop", None)
    if loop is None or getattr(local, "main_event_loop_pid", None) != os.getpid() or not loop.is_running():
        return None
    return loop


# Per loop, the events handed over and not sent yet, sent one after the other by one task, so
# each group gets them in the order they were committed (a browser would otherwise see a gap,
# and ask for what it missed).
_outboxes: dict[asyncio.AbstractEventLoop, deque] = {}


def _hand_over(loop, group: str, message: dict) -> None:
    outbox = _outboxes.get(loop)
    if outbox is None:
        outbox = _outboxes[loop] = deque()
        loop.create_task(_send_all(loop, outbox))
    outbox.append((group, message))


async def _send_all(loop, outbox: deque) -> None:
    try:
        while outbox:
            group, message = outbox.popleft()
            try:
                await get_channel_layer().group_send(group, message)
            except Exception:  # saved already: the browsers' pings find it and ask for it
                log.exception("event %s of workshop %s not sent", message["event"]["seq"], group)
    finally:
        _outboxes.pop(loop, None)


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
