-- Several instances, one truth.
--
-- The limits on guessable and anonymous things (sign-in, SMS codes, shoppers' ratings and
-- complaints) hold for the whole deployment: each limiter key keeps its GCRA "theoretical arrival
-- time" here, advanced by one atomic upsert per attempt, whichever instance answers. Unlogged: a
-- crash forgets the counts, which only lets a few more attempts through, and spares the WAL. The
-- key is an HMAC of the limiter and what it limits (a login, an address, a device), so no phone
-- number or address is stored. Not a tenant table: a limiter may count across tenants (an
-- address), and no row names a tenant.
create unlogged table throttle_slots (
    key bytea       primary key,
    tat timestamptz not null
);

grant select, insert, update, delete on throttle_slots to nightmarket_app;

-- Periodic jobs run once per period across every instance: the instance that takes a job's
-- period here does it; the others see the row and skip. `done_at` tells the operator when it last
-- finished.
create table job_runs (
    job        text        not null,
    period     text        not null,
    started_at timestamptz not null default now(),
    done_at    timestamptz,
    primary key (job, period)
);

grant select, insert, update, delete on job_runs to nightmarket_app;
