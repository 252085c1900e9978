"""The live room over a websocket. Thin: authenticate, map messages to domain actions, map
errors to messages for this socket only, and render events for this member."""
import asyncio
import json
import logging
import threading

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from workshops import dispatch, events, presence, room
from workshops.errors import ActionError, Conflict, Forbidden, NotFound
from workshops.models import Workshop
from workshops.people import access_workshop

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED, CLOSE_FORBIDDEN, CLOSE_NOT_FOUND = 4401, 4403, 4404
CATCH_UP_LIMIT = 200  # beyond this many missed events, a fresh snapshot is cheaper


def language_of(scope) -> str:
    """The member's language: the cookie set by the language switch, else the browser's, else French."""
    supported = {code for code, _name in settings.LANGUAGES}
    cookie = scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME)
    if cookie in supported:
        return cookie
    headers = dict(scope.get("headers", []))
    accept = headers.get(b"accept-language", b"").decode("latin-1")
    for part in accept.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in supported:
            return code
    return settings.LANGUAGE_CODE


class RoomConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.user = self.scope.get("user")
        self.workshop_id = int(self.scope["url_route"]["kwargs"]["workshop_id"])
        self.lang = language_of(self.scope)
        self.me = None
        if self.user is None or not self.user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        try:
            self.me = await self._viewer()
        except Forbidden:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        except NotFound:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.groups_joined = [events.workshop_group(self.workshop_id), events.private_group(self.workshop_id, self.user.pk)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        # In the group before the list is read, so no later join is missed; the list is published
        # as soon as it is read (see _publish_presence); this socket gets it once accepted.
        await self._publish_presence(await self._join())
        await self.accept()

    async def disconnect(self, code):
        if self.me is None:
            return
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        await self._publish_presence(await self._leave())

    async def dispatch(self, message):
        """Channels' dispatch, without its trip to the database thread before every message to
        close old connections: every database call here (database_sync_to_async) does that
        already, and most messages (an event, a presence list, a ping) never touch the database.
        With it, one event to a room of 8 queued 8 trips behind the thread's real work, and a
        live event waited for a slow snapshot of another room."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- from the browser ---------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if self.me is None:
            return
        with translation.override(self.lang):
            if text_data is None or len(text_data.encode("utf-8", "surrogatepass")) > settings.CODEV_MAX_MESSAGE_BYTES:
                await self._error(None, "invalid", _("Message too large or not text."))
                return
            try:
                message = json.loads(text_data)
            except (ValueError, RecursionError):  # RecursionError: absurdly nested arrays
                await self._error(None, "invalid", _("Malformed message: it is not JSON."))
                return
            ref = message.get("ref") if isinstance(message, dict) else None
            ref = ref if isinstance(ref, (str, int)) and not isinstance(ref, bool) else None
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "sync":
                await self._catch_up(message.get("since"))
            elif kind == "ping":
                await self.send_json({"type": "pong", "ref": ref, "seq": await self._ping()})
            else:
                await self._perform(message, ref)

    async def _perform(self, message, ref):
        try:
            await database_sync_to_async(self._perform_sync)(message)
        except ActionError as error:
            await self._error(ref, error.code, error.message)
            if isinstance(error, Conflict):
                await self._snapshot()
            return
        except Exception:  # a bug must not kill the room: log it, tell this member only
            log.exception("message failed in workshop %s", self.workshop_id)
            await self._error(ref, "server_error", _("Something went wrong on the server; nothing was lost. Try again."))
            return
        await self.send_json({"type": "ack", "ref": ref})

    def _perform_sync(self, message):
        with translation.override(self.lang):
            dispatch.perform(self.workshop_id, self.user, message)

    async def _catch_up(self, since):
        if not isinstance(since, int) or isinstance(since, bool) or not 0 <= since < dispatch.MAX_INT:
            await self._snapshot()
            return
        head, missed = await database_sync_to_async(events.catch_up)(self.workshop_id, self.user.pk, since)
        if len(missed) > CATCH_UP_LIMIT or any(e.kind in events.STRUCTURAL for e in missed):
            await self._snapshot()
            return
        for event in missed:
            await self._send_event(events.as_message(event), catchup=True)
        await self.send_json({"type": "synced", "seq": max([head, *(e.seq for e in missed)])})

    # --- from the channel layer --------------------------------------------------------

    async def workshop_event(self, message):
        event = message["event"]
        if event["kind"] in events.STRUCTURAL:
            await self._snapshot()
        else:
            await self._send_event(event)

    async def workshop_presence(self, message):
        with translation.override(self.lang):
            await self.send_json({"type": "presence", "people": message["people"], "ops": [room.presence_op(message["people"])]})

    # --- helpers ----------------------------------------------------------------------

    async def _send_event(self, event, catchup=False):
        with translation.override(self.lang):
            ops = room.item_ops(event, self.me)
        await self.send_json({"type": "event", **event, "ops": ops, **({"catchup": True} if catchup else {})})

    async def _snapshot(self):
        """The whole room, for a new step, a conflict or a long absence."""
        try:
            self.me, seq, html, timer_state = await SNAPSHOTS.room(self.workshop_id, self.user, self.lang)
        except (Forbidden, NotFound):  # removed from the group meanwhile
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.send_json({"type": "snapshot", "seq": seq, "timer": timer_state, "ops": [{"op": "room", "html": html}]})

    @database_sync_to_async
    def _viewer(self):
        return room.viewer(access_workshop(self.user, self.workshop_id), self.user)

    @database_sync_to_async
    def _join(self):
        presence.join(self.workshop_id, self.user.pk, self.channel_name)
        return presence.people(self.workshop_id)

    @database_sync_to_async
    def _leave(self):
        presence.leave(self.channel_name)
        return presence.people(self.workshop_id)

    @database_sync_to_async
    def _ping(self):
        presence.seen(self.channel_name)
        return Workshop.objects.values_list("seq", flat=True).get(pk=self.workshop_id)

    async def _publish_presence(self, people):
        """Sent from the event loop, so the one database thread never waits for the loop. Called
        right after the list was read, with no other await between: lists read one after the
        other on that thread are published in the same order, and the last one stays."""
        await self.channel_layer.group_send(events.workshop_group(self.workshop_id), events.presence_message(people))

    async def _error(self, ref, code, message):
        await self.send_json({"type": "error", "ref": ref, "code": code, "message": str(message)})

    async def send_json(self, content):
        text = json.dumps(content, ensure_ascii=False)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate echoed from the input: escape it
            text = json.dumps(content)
        await self.send(text_data=text)


class Snapshots:
    """The sockets of one room that want the whole room at about the same time (a step change
    reaches all of them together) share one trip to the process's database thread and one
    `room.snapshots`. A batch is whatever waits when that trip starts: an idle server answers the
    first socket at once, a busy one serves a room's eight screens together."""

    def __init__(self):
        self._lock = threading.Lock()  # the loop adds, the database thread takes
        self._waiting: dict[int, tuple[asyncio.AbstractEventLoop, list]] = {}
        self._tasks: set[asyncio.Task] = set()

    async def room(self, workshop_id: int, user, language: str):
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._lock:
            entry = self._waiting.get(workshop_id)
            first = entry is None or entry[0] is not loop  # another loop's leftover (tests): start anew
            if first:
                entry = self._waiting[workshop_id] = (loop, [])
            entry[1].append((user, language, future))
        if first:
            task = loop.create_task(self._serve(workshop_id, entry))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    def _take(self, workshop_id: int, entry) -> list:
        with self._lock:
            if self._waiting.get(workshop_id) is entry:
                del self._waiting[workshop_id]
            return list(entry[1])

    def _render(self, workshop_id: int, entry) -> list:
        waiting = self._take(workshop_id, entry)
        try:
            results = room.snapshots(workshop_id, [(user, language) for user, language, _future in waiting])
        except Exception as error:  # a bug: each waiting socket fails as it would have alone
            results = [error] * len(waiting)
        return [(future, result) for (_user, _language, future), result in zip(waiting, results, strict=True)]

    async def _serve(self, workshop_id: int, entry) -> None:
        try:
            answers = await database_sync_to_async(self._render)(workshop_id, entry)
        except BaseException as error:  # the trip itself failed: nobody may wait forever
            answers = [(future, error) for _user, _language, future in self._take(workshop_id, entry)]
            if not isinstance(error, Exception):
                for future, _error in answers:
                    future.cancel()
                raise
        for future, result in answers:
            if future.done():  # its socket went away meanwhile
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)


SNAPSHOTS = Snapshots()
