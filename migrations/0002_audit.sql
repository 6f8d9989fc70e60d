-- The audit trail: every state change by a person or an external system, written in the same
-- transaction as the change (services call audit::record before commit).
--
-- Records form a hash chain per tenant: each row stores the hash of the previous row and its own
-- hash over its content, so editing or deleting a row breaks the chain at that point
-- (`nightmarket audit verify --tenant S`). The chain is maintained by a trigger, not by Rust, so a
-- caller cannot supply its own sequence number or hash, and every insert path is chained.
--
-- The trigger serialises audit inserts per tenant on `audit_chain_heads` until commit. Services
-- therefore write their audit record as the last statement before commit, which keeps the lock
-- short; bulk paths (a voucher rush) write many changes in one transaction and take it once.

create table audit_log (
    tenant_id    uuid        not null references tenants (id),
    seq          bigint      not null,
    at           timestamptz not null default now(),
    -- who: a signed-in user, an external system (API key), the platform operator (CLI),
    -- the platform itself (sweepers, the demo seed) or an anonymous member of the public.
    actor_kind   text        not null
        constraint audit_log_actor_kind check (actor_kind in ('user', 'external', 'operator', 'system', 'public')),
    actor_id     uuid,
    -- a human-readable label as of the time of the action (a login, an API key name)
    actor_label  text        not null,
    action       text        not null
        constraint audit_log_action_format check (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
    subject_type text        not null,
    subject_id   text        not null,
    -- the subject before and after the change, as JSON; personal data is masked before it gets here
    before       jsonb,
    after        jsonb,
    request_id   text,
    prev_hash    bytea       not null,
    hash         bytea       not null,
    primary key (tenant_id, seq)
);

create index audit_log_subject_idx on audit_log (tenant_id, subject_type, subject_id);
create index audit_log_at_idx on audit_log (tenant_id, at);

call enable_tenant_isolation('audit_log');

-- The application may append and read, never change or remove.
grant select, insert on audit_log to nightmarket_app;

-- The last link of each tenant's chain. Only the trigger (running as the table owner) touches it.
create table audit_chain_heads (
    tenant_id uuid   primary key references tenants (id),
    seq       bigint not null,
    hash      bytea  not null
);

call enable_tenant_isolation('audit_chain_heads');

-- The hash of the first link of a tenant's chain.
create function audit_genesis_hash(tenant uuid) returns bytea
    language sql
    immutable
    parallel safe
as $$
    select sha256(convert_to('nightmarket audit genesis ' || tenant::text, 'UTF8'))
$$;

-- The hash of one record: sha256(previous hash || canonical JSON of the record's content).
-- jsonb's text form is canonical (sorted keys, fixed spacing) and the array keeps fields
-- positional and NULLs explicit. The time enters as integer microseconds since the epoch so the
-- session's TimeZone cannot change it.
create function audit_record_hash(
    prev_hash bytea, tenant_id uuid, seq bigint, at timestamptz,
    actor_kind text, actor_id uuid, actor_label text, action text,
    subject_type text, subject_id text, before jsonb, after jsonb, request_id text
) returns bytea
    language sql
    immutable
    parallel safe
as $$
    select sha256(prev_hash || convert_to(jsonb_build_array(
        tenant_id, seq, (extract(epoch from at) * 1000000)::bigint,
        actor_kind, actor_id, actor_label, action,
        subject_type, subject_id, before, after, request_id
    )::text, 'UTF8'))
$$;

create function audit_log_chain() returns trigger
    language plpgsql
    security definer
    set search_path = public, pg_temp
as $$
declare
    head_seq  bigint;
    head_hash bytea;
begin
    insert into audit_chain_heads (tenant_id, seq, hash)
    values (new.tenant_id, 0, audit_genesis_hash(new.tenant_id))
    on conflict (tenant_id) do nothing;

    select h.seq, h.hash into head_seq, head_hash
    from audit_chain_heads h
    where h.tenant_id = new.tenant_id
    for update;

    -- The time of a record is the time of its transaction, whatever the caller sent.
    new.at := now();
    new.seq := head_seq + 1;
    new.prev_hash := head_hash;
    new.hash := audit_record_hash(
        new.prev_hash, new.tenant_id, new.seq, new.at,
        new.actor_kind, new.actor_id, new.actor_label, new.action,
        new.subject_type, new.subject_id, new.before, new.after, new.request_id);

    update audit_chain_heads set seq = new.seq, hash = new.hash where tenant_id = new.tenant_id;
    return new;
end
$$;

create trigger audit_log_chain
    before insert on audit_log
    for each row execute function audit_log_chain();
