"""Runs Debian's sysbench against one port and turns its output into figures.

The measured window starts at a checkpoint `warmup` seconds in (connections are open by then and
sysbench resets its counters and latency histogram there) and ends at the last per-second report.
At both ends the CPU time (utime + stime from /proc) of every watched process is read, so CPU per
query is CPU used in the window divided by the queries done in the window, which sysbench's
per-second reports give. Percentiles come from sysbench's latency histogram (--histogram), which
covers the time after the checkpoint.
"""
import dataclasses
import re
import subprocess
import threading

from . import procstat

TABLES, TABLE_SIZE = 4, 10000
# Prepared statements pin a backend connection to the client for good through a transaction pooler,
# so every run uses the text protocol (the same for every setup).
COMMON = ["--db-driver=mysql", "--mysql-host=127.0.0.1", "--mysql-db=sbtest", f"--tables={TABLES}",
          f"--table-size={TABLE_SIZE}", "--db-ps-mode=disable", "--mysql-ssl=off"]

INTERVAL = re.compile(r"^\[ (\d+)s \] thds: (\d+) tps: ([\d.]+) qps: ([\d.]+) .* err/s: ([\d.]+) reconn/s: ([\d.]+)")
BUCKET = re.compile(r"^\s*([\d.]+) \|[* ]*\s(\d+)$")


def prepare(port: int, user: str, password: str, log_path):
    with open(log_path, "w") as log:
        done = subprocess.run(["sysbench", "oltp_read_only", *COMMON, f"--mysql-port={port}", f"--mysql-user={user}",
                               f"--mysql-password={password}", f"--threads={TABLES}", "prepare"],
                              stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"sysbench prepare failed, see {log_path}")


@dataclasses.dataclass
class Result:
    label: str
    ok: bool = False
    error: str = ""
    qps: float = 0.0          # queries per second in the window
    tps: float = 0.0          # events (transactions) per second in the window
    queries: float = 0.0      # queries in the window
    window: float = 0.0       # seconds
    p50: float = 0.0          # latency of an event, ms (a query for point selects, a transaction otherwise)
    p95: float = 0.0
    p99: float = 0.0
    max_ms: float = 0.0       # the longest event after the checkpoint, ms
    cpu_wait_ms: float = 0.0  # sysbench's threads' time waiting for a CPU, ms per event (procstat.run_queue_seconds)
    events: int = 0           # events after the checkpoint (the histogram's count)
    errors: int = 0           # ignored errors after the checkpoint
    reconnects: int = 0
    cpu_us: dict = dataclasses.field(default_factory=dict)      # label -> CPU microseconds per query
    user_us: dict = dataclasses.field(default_factory=dict)     # label -> of which in user space
    max_threads: dict = dataclasses.field(default_factory=dict)  # label -> most OS threads seen
    probe: dict = dataclasses.field(default_factory=dict)        # what the probe saw mid-window
    log: str = ""


class Sysbench:
    """One sysbench process; start(), then wait() for its Result. Several may run at once."""

    def __init__(self, label, test, port, user, password, threads, seconds, warmup, log_path,
                 watch=None, rate=0, ignore_errors=None, extra=(), probe=None):
        self.label, self.seconds, self.warmup, self.log_path = label, seconds, warmup, log_path
        self.probe, self._probed = probe, {}
        self.watch = dict(watch or {})
        self.argv = ["stdbuf", "-oL", "sysbench", test, *COMMON, f"--mysql-port={port}", f"--mysql-user={user}",
                     f"--mysql-password={password}", f"--threads={threads}", f"--time={seconds}",
                     "--report-interval=1", f"--report-checkpoints={warmup}", "--histogram=on", "--percentile=95",
                     f"--rate={rate}", *([f"--mysql-ignore-errors={ignore_errors}"] if ignore_errors else []),
                     *extra, "run"]
        self._lines = []
        self._first = self._last = None   # (second, {label: cpu times}) at the window's ends
        self._waits = [None, None, 0.0]   # sysbench's run queue at the start and near the end; events between
        self._qps_sum = self._tps_sum = 0.0
        self._max_threads = {}
        self._proc = None
        self._reader = None

    def start(self):
        self._proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, text=True, start_new_session=True)
        self.watch.setdefault("sysbench", self._proc.pid)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _snapshot(self):
        cpu = {}
        for label, pid in self.watch.items():
            try:
                cpu[label] = procstat.cpu_times(pid)
                self._max_threads[label] = max(self._max_threads.get(label, 0), procstat.threads(pid))
            except OSError:
                pass
        return cpu

    def _run_queue(self):
        try:
            return procstat.run_queue_seconds(self.watch["sysbench"])
        except OSError:
            return None

    def _read(self):
        for line in self._proc.stdout:
            self._lines.append(line)
            m = INTERVAL.match(line)
            if not m:
                continue
            second = int(m.group(1))
            if second == self.warmup:
                self._first = (second, self._snapshot())
                # sysbench's run queue: one file per thread, too many to read every second
                # without disturbing the run, so at the start and a second before the end
                # (at the end its threads are already leaving).
                self._waits = [self._run_queue(), None, 0.0]
            elif self._first and second > self._first[0]:
                self._last = (second, self._snapshot())
                self._tps_sum += float(m.group(3))
                if second == self.seconds - 1 and self._waits[0] is not None:
                    self._waits[1:] = [self._run_queue(), self._tps_sum]
                self._qps_sum += float(m.group(4))
                if self.probe and not self._probed and second >= (self.warmup + self.seconds) // 2:
                    try:
                        self._probed = self.probe() or {}
                    except Exception as e:   # a probe must never stop the reading
                        self._probed = {"probe error": str(e)[:200]}

    def stop(self):
        if self._proc and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(10)

    def wait(self, grace: float = 90.0) -> Result:
        """Waits for the run's end (bounded: its time plus grace), then parses what it printed."""
        result = Result(self.label)
        try:
            self._proc.wait(self.seconds + grace)
        except subprocess.TimeoutExpired:
            self.stop()
            result.error = f"no result {self.seconds + grace:.0f}s after start: killed (hang?)"
        self._reader.join(10)
        text = "".join(self._lines)
        if self.log_path:
            self.log_path.write_text(" ".join(self.argv) + "\n\n" + text)
            result.log = str(self.log_path)
        if not result.error and self._proc.returncode != 0:
            fatal = [l.strip() for l in self._lines if "FATAL" in l or "error" in l.lower()]
            result.error = f"sysbench exit {self._proc.returncode}: " + (fatal[0] if fatal else text[-300:].strip())
        if not result.error and not (self._first and self._last):
            result.error = "the run was too short for a measured window"
        if result.error:
            return result
        self._fill(result, text)
        return result

    def _fill(self, r: Result, text: str):
        (t0, cpu0), (t1, cpu1) = self._first, self._last
        r.window = float(t1 - t0)
        r.queries = self._qps_sum            # one-second intervals: the rate is the count
        r.qps = self._qps_sum / r.window
        r.tps = self._tps_sum / r.window
        for label in cpu1:
            if label in cpu0 and r.queries > 0:
                r.cpu_us[label] = (sum(cpu1[label]) - sum(cpu0[label])) / r.queries * 1e6
                r.user_us[label] = (cpu1[label][0] - cpu0[label][0]) / r.queries * 1e6
        r.max_threads = dict(self._max_threads)
        r.probe = dict(self._probed)
        final = text[text.rfind("SQL statistics:"):]
        m = re.search(r"ignored errors:\s+(\d+)", final)
        r.errors = int(m.group(1)) if m else 0
        m = re.search(r"reconnects:\s+(\d+)", final)
        r.reconnects = int(m.group(1)) if m else 0
        histogram = text[text.rfind("Latency histogram"):] if "Latency histogram" in text else ""
        buckets = [(float(m.group(1)), int(m.group(2))) for m in map(BUCKET.match, histogram.splitlines()) if m]
        r.events = sum(c for _, c in buckets)
        r.p50, r.p95, r.p99 = (percentile(buckets, p) for p in (50, 95, 99))
        m = re.search(r"max:\s+([\d.]+)", final)
        r.max_ms = float(m.group(1)) if m else 0.0
        before, after, events = self._waits
        if before is not None and after is not None and events:
            r.cpu_wait_ms = procstat.run_queue_growth(before, after) * 1e3 / events
        r.ok = True


def percentile(buckets, p):
    total = sum(c for _, c in buckets)
    if not total:
        return 0.0
    seen = 0
    for value, count in buckets:
        seen += count
        if seen >= total * p / 100:
            return value
    return buckets[-1][0]


def run(*args, **kwargs) -> Result:
    bench = Sysbench(*args, **kwargs).start()
    try:
        return bench.wait()
    finally:
        bench.stop()
