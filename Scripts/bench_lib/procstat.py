"""What /proc says about a process (CPU time, resident memory, threads) and about the CPUs as a whole."""
import os
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_times(pid: int) -> tuple:
    """(utime, stime) in seconds of every thread of the process so far (children not included)."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()   # after "pid (comm) ": state is field 3, utime 14, stime 15
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def cpu_seconds(pid: int) -> float:
    """utime + stime of every thread of the process so far (children not included)."""
    return sum(cpu_times(pid))


def run_queue_seconds(pid: int) -> dict:
    """{thread id: seconds it has spent runnable but waiting for a CPU so far} of the process's
    threads (the second field of /proc/PID/task/TID/schedstat): a load generator's own scheduling
    delay, which its latency figures include. By thread, so that a thread that ended between two
    readings does not count as negative time."""
    waits = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                waits[int(task)] = int(f.read().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):   # a thread that ended meanwhile
            pass
    return waits


def run_queue_growth(before: dict, after: dict) -> float:
    """Seconds of run-queue wait between two readings, over the threads in both."""
    return sum(after[t] - before[t] for t in after.keys() & before.keys())


def status_value(pid: int, name: str) -> int:
    """A number of /proc/PID/status (VmRSS and the like in KiB, Threads as a count)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise KeyError(f"{name} not in /proc/{pid}/status")


def rss_kib(pid: int) -> int:
    return status_value(pid, "VmRSS")


def threads(pid: int) -> int:
    return status_value(pid, "Threads")


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][:1] not in ("Z", "X")
    except OSError:
        return False


def _cpu_ticks() -> tuple:
    """(idle, total) jiffies of all CPUs so far (idle includes iowait)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return fields[3] + fields[4], sum(fields[:8])


def settle(idle_share=0.9, quiet_seconds=3, timeout=120, sleep=time.sleep) -> tuple:
    """Waits until the CPUs have been at least `idle_share` idle for `quiet_seconds` seconds in a
    row (what the previous run left running, such as a thousand closing connections, has wound
    down), or `timeout` seconds pass. Returns (seconds waited, idle share of the last second)."""
    waited, quiet, share = 0, 0, 0.0
    before = _cpu_ticks()
    while waited < timeout and quiet < quiet_seconds:
        sleep(1)
        waited += 1
        after = _cpu_ticks()
        total = after[1] - before[1]
        share = (after[0] - before[0]) / total if total > 0 else 1.0
        quiet = quiet + 1 if share >= idle_share else 0
        before = after
    return waited, share
