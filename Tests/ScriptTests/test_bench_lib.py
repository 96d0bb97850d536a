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
