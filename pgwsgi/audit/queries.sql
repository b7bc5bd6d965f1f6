-- The facts `pgwsgi audit` reads (pgwsgi/audit/facts.py). Every query takes the
-- same parameters: %(authenticator)s (the role db-uri logs in as), %(anon)s
-- (db-anon-role, maybe NULL), %(schemas)s (db-schemas) and %(roles)s (the request
-- roles: the anonymous role and every role the authenticator may SET ROLE to,
-- itself included, since a JWT may name it). Only the catalog is read, so the
-- authenticator itself can run them; --admin-dsn runs them as another role.

-- name: request_roles
-- The roles reached through the authenticator's grants (each with the SET option on
-- PostgreSQL 16+), itself included, and db-anon-role. Read from pg_auth_members,
-- not pg_has_role(): that is true of every role for a superuser, who is reported
-- as such instead of as able to become everyone.
with recursive reach(oid) as (
  select r.oid from pg_catalog.pg_roles r where r.rolname = %(authenticator)s
  union
  select m.roleid
  from pg_catalog.pg_auth_members m
  join reach on m.member = reach.oid
  where coalesce((pg_catalog.to_jsonb(m) ->> 'set_option')::bool, true)
)
select r.rolname as role, r.rolsuper as superuser, r.rolbypassrls as bypassrls,
       r.rolname = %(anon)s as anonymous,
       -- A superuser may become any role without a grant.
       r.oid in (select oid from reach)
         or (select rolsuper from pg_catalog.pg_roles where rolname = %(authenticator)s) as reachable
from pg_catalog.pg_roles r
where r.oid in (select oid from reach) or r.rolname = %(anon)s
order by 1;

-- name: authenticator
select r.rolname as role, r.rolsuper as superuser, r.rolbypassrls as bypassrls,
       -- The roles whose privileges it holds without SET ROLE: before PostgreSQL 16
       -- every granted role unless NOINHERIT; since, each grant says.
       array(select g.rolname from pg_catalog.pg_auth_members m
             join pg_catalog.pg_roles g on g.oid = m.roleid
             where m.member = r.oid
               and case when pg_catalog.current_setting('server_version_num')::int >= 160000
                        then coalesce((pg_catalog.to_jsonb(m) ->> 'inherit_option')::bool, false)
                        else r.rolinherit end
             order by 1) as inherited
from pg_catalog.pg_roles r
where r.rolname = %(authenticator)s;

-- name: keywords
-- The words quote_ident() quotes: names in the fixes are quoted as PostgreSQL would.
select word from pg_catalog.pg_get_keywords() where catcode <> 'U';

-- name: schemas
-- The exposed schemas and `public`, with PUBLIC's CREATE and each request role's.
select n.nspname as schema,
       pg_catalog.pg_get_userbyid(n.nspowner) as owner,
       n.nspname = any(%(schemas)s) as exposed,
       exists (select from pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) a
               where a.grantee = 0 and a.privilege_type = 'CREATE') as public_create,
       array(select r from pg_catalog.unnest(%(roles)s::text[]) r
             where pg_catalog.has_schema_privilege(r, n.oid, 'CREATE') order by 1) as roles_create,
       array(select r from pg_catalog.unnest(%(roles)s::text[]) r
             where pg_catalog.has_schema_privilege(r, n.oid, 'USAGE') order by 1) as roles_usage
from pg_catalog.pg_namespace n
where n.nspname = any(%(schemas)s) or n.nspname = 'public'
order by 1;

-- name: relations
-- Relations of the exposed schemas and every other relation a request role holds a
-- privilege on (tables under security_invoker views are reached that way).
with rels as (
  select c.oid, n.nspname as schema, c.relname as name, c.relkind::text as kind,
         pg_catalog.format('%%I.%%I', n.nspname, c.relname) as qualified,
         n.nspname = any(%(schemas)s) as exposed,
         c.relrowsecurity as rls, c.relforcerowsecurity as force_rls,
         pg_catalog.pg_get_userbyid(c.relowner) as owner,
         coalesce((select lower(o.option_value) in ('true', 'on', 'yes', '1')
                   from pg_catalog.pg_options_to_table(c.reloptions) o
                   where o.option_name = 'security_invoker'), false) as security_invoker
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p', 'v', 'm', 'f')
    and not c.relispartition
    and n.nspname not in ('pg_catalog', 'information_schema')
    and n.nspname !~ '^pg_toast'
)
select rels.*, privileges.*
from rels
cross join lateral (
  select pg_catalog.jsonb_object_agg(r, p) filter (where p <> '') as privileges
  from pg_catalog.unnest(%(roles)s::text[]) r
  cross join lateral (
    select case when pg_catalog.has_schema_privilege(r, rels.schema, 'USAGE') then
             concat_ws(' ',
               case when pg_catalog.has_any_column_privilege(r, rels.oid, 'SELECT') then 'SELECT' end,
               case when pg_catalog.has_any_column_privilege(r, rels.oid, 'INSERT') then 'INSERT' end,
               case when pg_catalog.has_any_column_privilege(r, rels.oid, 'UPDATE') then 'UPDATE' end,
               case when pg_catalog.has_table_privilege(r, rels.oid, 'DELETE') then 'DELETE' end,
               case when pg_catalog.has_table_privilege(r, rels.oid, 'TRUNCATE') then 'TRUNCATE' end)
           else '' end as p
  ) granted
) privileges
where rels.exposed or privileges.privileges is not null
order by rels.schema, rels.name;

-- name: owned_or_granted
-- Exposed objects the authenticator owns, or on which an ACL names it directly.
select kind, object, owns, pg_catalog.string_agg(distinct privilege, ', ' order by privilege) as privileges
from (
  select 'schema' as kind, pg_catalog.quote_ident(n.nspname) as object,
         n.nspowner = a.oid as owns, acl.privilege_type as privilege
  from pg_catalog.pg_namespace n
  cross join (select oid from pg_catalog.pg_roles where rolname = %(authenticator)s) a
  left join lateral pg_catalog.aclexplode(n.nspacl) acl on acl.grantee = a.oid
  where n.nspname = any(%(schemas)s)
  union all
  select case c.relkind when 'v' then 'view' when 'm' then 'materialized view'
                        when 'f' then 'foreign table' else 'table' end,
         pg_catalog.format('%%I.%%I', n.nspname, c.relname),
         c.relowner = a.oid, acl.privilege_type
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  cross join (select oid from pg_catalog.pg_roles where rolname = %(authenticator)s) a
  left join lateral pg_catalog.aclexplode(c.relacl) acl on acl.grantee = a.oid
  where n.nspname = any(%(schemas)s) and c.relkind in ('r', 'p', 'v', 'm', 'f')
  union all
  select 'function', pg_catalog.format('%%I.%%I(%%s)', n.nspname, p.proname,
                          pg_catalog.pg_get_function_identity_arguments(p.oid)), p.proowner = a.oid, acl.privilege_type
  from pg_catalog.pg_proc p
  join pg_catalog.pg_namespace n on n.oid = p.pronamespace
  cross join (select oid from pg_catalog.pg_roles where rolname = %(authenticator)s) a
  left join lateral pg_catalog.aclexplode(p.proacl) acl on acl.grantee = a.oid
  where n.nspname = any(%(schemas)s)
) o
where owns or privilege is not null
group by kind, object, owns
order by kind, object;

-- name: policies
select pg_catalog.format('%%I.%%I', n.nspname, c.relname) as relation, p.polname as policy,
       case p.polcmd when 'r' then 'SELECT' when 'a' then 'INSERT' when 'w' then 'UPDATE'
                     when 'd' then 'DELETE' else 'ALL' end as command,
       p.polpermissive as permissive,
       -- NULL: the policy applies to PUBLIC, i.e. every role.
       case when 0 = any(p.polroles) then null
            else array(select r.rolname from pg_catalog.pg_roles r where r.oid = any(p.polroles) order by 1)
       end as roles,
       pg_catalog.pg_get_expr(p.polqual, p.polrelid) as using_expr,
       pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) as check_expr
from pg_catalog.pg_policy p
join pg_catalog.pg_class c on c.oid = p.polrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
order by 1, 2;

-- name: role_membership
-- Which request role has the privileges of which other role (for policies granted
-- to a group role, and for the owner's bypass of row-level security).
select r as role, g.rolname as has_privileges_of
from pg_catalog.unnest(%(roles)s::text[]) r
cross join pg_catalog.pg_roles g
where pg_catalog.pg_has_role(r, g.oid, 'USAGE')
order by 1, 2;

-- name: view_reads
-- Each exposed view, the tables with row-level security it reads (through other
-- views too), and the role whose rights the read is checked with: the view owner's
-- unless the view is security_invoker (then NULL: the caller's). A view read by a
-- security_invoker view keeps its reader; any other view substitutes its owner.
with recursive views as (
  select c.oid, c.relowner,
         coalesce((select lower(o.option_value) in ('true', 'on', 'yes', '1')
                   from pg_catalog.pg_options_to_table(c.reloptions) o
                   where o.option_name = 'security_invoker'), false) as invoker
  from pg_catalog.pg_class c where c.relkind = 'v'
), reads(exposed, reader, via, rel, depth) as (
  select v.oid, case when v.invoker then null else v.relowner end, v.oid, d.refobjid, 1
  from views v
  join pg_catalog.pg_class c on c.oid = v.oid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  join pg_catalog.pg_rewrite rw on rw.ev_class = v.oid
  join pg_catalog.pg_depend d on d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                             and d.objid = rw.oid
                             and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                             and d.refobjid <> v.oid
  where n.nspname = any(%(schemas)s)
  union
  select r.exposed, case when v.invoker then r.reader else v.relowner end, v.oid, d.refobjid, r.depth + 1
  from reads r
  join views v on v.oid = r.rel
  join pg_catalog.pg_rewrite rw on rw.ev_class = v.oid
  join pg_catalog.pg_depend d on d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                             and d.objid = rw.oid
                             and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                             and d.refobjid <> v.oid
  where r.depth < 16
)
select distinct
       pg_catalog.format('%%I.%%I', en.nspname, e.relname) as view,
       pg_catalog.format('%%I.%%I', vn.nspname, vc.relname) as via,
       pg_catalog.format('%%I.%%I', tn.nspname, t.relname) as tbl,
       pg_catalog.pg_get_userbyid(r.reader) as reader,
       rr.rolsuper as reader_superuser, rr.rolbypassrls as reader_bypassrls,
       pg_catalog.pg_has_role(r.reader, t.relowner, 'USAGE') as reader_owns,
       t.relforcerowsecurity as force_rls
from reads r
join pg_catalog.pg_class t on t.oid = r.rel and t.relkind in ('r', 'p') and t.relrowsecurity
join pg_catalog.pg_namespace tn on tn.oid = t.relnamespace
join pg_catalog.pg_class e on e.oid = r.exposed
join pg_catalog.pg_namespace en on en.oid = e.relnamespace
join pg_catalog.pg_class vc on vc.oid = r.via
join pg_catalog.pg_namespace vn on vn.oid = vc.relnamespace
left join pg_catalog.pg_roles rr on rr.oid = r.reader
order by 1, 3, 2;

-- name: functions
-- Functions of the exposed schemas, and SECURITY DEFINER functions elsewhere that a
-- request role may execute (outside the system schemas and extensions).
select n.nspname as schema, p.proname as name, pg_catalog.format('%%I.%%I(%%s)', n.nspname, p.proname,
                          pg_catalog.pg_get_function_identity_arguments(p.oid)) as signature,
       pg_catalog.format('%%I.%%I', n.nspname, p.proname) as qualified,
       n.nspname = any(%(schemas)s) as exposed,
       p.prosecdef as security_definer,
       pg_catalog.pg_get_userbyid(p.proowner) as owner,
       exists (select from pg_catalog.unnest(p.proconfig) s where s like 'search\_path=%%') as pinned_search_path,
       array(select r from pg_catalog.unnest(%(roles)s::text[]) r
             where pg_catalog.has_function_privilege(r, p.oid, 'EXECUTE')
               and pg_catalog.has_schema_privilege(r, n.oid, 'USAGE')
             order by 1) as executors
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
where n.nspname = any(%(schemas)s)
   or (p.prosecdef
       and n.nspname not in ('pg_catalog', 'information_schema')
       and not exists (select from pg_catalog.pg_depend d
                       where d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                         and d.objid = p.oid and d.deptype = 'e'))
order by 1, 3;

-- name: dangerous_functions
-- Sleeping, large-object, dblink and server file functions, with the request roles
-- that may execute them.
select pg_catalog.format('%%I.%%I(%%s)', n.nspname, p.proname,
                          pg_catalog.pg_get_function_identity_arguments(p.oid)) as signature,
       array(select r from pg_catalog.unnest(%(roles)s::text[]) r
             where pg_catalog.has_function_privilege(r, p.oid, 'EXECUTE')
               and pg_catalog.has_schema_privilege(r, n.oid, 'USAGE')
             order by 1) as executors
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
where (n.nspname = 'pg_catalog'
       and (p.proname in ('pg_sleep', 'pg_sleep_for', 'pg_sleep_until', 'loread', 'lowrite',
                          'pg_read_file', 'pg_read_binary_file', 'pg_stat_file', 'pg_ls_dir',
                          'pg_ls_logdir', 'pg_ls_waldir', 'pg_ls_tmpdir', 'pg_ls_archive_statusdir',
                          'pg_ls_logicalsnapdir', 'pg_ls_logicalmapdir', 'pg_ls_replslotdir')
            or p.proname like 'lo\_%%'))
   or p.proname like 'dblink%%'
   or p.proname in ('pg_file_write', 'pg_file_sync', 'pg_file_rename', 'pg_file_unlink', 'pg_logdir_ls')
order by 1;

-- name: columns
-- Columns of exposed relations with the request roles that may read them.
select pg_catalog.format('%%I.%%I', n.nspname, c.relname) as relation, a.attname as column,
       array(select r from pg_catalog.unnest(%(roles)s::text[]) r
             where pg_catalog.has_column_privilege(r, c.oid, a.attnum, 'SELECT')
               and pg_catalog.has_schema_privilege(r, n.oid, 'USAGE')
             order by 1) as readers
from pg_catalog.pg_attribute a
join pg_catalog.pg_class c on c.oid = a.attrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = any(%(schemas)s)
  and c.relkind in ('r', 'p', 'v', 'm', 'f')
  and a.attnum > 0 and not a.attisdropped
order by 1, a.attnum;

-- name: foreign_keys
-- Foreign keys of the given tables with whether an index starts with their columns.
select pg_catalog.format('%%I.%%I', n.nspname, c.relname) as relation, con.conname as constraint,
       array(select a.attname from pg_catalog.unnest(con.conkey) with ordinality k(attnum, i)
             join pg_catalog.pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum
             order by k.i) as columns,
       -- An index serves the key when its leading columns are the key's, in any order.
       exists (select from pg_catalog.pg_index i
               cross join lateral (
                 select (pg_catalog.string_to_array(i.indkey::text, ' ')::int2[])
                        [1:pg_catalog.cardinality(con.conkey)] as cols) lead
               where i.indrelid = con.conrelid
                 and lead.cols @> con.conkey and lead.cols <@ con.conkey) as indexed
from pg_catalog.pg_constraint con
join pg_catalog.pg_class c on c.oid = con.conrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where con.contype = 'f' and con.conrelid = any(%(relations)s::oid[])
order by 1, 2;

-- name: extensions
select e.extname as extension, n.nspname as schema
from pg_catalog.pg_extension e
join pg_catalog.pg_namespace n on n.oid = e.extnamespace
where n.nspname = 'public' and e.extname <> 'plpgsql'
order by 1;

-- name: claims_functions
-- Functions (outside the system schemas and extensions) whose body reads a setting:
-- calling one in a policy per row costs what current_setting() itself does. Named
-- as pg_get_expr() prints them under an empty search_path: schema-qualified.
select pg_catalog.format('%%I.%%I', n.nspname, p.proname) as name
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
where n.nspname not in ('pg_catalog', 'information_schema')
  and p.prosrc ~* 'current_setting|request\.jwt'
  and not exists (select from pg_catalog.pg_depend d
                  where d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                    and d.objid = p.oid and d.deptype = 'e')
order by 1;
