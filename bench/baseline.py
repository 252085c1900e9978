"""The floor: a bare fan-out server written with the `websockets` library.

No authentication, no database, no templates: it speaks just enough of docs/protocol.md for the
bench's clients to play the same script (ack, numbered events carrying the same identifiers,
snapshots for structural commands, sync, ping). Whatever Codev adds on top of this is the price
of its guarantees; the bench prints Codev's figures as ratios to these.

    python -m bench.baseline --port 8765
"""
import argparse
import asyncio
import json
import re
import signal

import websockets

PATH = re.compile(r"^/ws/workshops/(\d+)/")
STRUCTURAL = {"start", "advance", "go_back", "end", "designate_case"}
KINDS = {
    "edit_case": "case.updated",
    "ask_question": "question.asked",
    "answer_question": "question.answered",
    "write_request": "contract.updated",
    "accept_rules": "rules.accepted",
    "contribute": "contribution.added",
    "mark_contribution": "contribution.marked",
    "add_action": "action.added",
    "write_learning": "learning.added",
    "write_note": "note.added",
    "evaluate": "evaluation.counted",
    "timer": "timer.changed",
}


class Room:
    def __init__(self):
        self.sockets: set = set()
        self.seq = 0
        self.items: dict[int, dict] = {}  # id -> contribution, for answers and marks
        self.evaluations: set = set()

    def data(self, message: dict, user: int) -> dict:
        """The event's data, in the real server's shape where the clients look for identifiers."""
        kind = message.get("type")
        person = {"id": user, "name": str(user)}
        if kind in ("ask_question", "contribute"):
            item = {"id": len(self.items) + 1, "cid": message.get("cid"), "kind": message.get("kind", "question"),
                    "body": message.get("body"), "answer": "", "mark": "", "author": person}
            self.items[item["id"]] = item
            return {"contribution": item}
        if kind == "answer_question":
            item = self.items.get(message.get("question_id"), {})
            item["answer"] = message.get("body")
            return {"contribution": item}
        if kind == "mark_contribution":
            item = self.items.get(message.get("contribution_id"), {})
            item["mark"] = message.get("mark")
            return {"contribution": item}
        if kind == "edit_case":
            return {"case": {"title": message.get("title")}}
        if kind == "write_request":
            return {"request": message.get("request"), "help_kinds": message.get("help_kinds")}
        if kind == "accept_rules":
            return {"person": person}
        if kind == "add_action":
            return {"action": {"cid": message.get("cid"), "what": message.get("what")}}
        if kind == "write_learning":
            return {"learning": {"cid": message.get("cid"), "body": message.get("body"), "author": person}}
        if kind == "evaluate":
            self.evaluations.add(user)
            return {"count": len(self.evaluations)}
        return {k: v for k, v in message.items() if k not in ("type", "ref")}


ROOMS: dict[int, Room] = {}


async def handler(ws) -> None:
    match = PATH.match(ws.request.path)
    if match is None:
        await ws.close(4404)
        return
    room = ROOMS.setdefault(int(match[1]), Room())
    query = ws.request.path.partition("?")[2]
    user = int(dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("user", 0))
    room.sockets.add(ws)
    try:
        async for raw in ws:
            try:
                message = json.loads(raw)
                kind = message.get("type")
            except (ValueError, AttributeError):
                await ws.send(json.dumps({"type": "error", "ref": None, "code": "invalid", "message": "not JSON"}))
                continue
            ref = message.get("ref")
            if kind == "sync":
                since = message.get("since")
                if isinstance(since, int) and since > room.seq:
                    room.seq = since  # the bench's seeded workshops start past 0
                await ws.send(json.dumps({"type": "synced", "seq": room.seq}))
            elif kind == "ping":
                await ws.send(json.dumps({"type": "pong", "ref": ref, "seq": room.seq}))
            elif kind in STRUCTURAL:
                room.seq += 1
                await ws.send(json.dumps({"type": "ack", "ref": ref}))
                snapshot = {"type": "snapshot", "seq": room.seq, "timer": None, "ops": [{"op": "room", "html": "<div></div>"}]}
                await asyncio.gather(*(s.send(json.dumps(snapshot)) for s in list(room.sockets)), return_exceptions=True)
            elif kind in KINDS:
                room.seq += 1
                event = {"type": "event", "seq": room.seq, "kind": KINDS[kind], "data": room.data(message, user), "ops": []}
                await ws.send(json.dumps({"type": "ack", "ref": ref}))
                text = json.dumps(event)
                await asyncio.gather(*(s.send(text) for s in list(room.sockets)), return_exceptions=True)
            else:
                await ws.send(json.dumps({"type": "error", "ref": ref, "code": "invalid", "message": "unknown type"}))
    except websockets.ConnectionClosed:
        pass
    finally:
        room.sockets.discard(ws)


async def serve(host: str, port: int, compression: str | None) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with websockets.serve(handler, host, port, compression=compression, max_size=2**16, ping_interval=None):
        await stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--compression", choices=["deflate", "none"], default="deflate")
    args = parser.parse_args()
    run(serve(args.host, args.port, None if args.compression == "none" else "deflate"))


def run(coroutine):
    """uvloop when installed (it comes with uvicorn[standard]), as the real server uses it."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


if __name__ == "__main__":
    main()
