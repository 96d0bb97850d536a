"""Instructions per query under callgrind: repeatable on a shared machine, where CPU time is not.

The chassis runs under `valgrind --tool=callgrind` with instrumentation off until the warm-up
(logins, first queries) is done; then it is switched on, sysbench sends a fixed number of point
selects, and a dump gives the instructions the whole process executed (every thread, user space)
in that window. Valgrind 3.19 cannot read Swift 6's DWARF 5, so it runs copies of the binaries
with their debug information stripped.
"""
import pathlib
import re
import shutil
import subprocess
import time

from .sysbench import COMMON

SUMMARY = re.compile(r"^(?:summary|totals):\s+(\d+)", re.M)


def available() -> bool:
    return all(shutil.which(tool) for tool in ("valgrind", "callgrind_control", "strip"))


def stripped_binaries(bin_dir: pathlib.Path, work: pathlib.Path) -> pathlib.Path:
    out = work / "callgrind-bin"
    out.mkdir(parents=True, exist_ok=True)
    for f in [bin_dir / "chassis", *bin_dir.glob("lib*.so")]:
        subprocess.run(["strip", "--strip-debug", "-o", out / f.name, f], check=True)
    return out


def wrapper(out_file: pathlib.Path):
    return ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out_file}"]


def _sysbench(port, user, password, threads, events):
    done = subprocess.run(["sysbench", "oltp_point_select", *COMMON, f"--mysql-port={port}", f"--mysql-user={user}",
                           f"--mysql-password={password}", f"--threads={threads}", "--time=0", f"--events={events}", "run"],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=900)
    m = re.search(r"queries:\s+(\d+)", done.stdout)
    if done.returncode != 0 or not m:
        raise RuntimeError(f"sysbench under callgrind failed: {done.stdout[-800:]}{done.stderr[-400:]}")
    return int(m.group(1))


def instructions_per_query(pid: int, out_file: pathlib.Path, port, user, password, threads=8, queries=5000, warmup=2000):
    """Instructions the process executed per query, over `queries` point selects after `warmup`."""
    _sysbench(port, user, password, threads, warmup)
    subprocess.run(["callgrind_control", "--instr=on", str(pid)], check=True, capture_output=True, timeout=120)
    done = _sysbench(port, user, password, threads, queries)
    subprocess.run(["callgrind_control", "--dump", str(pid)], check=True, capture_output=True, timeout=120)
    for _ in range(100):   # the dump is written asynchronously
        dumps = sorted(out_file.parent.glob(out_file.name + ".*"))
        text = dumps[-1].read_text(errors="replace") if dumps else ""
        m = SUMMARY.search(text)
        if m:
            return int(m.group(1)) / done
        time.sleep(0.2)
    raise RuntimeError(f"no callgrind dump next to {out_file}")
