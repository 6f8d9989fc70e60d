-- Tenancy: who owns which rows, and how PostgreSQL itself keeps districts apart.
--
-- A tenant is one government body (e.g. 重庆市南岸区). Every row that belongs to a tenant carries
-- `tenant_id`, and `tenant_id` leads its primary key and every foreign key between tenant tables.
-- That serves two purposes:
--   * row-level security can filter on a single column, and
--   * the schema can be distributed by tenant on Citus (docs/SCALING.md): every join and every
--     constraint stays inside one tenant, so all of a tenant's rows can live on one worker.
--
-- Isolation is enforced here, not only in Rust. Requests run as `nightmarket_app`, a real login
-- role that owns nothing, is not a superuser and has no BYPASSRLS. Each tenant table has RLS
-- enabled *and forced* with one policy comparing `tenant_id` to the transaction-local setting
-- `app.tenant_id`. The Rust type `db::TenantTx` sets it when it opens a transaction; code that
-- forgets to set it sees no rows at all rather than every tenant's rows.

do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'nightmarket_app') then
        -- Created without LOGIN: the server enables LOGIN with a generated password at start
        -- (db::bootstrap), so no password is ever written into a migration.
        create role nightmarket_app nologin;
    end if;
end
$$;

grant usage on schema public to nightmarket_app;

-- The tenant of the current transaction, or NULL when none is set.
-- `current_setting(name, true)` returns NULL when the setting was never made in this session and
-- '' once a transaction that set it with `is_local = true` has ended; both mean "no tenant".
create function app_current_tenant() returns uuid
    language sql
    stable
    parallel safe
as $$
    select nullif(current_setting('app.tenant_id', true), '')::uuid
$$;

-- Applies the one isolation policy to a tenant table. Every migration that creates a tenant table
-- calls it, so no table can be created with a weaker policy by accident; tests/it/isolation.rs
-- checks the catalog for tables that escaped it.
create procedure enable_tenant_isolation(tbl regclass)
    language plpgsql
as $$
begin
    execute format('alter table %s enable row level security', tbl);
    execute format('alter table %s force row level security', tbl);
    execute format(
        'create policy tenant_isolation on %s as permissive for all to public '
        'using (tenant_id = app_current_tenant()) '
        'with check (tenant_id = app_current_tenant())',
        tbl);
end
$$;
revoke all on procedure enable_tenant_isolation(regclass) from public;

-- The registry of tenants. Not tenant-owned (it has no `tenant_id`; its `id` *is* the tenant id):
-- the public home page lists tenants, and a request must resolve a slug to an id before it can
-- open a tenant transaction. Only the platform operator creates tenants (CLI, owner connection),
-- so the application role may read it and nothing more.
create table tenants (
    id         uuid        primary key default gen_random_uuid(),
    slug       text        not null
        constraint tenants_slug_key unique
        constraint tenants_slug_format check (slug ~ '^[a-z][a-z0-9-]{0,30}[a-z0-9]$'),
    name       text        not null
        constraint tenants_name_length check (char_length(name) between 1 and 100),
    -- IANA zone name; business nights, opening hours and deadlines are reckoned in it.
    -- Validated by the application (chrono-tz) because PostgreSQL cannot check it in a constraint.
    timezone   text        not null default 'Asia/Shanghai',
    created_at timestamptz not null default now()
);

grant select on tenants to nightmarket_app;
