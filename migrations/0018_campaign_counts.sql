-- How many of a campaign's vouchers are claimed and used, kept as they change. The campaign's page
-- (what shoppers reload while they wait for the opening and all through a rush) used to count
-- every voucher of the campaign for each view: 50 ms for 100,000, and under a crowd's reloads the
-- pool ran dry (BENCHMARKS.md, "The voucher rush").
--
-- Counted in shards, like market_nights (0012): a transaction adds to the shard of its own
-- connection, so claim batches committing side by side do not wait for each other on one row.
-- Reading sums a campaign's few rows.
create table campaign_counts (
    tenant_id   uuid     not null references tenants (id),
    campaign_id uuid     not null,
    shard       smallint not null constraint campaign_counts_shard check (shard between 0 and 7),
    claimed     bigint   not null default 0,
    used        bigint   not null default 0,
    primary key (tenant_id, campaign_id, shard),
    constraint campaign_counts_campaign_fkey foreign key (tenant_id, campaign_id) references campaigns (tenant_id, id)
);

call enable_tenant_isolation('campaign_counts');
grant select, insert, update on campaign_counts to nightmarket_app;

-- Adds to a campaign's counts, in this connection's shard.
create function campaign_counts_bump(p_tenant uuid, p_campaign uuid, p_claimed bigint, p_used bigint) returns void
    language sql
as $$
    insert into campaign_counts as c (tenant_id, campaign_id, shard, claimed, used)
    values (p_tenant, p_campaign, (pg_backend_pid() % 8)::smallint, p_claimed, p_used)
    on conflict (tenant_id, campaign_id, shard)
    do update set claimed = c.claimed + excluded.claimed, used = c.used + excluded.used
$$;

-- Adds what a statement on vouchers changed to the counts of each campaign it touched: what the
-- new rows count less what the old ones did (old_rows / new_rows, the statement's transition
-- tables; an insert has only the new, a delete only the old).
create function campaign_counts_add() returns trigger
    language plpgsql
as $$
begin
    if tg_op = 'UPDATE' then
        perform campaign_counts_bump(d.tenant_id, d.campaign_id, sum(d.claimed), sum(d.used))
        from (select n.tenant_id, n.campaign_id, (n.shopper_id is not null)::int as claimed,
                     (n.used_at is not null)::int as used
                from new_rows n
              union all
              select o.tenant_id, o.campaign_id, -(o.shopper_id is not null)::int, -(o.used_at is not null)::int
                from old_rows o) d
        group by d.tenant_id, d.campaign_id
        having sum(d.claimed) <> 0 or sum(d.used) <> 0;
    elsif tg_op = 'INSERT' then
        perform campaign_counts_bump(tenant_id, campaign_id, count(shopper_id), count(used_at))
        from new_rows group by tenant_id, campaign_id having count(shopper_id) > 0 or count(used_at) > 0;
    else
        perform campaign_counts_bump(tenant_id, campaign_id, -count(shopper_id), -count(used_at))
        from old_rows group by tenant_id, campaign_id having count(shopper_id) > 0 or count(used_at) > 0;
    end if;
    return null;
end
$$;

create trigger vouchers_count_insert after insert on vouchers
    referencing new table as new_rows for each statement execute function campaign_counts_add();
create trigger vouchers_count_update after update on vouchers
    referencing old table as old_rows new table as new_rows for each statement execute function campaign_counts_add();
create trigger vouchers_count_delete after delete on vouchers
    referencing old table as old_rows for each statement execute function campaign_counts_add();

-- What is there already.
insert into campaign_counts (tenant_id, campaign_id, shard, claimed, used)
select tenant_id, campaign_id, 0, count(shopper_id), count(used_at)
from vouchers group by 1, 2 having count(shopper_id) > 0 or count(used_at) > 0;
