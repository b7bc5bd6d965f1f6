-- pgwsgi demo database, loaded by `make run`.
--
-- It follows the production-safe model: pgwsgi logs in as `authenticator`,
-- a role that can do nothing by itself, and for every request switches to the
-- role named by the JWT (`web_user`, `web_admin`) or to the anonymous role
-- (`web_anon`). What each of those may do is decided here, by GRANTs and by
-- row level security policies, not by pgwsgi.
--
--   private   base tables; never listed in db-schemas, so never exposed
--   api       the exposed schema (db-schemas = "api"): views only
--
-- The views are `security_invoker` (PostgreSQL 15 or later), so a query on
-- api.notes is checked against the privileges and the RLS policies of the
-- role making the request, not of the view's owner.
--
-- Safe to run again: the two schemas are dropped and rebuilt, and the roles,
-- which belong to the whole cluster, are created only when missing. Load it
-- with a superuser (or a role allowed to create roles), for example
--   psql -v ON_ERROR_STOP=1 -f deploy/demo/schema.sql "$SUPERUSER_DSN"

begin;

-- Keep reloads quiet (the DROP ... CASCADE below lists what it drops).
set local client_min_messages = warning;

-- Roles ---------------------------------------------------------------------

-- The role pgwsgi logs in as. NOINHERIT: being a member of the web roles
-- lets it SET ROLE to them, but it holds none of their privileges until it
-- does. No password here because the development server trusts local
-- connections; in production give it one (see deploy/roles.sql), e.g.
--   alter role authenticator password '...';
do $roles$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'authenticator') then
    begin
      create role authenticator login noinherit;
    exception when duplicate_object or unique_violation then
      null;  -- another session created it in the meantime
    end;
  end if;
  if not exists (select from pg_catalog.pg_roles where rolname = 'web_anon') then
    begin
      create role web_anon nologin;
    exception when duplicate_object or unique_violation then
      null;
    end;
  end if;
  if not exists (select from pg_catalog.pg_roles where rolname = 'web_user') then
    begin
      create role web_user nologin;
    exception when duplicate_object or unique_violation then
      null;
    end;
  end if;
  if not exists (select from pg_catalog.pg_roles where rolname = 'web_admin') then
    begin
      create role web_admin nologin;
    exception when duplicate_object or unique_violation then
      null;
    end;
  end if;
end
$roles$;

-- Whoever created the roles first, they have exactly these attributes.
alter role authenticator login noinherit nosuperuser nocreatedb nocreaterole nobypassrls;
alter role web_anon nologin nosuperuser nocreatedb nocreaterole nobypassrls;
alter role web_user nologin nosuperuser nocreatedb nocreaterole nobypassrls;
alter role web_admin nologin nosuperuser nocreatedb nocreaterole nobypassrls;

-- The only privileges the authenticator has: it may become these three roles.
-- (Granted only when missing, to keep reloads quiet.)
do $members$
declare
  r text;
begin
  foreach r in array array['web_anon', 'web_user', 'web_admin'] loop
    if not exists (
      select from pg_catalog.pg_auth_members m
      where m.roleid = r::regrole and m.member = 'authenticator'::regrole
    ) then
      execute format('grant %I to authenticator', r);
    end if;
  end loop;
end
$members$;

-- Schemas -------------------------------------------------------------------

drop schema if exists api cascade;
drop schema if exists private cascade;

create schema private;
create schema api;

-- PUBLIC (every role) gets nothing in our schemas. New schemas grant nothing
-- to PUBLIC anyway; the REVOKEs make the intent explicit.
revoke all on schema private from public;
revoke all on schema api from public;
-- Nobody but the owner may create objects in `public` (the default since
-- PostgreSQL 15, repeated for older clusters). USAGE on `public` is left as it
-- is: nothing of the demo lives there, and this script may be loaded into a
-- database that other applications share.
do $public$
begin
  if exists (select from pg_catalog.pg_namespace where nspname = 'public') then
    revoke create on schema public from public;
  end if;
end
$public$;

-- The caller's identity ---------------------------------------------------------

-- The `sub` claim of the current request's JWT, or NULL when there is none.
-- pgwsgi sets request.jwt.claims with set_config(..., true) in every request
-- transaction; outside one the setting is missing (NULL) or, once a
-- transaction in this session has set it, the empty string, hence the nullif.
-- The policies call it as (select private.current_sub()): a scalar subquery
-- runs once per statement (an initplan), where a bare call, inlined or not,
-- would read the setting and parse the JSON again for every row.
create function private.current_sub() returns text
language sql stable
as $$
  select nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::json ->> 'sub'
$$;
comment on function private.current_sub() is 'The sub claim of the current request''s JWT, or NULL.';

revoke execute on function private.current_sub() from public;
grant execute on function private.current_sub() to web_anon, web_user, web_admin;

-- Functions no request needs ------------------------------------------------
-- Every role may call these by default: sleeping holds a pooled connection, and
-- large objects are storage outside every table and policy. `pgwsgi audit`
-- reports them (dangerous_function_executable) until they are revoked.
do $$
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
$$;

-- Base tables ---------------------------------------------------------------

create table private.users (
  sub          text primary key,
  display_name text not null,
  is_admin     boolean not null default false
);

create table private.notes (
  id         bigint generated always as identity primary key,
  owner      text not null default private.current_sub()
             references private.users (sub),
  title      text not null,
  body       text not null default '',
  is_public  boolean not null default false,
  created_at timestamptz not null default now()
);
create index notes_owner_idx on private.notes (owner);

-- FORCE makes the policies apply to the tables' owner as well (superusers
-- and BYPASSRLS roles still bypass them). Foreign key checks are not
-- affected by row level security.
alter table private.users enable row level security;
alter table private.users force row level security;
alter table private.notes enable row level security;
alter table private.notes force row level security;

-- users: each user sees their own row, the admin sees and edits all rows,
-- the anonymous role has no policy (and no privilege), so it sees nothing.
create policy users_select_own on private.users
  for select to web_user
  using (sub = (select private.current_sub()));
create policy users_admin_all on private.users
  for all to web_admin
  using (true) with check (true);

-- notes: anonymous visitors read public notes; a user reads public notes and
-- their own, and writes only their own; the admin reads and writes all.
create policy notes_anon_read on private.notes
  for select to web_anon
  using (is_public);
create policy notes_user_read on private.notes
  for select to web_user
  using (is_public or owner = (select private.current_sub()));
create policy notes_user_insert on private.notes
  for insert to web_user
  with check (owner = (select private.current_sub()));
create policy notes_user_update on private.notes
  for update to web_user
  using (owner = (select private.current_sub()))
  with check (owner = (select private.current_sub()));
create policy notes_user_delete on private.notes
  for delete to web_user
  using (owner = (select private.current_sub()));
create policy notes_admin_all on private.notes
  for all to web_admin
  using (true) with check (true);

-- Exposed views ---------------------------------------------------------------

create view api.users with (security_invoker = true) as
  select sub, display_name, is_admin
  from private.users;
comment on view api.users is 'People who can own notes. A user sees their own row; the admin sees all.';

create view api.notes with (security_invoker = true) as
  select id, owner, title, body, is_public, created_at
  from private.notes;
comment on view api.notes is 'Notes. Public notes are visible to everyone; private ones to their owner and the admin.';

-- Privileges -----------------------------------------------------------------
-- With security_invoker views the caller needs the privilege on the view and
-- on the table under it, and USAGE on both schemas.

grant usage on schema api to web_anon, web_user, web_admin;
grant usage on schema private to web_anon, web_user, web_admin;

-- Anonymous: read api.notes (the policy narrows it to public notes).
grant select on api.notes, private.notes to web_anon;

-- Users: read both, write notes (the policies narrow it to their own).
grant select on api.users, private.users to web_user;
grant select, insert, update, delete on api.notes, private.notes to web_user;

-- Admin: everything on both.
grant select, insert, update, delete on api.users, private.users to web_admin;
grant select, insert, update, delete on api.notes, private.notes to web_admin;

-- Seed data ---------------------------------------------------------------------
-- Loaded as the superuser, which is not subject to row level security.

insert into private.users (sub, display_name, is_admin) values
  ('alice', 'Alice', false),
  ('bob',   'Bob',   false),
  ('admin', 'Admin', true);

insert into private.notes (id, owner, title, body, is_public) overriding system value values
  (1, 'alice', 'Shopping list',       'Milk, eggs, coffee.',     false),
  (2, 'alice', 'Diary',               'Tried pgwsgi today.',     false),
  (3, 'alice', 'Hello, world',        'This note is public.',    true),
  (4, 'bob',   'Gift ideas',          'A book for Alice.',       false),
  (5, 'bob',   'Bob''s reading list', 'The PostgreSQL manual.',  true);

-- The rows above chose their ids; make the next generated one follow them.
select pg_catalog.setval(pg_catalog.pg_get_serial_sequence('private.notes', 'id'),
                         (select max(id) from private.notes));

-- Tell every running pgwsgi (and PostgREST) to reload its schema cache; the
-- notification is delivered when the transaction commits.
notify pgrst, 'reload schema';

commit;
