"""funnel + stats end to end: a known workload through the funnel, then /metrics and
/stats.json are read back: exact counts, latency quantiles in range, promtool clean. And the
funnel answers the same with stats left out."""
import json
import threading
import time

import pymysql
import pytest

from conftest import free_port, wait_for_port
from mariadb import (APP_PASSWORD, APP_USER, HOST, OTHER_PASSWORD, OTHER_USER, PORT, prepare_server, require_mariadb,
                     root)
from test_stats import get, parse, promtool_check, value


@pytest.fixture(scope="module", autouse=True)
def server():
    require_mariadb()
    prepare_server()


def start(start_chassis, plugins):
    port, stats_port = free_port(), free_port()
    c = start_chassis("--plugins", plugins, f"--funnel-address=127.0.0.1:{port}",
                      f"--funnel-backend-addresses={HOST}:{PORT}", "--funnel-auth-user=root",
                      *( [f"--stats-address=127.0.0.1:{stats_port}"] if "stats" in plugins else []))
    wait_for_port(port, c.proc)
    c.port, c.stats_port = port, stats_port
    return c


def connect(c):
    return pymysql.connect(host="127.0.0.1", port=c.port, user=APP_USER, password=APP_PASSWORD,
                           database="funnel_test", autocommit=True)


def workload(c):
    with root() as r, r.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS funnel_test.stats_w (id INT PRIMARY KEY, n INT)")
        cur.execute("DELETE FROM funnel_test.stats_w")
    results = []
    with connect(c) as conn, conn.cursor() as cur:
        for _ in range(1000):
            cur.execute("SELECT SLEEP(0.001)")
            results.append(cur.fetchone())
        for i in range(100):
            cur.execute(f"INSERT INTO stats_w VALUES ({i}, {i * 2})")
        cur.execute("SELECT COUNT(*), SUM(n) FROM stats_w")
        results.append(cur.fetchone())
    return results


def test_known_workload_gives_exact_counts_and_sane_quantiles(start_chassis):
    c = start(start_chassis, "funnel,stats")
    backend = f"{HOST}:{PORT}"
    results = workload(c)
    assert results[-1] == (100, 9900)
    status, _, text = get(c.stats_port, "/metrics")
    assert status == 200
    promtool_check(text)
    samples, types = parse(text)

    # 1000 sleeps + 100 inserts + 1 count, plus PyMySQL's SET AUTOCOMMIT at connect.
    queries = value(samples, "funnel_backend_queries_total", backend=backend)
    assert 1101 <= queries <= 1102, queries
    assert types["funnel_backend_query_duration_seconds"] == "summary"
    assert value(samples, "funnel_backend_query_duration_seconds_count", backend=backend) == queries
    p50 = value(samples, "funnel_backend_query_duration_seconds", backend=backend, quantile="0.5")
    p99 = value(samples, "funnel_backend_query_duration_seconds", backend=backend, quantile="0.99")
    assert 0.001 <= p50 < 0.05, p50          # SELECT SLEEP(0.001) dominates
    assert p50 <= p99 < 1.0, p99
    assert value(samples, "funnel_backend_connects_total", backend=backend) >= 1
    assert value(samples, "funnel_backend_up", backend=backend) == 1
    assert value(samples, "funnel_backend_received_bytes_total", backend=backend) > 0
    assert value(samples, "funnel_backlog_wait_duration_seconds_count", user=APP_USER) == queries
    # The user's view of the same commands: as many, and never shorter than the backend's.
    assert value(samples, "funnel_user_query_duration_seconds_count", user=APP_USER) == queries
    user_p50 = value(samples, "funnel_user_query_duration_seconds", user=APP_USER, quantile="0.5")
    assert 0.001 <= user_p50 < 0.05, user_p50
    assert value(samples, "funnel_user_query_duration_seconds_max", user=APP_USER) >= 0.001

    # The digests: literals folded, counts exact, rows counted.
    _, _, body = get(c.stats_port, "/stats.json")
    digests = json.loads(body)["digests"]
    by_text = {d["text"]: d for d in digests if d["user"] == APP_USER}
    sleep = by_text["SELECT SLEEP ( ? )"] if "SELECT SLEEP ( ? )" in by_text else by_text["SELECT SLEEP(?)"]
    assert sleep["calls"] == 1000 and sleep["rows_sent"] == 1000 and sleep["errors"] == 0
    inserts = [d for t, d in by_text.items() if t.startswith("INSERT INTO stats_w")]
    assert len(inserts) == 1 and inserts[0]["calls"] == 100 and inserts[0]["rows_affected"] == 100
    c.stop()


def test_each_user_gets_its_own_command_time_backlog_wait_included(start_chassis):
    """funnel_user_query_duration: per user, from the command's read to its answer. On a pool of
    one, a user's quick query that waits behind another user's SLEEP counts the wait; the
    backend's histogram mixes both users, the per-user ones keep them apart."""
    port, stats_port = free_port(), free_port()
    c = start_chassis("--plugins", "funnel,stats", f"--funnel-address=127.0.0.1:{port}",
                      f"--funnel-backend-addresses={HOST}:{PORT}", "--funnel-auth-user=root",
                      "--funnel-backend-max-connections=1", "--funnel-rebalance-hold=0",
                      f"--stats-address=127.0.0.1:{stats_port}")
    wait_for_port(port, c.proc)
    slow = pymysql.connect(host="127.0.0.1", port=port, user=APP_USER, password=APP_PASSWORD, autocommit=True)
    quick = pymysql.connect(host="127.0.0.1", port=port, user=OTHER_USER, password=OTHER_PASSWORD, autocommit=True)
    with quick.cursor() as cur:          # alone: served at once
        for _ in range(20):
            cur.execute("SELECT 1")
    sleeping = threading.Thread(target=lambda: slow.cursor().execute("SELECT SLEEP(0.5)"))
    sleeping.start()
    deadline = time.monotonic() + 5
    while True:                          # the SLEEP holds the only connection
        with root() as r, r.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(0.5)%'")
            if cur.fetchone()[0] == 1:
                break
        assert time.monotonic() < deadline, "the SLEEP never reached the server"
        time.sleep(0.01)
    with quick.cursor() as cur:          # waits in the backlog for the SLEEP to end
        cur.execute("SELECT 2")
        assert cur.fetchone() == (2,)
    sleeping.join(5)
    slow.close(); quick.close()

    _, _, text = get(stats_port, "/metrics")
    samples, types = parse(text)
    assert types["funnel_user_query_duration_seconds"] == "summary"
    quick_n = value(samples, "funnel_user_query_duration_seconds_count", user=OTHER_USER)
    slow_n = value(samples, "funnel_user_query_duration_seconds_count", user=APP_USER)
    # PyMySQL's SET AUTOCOMMIT at login is a command of each user too.
    assert quick_n == 22 and slow_n == 2, (quick_n, slow_n)
    assert value(samples, "funnel_backend_query_duration_seconds_count", backend=f"{HOST}:{PORT}") == quick_n + slow_n
    quick_p50 = value(samples, "funnel_user_query_duration_seconds", user=OTHER_USER, quantile="0.5")
    quick_max = value(samples, "funnel_user_query_duration_seconds_max", user=OTHER_USER)
    waited = value(samples, "funnel_backlog_wait_duration_seconds_max", user=OTHER_USER)
    assert quick_p50 < 0.1, quick_p50                  # its usual query: no wait, no sleep
    assert 0.2 <= waited <= quick_max < 2.0, (waited, quick_max)   # the waiting one: wait included
    assert value(samples, "funnel_user_query_duration_seconds_max", user=APP_USER) >= 0.5
    # The backend's time leaves the wait out: the SLEEP and a few quick queries, not the wait on top.
    slow_sum = value(samples, "funnel_user_query_duration_seconds_sum", user=APP_USER)
    backend_sum = value(samples, "funnel_backend_query_duration_seconds_sum", backend=f"{HOST}:{PORT}")
    assert 0.5 <= backend_sum < slow_sum + 0.15 < slow_sum + waited, (backend_sum, slow_sum, waited)
    c.stop()


def test_digests_follow_each_clients_user_and_database(start_chassis):
    """The funnel resolves a client's (user, database) once for the digests and again after a
    change of database: every execution lands under the user and database it ran in."""
    c = start(start_chassis, "funnel,stats")
    with connect(c) as conn, conn.cursor() as cur:
        for _ in range(3):
            cur.execute("SELECT 17 AS scoped_probe")
        conn.select_db("funnel_other")                      # COM_INIT_DB
        for _ in range(2):
            cur.execute("SELECT 17 AS scoped_probe")
        cur.execute("USE funnel_test")                      # a statement
        cur.execute("SELECT 17 AS scoped_probe")
    with pymysql.connect(host="127.0.0.1", port=c.port, user=OTHER_USER, password=OTHER_PASSWORD,
                         database="funnel_test", autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT 17 AS scoped_probe")
    _, _, body = get(c.stats_port, "/stats.json")
    calls = {(d["user"], d["db"]): d["calls"] for d in json.loads(body)["digests"] if "scoped_probe" in d["text"]}
    assert calls == {(APP_USER, "funnel_test"): 4, (APP_USER, "funnel_other"): 2, (OTHER_USER, "funnel_test"): 1}, calls
    c.stop()


def test_funnel_answers_the_same_without_stats(start_chassis):
    with_stats = workload(start(start_chassis, "funnel,stats"))
    without = workload(start(start_chassis, "funnel"))
    assert with_stats == without
