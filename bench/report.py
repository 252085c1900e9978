"""Figures of a run: percentiles, the human table, the last JSON line."""
import json
import math


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of already sorted values."""
    if not values:
        return None
    rank = max(1, math.ceil(q / 100 * len(values)))
    return values[min(rank, len(values)) - 1]


def summarise(parts: list[dict], *, cpu_s: float, helper_cpu_s: float, peak_rss: int, rss_idle: int, rss_connected: int,
              connect_s: float) -> dict:
    """Merge the client processes' raw figures into one run's figures."""
    delays = sorted(d for p in parts for d in p["delays"])
    kinds, phases = _groups(parts, "by_kind"), _groups(parts, "by_phase")
    steady = sum(p["steady_events"] for p in parts)
    window = max((p["window_seconds"] for p in parts), default=0)
    participants = sum(p["participants"] for p in parts)
    events = sum(p["events"] for p in parts)
    seconds = max(p["run_seconds"] for p in parts) if parts else 0.0
    connected = sum(p.get("connected", 0) for p in parts)
    return {
        "workshops": sum(p["workshops"] for p in parts),
        "participants": participants,
        "connected": connected,
        "events": events,
        "deliveries": len(delays),
        "p50_ms": _round(percentile(delays, 50)),
        "p99_ms": _round(percentile(delays, 99)),
        "max_ms": _round(delays[-1] if delays else None),
        "lost": sum(p["lost"] for p in parts) + max(0, participants - connected),
        "duplicated": sum(p["duplicated"] for p in parts),
        "errors": sum(p["errors"] for p in parts),
        "error_samples": [s for p in parts for s in p["error_samples"]][:10],
        "timeouts": sum(p["timeouts"] for p in parts),
        "reconnects": sum(p["reconnects"] for p in parts),
        "gone": sum(p.get("gone", 0) for p in parts),
        "missed_live": sum(p.get("missed_live", 0) for p in parts),
        "out_of_order": sum(p["out_of_order"] for p in parts),
        "seconds": round(seconds, 2),
        "steady_events": steady,
        "events_per_s": round(steady / window, 1) if window else 0.0,
        "deliveries_per_s": round(phases.get("consultation", {}).get("n", 0) / window, 1) if window else 0.0,
        "cpu_s": round(cpu_s, 2),
        "helper_cpu_s": round(helper_cpu_s, 2),
        "cpu_percent": round(100 * cpu_s / window, 1) if window else 0.0,
        "rss_mb": round(peak_rss / 2**20, 1),
        "kb_per_connection": round(max(0, rss_connected - rss_idle) / 1024 / connected, 1) if connected else None,
        "connect_s": connect_s,
        "client_gc_max_ms": max((p.get("gc_max_ms", 0) for p in parts), default=0),
        "client_gc_window_max_ms": max((p.get("gc_window_max_ms", 0) for p in parts), default=0),
        "by_kind": kinds,
        "by_phase": phases,
    }


def _groups(parts: list[dict], key: str) -> dict:
    """Percentiles of the delays grouped by command or by window, merged across client processes."""
    merged: dict[str, list[float]] = {}
    for part in parts:
        for name, values in part.get(key, {}).items():
            merged.setdefault(name, []).extend(values)
    out = {}
    for name, values in sorted(merged.items(), key=lambda kv: -len(kv[1])):
        values.sort()
        out[name] = {"n": len(values), "p50_ms": _round(percentile(values, 50)), "p99_ms": _round(percentile(values, 99)),
                     "max_ms": _round(values[-1] if values else None)}
    return out


def _round(value):
    return None if value is None else round(value, 1)


def ratio(ours, floor):
    if ours is None or not floor:
        return None
    return round(ours / floor, 1)


ROWS = [
    ("delay submit → every other screen, p50", "p50_ms", "ms"),
    ("p99", "p99_ms", "ms"),
    ("max", "max_ms", "ms"),
    ("events (group events played)", "events", ""),
    ("  of which in the consultation window", "steady_events", ""),
    ("deliveries timed", "deliveries", ""),
    ("lost (not shown, even after a final sync)", "lost", ""),
    ("missed live, recovered by sync", "missed_live", ""),
    ("duplicated", "duplicated", ""),
    ("command errors / timeouts", None, ""),
    ("sockets dropped by the server / not back at the end", None, ""),
    ("throughput in the window, events", "events_per_s", "/s"),
    ("throughput in the window, deliveries", "deliveries_per_s", "/s"),
    ("server CPU in the window", "cpu_s", "s"),
    ("server CPU / wall in the window", "cpu_percent", "%"),
    ("PostgreSQL + Redis CPU in the window", "helper_cpu_s", "s"),
    ("server CPU, whole run", "run_cpu_s", "s"),
    ("time for every workshop to open (to step 4)", "opening_s", "s"),
    ("server peak RSS", "rss_mb", "MB"),
    ("memory per open connection", "kb_per_connection", "KB"),
    ("time to connect and sync everyone", "connect_s", "s"),
    ("bench clients' longest GC pause, window", "client_gc_window_max_ms", "ms"),
    ("  whole run", "client_gc_max_ms", "ms"),
]

# The rows worth comparing with the floor: delays, costs, memory (not counts, nor the clients' own pauses).
RATIOS = {"p50_ms", "p99_ms", "max_ms", "cpu_s", "helper_cpu_s", "run_cpu_s", "opening_s", "rss_mb", "kb_per_connection"}


def table(ours: dict, floor: dict | None, title: str, name: str = "Codev") -> str:
    lines = [title, f"{'':40} {name:>14} {'baseline':>14} {'ratio':>7}"]
    for label, key, unit in ROWS:
        if key is None:
            first, second = ("errors", "timeouts") if label.startswith("command") else ("reconnects", "gone")
            a = f"{ours[first]} / {ours[second]}"
            b = f"{floor[first]} / {floor[second]}" if floor else ""
            lines.append(f"{label:40} {a:>14} {b:>14}")
            continue
        a, b = ours.get(key), floor.get(key) if floor else None
        r = ratio(a, b) if key in RATIOS else None
        lines.append(f"{label:40} {_fmt(a, unit):>14} {_fmt(b, unit):>14} {'' if r is None else f'×{r}':>7}")
    return "\n".join(lines)


def kinds_table(ours: dict, floor: dict | None, name: str = "Codev") -> str:
    """The same delays by what was sent: a step change costs a whole room per screen."""
    lines = []
    for key, title in (("by_phase", "by window"), ("by_kind", "by command")):
        lines.append(f"{title + ' (deliveries: p50 / p99 / max ms)':44} {name:>28} {'baseline':>28}")
        for kind, row in ours[key].items():
            other = (floor or {}).get(key, {}).get(kind)
            a = f"{row['n']}: {row['p50_ms']} / {row['p99_ms']} / {row['max_ms']}"
            b = f"{other['n']}: {other['p50_ms']} / {other['p99_ms']} / {other['max_ms']}" if other else "—"
            lines.append(f"  {kind:42} {a:>28} {b:>28}")
    return "\n".join(lines)


def _fmt(value, unit: str) -> str:
    if value is None:
        return "—"
    return f"{value} {unit}".strip()


JSON_KEYS = ["workshops", "participants", "events", "p50_ms", "p99_ms", "max_ms", "lost", "duplicated", "events_per_s",
             "rss_mb", "kb_per_connection"]


def json_line(ours: dict, floor: dict | None, extra: dict) -> str:
    line = {key: ours[key] for key in JSON_KEYS}
    line["baseline_p99_ms"] = floor["p99_ms"] if floor else None
    line["p99_ratio"] = ratio(ours["p99_ms"], floor["p99_ms"]) if floor else None
    line.update(extra)
    return json.dumps(line)
