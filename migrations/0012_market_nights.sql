-- Per-market, per-night counters of check-ins, visible ratings and live voucher uses, kept by
-- statement-level triggers in the same transaction as the rows they count (so they are never
-- behind), for the dashboards: a 90-night dashboard over 10,000 stalls reads a few thousand
-- counter rows instead of hundreds of thousands of events.
--
-- Striped: each market-night has up to eight rows (`shard`, from the stall's code), so that
-- concurrent check-ins or redemptions at one market seldom wait on the same row lock. Readers
-- add the stripes up.

create table market_nights (
    tenant_id       uuid     not null references tenants (id),
    market_id       uuid     not null,
    night           date     not null,
    shard           smallint not null constraint market_nights_shard check (shard between 0 and 7),
    opened          integer  not null default 0,
    late            integer  not null default 0,
    ratings         integer  not null default 0,
    stars           integer  not null default 0,
    redemptions     integer  not null default 0,
    subsidy_fen     bigint   not null default 0,
    consumption_fen bigint   not null default 0,
    primary key (tenant_id, market_id, night, shard),
    constraint market_nights_market_fkey foreign key (tenant_id, market_id) references markets (tenant_id, id)
);

call enable_tenant_isolation('market_nights');
grant select, insert, update on market_nights to nightmarket_app;

create function market_night_shard(code uuid) returns smallint
    language sql
    immutable
    parallel safe
as $$
    select (abs(hashtext(code::text)) % 8)::smallint
$$;

-- Adds signed deltas.
create function market_nights_add(deltas jsonb) returns void
    language sql
as $$
    insert into market_nights as m (tenant_id, market_id, night, shard, opened, late, ratings, stars, redemptions,
                                     subsidy_fen, consumption_fen)
    select d.tenant_id, d.market_id, d.night, d.shard, sum(d.opened), sum(d.late), sum(d.ratings), sum(d.stars),
           sum(d.redemptions), sum(d.subsidy_fen), sum(d.consumption_fen)
    from jsonb_to_recordset(deltas) as d (tenant_id uuid, market_id uuid, night date, shard smallint, opened int,
                                          late int, ratings int, stars int, redemptions int, subsidy_fen bigint,
                                          consumption_fen bigint)
    -- Several stalls of a market-night share a stripe: one row each, and always in the same order
    -- (so that two transactions lock stripes without deadlocking).
    group by 1, 2, 3, 4
    order by 1, 2, 3, 4
    on conflict (tenant_id, market_id, night, shard) do update
    set opened = m.opened + excluded.opened,
        late = m.late + excluded.late,
        ratings = m.ratings + excluded.ratings,
        stars = m.stars + excluded.stars,
        redemptions = m.redemptions + excluded.redemptions,
        subsidy_fen = m.subsidy_fen + excluded.subsidy_fen,
        consumption_fen = m.consumption_fen + excluded.consumption_fen
$$;

-- The deltas a set of changed rows (as JSON, from a transition table) makes, times `sign`: +1 for
-- rows as they are now, -1 for rows as they were.

-- check_ins: one per stall-night opened.
create function check_ins_deltas(rows jsonb, sign int) returns jsonb
    language sql
    stable
as $$
    select jsonb_agg(jsonb_build_object(
               'tenant_id', tenant_id, 'market_id', market_id, 'night', business_date, 'shard', shard,
               'opened', sign * n, 'late', sign * l, 'ratings', 0, 'stars', 0, 'redemptions', 0, 'subsidy_fen', 0,
               'consumption_fen', 0))
    from (select r.tenant_id, r.market_id, r.business_date, market_night_shard(r.code_id) as shard, count(*) as n,
                 count(*) filter (where r.late) as l
          from jsonb_to_recordset(rows) as r (tenant_id uuid, market_id uuid, business_date date, code_id uuid,
                                              late boolean)
          group by 1, 2, 3, 4) g
$$;

-- ratings: visible ones (not hidden), counted at their stall's market.
create function ratings_deltas(rows jsonb, sign int) returns jsonb
    language sql
    stable
as $$
    select jsonb_agg(jsonb_build_object(
               'tenant_id', g.tenant_id, 'market_id', c.market_id, 'night', g.business_date,
               'shard', market_night_shard(g.code_id), 'opened', 0, 'late', 0, 'ratings', sign * g.n,
               'stars', sign * g.s, 'redemptions', 0, 'subsidy_fen', 0, 'consumption_fen', 0))
    from (select r.tenant_id, r.code_id, r.business_date, count(*) as n, sum(r.stars) as s
          from jsonb_to_recordset(rows) as r (tenant_id uuid, code_id uuid, business_date date, stars int,
                                              hidden_at timestamptz)
          where r.hidden_at is null
          group by 1, 2, 3) g
    join codes c on c.tenant_id = g.tenant_id and c.id = g.code_id
$$;

-- redemptions: live ones (not reversed).
create function redemptions_deltas(rows jsonb, sign int) returns jsonb
    language sql
    stable
as $$
    select jsonb_agg(jsonb_build_object(
               'tenant_id', tenant_id, 'market_id', market_id, 'night', business_date, 'shard', shard,
               'opened', 0, 'late', 0, 'ratings', 0, 'stars', 0, 'redemptions', sign * n, 'subsidy_fen', sign * v,
               'consumption_fen', sign * b))
    from (select r.tenant_id, r.market_id, r.business_date, market_night_shard(r.code_id) as shard, count(*) as n,
                 sum(r.value_fen) as v, sum(r.bill_fen::bigint) as b
          from jsonb_to_recordset(rows) as r (tenant_id uuid, market_id uuid, business_date date, code_id uuid,
                                              value_fen int, bill_fen int, reversed_at timestamptz)
          where r.reversed_at is null
          group by 1, 2, 3, 4) g
$$;

-- One trigger function for the three tables: the rows as they are now count +1, as they were -1.
-- (Each statement names one transition table: PL/pgSQL plans a statement when it first runs it,
-- and a DELETE trigger has no new rows.)
create function market_nights_count() returns trigger
    language plpgsql
as $$
declare
    deltas jsonb;
begin
    if tg_op <> 'DELETE' then
        select case tg_table_name
                   when 'check_ins' then check_ins_deltas(jsonb_agg(to_jsonb(n)), 1)
                   when 'ratings' then ratings_deltas(jsonb_agg(to_jsonb(n)), 1)
                   else redemptions_deltas(jsonb_agg(to_jsonb(n)), 1)
               end
        into deltas from new_rows n;
        if deltas is not null then
            perform market_nights_add(deltas);
        end if;
    end if;
    if tg_op <> 'INSERT' then
        select case tg_table_name
                   when 'check_ins' then check_ins_deltas(jsonb_agg(to_jsonb(o)), -1)
                   when 'ratings' then ratings_deltas(jsonb_agg(to_jsonb(o)), -1)
                   else redemptions_deltas(jsonb_agg(to_jsonb(o)), -1)
               end
        into deltas from old_rows o;
        if deltas is not null then
            perform market_nights_add(deltas);
        end if;
    end if;
    return null;
end
$$;

create trigger check_ins_count_insert after insert on check_ins
    referencing new table as new_rows for each statement execute function market_nights_count();
create trigger check_ins_count_update after update on check_ins
    referencing old table as old_rows new table as new_rows for each statement execute function market_nights_count();
create trigger check_ins_count_delete after delete on check_ins
    referencing old table as old_rows for each statement execute function market_nights_count();
create trigger ratings_count_insert after insert on ratings
    referencing new table as new_rows for each statement execute function market_nights_count();
create trigger ratings_count_update after update on ratings
    referencing old table as old_rows new table as new_rows for each statement execute function market_nights_count();
create trigger ratings_count_delete after delete on ratings
    referencing old table as old_rows for each statement execute function market_nights_count();
create trigger redemptions_count_insert after insert on redemptions
    referencing new table as new_rows for each statement execute function market_nights_count();
create trigger redemptions_count_update after update on redemptions
    referencing old table as old_rows new table as new_rows for each statement execute function market_nights_count();
create trigger redemptions_count_delete after delete on redemptions
    referencing old table as old_rows for each statement execute function market_nights_count();

-- What is there already.
insert into market_nights (tenant_id, market_id, night, shard, opened, late)
select tenant_id, market_id, business_date, market_night_shard(code_id), count(*), count(*) filter (where late)
from check_ins group by 1, 2, 3, 4
on conflict (tenant_id, market_id, night, shard) do update set opened = excluded.opened, late = excluded.late;
insert into market_nights (tenant_id, market_id, night, shard, ratings, stars)
select r.tenant_id, c.market_id, r.business_date, market_night_shard(r.code_id), count(*), sum(r.stars)
from ratings r join codes c on c.tenant_id = r.tenant_id and c.id = r.code_id
where r.hidden_at is null group by 1, 2, 3, 4
on conflict (tenant_id, market_id, night, shard) do update set ratings = excluded.ratings, stars = excluded.stars;
insert into market_nights (tenant_id, market_id, night, shard, redemptions, subsidy_fen, consumption_fen)
select tenant_id, market_id, business_date, market_night_shard(code_id), count(*), sum(value_fen), sum(bill_fen)
from redemptions where reversed_at is null group by 1, 2, 3, 4
on conflict (tenant_id, market_id, night, shard) do update
set redemptions = excluded.redemptions, subsidy_fen = excluded.subsidy_fen, consumption_fen = excluded.consumption_fen;
