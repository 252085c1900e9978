"""Where the server spends its time during a run: py-spy samples (if installed), summarised.

py-spy is not a dependency: `.venv/bin/pip install py-spy` to use `--profile`. It attaches to the
running uvicorn processes (ptrace: root, or kernel.yama.ptrace_scope=0) and writes collapsed
stacks; the summary lists the functions with the largest share of samples, inclusive (the
function or anything it called) and own (the function itself).
"""
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path


def executable() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


def start(pids: list[int], duration: int = 3600):
    """Sample until finish() interrupts py-spy (it writes its file on SIGINT), `duration` at most."""
    spy = executable()
    if spy is None:
        return {"missing": True}
    tmp = Path(tempfile.mkdtemp(prefix="codev-profile-"))
    runs = []
    for pid in pids:
        out = tmp / f"{pid}.txt"
        process = subprocess.Popen(
            [spy, "record", "--pid", str(pid), "--duration", str(duration), "--rate", "200", "--format", "raw",
             "--output", str(out), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        runs.append((process, out))
    return {"runs": runs, "tmp": tmp}


def finish(profiler, top: int = 25) -> str:
    if profiler.get("missing"):
        return "py-spy is not installed (.venv/bin/pip install py-spy)"
    inclusive, own = Counter(), Counter()
    total = idle = 0
    for process, _out in profiler["runs"]:
        process.send_signal(signal.SIGINT)
    for process, out in profiler["runs"]:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        if not out.exists():
            continue
        for line in out.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            frames = [frame_name(f) for f in stack.split(";") if f]
            total += n
            if frames and is_idle(frames[-1]):
                idle += n
                continue
            for name in set(frames):
                inclusive[name] += n
            if frames:
                own[frames[-1]] += n
    shutil.rmtree(profiler["tmp"], ignore_errors=True)
    if not total:
        return "no samples (py-spy needs ptrace rights)"
    lines = [f"{total} samples, {100 * idle / total:.0f}% idle (waiting in the event loop or a lock)",
             "inclusive (the function and what it calls):"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top) if "<module>" not in name]
    ours = [(name, n) for name, n in inclusive.most_common() if name.split(" (", 1)[-1].startswith(("workshops/", "accounts/", "codev/"))]
    lines.append("in Codev's code, inclusive:")
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in ours[:top]]
    lines.append("own time (the function itself):")
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    return "\n".join(lines)


def frame_name(frame: str) -> str:
    """'render (django/template/base.py:170)' -> 'render (django/template/base.py)' so lines merge."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rpartition(":")[0] or where.rstrip(")")
    for marker in ("site-packages/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})"


def is_idle(frame: str) -> bool:
    return frame.startswith(("select ", "poll ", "epoll_wait", "run_once ", "wait ", "_worker (concurrent"))
