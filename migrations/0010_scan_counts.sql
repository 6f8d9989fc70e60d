-- How often each code is scanned, per business night: every page view (scans) and distinct
-- devices (visitors, by the keyed hash of the device cookie). Each server instance counts in
-- memory and adds its counts here in batches, so the scan page never waits on a write.
create table scan_nights (
    tenant_id uuid   not null references tenants (id),
    code_id   uuid   not null,
    night     date   not null,
    scans     bigint not null default 0 constraint scan_nights_scans check (scans >= 0),
    visitors  bigint not null default 0 constraint scan_nights_visitors check (visitors >= 0 and visitors <= scans),
    primary key (tenant_id, code_id, night),
    constraint scan_nights_code_fkey foreign key (tenant_id, code_id) references codes (tenant_id, id)
);

call enable_tenant_isolation('scan_nights');
grant select, insert, update on scan_nights to nightmarket_app;
create index scan_nights_night_idx on scan_nights (tenant_id, night);

-- The devices already counted as a code's visitors on a night (so a device counts once, whichever
-- instance saw it and however often it came back).
create table scan_visitors (
    tenant_id   uuid not null references tenants (id),
    code_id     uuid not null,
    night       date not null,
    device_hash text not null,
    primary key (tenant_id, code_id, night, device_hash),
    constraint scan_visitors_code_fkey foreign key (tenant_id, code_id) references codes (tenant_id, id)
);

call enable_tenant_isolation('scan_visitors');
grant select, insert on scan_visitors to nightmarket_app;
