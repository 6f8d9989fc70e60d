-- A campaign's counts in 64 shards instead of 8 (0018). A transaction holds its shard's row from
-- the statement that claims or uses a voucher until it commits; a redemption does that early (the
-- voucher is marked used first, so that a shopper's two payments at once take two vouchers) and
-- then writes the redemption, its audit record and its live notice. At twice the busiest
-- market's load (bench/night.sh) redemptions and claim batches queued on the eight rows
-- ("update vouchers set used_at … blocked by insert into redemptions"). Reading sums a campaign's
-- rows, however many.
alter table campaign_counts drop constraint campaign_counts_shard;
alter table campaign_counts add constraint campaign_counts_shard check (shard between 0 and 63);

create or replace function campaign_counts_bump(p_tenant uuid, p_campaign uuid, p_claimed bigint, p_used bigint) returns void
    language sql
as $$
    insert into campaign_counts as c (tenant_id, campaign_id, shard, claimed, used)
    values (p_tenant, p_campaign, (pg_backend_pid() % 64)::smallint, p_claimed, p_used)
    on conflict (tenant_id, campaign_id, shard)
    do update set claimed = c.claimed + excluded.claimed, used = c.used + excluded.used
$$;
