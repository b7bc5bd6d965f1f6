"""In-database configuration (C-IN-DB-QUERY): `ALTER ROLE authenticator SET pgrst.x = ...`.

Read as the authenticator in a read-only transaction. A database-specific role
setting beats the role-wide one; role settings beat values set by the
db-pre-config function.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg import sql

from pgwsgi.config import Config, apply_db_settings

_ROLE_SETTINGS = """
with role_setting as (
  select setdatabase as database, unnest(setconfig) as setting
  from pg_catalog.pg_db_role_setting
  where setrole = current_user::regrole::oid
    and setdatabase in (0, (select oid from pg_catalog.pg_database where datname = current_catalog))
), kv as (
  select database, substr(setting, 1, strpos(setting, '=') - 1) as k, substr(setting, strpos(setting, '=') + 1) as v
  from role_setting
  where setting like 'pgrst.%%'
)
select distinct on (k) k, v from kv order by k, database desc
"""

_PRE_CONFIG = """
select name, setting from pg_catalog.pg_settings where name like 'pgrst.%%'
"""


def read_db_settings(config: Config, conn: psycopg.Connection[Any] | None = None) -> Mapping[str, str]:
    """The `pgrst.*` settings that apply to the configured db-uri's role and database."""
    own = conn is None
    conn = conn or psycopg.connect(config.db_uri, autocommit=True)
    try:
        with conn.transaction():
            conn.execute("set transaction read only")
            found: dict[str, str] = {}
            if config.db_pre_config:
                # The pre-config function sets pgrst.* with set_config(..., true); read them back.
                conn.execute(sql.SQL("select {}()").format(sql.Identifier(*config.db_pre_config.split(".", 1))))
                found.update({k: v for k, v in conn.execute(_PRE_CONFIG).fetchall() if v != ""})
            found.update(dict(conn.execute(_ROLE_SETTINGS).fetchall()))
            return found
    finally:
        if own:
            conn.close()


def with_db_settings(config: Config) -> Config:
    """CONFIG overlaid with the in-database settings (unless db-config is off); raises psycopg.Error."""
    if not config.db_config:
        return config
    return apply_db_settings(config, read_db_settings(config))
