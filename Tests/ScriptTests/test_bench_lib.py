"""The benchmark script's own logic: run order, judging the targets, the stored results.
No server: these check the arithmetic and bookkeeping that every published figure goes through."""
import collections
import re
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "Scripts"))

from bench_lib import report  # noqa: E402
from bench_lib.scenarios import alternate, flipped  # noqa: E402

SETUPS = ["direct", "haproxy", "funnel"]


def orders(rounds, steps):
    return {(r, s): alternate(SETUPS, flipped(r, s)) for r in range(rounds) for s in range(steps)}


def test_each_workload_reverses_its_order_from_one_round_to_the_next():
    # Scenario 1 has six workloads per round (two tests x three thread counts): an even count,
    # where a flag toggled once per workload gave every workload the same order in both rounds.
    for steps in (1, 2, 3, 6):
        runs = orders(2, steps)
        for s in range(steps):
            assert runs[(1, s)] == list(reversed(runs[(0, s)])), (steps, s)


def test_over_two_rounds_every_setup_runs_early_and_late_alike():
    runs = orders(2, 6)
    for s in range(6):
        place = collections.Counter()
        for r in range(2):
            for i, setup in enumerate(runs[(r, s)]):
                place[setup] += i
        assert set(place.values()) == {len(SETUPS) - 1}, (s, place)


def test_neighbouring_workloads_run_in_opposite_orders():
    runs = orders(1, 6)
    for s in range(5):
        assert runs[(0, s + 1)] == list(reversed(runs[(0, s)]))


def crowd(funnel_1000, funnel_8, direct_8=26.5, direct_1000=40.0):
    summary = {
        "direct|8": {"mysqld": direct_8, "mysqld_ratio": 1.0, "qps": 50000, "p99": 1.0},
        "direct|1000": {"mysqld": direct_1000, "mysqld_ratio": direct_1000 / direct_8, "qps": 30000, "p99": 60.0},
        "direct, pool-of-threads|1000": {"mysqld": 35.0, "mysqld_ratio": 35.0 / direct_8, "qps": 27000, "p99": 70.0},
        "funnel (pool 32)|8": {"mysqld": funnel_8, "mysqld_ratio": funnel_8 / direct_8, "qps": 20000, "p99": 1.5},
        "funnel (pool 32)|1000": {"mysqld": funnel_1000, "mysqld_ratio": funnel_1000 / direct_8, "qps": 16000,
                                  "p99": 90.0},
    }
    return {2: {"data": {"summary": summary, "threads": 1000}}}


def verdicts(sections):
    return {target: (ok, evidence) for target, ok, evidence in report.judge(sections)}


def test_the_server_cost_target_is_judged_against_direct_and_against_the_funnel_at_8_threads():
    got = verdicts(crowd(funnel_1000=53.5, funnel_8=49.1))
    against_direct = next(v for k, v in got.items() if "of direct's at 8 threads" in k)
    against_own = next(v for k, v in got.items() if "through funnel at 8 threads" in k)
    assert against_direct[0] == "missed" and "2.02x" in against_direct[1]
    assert against_own[0] == "holds" and "1.09x" in against_own[1]


def test_a_crowd_that_raises_the_servers_cost_misses_both_readings():
    got = verdicts(crowd(funnel_1000=80.0, funnel_8=49.1))
    rows = [v for k, v in got.items() if "mysqld's CPU per query" in k]
    assert len(rows) == 2 and all(ok == "missed" for ok, _ in rows)


def test_qps_and_p99_targets_compare_with_direct_and_pool_of_threads():
    got = verdicts(crowd(funnel_1000=53.5, funnel_8=49.1))
    qps = next(v for k, v in got.items() if "QPS above" in k)
    p99 = next(v for k, v in got.items() if "p99" in k)
    assert qps == ("missed", "funnel (pool 32): 16,000 vs direct 30,000, pool-of-threads 27,000")
    assert p99[0] == "missed" and "90.00 ms vs direct 60.00 ms" in p99[1]


def test_stored_results_come_back_by_scenario_number(tmp_path):
    report.save(tmp_path, 2, {"title": "crowd", "data": {"threads": 1000}})
    report.save(tmp_path, 5, {"title": "backlog"})
    (tmp_path / "scenario-x.json").write_text("not a number")
    (tmp_path / "scenario-3.json").write_text("{broken")
    assert report.load(tmp_path) == {2: {"title": "crowd", "data": {"threads": 1000}}, 5: {"title": "backlog"}}


def test_every_published_scenario_has_its_stored_figures():
    # A run of some scenarios rebuilds docs/benchmarks.md from the stored results of all of them,
    # so a section without its JSON in the tree would vanish at the next partial run.
    root = pathlib.Path(__file__).resolve().parents[2]
    published = {int(n) for n in re.findall(r"^## (\d+)\. ", (root / "docs/benchmarks.md").read_text(), re.M)}
    stored = report.load(root / "docs/benchmarks-data")
    assert published and published <= set(stored), (published, sorted(stored))


def test_settle_waits_for_quiet_seconds_in_a_row(monkeypatch):
    from bench_lib import procstat
    # Per second of 100 ticks: busy, quiet, busy (the count starts again), then quiet for good.
    idle_per_second = [10, 95, 20, 95, 96, 99, 99, 99]
    ticks = [(0, 0)]
    for idle in idle_per_second:
        ticks.append((ticks[-1][0] + idle, ticks[-1][1] + 100))
    readings = iter(ticks)
    monkeypatch.setattr(procstat, "_cpu_ticks", lambda: next(readings))
    waited, share = procstat.settle(idle_share=0.9, quiet_seconds=3, timeout=60, sleep=lambda _: None)
    assert waited == 6   # seconds 4, 5 and 6 are the first three quiet ones in a row
    assert share == 0.99


def test_settle_gives_up_at_the_timeout(monkeypatch):
    from bench_lib import procstat
    state = {"n": 0}

    def busy():
        state["n"] += 1
        return (state["n"] * 5, state["n"] * 100)   # 5 % idle, always

    monkeypatch.setattr(procstat, "_cpu_ticks", busy)
    waited, share = procstat.settle(idle_share=0.9, quiet_seconds=3, timeout=7, sleep=lambda _: None)
    assert waited == 7
    assert share == 0.05


# ---------------------------------------------------------------------------------- what a run reads

SYSBENCH_TAIL = """\
[ 2s ] thds: 8 tps: 100.00 qps: 100.00 (r/w/o: 100.00/0.00/0.00) lat (ms,95%): 1.00 err/s: 0.00 reconn/s: 0.00
[ 3s ] thds: 8 tps: 300.00 qps: 300.00 (r/w/o: 300.00/0.00/0.00) lat (ms,95%): 1.00 err/s: 0.00 reconn/s: 0.00
SQL statistics:
    queries:                             700  (233.33 per sec.)
    ignored errors:                      2      (0.00 per sec.)
    reconnects:                          0      (0.00 per sec.)

Latency (ms):
         min:                                    0.20
         avg:                                    1.50
         max:                                 1113.49
         95th percentile:                        1.00

Latency histogram (values are in milliseconds)
       value  ------------- distribution ------------- count
       0.500 |****************************************  500
       1.000 |********                                  100
    1113.490 |*                                         1
"""


def test_a_runs_longest_event_and_its_cpu_wait_per_event_come_from_the_window():
    from bench_lib import sysbench
    bench = sysbench.Sysbench("t", "oltp_point_select", 1, "u", "p", 8, 3, 1, None)
    # The window: seconds 1 to 3, 400 events. Its run-queue readings: at the start and a second
    # before the end (300 events later); thread 12 ended in between and counts for nothing.
    bench._first = (1, {"sysbench": (1.0, 0.5)})
    bench._last = (3, {"sysbench": (1.2, 0.6)})
    bench._tps_sum = bench._qps_sum = 400.0
    bench._waits = [{10: 1.0, 11: 2.0, 12: 5.0}, {10: 1.2, 11: 2.4}, 300.0]
    r = sysbench.Result("t")
    bench._fill(r, SYSBENCH_TAIL)
    assert r.ok and r.max_ms == 1113.49 and r.errors == 2
    assert abs(r.cpu_wait_ms - 2.0) < 1e-9          # 600 ms over 300 events
    assert abs(r.cpu_us["sysbench"] - 0.3 / 400 * 1e6) < 1e-6
    assert (r.p50, r.p99) == (0.5, 1.0)


def test_without_a_run_queue_reading_no_cpu_wait_is_claimed():
    from bench_lib import sysbench
    bench = sysbench.Sysbench("t", "oltp_point_select", 1, "u", "p", 8, 3, 1, None)
    bench._first = (1, {})
    bench._last = (3, {})
    bench._tps_sum = bench._qps_sum = 400.0
    bench._waits = [None, None, 0.0]
    r = sysbench.Result("t")
    bench._fill(r, SYSBENCH_TAIL)
    assert r.ok and r.cpu_wait_ms == 0.0


def test_run_queue_seconds_reads_every_thread_of_a_live_process():
    """By thread: the workers and the main thread are all there, and time only moves on."""
    import os
    import threading
    from bench_lib import procstat
    stop = threading.Event()
    workers = [threading.Thread(target=stop.wait) for _ in range(3)]
    for w in workers:
        w.start()
    try:
        first = procstat.run_queue_seconds(os.getpid())
        assert {w.native_id for w in workers} | {threading.get_native_id()} <= first.keys()
        sum(range(200000))                              # run a little, so the clock can only move on
        then = procstat.run_queue_seconds(os.getpid())
        assert all(v >= 0.0 for v in first.values())
        assert procstat.run_queue_growth(first, then) >= 0.0
    finally:
        stop.set()
        for w in workers:
            w.join()
    try:
        procstat.run_queue_seconds(2 ** 22 + 1)         # above pid_max: no such process
    except OSError:
        pass
    else:
        raise AssertionError("a missing process must raise OSError")


def test_the_funnels_own_figures_are_read_by_name_and_labels():
    from bench_lib import prometheus
    samples = prometheus.parse(
        '# HELP funnel_user_query_duration_seconds x\n'
        '# TYPE funnel_user_query_duration_seconds summary\n'
        'funnel_user_query_duration_seconds{user="flood",quantile="0.99"} 0.239\n'
        'funnel_user_query_duration_seconds{user="calm",quantile="0.99"} 0.002\n'
        'funnel_user_query_duration_seconds_max{user="flood"} 0.2934\n'
        'funnel_user_query_duration_seconds_count{user="a \\"quoted\\" name"} 7\n'
        'funnel_clients 2000\n')
    assert prometheus.value(samples, "funnel_user_query_duration_seconds", user="flood", quantile="0.99") == 0.239
    assert prometheus.value(samples, "funnel_user_query_duration_seconds", quantile="0.99", user="calm") == 0.002
    assert prometheus.value(samples, "funnel_user_query_duration_seconds_max", user="flood") == 0.2934
    assert prometheus.value(samples, "funnel_user_query_duration_seconds_count", user='a \\"quoted\\" name') == 7
    assert prometheus.value(samples, "funnel_clients") == 2000
    assert prometheus.value(samples, "funnel_user_query_duration_seconds_max", user="nobody") is None


# ---------------------------------------------------------------------------------- overhead, by round

def overhead_runs(funnel_cpu, haproxy_cpu, funnel_qps, haproxy_qps):
    """Scenario 1 runs of one workload: round n has funnel_cpu[n], haproxy_cpu[n], ..."""
    runs = []
    for n in range(len(funnel_cpu)):
        for setup, cpu, qps in (("direct", None, 40000), ("haproxy", haproxy_cpu[n], haproxy_qps[n]),
                                ("funnel", funnel_cpu[n], funnel_qps[n])):
            runs.append({"test": "oltp_point_select", "threads": 8, "setup": setup, "round": n, "ok": True,
                         "qps": qps, "cpu_us": {} if cpu is None else {"proxy": cpu}})
    return runs


def test_rounds_are_paired_so_a_slow_spell_does_not_decide():
    from bench_lib.scenarios import paired
    # The funnel's round 2 ran in a slow spell (45 against haproxy's 35). Apart, the medians would
    # say 45 vs 35; round by round the funnel is cheaper in two rounds of three.
    runs = overhead_runs(funnel_cpu=[30, 45, 46], haproxy_cpu=[31, 35, 47],
                         funnel_qps=[21000, 18000, 15000], haproxy_qps=[20000, 18500, 15500])
    p = paired(runs, "oltp_point_select", 8, "funnel", "haproxy")
    assert p["cpu"]["rounds"] == 3
    assert abs(p["cpu"]["median"] - 46 / 47) < 1e-9 and abs(p["cpu"]["high"] - 45 / 35) < 1e-9
    assert abs(p["qps"]["median"] - 18000 / 18500) < 1e-9 and p["qps"]["high"] == 1.05


def test_overhead_targets_are_judged_on_the_paired_medians_and_say_how_many_hold():
    from bench_lib.scenarios import paired
    summary = {}
    for threads, (f_cpu, h_cpu) in {8: ([30, 31], [32, 33]), 64: ([40, 41], [35, 36])}.items():
        runs = overhead_runs(f_cpu, h_cpu, funnel_qps=[20000, 20000], haproxy_qps=[19000, 21000])
        for r in runs:
            r["threads"] = threads
        for setup, cpu in (("funnel", f_cpu), ("haproxy", h_cpu)):
            summary[f"oltp_point_select|{threads}|{setup}"] = {"proxy": sum(cpu) / 2, "ratio": 0.5}
        summary[f"oltp_point_select|{threads}|funnel"]["vs_haproxy"] = paired(runs, "oltp_point_select", threads,
                                                                              "funnel", "haproxy")
    got = verdicts({1: {"data": {"summary": summary}}})
    cpu = next(v for k, v in got.items() if k.startswith("Overhead: funnel's CPU"))
    qps = next(v for k, v in got.items() if k.startswith("Overhead: funnel's QPS"))
    assert cpu[0] == "missed (holds in 1 of 2)", cpu
    assert "point_select 8t: 30.5 vs 32.5, 0.94x (rounds 0.94-0.94)" in cpu[1]
    assert "point_select 64t: 40.5 vs 35.5, 1.14x" in cpu[1]
    assert qps[0] == "holds" and "1.00x (rounds 0.95-1.05)" in qps[1]   # median of 20/19 and 20/21: 1.0025
