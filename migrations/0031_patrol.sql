-- Patrol without a signal: an inspection recorded on an inspector's phone while offline is sent
-- when the connection returns. Its id is made on the phone (so a second sending finds it), its
-- time is when it was recorded; these say when it reached the server and what the phone knew.
alter table inspections
    add column synced_at     timestamptz,
    -- When the phone had downloaded the stalls it checked against.
    add column downloaded_at timestamptz,
    add constraint inspections_synced_after check (synced_at is null or synced_at >= inspected_at - interval '5 minutes');

-- How old a phone's copy of a market may grow before the patrol app warns that it is stale.
alter table tenant_settings
    add column patrol_stale_hours integer not null default 12
        constraint tenant_settings_patrol_stale_hours check (patrol_stale_hours between 1 and 168);
