-- Supervision: nightly check-in (打卡签到), credentials bound to the code (the health binding),
-- inspections with penalty points and appeals.
--
-- Every source of a code's colour (an official's suspension, a lapsed credential, points over the
-- monthly allowance) is an open row of code_causes; services::supervision derives the causes from
-- these tables and domain::code::colour_of derives the colour from the causes.

alter table tenant_settings
    -- How early before opening a vendor may check in.
    add column checkin_early_minutes integer not null default 60
        constraint tenant_settings_checkin_early check (checkin_early_minutes between 0 and 240),
    -- A check-in this long after opening counts as late.
    add column late_after_minutes integer not null default 30
        constraint tenant_settings_late_after check (late_after_minutes between 0 and 240),
    -- A credential this close to expiry turns the code yellow.
    add column expiry_warning_days integer not null default 14
        constraint tenant_settings_expiry_warning check (expiry_warning_days between 1 and 90),
    -- Penalty points a vendor may lose in a calendar month before the code turns red (Lanzhou: 12).
    add column monthly_points integer not null default 12
        constraint tenant_settings_monthly_points check (monthly_points between 1 and 100),
    -- How long after a deduction a vendor may appeal it.
    add column appeal_days integer not null default 7
        constraint tenant_settings_appeal_days check (appeal_days between 1 and 60);

-- One check-in per code per business night, enforced here (a night past midnight belongs to the
-- date it started, in the tenant's zone: domain::hours).
create table check_ins (
    tenant_id      uuid             not null references tenants (id),
    id             uuid             not null default gen_random_uuid(),
    code_id        uuid             not null,
    vendor_id      uuid             not null,
    market_id      uuid             not null,
    business_date  date             not null,
    checked_in_at  timestamptz      not null default now(),
    lat            double precision not null,
    lng            double precision not null,
    accuracy_m     double precision,
    -- From the market's centre, when checking in.
    distance_m     double precision not null,
    late           boolean          not null,
    checked_out_at timestamptz,
    primary key (tenant_id, id),
    constraint check_ins_once_per_night unique (tenant_id, code_id, business_date),
    constraint check_ins_code_fkey foreign key (tenant_id, code_id) references codes (tenant_id, id),
    constraint check_ins_vendor_fkey foreign key (tenant_id, vendor_id) references users (tenant_id, id),
    constraint check_ins_market_fkey foreign key (tenant_id, market_id) references markets (tenant_id, id),
    constraint check_ins_out_after_in check (checked_out_at is null or checked_out_at >= checked_in_at)
);

create index check_ins_night_idx on check_ins (tenant_id, market_id, business_date);

call enable_tenant_isolation('check_ins');
grant select, insert, update on check_ins to nightmarket_app;

-- A vendor's credentials. Which are required depends on what the vendor sells
-- (domain::credential::required); any required one invalid or expired turns every code red.
create table credentials (
    tenant_id  uuid        not null references tenants (id),
    id         uuid        not null default gen_random_uuid(),
    vendor_id  uuid        not null,
    kind       text        not null
        constraint credentials_kind check (kind in ('health', 'food_licence', 'business_licence')),
    number     text        not null default '',
    expires_on date,
    -- 'expired' is set by the sweeper when expires_on passes; 'invalid' by an external system.
    status     text        not null default 'valid'
        constraint credentials_status check (status in ('valid', 'invalid', 'expired')),
    reason     text        not null default '',
    -- Where the current state came from.
    source     text        not null
        constraint credentials_source check (source in ('application', 'renewal', 'external', 'official')),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (tenant_id, id),
    constraint credentials_one_per_kind unique (tenant_id, vendor_id, kind),
    constraint credentials_vendor_fkey foreign key (tenant_id, vendor_id) references users (tenant_id, id)
);

call enable_tenant_isolation('credentials');
grant select, insert, update on credentials to nightmarket_app;

-- A renewal a vendor uploads; an official checks it against the document and accepts or refuses.
create table credential_renewals (
    tenant_id      uuid        not null references tenants (id),
    id             uuid        not null,
    vendor_id      uuid        not null,
    kind           text        not null
        constraint credential_renewals_kind check (kind in ('health', 'food_licence', 'business_licence')),
    number         text        not null,
    expires_on     date        not null,
    content_type   text        not null
        constraint credential_renewals_type check (content_type in ('image/jpeg', 'image/png', 'application/pdf')),
    document_enc   bytea       not null,
    state          text        not null default 'pending'
        constraint credential_renewals_state check (state in ('pending', 'accepted', 'refused')),
    decided_by     uuid,
    decided_at     timestamptz,
    decision_note  text        not null default '',
    created_at     timestamptz not null default now(),
    primary key (tenant_id, id),
    constraint credential_renewals_vendor_fkey foreign key (tenant_id, vendor_id) references users (tenant_id, id),
    constraint credential_renewals_decider_fkey foreign key (tenant_id, decided_by) references users (tenant_id, id)
);

create index credential_renewals_pending_idx on credential_renewals (tenant_id, created_at) where state = 'pending';

call enable_tenant_isolation('credential_renewals');
grant select, insert, update on credential_renewals to nightmarket_app;

-- Keys with which external systems (a health-code or licensing system, a 12345 hotline) call the
-- API. The secret is shown once and kept sealed; requests are signed with it (HMAC-SHA256).
create table api_keys (
    tenant_id    uuid        not null references tenants (id),
    id           uuid        not null,
    key_id       text        not null
        constraint api_keys_key_id_format check (key_id ~ '^nmk_[0-9a-z]{16}$'),
    name         text        not null
        constraint api_keys_name_length check (char_length(name) between 1 and 60),
    secret_enc   bytea       not null,
    created_by   uuid,
    created_at   timestamptz not null default now(),
    revoked_at   timestamptz,
    last_used_at timestamptz,
    primary key (tenant_id, id),
    constraint api_keys_key_id_key unique (tenant_id, key_id),
    constraint api_keys_creator_fkey foreign key (tenant_id, created_by) references users (tenant_id, id)
);

call enable_tenant_isolation('api_keys');
grant select, insert, update on api_keys to nightmarket_app;

-- Every credential event received, by the sender's event id: a repeat with the same body is
-- answered as already applied, a repeat with another body is refused.
create table credential_events (
    tenant_id   uuid        not null references tenants (id),
    event_id    text        not null
        constraint credential_events_id_length check (char_length(event_id) between 1 and 100),
    api_key_id  uuid        not null,
    body_sha256 bytea       not null,
    vendor_id   uuid        not null,
    credential  text        not null,
    status      text        not null,
    occurred_at timestamptz not null,
    received_at timestamptz not null default now(),
    primary key (tenant_id, event_id),
    constraint credential_events_key_fkey foreign key (tenant_id, api_key_id) references api_keys (tenant_id, id),
    constraint credential_events_vendor_fkey foreign key (tenant_id, vendor_id) references users (tenant_id, id)
);

call enable_tenant_isolation('credential_events');
grant select, insert on credential_events to nightmarket_app;

-- The problems an inspector can record, with the points each costs (the tenant's scheme).
create table inspection_problems (
    tenant_id uuid    not null references tenants (id),
    code      text    not null
        constraint inspection_problems_code_format check (code ~ '^[a-z][a-z0-9_]{1,31}$'),
    label     text    not null
        constraint inspection_problems_label_length check (char_length(label) between 1 and 40),
    points    integer not null
        constraint inspection_problems_points check (points between 1 and 100),
    active    boolean not null default true,
    primary key (tenant_id, code)
);

call enable_tenant_isolation('inspection_problems');
grant select, insert, update on inspection_problems to nightmarket_app;

create table inspections (
    tenant_id    uuid        not null references tenants (id),
    id           uuid        not null,
    code_id      uuid        not null,
    vendor_id    uuid        not null,
    market_id    uuid        not null,
    official_id  uuid        not null,
    inspected_at timestamptz not null default now(),
    passed       boolean     not null,
    notes        text        not null default ''
        constraint inspections_notes_length check (char_length(notes) <= 500),
    primary key (tenant_id, id),
    constraint inspections_code_fkey foreign key (tenant_id, code_id) references codes (tenant_id, id),
    constraint inspections_vendor_fkey foreign key (tenant_id, vendor_id) references users (tenant_id, id),
    constraint inspections_market_fkey foreign key (tenant_id, market_id) references markets (tenant_id, id),
    constraint inspections_official_fkey foreign key (tenant_id, official_id) references users (tenant_id, id)
);

create index inspections_code_idx on inspections (tenant_id, code_id, inspected_at desc);

call enable_tenant_isolation('inspections');
grant select, insert on inspections to nightmarket_app;

create table inspection_photos (
    tenant_id     uuid        not null references tenants (id),
    id            uuid        not null,
    inspection_id uuid        not null,
    content_type  text        not null
        constraint inspection_photos_type check (content_type in ('image/jpeg', 'image/png', 'application/pdf')),
    size_bytes    integer     not null
        constraint inspection_photos_size check (size_bytes between 1 and 5242880),
    data_enc      bytea       not null,
    primary key (tenant_id, id),
    constraint inspection_photos_inspection_fkey foreign key (tenant_id, inspection_id) references inspections (tenant_id, id)
);

call enable_tenant_isolation('inspection_photos');
grant select, insert on inspection_photos to nightmarket_app;

-- Points taken off a vendor for a problem found; they count against the calendar month (in the
-- tenant's zone) of the inspection. A cancelled deduction gives the points back.
create table deductions (
    tenant_id     uuid        not null references tenants (id),
    id            uuid        not null default gen_random_uuid(),
    inspection_id uuid        not null,
    vendor_id     uuid        not null,
    problem_code  text        not null,
    problem_label text        not null,
    points        integer     not null
        constraint deductions_points check (points > 0),
    -- The first day of the month the points count against.
    month         date        not null
        constraint deductions_month_first check (extract(day from month) = 1),
    created_at    timestamptz not null default now(),
    cancelled_at  timestamptz,
    primary key (tenant_id, id),
    constraint deductions_inspection_fkey foreign key (tenant_id, inspection_id) references inspections (tenant_id, id),
    constraint deductions_vendor_fkey foreign key (tenant_id, vendor_id) references users (tenant_id, id)
);

create index deductions_vendor_month_idx on deductions (tenant_id, vendor_id, month) where cancelled_at is null;

call enable_tenant_isolation('deductions');
grant select, insert, update on deductions to nightmarket_app;

-- A vendor's appeal against one deduction; an official upholds or cancels it, with a reason.
create table appeals (
    tenant_id    uuid        not null references tenants (id),
    id           uuid        not null default gen_random_uuid(),
    deduction_id uuid        not null,
    vendor_id    uuid        not null,
    text         text        not null
        constraint appeals_text_length check (char_length(text) between 2 and 500),
    filed_at     timestamptz not null default now(),
    state        text        not null default 'pending'
        constraint appeals_state check (state in ('pending', 'upheld', 'cancelled')),
    decided_by   uuid,
    decided_at   timestamptz,
    reason       text        not null default '',
    primary key (tenant_id, id),
    -- One appeal per deduction.
    constraint appeals_one_per_deduction unique (tenant_id, deduction_id),
    constraint appeals_deduction_fkey foreign key (tenant_id, deduction_id) references deductions (tenant_id, id),
    constraint appeals_vendor_fkey foreign key (tenant_id, vendor_id) references users (tenant_id, id),
    constraint appeals_decider_fkey foreign key (tenant_id, decided_by) references users (tenant_id, id)
);

create index appeals_pending_idx on appeals (tenant_id, filed_at) where state = 'pending';

call enable_tenant_isolation('appeals');
grant select, insert, update on appeals to nightmarket_app;
