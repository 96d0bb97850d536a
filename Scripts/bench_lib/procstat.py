"""What /proc says about a process: CPU time, resident memory, threads."""
import os

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
