"""Configuration: file syntax, sources and precedence, validation, dump, in-db settings, bind address."""

from __future__ import annotations

import base64
import dataclasses
import logging

import pytest

from pgwsgi.config import (
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
from pgwsgi.config.fileformat import ConfigFileError, parse_text

SECRET = "reallyreallyreallyreallyverysafe"  # 32 characters


@pytest.fixture
def write(tmp_path):
    def write(text: str, name: str = "pgwsgi.conf") -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write


def load(text: str | None = None, write=None, env=None, overrides=None) -> Config:
    path = write(text) if text is not None else None
    return load_config(path, env=env or {}, overrides=overrides)


# --- the file format ---------------------------------------------------------------------------


def test_file_parses_strings_numbers_booleans_and_comments():
    values = parse_text('# a comment\na = "x"  # trailing\nb = 42\nc = true\nd = false\ne = -3\nf = 1.5\n', env={})
    assert values == {"a": "x", "b": 42, "c": True, "d": False, "e": -3, "f": 1.5}


def test_file_string_escapes():
    assert parse_text(r'a = "say \"hi\" \\ back\n\t\u00e9"', env={}) == {"a": 'say "hi" \\ back\n\té'}


def test_file_interpolates_environment_variables_and_double_dollar():
    values = parse_text('a = "$(USER_NAME)@host"\nb = "$$.role"\nc = "$$$(X)$$"', env={"USER_NAME": "bob", "X": "1"})
    assert values == {"a": "bob@host", "b": "$.role", "c": "$1$"}


def test_file_interpolation_prefers_earlier_keys_over_environment():
    assert parse_text('port = 3000\nurl = "http://h:$(port)"', env={"port": "9"})["url"] == "http://h:3000"


def test_file_dotted_keys_groups_lists_and_directive_comments():
    text = 'app.settings.jwt_exp = "3600"\napp { settings { other = "x" } }\nl = [1, "two",\n  true]\n#; skipped = 1\n'
    assert parse_text(text, env={}) == {
        "app.settings.jwt_exp": "3600",
        "app.settings.other": "x",
        "l": [1, "two", True],
    }


def test_file_allows_key_equals_and_value_on_separate_lines():
    assert parse_text("a # c\n= # c\n 1 # c\n", env={}) == {"a": 1}


def test_file_import_is_relative_to_the_importing_file(write):
    write('db-anon-role = "web"\n', "other.conf")
    assert load('import "other.conf"\ndb-pool = 3\n', write).db_anon_role == "web"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('a = 1\nb = "unterminated\n', 2, "unterminated string"),
        ("a = 1\n\nb 2\n", 3, "expected '='"),
        ('a = 1\nb = "$(NOPE)"\n', 2, "no such variable: 'NOPE'"),
        ('a = "$x"\n', 1, "'$$'"),
        ("a = 1 b = 2\n", 1, "expected end of line"),
        ("a = yes\n", 1, "expected a value"),
        ('a = "\\q"\n', 1, "invalid escape"),
        ("a. = 1\n", 1, "must not end with '.'"),
    ],
)
def test_file_syntax_error_names_file_and_line(text, line, fragment):
    with pytest.raises(ConfigFileError) as e:
        parse_text(text, "/etc/pgwsgi.conf", env={})
    assert e.value.line == line
    assert f"/etc/pgwsgi.conf, line {line}" in str(e.value)
    assert fragment in str(e.value)


def test_load_config_interpolates_from_the_given_environment(write):
    config = load('db-uri = "postgresql://$(DBHOST)/app"\n', write, env={"DBHOST": "db.internal"})
    assert config.db_uri == "postgresql://db.internal/app"


def test_syntax_error_in_config_file_raises_config_error(write):
    path = write('db-pool = 1\ndb-uri = "oops\n')
    with pytest.raises(ConfigError, match=rf"{path}, line 2: unterminated string"):
        load_config(path, env={})


def test_missing_config_file_is_a_config_error():
    with pytest.raises(ConfigError, match="Cannot read config file /no/such/file"):
        load_config("/no/such/file", env={})


# --- keys, aliases, environment, precedence ---------------------------------------------------


def test_defaults_without_any_source_match_the_config_defaults():
    assert load_config(env={}) == dataclasses.replace(Config(), admin_server_host="!4")


def test_file_values_are_parsed_into_typed_fields(write):
    config = load(
        'db-schemas = "api, v2"\ndb-pool = 3\nlog-query = true\ndb-max-rows = "100"\nserver-unix-socket-mode = "600"\n',
        write,
    )
    assert (config.db_schemas, config.db_pool, config.log_query, config.db_max_rows) == (("api", "v2"), 3, True, 100)
    assert config.server_unix_socket_mode == 0o600


@pytest.mark.parametrize(
    ("alias", "field", "raw", "expected"),
    [
        ("db-schema", "db_schemas", '"api"', ("api",)),
        ("max-rows", "db_max_rows", "5", 5),
        ("pre-request", "db_pre_request", '"check"', "check"),
        ("root-spec", "db_root_spec", '"root"', "root"),
        ("role-claim-key", "jwt_role_claim_key", '".role"', ".role"),
        ("secret-is-base64", "jwt_secret_is_base64", "false", False),
        ("db-pool-timeout", "db_pool_max_idletime", "7", 7),
    ],
)
def test_aliases_set_their_key(write, alias, field, raw, expected):
    assert getattr(load(f"{alias} = {raw}\n", write), field) == expected


def test_primary_name_beats_its_alias(write):
    assert load("db-max-rows = 1\nmax-rows = 2\n", write).db_max_rows == 1


def test_db_pool_timeout_alias_is_checked_before_db_pool_max_idletime(write):
    assert load("db-pool-max-idletime = 1\ndb-pool-timeout = 2\n", write).db_pool_max_idletime == 2


def test_aliases_work_through_environment():
    assert load_config(env={"PGRST_MAX_ROWS": "9", "PGRST_DB_SCHEMA": "api"}).db_max_rows == 9
    assert load_config(env={"PGRST_DB_SCHEMA": "api"}).db_schemas == ("api",)


def test_environment_variable_names():
    assert env_name("db-uri") == "PGRST_DB_URI"
    assert env_name("app.settings.jwt_exp") == "PGRST_APP_SETTINGS_JWT_EXP"
    assert env_name("db-use-legacy-gucs") == "PGRST_DB_USE_LEGACY_GUCS"


def test_empty_environment_value_for_every_key_gives_the_defaults():
    config = load_config(env={env_name(k.name): "" for k in KEYS})
    assert config == dataclasses.replace(load_config(env={}), db_extra_search_path=())


def test_pgwsgi_legacy_gucs_key_from_environment():
    assert load_config(env={"PGRST_DB_USE_LEGACY_GUCS": "true"}).db_use_legacy_gucs is True


def test_app_settings_from_file_and_environment(write):
    config = load(
        'app.settings.jwt_exp = "3600"\napp.settings.n = 5\n',
        write,
        env={"PGRST_APP_SETTINGS_Secret_Key": "s", "PGRST_APP_SETTINGS_JWT_EXP": "60"},
    )
    assert config.app_settings == (
        ("app.settings.jwt_exp", "60"),
        ("app.settings.n", "5"),
        ("app.settings.secret_key", "s"),
    )


def test_precedence_is_overrides_then_env_then_file_then_default(write):
    path = write('db-anon-role = "file"\ndb-pool = 4\ndb-channel = "filechan"\n')
    env = {"PGRST_DB_ANON_ROLE": "env", "PGRST_DB_POOL": "5"}
    config = load_config(path, env=env, overrides={"db-anon-role": "cli"})
    assert (config.db_anon_role, config.db_pool, config.db_channel, config.db_max_rows) == ("cli", 5, "filechan", None)


def test_config_from_environment_reads_the_file_named_by_pgrst_config(write):
    path = write('db-anon-role = "file"\ndb-pool = 4\n')
    config = config_from_environment({"PGRST_CONFIG": path, "PGRST_DB_POOL": "6"})
    assert (config.db_anon_role, config.db_pool) == ("file", 6)


def test_empty_string_means_default(write):
    config = load('db-anon-role = ""\ndb-schemas = ""\ndb-max-rows = ""\nlog-query = ""\n', write)
    assert (config.db_anon_role, config.db_schemas, config.db_max_rows, config.log_query) == (
        None,
        ("public",),
        None,
        False,
    )


def test_empty_environment_value_shadows_the_file_value(write):
    assert load('db-anon-role = "web"\n', write, env={"PGRST_DB_ANON_ROLE": ""}).db_anon_role is None


def test_empty_extra_search_path_is_an_empty_list(write):
    assert load('db-extra-search-path = ""\n', write).db_extra_search_path == ()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("FALSE", False),
        ("True", True),
        ('"true"', True),
        ("1", True),
        ("0", False),
        ("5", True),
        ("-1", False),
    ],
)
def test_boolean_strings(raw, expected):
    assert load_config(env={"PGRST_LOG_QUERY": raw}).log_query is expected


def test_boolean_bare_words_in_file(write):
    assert load("log-query = on\ndb-config = off\n", write).log_query is True


@pytest.mark.parametrize(("raw", "expected"), [("42", 42), (" 42 ", 42), ("-1", -1)])
def test_integer_strings(raw, expected):
    assert load_config(env={"PGRST_DB_MAX_ROWS": raw}).db_max_rows == expected


def test_integral_number_in_file_is_an_integer(write):
    assert load("db-pool = 10.0\n", write).db_pool == 10


def test_lists_are_comma_separated_and_trimmed(write):
    config = load(
        'server-cors-allowed-origins = " https://a.example , https://b.example"\n'
        'db-hoisted-tx-settings = ["statement_timeout", "work_mem"]\n',
        write,
    )
    assert config.server_cors_allowed_origins == ("https://a.example", "https://b.example")
    assert config.db_hoisted_tx_settings == ("statement_timeout", "work_mem")


def test_db_uri_from_at_file_is_trimmed(write, tmp_path):
    (tmp_path / "uri").write_text("  postgresql://u@h/db \n")
    assert load(f'db-uri = "@{tmp_path / "uri"}"\n', write).db_uri == "postgresql://u@h/db"


def test_jwt_secret_from_at_file_loses_one_trailing_newline(tmp_path):
    (tmp_path / "secret").write_text(SECRET + " \n\n")
    config = load_config(env={"PGRST_JWT_SECRET": f"@{tmp_path / 'secret'}"})
    assert config.jwt_secret == SECRET + " \n"
    assert config.jwt_secret_bytes == (SECRET + " \n").encode()


def test_unreadable_at_file_is_a_config_error():
    with pytest.raises(ConfigError, match="db-uri: cannot read /no/such"):
        load_config(env={"PGRST_DB_URI": "@/no/such"})


def test_admin_server_host_defaults_to_server_host():
    assert load_config(env={"PGRST_SERVER_HOST": "127.0.0.1"}).admin_server_host == "127.0.0.1"
    assert load_config(env={"PGRST_ADMIN_SERVER_HOST": "::1"}).admin_server_host == "::1"


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PGRST_DB_POOL": "abc"}, 'Invalid value for db-pool: "abc" is not an integer'),
        ({"PGRST_DB_MAX_ROWS": "1.5"}, 'Invalid value for db-max-rows: "1.5" is not an integer'),
        ({"PGRST_LOG_QUERY": "maybe"}, 'Invalid value for log-query: "maybe" is not a boolean'),
        ({"PGRST_DB_TX_END": "abort"}, 'Invalid value for db-tx-end: "abort" is not one of commit'),
        ({"PGRST_LOG_LEVEL": "verbose"}, 'Invalid value for log-level: "verbose"'),
        ({"PGRST_OPENAPI_MODE": "on"}, 'Invalid value for openapi-mode: "on"'),
        ({"PGRST_CLIENT_ERROR_VERBOSITY": "loud"}, 'Invalid value for client-error-verbosity: "loud"'),
        ({"PGRST_DB_SCHEMAS": "api,pg_catalog"}, "db-schemas does not allow schema: 'pg_catalog'"),
        ({"PGRST_DB_SCHEMA": "information_schema"}, "db-schemas does not allow schema: 'information_schema'"),
        ({"PGRST_JWT_AUD": "urn:bad value"}, "jwt-aud should be a string or a valid URI"),
        ({"PGRST_JWT_ROLE_CLAIM_KEY": "role"}, "Invalid value for jwt-role-claim-key"),
        ({"PGRST_SERVER_UNIX_SOCKET_MODE": "800"}, 'server-unix-socket-mode: "800" is not an octal number'),
        ({"PGRST_SERVER_UNIX_SOCKET_MODE": "500"}, "needs to be between 600 and 777"),
        ({"PGRST_ADMIN_SERVER_UNIX_SOCKET_MODE": "1777"}, "admin-server-unix-socket-mode"),
        ({"PGRST_SERVER_PORT": "70000"}, "Invalid value for server-port: 70000 is not between 0 and 65535"),
        ({"PGRST_ADMIN_SERVER_PORT": "3000"}, "admin-server-port cannot be the same as server-port"),
        ({"PGRST_OPENAPI_SERVER_PROXY_URI": "ftp://x.example"}, "openapi-server-proxy-uri: malformed proxy uri"),
        ({"PGRST_OPENAPI_SERVER_PROXY_URI": "https://x.example/?q=1"}, "malformed proxy uri"),
        ({"PGRST_OPENAPI_SERVER_PROXY_URI": "https://u@x.example/"}, "malformed proxy uri"),
        ({"PGRST_OPENAPI_SERVER_PROXY_URI": "https://x.example:0/"}, "malformed proxy uri"),
        ({"PGRST_OPENAPI_SERVER_PROXY_URI": "https://:80/"}, "malformed proxy uri"),
    ],
)
def test_invalid_values_raise_config_error_naming_the_key(env, message):
    with pytest.raises(ConfigError) as e:
        load_config(env=env)
    assert message in str(e.value)


def test_valid_uri_values_are_accepted():
    config = load_config(
        env={
            "PGRST_JWT_AUD": "urn:example:aud",
            "PGRST_OPENAPI_SERVER_PROXY_URI": "https://api.example.com:8443/v1",
            "PGRST_JWT_ROLE_CLAIM_KEY": ".postgrest.role",
        }
    )
    assert (config.jwt_aud, config.openapi_server_proxy_uri) == ("urn:example:aud", "https://api.example.com:8443/v1")


def test_list_value_for_a_scalar_key_is_rejected(write):
    with pytest.raises(ConfigError, match="db-pool: expected a single value, not a list"):
        load("db-pool = [1, 2]\n", write)


def test_short_jwt_secret_is_rejected_without_showing_it():
    with pytest.raises(ConfigError, match="The JWT secret must be at least 32 characters long.") as e:
        load_config(env={"PGRST_JWT_SECRET": "tooshort"})
    assert e.value.key == "jwt-secret"
    assert "tooshort" not in str(e.value)


def test_short_json_web_key_is_accepted():
    jwk = '{"kty":"oct","k":"c2VjcmV0"}'
    assert load_config(env={"PGRST_JWT_SECRET": jwk}).jwt_secret_bytes == jwk.encode()


def test_base64_secret_is_decoded_with_url_safe_characters():
    raw = bytes(range(200, 240))
    encoded = base64.urlsafe_b64encode(raw).decode().replace("=", ".")
    config = load_config(env={"PGRST_JWT_SECRET": f" {encoded} ", "PGRST_JWT_SECRET_IS_BASE64": "true"})
    assert config.jwt_secret_bytes == raw
    assert config.jwt_secret == f" {encoded} "


def test_invalid_base64_secret_is_rejected():
    with pytest.raises(ConfigError, match="not valid base64"):
        load_config(env={"PGRST_JWT_SECRET": "!!!not base64!!!" * 3, "PGRST_JWT_SECRET_IS_BASE64": "1"})


def test_base64_secret_must_decode_to_32_bytes():
    with pytest.raises(ConfigError, match="at least 32 characters"):
        load_config(env={"PGRST_JWT_SECRET": base64.b64encode(b"x" * 31).decode(), "PGRST_JWT_SECRET_IS_BASE64": "1"})


def test_hand_built_config_derives_the_secret_bytes():
    assert Config(jwt_secret=SECRET).jwt_secret_bytes == SECRET.encode()
    encoded = base64.b64encode(SECRET.encode()).decode()
    assert Config(jwt_secret=encoded, jwt_secret_is_base64=True).jwt_secret_bytes == SECRET.encode()


# --- unknown keys ------------------------------------------------------------------------------


def test_unknown_file_key_warns_with_nearest_known_key(write, caplog):
    path = write('db-anon-rol = "web"\nzzz = 1\ninternal-schema-cache-query-sleep = 1\n')
    with caplog.at_level(logging.WARNING, logger="pgwsgi.config"):
        load_config(path, env={})
    assert [r.getMessage() for r in caplog.records] == [
        f'Unknown configuration key "db-anon-rol" in {path}; did you mean "db-anon-role"?',
        f'Unknown configuration key "zzz" in {path} (ignored)',
    ]


def test_unknown_environment_variable_warns_without_showing_its_value(caplog):
    env = {"PGRST_JWT_SECRT": "hunter2hunter2", "PGRST_CONFIG": "", "PGRST_APP_SETTINGS_X": "1", "HOME": "/"}
    with caplog.at_level(logging.WARNING, logger="pgwsgi.config"):
        load_config(env=env)
    assert [r.getMessage() for r in caplog.records] == [
        'Unknown configuration key "PGRST_JWT_SECRT" in the environment; did you mean "PGRST_JWT_SECRET"?'
    ]


# --- dump --------------------------------------------------------------------------------------


def test_dump_format_is_sorted_and_typed():
    lines = dump_config(load_config(env={"PGRST_APP_SETTINGS_A": 'say "x"'})).splitlines()
    assert lines == sorted(lines)
    assert 'app.settings.a = "say \\"x\\""' in lines
    assert "db-pool = 10" in lines
    assert 'db-max-rows = ""' in lines
    assert "log-query = false" in lines
    assert 'jwt-role-claim-key = "$$.role"' in lines
    assert 'server-unix-socket-mode = "660"' in lines
    assert len(lines) == len(KEYS) + 1


def test_dump_reloads_to_an_identical_config(write):
    config = load_config(
        env={
            "PGRST_DB_URI": 'postgresql://u:p"a$$\\w@h/db',
            "PGRST_DB_SCHEMAS": "api, v2",
            "PGRST_DB_EXTRA_SEARCH_PATH": "",
            "PGRST_DB_MAX_ROWS": "50",
            "PGRST_JWT_SECRET": base64.b64encode(b"\x00\xff" * 20).decode(),
            "PGRST_JWT_SECRET_IS_BASE64": "true",
            "PGRST_JWT_ROLE_CLAIM_KEY": "$.pg['role']",
            "PGRST_SERVER_HOST": "::1",
            "PGRST_SERVER_UNIX_SOCKET_MODE": "640",
            "PGRST_SERVER_CORS_ALLOWED_ORIGINS": "https://a.example,https://b.example",
            "PGRST_APP_SETTINGS_MULTI": "line1\nline2\t$(HOME)",
            "PGRST_DB_USE_LEGACY_GUCS": "true",
        }
    )
    again = load_config(write(dump_config(config)), env={})
    assert again == config
    assert dump_config(again) == dump_config(config)


def test_example_config_parses_and_loads_to_the_defaults(write, caplog):
    text = example_config()
    assert "# db-uri =" in text and "app.settings" in text
    with caplog.at_level(logging.WARNING, logger="pgwsgi.config"):
        assert load_config(write(text), env={}) == load_config(env={})
    assert not caplog.records
    uncommented = parse_text("\n".join(line[2:] for line in text.splitlines() if line.startswith("# ")), env={})
    assert set(uncommented) == {k.name for k in KEYS} | {"app.settings.jwt_exp"}


# --- in-database settings ----------------------------------------------------------------------


def test_db_settings_beat_every_other_source():
    config = load_config(env={"PGRST_DB_SCHEMAS": "env"}, overrides={"db-anon-role": "cli"})
    config = apply_db_settings(config, {"pgrst.db_schemas": "db1, db2", "db_anon_role": "dbrole"})
    assert (config.db_schemas, config.db_anon_role) == (("db1", "db2"), "dbrole")


def test_db_settings_outside_the_allow_list_are_ignored():
    config = load_config(env={})
    same = apply_db_settings(
        config,
        {
            "pgrst.db_pool": "99",
            "pgrst.db_uri": "x",
            "pgrst.jwt_cache_max_entries": "5",
            "pgrst.server_port": "1",
            "pgrst.db_channel": "x",
            "pgrst.log_level": "debug",
        },
    )
    assert same == config


def test_db_settings_allow_list_matches_postgrest():
    allowed = {k.in_db_name for k in KEYS if k.in_db_name}
    assert allowed == {
        "pgrst." + n
        for n in (
            "db_aggregates_enabled",
            "client_error_verbosity",
            "db_anon_role",
            "db_pre_config",
            "db_extra_search_path",
            "db_max_rows",
            "db_plan_enabled",
            "db_pre_request",
            "db_prepared_statements",
            "db_root_spec",
            "db_schemas",
            "db_tx_end",
            "db_hoisted_tx_settings",
            "jwt_aud",
            "jwt_role_claim_key",
            "jwt_secret",
            "jwt_secret_is_base64",
            "openapi_mode",
            "openapi_security_active",
            "openapi_server_proxy_uri",
            "server_cors_allowed_origins",
            "server_trace_header",
            "server_timing_enabled",
            "url_use_legacy_target_names",
        )
    }


def test_empty_db_setting_resets_to_default():
    config = load_config(env={"PGRST_DB_ANON_ROLE": "web"})
    assert apply_db_settings(config, {"pgrst.db_anon_role": ""}).db_anon_role is None


def test_db_settings_are_validated_and_recompute_the_secret():
    config = load_config(env={})
    with pytest.raises(ConfigError, match="db-max-rows"):
        apply_db_settings(config, {"pgrst.db_max_rows": "lots"})
    updated = apply_db_settings(config, {"pgrst.jwt_secret": SECRET})
    assert updated.jwt_secret_bytes == SECRET.encode()


def test_db_settings_are_ignored_when_db_config_is_off():
    config = load_config(env={"PGRST_DB_CONFIG": "false"})
    assert apply_db_settings(config, {"pgrst.db_schemas": "api"}) is config


def test_reload_keeps_non_reloadable_keys():
    old = load_config(env={"PGRST_DB_POOL": "3", "PGRST_DB_ANON_ROLE": "a"})
    new = load_config(env={"PGRST_DB_POOL": "7", "PGRST_DB_ANON_ROLE": "b"})
    assert (reloaded(old, new).db_pool, reloaded(old, new).db_anon_role) == (3, "b")


# --- bind address ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("*", "0.0.0.0:3000"),
        ("*4", "0.0.0.0:3000"),
        ("!4", "0.0.0.0:3000"),
        ("*6", "[::]:3000"),
        ("!6", "[::]:3000"),
        ("localhost", "localhost:3000"),
        ("127.0.0.1", "127.0.0.1:3000"),
        ("::1", "[::1]:3000"),
        ("[::1]", "[::1]:3000"),
    ],
)
def test_bind_address_for_hosts(host, expected):
    assert bind_address(Config(server_host=host)) == expected


def test_bind_address_prefers_unix_socket():
    assert bind_address(Config(server_unix_socket="/tmp/s.sock", server_port=1)) == "unix:/tmp/s.sock"
