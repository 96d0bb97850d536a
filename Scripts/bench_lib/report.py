"""Tables on the terminal, docs/benchmarks.md, the targets of issue 9 judged, and the QPS plot."""
import json
import os
import pathlib
import platform
import re
import subprocess


def table(columns, rows) -> str:
    """A Markdown table whose columns also line up in a terminal."""
    cells = [[str(c) for c in columns]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    line = lambda r: "| " + " | ".join(v.ljust(w) for v, w in zip(r, widths)) + " |"
    return "\n".join([line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells[1:])])


def machine() -> dict:
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem_kib = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    versions = {}
    for name, argv, pattern in (("MariaDB", ["mariadbd", "--version"], r"Ver ([\w.]+)"),
                                ("HAProxy", ["haproxy", "-v"], r"version ([\w.]+)"),
                                ("sysbench", ["sysbench", "--version"], r"sysbench ([\w.]+)")):
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
            versions[name] = re.search(pattern, out).group(1)
        except (OSError, AttributeError, subprocess.SubprocessError):
            versions[name] = "?"
    return {"cpus": len(os.sched_getaffinity(0)), "model": model, "memory_gib": round(mem_kib / 1048576, 1),
            "kernel": platform.release(), "load": open("/proc/loadavg").read().split()[:3], "versions": versions}


def settled(meta) -> str:
    """How long the scenario waited for idle CPUs before it started (older results did not wait)."""
    if "settled" not in meta:
        return ""
    waited, idle = meta["settled"]
    return f", CPUs {idle:.0%} idle after waiting {waited} s"


def section_text(number, section) -> str:
    meta = section["meta"]
    head = [f"## {number}. {section['title']}", "",
            f"*{meta['date']}, {meta['mode']} ({meta['rounds']} round(s), {meta['seconds']} s measured per run), "
            f"load average at start {' '.join(meta['machine']['load'])}{settled(meta)}.*", "", section["about"], ""]
    if section.get("error"):
        return "\n".join(head + [f"**The scenario failed:** `{section['error']}`", ""])
    body = [table(section["columns"], section["rows"]), ""]
    notes = [f"- {n}" for n in section.get("notes", [])]
    return "\n".join(head + body + notes + ([""] if notes else []))


# ------------------------------------------------------------------------------- targets

def verdict(ok):
    return "holds" if ok else "missed"


def spread(p):
    """A paired ratio: its median over rounds, and the lowest and highest round."""
    if p["rounds"] == 1:
        return f"{p['median']:.2f}x"
    return f"{p['median']:.2f}x (rounds {p['low']:.2f}-{p['high']:.2f})"


def judge(sections) -> list:
    """(target, verdict, evidence) for every target of issue 9, from whatever was measured."""
    out = []
    s1 = sections.get(1, {}).get("data", {}).get("summary")
    if s1:
        # Judged on the paired ratios, funnel over haproxy round by round (scenarios.paired).
        targets = {"cpu": ("Overhead: funnel's CPU per query at most haproxy's (µs/q, funnel vs haproxy; "
                           "funnel ÷ haproxy by round)", lambda r: r <= 1.0, lambda f: f"{f['proxy']:.1f}"),
                   "qps": ("Overhead: funnel's QPS ratio to direct at least haproxy's (funnel vs haproxy; "
                           "funnel ÷ haproxy by round)", lambda r: r >= 1.0, lambda f: f"{f['ratio']:.2f}")}
        checks = {figure: [] for figure in targets}
        for key, f in s1.items():
            test, threads, setup = key.split("|")
            if setup != "funnel":
                continue
            h = s1[f"{test}|{threads}|haproxy"]
            for figure, p in f.get("vs_haproxy", {}).items():
                _, holds, shown = targets[figure]
                checks[figure].append((holds(p["median"]), f"{test.removeprefix('oltp_')} {threads}t: "
                                                           f"{shown(f)} vs {shown(h)}, {spread(p)}"))
        for figure, (title, _, _) in targets.items():
            found = checks[figure]
            n = sum(ok for ok, _ in found)
            result = verdict(n == len(found)) + (f" (holds in {n} of {len(found)})" if 0 < n < len(found) else "")
            out.append((title, result if found else "n/a", "; ".join(e for _, e in found)))
    s2 = sections.get(2, {}).get("data", {}).get("summary")
    if s2:
        n = sections[2]["data"]["threads"]
        direct, pot = s2.get(f"direct|{n}", {}), s2.get(f"direct, pool-of-threads|{n}", {})
        funnels = {k.split("|")[0]: v for k, v in s2.items() if k.startswith("funnel") and k.endswith(f"|{n}")}
        # The issue allows a pool of 8 to 32: each target is judged on the pool that does best at it.
        ratios = {k: v["mysqld_ratio"] for k, v in funnels.items() if v.get("mysqld_ratio") is not None}
        if ratios:
            evidence = "; ".join(f"{k}: {r:.2f}x" for k, r in sorted(ratios.items()))
            if direct.get("mysqld_ratio") is not None:
                evidence += f"; direct: {direct['mysqld_ratio']:.2f}x"
            out.append((f"{n} threads: mysqld's CPU per query through funnel within 1.3x of direct's at 8 threads",
                        verdict(min(ratios.values()) <= 1.3), evidence))
        # The words also read as "of mysqld's own figure through the funnel at 8 threads":
        # whether the crowd, not the proxy, raises the server's cost. Both readings are judged.
        calm = s2.get("funnel (pool 32)|8", {}).get("mysqld")
        own = {k: v["mysqld"] / calm for k, v in funnels.items() if calm and v.get("mysqld") is not None}
        if own:
            out.append((f"{n} threads: mysqld's CPU per query through funnel within 1.3x of its figure through "
                        f"funnel at 8 threads", verdict(min(own.values()) <= 1.3),
                        "; ".join(f"{k}: {r:.2f}x" for k, r in sorted(own.items()))
                        + f" (of {calm:.1f} µs at 8 threads, pool 32)"))
        measured = {k: v for k, v in funnels.items() if v.get("qps")}
        if measured and direct.get("qps") and pot.get("qps"):
            name, best = max(measured.items(), key=lambda kv: kv[1]["qps"])
            out.append((f"{n} threads: funnel's QPS above direct's and above pool-of-threads'",
                        verdict(best["qps"] > max(direct["qps"], pot["qps"])),
                        f"{name}: {best['qps']:,.0f} vs direct {direct['qps']:,.0f}, pool-of-threads {pot['qps']:,.0f}"))
        if measured and direct.get("p99"):
            name, best = min(measured.items(), key=lambda kv: kv[1]["p99"])
            out.append((f"{n} threads: funnel's p99 below direct's", verdict(best["p99"] < direct["p99"]),
                        f"{name}: {best['p99']:.2f} ms vs direct {direct['p99']:.2f} ms"))
    s3 = sections.get(3, {}).get("data", {}).get("runs")
    if s3:
        def largest(setup):
            runs = [r for r in s3 if r["setup"] == setup and r["kib_per_client"] is not None and not r.get("problem")]
            return max(runs, key=lambda r: r["opened"]) if runs else None
        parked, held = largest("funnel, parked"), largest("funnel, in NIO")
        if parked:
            # Idle clients are parked (after client-park-after, 10 s by default): the target is theirs.
            note = "" if parked["opened"] >= 10000 else f" (measured at {parked['opened']:,} only, not 10,000)"
            nio = f"; {held['kib_per_client']:.2f} KiB before they are parked" if held else ""
            out.append(("Idle clients: at most 2 KiB of funnel RSS each at 10,000", verdict(parked["kib_per_client"] <= 2),
                        f"{parked['kib_per_client']:.2f} KiB per parked client at {parked['opened']:,}{note}{nio}"))
    s4 = sections.get(4, {}).get("data", {})
    if s4:
        for name, limit in (("funnel + stats", 1), ("funnel + lua (empty read_query)", 2)):
            added = s4.get("added", {}).get(name)
            plugin = name.split()[2]
            if plugin not in s4.get("available", []):
                out.append((f"{plugin} adds at most {limit} µs of CPU per query", "n/a", "plugin not built"))
            elif added is None:
                out.append((f"{plugin} adds at most {limit} µs of CPU per query", "n/a", "no successful run"))
            else:
                base = s4.get("instructions", {}).get("funnel alone")
                mine = s4.get("instructions", {}).get(name)
                how = (f" (+{mine - base:,.0f} instructions per query on the funnel's {base:,.0f}, callgrind)"
                       if base and mine else " (CPU time difference, noisy)")
                out.append((f"{plugin} adds at most {limit} µs of CPU per query", verdict(added <= limit),
                            f"{added:+.2f} µs per query{how}"))
    return out


# ------------------------------------------------------------------------------- the document

def write_markdown(path: pathlib.Path, sections: dict, meta: dict, plot_written: bool):
    m = meta["machine"]
    lines = [
        "# Benchmarks", "",
        "Written by `Scripts/bench` (issue 9). These are figures, not tests: nothing here is asserted, and on a "
        "shared machine every run is noisy. Read the ratios and the CPU per query (stable when wall time is not) "
        "more than the absolute QPS.", "",
        f"- Written: {meta['date']} ({meta['mode']}; each section below says when and how it was measured).",
        f"- Machine: {m['cpus']} CPUs ({m['model']}), {m['memory_gib']} GiB memory, Linux {m['kernel']}; "
        f"{', '.join(f'{k} {v}' for k, v in m['versions'].items())}.",
        "- Everything on 127.0.0.1: one throwaway MariaDB (`Scripts/mariadb`), haproxy in TCP mode, the chassis "
        "with the funnel in transaction mode (release build), sysbench as the load; tables: "
        "4 x 10,000 rows. haproxy and the funnel run with their default threads (haproxy: one per core; "
        "the funnel: half the cores, at least one). Every process is started in a session of its own, so "
        "each is its own scheduler group (autogroup), as under a service manager; processes that share one "
        "group schedule differently (docs/funnel.md, \"How many loops\").",
        "",
        "## How to rerun", "",
        "```sh",
        "Scripts/bench                     # every scenario, 2 rounds of 30 s runs (about 40 minutes)",
        "Scripts/bench --quick             # a smoke check: 10 s runs, 1 round, smaller scenarios",
        "Scripts/bench --scenarios 1,3     # some scenarios only (the others keep their last figures, from docs/benchmarks-data)",
        "Scripts/bench --help              # rounds, run time, ports, an existing build",
        "```", "",
        "How it measures: each scenario starts once the CPUs have been 90 % idle for 3 s in a row (at most "
        "2 minutes of waiting), so that it does not measure what the previous one left winding down. "
        "The setups are alternated (A B C, then C B A): each workload runs them in the "
        "reverse order of the workload before it and of its own previous round, over two or more rounds; the "
        "figures are medians over rounds. The overhead targets are judged round by round: the funnel's figure "
        "over haproxy's of the same round (the two ran minutes apart, so a slow spell of the shared machine "
        "touches both), median over rounds, with the lowest and highest round beside it. Each sysbench run has a warm-up (logins), at whose end "
        "sysbench resets its counters (`--report-checkpoints`); the window ends at its last per-second report. "
        "At both ends Scripts/bench reads utime + stime of the proxy, mysqld and sysbench from /proc/PID/stat, so "
        "CPU per query is the CPU each used in the window divided by the queries done in it. Percentiles come "
        "from sysbench's latency histogram of the same window. Every run uses the text protocol "
        "(`--db-ps-mode=disable`): prepared statements pin a backend connection to the client through a "
        "transaction pooler. The raw sysbench output of every run is kept in `.build/bench/logs`. The costs of the "
        "plugins (a few µs, below the noise of CPU time here) are judged on instruction counts instead: each "
        "setup runs once more under valgrind's callgrind, which counts what the chassis executes per query "
        "and repeats to within 0.1 % whatever the machine's load.", "",
        "## Targets (issue 9)", "",
    ]
    targets = judge(sections)
    if targets:
        lines += [table(["target", "verdict", "measured"], targets), ""]
        if any(s["meta"]["mode"] == "quick" for s in sections.values()):
            lines += ["Some figures come from a `--quick` run (one short round on a busy machine): treat their "
                      "verdicts as provisional.", ""]
    else:
        lines += ["No scenario with a target has run yet.", ""]
    if plot_written:
        lines += ["![QPS vs client threads](benchmarks-qps.png)", "",
                  "*oltp_point_select QPS against client threads for the three setups (scenarios 1 and 2).*", ""]
    for number in sorted(sections):
        lines.append(section_text(number, sections[number]))
    path.write_text("\n".join(lines).rstrip() + "\n")


def plot(path: pathlib.Path, sections: dict) -> bool:
    """QPS of oltp_point_select vs client threads for direct, haproxy and funnel."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench: matplotlib is missing (Scripts/setup installs it): no plot", flush=True)
        return False
    series = {}
    s1 = sections.get(1, {}).get("data", {}).get("summary", {})
    for key, v in s1.items():
        test, threads, setup = key.split("|")
        if test == "oltp_point_select" and v["qps"]:
            series.setdefault(setup, {})[int(threads)] = v["qps"]
    s2 = sections.get(2, {}).get("data", {}).get("summary", {})
    extra = {}
    for key, v in s2.items():
        setup, threads = key.split("|")
        if int(threads) == 8 or not v["qps"]:
            continue
        if setup in ("direct", "haproxy"):
            series.setdefault(setup, {})[int(threads)] = v["qps"]
        else:
            extra[setup] = (int(threads), v["qps"])
    if not series and not extra:
        return False
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    styles = {"direct": ("o-", "tab:blue"), "haproxy": ("s-", "tab:orange"), "funnel": ("^-", "tab:green")}
    for name, points in series.items():
        xs = sorted(points)
        marker, color = styles.get(name, ("x-", None))
        ax.plot(xs, [points[x] for x in xs], marker, color=color,
                label=name if name != "funnel" else "funnel (pool 64)")
    for i, (name, (x, y)) in enumerate(sorted(extra.items())):
        color = "tab:green" if name.startswith("funnel") else "tab:blue"
        ax.plot([x], [y], ["D", "v", "P", "X"][i % 4], color=color, markersize=8, fillstyle="none", label=name)
    ax.set_xscale("log")
    ticks = sorted({x for points in series.values() for x in points} | {x for x, _ in extra.values()})
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("client threads (sysbench)")
    ax.set_ylabel("queries per second")
    ax.set_title("oltp_point_select on 127.0.0.1")
    ax.grid(True, which="both", alpha=0.3)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def save(results_dir: pathlib.Path, number: int, section: dict):
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / f"scenario-{number}.json").write_text(json.dumps(section, indent=1, default=str))


def load(results_dir: pathlib.Path) -> dict:
    out = {}
    for p in sorted(results_dir.glob("scenario-*.json")):
        try:
            out[int(p.stem.split("-")[1])] = json.loads(p.read_text())
        except (ValueError, json.JSONDecodeError):
            pass
    return out
