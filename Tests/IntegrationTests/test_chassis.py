"""The chassis end to end: the real binary, the Swift and C example plugins, and a fixture
plugin for every cell of the failure matrix (message and exit status checked)."""
import os
import pathlib
import signal
import subprocess
import time

import pytest

from conftest import ROOT, bin_dir, run_chassis

FIXTURE_SRC = ROOT / "Tests/Fixtures/plugins/fixture.c"
HEADER_DIR = ROOT / "Sources/CChassis/include"
OLD_HEADER_DIR = ROOT / "Tests/Fixtures/abi-1.0"

# name -> extra cc flags. Every fixture logs "lifecycle NAME init/start/stop/deinit".
FIXTURES = {
    "recorder": [],
    "recorder2": [],
    "noentry": ["-DFIXTURE_NO_ENTRY"],
    "abimajor": ["-DFIXTURE_ABI_MAJOR=2"],
    "abinewer": ["-DFIXTURE_ABI_MINOR=(CHASSIS_ABI_MINOR+1)"],
    "initfail": ["-DFIXTURE_INIT_FAILS"],
    "startfail": ["-DFIXTURE_START_FAILS"],
    "dupservice": ['-DFIXTURE_REGISTERS="hello.greeter"'],
    "needsmissing": ['-DFIXTURE_REQUIRES="no.such.service"', "-DFIXTURE_REQUIRES_VERSION=1"],
    "needsnewer": ['-DFIXTURE_REQUIRES="hello.greeter"', "-DFIXTURE_REQUIRES_VERSION=2"],
    "needsgreeter": ['-DFIXTURE_REQUIRES="hello.greeter"', "-DFIXTURE_REQUIRES_VERSION=1"],
    "cyclea": ['-DFIXTURE_PROVIDES="cycle.a"', '-DFIXTURE_REGISTERS="cycle.a"', '-DFIXTURE_REQUIRES="cycle.b"', "-DFIXTURE_REQUIRES_VERSION=1"],
    "cycleb": ['-DFIXTURE_PROVIDES="cycle.b"', '-DFIXTURE_REGISTERS="cycle.b"', '-DFIXTURE_REQUIRES="cycle.a"', "-DFIXTURE_REQUIRES_VERSION=1"],
    "liar": ['-DFIXTURE_PROVIDES="liar.service"'],
    "undefined": ["-DFIXTURE_UNDEFINED_SYMBOL"],
}


@pytest.fixture(scope="session")
def plugin_dir(tmp_path_factory) -> pathlib.Path:
    d = tmp_path_factory.mktemp("plugins")
    for name, flags in FIXTURES.items():
        subprocess.run(["cc", "-shared", "-fPIC", "-Wall", "-Werror", f"-I{HEADER_DIR}", f'-DFIXTURE_NAME="{name}"',
                        *flags, "-o", str(d / f"lib{name}.so"), str(FIXTURE_SRC)], check=True)
    # Built against the frozen 1.0 header: the compatibility promise says it must still load.
    subprocess.run(["cc", "-shared", "-fPIC", "-Wall", "-Werror", f"-I{OLD_HEADER_DIR}", '-DFIXTURE_NAME="oldminor"',
                    "-o", str(d / "liboldminor.so"), str(FIXTURE_SRC)], check=True)
    (d / "libgarbage.so").write_text("this is not an ELF file\n")
    for real in ("libhello.so", "libhello-c.so"):
        os.symlink(bin_dir() / real, d / real)
    return d


def lifecycle(text: str) -> list[str]:
    return [line.split("lifecycle ", 1)[1] for line in text.splitlines() if "lifecycle " in line]


def expect_failure(chassis_bin, plugin_dir, plugins, status, *fragments, extra=()):
    r = run_chassis(chassis_bin, "--plugin-dir", plugin_dir, "--plugins", plugins, *extra)
    assert r.returncode == status, (r.returncode, r.stdout, r.stderr)
    for fragment in fragments:
        assert fragment in r.stderr, (fragment, r.stderr)
    return r


# ---------------------------------------------------------------- it works

def test_swift_and_c_plugins_call_each_other(start_chassis, plugin_dir):
    c = start_chassis("--plugin-dir", plugin_dir, "--plugins", "hello,hello-c", "--hello-greeting=Howdy",
                      "--hello-c-start-count", "41")
    c.wait_for_log("started plugins: ")
    code, log = c.stop()
    assert code == 0, log
    assert "[hello] hello.counter is now 42" in log          # Swift called the C service
    assert "[hello-c] hello.greeter answered: Howdy, hello-c!" in log  # C called the Swift service
    assert "[hello-c] event hello.greeted from hello: who=hello-c" in log  # event across the registry
    assert "[hello-c] stopping; hello.counter ended at 42" in log


def test_sigint_stops_in_reverse_order(start_chassis, plugin_dir):
    c = start_chassis("--plugin-dir", plugin_dir, "--plugins", "recorder,recorder2")
    c.wait_for_log("started plugins")
    c.proc.send_signal(signal.SIGINT)
    code, log = c.stop()
    assert code == 0
    assert lifecycle(log) == ["recorder init", "recorder2 init", "recorder start", "recorder2 start",
                              "recorder2 stop", "recorder stop", "recorder2 deinit", "recorder deinit"]


def test_dependency_order_puts_providers_first(start_chassis, plugin_dir):
    c = start_chassis("--plugin-dir", plugin_dir, "--plugins", "needsgreeter,hello")
    c.wait_for_log("started plugins: hello, needsgreeter")
    code, log = c.stop()
    assert code == 0, log


def test_older_minor_plugin_still_loads(start_chassis, plugin_dir):
    c = start_chassis("--plugin-dir", plugin_dir, "--plugins", "oldminor")
    c.wait_for_log("lifecycle oldminor start")
    c.proc.send_signal(signal.SIGHUP)   # reload did not exist in 1.0: the host must not read it
    c.wait_for_log("SIGHUP")
    code, log = c.stop()
    assert code == 0, log
    assert lifecycle(log) == ["oldminor init", "oldminor start", "oldminor stop", "oldminor deinit"]


def test_list_plugins(chassis_bin, plugin_dir):
    r = run_chassis(chassis_bin, "--plugin-dir", plugin_dir, "--list-plugins")
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line.split()[1:3] for line in r.stdout.splitlines()[1:] if line and not line.startswith(" ") and "other .so" not in line}
    assert rows["hello"] == ["1.0.0", "1.1"]
    assert rows["hello-c"] == ["1.0.0", "1.1"]
    assert rows["oldminor"] == ["0.0.1", "1.0"]
    assert "garbage" not in rows and "noentry" not in rows
    assert "not chassis plugins or failed to load" in r.stdout


def test_help_lists_plugin_options(chassis_bin, plugin_dir):
    r = run_chassis(chassis_bin, "--help", "--plugin-dir", plugin_dir, "--plugins", "hello,hello-c")
    assert r.returncode == 0, r.stderr
    assert "--plugin-dir" in r.stdout and "--defaults-file" in r.stdout
    assert "--hello-greeting=<string>" in r.stdout and "(default: Hello)" in r.stdout
    assert "--hello-c-start-count=<int>" in r.stdout


def test_version(chassis_bin):
    r = run_chassis(chassis_bin, "--version")
    assert r.returncode == 0 and "plugin ABI 1.1" in r.stdout


def test_default_plugin_dir_is_the_build_folder(start_chassis):
    c = start_chassis("--plugins", "hello")
    c.wait_for_log("started plugins: hello")
    assert c.stop()[0] == 0


def test_config_file_and_command_line_precedence(start_chassis, plugin_dir, tmp_path):
    cfg = tmp_path / "chassis.toml"
    cfg.write_text(f'[chassis]\nplugins = ["hello", "hello-c"]\nplugin-dir = "{plugin_dir}"\n\n'
                   '[hello]\ngreeting = "Salut"\n\n[hello-c]\nstart-count = 10\n')
    c = start_chassis("--defaults-file", cfg, "--hello-c-start-count=99")
    log = c.wait_for_log("started plugins")
    assert "hello.greeter answered: Salut, hello-c!" in log     # from the file
    assert "hello.counter is now 100" in log                    # the command line wins
    assert c.stop()[0] == 0


def test_sighup_reloads_config(start_chassis, plugin_dir, tmp_path):
    cfg = tmp_path / "chassis.toml"
    cfg.write_text('[hello]\ngreeting = "One"\n')
    c = start_chassis("--plugin-dir", plugin_dir, "--plugins", "hello", "--defaults-file", cfg)
    c.wait_for_log("started plugins")
    cfg.write_text('[hello]\ngreeting = "Two"\n')
    c.proc.send_signal(signal.SIGHUP)
    c.wait_for_log("plugin hello reloaded its configuration")
    cfg.write_text('[hello]\ngreeting = \n')
    c.proc.send_signal(signal.SIGHUP)
    log = c.wait_for_log("reload refused, configuration unchanged")
    assert "line 2" in log
    assert c.stop()[0] == 0


def test_pid_file_written_and_removed(start_chassis, plugin_dir, tmp_path):
    pid_file = tmp_path / "chassis.pid"
    c = start_chassis("--plugin-dir", plugin_dir, "--plugins", "recorder", "--pid-file", pid_file)
    c.wait_for_log("started plugins")
    assert int(pid_file.read_text()) == c.proc.pid
    assert c.stop()[0] == 0
    assert not pid_file.exists()


def test_log_file(chassis_bin, plugin_dir, tmp_path):
    log_file = tmp_path / "out.log"
    p = subprocess.Popen([str(chassis_bin), "--plugin-dir", str(plugin_dir), "--plugins", "recorder",
                          "--log-file", str(log_file), "--log-level", "debug"], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 10
    while time.time() < deadline and not (log_file.exists() and "started plugins" in log_file.read_text()):
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=10)
    assert p.returncode == 0
    assert "lifecycle recorder deinit" in log_file.read_text()
    assert err == ""


# ------------------------------------------------------- the failure matrix

def test_missing_file(chassis_bin, plugin_dir):
    expect_failure(chassis_bin, plugin_dir, "nosuch", 3, "plugin nosuch: no such file", "libnosuch.so")


def test_not_a_shared_library(chassis_bin, plugin_dir):
    expect_failure(chassis_bin, plugin_dir, "garbage", 3, "libgarbage.so: not a loadable shared library")


def test_unresolved_symbol_is_a_load_error_not_a_crash(chassis_bin, plugin_dir):
    expect_failure(chassis_bin, plugin_dir, "undefined", 3, "libundefined.so: not a loadable shared library",
                   "chassis_fixture_symbol_nobody_defines")


def test_missing_entry_symbol(chassis_bin, plugin_dir):
    expect_failure(chassis_bin, plugin_dir, "noentry", 3, "no 'chassis_plugin_entry' symbol")


def test_abi_major_mismatch(chassis_bin, plugin_dir):
    expect_failure(chassis_bin, plugin_dir, "abimajor", 3, "plugin ABI 2.1 is incompatible with the host's ABI 1.1")


def test_abi_minor_newer_than_host(chassis_bin, plugin_dir):
    expect_failure(chassis_bin, plugin_dir, "abinewer", 3, "plugin ABI 1.2 is newer than the host's ABI 1.1")


def test_init_failure_deinitialises_only_those_before(chassis_bin, plugin_dir):
    r = expect_failure(chassis_bin, plugin_dir, "recorder,initfail,recorder2", 5,
                       "plugin initfail failed to initialise: the fixture's init fails on purpose")
    assert lifecycle(r.stderr) == ["recorder init", "recorder deinit"]


def test_start_failure_stops_and_deinitialises_everything(chassis_bin, plugin_dir):
    r = expect_failure(chassis_bin, plugin_dir, "recorder,startfail,recorder2", 5,
                       "plugin startfail failed to start: the fixture's start fails on purpose")
    assert lifecycle(r.stderr) == [
        "recorder init", "startfail init", "recorder2 init", "recorder start", "startfail start",
        "startfail stop", "recorder stop", "recorder2 deinit", "startfail deinit", "recorder deinit"]


def test_duplicate_service_registration(chassis_bin, plugin_dir):
    expect_failure(chassis_bin, plugin_dir, "hello,dupservice", 5,
                   "plugin dupservice failed to initialise: cannot register service hello.greeter")


def test_required_service_missing(chassis_bin, plugin_dir):
    expect_failure(chassis_bin, plugin_dir, "needsmissing", 4,
                   "plugin needsmissing requires service 'no.such.service' (version 1 or later), which no loaded plugin provides")


def test_required_service_too_old(chassis_bin, plugin_dir):
    expect_failure(chassis_bin, plugin_dir, "hello,needsnewer", 4,
                   "plugin needsnewer requires service 'hello.greeter' version 2 or later, but plugin hello provides version 1")


def test_dependency_cycle(chassis_bin, plugin_dir):
    expect_failure(chassis_bin, plugin_dir, "cyclea,cycleb", 4, "dependency cycle between plugins: cyclea -> cycleb -> cyclea")


def test_declared_service_not_registered(chassis_bin, plugin_dir):
    expect_failure(chassis_bin, plugin_dir, "liar", 5, "declares that it provides service 'liar.service' but did not register it")


def test_same_plugin_twice(chassis_bin, plugin_dir):
    expect_failure(chassis_bin, plugin_dir, "recorder,recorder", 4, "plugin recorder is named twice")


def test_unknown_option(chassis_bin, plugin_dir):
    expect_failure(chassis_bin, plugin_dir, "hello", 2, "unknown option --hello-colour", extra=["--hello-colour=red"])


def test_malformed_option_value(chassis_bin, plugin_dir):
    expect_failure(chassis_bin, plugin_dir, "hello-c", 2, "option --hello-c-start-count: 'many' is not a valid int",
                   extra=["--hello-c-start-count=many"])


def test_option_missing_its_value(chassis_bin, plugin_dir):
    expect_failure(chassis_bin, plugin_dir, "hello", 2, "option --hello-greeting needs a value", extra=["--hello-greeting"])


def test_unknown_log_level(chassis_bin, plugin_dir):
    expect_failure(chassis_bin, plugin_dir, "hello", 2, "--log-level: 'loud' is not one of", extra=["--log-level", "loud"])


def test_no_plugins_named(chassis_bin, plugin_dir):
    r = run_chassis(chassis_bin, "--plugin-dir", plugin_dir)
    assert r.returncode == 2 and "no plugins named" in r.stderr


def test_unreadable_config_file(chassis_bin, plugin_dir, tmp_path):
    expect_failure(chassis_bin, plugin_dir, "hello", 2, "cannot read config file", extra=["--defaults-file", tmp_path / "absent.toml"])


def test_malformed_config_file(chassis_bin, plugin_dir, tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[hello]\ngreeting = "unterminated\n')
    expect_failure(chassis_bin, plugin_dir, "hello", 2, f"config file {cfg}, line 2: newline in a string", extra=["--defaults-file", cfg])


def test_config_unknown_key_and_wrong_type(chassis_bin, plugin_dir, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[hello]\ncolour = "red"\n')
    expect_failure(chassis_bin, plugin_dir, "hello", 2, "unknown option 'colour' in [hello]; known: greeting", extra=["--defaults-file", cfg])
    cfg.write_text('[hello-c]\nstart-count = "ten"\n')
    expect_failure(chassis_bin, plugin_dir, "hello-c", 2, "[hello-c] start-count must be a int", extra=["--defaults-file", cfg])
