"""Load bench: K live workshops of 8 over real websockets, then the same clients against a bare
fan-out server (the floor), figures side by side, and one JSON line last.

    python -m bench --workshops 50 --seconds 20                   # SQLite, in-memory layer, 1 process
    python -m bench --workshops 200 --workers 2 --postgres --redis
    python -m bench --workshops 20 --mode burst
    python -m bench --url http://127.0.0.1:8000 --seed seed.json  # a running server (loopback only)
    python -m bench --scenario room                               # room page with 300 contributions
    python -m bench --scenario step                               # one step change's rooms for a group of 8
    python -m bench --scenario restart --workshops 125            # 1,000 clients across a restart

Everything runs on loopback, and every loop is bounded in count and time.
"""
import argparse
import json
import math
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from bench import report
from bench.client import raise_open_files
from bench.servers import LOOPBACK, ROOT, BaselineServer, CodevServer, Meter

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", choices=["workshops", "room", "step", "restart"], default="workshops")
    p.add_argument("--workshops", type=int, default=10, help="K workshops of 8 participants (default 10)")
    p.add_argument("--seconds", type=float, default=20,
                   help="length of the consultation window, where every workshop is live at once (default 20)")
    p.add_argument("--mode", choices=["paced", "burst"], default="paced",
                   help="paced: each consultant posts every PACE s on average; burst: everyone posts at the same instants")
    p.add_argument("--pace", type=float, default=60,
                   help="mean seconds between two contributions of one consultant (default 60: a real consultation sees "
                        "one every few minutes)")
    p.add_argument("--ramp", type=float, default=None,
                   help="seconds over which the workshops' openings (and closings) are staggered (default 0.2 × K, at least 2)")
    p.add_argument("--bursts", type=int, default=3, help="burst mode: how many instants where every consultant posts at once")
    p.add_argument("--workers", type=int, default=1, help="uvicorn processes (above 1 needs --redis)")
    p.add_argument("--postgres", nargs="?", const=os.environ.get("CODEV_BENCH_POSTGRES_URL", DEFAULT_POSTGRES), default=None,
                   metavar="URL", help=f"run on PostgreSQL (a database codev_bench_<pid> is created there and dropped; default {DEFAULT_POSTGRES})")
    p.add_argument("--redis", nargs="?", const=os.environ.get("CODEV_BENCH_REDIS_URL", DEFAULT_REDIS), default=None,
                   metavar="URL", help=f"Redis pub/sub channel layer under a prefix of its own (default {DEFAULT_REDIS})")
    p.add_argument("--pool-size", type=int, default=20, help="PostgreSQL pool size per worker")
    p.add_argument("--url", help="target a running server instead (loopback only); needs --seed")
    p.add_argument("--seed", help="with --url: the JSON printed by `manage.py seed_bench` on that server's database")
    p.add_argument("--server-pid", type=int, action="append", default=[], help="with --url: pids to measure (CPU, RSS)")
    p.add_argument("--no-baseline", dest="baseline", action="store_false", help="skip the bare fan-out server")
    p.add_argument("--baseline-only", action="store_true",
                   help="play the script against the bare fan-out server alone (the floor of this machine)")
    p.add_argument("--client-procs", type=int, default=0, help="client processes (default: one per 2,000 participants)")
    p.add_argument("--compression", choices=["deflate", "none"], default="deflate", help="permessage-deflate, as browsers ask (default)")
    p.add_argument("--server-deflate", choices=["on", "off"], default="off",
                   help="uvicorn --ws-per-message-deflate; off as deployed (deploy/), which halves memory per socket")
    p.add_argument("--ping", type=float, default=25, help="seconds between two pings of a socket, as browsers do (0: none)")
    p.add_argument("--connect-concurrency", type=int, default=100, help="handshakes in flight at once")
    p.add_argument("--drain", type=float, default=30,
                   help="after the script, wait for missing deliveries until none has arrived for this many seconds")
    p.add_argument("--settings", default="codev.settings",
                   help="Django settings of the server (bench.tuned_settings: the settings docs/performance.md proposes)")
    p.add_argument("--random-seed", type=int, default=1)
    p.add_argument("--contributions", type=int, default=None,
                   help="room and step scenarios: contributions in the room (default 300 for room, 30 for step)")
    p.add_argument("--profile", action="store_true",
                   help="sample the server with py-spy over the whole scripted run (if installed: pip install py-spy)")
    p.add_argument("--json-only", action="store_true", help="print only the JSON line")
    args = p.parse_args(argv)
    if not 1 <= args.workshops <= 2000:
        p.error("--workshops must be between 1 and 2000")
    if not 1 <= args.seconds <= 600:
        p.error("--seconds must be between 1 and 600")
    if args.contributions is not None and not 0 <= args.contributions <= 5000:
        p.error("--contributions must be between 0 and 5000")
    if args.ramp is not None and not 0 <= args.ramp <= 1200:
        p.error("--ramp must be between 0 and 1200")
    if not 0.05 <= args.pace <= 600 or not 1 <= args.bursts <= 50 or not 1 <= args.workers <= 16:
        p.error("--pace in 0.05..600, --bursts in 1..50, --workers in 1..16")
    if args.baseline_only and args.url:
        p.error("--baseline-only starts its own bare server: no --url")
    if args.url:
        if not args.seed:
            p.error("--url needs --seed (manage.py seed_bench on that server's database)")
        host = urlsplit(args.url).hostname or ""
        if host not in LOOPBACK and not host.startswith("127."):
            p.error("the bench only targets loopback addresses")
    return args


def say(args, text: str = "") -> None:
    if not args.json_only:
        print(text, flush=True)


class ClientProc:
    """One `python -m bench.client` subprocess and its line protocol."""

    def __init__(self, spec: dict, tmp: Path, index: int):
        self.spec_path = tmp / f"client-{index}.json"
        self.spec_path.write_text(json.dumps(spec))
        self.log = tmp / f"client-{index}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.client", str(self.spec_path)], cwd=ROOT, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=open(self.log, "wb"), text=True,
        )
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def expect(self, phase: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = ""
            if line is None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"client process gave no '{phase}' in {timeout:.0f} s:\n{self.log.read_text(errors='replace')[-3000:]}")
            if line.strip().startswith("{"):
                message = json.loads(line)
                if message.get("phase") == phase:
                    return message

    def tell(self, message: dict) -> None:
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def finish(self, timeout: float = 60) -> None:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)


def warm_up(server) -> None:
    """One page, so templates and translations are loaded before memory is read."""
    if isinstance(server, CodevServer):
        try:
            urllib.request.urlopen(server.http() + "/login/", timeout=10).read()  # noqa: S310 - our loopback server
        except OSError:
            pass


def play(server, seed: dict, args, *, baseline: bool, helpers: bool = False, scenario_hook=None) -> dict:
    """Connect everyone, play the script, collect the figures of one server."""
    workshops = seed["workshops"]
    participants = sum(len(w["members"]) for w in workshops)
    procs = args.client_procs or max(1, math.ceil(participants / 2000))
    procs = min(procs, len(workshops))
    tmp = Path(tempfile.mkdtemp(prefix="codev-bench-clients-"))
    first, last = args.seconds * 0.1, args.seconds * 0.9
    burst_offsets = [first + i * (last - first) / max(1, args.bursts - 1) for i in range(args.bursts)] if args.mode == "burst" else []
    warm_up(server)
    meter = Meter(server.pids, helpers=helpers)
    meter.start()
    rss_idle = meter.rss()
    clients = []
    per = math.ceil(len(workshops) / procs)
    started = time.monotonic()
    for i in range(procs):
        chunk = workshops[i * per:(i + 1) * per]
        if not chunk:
            continue
        spec = {
            "workshops": chunk, "first_index": i * per, "urls": server.urls(), "origin": "http://127.0.0.1",
            "cookie_name": seed.get("cookie_name", "sessionid"), "mode": args.mode, "seconds": args.seconds,
            "pace": args.pace, "burst_offsets": burst_offsets, "ping": args.ping, "compression": args.compression,
            "connect_concurrency": max(1, args.connect_concurrency // procs), "drain": args.drain,
            "random_seed": args.random_seed, "baseline": baseline, "scenario": args.scenario,
            "ramp": args.ramp if args.ramp is not None else default_ramp(len(workshops)),
            "total_workshops": len(workshops),
        }
        clients.append(ClientProc(spec, tmp, i))
    try:
        connect_limit = 120 + participants / 10
        connected = [c.expect("connected", connect_limit) for c in clients]
        connect_s = round(time.monotonic() - started, 2)
        time.sleep(1.0)  # let the joins' presence broadcasts settle before reading memory
        rss_connected = meter.rss()
        run_cpu0, run_helper0 = meter.cpu(), meter.helper_cpu()
        profiler = start_profiler(server, args) if args.profile and not baseline else None
        t0 = time.time() + 0.5
        for c in clients:
            c.tell({"t0": t0})
        if scenario_hook:
            scenario_hook(t0)
        ramp = args.ramp if args.ramp is not None else default_ramp(len(workshops))
        opened = [c.expect("opened", ramp + 300 + len(workshops)) for c in clients]
        opening_s = max(o["seconds"] for o in opened)
        # The consultation window: the same instant for every client process; the server's CPU and
        # a profile are read over it alone (the steady load).
        w0 = time.time() + 1.0
        for c in clients:
            c.tell({"w0": w0})
        time.sleep(max(0.0, w0 - time.time()))
        cpu0, helper0 = meter.cpu(), meter.helper_cpu()
        restart = None
        if args.scenario == "restart" and not baseline:
            time.sleep(args.seconds / 2)
            restart = restart_server(server)
            time.sleep(max(0.0, w0 + args.seconds - time.time()))
        else:
            time.sleep(args.seconds)
        cpu1, helper1 = meter.cpu(), meter.helper_cpu()
        results = [c.expect("done", ramp + 240 + args.drain) for c in clients]
        run_cpu1, run_helper1 = meter.cpu(), meter.helper_cpu()
        for c in clients:
            c.tell({"close": True})
        for c in clients:
            c.finish()
        profile = finish_profiler(profiler) if profiler else None
    finally:
        for c in clients:
            c.kill()
        meter.close()
        shutil.rmtree(tmp, ignore_errors=True)  # the specs hold the run's session cookies
    for part, conn in zip(results, connected, strict=True):
        part["connected"] = conn["connected"]
    figures = report.summarise(results, cpu_s=cpu1 - cpu0, helper_cpu_s=helper1 - helper0, peak_rss=meter.peak_rss,
                               rss_idle=rss_idle, rss_connected=rss_connected, connect_s=connect_s)
    figures.update(opening_s=opening_s, opened=sum(o["opened"] for o in opened), run_cpu_s=round(run_cpu1 - run_cpu0, 2),
                   run_helper_cpu_s=round(run_helper1 - run_helper0, 2))
    if profile:
        figures["profile"] = profile
    if restart:
        back = [b for part in results for _d, b in part["resynced"]]
        restart["reconnected"] = len(back)
        restart["caught_up_s"] = round(max(back) - restart["up_at"], 2) if back else None
        restart["gone"] = participants - len({i for part in results for i in part["resynced_ids"]})
        figures["restart"] = restart
        for key in ("cpu_s", "cpu_percent", "helper_cpu_s", "run_cpu_s"):
            figures[key] = None  # two server lives: no one figure
    return figures


def restart_server(server) -> dict:
    """Stop every worker as a deploy does (SIGINT: uvicorn closes the sockets, 1012), start them
    again on the same ports; the clients reconnect, resend what was not acknowledged, catch up."""
    down = time.time()
    server.stop()
    stopped = time.time()
    server.start()
    up = time.time()
    return {"stop_s": round(stopped - down, 2), "start_s": round(up - stopped, 2), "up_at": up}


def default_ramp(workshops: int) -> float:
    """Openings spread over 0.2 s per workshop (at least 2 s): a whole room per screen at each
    step change is the costliest thing the server does."""
    return max(2.0, 0.2 * workshops)


def start_profiler(server, args):
    from bench import profile

    return profile.start(server.pids())


def finish_profiler(profiler):
    from bench import profile

    return profile.finish(profiler)


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def run_workshops(args) -> int:
    raise_open_files()
    helpers = bool(args.postgres or args.redis)
    load_before = load_average()
    if args.url:
        seed = json.loads(Path(args.seed).read_text())
        server = External(args.url, args.server_pid)
        layout = f"external server {args.url}"
    else:
        server = CodevServer(workers=args.workers, postgres=args.postgres, redis=args.redis,
                             deflate=args.server_deflate == "on", pool_size=args.pool_size, settings=args.settings)
        layout = server.layout + ("" if args.settings == "codev.settings" else f", {args.settings}")
        say(args, f"preparing {args.workshops} workshops of 8 ({layout})…")
        try:
            seed = server.prepare(args.workshops)
            if not args.baseline_only:
                server.start()
        except BaseException:
            server.cleanup()
            raise
    ours = None
    try:
        say(args, f"playing: {args.mode}, {args.seconds:g} s, pace {args.pace:g} s, ping {args.ping:g} s, compression {args.compression}")
        if not args.baseline_only:
            ours = play(server, seed, args, baseline=False, helpers=helpers)
        if isinstance(server, CodevServer) and server.errors_logged().strip():
            say(args, "server log (tail):\n" + server.errors_logged()[-3000:])
    finally:
        if isinstance(server, CodevServer):
            server.cleanup()
    floor = None
    if args.baseline or args.baseline_only:
        say(args, "playing the same script against the bare fan-out server (the floor)…")
        baseline = BaselineServer(deflate=args.server_deflate == "on")
        try:
            baseline.start()
            floor = play(baseline, seed, args, baseline=True)
        finally:
            baseline.cleanup()
    if ours is None:  # the floor alone: its figures are the run's
        ours, floor, layout = floor, None, "the bare fan-out server alone (bench/baseline.py)"
    title = (f"{ours['workshops']} workshops, {ours['participants']} participants — {layout} — {args.mode}, "
             f"{args.seconds:g} s — load average before: {load_before}, after: {load_average()}")
    say(args, "")
    name = "baseline" if args.baseline_only else "Codev"
    say(args, report.table(ours, floor, title, name))
    say(args, report.kinds_table(ours, floor, name))
    for label, figures in ((name, ours), ("baseline", floor)):
        if figures and figures["error_samples"]:
            say(args, f"{label} errors (first): " + " | ".join(figures["error_samples"][:5]))
    if ours.get("restart"):
        r = ours["restart"]
        say(args, f"\nrestart in the middle of the consultation: stopped in {r['stop_s']} s, started in {r['start_s']} s; "
                  f"{r['reconnected']} sockets back and caught up {r['caught_up_s']} s after the server was up; "
                  f"{r['gone']} never came back; lost {ours['lost']}, duplicated {ours['duplicated']}")
    if ours.get("profile"):
        say(args, "\nserver profile (py-spy, share of samples):\n" + ours["profile"])
    extra = {"layout": layout, "mode": args.mode, "seconds": args.seconds, "pace": args.pace, "errors": ours["errors"],
             "timeouts": ours["timeouts"], "reconnects": ours["reconnects"], "gone": ours["gone"],
             "missed_live": ours["missed_live"], "cpu_s": ours["cpu_s"], "helper_cpu_s": ours["helper_cpu_s"],
             **{f"{phase}_{key}": ours["by_phase"].get(name, {}).get(key)
                for phase, name in (("window", "consultation"), ("opening", "opening"), ("closing", "closing"))
                for key in ("p50_ms", "p99_ms")},
             "baseline_window_p99_ms": floor["by_phase"].get("consultation", {}).get("p99_ms") if floor else None,
             "opening_s": ours["opening_s"], "run_cpu_s": ours["run_cpu_s"], "connected": ours["connected"],
             **({"restart_caught_up_s": ours["restart"]["caught_up_s"], "restart_reconnected": ours["restart"]["reconnected"],
                 "restart_gone": ours["restart"]["gone"]} if ours.get("restart") else {}),
             "p50_ratio": report.ratio(ours["p50_ms"], floor["p50_ms"]) if floor else None,
             "events_per_s_ratio": report.ratio(ours["events_per_s"], floor["events_per_s"]) if floor else None,
             "load": load_average()}
    print(report.json_line(ours, floor, extra), flush=True)
    return 1 if ours["lost"] or ours["duplicated"] else 0  # both must be 0, whatever the speed


class External:
    """A server someone else started: only its URL (and optionally its pids) are known."""

    def __init__(self, url: str, pids: list[int]):
        parts = urlsplit(url)
        self.url = f"ws://{parts.netloc}"
        self._pids = pids

    def urls(self) -> list[str]:
        return [self.url]

    def pids(self) -> list[int]:
        return self._pids


def main(argv=None) -> int:
    args = parse(argv)
    if args.scenario == "room":
        from bench import room_page

        return room_page.main(args)
    if args.scenario == "step":
        from bench import step_change

        return step_change.main(args)
    if args.scenario == "restart":
        args.baseline = False  # the floor keeps no state to restart with
    return run_workshops(args)
