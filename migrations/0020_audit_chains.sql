-- A tenant's audit trail in 64 hash chains instead of one (see 0002).
--
-- Every audited change of a tenant took the one head row's lock from its audit insert until its
-- commit, so a busy night's writes (check-ins, ratings, complaints, redemptions, claim batches)
-- committed one at a time, each flushing the WAL alone: bench/night.sh found them queueing on it
-- at twice the busiest market's load ("Lock:transactionid"), p99 past a second.
--
-- Now a record joins the chain of its database connection (pg_backend_pid() % 64), so concurrent
-- transactions mostly take different heads and commit together (with sixteen, two of a pool of
-- some thirty connections still fell in one chain often enough to queue); one transaction's records stay
-- in one chain. Each chain links as before (prev_hash, hash; the record's hash is computed as in
-- 0002 and still covers its seq); `link` is its place in its chain (1, 2, 3, … without gaps) and
-- its head holds the last link and hash, so an edited, removed or re-linked record, and the
-- newest ones removed, are found per chain as before. `seq` comes from one sequence: unique,
-- in the order records were written (the viewer's order), no longer gapless per tenant.
--
-- Existing records are chain 0, their link their seq (they were 1, 2, 3, … per tenant), so every
-- stored hash stays valid; chain 0 keeps the tenant's genesis hash, the others have their own.

create sequence audit_log_seq as bigint;
select setval('audit_log_seq', coalesce((select max(seq) from audit_log), 0) + 1, false);

alter table audit_log add column chain smallint, add column link bigint;
update audit_log set chain = 0, link = seq;
alter table audit_log alter column chain set not null, alter column link set not null;
alter table audit_log add constraint audit_log_chain_range check (chain between 0 and 63);
-- Verification walks each chain in order.
create unique index audit_log_chain_link_idx on audit_log (tenant_id, chain, link);

alter table audit_chain_heads rename column seq to link;
alter table audit_chain_heads add column chain smallint not null default 0;
alter table audit_chain_heads alter column chain drop default;
alter table audit_chain_heads drop constraint audit_chain_heads_pkey;
alter table audit_chain_heads add primary key (tenant_id, chain);

-- The hash before a chain's first link: 0002's for chain 0, one of its own for each other.
create function audit_chain_genesis(tenant uuid, chain smallint) returns bytea
    language sql
    immutable
    parallel safe
as $$
    select case when chain = 0 then audit_genesis_hash(tenant)
                else sha256(convert_to('nightmarket audit genesis ' || tenant::text || ' chain ' || chain, 'UTF8'))
           end
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
    new.hash := audit_record_hash(
        new.prev_hash, new.tenant_id, new.seq, new.at,
        new.actor_kind, new.actor_id, new.actor_label, new.action,
        new.subject_type, new.subject_id, new.before, new.after, new.request_id);

    update audit_chain_heads set link = new.link, hash = new.hash
    where tenant_id = new.tenant_id and chain = shard;
    return new;
end
$$;
