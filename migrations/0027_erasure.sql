-- A departed vendor's personal data erased on request (PIPL art. 47), the audit trail kept.
--
-- The trail must outlive the person's values in it without breaking its hash chains. From this
-- migration on a record is hashed in two parts (hash_version 2): its personal content (the actor's
-- label and the values before and after) into `content_hash`, and the chain hash over the rest of
-- the record and that content hash. Erasing a person's values from a record (`audit_redact`)
-- empties its content and stamps `redacted_at`; the record keeps its content hash, so its chain
-- hash still verifies, and `verify` holds every record that was not redacted to its content hash
-- (an edit of the content is still found). What happened, to what, when and by whose account stays.
-- Records written before this migration (version 1) hash their content directly and cannot be
-- redacted without a break: erasure reports how many of the person's records are of that kind.
alter table audit_log
    add column hash_version smallint not null default 1
        constraint audit_log_hash_version check (hash_version in (1, 2)),
    add column content_hash bytea,
    add column redacted_at  timestamptz,
    add constraint audit_log_v2_content check (hash_version = 1 or content_hash is not null),
    add constraint audit_log_redacted_v2 check (redacted_at is null or hash_version = 2);

create function audit_content_hash(actor_label text, before jsonb, after jsonb) returns bytea
    language sql
    immutable
    parallel safe
as $$
    select sha256(convert_to(jsonb_build_array(actor_label, before, after)::text, 'UTF8'))
$$;

create function audit_record_hash_v2(
    prev_hash bytea, tenant_id uuid, seq bigint, at timestamptz,
    actor_kind text, actor_id uuid, action text,
    subject_type text, subject_id text, content_hash bytea, request_id text
) returns bytea
    language sql
    immutable
    parallel safe
as $$
    select sha256(prev_hash || convert_to(jsonb_build_array(
        2, tenant_id, seq, (extract(epoch from at) * 1000000)::bigint,
        actor_kind, actor_id, action, subject_type, subject_id, encode(content_hash, 'hex'), request_id
    )::text, 'UTF8'))
$$;

create or replace function audit_log_chain() returns trigger
    language plpgsql
    security definer
    set search_path = public, pg_temp
as $$
declare
    shard     smallint := (pg_backend_pid() % 64)::smallint;
    head_link bigint;
    head_hash bytea;
begin
    insert into audit_chain_heads (tenant_id, chain, link, hash)
    values (new.tenant_id, shard, 0, audit_chain_genesis(new.tenant_id, shard))
    on conflict (tenant_id, chain) do nothing;

    select h.link, h.hash into head_link, head_hash
    from audit_chain_heads h
    where h.tenant_id = new.tenant_id and h.chain = shard
    for update;

    -- The time of a record is the time of its transaction, whatever the caller sent; its place
    -- is the trigger's to give.
    new.at := now();
    new.seq := nextval('audit_log_seq');
    new.chain := shard;
    new.link := head_link + 1;
    new.prev_hash := head_hash;
    new.hash_version := 2;
    new.redacted_at := null;
    new.content_hash := audit_content_hash(new.actor_label, new.before, new.after);
    new.hash := audit_record_hash_v2(
        new.prev_hash, new.tenant_id, new.seq, new.at,
        new.actor_kind, new.actor_id, new.action,
        new.subject_type, new.subject_id, new.content_hash, new.request_id);

    update audit_chain_heads set link = new.link, hash = new.hash
    where tenant_id = new.tenant_id and chain = shard;
    return new;
end
$$;

-- Empties the personal content of the current tenant's records `seqs` (version 2, not yet
-- redacted); returns how many. Only within the transaction that approved erasure request
-- `request` (it must have been marked approved in this very transaction): the application may not
-- update the trail otherwise, nor redact outside an erasure an admin decided.
create function audit_redact(request uuid, seqs bigint[]) returns bigint
    language plpgsql
    security definer
    set search_path = public, pg_temp
as $$
declare
    tenant uuid := app_current_tenant();
    n      bigint;
begin
    if tenant is null then
        raise exception 'audit_redact: no tenant set';
    end if;
    if not exists (select 1 from erasure_requests r
                   where r.tenant_id = tenant and r.id = request and r.state = 'approved'
                     and r.xmin = pg_current_xact_id()::xid) then
        raise exception 'audit_redact: only in the transaction that approves erasure request %', request;
    end if;
    update audit_log set actor_label = '', before = null, after = null, redacted_at = now()
    where tenant_id = tenant and seq = any(seqs) and hash_version = 2 and redacted_at is null;
    get diagnostics n = row_count;
    return n;
end
$$;

revoke all on function audit_redact(uuid, bigint[]) from public;
grant execute on function audit_redact(uuid, bigint[]) to nightmarket_app;

-- A vendor's request to be forgotten, and the official's decision.
create table erasure_requests (
    tenant_id     uuid        not null references tenants (id),
    id            uuid        not null,
    vendor_id     uuid        not null,
    reason        text        not null constraint erasure_requests_reason check (char_length(reason) <= 500),
    state         text        not null default 'pending'
        constraint erasure_requests_state check (state in ('pending', 'approved', 'refused', 'withdrawn')),
    created_at    timestamptz not null,
    decided_by    uuid,
    decided_at    timestamptz,
    decision_note text        not null default '' constraint erasure_requests_note check (char_length(decision_note) <= 500),
    -- What the erasure removed, as counts (no values).
    erased        jsonb,
    primary key (tenant_id, id),
    constraint erasure_requests_vendor_fkey foreign key (tenant_id, vendor_id) references users (tenant_id, id)
);

create unique index erasure_requests_pending on erasure_requests (tenant_id, vendor_id) where state = 'pending';

call enable_tenant_isolation('erasure_requests');
grant select, insert, update on erasure_requests to nightmarket_app;

-- What an erasure removes outright.
grant delete on payee_accounts to nightmarket_app;
grant delete on credential_renewals to nightmarket_app;
grant delete on notifications to nightmarket_app;
grant delete on credit_records to nightmarket_app;
