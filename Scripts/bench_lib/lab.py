"""The bench's lab: one throwaway MariaDB, haproxy and chassis processes started on demand, every
one of them on 127.0.0.1, and the sysbench runs against them."""
import itertools
import pathlib
import re
import shutil
import subprocess

from . import sysbench
from .services import BenchError, MariaDB, Process, Supervisor, haproxy_config, port_is_free, wait_for_port

SB_USER, SB_PASSWORD = "sbtest", "sbtest-pw"
FLOOD_USER, CALM_USER, USER_PASSWORD = "flood", "calm", "bench-pw"


class Setup:
    """Where a client connects: the server itself, or a proxy in front of it."""

    def __init__(self, name, port, proxy=None):
        self.name, self.port, self.proxy = name, port, proxy

    def watch(self, mysqld_pid):
        watch = {"mysqld": mysqld_pid}
        if self.proxy is not None:
            watch["proxy"] = self.proxy.pid
        return watch


class Lab:
    def __init__(self, root: pathlib.Path, bin_dir: pathlib.Path, base_port: int, supervisor: Supervisor,
                 seconds: int, warmup: int, rounds: int, quick: bool):
        self.root, self.bin_dir, self.sup = root, bin_dir, supervisor
        self.seconds, self.warmup, self.rounds, self.quick = seconds, warmup, rounds, quick
        self.work = root / ".build/bench"
        self.logs = self.work / "logs"
        shutil.rmtree(self.logs, ignore_errors=True)
        self.logs.mkdir(parents=True)
        self.db = MariaDB(root, root / ".build/bench-mariadb", base_port, supervisor)
        self.db.stop()                                  # one a killed bench left behind
        shutil.rmtree(self.db.dir, ignore_errors=True)  # a fresh server every time
        self.haproxy_port = base_port + 1
        self.funnel_ports = list(range(base_port + 2, base_port + 8))
        self.stats_port = base_port + 8
        self._haproxy = None          # (Process, maxconn)
        self._funnel = None           # (key, Process, port)
        self.incidents = []           # crashes and unclean stops of the proxies, for the report
        self.started = []             # every process started, in order
        self._ids = itertools.count(1)
        self.prepared = False
        self.empty_lua = self.work / "empty-read-query.lua"
        self.empty_lua.write_text("-- Scripts/bench: the cheapest hook there is, to price the scripting layer.\n"
                                  "function read_query(packet)\nend\n")

    # ------------------------------------------------------------------ the server

    def server(self, extra_args: str = ""):
        """The server running with these extra mariadbd arguments; proxies restart with it."""
        if self.db.pid is not None and self.db.extra_args == extra_args:
            return self.db
        self.stop_proxies()
        self.db.start(extra_args)
        if not self.prepared:
            self._prepare()
        # Read every table once, so no run pays for a cold buffer pool.
        for n in range(1, sysbench.TABLES + 1):
            self.db.sql(f"SELECT COUNT(*), SUM(k), MAX(LENGTH(c)) FROM sbtest.sbtest{n}")
        return self.db

    def server_threads(self):
        """The server's own count of client connections, and of those running a statement."""
        out = self.db.sql("SHOW GLOBAL STATUS WHERE Variable_name IN ('Threads_connected', 'Threads_running')", 20)
        return {k: int(v) - 1 for k, v in (line.split("\t") for line in out.splitlines())}   # less this probe

    def server_logins(self):
        """Connections the server accepted so far (for a run: how many the clients or the proxy opened)."""
        return int(self.db.sql("SHOW GLOBAL STATUS LIKE 'Connections'", 20).split()[1])

    def _prepare(self):
        users = "".join(
            f"CREATE USER IF NOT EXISTS '{u}'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('{p}');"
            f"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX ON sbtest.* TO '{u}'@'%';"
            for u, p in ((SB_USER, SB_PASSWORD), (FLOOD_USER, USER_PASSWORD), (CALM_USER, USER_PASSWORD)))
        self.db.sql("CREATE DATABASE IF NOT EXISTS sbtest;" + users)
        if self.db.sql("SHOW TABLES FROM sbtest LIKE 'sbtest%'").split() != [f"sbtest{n}" for n in range(1, sysbench.TABLES + 1)]:
            print(f"bench: preparing {sysbench.TABLES} sysbench tables of {sysbench.TABLE_SIZE} rows", flush=True)
            sysbench.prepare(self.db.port, SB_USER, SB_PASSWORD, self.logs / "sysbench-prepare.log")
        self.prepared = True

    # ------------------------------------------------------------------ the proxies

    def process(self, label, argv, **kw):
        name = f"{label}-{next(self._ids)}"
        proc = Process(name, argv, self.logs / f"{name}.log", self.sup, **kw)
        self.started.append(proc)
        return proc

    def haproxy(self, maxconn: int = 4000) -> Setup:
        if self._haproxy and (self._haproxy[0].poll() is not None or self._haproxy[1] != maxconn):
            self._haproxy[0].stop()
            self._haproxy = None
        if not self._haproxy:
            self._check_port(self.haproxy_port)
            cfg = self.work / "haproxy.cfg"
            cfg.write_text(haproxy_config(self.haproxy_port, self.db.port, maxconn))
            proc = self.process("haproxy", ["haproxy", "-f", cfg, "-db"])
            wait_for_port(self.haproxy_port, proc)
            self._haproxy = (proc, maxconn)
        return Setup("haproxy", self.haproxy_port, self._haproxy[0])

    def available_plugins(self):
        return {p.name[3:-3] for p in self.bin_dir.glob("lib*.so")}

    def _plugin_option(self, plugin, word):
        """The name of a plugin's option that contains word (read from chassis --help)."""
        out = subprocess.run([self.bin_dir / "chassis", "--help", "--plugins", plugin], capture_output=True,
                             text=True, timeout=30).stdout
        names = re.findall(rf"(--{plugin}-[\w-]*{word}[\w-]*)=", out)
        if not names:
            raise BenchError(f"the {plugin} plugin declares no option with '{word}' in its name:\n{out[-1500:]}")
        return names[0]

    def funnel(self, pool: int = 64, plugins=("funnel",), extra=(), name=None, wrapper=(), bin_dir=None) -> Setup:
        """The chassis running the funnel (transaction mode) with this pool size and these plugins.
        One at a time: another one's idle backend connections would show in the server's figures.
        Each start takes the next port, so no socket of the previous one can be in the way."""
        key = (pool, tuple(plugins), tuple(extra), tuple(wrapper), bin_dir)
        bin_dir = bin_dir or self.bin_dir
        if self._funnel and self._funnel[0] == key and self._funnel[1].poll() is not None:
            dead = self._funnel[1]
            self.incident(f"{dead.label} had exited with {dead.returncode}; started again (log {dead.log_path})")
            self._funnel = None
        if not self._funnel or self._funnel[0] != key:
            self.stop_proxies(haproxy=False)
            port = self.funnel_ports[next(self._ids) % len(self.funnel_ports)]
            self._check_port(port)
            argv = [*wrapper, bin_dir / "chassis", "--plugin-dir", bin_dir, "--plugins", ",".join(plugins), "--log-level=notice",
                    f"--funnel-address=127.0.0.1:{port}", f"--funnel-backend-addresses=127.0.0.1:{self.db.port}",
                    "--funnel-pool-mode=transaction", f"--funnel-backend-max-connections={pool}",
                    "--funnel-auth-user=root", "--funnel-max-client-connections=0"]
            if "stats" in plugins:
                argv.append(f"--stats-address=127.0.0.1:{self.stats_port}")
            if "lua" in plugins:
                argv.append(f"{self._plugin_option('lua', 'script')}={self.empty_lua}")
            proc = self.process("chassis", [*argv, *extra])
            self._funnel = (key, proc, port)
            wait_for_port(port, proc, timeout=180 if wrapper else 30)   # valgrind starts slowly
        _, proc, port = self._funnel
        return Setup(name or f"funnel (pool {pool})", port, proc)

    def stop_proxies(self, haproxy=True):
        if self._funnel:
            proc = self._funnel[1]
            running = proc.poll() is None
            code = proc.stop()
            if running and code not in (0, None):
                self.incident(f"{proc.label} exited with {code} on SIGTERM (log {proc.log_path})")
            self._funnel = None
        if haproxy and self._haproxy:
            self._haproxy[0].stop()
            self._haproxy = None

    def incident(self, text):
        print(f"bench: {text}", flush=True)
        self.incidents.append(text)

    def _check_port(self, port):
        if not port_is_free(port):
            raise BenchError(f"port {port} is taken: pick other ports with --base-port")

    # ------------------------------------------------------------------ load

    def sysbench(self, label, test, setup: Setup, threads, user=SB_USER, password=SB_PASSWORD, warmup=None,
                 start=False, **kw):
        """One sysbench run against a setup (start=True: started, not waited for)."""
        warmup = warmup or self.warmup
        logins = self.server_logins()
        bench = sysbench.Sysbench(label, test, setup.port, user, password, threads, self.seconds + warmup, warmup,
                                  self.logs / f"{next(self._ids):03d}-{label}.log",
                                  watch=setup.watch(self.db.pid), probe=self.server_threads, **kw).start()
        bench.logins_before = logins
        return bench if start else self.finish(bench, setup)

    def finish(self, bench, setup: Setup):
        """Waits for a started run (bounded) and says whether the proxy survived it."""
        label = bench.label
        try:
            result = bench.wait()
        finally:
            bench.stop()
        result.probe["logins"] = self.server_logins() - bench.logins_before
        if setup.proxy is not None and setup.proxy.poll() is not None:
            result.ok = False
            result.error = (f"{setup.proxy.label} exited with {setup.proxy.returncode} during the run "
                            f"(log {setup.proxy.log_path})" + (f"; {result.error}" if result.error else ""))
        status = f"{result.qps:9.0f} qps" if result.ok else f"FAILED: {result.error}"
        print(f"  {label:<46} {status}", flush=True)
        return result

    def log_problems(self, since=0, limit=3):
        """Warnings and errors the chassis processes started since then logged, to show with the figures."""
        found = []
        for proc in self.started[since:]:
            if proc.label.startswith("chassis"):
                lines = proc.log_path.read_text(errors="replace").splitlines()
                bad = [l for l in lines if re.search(r"\b(warning|error|critical|fatal)\b", l, re.I)]
                found += [f"{proc.label}: {l.strip()}" for l in bad[:limit]]
                if len(bad) > limit:
                    found.append(f"{proc.label}: ... {len(bad) - limit} more in {proc.log_path}")
        return found
