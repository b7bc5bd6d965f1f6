-- User management for pgwsgi: sign-up, log-in, password reset, all in SQL.
--
-- What it builds (see docs/user-management.md for a curl session):
--
--   auth   private schema, never listed in db-schemas: users with bcrypt
--          password hashes, one-time password-reset tokens (stored hashed),
--          and an `outbox` table standing in for the e-mails a real
--          deployment would send.
--   api    the exposed schema (db-schemas = "api"), functions only:
--            signup(email, pass)                       web_anon
--            login(email, pass) -> auth.jwt_claims     web_anon   (pgwsgi signs it: {"token": ...})
--            request_password_reset(email)             web_anon
--            reset_password(email, token, pass)        web_anon
--            me()                                      web_user
--
-- The security model is the one of deploy/demo/schema.sql: pgwsgi logs in as
-- `authenticator` (LOGIN NOINHERIT, no privileges of its own) and switches to
-- `web_anon` or to the role of the JWT for each request. The web roles get
-- nothing in schema `auth`: they reach it only through the api functions,
-- which are SECURITY DEFINER, run as the NOLOGIN role `auth_owner` that owns
-- schema `auth`, use an empty search_path and name every object with its
-- schema. No function takes a role argument: signup always stores `web_user`;
-- any other role is given by an administrator with a direct UPDATE, and the
-- constraint trigger on auth.users accepts only roles that exist, cannot log
-- in and that the authenticator may switch to.
--
-- Requirements: PostgreSQL 14 or later and the pgcrypto extension (contrib;
-- `select * from pg_available_extensions where name = 'pgcrypto'`). pgcrypto
-- is created in schema `extensions` (created if missing, usable by auth_owner
-- only) if it is not installed yet; if it already lives in another schema
-- (`public`, where this script put it before) the script stops and says how
-- to move it.
--
-- The result passes `pgwsgi audit` without errors or warnings; its only
-- findings are informational: web_anon may call the SECURITY DEFINER functions
-- signup, login, request_password_reset and reset_password, as it must.
-- tests/integration/test_user_management.py checks it.
--
-- Load it as a superuser into the API's database:
--   psql -v ON_ERROR_STOP=1 -f deploy/examples/user-management.sql "$SUPERUSER_DSN"
-- and serve it with db-schemas = "api", db-anon-role = "web_anon" and a
-- jwt-secret. Running it again is safe: roles and tables are created only
-- when missing (existing users are kept), functions and triggers are
-- replaced, privileges are set again.

begin;

set local client_min_messages = warning;

-- Roles -----------------------------------------------------------------------
-- Roles belong to the whole cluster: created only when missing (the names are
-- those of the demo and of deploy/roles.sql, so they can share a cluster).

do $roles$
declare
  r text;
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'authenticator') then
    begin
      create role authenticator login noinherit;
    exception when duplicate_object or unique_violation then
      null;  -- another session created it in the meantime
    end;
  end if;
  foreach r in array array['web_anon', 'web_user', 'auth_owner'] loop
    if not exists (select from pg_catalog.pg_roles where rolname = r) then
      begin
        execute pg_catalog.format('create role %I nologin', r);
      exception when duplicate_object or unique_violation then
        null;
      end;
    end if;
  end loop;
end
$roles$;

alter role authenticator login noinherit nosuperuser nocreatedb nocreaterole nobypassrls;
alter role web_anon nologin nosuperuser nocreatedb nocreaterole nobypassrls;
alter role web_user nologin nosuperuser nocreatedb nocreaterole nobypassrls;
-- Owns schema `auth` and the api functions; nobody logs in as it, and the
-- authenticator is NOT a member of it, so no JWT can name it.
alter role auth_owner nologin nosuperuser nocreatedb nocreaterole nobypassrls;

do $members$
declare
  r text;
begin
  foreach r in array array['web_anon', 'web_user'] loop
    if not exists (
      select from pg_catalog.pg_auth_members m
      where m.roleid = r::regrole and m.member = 'authenticator'::regrole
    ) then
      execute pg_catalog.format('grant %I to authenticator', r);
    end if;
  end loop;
  if pg_catalog.pg_has_role('authenticator', 'auth_owner', 'member') then
    raise exception 'authenticator must not be a member of auth_owner'
      using hint = 'revoke auth_owner from authenticator';
  end if;
end
$members$;

-- pgcrypto --------------------------------------------------------------------
-- In a schema of its own, not in `public`: its functions do not mix with the
-- application's, cannot be exposed by listing `public` in db-schemas, and only
-- the roles given USAGE on `extensions` can call them. Here that is auth_owner,
-- which owns the functions calling crypt(), gen_salt(), gen_random_bytes() and
-- hmac() (EXECUTE on them is granted to PUBLIC by the extension; USAGE on the
-- schema is what keeps everybody else out).

create schema if not exists extensions;
revoke all on schema extensions from public;
grant usage on schema extensions to auth_owner;

create extension if not exists pgcrypto with schema extensions;

do $pgcrypto$
declare
  s name;
begin
  select n.nspname into s
  from pg_catalog.pg_extension e join pg_catalog.pg_namespace n on n.oid = e.extnamespace
  where e.extname = 'pgcrypto';
  if s <> 'extensions' then
    raise exception 'pgcrypto is installed in schema %, this script calls it as extensions.crypt(...)', s
      using hint = 'Move it, as a superuser: create schema if not exists extensions; '
                   'alter extension pgcrypto set schema extensions; then load this script (and '
                   'user-management-sql-signing.sql) again. Code of your own that calls '
                   || pg_catalog.quote_ident(s) || '.crypt(...) must then call extensions.crypt(...).';
  end if;
end
$pgcrypto$;

-- Functions no request needs ------------------------------------------------
-- Every role may call these by default: sleeping holds a pooled connection, and
-- large objects are storage outside every table and policy. `pgwsgi audit`
-- reports them (dangerous_function_executable) until they are revoked. The
-- REVOKE is for this database only (each database has its own pg_catalog);
-- superusers and roles granted EXECUTE explicitly keep them.
do $revoke$
declare
  f regprocedure;
begin
  for f in
    select p.oid::regprocedure from pg_catalog.pg_proc p
    where p.pronamespace = 'pg_catalog'::regnamespace
      and (p.proname in ('pg_sleep', 'pg_sleep_for', 'pg_sleep_until', 'loread', 'lowrite')
           or p.proname like 'lo\_%')
  loop
    execute pg_catalog.format('revoke execute on function %s from public', f);
  end loop;
end
$revoke$;

-- Schemas ---------------------------------------------------------------------

create schema if not exists auth authorization auth_owner;
alter schema auth owner to auth_owner;
revoke all on schema auth from public;

-- Nobody but its owner may create objects in `public` (the default since
-- PostgreSQL 15, not in older clusters nor in databases upgraded from one):
-- a function created there could shadow what a caller's search_path finds.
-- USAGE on `public` is left as it is: nothing of this script lives there.
do $public$
begin
  if exists (select from pg_catalog.pg_namespace where nspname = 'public') then
    revoke create on schema public from public;
  end if;
end
$public$;

create schema if not exists api;
revoke all on schema api from public;
grant usage on schema api to web_anon, web_user;

-- Tables ----------------------------------------------------------------------
-- Row level security is enabled without policies and without FORCE: the
-- owner (the api functions) sees every row, any other role that was ever
-- granted a privilege by mistake would see none.

create table if not exists auth.users (
  email      text primary key
             check (email ~ '^[^@\s]+@[^@\s]+$' and email = pg_catalog.lower(email)),
  pass       text not null,
  role       text not null default 'web_user' check (pg_catalog.length(role) < 64),
  created_at timestamptz not null default pg_catalog.now(),
  last_login timestamptz
);
comment on table auth.users is
  'Accounts. pass is a bcrypt hash (set by a trigger); role must be a NOLOGIN role the authenticator may switch to.';

create table if not exists auth.password_resets (
  id         bigint generated always as identity primary key,
  email      text not null references auth.users (email) on update cascade on delete cascade,
  token_hash bytea not null unique,       -- sha256 of the token; the token itself is never stored here
  expires_at timestamptz not null,
  used_at    timestamptz,
  created_at timestamptz not null default pg_catalog.now()
);
create index if not exists password_resets_email_idx on auth.password_resets (email);
comment on table auth.password_resets is 'One-time password reset tokens, hashed, valid 15 minutes, usable once.';

-- Stand-in for the mail server: a real deployment would have a worker send
-- these (and delete them), or call a mail API from request_password_reset.
create table if not exists auth.outbox (
  id         bigint generated always as identity primary key,
  recipient  text not null,
  subject    text not null,
  body       text not null,
  token      text,                        -- demo only: the plain reset token, also in body
  created_at timestamptz not null default pg_catalog.now()
);
comment on table auth.outbox is 'E-mails that would be sent (demo: read the reset token from here with psql).';

alter table auth.users owner to auth_owner;
alter table auth.password_resets owner to auth_owner;
alter table auth.outbox owner to auth_owner;
alter table auth.users enable row level security;
alter table auth.password_resets enable row level security;
alter table auth.outbox enable row level security;
revoke all on auth.users, auth.password_resets, auth.outbox from public;

-- What login returns. pgwsgi signs a function result whose composite type's
-- name ends in `jwt_claims` with its jwt-secret and answers {"token": "..."}.
do $type$
begin
  if pg_catalog.to_regtype('auth.jwt_claims') is null then
    create type auth.jwt_claims as (role text, email text, exp bigint);
  end if;
end
$type$;
alter type auth.jwt_claims owner to auth_owner;

-- Triggers on auth.users ------------------------------------------------------

-- Normalise the e-mail address and hash a new or changed password.
create or replace function auth.users_before_write() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.email := pg_catalog.lower(pg_catalog.btrim(new.email));
  if tg_op = 'INSERT' or new.pass is distinct from old.pass then
    -- bcrypt looks at the first 72 bytes only: longer passwords are refused
    -- rather than silently truncated.
    if new.pass is null or pg_catalog.length(new.pass) < 8 or pg_catalog.octet_length(new.pass) > 72 then
      raise check_violation using
        message = 'password must be 8 to 72 bytes long',
        detail = 'bcrypt only reads the first 72 bytes of a password.';
    end if;
    new.pass := extensions.crypt(new.pass, extensions.gen_salt('bf', 10));
  end if;
  return new;
end
$$;

-- The role column is checked against pg_roles at the end of the statement
-- (a constraint trigger: a CHECK constraint may not look at other tables).
create or replace function auth.users_check_role() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if not exists (
    select from pg_catalog.pg_roles r
    where r.rolname = new.role
      and not r.rolcanlogin and not r.rolsuper and not r.rolbypassrls
      and not r.rolcreaterole and not r.rolcreatedb
      and pg_catalog.pg_has_role('authenticator', r.oid, 'member')
  ) then
    raise foreign_key_violation using
      message = pg_catalog.format('role %s cannot be given to a user', new.role),
      detail = 'A user''s role must be an existing NOLOGIN role that the authenticator may switch to.';
  end if;
  return null;
end
$$;

alter function auth.users_before_write() owner to auth_owner;
alter function auth.users_check_role() owner to auth_owner;
revoke all on function auth.users_before_write(), auth.users_check_role() from public;

drop trigger if exists users_before_write on auth.users;
create trigger users_before_write
  before insert or update on auth.users
  for each row execute function auth.users_before_write();

drop trigger if exists users_check_role on auth.users;
create constraint trigger users_check_role
  after insert or update of role on auth.users
  for each row execute function auth.users_check_role();

-- Internal helpers (schema auth: not callable through the API) ----------------

-- Credentials belong in a POST body, not in a URL that access logs keep: the
-- api functions taking a password refuse GET and HEAD with a 405 (PT405).
-- Outside a pgwsgi request (psql) request.method is unset and all is allowed.
create or replace function auth.require_post() returns void
language plpgsql stable
set search_path = ''
as $$
begin
  if coalesce(nullif(pg_catalog.current_setting('request.method', true), ''), 'POST') <> 'POST' then
    raise sqlstate 'PT405' using
      message = 'Method Not Allowed',
      detail = 'This function takes credentials: call it with POST and a JSON body.';
  end if;
end
$$;

-- The claims of the user with EMAIL and PASS, or invalid_password (28P01, a 403).
-- Shared by api.login and, in user-management-sql-signing.sql, api.login_token.
create or replace function auth.authenticate(email text, pass text) returns auth.jwt_claims
language plpgsql
set search_path = ''
as $$
declare
  u auth.users;
begin
  select * into u from auth.users where auth.users.email = pg_catalog.lower(pg_catalog.btrim(authenticate.email));
  if not found then
    -- As slow as a wrong password, so the answer time does not tell which
    -- addresses have an account.
    perform extensions.crypt(authenticate.pass, extensions.gen_salt('bf', 10));
    raise invalid_password using message = 'invalid email or password';
  end if;
  if u.pass <> extensions.crypt(authenticate.pass, u.pass) then
    raise invalid_password using message = 'invalid email or password';
  end if;
  update auth.users set last_login = pg_catalog.now() where auth.users.email = u.email;
  return row(u.role, u.email, extract(epoch from pg_catalog.now())::bigint + 3600)::auth.jwt_claims;
end
$$;

alter function auth.require_post() owner to auth_owner;
alter function auth.authenticate(text, text) owner to auth_owner;
revoke all on function auth.require_post(), auth.authenticate(text, text) from public;

-- The API ---------------------------------------------------------------------

create or replace function api.signup(email text, pass text) returns void
language plpgsql security definer
set search_path = ''
as $$
begin
  perform auth.require_post();
  -- The role is fixed here: a caller cannot choose it.
  insert into auth.users (email, pass, role) values (signup.email, signup.pass, 'web_user');
exception when unique_violation then
  raise unique_violation using message = 'this email address is already registered';
end
$$;
comment on function api.signup(text, text) is 'Create an account (role web_user). Anonymous only.';

create or replace function api.login(email text, pass text) returns auth.jwt_claims
language plpgsql security definer
set search_path = ''
as $$
begin
  perform auth.require_post();
  return auth.authenticate(login.email, login.pass);
end
$$;
comment on function api.login(text, text) is 'Log in: answered {"token": "<JWT>"}, valid one hour. 403 on a wrong email or password.';

-- Answers 204 whether or not the address has an account, so it cannot be used
-- to find out who has one. A new request replaces the unused tokens of the
-- same address.
create or replace function api.request_password_reset(email text) returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  addr text := pg_catalog.lower(pg_catalog.btrim(request_password_reset.email));
  token text;
begin
  perform auth.require_post();
  if not exists (select from auth.users u where u.email = addr) then
    return;
  end if;
  delete from auth.password_resets r where r.email = addr and r.used_at is null;
  token := pg_catalog.encode(extensions.gen_random_bytes(24), 'hex');
  insert into auth.password_resets (email, token_hash, expires_at)
  values (addr, pg_catalog.sha256(pg_catalog.convert_to(token, 'UTF8')),
          pg_catalog.now() + interval '15 minutes');
  insert into auth.outbox (recipient, subject, body, token)
  values (addr, 'Reset your password',
          pg_catalog.format(E'Your password reset code is %s\nIt is valid for 15 minutes and can be used once.', token),
          token);
end
$$;
comment on function api.request_password_reset(text) is 'Send a one-time password reset token by e-mail (here: to auth.outbox). Always 204.';

create or replace function api.reset_password(email text, token text, pass text) returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  addr text;
begin
  perform auth.require_post();
  -- One statement checks and consumes the token, so two concurrent calls
  -- with the same token cannot both succeed.
  update auth.password_resets r
     set used_at = pg_catalog.now()
   where r.email = pg_catalog.lower(pg_catalog.btrim(reset_password.email))
     and r.token_hash = pg_catalog.sha256(pg_catalog.convert_to(reset_password.token, 'UTF8'))
     and r.used_at is null
     and r.expires_at > pg_catalog.now()
  returning r.email into addr;
  if addr is null then
    raise invalid_password using
      message = 'invalid or expired password reset token',
      hint = 'Tokens are valid for 15 minutes and only once: request a new one with /rpc/request_password_reset.';
  end if;
  update auth.users u set pass = reset_password.pass where u.email = addr;
end
$$;
comment on function api.reset_password(text, text, text) is 'Set a new password with a token from request_password_reset. 403 if the token is wrong, expired or used.';

create or replace function api.me(out email text, out role text)
language sql stable security definer
set search_path = ''
as $$
  select c ->> 'email', c ->> 'role'
  from (select nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::pg_catalog.jsonb as c) s
$$;
comment on function api.me() is 'The email and role of the caller''s token.';

-- Ownership and privileges ------------------------------------------------------

alter function api.signup(text, text) owner to auth_owner;
alter function api.login(text, text) owner to auth_owner;
alter function api.request_password_reset(text) owner to auth_owner;
alter function api.reset_password(text, text, text) owner to auth_owner;
alter function api.me() owner to auth_owner;

revoke all on function
  api.signup(text, text), api.login(text, text), api.request_password_reset(text),
  api.reset_password(text, text, text), api.me()
  from public;
grant execute on function
  api.signup(text, text), api.login(text, text), api.request_password_reset(text),
  api.reset_password(text, text, text)
  to web_anon;
grant execute on function api.me() to web_user;

-- Tell running pgwsgi (and PostgREST) servers to reload their schema cache.
notify pgrst, 'reload schema';

commit;
