-- A campaign's page as a shopper sees it, in one round trip.
--
-- It is what a crowd reloads while it waits for the opening and all through a rush. Read as a
-- transaction (the campaign, its counts, what the shopper holds, its markets' names, the tenant's
-- setting) it took seven round trips, and on a machine where the server and PostgreSQL share the
-- processors the round trips, not the reads, were most of its cost (BENCHMARKS.md, "The voucher
-- rush"). Like scan_pages (0017) it is an ordinary (SECURITY INVOKER) function that sets the tenant
-- for its own statement's transaction, so row-level security applies to everything it reads.
--
-- One row when the tenant has the campaign (drafts too: the caller decides what a shopper may
-- see), none otherwise. `held_here` counts what `p_shopper` (null: nobody) holds of it.
create function shopper_campaign(p_tenant uuid, p_campaign uuid, p_shopper uuid)
    returns table (
        id                 uuid,
        name               text,
        value_fen          integer,
        threshold_fen      integer,
        total              integer,
        per_person         smallint,
        claim_start        timestamptz,
        claim_end          timestamptz,
        use_until          timestamptz,
        use_days           integer,
        market_ids         uuid[],
        categories         text[],
        daily_budget_fen   bigint,
        state              text,
        created_at         timestamptz,
        updated_at         timestamptz,
        claimed            bigint,
        used               bigint,
        held_here          bigint,
        market_names       text[],
        vouchers_at_yellow boolean
    )
    language plpgsql
    volatile
as $$
#variable_conflict use_column
begin
    perform set_config('app.tenant_id', p_tenant::text, true);
    return query
    select c.id, c.name, c.value_fen, c.threshold_fen, c.total, c.per_person, c.claim_start, c.claim_end,
           c.use_until, c.use_days, c.market_ids, c.categories, c.daily_budget_fen, c.state, c.created_at,
           c.updated_at,
           (select coalesce(sum(n.claimed), 0)::bigint from campaign_counts n
             where n.tenant_id = p_tenant and n.campaign_id = c.id),
           (select coalesce(sum(n.used), 0)::bigint from campaign_counts n
             where n.tenant_id = p_tenant and n.campaign_id = c.id),
           (select count(*) from vouchers v
             where v.tenant_id = p_tenant and v.campaign_id = c.id and v.shopper_id = p_shopper),
           (select coalesce(array_agg(m.name order by m.created_at, m.name), '{}') from markets m
             where m.tenant_id = p_tenant and m.id = any (c.market_ids)),
           t.vouchers_at_yellow
      from campaigns c
      left join tenant_settings t on t.tenant_id = c.tenant_id
     where c.tenant_id = p_tenant and c.id = p_campaign;
end
$$;

grant execute on function shopper_campaign(uuid, uuid, uuid) to nightmarket_app;
