-- Consumption vouchers (消费券): a tenant's campaigns, the shoppers who claim (known by a verified
-- phone number, sealed and blind-indexed), and the vouchers themselves — made in full when a
-- campaign is scheduled, so that a claim takes an existing row and can never over-issue.

-- A shopper: a verified mobile number, nothing else.
create table shoppers (
    tenant_id    uuid        not null references tenants (id),
    id           uuid        not null default gen_random_uuid(),
    phone_enc    bytea       not null,
    phone_index  text        not null,
    phone_masked text        not null,
    created_at   timestamptz not null default now(),
    primary key (tenant_id, id),
    constraint shoppers_phone_key unique (tenant_id, phone_index)
);

call enable_tenant_isolation('shoppers');
grant select, insert on shoppers to nightmarket_app;

-- A voucher campaign. Money is in fen. The stored state is what an admin chose; "running" is a
-- scheduled campaign inside its claim window (services::vouchers::effective_state).
create table campaigns (
    tenant_id        uuid        not null references tenants (id),
    id               uuid        not null default gen_random_uuid(),
    name             text        not null constraint campaigns_name check (char_length(name) between 2 and 60),
    -- 满 threshold 减 value: a bill of at least threshold_fen takes value_fen off.
    value_fen        integer     not null constraint campaigns_value check (value_fen between 1 and 100000),
    threshold_fen    integer     not null constraint campaigns_threshold check (threshold_fen between 0 and 10000000),
    total            integer     not null constraint campaigns_total check (total between 1 and 10000000),
    per_person       smallint    not null constraint campaigns_per_person check (per_person between 1 and 100),
    claim_start      timestamptz not null,
    claim_end        timestamptz not null,
    -- Either a fixed use window end, or a number of days after each claim.
    use_until        timestamptz,
    use_days         integer     constraint campaigns_use_days check (use_days between 1 and 365),
    -- Empty means every market / every stall category.
    market_ids       uuid[]      not null default '{}',
    categories       text[]      not null default '{}',
    daily_budget_fen bigint      constraint campaigns_daily_budget check (daily_budget_fen > 0),
    state            text        not null default 'draft'
        constraint campaigns_state check (state in ('draft', 'scheduled', 'paused', 'ended')),
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    primary key (tenant_id, id),
    constraint campaigns_claim_window check (claim_end > claim_start),
    constraint campaigns_use_window check ((use_until is null) <> (use_days is null)),
    constraint campaigns_use_after_claims check (use_until is null or use_until > claim_start),
    constraint campaigns_threshold_covers_value check (threshold_fen = 0 or threshold_fen >= value_fen)
);

call enable_tenant_isolation('campaigns');
grant select, insert, update on campaigns to nightmarket_app;

-- Every voucher of a campaign, made when it is scheduled. A claim gives a free row to a shopper;
-- the database itself guarantees that no voucher goes to two people (one row, one shopper), that
-- nobody holds more than the campaign's limit (the slot is 1..per_person and unique per person),
-- and that a request id is answered with the same voucher when repeated.
create table vouchers (
    tenant_id    uuid        not null references tenants (id),
    campaign_id  uuid        not null,
    seq          integer     not null constraint vouchers_seq check (seq >= 1),
    per_person   smallint    not null,
    shopper_id   uuid,
    slot         smallint,
    -- The shopper's Idempotency-Key, as `shopper:key`.
    request_key  text        constraint vouchers_request_key_length check (char_length(request_key) <= 200),
    claimed_at   timestamptz,
    expires_at   timestamptz,
    used_at      timestamptz,
    primary key (tenant_id, campaign_id, seq),
    constraint vouchers_campaign_fkey foreign key (tenant_id, campaign_id) references campaigns (tenant_id, id),
    constraint vouchers_shopper_fkey foreign key (tenant_id, shopper_id) references shoppers (tenant_id, id),
    constraint vouchers_one_slot_per_person unique (tenant_id, campaign_id, shopper_id, slot),
    constraint vouchers_request_once unique (tenant_id, campaign_id, request_key),
    constraint vouchers_slot_within_limit check (slot between 1 and per_person),
    constraint vouchers_claimed_whole check (
        (shopper_id is null) = (claimed_at is null) and (shopper_id is null) = (slot is null)
        and (shopper_id is null) = (expires_at is null)),
    constraint vouchers_used_only_claimed check (used_at is null or shopper_id is not null)
);

-- Free vouchers, in order: what a claim takes (FOR UPDATE SKIP LOCKED).
create index vouchers_free_idx on vouchers (tenant_id, campaign_id, seq) where shopper_id is null;
create index vouchers_shopper_idx on vouchers (tenant_id, shopper_id) where shopper_id is not null;

call enable_tenant_isolation('vouchers');
grant select, insert, update on vouchers to nightmarket_app;
grant delete on vouchers to nightmarket_app;

-- A voucher used at a stall. One live redemption per voucher (a reversed one frees it again);
-- a request id is answered with the same redemption when repeated.
create table redemptions (
    tenant_id       uuid        not null references tenants (id),
    id              uuid        not null default gen_random_uuid(),
    campaign_id     uuid        not null,
    seq             integer     not null,
    shopper_id      uuid        not null,
    code_id         uuid        not null,
    vendor_id       uuid        not null,
    market_id       uuid        not null,
    business_date   date        not null,
    bill_fen        integer     not null constraint redemptions_bill check (bill_fen between 1 and 10000000),
    value_fen       integer     not null constraint redemptions_value check (value_fen > 0),
    -- Shown large on the shopper's phone and on the vendor's page, to match the two.
    verification    text        not null constraint redemptions_verification check (verification ~ '^[0-9]{6}$'),
    request_key     text        not null constraint redemptions_request_key_length check (char_length(request_key) <= 200),
    created_at      timestamptz not null default now(),
    reversed_at     timestamptz,
    reversed_by     uuid,
    reversed_reason text,
    primary key (tenant_id, id),
    constraint redemptions_voucher_fkey foreign key (tenant_id, campaign_id, seq) references vouchers (tenant_id, campaign_id, seq),
    constraint redemptions_shopper_fkey foreign key (tenant_id, shopper_id) references shoppers (tenant_id, id),
    constraint redemptions_code_fkey foreign key (tenant_id, code_id) references codes (tenant_id, id),
    constraint redemptions_vendor_fkey foreign key (tenant_id, vendor_id) references users (tenant_id, id),
    constraint redemptions_reversed_by_fkey foreign key (tenant_id, reversed_by) references users (tenant_id, id),
    constraint redemptions_request_once unique (tenant_id, request_key),
    constraint redemptions_reversal_whole check ((reversed_at is null) = (reversed_reason is null))
);

-- A voucher is used at most once at a time: the database refuses a second live redemption.
create unique index redemptions_voucher_once on redemptions (tenant_id, campaign_id, seq) where reversed_at is null;
create index redemptions_stall_idx on redemptions (tenant_id, code_id, business_date);
create index redemptions_vendor_day_idx on redemptions (tenant_id, vendor_id, business_date);

call enable_tenant_isolation('redemptions');
grant select, insert, update on redemptions to nightmarket_app;

-- Redemptions the platform refused (stall not checked in, outside hours, red...): counted for the
-- officials' fraud flags.
create table redemption_attempts (
    tenant_id  uuid        not null references tenants (id),
    id         uuid        not null default gen_random_uuid(),
    shopper_id uuid        not null,
    code_id    uuid        not null,
    bill_fen   integer     not null,
    reason     text        not null,
    at         timestamptz not null default now(),
    primary key (tenant_id, id),
    constraint redemption_attempts_shopper_fkey foreign key (tenant_id, shopper_id) references shoppers (tenant_id, id),
    constraint redemption_attempts_code_fkey foreign key (tenant_id, code_id) references codes (tenant_id, id)
);

call enable_tenant_isolation('redemption_attempts');
grant select, insert on redemption_attempts to nightmarket_app;

-- A vendor-day the tenant has paid out: the sums as they were when marked (a later reversal shows
-- as a difference on the settlement page).
create table settlements (
    tenant_id       uuid        not null references tenants (id),
    vendor_id       uuid        not null,
    business_date   date        not null,
    vouchers        integer     not null constraint settlements_vouchers check (vouchers >= 0),
    subsidy_fen     bigint      not null constraint settlements_subsidy check (subsidy_fen >= 0),
    consumption_fen bigint      not null constraint settlements_consumption check (consumption_fen >= 0),
    settled_at      timestamptz not null default now(),
    settled_by      uuid        not null,
    primary key (tenant_id, vendor_id, business_date),
    constraint settlements_vendor_fkey foreign key (tenant_id, vendor_id) references users (tenant_id, id),
    constraint settlements_by_fkey foreign key (tenant_id, settled_by) references users (tenant_id, id)
);

call enable_tenant_isolation('settlements');
grant select, insert on settlements to nightmarket_app;

-- When officials are shown a voucher fraud flag (services::vouchers::flags).
alter table tenant_settings
    -- The same shopper at the same stall more than this many times in a campaign.
    add column flag_same_pair integer not null default 3
        constraint tenant_settings_flag_same_pair check (flag_same_pair between 1 and 100),
    -- This many bills of one shopper or stall within flag_near_fen over the threshold.
    add column flag_near_count integer not null default 3
        constraint tenant_settings_flag_near_count check (flag_near_count between 2 and 100),
    add column flag_near_fen integer not null default 300
        constraint tenant_settings_flag_near_fen check (flag_near_fen between 0 and 100000),
    -- More than this many redemptions at one stall within flag_burst_minutes.
    add column flag_burst_count integer not null default 10
        constraint tenant_settings_flag_burst_count check (flag_burst_count between 2 and 1000),
    add column flag_burst_minutes integer not null default 5
        constraint tenant_settings_flag_burst_minutes check (flag_burst_minutes between 1 and 240);
