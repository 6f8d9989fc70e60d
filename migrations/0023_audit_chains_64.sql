-- Sixty-four audit chains per tenant instead of sixteen (0020): with a pool of some thirty
-- connections, two of them fell in one chain (pg_backend_pid() % 16) often enough that at twice
-- the busiest market's load (bench/night.sh) writes still queued on a chain head held by another
-- transaction's remaining statements. Existing records keep their chains.
alter table audit_log drop constraint audit_log_chain_range;
alter table audit_log add constraint audit_log_chain_range check (chain between 0 and 63);

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
