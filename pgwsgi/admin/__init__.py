"""The admin server (PostgREST's admin-server-port): /live, /ready and /metrics, outside the request pipeline.

It runs in gunicorn's master, the one process that sees every worker (`server.py`,
started by `hooks.py` from gunicorn's when_ready). The workers write their figures
where the master adds them up, Prometheus's multiprocess mode (`metrics.py`).
"""
