"""funnel end to end: the real chassis with the funnel plugin in front of a real MariaDB,
driven by real clients (PyMySQL, mysql-connector-python, the mariadb CLI)."""
import os
import re
import socket
import subprocess
import threading
import time

import mysql.connector
import pymysql
import pytest

from conftest import bin_dir, connector_client, free_port, read_log, run_chassis, wait_for_port
from mariadb import (APP_PASSWORD, APP_USER, HOST, OTHER_PASSWORD, OTHER_USER, PORT, RO_PASSWORD, RO_USER,
                     prepare_server, require_mariadb, root, server_connections, server_socket, wait_until)
from test_stats import get, parse, value


@pytest.fixture(scope="module", autouse=True)
def server():
    require_mariadb()
    prepare_server()


class Funnel:
    def __init__(self, chassis, port):
        self.chassis = chassis
        self.port = port

    def connect(self, user=APP_USER, password=APP_PASSWORD, database="funnel_test", **kw):
        return pymysql.connect(host="127.0.0.1", port=self.port, user=user, password=password, database=database,
                               autocommit=True, connect_timeout=10, read_timeout=60, write_timeout=60, **kw)


@pytest.fixture
def start_funnel(start_chassis, tmp_path):
    def start(*options, mode="transaction", users=None):
        port = free_port()
        cfg = tmp_path / f"funnel-{port}.toml"
        lines = ["[funnel]", f'address = "127.0.0.1:{port}"', f'backend-addresses = ["{HOST}:{PORT}"]',
                 f'pool-mode = "{mode}"', 'auth-user = "root"', "threads = 2"]
        if users:
            lines.append("[funnel.users]")
            for name, fields in users.items():
                body = ", ".join(f'{k} = {v!r}'.replace("'", '"') if isinstance(v, str) else f"{k} = {v}" for k, v in fields.items())
                lines.append(f"{name} = {{ {body} }}")
        cfg.write_text("\n".join(lines) + "\n")
        c = start_chassis("--plugins", "funnel", "--defaults-file", cfg, *options)
        wait_for_port(port, c.proc)
        return Funnel(c, port)

    return start


def query(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


# ------------------------------------------------------------- clients work

@pytest.mark.parametrize("mode", ["transaction", "session"])
def test_client_basics(start_funnel, mode):
    f = start_funnel(mode=mode)
    with f.connect() as c:
        assert query(c, "SELECT DATABASE(), 1 + 1") == (("funnel_test", 2),)
        assert query(c, "SELECT NULL, '', 0") == ((None, "", 0),)
        text = "grüße 👋 ☃ — ñ"
        assert query(c, "SELECT %s", (text,)) == ((text,),)
        with pytest.raises(pymysql.err.ProgrammingError) as e:
            query(c, "SELEKT 1")
        assert e.value.args[0] == 1064
        assert query(c, "SELECT 2") == ((2,),)   # the session goes on after an error
        query(c, "USE funnel_other")
        assert query(c, "SELECT DATABASE()") == (("funnel_other",),)
        c.ping()


def test_wrong_password_is_refused_like_mariadb(start_funnel):
    f = start_funnel()
    with pytest.raises(pymysql.err.OperationalError) as e:
        f.connect(password="wrong")
    assert e.value.args == (1045, "Access denied for user 'app'@'127.0.0.1' (using password: YES)")
    with pytest.raises(pymysql.err.OperationalError) as e:
        f.connect(user="nobody-at-all", password="x")
    assert e.value.args[0] == 1045


def test_configured_user_with_hash_and_default_database(start_funnel):
    with root() as r:
        pw_hash = query(r, "SELECT PASSWORD(%s)", (OTHER_PASSWORD,))[0][0]
    f = start_funnel(users={OTHER_USER: {"password": pw_hash, "database": "funnel_other"}})
    with f.connect(user=OTHER_USER, password=OTHER_PASSWORD, database=None) as c:
        assert query(c, "SELECT DATABASE(), CURRENT_USER()") == (("funnel_other", f"{OTHER_USER}@%"),)


def test_mariadb_cli(start_funnel):
    f = start_funnel()
    out = subprocess.run(["mariadb", "--no-defaults", "-h127.0.0.1", f"-P{f.port}", f"-u{APP_USER}", f"-p{APP_PASSWORD}",
                          "funnel_test", "-N", "-e", "SELECT 40 + 2; SELECT DATABASE()"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["42", "funnel_test"]


@pytest.mark.parametrize("mode", ["transaction", "session"])
def test_transactions_commit_and_rollback(start_funnel, mode):
    f = start_funnel(mode=mode)
    with f.connect() as c, root() as r:
        query(c, "CREATE TABLE IF NOT EXISTS tx_test (id INT PRIMARY KEY)")
        query(c, "DELETE FROM tx_test")
        query(c, "BEGIN")
        query(c, "INSERT INTO tx_test VALUES (1)")
        assert query(r, "SELECT COUNT(*) FROM funnel_test.tx_test") == ((0,),)  # not visible outside yet
        query(c, "ROLLBACK")
        assert query(r, "SELECT COUNT(*) FROM funnel_test.tx_test") == ((0,),)
        c.begin()
        query(c, "INSERT INTO tx_test VALUES (2)")
        c.commit()
        assert query(r, "SELECT id FROM funnel_test.tx_test") == ((2,),)


def test_large_result_streams(start_funnel):
    f = start_funnel()
    with f.connect() as c, c.cursor(pymysql.cursors.SSCursor) as cur:
        cur.execute("SELECT seq, REPEAT('x', 200) FROM seq_1_to_200000")
        count = sum(1 for _ in cur)
    assert count == 200000


def test_17_mib_blob_both_ways(start_funnel):
    f = start_funnel()
    blob = os.urandom(17 * 1024 * 1024 + 123)
    with f.connect(max_allowed_packet=64 * 1024 * 1024) as c:
        query(c, "DELETE FROM items WHERE v = 'blob'")
        query(c, "INSERT INTO items (v, b) VALUES ('blob', %s)", (blob,))
        back = query(c, "SELECT b FROM items WHERE v = 'blob'")[0][0]
    assert back == blob


def test_load_data_local_infile(start_funnel, tmp_path):
    """The server's request for the file reaches the client, the contents reach the server; a
    client that did not offer LOCAL INFILE gets the server's error, and both go on working."""
    f = start_funnel()
    rows = [f"infile-{i}" for i in range(1000)]
    data = tmp_path / "rows.txt"
    data.write_text("\n".join(rows) + "\n")
    with f.connect(local_infile=True) as c:
        query(c, "DELETE FROM items WHERE v LIKE 'infile-%'")
        query(c, f"LOAD DATA LOCAL INFILE '{data}' INTO TABLE items (v)")
        assert query(c, "SELECT COUNT(*) FROM items WHERE v LIKE 'infile-%'") == ((1000,),)
        assert query(c, "SELECT 1") == ((1,),)
    with f.connect() as c:
        with pytest.raises(pymysql.err.OperationalError) as refused:
            query(c, f"LOAD DATA LOCAL INFILE '{data}' INTO TABLE items (v)")
        assert refused.value.args[0] == 4166   # as MariaDB answers such a client itself
        assert query(c, "SELECT COUNT(*) FROM items WHERE v LIKE 'infile-%'") == ((1000,),)


def test_binary_prepared_statements(start_funnel):
    f = start_funnel()
    with connector_client(f.port, APP_USER, APP_PASSWORD, "funnel_test") as c:
        cur = c.cursor(prepared=True)
        cur.execute("SELECT ? + 1, ?, CAST(? AS DATETIME), NULL", (41, "ünï", "2024-02-29 12:34:56"))
        row = cur.fetchone()
        assert row[0] == 42 and row[1] == "ünï" and str(row[2]) == "2024-02-29 12:34:56" and row[3] is None
        for i in range(3):   # the statement is re-executed on the connection it was prepared on
            cur.execute("SELECT ? * 2", (i,))
            assert cur.fetchone()[0] == i * 2
        cur.close()


def test_sql_prepare_user_variables_and_last_insert_id(start_funnel):
    f = start_funnel()
    with f.connect() as c:
        query(c, "SET @x = 20")
        assert query(c, "SELECT @x + 1") == ((21,),)
        query(c, "PREPARE s FROM 'SELECT ? * 3'")
        assert query(c, "EXECUTE s USING @x") == ((60,),)
    with f.connect() as c:
        query(c, "INSERT INTO items (v) VALUES ('lid')")
        inserted = c.insert_id()
        # Other clients' work in between: the id must still be this client's own.
        with f.connect() as other:
            query(other, "INSERT INTO items (v) VALUES ('noise')")
        assert query(c, "SELECT LAST_INSERT_ID()") == ((inserted,),)


@pytest.mark.parametrize("pinning, check, expected", [
    ("create temporary table pin_tmp (a int)", "insert into pin_tmp values (1)", []),
    ("select sql_calc_found_rows v from items limit 1", "select found_rows() >= 3", [(1,)]),
    ("select get_lock('pin_lock', 5)", "select is_used_lock('pin_lock') = connection_id()", [(1,)]),
])
def test_session_state_pins_the_connection(start_funnel, pinning, check, expected):
    """Written in lower case and inside longer words (sql_calc_found_rows): the pre-scan must
    still see them. Between the two statements another client takes the most recently used
    idle connection for a transaction: without the pin, `check` would run elsewhere."""
    f = start_funnel("--funnel-threads=1", "--funnel-backend-max-connections=2")
    with f.connect() as setup:
        query(setup, "INSERT INTO items (v) VALUES ('p1'), ('p2'), ('p3')")
    with f.connect() as a, f.connect() as b:
        query(a, pinning)
        query(b, "BEGIN")
        query(b, "SELECT 1")
        assert list(query(a, check)) == expected
        query(b, "COMMIT")


@pytest.mark.parametrize("option, loops", [
    ("--funnel-threads=0", max(1, len(os.sched_getaffinity(0)) // 2)),   # the default
    ("--funnel-threads=3", 3),
])
def test_event_loops_default_to_half_the_cores(start_funnel, option, loops):
    """A funnel sharing its cores with mysqld and the clients costs less CPU per query with fewer
    loops (docs/funnel.md), so 0 means half the cores; a number given is taken as it is."""
    f = start_funnel(option, "--log-level=info")
    with f.connect() as c:
        assert query(c, "SELECT 1") == ((1,),)
    text = read_log(f.chassis)
    assert f", {loops} event loop(s)" in text, text[-2000:]


def test_read_only_user_refused_insert(start_funnel):
    f = start_funnel()
    with f.connect(user=RO_USER, password=RO_PASSWORD) as c:
        assert query(c, "SELECT COUNT(*) >= 0 FROM items") == ((1,),)
        with pytest.raises(pymysql.err.OperationalError) as e:
            query(c, "INSERT INTO items (v) VALUES ('nope')")
        assert e.value.args[0] == 1142


def test_session_variables_follow_the_client(start_funnel):
    f = start_funnel("--funnel-backend-max-connections=2")
    with f.connect() as a, f.connect() as b:
        query(a, "SET SESSION sql_mode = 'ANSI_QUOTES', time_zone = '+05:00', autocommit = 1")
        for _ in range(10):   # interleave so the two clients swap connections
            assert query(a, "SELECT @@sql_mode, @@time_zone") == (("ANSI_QUOTES", "+05:00"),)
            assert query(b, "SELECT @@time_zone")[0][0] != "+05:00"
        query(a, "SET NAMES latin1")
        assert query(a, "SELECT @@character_set_client")[0][0] == "latin1"


def test_autocommit_off_keeps_the_transaction(start_funnel):
    f = start_funnel()
    with f.connect() as c, root() as r:
        query(c, "CREATE TABLE IF NOT EXISTS ac_test (id INT PRIMARY KEY)")
        query(c, "DELETE FROM ac_test")
        c.autocommit(False)
        query(c, "INSERT INTO ac_test VALUES (7)")
        first = query(c, "SELECT CONNECTION_ID()")[0][0]
        assert query(r, "SELECT COUNT(*) FROM funnel_test.ac_test") == ((0,),)
        assert query(c, "SELECT CONNECTION_ID()")[0][0] == first
        c.rollback()
        assert query(r, "SELECT COUNT(*) FROM funnel_test.ac_test") == ((0,),)


# -------------------------------------------------------------- funnelling

def test_500_clients_through_8_connections(start_funnel):
    f = start_funnel("--funnel-backend-max-connections=8", "--funnel-backlog-timeout=60")
    with root() as r:
        query(r, "REPLACE INTO funnel_test.counters VALUES (1, 0)")
    errors, peak = [], [0]
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], server_connections(APP_USER))
            time.sleep(0.05)

    def client(i):
        try:
            with f.connect() as c:
                for _ in range(3):
                    c.begin()
                    ids = {query(c, "SELECT CONNECTION_ID()")[0][0]}
                    query(c, "UPDATE counters SET n = n + 1 WHERE id = 1")
                    ids.add(query(c, "SELECT CONNECTION_ID()")[0][0])
                    c.commit()
                    assert len(ids) == 1, f"transaction moved between connections {ids}"
        except Exception as e:  # noqa: BLE001 - collected and reported below
            errors.append(repr(e))

    watcher = threading.Thread(target=watch)
    watcher.start()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(500)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    stop.set()
    watcher.join()
    assert errors == []
    with root() as r:
        assert query(r, "SELECT n FROM funnel_test.counters WHERE id = 1") == ((1500,),)
    assert 1 <= peak[0] <= 8, peak[0]


# ----------------------------------------------------------------- backlog

def test_clients_that_come_and_go_leave_no_memory_behind(start_funnel):
    """An application that connects per request: thousands of clients come and go. Each one's
    session, channel and buffers must go with it (a reference cycle once kept about 3.5 KiB of
    every client that ever connected)."""
    f = start_funnel()

    def rss_kib():
        with open(f"/proc/{f.chassis.proc.pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

    def churn(greetings, logins):
        for _ in range(greetings):   # the greeting, then gone
            with socket.create_connection(("127.0.0.1", f.port), timeout=10) as s:
                assert s.recv(1024)
        for _ in range(logins):      # logged in, a statement, quit
            with f.connect() as c:
                assert query(c, "SELECT 1") == ((1,),)

    churn(1000, 100)   # warm-up: the allocator's arenas and the funnel's caches reach their size
    before = rss_kib()
    churn(6000, 400)
    grown = rss_kib() - before
    assert grown < 4096, f"RSS grew {grown} KiB over 6,400 clients that left"


def test_backend_connections_that_come_and_go_leave_no_memory_behind(start_funnel):
    """Backend connections retired after every statement (a max lifetime shorter than one): each
    closed connection's channel, handler and buffers must go with it."""
    f = start_funnel("--funnel-max-lifetime=0.001", "--funnel-backend-max-connections=2")

    def rss_kib():
        with open(f"/proc/{f.chassis.proc.pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

    def churn(statements):
        with f.connect() as c:
            for _ in range(statements):
                assert query(c, "SELECT 1") == ((1,),)

    logins = server_logins()
    churn(300)
    assert server_logins() - logins >= 290, "the connections were not retired"
    before = rss_kib()
    churn(3000)
    grown = rss_kib() - before
    assert grown < 2048, f"RSS grew {grown} KiB over 3,000 backend connections that closed"


def test_server_side_user_cap_costs_a_wait_not_an_error(start_funnel):
    """The server caps a user at 2 connections (MAX_USER_CONNECTIONS), the funnel allows more.
    Connects beyond the cap are refused with 1226; their requests wait for the user's connections
    in use and run on them. The refusals do not eject the backend: another user keeps working."""
    with root() as r:
        query(r, "DROP USER IF EXISTS 'capped'@'%'")
        query(r, "CREATE USER 'capped'@'%' IDENTIFIED BY 'capped-pw' WITH MAX_USER_CONNECTIONS 2")
        query(r, "GRANT SELECT ON funnel_test.* TO 'capped'@'%'")
    try:
        f = start_funnel("--funnel-backend-max-connections=8", "--funnel-backlog-timeout=20",
                         "--funnel-eject-after-failures=2")
        results, errors = [], []

        def client():
            try:
                with f.connect(user="capped", password="capped-pw") as c:
                    results.append(query(c, "SELECT SLEEP(0.5)")[0][0])
            except pymysql.err.MySQLError as e:
                errors.append(e.args)

        threads = [threading.Thread(target=client) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert errors == [], errors
        assert results == [0] * 6
        assert server_connections("capped") <= 2
        with f.connect() as c:   # the backend is still up for everybody else
            assert query(c, "SELECT 1") == ((1,),)
        assert "is DOWN" not in f.chassis.text()
    finally:
        with root() as r:
            query(r, "DROP USER IF EXISTS 'capped'@'%'")


def test_waiting_client_gets_the_connection_when_it_frees(start_funnel):
    f = start_funnel("--funnel-backend-max-connections=1", "--funnel-backlog-timeout=20")
    with f.connect() as holder, f.connect() as waiter:
        holder.begin()
        query(holder, "SELECT 1")
        result = {}
        t = threading.Thread(target=lambda: result.update(v=query(waiter, "SELECT 'served'")))
        started = time.time()
        t.start()
        time.sleep(0.5)
        assert "v" not in result   # waits in the backlog
        holder.commit()
        t.join(10)
        assert result["v"] == (("served",),)
        assert time.time() - started < 5


def test_backlog_timeout_gives_documented_error(start_funnel):
    f = start_funnel("--funnel-backend-max-connections=1", "--funnel-backlog-timeout=0.5")
    with f.connect() as holder, f.connect() as waiter:
        holder.begin()
        query(holder, "SELECT 1")
        started = time.time()
        with pytest.raises(pymysql.err.OperationalError) as e:
            query(waiter, "SELECT 1")
        assert e.value.args[0] == 9001
        assert re.search(r"no backend connection within 0\.[5-9] s", e.value.args[1]), e.value.args[1]
        assert "1 in use" in e.value.args[1] and "at its limit of 1" in e.value.args[1]
        assert 0.4 < time.time() - started < 10   # honoured, not forever (loose: CI machines are busy)
        holder.commit()
        assert query(waiter, "SELECT 'after'") == (("after",),)   # the session goes on


def test_full_backlog_refuses_at_once(start_funnel):
    f = start_funnel("--funnel-backend-max-connections=1", "--funnel-backlog-max=1", "--funnel-backlog-timeout=10")
    with f.connect() as holder, f.connect() as w1, f.connect() as w2:
        holder.begin()
        query(holder, "SELECT 1")
        t = threading.Thread(target=lambda: query(w1, "SELECT 1"))
        t.start()
        time.sleep(0.3)
        started = time.time()
        with pytest.raises(pymysql.err.OperationalError) as e:
            query(w2, "SELECT 1")
        assert e.value.args[0] == 9002 and "backlog is full" in e.value.args[1]
        assert time.time() - started < 1
        holder.commit()
        t.join(10)


def test_waiting_client_that_disconnects_leaves_the_backlog(start_funnel):
    f = start_funnel("--funnel-backend-max-connections=1", "--funnel-backlog-max=1", "--funnel-backlog-timeout=30")
    # Connect everyone first: PyMySQL's connect itself runs a statement.
    with f.connect() as holder, f.connect() as next_waiter:
        quitter = f.connect()
        holder.begin()
        query(holder, "SELECT 1")
        t = threading.Thread(target=lambda: pytest.raises(Exception, query, quitter, "SELECT 1"))
        t.start()
        time.sleep(0.3)
        quitter._sock.shutdown(socket.SHUT_RDWR)   # vanish while waiting
        t.join(5)
        time.sleep(0.3)
        # The backlog (max 1) has room again: a new waiter is queued, not refused.
        result = {}
        t2 = threading.Thread(target=lambda: result.update(v=query(next_waiter, "SELECT 'queued'")))
        t2.start()
        time.sleep(0.3)
        holder.commit()
        t2.join(10)
        assert result["v"] == (("queued",),)


def test_per_user_client_limit(start_funnel):
    f = start_funnel(users={OTHER_USER: {"password": OTHER_PASSWORD, "max-client-connections": 2}})
    a = f.connect(user=OTHER_USER, password=OTHER_PASSWORD)
    b = f.connect(user=OTHER_USER, password=OTHER_PASSWORD)
    with pytest.raises(pymysql.err.OperationalError) as e:
        f.connect(user=OTHER_USER, password=OTHER_PASSWORD)
    assert e.value.args[0] == 1203
    with f.connect() as other_user:   # other users are not affected
        assert query(other_user, "SELECT 1") == ((1,),)
    a.close()
    time.sleep(0.2)
    f.connect(user=OTHER_USER, password=OTHER_PASSWORD).close()
    b.close()


def test_per_database_limit(start_funnel):
    f = start_funnel("--funnel-max-connections-per-database=1", "--funnel-backlog-timeout=0.5")
    with f.connect() as holder, f.connect() as same_db, f.connect(database="funnel_other") as other_db:
        holder.begin()
        query(holder, "SELECT 1")
        with pytest.raises(pymysql.err.OperationalError) as e:
            query(same_db, "SELECT 1")
        assert e.value.args[0] == 9001 and "database 'funnel_test'" in e.value.args[1]
        assert query(other_db, "SELECT 1") == ((1,),)
        holder.commit()


def test_backend_connections_never_exceed_the_limit(start_funnel):
    f = start_funnel("--funnel-backend-max-connections=3", "--funnel-backlog-timeout=30")
    clients = [f.connect() for _ in range(20)]
    try:
        peak = 0

        def work(c):
            for _ in range(20):
                query(c, "SELECT SLEEP(0.005)")

        threads = [threading.Thread(target=work, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            peak = max(peak, server_connections(APP_USER))
            time.sleep(0.02)
        assert 1 <= peak <= 3
    finally:
        for c in clients:
            c.close()


def server_logins():
    with root() as r:
        return int(query(r, "SHOW GLOBAL STATUS LIKE 'Connections'")[0][1])


@pytest.mark.parametrize("hold, most_logins, fewest_logins", [("0.1", 15, 0), ("0", None, 60)])
def test_a_trickle_user_keeps_its_slot_against_a_flood(start_funnel, hold, most_logins, fewest_logins):
    """Backend connections belong to a user: each slot moved between users is a login on the
    server. With the rebalance hold the calm user keeps the slot it took from the flood; without
    it the slot goes back and forth on every calm query. The stats plugin counts the moves."""
    stats_port = free_port()
    f = start_funnel("--funnel-backend-max-connections=2", "--funnel-backlog-timeout=30",
                     f"--funnel-rebalance-hold={hold}", "--plugins", "stats", f"--stats-address=127.0.0.1:{stats_port}")
    flooders = [f.connect() for _ in range(8)]
    calm = f.connect(user=OTHER_USER, password=OTHER_PASSWORD)
    stop = threading.Event()
    errors, flood_queries = [], [0]

    def flood(c):
        try:
            while not stop.is_set():
                query(c, "SELECT SLEEP(0.002)")
                flood_queries[0] += 1
        except Exception as e:  # noqa: BLE001 - collected and reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=flood, args=(c,)) for c in flooders]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)   # the flood holds both connections, with a backlog
        before = server_logins()
        calm_waits = []
        for _ in range(60):
            started = time.time()
            assert query(calm, "SELECT 'calm'") == (("calm",),)
            calm_waits.append(time.time() - started)
            time.sleep(0.02)
        logins = server_logins() - before
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        for c in flooders + [calm]:
            c.close()
    assert errors == []
    assert flood_queries[0] > 100
    assert max(calm_waits) < 5, max(calm_waits)
    if most_logins is not None:
        assert logins <= most_logins, logins
    assert logins >= fewest_logins, logins
    _, _, text = get(stats_port, "/metrics")
    samples, _ = parse(text)
    moves = value(samples, "funnel_backend_closes_total", backend=f"{HOST}:{PORT}", reason="rebalance")
    if most_logins is not None:
        assert 1 <= moves <= most_logins, moves
    assert moves >= fewest_logins - 5, moves   # each move is a close and a login


@pytest.mark.parametrize("form", ["path", "unix:path"])
def test_backend_on_a_unix_socket(start_funnel, form):
    path = server_socket()
    f = start_funnel(f"--funnel-backend-addresses={path if form == 'path' else f'unix:{path}'}")
    with f.connect() as c:
        c.begin()
        query(c, "UPDATE counters SET n = n + 1 WHERE id = 1")
        own = query(c, "SELECT CONNECTION_ID()")[0][0]
        # The server sees the funnel's connection on its socket: host 'localhost', no TCP port.
        assert query(c, "SELECT HOST FROM information_schema.PROCESSLIST WHERE ID = %s", (own,)) == (("localhost",),)
        c.commit()
        assert query(c, "SELECT CURRENT_USER()") == ((f"{APP_USER}@%",),)
    assert f"backends {path}(rw)" in read_log(f.chassis.proc)


@pytest.mark.parametrize("address, message", [
    ("/nonexistent-dir/funnel.sock", "cannot listen on /nonexistent-dir/funnel.sock"),
    ("/" + "a" * 120 + ".sock", "a Unix socket needs an absolute path of at most 107 bytes"),
])
def test_unusable_socket_address_is_a_clear_error(chassis_bin, address, message):
    r = run_chassis(chassis_bin, "--plugin-dir", bin_dir(), "--plugins", "funnel", f"--funnel-address={address}")
    assert r.returncode == 5, r.stderr
    assert message in r.stderr, r.stderr


def test_backend_socket_that_does_not_exist_gives_a_clear_error(start_funnel, tmp_path):
    missing = tmp_path / "no-such-mysqld.sock"
    f = start_funnel(f"--funnel-backend-addresses={missing}", "--funnel-connect-timeout=2")
    started = time.time()
    # The login already needs the backend (the user's password hash is looked up there).
    with pytest.raises(pymysql.err.OperationalError) as e:
        with f.connect() as c:
            query(c, "SELECT 1")
    # Not "access denied": the client is told the funnel cannot check logins now; the log says why.
    assert e.value.args[0] == 9006, e.value.args
    assert "user look-up on the backend failed" in e.value.args[1]
    assert time.time() - started < 10
    assert f.chassis.proc.poll() is None
    log = wait_until(lambda: (lambda text: text if "user lookup for 'app' failed" in text else None)(read_log(f.chassis.proc)),
                     message="lookup failure logged")
    assert str(missing) in log or "No such file" in log, log[-2000:]


def test_unlisted_users_are_looked_up_on_a_backend_that_answers(start_funnel):
    """The first read-write backend is dead: the look-up of an unlisted user's password hash
    moves on to the next backend instead of refusing every login."""
    dead = free_port()
    f = start_funnel(f"--funnel-backend-addresses=127.0.0.1:{dead},{HOST}:{PORT}")
    # autocommit=None: PyMySQL sends no statement at connect, so only the login is tested here.
    c = pymysql.connect(host="127.0.0.1", port=f.port, user=OTHER_USER, password=OTHER_PASSWORD, autocommit=None,
                        connect_timeout=10)
    try:
        assert c.open and c.get_server_info()
    finally:
        c.close()
    with pytest.raises(pymysql.err.OperationalError) as e:   # a wrong password is still refused
        pymysql.connect(host="127.0.0.1", port=f.port, user=OTHER_USER, password="wrong", autocommit=None)
    assert e.value.args[0] == 1045


def test_a_dead_backend_costs_no_errors_while_another_serves(start_funnel):
    """Round robin keeps choosing a backend that hangs up before its greeting (kept UP here: no
    health checks, no ejection); each connect that fails moves its request to the live backend."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted = [0]

    def hang_up():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted[0] += 1
            conn.close()

    threading.Thread(target=hang_up, daemon=True).start()
    try:
        dead = listener.getsockname()[1]
        f = start_funnel(f"--funnel-backend-addresses=127.0.0.1:{dead},{HOST}:{PORT}", "--funnel-balance=round-robin",
                         "--funnel-eject-after-failures=100000", "--funnel-health-check-interval=3600")
        with f.connect() as c:
            for i in range(40):
                assert query(c, "SELECT %s", (i,)) == ((i,),)
        assert accepted[0] >= 10, accepted[0]   # the dead backend was tried, again and again
        assert "is DOWN" not in read_log(f.chassis.proc)
    finally:
        listener.close()


# ------------------------------------------------------------------ faults

def test_client_killed_mid_transaction_leaves_no_lock(start_funnel):
    f = start_funnel()
    with root() as r:
        query(r, "REPLACE INTO funnel_test.counters VALUES (2, 0)")
    victim = f.connect()
    victim.begin()
    query(victim, "UPDATE counters SET n = 99 WHERE id = 2")   # holds a row lock
    victim._sock.shutdown(socket.SHUT_RDWR)                    # vanish mid-transaction
    with f.connect() as c:
        c.begin()
        query(c, "SET SESSION innodb_lock_wait_timeout = 5")
        query(c, "UPDATE counters SET n = n + 1 WHERE id = 2")    # would wait if the lock survived
        c.commit()
    with root() as r:
        assert query(r, "SELECT n FROM funnel_test.counters WHERE id = 2") == ((1,),)  # 99 was rolled back
        wait_until(lambda: query(r, "SELECT COUNT(*) FROM information_schema.INNODB_TRX")[0][0] == 0,
                   message="no open transaction")


def test_backend_connection_killed_mid_transaction(start_funnel):
    f = start_funnel()
    with f.connect() as c, root() as r:
        c.begin()
        query(c, "UPDATE counters SET n = n WHERE id = 1")
        backend_id = query(c, "SELECT CONNECTION_ID()")[0][0]
        query(r, f"KILL {backend_id}")
        time.sleep(0.2)
        with pytest.raises(pymysql.err.MySQLError) as e:
            query(c, "SELECT 1")
        assert e.value.args[0] in (9005, 2013)
        # The rest of the lost transaction must not run in autocommit: refused until ROLLBACK.
        with pytest.raises(pymysql.err.MySQLError) as e:
            query(c, "UPDATE counters SET n = n + 1 WHERE id = 1")
        assert e.value.args[0] == 9005
        c.rollback()
        assert query(c, "SELECT 'fine'") == (("fine",),)


# ------------------------------------------------------ protocol commands

def test_change_user_and_reset_connection(start_funnel):
    f = start_funnel()
    with connector_client(f.port, APP_USER, APP_PASSWORD, "funnel_test") as c:
        cur = c.cursor()
        cur.execute("SET @kept = 1")
        c.cmd_reset_connection()                       # COM_RESET_CONNECTION
        cur.execute("SELECT @kept")
        assert cur.fetchall() == [(None,)]
        c.cmd_change_user(username=OTHER_USER, password=OTHER_PASSWORD, database="funnel_other")  # COM_CHANGE_USER
        cur = c.cursor()
        cur.execute("SELECT CURRENT_USER(), DATABASE()")
        assert cur.fetchall() == [(f"{OTHER_USER}@%", "funnel_other")]
        with pytest.raises(mysql.connector.Error) as e:
            c.cmd_change_user(username=OTHER_USER, password="wrong")
        assert e.value.errno == 1045


def test_malformed_handshake_gets_an_error_and_harms_no_one(start_funnel):
    f = start_funnel()
    with f.connect() as healthy:
        s = socket.create_connection(("127.0.0.1", f.port), timeout=5)
        greeting = s.recv(4096)
        assert greeting[4] == 10                        # protocol 10 greeting
        s.sendall(b"\x05\x00\x00\x01\xff\xff\xff\xff\xff")  # a handshake response of garbage
        reply = s.recv(4096)
        assert reply[4] == 0xFF and int.from_bytes(reply[5:7], "little") == 1043
        assert s.recv(4096) == b""                      # and the connection is closed
        s.close()
        assert query(healthy, "SELECT 'still fine'") == (("still fine",),)


def read_packet(sock):
    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            assert chunk, "connection closed mid-packet"
            data += chunk
        return data
    header = exactly(4)
    return exactly(int.from_bytes(header[:3], "little"))


def lenenc_str(payload, at):
    n = payload[at]
    assert n < 0xFB or n in (0xFC, 0xFD), n
    if n < 0xFB:
        return payload[at + 1:at + 1 + n], at + 1 + n
    width = 2 if n == 0xFC else 3
    length = int.from_bytes(payload[at + 1:at + 1 + width], "little")
    start = at + 1 + width
    return payload[start:start + length], start + length


def test_pipelined_commands_to_a_stalled_client_arrive_whole_and_in_order(start_funnel):
    """The funnel sends responses straight to the socket while NIO holds nothing for it. A client
    that sends 200 queries without reading fills the socket: from then on every response must
    queue behind the bytes NIO holds, and the client reads each one whole, in order."""
    f = start_funnel()
    count, width = 200, 50_000                         # 10 MB of responses: more than the socket buffers
    with f.connect() as c:
        sock = c._sock
        for i in range(count):
            sql = f"SELECT {i}, REPEAT(CHAR(65 + {i} % 26), {width})".encode()
            sock.sendall((len(sql) + 1).to_bytes(3, "little") + b"\x00\x03" + sql)
        time.sleep(1.5)                                 # the funnel fills the socket and queues the rest
        sock.settimeout(30)
        for i in range(count):
            assert read_packet(sock) == b"\x02"           # two columns
            read_packet(sock), read_packet(sock)          # their definitions
            assert read_packet(sock)[0] == 0xFE           # EOF
            row = read_packet(sock)
            first, at = lenenc_str(row, 0)
            second, _ = lenenc_str(row, at)
            assert (int(first), len(second), second[:1]) == (i, width, bytes([65 + i % 26])), f"response {i}"
            assert read_packet(sock)[0] == 0xFE           # EOF: the response is whole
        assert query(c, "SELECT 'after'") == (("after",),)


def test_client_vanishing_mid_result_closes_nothing_else(start_funnel):
    f = start_funnel("--funnel-backend-max-connections=1")
    victim = f.connect()
    cur = victim.cursor(pymysql.cursors.SSCursor)
    cur.execute("SELECT seq FROM seq_1_to_1000000")
    cur.fetchone()
    victim._sock.shutdown(socket.SHUT_RDWR)              # gone with most of the result unread
    with f.connect() as c:                               # the only backend slot is usable again
        assert query(c, "SELECT 1") == ((1,),)


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_slow_client_does_not_make_the_funnel_buffer_the_result(start_funnel):
    f = start_funnel()
    with f.connect() as c:
        cur = c.cursor(pymysql.cursors.SSCursor)
        # About 100 MiB of rows; the client reads one row, then stalls.
        cur.execute("SELECT seq, REPEAT('x', 1000) FROM seq_1_to_100000")
        cur.fetchone()
        before = rss_kib(f.chassis.proc.pid)
        time.sleep(2)   # the backend keeps sending; backpressure must stop the funnel reading it
        stalled = rss_kib(f.chassis.proc.pid)
        rows = 1 + sum(1 for _ in cur)
        cur.close()
    assert rows == 100000
    assert stalled - before < 16 * 1024, f"funnel RSS grew {stalled - before} KiB while the client stalled"
