-- The numbers officials act on (dashboards, exports, public market figures): the business night
-- of a moment in SQL, a per-market roll-up of scans, and the indexes the dashboard reads by night.

-- The business night (营业日) a moment belongs to, as domain::hours::OpeningHours::business_date:
-- for a market that runs past midnight, the small hours up to closing belong to the day before.
create function business_night(at timestamptz, tz text, opens time, closes time) returns date
    language sql
    stable
    parallel safe
as $$
    select case
        when closes < opens and (at at time zone tz)::time < closes then (at at time zone tz)::date - 1
        else (at at time zone tz)::date
    end
$$;

-- Scans per market per night, added in the same statement as scan_nights (db::scan_counts::add),
-- so a 90-night dashboard reads a few hundred rows instead of one per stall per night.
create table scan_market_nights (
    tenant_id uuid   not null references tenants (id),
    market_id uuid   not null,
    night     date   not null,
    scans     bigint not null default 0 constraint scan_market_nights_scans check (scans >= 0),
    visitors  bigint not null default 0 constraint scan_market_nights_visitors check (visitors >= 0 and visitors <= scans),
    primary key (tenant_id, market_id, night),
    constraint scan_market_nights_market_fkey foreign key (tenant_id, market_id) references markets (tenant_id, id)
);

call enable_tenant_isolation('scan_market_nights');
grant select, insert, update on scan_market_nights to nightmarket_app;

insert into scan_market_nights (tenant_id, market_id, night, scans, visitors)
select s.tenant_id, c.market_id, s.night, sum(s.scans), sum(s.visitors)
from scan_nights s
join codes c on c.tenant_id = s.tenant_id and c.id = s.code_id
group by s.tenant_id, c.market_id, s.night;

-- Reading a range of nights across a tenant.
create index ratings_night_idx on ratings (tenant_id, business_date) include (code_id, stars) where hidden_at is null;
create index check_ins_tenant_night_idx on check_ins (tenant_id, business_date) include (market_id, late);
create index redemptions_night_idx on redemptions (tenant_id, business_date) include (market_id, value_fen, bill_fen)
    where reversed_at is null;
create index complaints_created_idx on complaints (tenant_id, created_at);
create index inspections_at_idx on inspections (tenant_id, inspected_at);
create index applications_submitted_idx on applications (tenant_id, first_submitted_at) where first_submitted_at is not null;
create index applications_decided_idx on applications (tenant_id, decided_at) where decided_at is not null;
create index vouchers_claimed_idx on vouchers (tenant_id, claimed_at) where claimed_at is not null;
create index code_causes_created_idx on code_causes (tenant_id, created_at);
-- The audit viewer filters by action and actor, newest first.
create index audit_log_action_idx on audit_log (tenant_id, action, seq);
create index audit_log_actor_idx on audit_log (tenant_id, actor_id, seq) where actor_id is not null;

-- The audit viewer verifies the chain as the application: it reads its tenant's head (row-level
-- security applies), never writes it.
grant select on audit_chain_heads to nightmarket_app;
