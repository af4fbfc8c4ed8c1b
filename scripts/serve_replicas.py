"""Run K Streamlit processes (replicas) of the dashboard behind nginx, with sticky sessions.

    python scripts/serve_replicas.py --replicas 2 --port 8501        # make serve REPLICAS=2
    python scripts/serve_replicas.py --replicas 3 --address 0.0.0.0  # listen beyond this machine
    python scripts/serve_replicas.py --direct --port 8501            # make run: one process, no proxy

One `streamlit run dashboard.py` per replica on a free loopback port, and nginx on --address:--port
in front of them, configured from deploy/nginx.conf.template into a temporary folder (which also
holds the replicas' logs, and nginx's with --access-log). Ctrl-C (or SIGTERM) stops everything.

Why several processes: a Streamlit process runs every session's script in one Python interpreter,
so it uses one core for script runs (docs/benchmarks.md). Why sticky: a session lives in its
websocket on one process, and the file uploads of that browser tab must reach the same process;
nginx gives each browser a cookie (`rsp_replica`) and hashes it to pick the replica.

What the replicas share:

* the store: every replica uses the same DATABASE_URL (environment, else .streamlit/secrets.toml,
  else the embedded SQLite file, which this launcher fills once before the replicas start, so they
  do not race to create it);
* the cookie secret (`server.cookieSecret`): one random value per launch unless it is set already
  (environment or .streamlit/config.toml), so a signed cookie from one replica reads on another.

**Ready before the first visitor.** The store is opened (the embedded one created or migrated) before
any replica starts. Each replica is then started with Streamlit's script health check
(``/_stcore/script-health-check``, option ``server.scriptHealthCheckEnabled``), which runs
dashboard.py once in a session of its own: the store's engine, the pages' modules and the Overview's
queries are ready when it answers "ok". Only then does nginx start (``--direct``: only then does this
script print "Ready"), so nobody waits for what a start does once.

Each replica keeps its own caches (`st.cache_data`/`st.cache_resource`): K replicas run each query
up to K times per 5-minute TTL, which is cheap next to the page runs they take off each other.

Needs nginx (Debian package `nginx`: `make system-packages` installs it).
"""

from __future__ import annotations

import argparse
import contextlib
import grp
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = REPO_ROOT / "deploy" / "nginx.conf.template"
COOKIE = "rsp_replica"
MAX_REPLICAS = 16


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def find_nginx() -> str:
    """The nginx binary: on PATH, or in the sbin folders a non-root PATH may lack."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    found = shutil.which("nginx", path=search)
    if not found:
        raise RuntimeError("nginx is not installed: `make system-packages` installs it (Debian package nginx)")
    return found


def nginx_config(
    backends: Sequence[int],
    *,
    listen: str,
    run_dir: Path,
    access_log: bool = False,
    max_upload_mb: int = 200,
    user: str | None = None,
) -> str:
    """deploy/nginx.conf.template with its slots filled. `user`: "USER GROUP" for the workers when
    nginx starts as root (they then need to write into run_dir), None otherwise."""
    values = {
        "USER": f"user {user};" if user else "# (not started as root: the workers run as this user)",
        "RUN_DIR": str(run_dir),
        "COOKIE": COOKIE,
        "ACCESS_LOG": f"access_log {run_dir}/access.log replica;" if access_log else "access_log off;",
        "SERVERS": "\n".join(f"        server 127.0.0.1:{port} max_fails=0;" for port in backends),
        "LISTEN": listen,
        "MAX_UPLOAD_MB": str(max_upload_mb),
    }
    text = TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    if "@@" in text:
        raise ValueError("deploy/nginx.conf.template has a slot this script does not fill")
    return text


def _worker_user(run_dir: Path) -> str | None:
    """As root, nginx's workers run as `nobody`: let them write their temporary files in run_dir."""
    if os.geteuid() != 0:
        return None
    nobody = pwd.getpwnam("nobody")
    group = grp.getgrgid(nobody.pw_gid).gr_name
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi", "static_cache"):
        (run_dir / name).mkdir(exist_ok=True)
        os.chown(run_dir / name, nobody.pw_uid, nobody.pw_gid)
    run_dir.chmod(0o711)  # the workers only need to reach their own folders
    return f"nobody {group}"


def _configured(section: str, name: str, file: str) -> object | None:
    with contextlib.suppress(OSError, tomllib.TOMLDecodeError):
        data = tomllib.loads((REPO_ROOT / ".streamlit" / file).read_text())
        return (data.get(section, {}) if section else data).get(name)
    return None


def prepare_store(env: Mapping[str, str]) -> None:
    """Fill the embedded default store once, before K processes would each try to (a race)."""
    url = env.get("DATABASE_URL") or _configured("", "DATABASE_URL", "secrets.toml")
    if url:
        return  # another store: it must be ready already (`make init`), the replicas say so if not
    sys.path.insert(0, str(REPO_ROOT))
    from rsp_data.store import open_store

    open_store(None).dispose()


def _get(url: str, timeout: float = 2.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode(errors="replace")


def _wait_healthy(url: str, procs: Sequence[subprocess.Popen], logs: Sequence[Path], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc, log in zip(procs, logs, strict=True):
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                raise RuntimeError(f"{proc.args[0]} exited with code {proc.returncode} ({log}):\n{tail}")
        with contextlib.suppress(urllib.error.URLError, OSError):
            if _get(url).strip() == "ok":
                return
        time.sleep(0.25)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def warm_up(url: str, timeout: float = 120.0) -> str:
    """Run the app's script once in a session of its own (Streamlit's script health check): opens the
    store and fills the first page's caches. Returns "ok", or what went wrong (the app still starts)."""
    try:
        return _get(f"{url}/_stcore/script-health-check", timeout=timeout).strip()
    except urllib.error.HTTPError as exc:  # 503: the script raised; its page will show the error
        return f"{exc.code} {exc.read().decode(errors='replace').strip()}"
    except (urllib.error.URLError, OSError) as exc:
        return f"no answer ({exc})"


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _host(address: str) -> str:
    return "127.0.0.1" if address == "0.0.0.0" else address


@dataclass
class Cluster:
    base_url: str  # the proxy
    replica_urls: list[str]
    replica_pids: list[int]
    nginx_pid: int | None  # None: one process, no proxy (direct)
    run_dir: Path
    logs: list[Path] = field(default_factory=list)
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def pids(self) -> list[int]:
        """Every process serving the app: the replicas and nginx (whose workers are its children)."""
        return [*self.replica_pids, *([self.nginx_pid] if self.nginx_pid is not None else [])]


@contextlib.contextmanager
def running(
    replicas: int,
    *,
    port: int | None = None,
    address: str = "127.0.0.1",
    options: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    access_log: bool = False,
    startup_timeout: float = 120.0,
    script: str = "dashboard.py",
    direct: bool = False,
) -> Iterator[Cluster]:
    """Start `replicas` Streamlit processes and nginx in front; yield the Cluster; stop them all.

    `options`: extra Streamlit config options as "section.name=value"; `env`: the environment of the
    replicas (default: this process's); `script`: the app file (scripts/browser_bench.py's bare app);
    `direct`: one process on `address`:`port` with its output on this terminal, no nginx (make run)."""
    if not 1 <= replicas <= MAX_REPLICAS or (direct and replicas != 1):
        raise ValueError(f"replicas: 1 to {MAX_REPLICAS}, and 1 with direct")
    nginx = "" if direct else find_nginx()
    env = dict(os.environ if env is None else env)
    env["PYTHONUNBUFFERED"] = "1"
    if not env.get("STREAMLIT_SERVER_COOKIE_SECRET") and not _configured("server", "cookieSecret", "config.toml"):
        env["STREAMLIT_SERVER_COOKIE_SECRET"] = secrets.token_hex(32)  # one for all replicas
    prepare_store(env)
    proxy_port = port or free_port(_host(address))
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="rsp-replicas-") as tmp:
        run_dir = Path(tmp)
        try:
            backends, logs = [], []
            for i in range(replicas):
                backend = (port or 8501) if direct else free_port()
                args = [
                    sys.executable, "-m", "streamlit", "run", script,
                    "--server.port", str(backend),
                    "--server.address", address if direct else "127.0.0.1",
                    "--server.headless", "true",
                    "--server.fileWatcherType", "none",
                    "--browser.gatherUsageStats", "false",
                    "--server.scriptHealthCheckEnabled", "true",  # the warm-up: see warm_up()
                ]  # fmt: skip
                for option in options:
                    name, _, value = option.partition("=")
                    args += [f"--{name}", value]
                log = run_dir / f"replica-{i + 1}.log"
                if direct:  # its log on this terminal, as `streamlit run` alone would print it
                    procs.append(subprocess.Popen(args, cwd=REPO_ROOT, env=env))
                else:
                    with open(log, "wb") as out:
                        procs.append(
                            subprocess.Popen(args, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
                        )
                backends.append(backend)
                logs.append(log)
            for i, backend in enumerate(backends):
                url = f"http://{_host(address) if direct else '127.0.0.1'}:{backend}"
                _wait_healthy(f"{url}/_stcore/health", [procs[i]], [logs[i]], startup_timeout)
                answer = warm_up(url, startup_timeout)
                if answer != "ok":
                    print(f"{url}: the warm-up run says {answer!r}; starting anyway", file=sys.stderr)
            if direct:
                yield Cluster(
                    base_url=url,
                    replica_urls=[url],
                    replica_pids=[procs[0].pid],
                    nginx_pid=None,
                    run_dir=run_dir,
                    logs=[],
                    processes=list(procs),
                )
                return
            max_upload = next((o.partition("=")[2] for o in options if o.startswith("server.maxUploadSize=")), "200")
            conf = run_dir / "nginx.conf"
            conf.write_text(
                nginx_config(
                    backends,
                    listen=f"{address}:{proxy_port}",
                    run_dir=run_dir,
                    access_log=access_log,
                    max_upload_mb=int(max_upload),
                    user=_worker_user(run_dir),
                )
            )
            nginx_log = run_dir / "nginx-error.log"
            nginx_out = run_dir / "nginx.out"
            with open(nginx_out, "wb") as out:
                proxy = subprocess.Popen(
                    # -e: the startup error log too, not the packaged path (unwritable when not root)
                    [nginx, "-c", str(conf), "-p", str(run_dir), "-e", str(nginx_log), "-g", "daemon off;"],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            procs.append(proxy)
            logs.append(nginx_out)
            base_url = f"http://{_host(address)}:{proxy_port}"
            _wait_healthy(f"{base_url}/_stcore/health", procs, logs, 30)
            yield Cluster(
                base_url=base_url,
                replica_urls=[f"http://127.0.0.1:{b}" for b in backends],
                replica_pids=[p.pid for p in procs[:-1]],
                nginx_pid=proxy.pid,
                run_dir=run_dir,
                logs=[*logs[:-1], nginx_log],
                processes=list(procs),
            )
        finally:
            for proc in reversed(procs):  # nginx first: no new requests reach a stopping replica
                _stop(proc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=2, help="Streamlit processes (default 2: one per core here)")
    parser.add_argument("--port", type=int, default=8501, help="the proxy's port (default 8501)")
    parser.add_argument("--address", default="127.0.0.1", help="the proxy's address (default 127.0.0.1)")
    parser.add_argument("--access-log", action="store_true", help="log each request with the replica that served it")
    parser.add_argument("--direct", action="store_true", help="one process on --address:--port, no proxy (make run)")
    parser.add_argument(
        "--server-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a Streamlit config option for every replica (repeatable), e.g. server.maxUploadSize=50",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.replicas <= MAX_REPLICAS:
        parser.error(f"--replicas: 1 to {MAX_REPLICAS}")
    if args.direct:
        args.replicas = 1
    if any("=" not in o for o in args.server_option):
        parser.error("--server-option: NAME=VALUE")

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        with running(
            args.replicas,
            port=args.port,
            address=args.address,
            options=args.server_option,
            access_log=args.access_log,
            direct=args.direct,
        ) as cluster:
            if args.direct:
                print(f"Ready: {cluster.base_url} (store open, first page run done). Ctrl-C stops it.", flush=True)
            else:
                print(f"Ready: {cluster.base_url} ({args.replicas} replicas behind nginx, sticky by cookie)")
                for url, pid in zip(cluster.replica_urls, cluster.replica_pids, strict=True):
                    print(f"  replica {url} (pid {pid})")
                print(f"  logs in {cluster.run_dir} (removed on exit)\nCtrl-C stops everything.", flush=True)
            while True:
                for proc in cluster.processes:
                    if proc.poll() is not None:
                        print(f"{proc.args[0]} (pid {proc.pid}) stopped: stopping the others", file=sys.stderr)
                        return 1
                time.sleep(1)
    except KeyboardInterrupt:
        print("\nStopping." if args.direct else "\nStopping the replicas and nginx.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
