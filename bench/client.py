"""The bench's participants: real websockets playing scripted workshops, timing every arrival.

Run by bench.cli as a subprocess (one or more, each owning whole workshops, so a sender and its
receivers share a clock), with a line protocol on stdin/stdout:

    → spec file path as argv[1]
    ← {"phase": "connected", …}      every socket is open and synced
    → {"t0": <wall clock>}           the openings start (staggered over the ramp)
    ← {"phase": "opened", …}         every workshop of this process is in the consultation
    → {"w0": <wall clock>}           the consultation window, the same for every process
    ← {"phase": "done", …}           raw figures for bench.report
    → {"close": true}                the sockets are closed (after the parent read the CPU)

Participants apply what arrives as room.js does. Everything is bounded: connection attempts,
every wait for an answer, the script, the drain, the closing.
"""
import asyncio
import bisect
import gc
import json
import math
import random
import re
import resource
import sys
import time
import uuid
from dataclasses import dataclass, field

import websockets

ANSWER_TIMEOUT = 120.0  # one command's ack, at most: an overloaded server is measured slow, not given up on
THINK = 0.3  # at most this many seconds between two moves of the opening and closing scripts
PRIVATE = {"note.added", "evaluation.recorded"}
# Kinds whose content the sender can recognise (token_of): their losses are counted per submit.
TOKENED = {
    "contribution.added", "question.asked", "learning.added", "action.added", "question.answered",
    "contribution.marked", "case.updated", "contract.updated", "rules.accepted",
}


def raise_open_files() -> int:
    """Thousands of sockets: lift the soft limit on open files to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


TAG = re.compile(r"\[#([a-z]?[0-9a-f]{12})\]")


def tag(ident: str, prefix: str = "") -> str:
    """A marker in every text the bench posts, so a room snapshot shows which items it holds."""
    return f"[#{prefix}{ident.replace('-', '')[:12]}]"


def tag_of(token) -> str | None:
    """The marker a token's content carries; None for a mark or an acceptance (no text of ours)."""
    if token[0] == "cid":
        return tag(token[1])[2:-1]
    if token[0] == "answer":
        return tag(token[1], "a")[2:-1]
    if token[0] in ("case", "request"):
        found = TAG.search(token[1])
        return found[1] if found else None
    return None


def token_of(kind: str, data: dict):
    """What identifies an event's content, whichever server numbered it: the sender knows it too."""
    try:
        if kind in ("contribution.added", "question.asked"):
            return ("cid", data["contribution"]["cid"])
        if kind == "learning.added":
            return ("cid", data["learning"]["cid"])
        if kind == "action.added":
            return ("cid", data["action"]["cid"])
        if kind == "question.answered":
            return ("answer", data["contribution"]["cid"])
        if kind == "contribution.marked":
            return ("mark", data["contribution"]["cid"], data["contribution"]["mark"])
        if kind == "case.updated":
            return ("case", data["case"]["title"])
        if kind == "contract.updated":
            return ("request", data["request"])
        if kind == "rules.accepted":
            return ("rules", data["person"]["id"])
    except (KeyError, TypeError):
        return None
    return None


class Pauses:
    """The clients' own garbage-collector pauses: a delay is stamped when the client reads the
    frame, so a pause here would be counted as the server's slowness. Reported apart."""

    def __init__(self):
        self.log: list[tuple[float, float]] = []  # (start, seconds) of every collection
        self._start = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._start = time.monotonic()
        else:
            self.log.append((self._start, time.monotonic() - self._start))

    def figures(self, w0: float, w1: float) -> dict:
        inside = [s for t, s in self.log if w0 <= t < w1]
        return {"gc_max_ms": round(1000 * max((s for _t, s in self.log), default=0), 1),
                "gc_window_max_ms": round(1000 * max(inside, default=0), 1),
                "gc_window_ms": round(1000 * sum(inside), 1)}


@dataclass
class Stats:
    submits: list = field(default_factory=list)  # (workshop, sender id, token, t)
    structurals: list = field(default_factory=list)  # (workshop, sender id, t, threshold seq)
    errors: int = 0
    error_samples: list = field(default_factory=list)
    timeouts: int = 0
    reconnects: int = 0
    messages: int = 0
    last_message: float = 0.0
    aborted: int = 0
    resynced: list = field(default_factory=list)  # (dropped, back and synced), wall clock, per reconnect
    window: tuple = (math.inf, math.inf)  # the consultation window (monotonic): what is sent in it is the steady load

    def error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 10:
            self.error_samples.append(text[:300])


class Participant:
    def __init__(self, spec: dict, workshop: "Workshop", member: dict, url: str, stats: Stats):
        self.spec, self.workshop, self.stats = spec, workshop, stats
        self.id, self.role, self.cookie = member["id"], member["role"], member["cookie"]
        self.url = url
        self.ws = None
        self.up = asyncio.Event()
        self.stopping = False
        self.waiting: dict[str, asyncio.Future] = {}
        self.outbox: dict[str, str] = {}  # ref -> frame, resent after a reconnect (like room.js)
        self.head = workshop.seq  # the last seq applied
        self.live: dict[int, int] = {}  # seq -> times received live (not as catch-up)
        self.applied: set[int] = set()  # seqs shown, as room.js applies them
        self.syncing = False
        self.tokens: dict[tuple, list] = {}  # token -> [first applied, {seqs}]
        self.snapshot_times: list[float] = []
        self.in_snapshots: dict[str, float] = {}  # marker -> when a room snapshot first showed it
        self.snapshot_seqs: list[int] = []
        self.ids: dict[str, int] = {}  # cid -> item id, to answer and mark
        self.out_of_order = 0
        self.reader: asyncio.Task | None = None
        self.synced_at: float | None = None
        self.dropped_at: float | None = None  # wall clock of an unexpected close, until back and synced
        self.resyncs = 0

    # --- the socket -------------------------------------------------------------------

    async def connect(self, attempts: int = 5) -> bool:
        headers = {"Cookie": f"{self.spec['cookie_name']}={self.cookie}; django_language=fr"}
        for attempt in range(attempts):
            try:
                self.ws = await websockets.connect(
                    self.url, origin=self.spec["origin"], additional_headers=headers, open_timeout=ANSWER_TIMEOUT,
                    compression=None if self.spec["compression"] == "none" else "deflate",
                    max_size=2**22, ping_interval=None, close_timeout=2,
                )
            except (TimeoutError, OSError, websockets.WebSocketException) as error:
                if attempt == attempts - 1:
                    if self.dropped_at is None:  # refused while reconnecting is expected (a restart): retried
                        self.stats.error(f"connect {self.url}: {error!r}")
                    return False
                await asyncio.sleep(min(2.0, 0.2 * 2**attempt) * random.uniform(0.5, 1.5))
                continue
            synced = asyncio.get_running_loop().create_future()
            self.waiting["__sync__"] = synced
            self.syncing = True
            self.reader = asyncio.create_task(self._read(self.ws))
            await self.ws.send(json.dumps({"type": "sync", "since": self.head}))
            try:
                await asyncio.wait_for(synced, ANSWER_TIMEOUT)
            except (TimeoutError, websockets.ConnectionClosed):
                self.stats.error("no answer to sync")
                ws, self.ws = self.ws, None  # abandoned: its reader must not reconnect it
                self.reader.cancel()
                await ws.close()
                continue
            self.synced_at = time.monotonic()
            if self.dropped_at is not None:
                self.stats.resynced.append((self.dropped_at, time.time()))
                self.dropped_at = None
                self.resyncs += 1
            self.up.set()
            for frame in list(self.outbox.values()):  # what was sent but not acknowledged
                await self._send(frame)
            return True
        return False

    async def _read(self, ws) -> None:
        try:
            async for raw in ws:
                self._receive(raw)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.up.clear()
            if not self.stopping and ws is self.ws:
                self.dropped_at = time.time()
                self.stats.reconnects += 1
                asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        deadline = time.monotonic() + self.spec.get("reconnect_for", 60)
        while not self.stopping and time.monotonic() < deadline:
            await asyncio.sleep(random.uniform(0.1, 0.6))
            if await self.connect(attempts=3):
                return

    def _receive(self, raw) -> None:
        """Apply what arrives as room.js does: events in sequence order, a gap asks for a sync,
        catch-up fills it, what is at or below the known seq is already shown."""
        now = time.monotonic()
        self.stats.messages += 1
        self.stats.last_message = now
        message = json.loads(raw)
        kind = message.get("type")
        if kind == "event":
            seq, catchup = message["seq"], bool(message.get("catchup"))
            if not catchup:
                self.live[seq] = self.live.get(seq, 0) + 1  # the live path must never send one twice
            token = token_of(message["kind"], message.get("data") or {})
            self.workshop.saw(seq, message["kind"], token)
            if seq <= self.head:
                return
            if seq > self.head + 1 and not catchup:
                self.out_of_order += 1
                self._sync()
                return
            self.head = seq
            self.applied.add(seq)
            if token is not None:
                seen = self.tokens.setdefault(token, [now, set()])
                seen[1].add(seq)
                if token[0] == "cid":
                    item = next(iter((message.get("data") or {}).values()), None)
                    if isinstance(item, dict) and "id" in item:
                        self.ids[token[1]] = item["id"]
        elif kind == "snapshot":
            if message["seq"] >= self.head:
                self.snapshot_times.append(now)
                self.snapshot_seqs.append(message["seq"])
                self.head = message["seq"]
                for op in message.get("ops", []):
                    for marker in TAG.findall(op.get("html", "")):
                        self.in_snapshots.setdefault(marker, now)
            self.syncing = False
            self._resolve("__sync__", message)
        elif kind == "synced":
            self.head = max(self.head, message["seq"])
            self.syncing = False
            self._resolve("__sync__", message)
        elif kind in ("ack", "error", "pong"):
            ref = message.get("ref")
            if kind == "error":
                self.stats.error(f"{self.role} {message.get('code')}: {message.get('message')}")
            if kind == "pong" and message.get("seq", 0) > self.head:
                self._sync()
            self._resolve(str(ref), message)

    async def resync(self) -> None:
        synced = asyncio.get_running_loop().create_future()
        self.waiting["__sync__"] = synced
        self.syncing = True
        await self._send(json.dumps({"type": "sync", "since": self.head}))
        try:
            await asyncio.wait_for(synced, ANSWER_TIMEOUT)
        except TimeoutError:
            self.stats.timeouts += 1

    def shown_at(self, token, sent: float) -> float | None:
        """When this screen showed the content: its event applied, or a room snapshot that has it."""
        seen = self.tokens.get(token)
        if seen is not None:
            return seen[0]
        marker = tag_of(token)
        if marker is not None:
            return self.in_snapshots.get(marker)
        # A mark or an acceptance: shown by a room snapshot numbered at or after its event (or,
        # when nobody saw its number, by any snapshot after it was sent).
        seq = self.workshop.token_seq.get(token, 0)
        return next((t for t, s in zip(self.snapshot_times, self.snapshot_seqs, strict=True) if s >= seq and t >= sent), None)

    def _sync(self) -> None:
        if not self.syncing and self.up.is_set():
            self.syncing = True
            asyncio.get_running_loop().create_task(self._send(json.dumps({"type": "sync", "since": self.head})))

    def _resolve(self, ref: str, message: dict) -> None:
        self.outbox.pop(ref, None)
        future = self.waiting.pop(ref, None)
        if future is not None and not future.done():
            future.set_result(message)

    async def _send(self, frame: str) -> None:
        try:
            await self.ws.send(frame)
        except websockets.ConnectionClosed:
            pass  # stays in the outbox: resent after the reconnect

    async def close(self) -> None:
        self.stopping = True
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 5)
            except (TimeoutError, OSError, websockets.WebSocketException):
                pass
        if self.reader is not None:
            self.reader.cancel()

    # --- commands ---------------------------------------------------------------------

    async def command(self, message: dict, token=None, structural: bool = False) -> bool:
        """Send and wait for the ack (bounded); record what the others should then receive."""
        ref = message.setdefault("ref", uuid.uuid4().hex)
        frame = json.dumps(message)
        future = asyncio.get_running_loop().create_future()
        self.waiting[ref] = future
        self.outbox[ref] = frame
        threshold = self.workshop.head() if structural else 0
        sent = time.monotonic()
        if self.up.is_set():
            await self._send(frame)
        try:
            answer = await asyncio.wait_for(future, ANSWER_TIMEOUT)
        except TimeoutError:
            self.stats.timeouts += 1
            self.waiting.pop(ref, None)
            self.outbox.pop(ref, None)
            return False
        if answer.get("type") != "ack":
            return False
        if structural:
            self.stats.structurals.append((self.workshop.id, self.id, sent, threshold, message["type"]))
        elif token is not None:
            self.stats.submits.append((self.workshop.id, self.id, token, sent, message["type"]))
        return True

    async def ping(self) -> None:
        await self.command({"type": "ping"})


class Workshop:
    def __init__(self, spec: dict, seed: dict, urls: list[str], stats: Stats, index: int):
        self.spec, self.stats, self.index = spec, stats, index
        self.id, self.seq = seed["id"], seed["seq"]
        self.rng = random.Random(spec["random_seed"] * 100_003 + self.id)
        suffix = lambda m: f"?user={m['id']}" if spec["baseline"] else ""  # noqa: E731 - the floor has no auth
        self.people = [
            Participant(spec, self, m, urls[(index * len(seed["members"]) + i) % len(urls)] + f"/ws/workshops/{self.id}/" + suffix(m), stats)
            for i, m in enumerate(seed["members"])
        ]
        self.facilitator, self.client, *self.consultants = self.people
        self.group_seqs: dict[int, str] = {}  # seq -> kind of every group event anyone received
        self.token_seq: dict[tuple, int] = {}  # token -> its event's seq, as anyone received it
        self.posted: set[str] = set()  # cids of the consultation's contributions, which the client may mark
        self.opened = asyncio.Event()  # reached the consultation
        self.window_known = asyncio.Event()  # the consultation window is fixed (stats.window)
        self.done = False

    def saw(self, seq: int, kind: str, token) -> None:
        if kind not in PRIVATE:
            self.group_seqs[seq] = kind
        if token is not None:
            self.token_seq.setdefault(token, seq)

    def head(self) -> int:
        return max(p.head for p in self.people)

    # --- the script -------------------------------------------------------------------

    async def play(self, t0: float) -> None:
        """One workshop, start to end, as docs/protocol.md describes it, in three windows shared by
        every workshop: the opening (start → consultation), staggered over `ramp` seconds; the
        consultation, `seconds` long, at once for all (the steady load: paced posts or bursts);
        the closing (plan, learning, end), staggered again."""
        s, rng = self.spec, self.rng
        offset = s["ramp"] * (self.index + rng.random()) / s["total_workshops"]
        f, c, ks = self.facilitator, self.client, self.consultants

        async def nap():
            await asyncio.sleep(rng.uniform(0, THINK))

        async def advance(step: int) -> None:
            await nap()
            if not await f.command({"type": "advance", "from_step": step}, structural=True):
                raise Aborted(f"advance from {step}")

        await self._until(t0 + offset)
        if not await f.command({"type": "start"}, structural=True):
            raise Aborted("start")
        await nap()
        title = f"Cas {self.id} {tag(uuid.uuid4().hex)}"
        await c.command({"type": "edit_case", "title": title, "problem": "Personne ne parle en réunion."}, token=("case", title))
        await advance(1)
        # Clarification: each consultant asks, the client answers two of them.
        cids = [str(uuid.uuid4()) for _ in ks]

        async def ask(k, cid):
            await nap()
            await k.command({"type": "ask_question", "cid": cid, "body": f"Depuis quand ? {tag(cid)}"}, token=("cid", cid))

        await asyncio.gather(*(ask(k, cid) for k, cid in zip(ks, cids, strict=True)))
        for cid in cids[:2]:
            if await self._wait_for(lambda cid=cid: cid in c.ids):
                await c.command({"type": "answer_question", "question_id": c.ids[cid], "body": f"Depuis l'été. {tag(cid, 'a')}"}, token=("answer", cid))
        await advance(2)
        # Contract: the request, and everyone but the facilitator accepts the rules.
        request = f"Aidez-moi à renouer le dialogue {tag(uuid.uuid4().hex)}"
        await c.command({"type": "write_request", "request": request, "help_kinds": ["ideas", "experiences"]}, token=("request", request))
        await asyncio.gather(*(p.command({"type": "accept_rules"}, token=("rules", p.id)) for p in [c, *ks]))
        asked = time.monotonic()
        await advance(3)
        # Consultation: the load this bench is about, once every workshop is there, and every
        # screen shows it (acks come before the rooms are rendered: the window starts after).
        await self._wait_for(lambda: all(p.snapshot_times and p.snapshot_times[-1] > asked for p in self.people), 300)
        self.opened.set()
        await self.window_known.wait()
        w0, w1 = self.stats.window
        marked: list[int] = []
        if s["mode"] == "burst":
            await self._bursts(ks, c, marked, [w0 + x for x in s["burst_offsets"]])
        else:
            await asyncio.gather(*(self._consultant(k, w1) for k in ks), self._marker(c, marked, w1))
        await self._until(w1 + offset)
        await advance(4)
        cid = str(uuid.uuid4())
        await c.command(
            {"type": "add_action", "cid": cid, "what": f"Un point d'équipe hebdomadaire {tag(cid)}", "first_step": "Lundi",
             "due": "2030-01-31", "success_sign": "On se parle", "kept": marked[:3]},
            token=("cid", cid),
        )
        await advance(5)
        learnings = [(p, str(uuid.uuid4())) for p in self.people]
        await asyncio.gather(*(p.command({"type": "write_learning", "cid": cid, "body": f"Écouter d'abord. {tag(cid)}"}, token=("cid", cid)) for p, cid in learnings))
        await asyncio.gather(*(p.command({"type": "evaluate", "score": 4, "comment": ""}) for p in [c, *ks]))
        await nap()
        if not await f.command({"type": "end", "reason": ""}, structural=True):
            raise Aborted("end")

    async def _consultant(self, k: Participant, until: float) -> None:
        pace, rng = self.spec["pace"], self.rng
        await self._until(self.stats.window[0] + rng.uniform(0, pace))
        while time.monotonic() < until:
            cid = str(uuid.uuid4())
            self.posted.add(cid)
            kind = rng.choice(["idea", "experience", "resource", "perspective"])
            await k.command({"type": "contribute", "cid": cid, "kind": kind, "body": f"Une {kind} de {k.id} {tag(cid)}"}, token=("cid", cid))
            await asyncio.sleep(pace * rng.uniform(0.5, 1.5))

    async def _marker(self, c: Participant, marked: list, until: float) -> None:
        """The client marks now and then a contribution he has received."""
        pace, rng = self.spec["pace"], self.rng
        while True:
            await asyncio.sleep(pace * rng.uniform(1.0, 2.0))
            if time.monotonic() >= until:
                return
            await self._mark(c, marked)

    async def _mark(self, c: Participant, marked: list) -> None:
        ours = {cid: i for cid, i in c.ids.items() if i not in marked and cid in self.posted}
        if not ours:
            return
        cid = self.rng.choice(sorted(ours))
        mark = self.rng.choice(["keep", "explore"])
        if await c.command({"type": "mark_contribution", "contribution_id": ours[cid], "mark": mark}, token=("mark", cid, mark)):
            marked.append(ours[cid])

    async def _bursts(self, ks, c, marked, instants: list[float]) -> None:
        """Everyone posts at once: every consultant of every workshop, at the same instants."""
        for instant in instants:
            await self._until(instant)
            cids = [str(uuid.uuid4()) for _ in ks]
            self.posted.update(cids)
            await asyncio.gather(*(
                k.command({"type": "contribute", "cid": cid, "kind": "idea", "body": f"Idée de {k.id} {tag(cid)}"}, token=("cid", cid))
                for k, cid in zip(ks, cids, strict=True)
            ))
            await self._mark(c, marked)

    async def _until(self, instant: float) -> None:
        delay = instant - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _wait_for(self, condition, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True


class Aborted(Exception):
    """A structural command failed: the rest of this workshop's script would only be refused."""


async def pinger(p: Participant, interval: float, until: float) -> None:
    """Browsers ping every 25 s (presence); the first at a random phase."""
    await asyncio.sleep(random.uniform(0, interval))
    while time.monotonic() < until:
        if p.up.is_set():
            await p.ping()
        await asyncio.sleep(interval)


# --- figures ------------------------------------------------------------------------------


def missing(workshops: list[Workshop], stats: Stats) -> int:
    """Deliveries still expected: acknowledged commands whose event has not reached everyone."""
    by_id = {w.id: w for w in workshops}
    count = 0
    for wid, _sender, token, sent, _kind in stats.submits:
        count += sum(p.shown_at(token, sent) is None for p in by_id[wid].people)
    for wid, _sender, sent, _threshold, _kind in stats.structurals:
        count += sum(not p.snapshot_times or p.snapshot_times[-1] < sent for p in by_id[wid].people)
    for w in workshops:  # events without a token (evaluation counts): applied, or under a later snapshot
        for seq, kind in w.group_seqs.items():
            if kind not in TOKENED:
                count += sum(seq not in p.applied and not any(s >= seq for s in p.snapshot_seqs) for p in w.people)
    return count


def figures(workshops: list[Workshop], stats: Stats) -> dict:
    """Every delivery checked: delays from submit to every other participant, losses, duplicates;
    grouped by command and by window (opening, consultation, closing)."""
    by_id = {w.id: w for w in workshops}
    w0, w1 = stats.window
    delays: list[float] = []
    by_kind: dict[str, list[float]] = {}
    by_phase: dict[str, list[float]] = {"opening": [], "consultation": [], "closing": []}
    lost = duplicated = steady_events = 0

    def phase(sent: float) -> str:
        return "opening" if sent < w0 else "consultation" if sent < w1 else "closing"

    def delivered(kind: str, sent: float, at: float) -> None:
        ms = round((at - sent) * 1000, 2)
        delays.append(ms)
        by_kind.setdefault(kind, []).append(ms)
        by_phase[phase(sent)].append(ms)

    for wid, sender, token, sent, kind in stats.submits:
        steady_events += w0 <= sent < w1
        for p in by_id[wid].people:
            at = p.shown_at(token, sent)
            if at is None:
                lost += 1
            elif p.id != sender:
                delivered(kind, sent, at)
    for wid, sender, sent, threshold, kind in stats.structurals:
        steady_events += w0 <= sent < w1
        for p in by_id[wid].people:
            first = bisect.bisect_left(p.snapshot_times, sent)
            at = next((t for t, seq in zip(p.snapshot_times[first:], p.snapshot_seqs[first:], strict=True) if seq > threshold), None)
            if at is None:
                lost += 1
            elif p.id != sender:
                delivered(kind, sent, at)
    untokened = 0
    for w in workshops:
        for p in w.people:
            duplicated += sum(n - 1 for n in p.live.values() if n > 1)
            # Shown twice: an appended item (contribution, question, learning, action: tokens by
            # cid) stored under two numbers. A re-sent edit or mark is recorded again and replaces
            # its element in place (upsert), as room.js resends its outbox: not a duplicate.
            duplicated += sum(len(seqs) - 1 for token, (_t, seqs) in p.tokens.items() if token[0] == "cid" and len(seqs) > 1)
        for seq, kind in w.group_seqs.items():
            if kind in TOKENED:
                continue  # counted through its token above
            untokened += 1
            for p in w.people:
                covered = seq in p.applied or any(s >= seq for s in p.snapshot_seqs)
                lost += 0 if covered else 1
    return {
        "workshops": len(workshops),
        "participants": sum(len(w.people) for w in workshops),
        "events": len(stats.submits) + len(stats.structurals) + untokened,
        "steady_events": steady_events,
        "submitted": len(stats.submits) + len(stats.structurals),
        "deliveries": len(delays),
        "delays": delays,
        "by_kind": by_kind,
        "by_phase": by_phase,
        "lost": lost,
        "duplicated": duplicated,
        "errors": stats.errors,
        "error_samples": stats.error_samples,
        "timeouts": stats.timeouts,
        "reconnects": stats.reconnects,
        "aborted": stats.aborted,
        "out_of_order": sum(p.out_of_order for w in workshops for p in w.people),
        "messages": stats.messages,
        "resynced": stats.resynced,
        "gone": sum(not p.up.is_set() for w in workshops for p in w.people),  # not connected at the end
        "resynced_ids": [p.id for w in workshops for p in w.people if p.resyncs and p.up.is_set()],
    }


# --- the process --------------------------------------------------------------------------


def emit(payload: dict) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


async def bounded(coroutines, limit: int):
    gate = asyncio.Semaphore(limit)

    async def one(coroutine):
        async with gate:
            return await coroutine

    return await asyncio.gather(*(one(c) for c in coroutines))


async def read_line() -> dict:
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return json.loads(line) if line.strip() else {}


def monotonic_of(wall: float) -> float:
    return time.monotonic() + (wall - time.time())


async def main_async(spec: dict) -> None:
    raise_open_files()
    pauses = Pauses()
    stats = Stats()
    workshops = [Workshop(spec, seed, spec["urls"], stats, spec["first_index"] + i) for i, seed in enumerate(spec["workshops"])]
    people = [p for w in workshops for p in w.people]
    started = time.monotonic()
    ok = await bounded([p.connect() for p in people], spec["connect_concurrency"])
    emit({"phase": "connected", "connected": sum(ok), "failed": len(ok) - sum(ok), "seconds": round(time.monotonic() - started, 2)})
    t0 = monotonic_of((await read_line())["t0"])
    opening_limit = spec["ramp"] + 120 + len(workshops) * 0.5  # an overloaded server opens slowly; never forever

    async def window() -> None:
        """Every workshop of every client process in the consultation: the parent then fixes the
        window, the same instant for all."""
        deadline = time.monotonic() + opening_limit
        while time.monotonic() < deadline and not all(w.opened.is_set() or w.done for w in workshops):
            await asyncio.sleep(0.1)
        emit({"phase": "opened", "opened": sum(w.opened.is_set() for w in workshops), "seconds": round(time.monotonic() - t0, 2)})
        w0 = monotonic_of((await read_line())["w0"])
        stats.window = (w0, w0 + spec["seconds"])
        for w in workshops:
            w.window_known.set()

    async def play(w: Workshop) -> None:
        try:
            await w.play(t0)
        except Aborted as error:
            stats.aborted += 1
            stats.error(f"workshop {w.id} aborted: {error}")
        finally:
            w.done = True

    run_limit = opening_limit + spec["seconds"] + spec["ramp"] + 120
    pings = [asyncio.create_task(pinger(p, spec["ping"], time.monotonic() + run_limit)) for p in people] if spec["ping"] else []
    try:
        await asyncio.wait_for(asyncio.gather(window(), *(play(w) for w in workshops)), run_limit)
    except TimeoutError:
        stats.error(f"the script did not finish within {run_limit:.0f} s")
    # Drain: wait until every expected delivery is in, at most `drain` seconds after the last arrival.
    while missing(workshops, stats) and time.monotonic() - stats.last_message < spec["drain"]:
        await asyncio.sleep(0.5)
    for task in pings:
        task.cancel()
    # Whatever has not arrived live, a browser fetches with `sync` (on a gap, a pong, a reconnect):
    # ask once for everyone. Missing after that is lost; recovered by it is only "missed live".
    missed_live = missing(workshops, stats)
    if missed_live:
        await bounded([p.resync() for p in people if p.up.is_set()], 200)
    result = figures(workshops, stats)
    result["missed_live"] = missed_live
    result["run_seconds"] = round(max(stats.last_message - t0, 0.001), 3)  # from t0 to the last arrival
    result["window_seconds"] = spec["seconds"]
    result.update(pauses.figures(*stats.window))
    emit({"phase": "done", **result})
    # The parent reads the server's CPU first, then lets the sockets go.
    await read_line()
    await bounded([p.close() for p in people], 200)


def main() -> None:
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    from bench.baseline import run

    run(main_async(spec))


if __name__ == "__main__":
    main()
