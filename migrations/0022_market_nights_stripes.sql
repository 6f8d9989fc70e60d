-- A market-night's counters in 64 stripes instead of 8 (0012). Each check-in, rating and
-- redemption holds its stall's stripe from its insert until it commits (after its audit record
-- and live notice); at one market of 10,000 stalls and twice the busiest market's load
-- (bench/night.sh) they queued on the eight ("insert into redemptions … blocked by insert into
-- audit_log"). A stall's events now land in another stripe than before; readers add all stripes
-- up, and a removal subtracts from the stripe of today's function, so sums stay exact (a stripe
-- may go below zero; none is read alone).
alter table market_nights drop constraint market_nights_shard;
alter table market_nights add constraint market_nights_shard check (shard between 0 and 63);

create or replace function market_night_shard(code uuid) returns smallint
    language sql
    immutable
    parallel safe
as $$
    select (abs(hashtext(code::text)) % 64)::smallint
$$;
