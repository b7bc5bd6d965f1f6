"""Configuration: PostgREST's keys, its config file format, PGRST_* variables and in-database settings.

`Config` is frozen; `load_config` builds it from a file and the environment,
`config.indb` overlays the in-database settings, `config.logsetup` applies log-level.
"""

from pgwsgi.config.keys import (
    KEYS,
    Config,
    ConfigError,
    apply_db_settings,
    bind_address,
    config_from_environment,
    dump_config,
    env_name,
    example_config,
    load_config,
    reloaded,
)

__all__ = [
    "KEYS",
    "Config",
    "ConfigError",
    "apply_db_settings",
    "bind_address",
    "config_from_environment",
    "dump_config",
    "env_name",
    "example_config",
    "load_config",
    "reloaded",
]
