"""The five scenarios of issue 9. Each takes the lab and returns a section: a title, what it
measures and how, a table (columns, rows), notes, and the figures the targets are judged on."""
import dataclasses
import resource
import statistics
import sys
import time

from . import callgrind, procstat, prometheus
from .services import BenchError
from .lab import SB_PASSWORD, SB_USER, CALM_USER, FLOOD_USER, USER_PASSWORD, Setup

POINT, READ_ONLY = "oltp_point_select", "oltp_read_only"


# ---------------------------------------------------------------------------------- helpers

def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def num(value, digits=1):
    if value is None:
        return "-"
    if digits == 0 or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def short(test):
    return test.removeprefix("oltp_")


def record(result, **keys):
    return {**keys, **dataclasses.asdict(result)}


def summarize(runs, key, baseline=None):
    """Median over rounds of every figure of the runs that share key(run); with baseline (a key),
    the QPS ratio to the baseline's run of the same round, and mysqld CPU per query likewise."""
    groups = {}
    for run in runs:
        groups.setdefault(key(run), []).append(run)
    out = {}
    for k, rs in groups.items():
        ok = [r for r in rs if r["ok"]]
        row = {
            "runs": len(rs), "ok": len(ok), "errors": [r["error"] for r in rs if not r["ok"]],
            "qps": med([r["qps"] for r in ok]), "p50": med([r["p50"] for r in ok]),
            "p95": med([r["p95"] for r in ok]), "p99": med([r["p99"] for r in ok]),
            "max_ms": med([r.get("max_ms") for r in ok]), "cpu_wait_ms": med([r.get("cpu_wait_ms") for r in ok]),
            "ignored_errors": sum(r["errors"] for r in ok),
        }
        for who in ("proxy", "mysqld", "sysbench"):
            row[who] = med([r["cpu_us"].get(who) for r in ok])
        row["all"] = sum(row[w] for w in ("proxy", "mysqld", "sysbench") if row[w] is not None) if ok else None
        row["mysqld_threads"] = max((r["max_threads"].get("mysqld", 0) for r in ok), default=None)
        row["connected"] = med([r.get("probe", {}).get("Threads_connected") for r in ok])
        row["running"] = med([r.get("probe", {}).get("Threads_running") for r in ok])
        row["logins"] = med([r.get("probe", {}).get("logins") for r in ok])
        out[k] = row
    if baseline:
        for k, row in out.items():
            ratios, cpu_ratios = [], []
            for r in (r for r in runs if key(r) == k and r["ok"]):
                base = [b for b in runs if key(b) == baseline(k) and b["round"] == r["round"] and b["ok"]]
                if base and base[0]["qps"]:
                    ratios.append(r["qps"] / base[0]["qps"])
                if base and base[0]["cpu_us"].get("mysqld") and r["cpu_us"].get("mysqld"):
                    cpu_ratios.append(r["cpu_us"]["mysqld"] / base[0]["cpu_us"]["mysqld"])
            row["ratio"], row["mysqld_ratio"] = med(ratios), med(cpu_ratios)
    return out


def failures(row):
    if not row["errors"]:
        return ""
    return f"FAILED {len(row['errors'])}/{row['runs']}: {row['errors'][0]}"


def alternate(items, flip):
    """A B C, then C B A: every setup runs early and late as often as the others."""
    return list(reversed(items)) if flip else list(items)


def flipped(rnd, step):
    """Whether step (a workload within a round) runs its setups in reverse in round rnd. Every step
    swaps its order from one round to the next, and neighbouring steps alternate within a round; a
    flag toggled once per step would give each step the same order in every round whenever a round
    has an even number of steps."""
    return (rnd + step) % 2 == 1


# ---------------------------------------------------------------------------------- 1. overhead

def overhead(lab):
    tests = [POINT, READ_ONLY]
    thread_counts = [8, 64] if lab.quick else [8, 64, 256]
    lab.server()
    runs = []
    for rnd in range(lab.rounds):
        for step, (test, threads) in enumerate((t, n) for t in tests for n in thread_counts):
            setups = [Setup("direct", lab.db.port), lab.haproxy(), lab.funnel(64, name="funnel")]
            for s in alternate(setups, flipped(rnd, step)):
                r = lab.sysbench(f"s1 {short(test)} {threads}t {s.name} r{rnd + 1}", test, s, threads)
                runs.append(record(r, test=test, threads=threads, setup=s.name, round=rnd))
    summary = summarize(runs, key=lambda r: (r["test"], r["threads"], r["setup"]),
                        baseline=lambda k: (k[0], k[1], "direct"))
    for test in tests:
        for threads in thread_counts:
            summary[(test, threads, "funnel")]["vs_haproxy"] = paired(runs, test, threads, "funnel", "haproxy")
    rows = []
    for test in tests:
        for threads in thread_counts:
            for setup in ("direct", "haproxy", "funnel"):
                s = summary[(test, threads, setup)]
                rows.append([short(test), threads, setup, num(s["qps"], 0), num(s["ratio"], 2), num(s["p95"], 2),
                             num(s["proxy"]), num(s["mysqld"]), num(s["sysbench"]), num(s["all"]), failures(s)])
    return {
        "title": "Overhead: direct vs haproxy vs funnel",
        "about": (
            f"sysbench `oltp_point_select` (one query per event) and `oltp_read_only` (16 queries per "
            f"transaction: BEGIN, 14 SELECTs, COMMIT) at {' and '.join(map(str, thread_counts))} client threads, "
            f"straight to MariaDB, through haproxy (TCP mode) and through the funnel (transaction pooling, "
            f"pool of 64 backend connections). QPS counts queries; p95 is the latency of one event "
            f"(query or transaction) in ms; CPU columns are microseconds of CPU per query of each process; "
            f"`all` is their sum. ×direct is the QPS ratio to direct in the same round. The targets are judged "
            f"round by round: the funnel's CPU per query and QPS over haproxy's in the same round, median over "
            f"rounds (the targets table gives the range of the rounds too)."),
        "columns": ["test", "threads", "setup", "QPS", "×direct", "p95 ms", "proxy µs/q", "mysqld µs/q",
                    "sysbench µs/q", "all µs/q", "problems"],
        "rows": rows,
        "notes": [],
        "data": {"summary": {"|".join(map(str, k)): v for k, v in summary.items()}},
        "runs": runs,
    }


def paired(runs, test, threads, setup, other):
    """Round by round, setup's figures over other's in the same round (they ran minutes apart, in
    alternated order, so the machine's slower and faster spells touch both alike): the proxy's CPU
    per query and the QPS, each as {"median", "low", "high", "rounds"}. The targets are judged on
    these medians; low and high show how far single rounds strayed."""
    def of(setup_name):
        return {r["round"]: r for r in runs
                if (r["test"], r["threads"], r["setup"]) == (test, threads, setup_name) and r["ok"]}
    mine, theirs = of(setup), of(other)
    out = {}
    for figure, get in (("cpu", lambda r: r["cpu_us"].get("proxy")), ("qps", lambda r: r["qps"])):
        ratios = [get(mine[n]) / get(theirs[n]) for n in sorted(mine.keys() & theirs.keys())
                  if get(mine[n]) and get(theirs[n])]
        if ratios:
            out[figure] = {"median": med(ratios), "low": min(ratios), "high": max(ratios), "rounds": len(ratios)}
    return out


# ---------------------------------------------------------------------------------- 2. a crowd

def crowd(lab):
    n = 1000
    warmup = max(lab.warmup, 3 if lab.quick else 5)
    one_thread = [("direct", 8), ("direct", n), ("haproxy", n), ("funnel (pool 8)", n), ("funnel (pool 32)", n),
                  ("funnel (pool 32)", 8)]
    groups = [("", one_thread), ("--thread-handling=pool-of-threads", [("direct, pool-of-threads", n)])]

    def setup_named(name):
        if name.startswith("direct"):
            return Setup(name, lab.db.port)
        if name == "haproxy":
            return lab.haproxy()
        return lab.funnel(int(name.split()[-1].rstrip(")")), name=name)

    runs = []
    for rnd in range(lab.rounds):
        for server_args, plan in alternate(groups, flipped(rnd, 0)):
            lab.server(server_args)
            for name, threads in alternate(plan, flipped(rnd, 0)):
                s = setup_named(name)
                r = lab.sysbench(f"s2 point_select {threads}t {name} r{rnd + 1}", POINT, s, threads, warmup=warmup)
                runs.append(record(r, threads=threads, setup=name, round=rnd))
    lab.server()
    summary = summarize(runs, key=lambda r: (r["setup"], r["threads"]), baseline=lambda k: ("direct", 8))
    order = [("direct", 8), ("funnel (pool 32)", 8), ("direct", n), ("direct, pool-of-threads", n), ("haproxy", n),
             ("funnel (pool 8)", n), ("funnel (pool 32)", n)]
    rows = []
    for k in order:
        s = summary.get(k)
        if s:
            rows.append([k[0], k[1], num(s["qps"], 0), num(s["p95"], 2), num(s["p99"], 2), num(s["mysqld"]),
                         num(s["mysqld_ratio"], 2), num(s["proxy"]), num(s["sysbench"]), num(s["cpu_wait_ms"], 2),
                         num(s["connected"], 0),
                         num(s["running"], 0), s["mysqld_threads"], num(s["logins"], 0), failures(s)])
    return {
        "title": f"A crowd: {n} client threads",
        "about": (
            f"`oltp_point_select` with {n} client threads: straight to MariaDB (one thread per connection), to "
            f"MariaDB restarted with `thread_handling=pool-of-threads`, through haproxy, and through the funnel "
            f"with pools of 8 and 32 backend connections; 8 client threads as the reference. `mysqld ÷ direct@8` "
            f"is mysqld's CPU per query divided by its figure at 8 client threads straight to it (same round). "
            f"`server conns` and `running` are MariaDB's Threads_connected and Threads_running in the middle of the run; "
            f"`mysqld OS threads` is the most threads the mysqld process had (/proc; with one thread per connection "
            f"it also counts up to 256 cached threads of earlier runs); `server logins` is how many connections "
            f"MariaDB accepted during the whole run (the clients', or the proxy's pool and user look-ups). "
            f"`sysbench waits ms/q` is the time sysbench's threads spent runnable but waiting for a CPU "
            f"(/proc/PID/task/*/schedstat), per query: the load generator's own share of the latency it reports. "
            f"The first {warmup} s (all the logins) are outside the measured window."),
        "columns": ["setup", "threads", "QPS", "p95 ms", "p99 ms", "mysqld µs/q", "mysqld ÷ direct@8",
                    "proxy µs/q", "sysbench µs/q", "sysbench waits ms/q", "server conns", "running", "mysqld OS threads", "server logins", "problems"],
        "rows": rows,
        "notes": [],
        "data": {"summary": {f"{k[0]}|{k[1]}": v for k, v in summary.items()}, "threads": n},
        "runs": runs,
    }


# ---------------------------------------------------------------------------------- 3. idle clients

def hold_idle_clients(lab, setup, count, timeout):
    """Starts the helper that logs count clients in and keeps them; returns (helper, the figures it printed)."""
    helper = lab.process("idle-clients", [sys.executable, lab.root / "Scripts/bench_lib/idle_clients.py",
                                           "--port", setup.port, "--user", SB_USER, "--password", SB_PASSWORD,
                                           "--count", count, "--timeout", timeout], stdin_pipe=True)
    line = helper.wait_for_log("ready", timeout + 30)
    fields = dict(f.split("=", 1) for f in (line or "").split(" ")[1:5] if "=" in f)
    if line and "first_error=" in line:
        fields["first_error"] = line.split("first_error=", 1)[1]
    return helper, fields


PARK_AFTER = 2   # seconds, for the funnel that parks its idle clients


def ping_held_clients(helper, timeout):
    """Has the helper ping every connection it holds: (ok, failed, seconds), all None if it never answered."""
    helper.send_line("ping")
    line = helper.wait_for_log("pinged", timeout)
    fields = dict(f.split("=", 1) for f in (line or "").split(" ")[1:] if "=" in f)
    return fields.get("ok"), fields.get("failed"), fields.get("seconds")


def measure_idle(lab, kind, count, timeout):
    """RSS of one proxy before and while it holds count idle clients: a row and its figures.
    kind: haproxy, funnel (clients stay in their NIO channels) or parked (the funnel parks them)."""
    lab.stop_proxies()
    if kind == "haproxy":
        setup = lab.haproxy(maxconn=count + 20)
    elif kind == "parked":
        setup = lab.funnel(64, name="funnel, parked", extra=[f"--funnel-client-park-after={PARK_AFTER}"])
    else:
        setup = lab.funnel(64, name="funnel, in NIO", extra=["--funnel-client-park-after=0"])
    warm, _ = hold_idle_clients(lab, setup, 50, 30)   # lazy start-up allocations belong in the baseline
    warm.stop()
    time.sleep(1)
    before, server_before = procstat.rss_kib(setup.proxy.pid), procstat.rss_kib(lab.db.pid)
    helper, got = hold_idle_clients(lab, setup, count, timeout)
    # Parking: a sweep each second parks clients idle for PARK_AFTER, and the freed pages go back
    # to the system half a second after the last one parked.
    time.sleep(PARK_AFTER + 5 if kind == "parked" else 2)
    alive = setup.proxy.poll() is None
    after = procstat.rss_kib(setup.proxy.pid) if alive else None
    server_after = procstat.rss_kib(lab.db.pid)
    pinged_ok, pinged_failed, ping_seconds = ping_held_clients(helper, timeout) if alive else (None, None, None)
    helper.stop()
    opened = int(got.get("opened", 0))
    per = (after - before) / opened if opened and after else None
    problem = "" if alive else f"{setup.proxy.label} exited with {setup.proxy.returncode}"
    if got.get("failed", "0") != "0":
        problem = f"{got['failed']} logins failed: {got.get('first_error', '')}"
    if not got:
        problem = problem or "the idle-client helper never got ready"
    if alive and pinged_failed != "0":
        problem = problem or f"ping after the measurement: {pinged_failed} of {opened} failed"
    row = [setup.name, count, opened, got.get("seconds", "-"), num(before / 1024), num(after and after / 1024),
           num(per, 2), num((server_after - server_before) / opened if opened else None, 1),
           f"{pinged_ok} in {ping_seconds} s" if pinged_ok is not None else "-", problem]
    figures = {"setup": setup.name, "requested": count, "opened": opened, "kib_per_client": per,
               "rss_before_kib": before, "rss_after_kib": after, "pinged_ok": pinged_ok, "ping_seconds": ping_seconds,
               "problem": problem}
    return row, figures


def memory(lab):
    counts = [1000, 2000] if lab.quick else [1000, 10000]
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    haproxy_cap = (nofile - 120) // 2 - 20     # haproxy holds two sockets per client, and a few of its own
    timeout = 120 if lab.quick else 300
    lab.server(f"--max-connections={max(counts) + 500} --thread-handling=pool-of-threads")
    rows, data, notes = [], [], []
    for i, count in enumerate(counts):
        for kind in alternate(["funnel", "parked", "haproxy"], i % 2 == 1):
            target = min(count, haproxy_cap) if kind == "haproxy" else count
            try:
                row, figures = measure_idle(lab, kind, target, timeout)
            except BenchError as e:
                row, figures = [kind, target, 0, "-", "-", "-", "-", "-", "-", str(e).splitlines()[0]], None
            rows.append(row)
            data += [figures] if figures else []
    lab.stop_proxies()
    lab.server()
    if haproxy_cap < max(counts):
        notes.insert(0, f"haproxy needs two file descriptors per client (client and server socket): with the open-files "
                        f"limit of {nofile} it holds at most {haproxy_cap} clients, so its largest run uses that many.")
    return {
        "title": "Memory: idle authenticated client connections",
        "about": (
            "A raw asyncio client (Scripts/bench_lib/idle_clients.py) logs N clients in with mysql_native_password "
            "and keeps them idle. RSS is the proxy's VmRSS after a warm-up of 50 logins (before) and 2 s after "
            "the N logins (after); KiB per client is the growth divided by the clients held. \"funnel, in NIO\" "
            "runs with `client-park-after = 0` (every client keeps its channel); \"funnel, parked\" with "
            f"`client-park-after = {PARK_AFTER}`, measured {PARK_AFTER + 5} s after the logins, when every client "
            "is parked. Then every held client is sent a COM_PING (\"ping\": answers, and the seconds for all; "
            "parked clients wake up for it). Through haproxy each client also holds a server connection (MariaDB "
            "runs `pool-of-threads` here so that 10,000 of them need no 10,000 threads); through the funnel an "
            "idle client holds none."),
        "columns": ["setup", "clients asked", "held", "login s", "RSS before MiB", "RSS after MiB", "KiB/client",
                    "mysqld KiB/client", "ping", "problems"],
        "rows": rows,
        "notes": notes,
        "data": {"runs": data},
    }


# ---------------------------------------------------------------------------------- 4. plugin costs

CALLGRIND_ROUNDS = 3       # alternated counts per setup; the median is reported
CALLGRIND_QUERIES = 20000  # point selects per count (about 15 s under valgrind)


def plugin_costs(lab):
    available = lab.available_plugins()
    variants = [("funnel alone", ("funnel",)), ("funnel + stats", ("funnel", "stats")),
                ("funnel + lua (empty read_query)", ("funnel", "lua"))]
    runnable = [v for v in variants if set(v[1]) <= available]
    threads = 8
    lab.server()
    runs, flip = [], False
    for rnd in range(lab.rounds * (1 if lab.quick else 2)):
        for name, plugins in alternate(runnable, flip):
            try:
                s = lab.funnel(64, plugins=plugins, name=name)
            except Exception as e:   # a plugin that does not start is a finding, not the end of the bench
                runs.append({"setup": name, "round": rnd, "ok": False, "error": str(e).splitlines()[0],
                             "qps": 0, "p95": 0, "cpu_us": {}})
                continue
            r = lab.sysbench(f"s4 point_select {threads}t {name} r{rnd + 1}", POINT, s, threads)
            runs.append(record(r, setup=name, round=rnd))
        flip = not flip
    summary = summarize([dict({"p50": 0, "p99": 0, "errors": 0, "max_threads": {}}, **r) for r in runs],
                        key=lambda r: r["setup"])
    cpu_added = {}
    for name, _ in runnable[1:]:
        deltas = []
        for r in (r for r in runs if r["setup"] == name and r["ok"]):
            base = [b for b in runs if b["setup"] == "funnel alone" and b["round"] == r["round"] and b["ok"]]
            if base and "proxy" in r["cpu_us"] and "proxy" in base[0]["cpu_us"]:
                deltas.append(r["cpu_us"]["proxy"] - base[0]["cpu_us"]["proxy"])
        cpu_added[name] = med(deltas)
    # Instructions (callgrind) are what the targets are judged on when valgrind is there: CPU time
    # differences of a few µs drown in this machine's noise. One count still varies by about ±150
    # instructions per query (how many wake-ups and cross-loop tasks NIO's event loops have in that
    # window), so each setup is counted CALLGRIND_ROUNDS times, alternated, and the median taken.
    instructions, counts, notes = {}, {}, []
    cg_rounds, cg_queries = (1, 5000) if lab.quick else (CALLGRIND_ROUNDS, CALLGRIND_QUERIES)
    if callgrind.available() and runnable[0][0] == "funnel alone":
        lab.stop_proxies()
        stripped = callgrind.stripped_binaries(lab.bin_dir, lab.work)
        flip = False
        for rnd in range(cg_rounds):
            for name, plugins in alternate(runnable, flip):
                out_file = lab.work / "callgrind.out"
                for old in lab.work.glob(out_file.name + "*"):
                    old.unlink()
                try:
                    s = lab.funnel(64, plugins=plugins, name=name, wrapper=callgrind.wrapper(out_file), bin_dir=stripped)
                    n = callgrind.instructions_per_query(s.proxy.pid, out_file, s.port, SB_USER, SB_PASSWORD,
                                                         queries=cg_queries)
                    counts.setdefault(name, []).append(n)
                    print(f"  s4 callgrind r{rnd + 1} {name:<40} {n:9.0f} instructions per query", flush=True)
                except Exception as e:
                    lab.incident(f"callgrind run of {name} failed: {str(e).splitlines()[0]}")
                finally:
                    lab.stop_proxies()
            flip = not flip
        instructions = {name: med(values) for name, values in counts.items()}
        spread = "; ".join(f"{name} {min(v):,.0f} to {max(v):,.0f}" for name, v in counts.items() if len(v) > 1)
        if spread:
            notes.append(f"`instr/q` is the median of {cg_rounds} alternated callgrind counts of {cg_queries:,} "
                         f"queries per setup; the counts ranged: {spread}.")
    else:
        notes.append("valgrind is not installed: the added cost comes from CPU time only (noisy).")
    base_instr = instructions.get("funnel alone")
    # The instructions counted are user space, so they convert at the funnel's user-space rate.
    base_us = med([r.get("user_us", {}).get("proxy") for r in runs if r["setup"] == "funnel alone" and r["ok"]])
    per_us = base_instr / base_us if base_instr and base_us else None   # this machine's instructions per µs
    added, added_instr = {}, {}
    for name, _ in runnable[1:]:
        if base_instr and name in instructions:
            added_instr[name] = instructions[name] - base_instr
        added[name] = added_instr[name] / per_us if name in added_instr and per_us else cpu_added.get(name)
    rows = []
    for name, plugins in variants:
        if (name, plugins) not in runnable:
            missing = ", ".join(p for p in plugins if p not in available)
            rows.append([name, "-", "-", "-", "-", "-", "-", "-", f"n/a: plugin not built ({missing})"])
            continue
        s = summary.get(name)
        rows.append([name, num(s["qps"], 0), num(s["p95"], 2), num(s["proxy"]), num(cpu_added.get(name), 2),
                     num(instructions.get(name), 0), num(added_instr.get(name), 0), num(added.get(name), 2), failures(s)])
    if per_us:
        notes.append(f"`added µs/q` converts the added instructions at the funnel's own user-space rate in this "
                     f"run: {base_instr:,.0f} instructions per query over {base_us:.1f} µs of user CPU per query "
                     f"(utime; the rest of its CPU is the kernel's) = {per_us:,.0f} instructions per µs.")
    return {
        "title": "Costs of the plugins",
        "about": (
            f"`oltp_point_select` at {threads} client threads through the funnel (pool of 64) with the funnel "
            f"alone, with the stats plugin, and with the lua plugin running a script whose only content is an "
            f"empty `read_query` hook. `added CPU` is the chassis' CPU per query minus that of the funnel alone in "
            f"the same round (median over rounds): a difference of a few µs, below this machine's noise. So each "
            f"setup also runs under callgrind (Scripts/bench_lib/callgrind.py): `instr/q` is what the chassis "
            f"executed per query (all threads, user space) over a fixed number of queries, the median of "
            f"{cg_rounds} alternated counts (one count varies by about ±150 with the event loops' wake-ups); "
            f"`added µs/q` is the added instructions at the funnel's instructions per µs."),
        "columns": ["plugins", "QPS", "p95 ms", "proxy µs/q", "added CPU µs/q", "instr/q", "added instr/q",
                    "added µs/q", "problems"],
        "rows": rows,
        "notes": notes,
        "data": {"added": added, "cpu_added": cpu_added, "instructions": instructions, "instruction_counts": counts,
                 "available": sorted(available)},
        "runs": runs,
    }


# ---------------------------------------------------------------------------------- 5. backlog

def backlog(lab):
    total = 1000 if lab.quick else 2000
    calm_clients = total // 5
    flood_clients = total - calm_clients
    calm_rate = calm_clients * 2
    pool = 4
    warmup = max(lab.warmup, 3 if lab.quick else 5)
    # The funnel's default against moving slots between users at once (docs/funnel.md).
    variants = [("hold 0.1 s (default)", ()), ("no hold", ("--funnel-rebalance-hold=0",))]
    lab.server()
    reference = lab.sysbench("s5 point_select 4t direct (service time)", POINT, Setup("direct", lab.db.port), 4)
    runs = []
    for rnd in range(lab.rounds):
        for variant, extra in alternate(variants, rnd % 2 == 1):
            # With stats: the funnel's own backlog wait and command time of each user.
            funnel = lab.funnel(pool, plugins=("funnel", "stats"), extra=extra, name=f"funnel (pool {pool}, {variant})")
            started = [
                (FLOOD_USER, lab.sysbench(f"s5 {variant} flood {flood_clients}t r{rnd + 1}", POINT, funnel, flood_clients,
                                          user=FLOOD_USER, password=USER_PASSWORD, warmup=warmup, start=True,
                                          ignore_errors="all")),
                (CALM_USER, lab.sysbench(f"s5 {variant} calm {calm_clients}t r{rnd + 1}", POINT, funnel, calm_clients,
                                         user=CALM_USER, password=USER_PASSWORD, warmup=warmup, start=True,
                                         ignore_errors="all", rate=calm_rate)),
            ]
            results = {user: lab.finish(bench, funnel) for user, bench in started}
            seen = funnel_view(lab, results)
            for user, r in results.items():
                runs.append(record(r, setup=user, variant=variant, round=rnd, funnel_view=seen.get(user, {})))
            flood, calm = results[FLOOD_USER], results[CALM_USER]
            if flood.ok and calm.ok and "proxy" in flood.cpu_us:   # the proxy's CPU served both users
                runs[-2]["proxy_us_all"] = flood.cpu_us["proxy"] * flood.qps / (flood.qps + calm.qps)
                runs[-2]["mysqld_us_all"] = flood.cpu_us["mysqld"] * flood.qps / (flood.qps + calm.qps)
    summary = summarize(runs, key=lambda r: (r["variant"], r["setup"]))
    rows = [["direct, 4 threads (service time)", 4, "closed loop", num(reference.qps, 0), "-",
             slashed(reference.p50, reference.p95, reference.p99, reference.max_ms), num(reference.cpu_wait_ms, 2),
             "-", "-", reference.errors, "-", "-", "-", ""]]
    notes, figures = [], {}
    for variant, _ in variants:
        of_variant = [r for r in runs if r["variant"] == variant and r["setup"] == FLOOD_USER]
        proxy_us = med([r.get("proxy_us_all") for r in of_variant])
        mysqld_us = med([r.get("mysqld_us_all") for r in of_variant])
        logins = med([r.get("probe", {}).get("logins") for r in of_variant if r["ok"]])
        figures[variant] = {"proxy_us": proxy_us, "mysqld_us": mysqld_us, "logins": logins}
        for user, clients, load in ((FLOOD_USER, flood_clients, "closed loop (no pause)"),
                                    (CALM_USER, calm_clients, f"open loop, {calm_rate} q/s in all")):
            s = summary.get((variant, user))
            if not s:
                continue
            of_user = [r["funnel_view"] for r in runs if r["variant"] == variant and r["setup"] == user and r["ok"]]
            view = {k: med([v.get(k) for v in of_user]) for k in ("wait_p50", "wait_p99", "command_p99", "command_max")}
            figures[variant][user] = view
            per_client = s["qps"] / clients if s["qps"] else None
            both = user == FLOOD_USER
            rows.append([f"{user} via funnel, {variant}", clients, load, num(s["qps"], 0), num(per_client, 2),
                         slashed(s["p50"], s["p95"], s["p99"], s["max_ms"]), num(s["cpu_wait_ms"], 2),
                         slashed(view["wait_p50"], view["wait_p99"]), slashed(view["command_p99"], view["command_max"]),
                         s["ignored_errors"], num(logins, 0) if both else "", num(proxy_us) if both else "",
                         num(mysqld_us) if both else "", failures(s)])
        flood_s, calm_s = summary.get((variant, FLOOD_USER)), summary.get((variant, CALM_USER))
        if flood_s and calm_s and flood_s["p99"] and calm_s["p99"]:
            notes.append(f"{variant}: the calm user's p50 / p99 is {calm_s['p50'] / flood_s['p50']:.2f}x / "
                         f"{calm_s['p99'] / flood_s['p99']:.2f}x the flooding user's (1.0: both wait alike, first come "
                         f"first served; well below 1: the backlog keeps the calm user from queueing behind the flood).")
        flood_view = figures[variant].get(FLOOD_USER, {})
        if flood_s and flood_s["max_ms"] and flood_view.get("command_max"):
            notes.append(f"{variant}: the flood's longest query took {flood_s['max_ms']:,.0f} ms for sysbench and "
                         f"{flood_view['command_max']:,.0f} ms in the funnel (from reading it to the end of its answer): "
                         f"the rest lies before the funnel reads a query or after it has written the answer; "
                         f"sysbench's threads waited {flood_s['cpu_wait_ms']:.2f} ms per query for a CPU on average.")
    held, unheld = figures.get(variants[0][0], {}), figures.get(variants[1][0], {})
    if held.get("logins") is not None and unheld.get("logins"):
        notes.append(f"the hold cuts the server's logins per run from {unheld['logins']:,.0f} to {held['logins']:,.0f}"
                     + (f", and the funnel's CPU per query from {unheld['proxy_us']:.1f} to {held['proxy_us']:.1f} µs"
                        if held.get("proxy_us") and unheld.get("proxy_us") else "") + ".")
    return {
        "title": f"Backlog: {total} clients on a pool of {pool}",
        "about": (
            f"Two sysbench processes through one funnel with `backend-max-connections={pool}`: user `{FLOOD_USER}` "
            f"with {flood_clients} client threads sending point selects back to back, and user `{CALM_USER}` with "
            f"{calm_clients} client threads sharing {calm_rate} queries per second (sysbench `--rate`, so its "
            f"latency includes any wait for a free client thread). A point select takes well under a millisecond "
            f"on the server (the reference row), so the latency through the funnel is almost all backlog wait. "
            f"`errors` are the queries refused (e.g. ERR 9001, backlog timeout), which sysbench was told to count "
            f"and go on. Backend connections belong to a user, so a slot that moves from one user to the other is "
            f"a close and a login: the funnel runs with its default `rebalance-hold` (0.1 s) and, alternated with "
            f"it, with `rebalance-hold=0` (slots move at once). On the flood row, for both users together: "
            f"`server logins` is how many connections MariaDB accepted during the run (logins included), and the "
            f"µs/q columns the funnel's and mysqld's CPU per query. Latency is measured twice: by sysbench "
            f"(p50 / p95 / p99 / max of the window), and by the funnel itself through the stats plugin "
            f"(`funnel_backlog_wait_duration_seconds` and `funnel_user_query_duration_seconds` of the user, "
            f"over the whole run, warm-up included): its backlog wait, and its command time from reading a "
            f"query off the socket to the end of the answer. `sysbench waits ms/q` is the time sysbench's threads "
            f"spent runnable but waiting for a CPU (/proc/PID/task/*/schedstat) per query, part of what sysbench "
            f"reports and none of the funnel's."),
        "columns": ["who", "clients", "load", "QPS", "QPS/client", "sysbench p50 / p95 / p99 / max ms",
                    "sysbench waits ms/q", "funnel: backlog wait p50 / p99 ms", "funnel: command p99 / max ms",
                    "errors", "server logins", "funnel µs/q", "mysqld µs/q", "problems"],
        "rows": rows,
        "notes": notes,
        "data": {"summary": {f"{v} / {u}": row for (v, u), row in summary.items()}, "figures": figures},
        "runs": runs,
    }


def funnel_view(lab, results):
    """The funnel's own figures per user (ms) from its stats endpoint, read after a run while the
    funnel still runs: backlog wait p50 / p99 and command time p99 / max."""
    try:
        samples = prometheus.scrape(lab.stats_port)
    except OSError as e:
        lab.incident(f"could not read the funnel's stats: {e}")
        return {}
    out = {}
    for user in results:
        def ms(name, **labels):
            v = prometheus.value(samples, name, user=user, **labels)
            return v * 1e3 if v is not None else None
        out[user] = {"wait_p50": ms("funnel_backlog_wait_duration_seconds", quantile="0.5"),
                     "wait_p99": ms("funnel_backlog_wait_duration_seconds", quantile="0.99"),
                     "command_p99": ms("funnel_user_query_duration_seconds", quantile="0.99"),
                     "command_max": ms("funnel_user_query_duration_seconds_max")}
    return out


def slashed(*values):
    return " / ".join(num(v, 2) for v in values)


ALL = {1: overhead, 2: crowd, 3: memory, 4: plugin_costs, 5: backlog}
