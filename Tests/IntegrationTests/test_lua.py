"""The lua plugin in the real binary: it loads a script, logs, and reports a broken one at start
without stopping anything. (Hook behaviour is covered by Tests/LuaTests through the C service.)"""
import pathlib

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "Fixtures" / "lua"


def test_lua_loads_a_script_next_to_another_plugin(start_chassis):
    script = FIXTURES / "resultset.lua"
    c = start_chassis("--plugins", "lua,hello", f"--lua-script={script}")
    log = c.wait_for_log("started plugins: ")
    assert f"[lua] script {script} loaded" in log
    code, log = c.stop()
    assert code == 0, log


def test_mysql_proxy_option_spelling(start_chassis):
    script = FIXTURES / "modules.lua"
    c = start_chassis("--plugins", "lua", "--proxy-lua-script", script)
    c.wait_for_log(f"[lua] script {script} loaded")
    assert c.stop()[0] == 0


def test_broken_script_is_reported_at_start_without_a_crash(start_chassis):
    script = FIXTURES / "broken.lua"
    c = start_chassis("--plugins", "lua,hello", f"--lua-script={script}")
    log = c.wait_for_log("started plugins: ")
    assert f"{script}:4: " in log, log          # the compiler's message, with file and line
    assert "does not load; clients get ERR 1105" in log
    code, log = c.stop()
    assert code == 0, log


def test_missing_script_is_reported(start_chassis, tmp_path):
    c = start_chassis("--plugins", "lua", f"--lua-script={tmp_path / 'nope.lua'}")
    log = c.wait_for_log("started plugins: ")
    assert "cannot read" in log and "nope.lua" in log
    assert c.stop()[0] == 0


def test_without_a_script_scripting_is_off(start_chassis):
    c = start_chassis("--plugins", "lua")
    c.wait_for_log("no --lua-script given: scripting is off")
    assert c.stop()[0] == 0
