-- name: relations
-- Tables, views, materialized views, foreign and partitioned tables of the exposed
-- schemas (partitions themselves are never exposed). The bit mask of
-- pg_relation_is_updatable is 8 = INSERT, 4 = UPDATE, 16 = DELETE.
select n.nspname as schema,
       c.relname as name,
       c.relkind::text as kind,
       obj_description(c.oid, 'pg_class') as description,
       case when c.relkind in ('r', 'p') then 28
            else pg_relation_is_updatable(c.oid::regclass, true) end as updatable_mask,
       -- A view's primary key comes from the tables it reads (catalog/viewkeys.py).
       coalesce((select array_agg(a.attname order by array_position(con.conkey, a.attnum))
                 from pg_constraint con
                 join pg_attribute a on a.attrelid = con.conrelid and a.attnum = any(con.conkey)
                 where con.conrelid = c.oid and con.contype = 'p'),
                '{}') as primary_key
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'v', 'm', 'f', 'p')
  and not c.relispartition
  and n.nspname = any(%(schemas)s)
order by 1, 2;

-- name: columns
-- data_type, description, max_length, enum and a domain's default are what the
-- OpenAPI document shows, computed as PostgREST's schema cache does.
with recursive domains as (
  -- Each domain with the type it finally rests on (domains over domains included).
  select t.oid, t.typbasetype as base from pg_type t where t.typtype = 'd'
  union all
  select d.oid, b.typbasetype from domains d join pg_type b on b.oid = d.base and b.typtype = 'd'
),
base_types as (
  select d.oid, d.base from domains d join pg_type b on b.oid = d.base where b.typtype <> 'd'
)
select n.nspname as schema,
       c.relname as relation,
       a.attname as name,
       a.attnum as position,
       format_type(a.atttypid, a.atttypmod) as type,
       tn.nspname as type_schema,
       t.typname as type_name,
       -- The type a domain finally rests on, through domains over domains, as PostgREST's
       -- base_types: a domain over a tsvector domain is a tsvector to full-text filters.
       coalesce(bt2.typname, t.typname) as base_type,
       -- A NOT NULL domain makes its columns not nullable too.
       not (a.attnotnull or (t.typtype = 'd' and t.typnotnull)) as nullable,
       -- Generated columns have an expression but no default; identity columns have
       -- no pg_attrdef row but default to their sequence (used by missing=default).
       case when a.attgenerated <> '' then null
            when a.attidentity <> '' then
              -- Found through pg_depend: name lookups would need USAGE on the schema,
              -- which the authenticator does not have.
              (select format('nextval(%%L::regclass)', format('%%I.%%I', sn.nspname, s.relname))
               from pg_depend dep
               join pg_class s on s.oid = dep.objid and s.relkind = 'S'
               join pg_namespace sn on sn.oid = s.relnamespace
               where dep.classid = 'pg_class'::regclass and dep.refclassid = 'pg_class'::regclass
                 and dep.refobjid = a.attrelid and dep.refobjsubid = a.attnum and dep.deptype = 'i')
            -- A domain's default applies where the column has none.
            when d.adbin is null and t.typtype = 'd' then pg_get_expr(t.typdefaultbin, 0)
            else pg_get_expr(d.adbin, d.adrelid) end as "default",
       t.typcategory = 'A' as is_array,
       col_description(c.oid, a.attnum) as description,
       information_schema._pg_char_max_length(information_schema._pg_truetypid(a.*, t.*),
                                              information_schema._pg_truetypmod(a.*, t.*))::int as max_length,
       -- Built-in types are named without their modifier, domains over them by the
       -- built-in type; other types keep their full name (PostgREST's data_type).
       case when bt2.oid is not null and bt2.typnamespace = 'pg_catalog'::regnamespace
              then format_type(bt2.oid, null)
            when bt2.oid is null and t.typnamespace = 'pg_catalog'::regnamespace
              then format_type(a.atttypid, null)
            else format_type(a.atttypid, a.atttypmod) end as data_type,
       coalesce((select array_agg(e.enumlabel order by e.enumsortorder) from pg_enum e
                 where e.enumtypid = coalesce(bt2.oid, t.oid)), '{}') as enum
from pg_attribute a
join pg_class c on c.oid = a.attrelid
join pg_namespace n on n.oid = c.relnamespace
join pg_type t on t.oid = a.atttypid
join pg_namespace tn on tn.oid = t.typnamespace
left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
left join base_types dbt on dbt.oid = t.oid
left join pg_type bt2 on bt2.oid = dbt.base
where a.attnum > 0
  and not a.attisdropped
  and c.relkind in ('r', 'v', 'm', 'f', 'p')
  and not c.relispartition
  and n.nspname = any(%(schemas)s)
order by 1, 2, a.attnum;

-- name: key_constraints
-- Every primary and foreign key, in key column order: relationships come from the
-- foreign keys, and views inherit both kinds from tables in any schema (EMB-VIEWS).
select con.conname as name,
       con.contype::text as kind,
       con.conrelid::int8 as table_oid,
       n1.nspname as schema, c1.relname as "table",
       con.conkey::int[] as attnums,
       array(select a.attname from unnest(con.conkey) with ordinality k(num, ord)
             join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.num order by k.ord) as columns,
       con.confrelid::int8 as ref_oid,
       n2.nspname as ref_schema, c2.relname as ref_table,
       con.confkey::int[] as ref_attnums,
       array(select a.attname from unnest(con.confkey) with ordinality k(num, ord)
             join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.num order by k.ord) as ref_columns
from pg_constraint con
join pg_class c1 on c1.oid = con.conrelid
join pg_namespace n1 on n1.oid = c1.relnamespace
left join pg_class c2 on c2.oid = con.confrelid
left join pg_namespace n2 on n2.oid = c2.relnamespace
where con.contype in ('p', 'f')
  -- Partitions carry copies of their parent's keys; only the parent's count.
  and con.conparentid = 0
  and n1.nspname not in ('pg_catalog', 'information_schema')
order by 1, 3;

-- name: views
-- The stored query of each view of the exposed schemas and db-extra-search-path:
-- which table columns a view shows is read from it (catalog/viewkeys.py).
select c.oid::int8 as oid, n.nspname as schema, c.relname as name,
       n.nspname = any(%(schemas)s) as exposed,
       r.ev_action::text as definition,
       array(select a.attname from pg_attribute a where a.attrelid = c.oid and a.attnum > 0
             order by a.attnum) as columns
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
join pg_rewrite r on r.ev_class = c.oid and r.rulename = '_RETURN'
where c.relkind in ('v', 'm')
  and n.nspname = any(%(view_schemas)s)
order by 1;

-- name: functions
select n.nspname as schema,
       p.proname as name,
       p.oid::int8 as oid,
       coalesce(p.proargnames, '{}') as arg_names,
       coalesce(p.proallargtypes::oid[], p.proargtypes::oid[]) as arg_types_oids,
       array(select format_type(t, null) from unnest(coalesce(p.proallargtypes::oid[], p.proargtypes::oid[])) t)
         as arg_types,
       coalesce(p.proargmodes::text[], '{}') as arg_modes,
       p.pronargs as n_in_args,
       p.pronargdefaults as n_defaults,
       rn.nspname as return_type_schema,
       rt.typname as return_type,
       p.proretset as returns_set,
       p.prorows::float8 as estimated_rows,
       -- OUT/INOUT/TABLE parameters make the result a record, even a single one (R-RET-COMPOSITE).
       -- A bare `record` result (no OUT parameters) has no known columns: it is answered
       -- as a scalar, which PostgreSQL turns into JSON whole (R-RET-RECORD).
       (rt.typtype = 'c' or coalesce(p.proargmodes::text[] && '{t,b,o}', false)) as returns_composite,
       -- SET clauses of the function: isolation level (R-ISOLATION) and hoistable settings (R-HOISTED).
       (select substr(c, strpos(c, '=') + 1) from unnest(p.proconfig) c
        where c like 'default_transaction_isolation=%%') as isolation_level,
       coalesce((select array_agg(c) from unnest(p.proconfig) c), '{}') as settings,
       p.provolatile::text as volatility,
       obj_description(p.oid, 'pg_proc') as description,
       -- A function whose only argument is a table's row type is a computed field of that table.
       (select an.nspname from pg_type at join pg_class ac on ac.oid = at.typrelid
          join pg_namespace an on an.oid = ac.relnamespace
        where p.pronargs = 1 and at.oid = p.proargtypes[0] and ac.relkind in ('r', 'v', 'm', 'f', 'p'))
         as row_arg_schema,
       (select ac.relname from pg_type at join pg_class ac on ac.oid = at.typrelid
        where p.pronargs = 1 and at.oid = p.proargtypes[0] and ac.relkind in ('r', 'v', 'm', 'f', 'p'))
         as row_arg_relation,
       coalesce(rbt.typname, rt.typname) as return_base_type
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_type rt on rt.oid = p.prorettype
join pg_namespace rn on rn.oid = rt.typnamespace
left join pg_type rbt on rt.typtype = 'd' and rbt.oid = rt.typbasetype
where p.prokind = 'f'
  and n.nspname = any(%(schemas)s)
  and rt.typname not in ('trigger', 'event_trigger')
order by 1, 2;

-- name: types
-- Type names a `::cast` may name: built-in and those of the exposed and extra schemas.
select n.nspname as schema, t.typname as name
from pg_type t
join pg_namespace n on n.oid = t.typnamespace
where n.nspname = any(%(type_schemas)s)
  and t.typtype in ('b', 'c', 'd', 'e', 'r', 'm')
  and not (t.typtype = 'c' and exists (select 1 from pg_class c where c.oid = t.typrelid and c.relkind not in ('c')
                                       and n.nspname = 'pg_catalog'));

-- name: representations
-- Domain representations (M-DOMAIN-REP): implicit casts through a function between
-- a domain and json or text that the connecting role may execute.
select sn.nspname as source_schema, st.typname as source_name,
       dn.nspname as target_schema, dt.typname as target_name,
       fn.nspname as function_schema, f.proname as function_name
from pg_cast c
join pg_type st on st.oid = c.castsource
join pg_namespace sn on sn.oid = st.typnamespace
join pg_type dt on dt.oid = c.casttarget
join pg_namespace dn on dn.oid = dt.typnamespace
join pg_proc f on f.oid = c.castfunc
join pg_namespace fn on fn.oid = f.pronamespace
where c.castcontext = 'i'
  and c.castmethod = 'f'
  and has_function_privilege(c.castfunc, 'execute')
  and ((st.typtype = 'd' and c.casttarget in ('json'::regtype, 'text'::regtype))
    or (dt.typtype = 'd' and c.castsource in ('json'::regtype, 'text'::regtype)));

-- name: composite_types
-- Attributes of stand-alone composite types (CREATE TYPE ... AS), the results of
-- functions that return them: select and filters on a call's result resolve here.
select n.nspname as schema, c.relname as relation, a.attname as name, a.attnum as position,
       format_type(a.atttypid, a.atttypmod) as type, tn.nspname as type_schema, t.typname as type_name,
       coalesce(bt.typname, t.typname) as base_type, true as nullable, null::text as "default",
       t.typcategory = 'A' as is_array,
       col_description(c.oid, a.attnum) as description,
       information_schema._pg_char_max_length(information_schema._pg_truetypid(a.*, t.*),
                                              information_schema._pg_truetypmod(a.*, t.*))::int as max_length,
       case when t.typnamespace = 'pg_catalog'::regnamespace then format_type(a.atttypid, null)
            else format_type(a.atttypid, a.atttypmod) end as data_type,
       coalesce((select array_agg(e.enumlabel order by e.enumsortorder) from pg_enum e
                 where e.enumtypid = t.oid), '{}') as enum
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
join pg_type t on t.oid = a.atttypid
join pg_namespace tn on tn.oid = t.typnamespace
left join pg_type bt on t.typtype = 'd' and bt.oid = t.typbasetype
where c.relkind = 'c' and n.nspname = any(%(type_schemas)s)
order by 1, 2, a.attnum;

-- name: unique_keys
-- Column sets that are unique in each table (primary keys and UNIQUE constraints):
-- a foreign key on one of them makes a one-to-one relationship (EMB-O2O).
select n.nspname as schema, c.relname as "table",
       array(select a.attname from unnest(con.conkey) k(num)
             join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.num order by a.attname) as columns
from pg_constraint con
join pg_class c on c.oid = con.conrelid
join pg_namespace n on n.oid = c.relnamespace
where con.contype in ('p', 'u') and n.nspname not in ('pg_catalog', 'information_schema');

-- name: media_handlers
-- Custom media types (M-HANDLER-*): domains named like a media type ('text/html',
-- or '*/*' for any), and what produces them: an aggregate of the exposed schemas
-- over a relation's rows or anyelement, or a function of the exposed schemas that
-- returns one such domain. PostgREST's mediaHandlers query, with the domain's base type.
with media_types as (
  select t.oid, lower(t.typname) as media_type, t.typnamespace,
         case t.typname when '*/*' then 'application/octet-stream' else t.typname end as resolved,
         b.typname as base_type
  from pg_type t
  join pg_type b on t.typbasetype = b.oid
  where t.typbasetype <> 0
    and (t.typname ~* '^[A-Za-z0-9.-]+/[A-Za-z0-9.\+-]+$' or t.typname = '*/*')
)
select pn.nspname as handler_schema, p.proname as handler_name,
       case when a.oid = 'anyelement'::regtype then null else an.nspname end as target_schema,
       case when a.oid = 'anyelement'::regtype then null else a.typname end as target_name,
       m.media_type, m.resolved, m.base_type, true as aggregate
from media_types m
join pg_proc p on p.prorettype = m.oid
join pg_namespace pn on pn.oid = p.pronamespace
join pg_aggregate agg on agg.aggfnoid = p.oid
join pg_type a on a.oid = p.proargtypes[0]
join pg_namespace an on an.oid = a.typnamespace
where pn.nspname = any(%(schemas)s)
  and p.pronargs = 1
  and (a.oid = 'anyelement'::regtype
       or exists (select 1 from pg_class c where c.reltype = a.oid and c.relkind in ('v', 'r', 'm', 'f', 'p')))
union all
select tn.nspname, t.typname, pn.nspname, p.proname, m.media_type, m.resolved, m.base_type, false
from pg_proc p
join pg_namespace pn on pn.oid = p.pronamespace
join media_types m on p.prorettype = m.oid
join pg_type t on t.oid = m.oid
join pg_namespace tn on tn.oid = m.typnamespace
where pn.nspname = any(%(schemas)s) and not p.proretset and p.prokind = 'f';

-- name: role_settings
-- `ALTER ROLE r SET name = value` of the roles the authenticator may become, as
-- PostgREST's queryRoleSettings: only settings a user may set (or, on PostgreSQL
-- 15+, that the authenticator was granted SET on). Each request applies its
-- role's; default_transaction_isolation becomes the transaction's isolation level.
with role_setting as (
  select r.rolname, unnest(r.rolconfig) as setting
  from pg_auth_members m
  join pg_roles r on r.oid = m.roleid
  where m.member = (select oid from pg_roles where rolname = current_user)
),
kv as (
  select rolname, substr(setting, 1, strpos(setting, '=') - 1) as key, substr(setting, strpos(setting, '=') + 1) as value
  from role_setting
)
select kv.rolname as role, kv.key, kv.value
from kv
join pg_settings ps on ps.name = kv.key
where ps.context = 'user' /*SET-PRIVILEGE*/
order by 1, 2;

-- name: authenticator
-- Whether the role pgwsgi logs in as is privileged: a superuser, or one that bypasses
-- row-level security, sees every row whatever role a request switches to.
select current_user as role, r.rolsuper as superuser, r.rolbypassrls as bypassrls
from pg_roles r
where r.rolname = current_user;
