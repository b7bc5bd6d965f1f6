"""Configuration: PostgREST's keys, its config file format, PGRST_* variables and in-database settings.

`model.Config` is frozen; `keys.KEYS` describes every key once; `load.load_config`
builds a Config from a file and the environment; `indb` overlays the in-database
settings; `fileformat` is PostgREST's file syntax; `logsetup` applies log-level.
"""

from pgwsgi.config.keys import KEYS, env_name
from pgwsgi.config.load import (
    apply_db_settings,
    bind_address,
    config_from_environment,
    dump_config,
    example_config,
    listen_host,
    load_config,
    reloaded,
)
from pgwsgi.config.model import Config, ConfigError, is_jwks_url

__all__ = [
    "KEYS",
    "Config",
    "ConfigError",
    "apply_db_settings",
    "bind_address",
    "listen_host",
    "config_from_environment",
    "dump_config",
    "env_name",
    "example_config",
    "is_jwks_url",
    "load_config",
    "reloaded",
]
