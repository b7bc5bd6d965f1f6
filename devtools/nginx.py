"""A private nginx serving the shipped site (deploy/nginx/pgwsgi.conf) in front of given upstreams.

For the end-to-end tests and bench/instances.py: the site is the one operators
install, with only its upstream servers, listening address and log folder
replaced, so what is tested is what ships.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from devtools.ports import free_port, wait_listening

SITE = Path(__file__).resolve().parents[1] / "deploy" / "nginx" / "pgwsgi.conf"
BINARY = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
_FOLDERS = ("logs", "body", "proxy", "fcgi", "uwsgi", "scgi")


def site(upstreams: Sequence[str], port: int, logs: Path, *, rate_limit: bool = True) -> str:
    """The shipped site with UPSTREAMS ("host:port" and any server parameters) as its servers, on PORT.

    Without RATE_LIMIT its limit_req lines go: one load generator is one client address.
    """
    text = SITE.read_text()
    text = text.replace("server 127.0.0.1:3000;", "\n    ".join(f"server {u};" for u in upstreams))
    text = text.replace("listen 80 default_server;", f"listen 127.0.0.1:{port} default_server;")
    text = text.replace("listen [::]:80 default_server;", "")
    text = text.replace("/var/log/nginx/", f"{logs}/")
    if not rate_limit:
        text = "\n".join(line for line in text.splitlines() if not line.strip().startswith("limit_req "))
    return text


@contextmanager
def running(
    folder: Path, upstreams: Sequence[str], *, workers: str = "1", rate_limit: bool = True
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """nginx with the shipped site in front of UPSTREAMS, its files under FOLDER; (its base URL, its master).

    One worker process by default: one round-robin counter, so requests alternate exactly.
    """
    if BINARY is None:
        raise RuntimeError("nginx is not installed (Debian: apt install nginx, which `make test` does as root)")
    port = free_port()
    for name in _FOLDERS:
        (folder / name).mkdir(parents=True, exist_ok=True, mode=0o777)
        (folder / name).chmod(0o777)  # nginx's workers run as www-data when it starts as root
    (folder / "site.conf").write_text(site(upstreams, port, folder / "logs", rate_limit=rate_limit))
    (folder / "nginx.conf").write_text(
        f"""worker_processes {workers};
pid {folder}/nginx.pid;
error_log {folder}/logs/error.log;
events {{ worker_connections 1024; }}
http {{
  include /etc/nginx/mime.types;
  client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;
  fastcgi_temp_path {folder}/fcgi; uwsgi_temp_path {folder}/uwsgi; scgi_temp_path {folder}/scgi;
  include {folder}/site.conf;
}}
"""
    )
    proc = subprocess.Popen(
        [BINARY, "-c", str(folder / "nginx.conf"), "-p", str(folder), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_listening(port, proc, 10, lambda: proc.stderr.read().decode() if proc.stderr else "nginx did not start")
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)
