-- Markets (夜市街区) and their numbered stall slots.

create table markets (
    tenant_id   uuid             not null references tenants (id),
    id          uuid             not null default gen_random_uuid(),
    name        text             not null
        constraint markets_name_length check (char_length(name) between 1 and 100),
    address     text             not null
        constraint markets_address_length check (char_length(address) between 1 and 200),
    description text             not null default ''
        constraint markets_description_length check (char_length(description) <= 1000),
    -- The geofence is a circle: a centre in WGS-84 degrees (what a browser's geolocation reports)
    -- and a radius in metres. Coordinates are measurements, not money, so floating point is right.
    center_lat  double precision not null
        constraint markets_center_lat_range check (center_lat between -90 and 90),
    center_lng  double precision not null
        constraint markets_center_lng_range check (center_lng between -180 and 180),
    radius_m    integer          not null
        constraint markets_radius_range check (radius_m between 10 and 5000),
    -- Local wall-clock times in the tenant's zone. closes_at < opens_at means the market runs past
    -- midnight (18:00–02:00); such a night belongs to the date it started (domain::hours).
    opens_at    time             not null,
    closes_at   time             not null,
    created_at  timestamptz      not null default now(),
    updated_at  timestamptz      not null default now(),
    primary key (tenant_id, id),
    constraint markets_hours_differ check (opens_at <> closes_at)
);

call enable_tenant_isolation('markets');

grant select, insert, update on markets to nightmarket_app;

create table slots (
    tenant_id  uuid        not null references tenants (id),
    id         uuid        not null default gen_random_uuid(),
    market_id  uuid        not null,
    -- As painted on the ground: A-01, B-12. Stored upper-case.
    code       text        not null
        constraint slots_code_format check (code ~ '^[A-Z0-9]+(-[A-Z0-9]+)*$' and char_length(code) <= 16),
    category   text        not null
        constraint slots_category check (category in ('food', 'retail', 'culture', 'games', 'produce')),
    created_at timestamptz not null default now(),
    primary key (tenant_id, id),
    constraint slots_market_code_key unique (tenant_id, market_id, code),
    -- A market with slots cannot be deleted by accident; slots are removed explicitly.
    constraint slots_market_fkey foreign key (tenant_id, market_id) references markets (tenant_id, id)
);

call enable_tenant_isolation('slots');

grant select, insert, update, delete on slots to nightmarket_app;
