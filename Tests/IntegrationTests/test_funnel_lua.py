"""funnel + lua: MySQL Proxy 0.8 scripts' read_query through a real client. A script answers a
query with a result set or an error, or rewrites it; with an empty script the funnel answers as
without the plugin."""
import pathlib
import subprocess
import time

import pymysql
import pytest

from conftest import ROOT, free_port, wait_for_port
from mariadb import APP_PASSWORD, APP_USER, HOST, PORT, prepare_server, require_mariadb, root, wait_until

SCRIPTS = ROOT / "Tests/Fixtures/lua"


@pytest.fixture(scope="module", autouse=True)
def server():
    require_mariadb()
    prepare_server()
    with root() as r, r.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS funnel_test.customers (id INT PRIMARY KEY, name VARCHAR(20))")
        cur.execute("REPLACE INTO funnel_test.customers VALUES (1, 'ada')")


def start(start_chassis, script=None, plugins="funnel,lua", extra=()):
    port = free_port()
    args = ["--plugins", plugins, f"--funnel-address=127.0.0.1:{port}", f"--funnel-backend-addresses={HOST}:{PORT}",
            "--funnel-auth-user=root", *extra]
    if script is not None:
        args.append(f"--proxy-lua-script={script}")   # MySQL Proxy's spelling
    c = start_chassis(*args)
    start.last = c
    wait_for_port(port, c.proc)
    conn = pymysql.connect(host="127.0.0.1", port=port, user=APP_USER, password=APP_PASSWORD,
                           database="funnel_test", autocommit=True)
    conn.port = port
    return conn


def rows(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_script_answers_with_a_result_set(start_chassis):
    conn = start(start_chassis, SCRIPTS / "resultset.lua")
    assert rows(conn, "SELECT * FROM lua.hello") == ((1, "hello", None), (1, "again", "x"))
    assert rows(conn, "SELECT * FROM lua.hello")[1][0] == 2      # script state lives per connection
    assert rows(conn, "SELECT name FROM customers") == (("ada",),)   # the rest reaches the backend


def test_script_state_survives_parking(start_chassis):
    conn = start(start_chassis, SCRIPTS / "resultset.lua", extra=["--funnel-client-park-after=0.3", "--log-level=debug"])
    assert rows(conn, "SELECT * FROM lua.hello")[1][0] == 1
    start.last.wait_for_log("parked")   # the channel and session are gone, the script's state is not
    assert rows(conn, "SELECT * FROM lua.hello")[1][0] == 2
    assert "woke up" in start.last.text()
    assert rows(conn, "SELECT name FROM customers") == (("ada",),)


def test_parked_scripted_clients_killed_closed_and_stopped(start_chassis):
    """A parked client's script state lives in its event loop's Lua state: every way of leaving
    (KILL while parked, hanging up while parked, the funnel stopping) runs disconnect_client
    once, there, and the funnel goes on."""
    admin_port = free_port()
    first = start(start_chassis, SCRIPTS / "parked.lua", plugins="funnel,lua,admin",
                  extra=["--funnel-client-park-after=0.3", "--log-level=debug", f"--admin-address=127.0.0.1:{admin_port}",
                         "--admin-password=secret"])
    chassis = start.last
    port = first.port
    gone = lambda: chassis.text().count("disconnect_client")
    # The readiness probe's connection, which never logged in, goes too (as in MySQL Proxy).
    wait_until(lambda: "disconnect_client after 0 queries" in chassis.text(), message="the probe gone")
    probes = gone()
    clients = [first] + [pymysql.connect(host="127.0.0.1", port=port, user=APP_USER, password=APP_PASSWORD,
                                         database="funnel_test", autocommit=True) for _ in range(2)]
    for c in clients:
        assert rows(c, "SELECT 1") == ((1,),)
    wait_until(lambda: chassis.text().count(" parked") >= 3, message="three parked clients")
    with pymysql.connect(host="127.0.0.1", port=admin_port, user="admin", password="secret") as admin:
        ids = sorted(r[0] for r in rows(admin, f"SELECT id FROM clients WHERE user = '{APP_USER}' AND state = 'parked'"))
        assert len(ids) == 3
        rows(admin, f"KILL CLIENT {ids[0]}")
        wait_until(lambda: gone() == probes + 1, message="disconnect_client after KILL")
    clients[1].close()   # hangs up while parked: woken, then gone
    wait_until(lambda: gone() == probes + 2, message="disconnect_client after hang-up")
    # SET AUTOCOMMIT (PyMySQL's connect), SELECT 1, then this one, after a wake-up: the count was kept
    assert rows(clients[2], "SELECT count") == ((3,),)
    code, log = chassis.stop()
    assert code == 0, log
    assert log.count("disconnect_client") == probes + 3, log


def test_script_answers_with_an_error(start_chassis):
    conn = start(start_chassis, SCRIPTS / "error.lua")
    with pytest.raises(pymysql.err.OperationalError) as e:
        rows(conn, "DROP TABLE customers")
    assert e.value.args == (1142, "DROP is not allowed through this proxy")
    assert rows(conn, "SELECT COUNT(*) FROM customers") == ((1,),)


def test_script_rewrites_a_query(start_chassis):
    conn = start(start_chassis, SCRIPTS / "rewrite.lua")
    assert rows(conn, "SELECT name FROM customers_old WHERE id = 1") == (("ada",),)


def test_empty_script_changes_nothing(start_chassis, tmp_path):
    empty = tmp_path / "empty.lua"
    empty.write_text("-- nothing\n")
    with_lua = start(start_chassis, empty)
    without = start(start_chassis, None, plugins="funnel")
    for sql in ("SELECT 1, 'x', NULL", "SELECT name FROM customers", "SELECT @@autocommit"):
        assert rows(with_lua, sql) == rows(without, sql)


def test_injected_query_result_is_hidden(start_chassis):
    conn = start(start_chassis, SCRIPTS / "inject.lua")
    # SELECT NOW() runs first on every query; the client sees only its own result.
    assert rows(conn, "SELECT name FROM customers") == (("ada",),)
    assert rows(conn, "SELECT 40 + 2") == ((42,),)


def test_union_of_two_results(start_chassis):
    with root() as r, r.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS funnel_test.a (name VARCHAR(10))")
        cur.execute("CREATE TABLE IF NOT EXISTS funnel_test.b (name VARCHAR(10))")
        cur.execute("DELETE FROM funnel_test.a")
        cur.execute("DELETE FROM funnel_test.b")
        cur.execute("INSERT INTO funnel_test.a VALUES ('x'), ('y')")
        cur.execute("INSERT INTO funnel_test.b VALUES ('z')")
    conn = start(start_chassis, SCRIPTS / "union.lua")
    assert sorted(rows(conn, "SELECT UNION")) == [("x", 1), ("y", 1), ("z", 2)]


def test_timings_reach_the_script(start_chassis):
    conn = start(start_chassis, SCRIPTS / "timings.lua")
    assert rows(conn, "SELECT SLEEP(0.05), 7") == ((0, 7),)
    chassis = start.last
    text = chassis.wait_for_log('query "SELECT SLEEP(0.05), 7" query_time=')
    line = next(l for l in text.splitlines() if 'query "SELECT SLEEP(0.05), 7"' in l)
    fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
    assert 50_000 <= int(fields["response_time"]) < 5_000_000, line   # microseconds
    assert fields["rows"] == "1" and fields["fields"] == "2", line


def test_broken_script_answers_the_documented_error(start_chassis):
    # PyMySQL's connect already sends SET AUTOCOMMIT, which gets the error.
    with pytest.raises(pymysql.err.MySQLError) as e:
        rows(start(start_chassis, SCRIPTS / "broken.lua"), "SELECT 1")
    assert e.value.args == (1105, "MySQL Proxy Lua script failed to load. Check the error log.")
    assert "broken.lua:4:" in start.last.text()   # logged with file and line


def test_login_denied_in_read_auth(start_chassis):
    with root() as r, r.cursor() as cur:
        cur.execute("CREATE USER IF NOT EXISTS 'intruder'@'%' IDENTIFIED BY 'pw'")
    conn = start(start_chassis, SCRIPTS / "deny_login.lua")   # app still gets in
    assert rows(conn, "SELECT 1") == ((1,),)
    with pytest.raises(pymysql.err.OperationalError) as e:
        pymysql.connect(host="127.0.0.1", port=conn.port, user="intruder", password="pw")
    assert e.value.args == (1045, "Access denied for user 'intruder' by the proxy script")


def test_script_reloads_when_the_file_changes(start_chassis, tmp_path):
    script = tmp_path / "answer.lua"
    script.write_text('function read_query(p)\n  if p:sub(2) == "SELECT WHO" then\n'
                      '    proxy.response = { type = proxy.MYSQLD_PACKET_OK, resultset = { fields = { { name = "who" } }, rows = { { "first" } } } }\n'
                      '    return proxy.PROXY_SEND_RESULT\n  end\nend\n')
    conn = start(start_chassis, script)
    assert rows(conn, "SELECT WHO") == (("first",),)
    time.sleep(1.1)   # the file's mtime must move on
    script.write_text(script.read_text().replace('"first"', '"second"'))
    wait_until(lambda: rows(conn, "SELECT WHO") == (("second",),), timeout=10, message="the reloaded script answering")


def test_script_acting_as_a_server_without_backend(start_chassis):
    port = free_port()
    c = start_chassis("--plugins", "funnel,lua", f"--funnel-address=127.0.0.1:{port}",
                      "--funnel-backend-addresses=127.0.0.1:1",   # nothing listens there: never used
                      f"--lua-script={SCRIPTS / 'mock_server.lua'}")
    wait_for_port(port, c.proc)
    # The mariadb CLI: PyMySQL's connect sends SET NAMES, which this mock answers with rows.
    out = subprocess.run(["mariadb", "--no-defaults", "-h127.0.0.1", f"-P{port}", "-uanyone", "-panything", "-N",
                          "-e", "SELECT 'hello mock'"], capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "SELECT 'hello mock'"


def test_read_auth_result_can_replace_the_login_answer(start_chassis, tmp_path):
    script = tmp_path / "auth_result.lua"
    script.write_text('function read_auth_result(auth)\n'
                      '  if proxy.connection.client.username == "reader" then\n'
                      '    proxy.response = { type = proxy.MYSQLD_PACKET_ERR, errmsg = "readers rest today", errcode = 1045, sqlstate = "28000" }\n'
                      '    return proxy.PROXY_SEND_RESULT\n  end\nend\n')
    conn = start(start_chassis, script)          # app logs in as usual
    assert rows(conn, "SELECT 1") == ((1,),)
    with pytest.raises(pymysql.err.OperationalError) as e:
        pymysql.connect(host="127.0.0.1", port=conn.port, user="reader", password="reader-secret")
    assert e.value.args == (1045, "readers rest today")


def test_connection_close_from_the_script(start_chassis, tmp_path):
    script = tmp_path / "bye.lua"
    script.write_text('function read_query(p)\n  if p:sub(2) == "SELECT BYE" then\n'
                      '    proxy.connection.connection_close = true\n'
                      '    proxy.response = { type = proxy.MYSQLD_PACKET_OK, resultset = { fields = { { name = "bye" } }, rows = { { "bye" } } } }\n'
                      '    return proxy.PROXY_SEND_RESULT\n  end\nend\n')
    conn = start(start_chassis, script)
    assert rows(conn, "SELECT BYE") == (("bye",),)     # answered, then closed
    with pytest.raises(pymysql.err.OperationalError):
        rows(conn, "SELECT 1")
