-- Stall lotteries (摊位摇号) anyone can check (domain::lottery): a round offers slots of a market
-- by category, publishes its list of entries and a commitment to the tenant's value before the
-- draw, and after it the values, the seed and the result. Winners are approved into slots as an
-- official would approve them; the rest wait, in draw order, for slots of the round freed during
-- its term.

create table lottery_rounds (
    tenant_id          uuid        not null references tenants (id),
    id                 uuid        not null default gen_random_uuid(),
    market_id          uuid        not null,
    title              text        not null
        constraint lottery_rounds_title_length check (char_length(title) between 1 and 100),
    -- open: applications enter; published: the list and the commitment are out; drawn.
    state              text        not null default 'open'
        constraint lottery_rounds_state check (state in ('open', 'published', 'drawn')),
    -- Applications first submitted in [entries_from, entries_until) enter.
    entries_from       timestamptz not null,
    entries_until      timestamptz not null,
    -- How long an allocation lasts: the waitlist fills freed slots until drawn_at + term.
    term_months        integer     not null
        constraint lottery_rounds_term check (term_months between 1 and 36),
    previous_winners_may_enter boolean not null default true,
    -- {"food": 5, "retail": 2}: slots on offer per category (domain::lottery::Published.offer).
    offer              jsonb       not null,
    -- [{"position": 1, "name": "低收入家庭", "share_percent": 30}, …]
    groups             jsonb       not null default '[]',
    -- The tenant's value, drawn at random when the round opens; only its hash (the commitment)
    -- is shown until the draw, when it is published beside the public value.
    tenant_value       text        not null,
    commitment         text        not null,
    list_hash          text,
    published_at       timestamptz,
    public_value       text
        constraint lottery_rounds_public_value check (char_length(public_value) between 1 and 200),
    seed               text,
    result             jsonb,
    drawn_at           timestamptz,
    created_by         uuid        not null,
    created_at         timestamptz not null default now(),
    primary key (tenant_id, id),
    constraint lottery_rounds_window check (entries_until > entries_from),
    constraint lottery_rounds_published check ((state = 'open') = (list_hash is null)),
    constraint lottery_rounds_drawn check ((state = 'drawn') = (seed is not null and result is not null and public_value is not null)),
    constraint lottery_rounds_market_fkey foreign key (tenant_id, market_id) references markets (tenant_id, id),
    constraint lottery_rounds_creator_fkey foreign key (tenant_id, created_by) references users (tenant_id, id)
);

create index lottery_rounds_market_idx on lottery_rounds (tenant_id, market_id, created_at desc);

call enable_tenant_isolation('lottery_rounds');
grant select, insert, update on lottery_rounds to nightmarket_app;

create table lottery_entries (
    tenant_id         uuid     not null references tenants (id),
    round_id          uuid     not null,
    -- The public number of the entry in its round.
    number            integer  not null constraint lottery_entries_number check (number >= 1),
    application_id    uuid     not null,
    vendor_id         uuid     not null,
    category          text     not null
        constraint lottery_entries_category check (category in ('food', 'retail', 'culture', 'games', 'produce')),
    group_position    smallint,
    name_masked       text     not null,
    -- entered → won | waiting; waiting → won (a freed slot) | lapsed (the application was decided
    -- otherwise meanwhile); won → freed (its code was revoked or withdrawn; the slot passed on).
    outcome           text     not null default 'entered'
        constraint lottery_entries_outcome check (outcome in ('entered', 'won', 'waiting', 'lapsed', 'freed')),
    waitlist_position integer,
    slot_id           uuid,
    decided_at        timestamptz,
    primary key (tenant_id, round_id, number),
    constraint lottery_entries_application_once unique (tenant_id, round_id, application_id),
    constraint lottery_entries_round_fkey foreign key (tenant_id, round_id) references lottery_rounds (tenant_id, id),
    constraint lottery_entries_application_fkey foreign key (tenant_id, application_id) references applications (tenant_id, id),
    constraint lottery_entries_vendor_fkey foreign key (tenant_id, vendor_id) references users (tenant_id, id),
    constraint lottery_entries_slot_fkey foreign key (tenant_id, slot_id) references slots (tenant_id, id)
);

create index lottery_entries_vendor_idx on lottery_entries (tenant_id, vendor_id);

call enable_tenant_isolation('lottery_entries');
grant select, insert, update on lottery_entries to nightmarket_app;
