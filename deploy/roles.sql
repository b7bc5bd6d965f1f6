-- Roles for a production pgwsgi database: a template to copy and adapt.
--
-- pgwsgi logs in as one role (here `authenticator`) that has no privileges of
-- its own. For every request it switches, inside the request's transaction,
-- to the role named in the JWT's role claim, or to the anonymous role when
-- there is no JWT. Everything a client may do is decided by the GRANTs and row
-- level security policies of those roles; pgwsgi only checks the token.
--
-- Run it as a superuser (or a role with CREATEROLE that owns the objects),
-- connected to the API's database, giving the password on the command line so
-- that it never lands in this file or your shell history:
--
--   read -rs AUTH_PW && psql -v ON_ERROR_STOP=1 -v authenticator_password="$AUTH_PW" \
--        -f roles.sql "postgresql://postgres@db.internal/app"
--
-- Without -v authenticator_password the script stops with a syntax error
-- before it sets any password. It can be run again: roles are created only when
-- missing and GRANT/REVOKE are idempotent.
--
-- Names are only conventions: the login role is whatever db-uri names, the
-- anonymous role is db-anon-role, and the others are whatever your JWTs carry.

\set ON_ERROR_STOP on
begin;

-- 1. The roles ------------------------------------------------------------------

do $$
begin
  -- Logs in; NOINHERIT, so membership in the roles below only lets it
  -- SET ROLE to them, it does not hand it their privileges.
  if not exists (select from pg_catalog.pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
  -- Requests without a JWT (db-anon-role = "web_anon"). Omit it, and leave
  -- db-anon-role unset, if every request must be authenticated.
  if not exists (select from pg_catalog.pg_roles where rolname = 'web_anon') then
    create role web_anon nologin;
  end if;
  -- Requests with a JWT whose role claim is "web_user".
  if not exists (select from pg_catalog.pg_roles where rolname = 'web_user') then
    create role web_user nologin;
  end if;
end
$$;

alter role authenticator login noinherit nosuperuser nocreatedb nocreaterole nobypassrls;
-- Stored as a SCRAM-SHA-256 verifier (password_encryption's default since
-- PostgreSQL 14). Pair it with a pg_hba.conf line such as
--   hostssl app authenticator 10.0.0.5/32 scram-sha-256
alter role authenticator password :'authenticator_password';

-- The authenticator may become exactly these roles, and nothing else.
grant web_anon to authenticator;
grant web_user to authenticator;

-- 2. The database -----------------------------------------------------------------
-- By default every role may connect and create temporary tables; allow only
-- the roles that need to. (Check first that no other application relies on the
-- PUBLIC defaults in this database.)
do $$
begin
  execute format('revoke connect, temporary on database %I from public', current_database());
  execute format('grant connect on database %I to authenticator', current_database());
end
$$;

-- Nobody but the owner creates objects in `public` (PostgreSQL 15+ default).
revoke create on schema public from public;

-- 3. Schemas and grants --------------------------------------------------------
-- Expose one schema (db-schemas = "api") holding views and functions; keep
-- tables in a schema that is never listed in db-schemas.

create schema if not exists api;
create schema if not exists private;
revoke all on schema api, private from public;

grant usage on schema api to web_anon, web_user;

-- Example grants, one line per object and role. Grant as little as possible:
--   grant select on api.products to web_anon;
--   grant select, insert, update, delete on api.orders to web_user;
--   grant usage on schema private to web_user;                   -- security_invoker views
--   grant select, insert, update, delete on private.orders to web_user;
--   grant execute on function api.place_order(bigint, int) to web_user;
--
-- Functions are executable by PUBLIC when created; take that back once, for
-- every function the schema owner creates from now on, and grant explicitly:
alter default privileges in schema api revoke execute on functions from public;
alter default privileges in schema private revoke execute on functions from public;

-- 4. Row level security, in short ------------------------------------------------
-- GRANTs say which tables a role may touch; policies say which rows. The JWT's
-- claims are visible to SQL as the JSON in request.jwt.claims:
--
--   create table private.orders (
--     id       bigint generated always as identity primary key,
--     customer text not null
--              default current_setting('request.jwt.claims', true)::json ->> 'sub',
--     item     text not null
--   );
--   alter table private.orders enable row level security;
--   alter table private.orders force row level security;   -- the owner too
--
--   create policy own_orders on private.orders
--     for all to web_user
--     using      (customer = current_setting('request.jwt.claims', true)::json ->> 'sub')
--     with check (customer = current_setting('request.jwt.claims', true)::json ->> 'sub');
--
--   -- Expose it through a view that runs with the caller's rights (PG 15+),
--   -- so the policy above applies to the requesting role:
--   create view api.orders with (security_invoker = true) as
--     select id, customer, item from private.orders;
--
-- A table with RLS enabled and no policy for a role shows that role no rows.
-- Superusers, BYPASSRLS roles and (without FORCE) the table owner skip RLS, so
-- never let a JWT name such a role: the authenticator must not be a member of
-- one. deploy/demo/schema.sql is a complete, tested example.

commit;

-- Finally, tell running pgwsgi processes to reload their schema cache:
notify pgrst, 'reload schema';
