-- The scan page at full strength: ratings from real visits, complaints and their handling (the
-- 12345 flow, also over Open311), and the stall score kept current by the events that change it.

alter table tenant_settings
    -- Below this score (0–100) a code turns yellow (cause score_low).
    add column score_threshold integer not null default 60
        constraint tenant_settings_score_threshold check (score_threshold between 0 and 100),
    -- This many complaints about a stall waiting for an outcome turn its code yellow.
    add column unresolved_complaints_yellow integer not null default 3
        constraint tenant_settings_unresolved_complaints check (unresolved_complaints_yellow between 1 and 50),
    -- How many ratings' worth of weight the tenant-wide mean has in a stall's average
    -- (a Bayesian average: a handful of ratings cannot beat hundreds). See docs/SCORE.md.
    add column rating_prior_weight integer not null default 10
        constraint tenant_settings_rating_prior check (rating_prior_weight between 1 and 1000),
    -- Words masked in shoppers' comments (the tenant's own list).
    add column word_filter text[] not null default '{}'
        constraint tenant_settings_word_filter check (cardinality(word_filter) <= 500);

-- How fast each category of complaint must be acknowledged and resolved; a missing row means the
-- platform's default for the category (domain::complaint::Category::default_deadlines).
create table complaint_deadlines (
    tenant_id    uuid    not null references tenants (id),
    category     text    not null
        constraint complaint_deadlines_category check (category in
            ('food_safety', 'price_fraud', 'short_weight', 'hygiene', 'service', 'road_occupation', 'noise', 'other')),
    ack_hours    integer not null constraint complaint_deadlines_ack check (ack_hours between 1 and 720),
    resolve_days integer not null constraint complaint_deadlines_resolve check (resolve_days between 1 and 90),
    primary key (tenant_id, category)
);

call enable_tenant_isolation('complaint_deadlines');
grant select, insert, update on complaint_deadlines to nightmarket_app;

-- A shopper's rating of a stall. Accepted only while the stall is checked in and open; one per
-- device per stall per business night, enforced here. The device is known only by a keyed hash
-- of its cookie. A hidden comment keeps its text (moderation is reversible and audited).
create table ratings (
    tenant_id      uuid        not null references tenants (id),
    id             uuid        not null default gen_random_uuid(),
    code_id        uuid        not null,
    vendor_id      uuid        not null,
    business_date  date        not null,
    stars          smallint    not null constraint ratings_stars check (stars between 1 and 5),
    tags           text[]      not null default '{}'
        constraint ratings_tags check (tags <@ array['clean', 'fair_price', 'generous', 'friendly',
                                                     'short_portions', 'pricey', 'slow', 'not_clean']::text[]),
    comment        text        not null default '' constraint ratings_comment_length check (char_length(comment) <= 200),
    device_hash    text        not null,
    created_at     timestamptz not null default now(),
    hidden_at      timestamptz,
    hidden_by      uuid,
    hidden_reason  text,
    -- The vendor's one public reply.
    reply          text        constraint ratings_reply_length check (char_length(reply) between 1 and 200),
    replied_at     timestamptz,
    primary key (tenant_id, id),
    constraint ratings_one_per_device_per_night unique (tenant_id, code_id, business_date, device_hash),
    constraint ratings_code_fkey foreign key (tenant_id, code_id) references codes (tenant_id, id),
    constraint ratings_vendor_fkey foreign key (tenant_id, vendor_id) references users (tenant_id, id),
    constraint ratings_hidden_by_fkey foreign key (tenant_id, hidden_by) references users (tenant_id, id),
    constraint ratings_reply_once check ((reply is null) = (replied_at is null)),
    constraint ratings_hidden_with_reason check ((hidden_at is null) = (hidden_reason is null))
);

create index ratings_code_idx on ratings (tenant_id, code_id, created_at desc);

call enable_tenant_isolation('ratings');
grant select, insert, update on ratings to nightmarket_app;

-- A stall's score and what it is made of, rewritten by services::supervision::sync_vendor in the
-- transaction of every event that changes an input (and by the sweeper as nights pass).
create table stall_scores (
    tenant_id    uuid        not null references tenants (id),
    code_id      uuid        not null,
    score        integer     not null constraint stall_scores_range check (score between 0 and 100),
    rating_count integer     not null default 0 constraint stall_scores_count check (rating_count >= 0),
    rating_sum   integer     not null default 0 constraint stall_scores_sum check (rating_sum >= 0),
    -- The components and their inputs (domain::score::Score), for the vendor's page.
    components   jsonb       not null,
    updated_at   timestamptz not null default now(),
    primary key (tenant_id, code_id),
    constraint stall_scores_code_fkey foreign key (tenant_id, code_id) references codes (tenant_id, id)
);

call enable_tenant_isolation('stall_scores');
grant select, insert, update on stall_scores to nightmarket_app;

-- A complaint about a stall (投诉), from its scan page or a 12345 system over Open311. The
-- tracking number is the shopper's only key to it and the Open311 request id: the tenant's slug
-- (so the tracking page knows where to look, as a code's key id does) and 100 random bits.
create table complaints (
    tenant_id           uuid        not null references tenants (id),
    id                  uuid        not null default gen_random_uuid(),
    tracking            text        not null constraint complaints_tracking_format check (tracking ~ '^[a-z0-9-]+-[0-9a-z]{20}$'),
    code_id             uuid        not null,
    vendor_id           uuid        not null,
    market_id           uuid        not null,
    category            text        not null
        constraint complaints_category check (category in
            ('food_safety', 'price_fraud', 'short_weight', 'hygiene', 'service', 'road_occupation', 'noise', 'other')),
    description         text        not null constraint complaints_description_length check (char_length(description) between 5 and 1000),
    -- scan (a shopper on the scan page) or open311 (a hotline system).
    source              text        not null constraint complaints_source check (source in ('scan', 'open311')),
    source_ref          text,
    -- Optional contact, verified by SMS when given on the scan page; sealed, masked, indexed.
    contact_phone_enc   bytea,
    contact_phone_masked text,
    contact_phone_index text,
    device_hash         text,
    state               text        not null default 'open'
        constraint complaints_state check (state in ('open', 'acknowledged', 'in_progress', 'resolved', 'rejected')),
    -- Set by the platform at filing: checked in then, the colour then, voucher redemptions.
    evidence            jsonb       not null,
    created_at          timestamptz not null default now(),
    ack_due_at          timestamptz not null,
    resolve_due_at      timestamptz not null,
    acknowledged_at     timestamptz,
    started_at          timestamptz,
    closed_at           timestamptz,
    -- For resolved complaints: whether the complaint was found true (counts against the score).
    upheld              boolean,
    resolution          text,
    decided_by          uuid,
    vendor_answer       text        constraint complaints_answer_length check (char_length(vendor_answer) between 2 and 500),
    vendor_answered_at  timestamptz,
    reopen_count        smallint    not null default 0 constraint complaints_reopen_once check (reopen_count between 0 and 1),
    reopened_at         timestamptz,
    claimed_by          uuid,
    claimed_until       timestamptz,
    updated_at          timestamptz not null default now(),
    primary key (tenant_id, id),
    constraint complaints_tracking_key unique (tenant_id, tracking),
    constraint complaints_code_fkey foreign key (tenant_id, code_id) references codes (tenant_id, id),
    constraint complaints_vendor_fkey foreign key (tenant_id, vendor_id) references users (tenant_id, id),
    constraint complaints_market_fkey foreign key (tenant_id, market_id) references markets (tenant_id, id),
    constraint complaints_decided_by_fkey foreign key (tenant_id, decided_by) references users (tenant_id, id),
    constraint complaints_claimed_by_fkey foreign key (tenant_id, claimed_by) references users (tenant_id, id),
    constraint complaints_resolved_has_outcome check (state <> 'resolved' or (upheld is not null and resolution is not null)),
    constraint complaints_closed_at check ((state in ('resolved', 'rejected')) = (closed_at is not null))
);

create index complaints_queue_idx on complaints (tenant_id, state, created_at);
create index complaints_code_idx on complaints (tenant_id, code_id, created_at desc);

call enable_tenant_isolation('complaints');
grant select, insert, update on complaints to nightmarket_app;

create table complaint_photos (
    tenant_id    uuid        not null references tenants (id),
    id           uuid        not null,
    complaint_id uuid        not null,
    content_type text        not null constraint complaint_photos_type check (content_type in ('image/jpeg', 'image/png')),
    size_bytes   integer     not null constraint complaint_photos_size check (size_bytes between 1 and 5242880),
    data_enc     bytea       not null,
    created_at   timestamptz not null default now(),
    primary key (tenant_id, id),
    constraint complaint_photos_complaint_fkey foreign key (tenant_id, complaint_id) references complaints (tenant_id, id)
);

call enable_tenant_isolation('complaint_photos');
grant select, insert on complaint_photos to nightmarket_app;

-- What happened to a complaint, in order, as the shopper's tracking page tells it (public notes
-- only; the audit log keeps who did what).
create table complaint_events (
    tenant_id    uuid        not null references tenants (id),
    id           uuid        not null default gen_random_uuid(),
    complaint_id uuid        not null,
    -- Orders events that share a moment.
    seq          bigint      generated always as identity,
    at           timestamptz not null default now(),
    -- filed, acknowledged, started, answered, resolved, rejected, reopened
    kind         text        not null constraint complaint_events_kind check (kind in
        ('filed', 'acknowledged', 'started', 'answered', 'resolved', 'rejected', 'reopened')),
    note         text        not null default '',
    primary key (tenant_id, id),
    constraint complaint_events_complaint_fkey foreign key (tenant_id, complaint_id) references complaints (tenant_id, id)
);

create index complaint_events_idx on complaint_events (tenant_id, complaint_id, at, seq);

call enable_tenant_isolation('complaint_events');
grant select, insert on complaint_events to nightmarket_app;

-- Every change to what a scan page shows tells every server instance, which drops its cached copy
-- of that code's page (services::scan). NOTIFY is delivered at commit, and only then.
create function notify_scan_change() returns trigger
    language plpgsql as $$
declare
    -- The column naming the code: tg_argv[0] ('id' on codes, 'code_id' elsewhere).
    changed jsonb := to_jsonb(case when tg_op = 'DELETE' then old else new end);
begin
    perform pg_notify('nightmarket_scan', (changed ->> 'tenant_id') || ':' || (changed ->> tg_argv[0]));
    return null;
end;
$$;

create trigger codes_scan_change after update on codes
    for each row execute function notify_scan_change('id');
create trigger code_causes_scan_change after insert or update or delete on code_causes
    for each row execute function notify_scan_change('code_id');
create trigger check_ins_scan_change after insert or update on check_ins
    for each row execute function notify_scan_change('code_id');
create trigger ratings_scan_change after insert or update on ratings
    for each row execute function notify_scan_change('code_id');
create trigger stall_scores_scan_change after insert or update on stall_scores
    for each row execute function notify_scan_change('code_id');
