-- The yardstick of bench/flash.sh: the best plain-SQL claim, one transaction per claim, as pgbench
-- runs it (64 clients). Pre-made voucher rows; a free one is taken with FOR UPDATE SKIP LOCKED,
-- searched from a random place (the first at or after it, else the first before it): searching
-- from the start instead has every client walk past the same claimed and locked rows, and ran at
-- under half the rate (BENCHMARKS.md). A person holds at most one (flash_reference.holders, the
-- unique holder per campaign: a repeat person's insert does nothing, and so does the rest).
-- Persons are drawn at random from :shoppers, so repeats come as they do in the rush; a claim
-- that finds nothing free is rolled back, leaving no holder without a voucher.
\set p random(1, :shoppers)
\set r random(1, :vouchers)
begin;
with fresh as (
    insert into flash_reference.holders (person) values (:p) on conflict do nothing returning person
), pick as (
    select coalesce(
        (select v.seq from flash_reference.vouchers v where v.holder is null and v.seq >= :r
         order by v.seq limit 1 for update skip locked),
        (select v.seq from flash_reference.vouchers v where v.holder is null and v.seq < :r
         order by v.seq limit 1 for update skip locked)) as seq
    from fresh
), taken as (
    update flash_reference.vouchers v set holder = :p, claimed_at = clock_timestamp()
    from pick where v.seq = pick.seq returning v.seq
)
select count(*) as got from taken \gset
\if :got
commit;
\else
rollback;
\endif
