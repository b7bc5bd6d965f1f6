"""Gunicorn settings for pgwsgi in production (installed as /etc/pgwsgi/gunicorn.conf.py).

Run with: gunicorn pgwsgi:app -c /etc/pgwsgi/gunicorn.conf.py

pgwsgi's own settings (db-uri, db-schemas, jwt-secret, ...) are not here: they
come from the file named by PGRST_CONFIG and from PGRST_* variables. This file
only says how gunicorn runs the application. Every value can be adjusted through
the environment (for example in /etc/pgwsgi/pgwsgi.env), so the file itself can
stay as shipped.

`systemctl reload pgwsgi` sends SIGHUP: gunicorn re-reads this file, starts new
workers (which re-read PGRST_CONFIG and reload the schema cache) and stops the
old ones gracefully. Environment variables are only re-read on a restart.

PostgREST's signals work too: SIGUSR1 makes every worker reload its schema cache
(and reopen the log files, as gunicorn's SIGUSR1 does), and SIGUSR2 reloads the
configuration like SIGHUP (see when_ready below; gunicorn's own SIGUSR2, a re-exec
of the master, is given up for it). `NOTIFY pgrst, 'reload config'` does the same.
"""

from __future__ import annotations

import multiprocessing
import os


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Where to listen. nginx on the same host proxies to this address; keep it on
# loopback (or use a unix socket, "unix:/run/pgwsgi/pgwsgi.sock").
bind = [os.environ.get("PGWSGI_BIND", "127.0.0.1:3000")]

# Sync workers: one request at a time per process, the simplest model and a
# good fit because each request is one short database transaction. The usual
# rule of thumb is 2 x cores + 1. Each worker has its own connection pool
# (db-pool) plus one LISTEN connection for schema reloads, so the database
# sees about workers x (db-pool + 1) connections from the authenticator:
# with sync workers a db-pool of 2 is plenty.
# (pgwsgi's subclass of gunicorn's sync worker answers unparsable requests in JSON.)
worker_class = "pgwsgi.http.worker.JsonSyncWorker"
workers = _env_int("PGWSGI_WORKERS", 2 * multiprocessing.cpu_count() + 1)

# Never preload: the application opens its database pool lazily, after the
# fork, so that no connection is shared between processes.
preload_app = False

# A worker silent for this long is killed and replaced. Keep it above the
# longest statement_timeout you allow the API roles.
timeout = _env_int("PGWSGI_TIMEOUT", 60)
# On reload, restart or stop, workers get this long to finish their request.
graceful_timeout = _env_int("PGWSGI_GRACEFUL_TIMEOUT", 30)
# Ignored by sync workers (they close every connection); used if you switch to
# gthread workers, where it should exceed nginx's upstream keepalive_timeout.
keepalive = 5

# Recycle workers now and then, so a slow leak cannot grow forever.
max_requests = _env_int("PGWSGI_MAX_REQUESTS", 10000)
max_requests_jitter = max_requests // 10

# Request limits. The request line is unlimited (0): PostgREST clients put whole
# filters in the URL, and an `in` list of 10,000 ids is a 50 KB request line, far
# past gunicorn's default of 4094 bytes. nginx in front bounds it instead
# (large_client_header_buffers in deploy/nginx/pgwsgi.conf).
limit_request_line = 0
limit_request_fields = 100
limit_request_field_size = 8190

# nginx on this host is the only proxy trusted for X-Forwarded-Proto.
forwarded_allow_ips = os.environ.get("PGWSGI_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logs go to stdout/stderr, i.e. to the journal under systemd.
# PGWSGI_ACCESS_LOG="" turns the access log off (nginx keeps its own).
accesslog = os.environ.get("PGWSGI_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("PGWSGI_LOG_LEVEL", "info")

# Access log lines in the shape PostgREST prints at log-level = "info":
#   127.0.0.1 - web_user [26/Jul/2021:01:56:38 -0500] "GET /notes HTTP/1.1" 200 56 "-" "curl/8.5.0"
# The third field is the database role the request ran as, which pgwsgi leaves
# in the WSGI environ as "pgwsgi.role" ("-" when the request never got that far).
# Behind nginx the first field is nginx's address; use %({x-real-ip}i)s
# instead to log the client address nginx passes on.
# Which requests are logged follows pgwsgi's log-level as in PostgREST: error (its
# default) logs 5xx, warn 4xx and 5xx, info and debug every request, crit none.
logger_class = "pgwsgi.http.accesslog.AccessLogger"
access_log_format = '%(h)s - %({pgwsgi.role}e)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'

proc_name = "pgwsgi"

# Responses carry "Server: postgrest/<version>" like PostgREST's, in place of
# gunicorn's own "Server: gunicorn": each worker renames gunicorn's header when
# it loads pgwsgi:app (pgwsgi/http/app.py), so that works without this file too
# and nothing needs setting here.

# Under systemd, RuntimeDirectory=pgwsgi gives the service a private,
# memory-backed /run/pgwsgi (announced in $RUNTIME_DIRECTORY). Use it for the
# workers' heartbeat files, and for the control socket that gunicorn >= 25.1
# opens by default under $HOME, which the hardened service cannot write to.
# (gunicorn versions without a control socket ignore that setting.)
_runtime_dir = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
if _runtime_dir:
    worker_tmp_dir = _runtime_dir
    control_socket = os.path.join(_runtime_dir, "gunicorn.ctl")


# pgwsgi's hooks (pgwsgi/admin/hooks.py): PostgREST's start-up lines and admin server
# (admin-server-port), SIGUSR2 and NOTIFY 'reload config' as a graceful reload of the
# workers, a worker's figures leaving with it, a control socket per instance.
from pgwsgi.admin.hooks import child_exit, on_starting, when_ready  # noqa: E402, F401 (hooks, by name)
