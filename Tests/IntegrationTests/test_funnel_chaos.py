"""Many clients through a small pool while everything goes wrong at once: backend connections
killed by the server, a second backend added and drained, the funnel paused and resumed, clients
killed from the admin port, clients that vanish mid-transaction or leave session state behind,
clients running server-side prepared statements. Afterwards every guarantee is checked against the
server's own data: no transaction split over backend connections, no session state seen by another
client, no prepared statement answered from another client's, no acknowledged commit lost, no
abandoned transaction committed, no client hung, nothing left in use or in flight."""
import collections
import random
import socket
import threading
import time

import mysql.connector
import pymysql
import pytest

from conftest import free_port, wait_for_port
from mariadb import APP_PASSWORD, APP_USER, HOST, PORT, prepare_server, require_mariadb, root

ADMIN_PASSWORD = "admin-secret"
WORKERS = 40
PREPARED_WORKERS = 6   # server-side prepared statements (binary protocol), which pin a connection
CHAOS_SECONDS = 25
SECOND_BACKEND = f"localhost:{PORT}"   # the same server under another name: data stays in one place


@pytest.fixture(scope="module", autouse=True)
def server():
    require_mariadb()
    prepare_server()


class Run:
    """What the workers saw: counters, the transactions each one had acknowledged, violations."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.Counter()
        self.committed = collections.defaultdict(set)
        self.uncertain = collections.defaultdict(set)   # COMMIT sent, no answer: either outcome is right
        self.violations = []

    def count(self, key):
        with self.lock:
            self.counts[key] += 1

    def violation(self, message):
        with self.lock:
            self.violations.append(message)

    def failed(self, who, code, error):
        """A statement failed: a time-out is a client left hanging, anything else is counted by code."""
        if "timed out" in str(error):
            self.violation(f"{who}: timed out: {error}")
        self.count(f"error {code}")


def worker(run, index, funnel_port, stop):
    rng = random.Random(index)
    conn, txn = None, 0
    while not stop.is_set():
        try:
            if conn is None:
                conn = pymysql.connect(host="127.0.0.1", port=funnel_port, user=APP_USER, password=APP_PASSWORD,
                                       database="funnel_test", autocommit=True, connect_timeout=20, read_timeout=40,
                                       write_timeout=40)
            cur = conn.cursor()
            txn += 1
            kind = rng.random()
            if kind < 0.65:   # a transaction, checked to stay on one backend connection
                cur.execute("BEGIN")
                cur.execute("SELECT CONNECTION_ID()")
                first = cur.fetchone()[0]
                cur.execute("INSERT INTO chaos_ledger (worker, txn, marker) VALUES (%s, %s, 'ok')", (index, txn))
                cur.execute("UPDATE chaos_counter SET n = n + 1 WHERE worker = %s", (index,))
                if rng.random() < 0.3:
                    cur.execute("SELECT SLEEP(0.05)")
                cur.execute("SELECT CONNECTION_ID(), @leak")
                second, leak = cur.fetchone()
                if first != second:
                    run.violation(f"worker {index} txn {txn}: split over backend threads {first} and {second}")
                if leak is not None:
                    run.violation(f"worker {index} txn {txn}: sees @leak={leak!r} of another client")
                try:
                    cur.execute("COMMIT")
                except Exception:
                    with run.lock:
                        run.uncertain[index].add(txn)
                    raise
                with run.lock:
                    run.committed[index].add(txn)
                run.count("commits")
            elif kind < 0.75:   # vanishes mid-transaction: no COMMIT, no COM_QUIT
                cur.execute("BEGIN")
                cur.execute("INSERT INTO chaos_ledger (worker, txn, marker) VALUES (%s, %s, 'abandoned')", (index, txn))
                conn._sock.shutdown(socket.SHUT_RDWR)
                conn._sock.close()
                conn = None
                run.count("abandoned")
            elif kind < 0.82:   # leaves session state behind (pins its connection, then quits)
                cur.execute("SET @leak = %s", (f"worker{index}",))
                cur.execute("SET autocommit = 0")
                cur.execute("SELECT @leak")
                if cur.fetchone()[0] != f"worker{index}":
                    run.violation(f"worker {index}: lost its own @leak")
                conn.close()
                conn = None
                run.count("pinned")
            else:   # a fresh autocommit statement sees nobody's state
                cur.execute("SELECT @leak, @@autocommit")
                leak, autocommit = cur.fetchone()
                if leak is not None or autocommit != 1:
                    run.violation(f"worker {index}: fresh statement sees @leak={leak!r}, autocommit={autocommit}")
                run.count("selects")
        except pymysql.err.MySQLError as e:
            run.failed(f"worker {index}", e.args[0] if e.args else type(e).__name__, e)
            conn = _drop(conn)
        except OSError as e:
            run.violation(f"worker {index}: {e!r}")
            conn = _drop(conn)
    _drop(conn)


def prepared_worker(run, index, funnel_port, stop):
    """Executes its own prepared statement with a marker only it sends: an answer with another
    marker would be a statement run on someone else's connection."""
    rng = random.Random(1000 + index)
    conn = cur = None
    while not stop.is_set():
        try:
            if conn is None:
                conn = mysql.connector.connect(host="127.0.0.1", port=funnel_port, user=APP_USER, password=APP_PASSWORD,
                                               database="funnel_test", autocommit=True, connection_timeout=20, use_pure=True)
                cur = conn.cursor(prepared=True)
            marker = f"p{index}-{rng.randrange(10**9)}"
            cur.execute("SELECT ?", (marker,))
            got = cur.fetchone()[0]
            got = got.decode() if isinstance(got, (bytes, bytearray)) else got
            if got != marker:
                run.violation(f"prepared worker {index}: sent {marker}, got {got}")
            run.count("prepared")
        except mysql.connector.Error as e:
            run.failed(f"prepared worker {index}", e.errno, e)
            conn = _drop(conn)
    _drop(conn)


def _drop(conn):
    try:
        if conn is not None:
            conn.close()
    except Exception:  # noqa: BLE001 - the connection is gone either way
        pass
    time.sleep(0.05)
    return None


def admin(port, sql):
    with pymysql.connect(host="127.0.0.1", port=port, user="admin", password=ADMIN_PASSWORD, connect_timeout=10,
                         read_timeout=30) as c, c.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def chaos(run, admin_port, stop):
    rng = random.Random(7)
    second = False
    while not stop.is_set():
        time.sleep(rng.uniform(0.3, 1.2))
        action = rng.choice(["kill-backend", "kill-backend", "backend", "pause", "kill-client"])
        try:
            if action == "kill-backend":   # the server kills one to three of the funnel's connections
                with root() as r, r.cursor() as cur:
                    cur.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = %s", (APP_USER,))
                    ids = [row[0] for row in cur.fetchall()]
                    for victim in rng.sample(ids, min(len(ids), rng.randint(1, 3))):
                        try:
                            cur.execute(f"KILL {victim}")
                        except pymysql.err.MySQLError:
                            pass   # it ended on its own meanwhile
            elif action == "backend":
                if second:
                    admin(admin_port, f"DELETE FROM backends WHERE address = '{SECOND_BACKEND}'")
                else:
                    try:
                        admin(admin_port, f"INSERT INTO backends (address) VALUES ('{SECOND_BACKEND}')")
                    except pymysql.err.MySQLError as e:
                        if "still draining" not in str(e):   # pinned sessions keep its drain going
                            raise
                        run.count("chaos re-add refused while draining")
                        continue
                second = not second
            elif action == "pause":
                admin(admin_port, "PAUSE")
                time.sleep(rng.uniform(0.1, 0.8))
                admin(admin_port, "RESUME")
            else:
                rows = admin(admin_port, f"SELECT id FROM clients WHERE user = '{APP_USER}'")
                if rows:
                    try:
                        admin(admin_port, f"KILL CLIENT {rng.choice(rows)[0]}")
                    except pymysql.err.MySQLError as e:
                        if e.args[0] != 1094:   # it left between the listing and the kill
                            raise
            run.count(f"chaos {action}")
        except pymysql.err.MySQLError as e:
            run.violation(f"chaos {action} refused: {e.args}")
    if second:
        admin(admin_port, f"DELETE FROM backends WHERE address = '{SECOND_BACKEND}'")


def test_guarantees_hold_while_everything_goes_wrong(start_chassis, tmp_path):
    funnel_port, admin_port = free_port(), free_port()
    cfg = tmp_path / "chaos.toml"
    cfg.write_text("\n".join([
        "[funnel]", f'address = "127.0.0.1:{funnel_port}"', f'backend-addresses = ["{HOST}:{PORT}"]',
        'auth-user = "root"', "backend-max-connections = 6", "drain-timeout = 3", "health-check-interval = 0.5",
        "[stats]", 'address = ""',
        "[admin]", f'address = "127.0.0.1:{admin_port}"', f'password = "{ADMIN_PASSWORD}"',
    ]) + "\n")
    c = start_chassis("--plugins", "funnel,stats,admin", "--defaults-file", cfg)
    wait_for_port(funnel_port, c.proc)
    wait_for_port(admin_port, c.proc)
    with root() as r, r.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS funnel_test.chaos_ledger, funnel_test.chaos_counter")
        cur.execute("CREATE TABLE funnel_test.chaos_ledger (id BIGINT AUTO_INCREMENT PRIMARY KEY, worker INT, txn INT,"
                    " marker VARCHAR(16))")
        cur.execute("CREATE TABLE funnel_test.chaos_counter (worker INT PRIMARY KEY, n INT NOT NULL)")
        cur.executemany("INSERT INTO funnel_test.chaos_counter VALUES (%s, 0)", [(i,) for i in range(WORKERS)])

    run, stop_workers, stop_chaos = Run(), threading.Event(), threading.Event()
    workers = [threading.Thread(target=worker, args=(run, i, funnel_port, stop_workers), daemon=True) for i in range(WORKERS)]
    workers += [threading.Thread(target=prepared_worker, args=(run, i, funnel_port, stop_workers), daemon=True)
                for i in range(PREPARED_WORKERS)]
    for t in workers:
        t.start()
    chaos_thread = threading.Thread(target=chaos, args=(run, admin_port, stop_chaos), daemon=True)
    chaos_thread.start()
    time.sleep(CHAOS_SECONDS)
    stop_chaos.set()
    chaos_thread.join(30)
    time.sleep(3)   # calm: the funnel settles with the load still on
    stop_workers.set()
    for t in workers:
        t.join(60)
    hung = [t.name for t in workers if t.is_alive()]
    assert not hung, f"clients still waiting 60 s after the end: {hung}"
    assert c.proc.poll() is None, c.text()

    counts = run.counts
    assert counts["commits"] > 500 and counts["abandoned"] > 50 and counts["pinned"] > 50, counts
    assert counts["prepared"] > 500, counts
    for action in ("kill-backend", "backend", "pause", "kill-client"):
        assert counts[f"chaos {action}"] > 0, counts
    assert run.violations == [], run.violations[:20]
    unexpected = {k: v for k, v in counts.items() if k.startswith("error") and k not in ("error 2013", "error 2006", "error 2055", "error 1927", "error 9005")}
    assert not unexpected, (unexpected, counts)

    with root() as r, r.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM funnel_test.chaos_ledger WHERE marker = 'abandoned'")
        assert cur.fetchone()[0] == 0, "a transaction whose client vanished was committed"
        cur.execute("SELECT worker, txn FROM funnel_test.chaos_ledger WHERE marker = 'ok'")
        ledger = collections.defaultdict(set)
        for w, t in cur.fetchall():
            ledger[w].add(t)
        cur.execute("SELECT worker, n FROM funnel_test.chaos_counter")
        counters = dict(cur.fetchall())
    for w in range(WORKERS):
        assert run.committed[w] <= ledger[w], f"worker {w}: acknowledged commits missing"
        assert ledger[w] <= run.committed[w] | run.uncertain[w], f"worker {w}: commits nobody acknowledged"
        assert counters[w] == len(ledger[w]), f"worker {w}: counter and ledger disagree"

    def settled():
        rows = admin(admin_port, "SELECT address, in_use, in_flight FROM backends")
        return all(in_use == 0 and in_flight == 0 for _, in_use, in_flight in rows) and rows

    deadline = time.time() + 15
    while not settled() and time.time() < deadline:
        time.sleep(0.2)
    assert settled(), admin(admin_port, "SELECT * FROM backends")
    with root() as r, r.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM information_schema.INNODB_TRX")
        assert cur.fetchone()[0] == 0, "a transaction is still open on the server"
    c.stop()
