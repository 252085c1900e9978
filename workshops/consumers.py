"""The live room over a websocket. Thin: authenticate, map messages to domain actions, map
errors to messages for this socket only, and render events for this member."""
import json
import logging

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from workshops import dispatch, events, presence, room
from workshops.batching import Batched
from workshops.errors import ActionError, Conflict, Forbidden, NotFound
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
                await self._pong(ref)
            else:
                await self._perform(message, ref)

    async def _pong(self, ref):
        """Presence is kept by pings; the head tells the browser whether it missed an event."""
        try:
            head = await PINGS.ask(None, (self.workshop_id, self.channel_name))
        except NotFound:  # deleted meanwhile
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await self.send_json({"type": "pong", "ref": ref, "seq": head})

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
            self.me, seq, html, timer_state = await SNAPSHOTS.ask(self.workshop_id, (self.user, self.lang))
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


# A step change reaches a room's eight screens together: they share one `room.snapshots`.
SNAPSHOTS = Batched(lambda workshop_id, readers: room.snapshots(workshop_id, readers))
# Thousands of open screens ping every 25 s: the pings that queue together share one write.
PINGS = Batched(lambda _key, sockets: presence.heartbeat(sockets))
