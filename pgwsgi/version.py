"""pgwsgi version."""

__version__ = "0.1.0"
# What PostgREST release pgwsgi answers as (Server header, --version).
POSTGREST_VERSION = "16.1"
