-- The scan pages' data in one round trip.
--
-- A first visit of a code (a crowd's, the moment a market opens) read the key, the code, its
-- causes, tonight's check-in, the score, the newest ratings, the settings, the goods badge and
-- the credentials in a transaction of eleven round trips; on a machine where the server and
-- PostgreSQL share a processor the round trips, not the reads, were most of the cost (see
-- BENCHMARKS.md). This function reads all of it with one statement, in one call, and for as many
-- codes as are asked at once: the first visits that arrive together (a crowd at the opening) are
-- read together (services::scan::FirstVisits), so each costs a share of one statement.
--
-- It is an ordinary (SECURITY INVOKER) function: it sets the tenant for its own statement's
-- transaction exactly as `TenantTx::begin` does (`is_local`, so nothing outlives the call on a
-- pooled connection), and row-level security then applies to everything it reads, as to any
-- other statement of the application role. On Citus it would be distributed by `p_tenant`,
-- co-located with the tenant tables, so that it runs on the tenant's worker.
--
-- A row for each of `p_codes` that is a code of the tenant (revoked or not) whose key the tenant
-- still has; none for the others. The caller compares the URL's key id and signature with the
-- code's: the signature stored at issue is the one the key made, so a URL that carries it is the
-- URL we issued, exactly as a verification would find, for a fraction of the cost (the public
-- keys remain for offline checks; the cached page is matched the same way). The check-ins
-- are those of the nights in `p_nights` (a code's business night depends on its market's hours,
-- which this call is what reads: the caller passes the two candidate nights and picks).
create function scan_pages(p_tenant uuid, p_codes text[], p_nights date[], p_ratings integer)
    returns table (
        id                 uuid,
        code               text,
        vendor_id          uuid,
        application_id     uuid,
        market_id          uuid,
        slot_id            uuid,
        stall_name         text,
        category           text,
        vendor_name_masked text,
        licence_facts      jsonb,
        kid                text,
        signature          text,
        colour             text,
        revoked_at         timestamptz,
        created_at         timestamptz,
        updated_at         timestamptz,
        market_name        text,
        market_opens       time,
        market_closes      time,
        slot_code          text,
        causes             json,
        check_ins          json,
        score              jsonb,
        ratings            json,
        complaint_hotline  text,
        vouchers_at_yellow boolean,
        goods_received_on  date,
        goods_place        text,
        goods_checked      boolean,
        credentials        json
    )
    language plpgsql
    volatile
as $$
#variable_conflict use_column
begin
    perform set_config('app.tenant_id', p_tenant::text, true);
    return query
    select c.id, c.code, c.vendor_id, c.application_id, c.market_id, c.slot_id, c.stall_name,
           c.category, c.vendor_name_masked, c.licence_facts, c.kid, c.signature, c.colour, c.revoked_at,
           c.created_at, c.updated_at, m.name, m.opens_at, m.closes_at, s.code,
           (select coalesce(json_agg(x order by x.created_at), '[]')
              from (select a.id, a.kind, a.colour, a.note, a.created_at, u.display_name as created_by_name
                      from code_causes a
                      left join users u on u.tenant_id = a.tenant_id and u.id = a.created_by
                     where a.tenant_id = p_tenant and a.code_id = c.id and a.cleared_at is null) x),
           (select coalesce(json_agg(x), '[]')
              from (select i.id, i.code_id, i.business_date, i.checked_in_at, i.checked_out_at, i.late, i.distance_m
                      from check_ins i
                     where i.tenant_id = p_tenant and i.code_id = c.id and i.business_date = any (p_nights)) x),
           (select z.components from stall_scores z where z.tenant_id = p_tenant and z.code_id = c.id),
           (select coalesce(json_agg(x order by x.created_at desc), '[]')
              from (select r.id, r.code_id, r.business_date, r.stars, r.tags, r.comment, r.created_at, r.hidden_at,
                           r.hidden_reason, r.reply, r.replied_at, r.status, r.held_reason, r.decision_note
                      from ratings r
                     where r.tenant_id = p_tenant and r.code_id = c.id and r.status = 'counted'
                     order by r.created_at desc
                     limit p_ratings) x),
           t.complaint_hotline, t.vouchers_at_yellow,
           g.received_on, g.place, g.checked_at is not null,
           (select coalesce(json_agg(x order by x.kind), '[]')
              from (select d.id, d.vendor_id, d.kind, d.number, d.expires_on, d.status, d.reason, d.source,
                           d.updated_at
                      from credentials d
                     where d.tenant_id = p_tenant and d.vendor_id = c.vendor_id) x)
      from codes c
      join signing_keys k on k.tenant_id = c.tenant_id and k.kid = c.kid
      join markets m on m.tenant_id = c.tenant_id and m.id = c.market_id
      join slots s on s.tenant_id = c.tenant_id and s.id = c.slot_id
      left join tenant_settings t on t.tenant_id = c.tenant_id
      left join lateral (select o.received_on, o.place, o.checked_at
                           from goods_sources o
                          where o.tenant_id = p_tenant and o.vendor_id = c.vendor_id
                          order by o.received_on desc, o.created_at desc
                          limit 1) g on true
     where c.tenant_id = p_tenant and c.code = any (p_codes);
end
$$;

grant execute on function scan_pages(uuid, text[], date[], integer) to nightmarket_app;
