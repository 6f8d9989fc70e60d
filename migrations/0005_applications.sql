-- Vendors' applications, the review queue, and the operating code (经营码).
--
-- Personal data (real names, resident ID numbers, mobile numbers, photos of documents) is stored
-- encrypted: `*_enc` columns hold AEAD ciphertexts bound to (tenant, table, column, row), so a
-- ciphertext copied into another row or tenant does not decrypt. The first byte of each
-- ciphertext is the key version. Where the platform must find a person by such a value, a keyed
-- blind index (`*_index`, an HMAC bound to the tenant) is stored beside it, never the value. The
-- masked forms (张**, 138****5678) are stored for lists, so showing a list decrypts nothing.

-- Settings each tenant's admins may change.
create table tenant_settings (
    tenant_id             uuid        primary key references tenants (id),
    -- How long officials have to decide a submitted application (政府部门线上快速审核).
    review_deadline_hours integer     not null default 24
        constraint tenant_settings_review_deadline check (review_deadline_hours between 1 and 720),
    -- Printed on every placard.
    complaint_hotline     text        not null default '12345'
        constraint tenant_settings_hotline check (complaint_hotline ~ '^[0-9-]{3,20}$'),
    updated_at            timestamptz not null default now()
);

call enable_tenant_isolation('tenant_settings');
grant select, insert, update on tenant_settings to nightmarket_app;

-- Vendors receive SMS; their number is kept encrypted beside the login's blind index.
alter table users add column phone_enc bytea;

-- One-time codes sent by SMS (sign-up now; complaints and shoppers later).
create table otp_codes (
    tenant_id   uuid        not null references tenants (id),
    id          uuid        not null,
    purpose     text        not null
        constraint otp_codes_purpose check (purpose in ('vendor_signup', 'complaint', 'shopper')),
    phone_index text        not null,
    -- HMAC of the code under a server key: a database dump does not reveal live codes.
    code_hash   bytea       not null,
    expires_at  timestamptz not null,
    attempts    integer     not null default 0
        constraint otp_codes_attempts check (attempts >= 0),
    consumed_at timestamptz,
    created_at  timestamptz not null default now(),
    primary key (tenant_id, id)
);

create index otp_codes_lookup_idx on otp_codes (tenant_id, purpose, phone_index, created_at desc);

call enable_tenant_isolation('otp_codes');
grant select, insert, update on otp_codes to nightmarket_app;

-- Every SMS the platform sends. The outbox is also the queue: a dispatcher inside the server
-- delivers queued messages (to a gateway, or to the log), so a message is queued in the same
-- transaction as the change it reports and is never lost or sent for a rolled-back change.
create table sms_outbox (
    tenant_id    uuid        not null references tenants (id),
    id           uuid        not null,
    phone_enc    bytea       not null,
    phone_masked text        not null,
    body         text        not null
        constraint sms_outbox_body_length check (char_length(body) between 1 and 500),
    status       text        not null default 'queued'
        constraint sms_outbox_status check (status in ('queued', 'sent', 'logged', 'failed')),
    attempts     integer     not null default 0,
    last_error   text,
    created_at   timestamptz not null default now(),
    sent_at      timestamptz,
    primary key (tenant_id, id)
);

create index sms_outbox_queued_idx on sms_outbox (tenant_id, created_at) where status = 'queued';

call enable_tenant_isolation('sms_outbox');
grant select, insert, update on sms_outbox to nightmarket_app;

-- A person's inbox of notices (vendors now; officials' live notices later). A notice is stored as
-- its kind and arguments and rendered in the reader's language when shown.
create table notifications (
    tenant_id  uuid        not null references tenants (id),
    id         uuid        not null default gen_random_uuid(),
    user_id    uuid        not null,
    kind       text        not null,
    args       jsonb       not null default '{}',
    link       text,
    created_at timestamptz not null default now(),
    read_at    timestamptz,
    primary key (tenant_id, id),
    constraint notifications_user_fkey foreign key (tenant_id, user_id) references users (tenant_id, id)
);

create index notifications_user_idx on notifications (tenant_id, user_id, created_at desc);

call enable_tenant_isolation('notifications');
grant select, insert, update on notifications to nightmarket_app;

-- A vendor's application for a slot in a market.
--   draft → submitted → approved | rejected | returned → resubmitted → …; withdrawn by the vendor.
create table applications (
    tenant_id              uuid             not null references tenants (id),
    id                     uuid             not null,
    vendor_id              uuid             not null,
    market_id              uuid             not null,
    -- The slot asked for (optional); the official confirms it or assigns another on approval.
    slot_id                uuid,
    state                  text             not null default 'draft'
        constraint applications_state check (state in ('draft', 'submitted', 'returned', 'resubmitted', 'approved', 'rejected', 'withdrawn')),
    stall_name             text             not null default ''
        constraint applications_stall_name_length check (char_length(stall_name) <= 40),
    category               text             not null
        constraint applications_category check (category in ('food', 'retail', 'culture', 'games', 'produce')),
    goods                  text             not null default ''
        constraint applications_goods_length check (char_length(goods) <= 500),
    real_name_enc          bytea,
    real_name_masked       text,
    id_number_enc          bytea,
    id_number_index        text,
    id_number_masked       text,
    phone_enc              bytea,
    phone_index            text,
    phone_masked           text,
    -- A business's public registration number, not personal data.
    uscc                   text,
    food_licence_no        text,
    food_licence_expires   date,
    health_cert_no         text,
    health_cert_expires    date,
    -- Where the phone was when the vendor applied, and how far that is from the market.
    position_lat           double precision,
    position_lng           double precision,
    position_accuracy_m    double precision,
    position_distance_m    double precision,
    position_at            timestamptz,
    -- An official's notes per field when returning the application for correction.
    return_notes           jsonb            not null default '{}',
    decision_reason        text,
    decided_by             uuid,
    decided_at             timestamptz,
    first_submitted_at     timestamptz,
    -- The latest (re)submission: the review deadline runs from here.
    submitted_at           timestamptz,
    -- An official working on the application holds it for a while; others see who.
    claimed_by             uuid,
    claimed_until          timestamptz,
    -- Every change bumps it; a decision names the version it was made on.
    version                integer          not null default 0,
    created_at             timestamptz      not null default now(),
    updated_at             timestamptz      not null default now(),
    primary key (tenant_id, id),
    constraint applications_vendor_fkey foreign key (tenant_id, vendor_id) references users (tenant_id, id),
    constraint applications_market_fkey foreign key (tenant_id, market_id) references markets (tenant_id, id),
    constraint applications_slot_fkey foreign key (tenant_id, slot_id) references slots (tenant_id, id),
    constraint applications_claimer_fkey foreign key (tenant_id, claimed_by) references users (tenant_id, id),
    constraint applications_decider_fkey foreign key (tenant_id, decided_by) references users (tenant_id, id)
);

-- One open application per person per market, recognised by the blind index of the ID number.
create unique index applications_one_open_per_person on applications (tenant_id, market_id, id_number_index)
    where state in ('draft', 'submitted', 'returned', 'resubmitted');
create index applications_queue_idx on applications (tenant_id, submitted_at) where state in ('submitted', 'resubmitted');
create index applications_vendor_idx on applications (tenant_id, vendor_id, created_at desc);
create index applications_person_idx on applications (tenant_id, id_number_index);

call enable_tenant_isolation('applications');
grant select, insert, update on applications to nightmarket_app;

-- Photos and scans of documents, encrypted like the rest of the personal data.
create table application_documents (
    tenant_id      uuid        not null references tenants (id),
    id             uuid        not null,
    application_id uuid        not null,
    kind           text        not null
        constraint application_documents_kind check (kind in ('id_card', 'food_licence', 'health_cert', 'business_licence', 'other')),
    -- As sniffed from the content, never taken from the file name.
    content_type   text        not null
        constraint application_documents_type check (content_type in ('image/jpeg', 'image/png', 'application/pdf')),
    size_bytes     integer     not null
        constraint application_documents_size check (size_bytes between 1 and 5242880),
    data_enc       bytea       not null,
    created_at     timestamptz not null default now(),
    primary key (tenant_id, id),
    constraint application_documents_application_fkey foreign key (tenant_id, application_id)
        references applications (tenant_id, id) on delete cascade
);

create index application_documents_application_idx on application_documents (tenant_id, application_id);

call enable_tenant_isolation('application_documents');
grant select, insert, delete on application_documents to nightmarket_app;

-- Each tenant's Ed25519 keys for signing code URLs. The key id travels in the URL, so rotating
-- to a new key leaves every printed code verifiable. The secret half is encrypted.
create table signing_keys (
    tenant_id      uuid        not null references tenants (id),
    id             uuid        not null default gen_random_uuid(),
    -- '<tenant slug>-<n>': tells a scanner which tenant and key to check against.
    kid            text        not null
        constraint signing_keys_kid_format check (kid ~ '^[a-z][a-z0-9-]*-[0-9]+$'),
    public_key     bytea       not null
        constraint signing_keys_public_key_length check (octet_length(public_key) = 32),
    secret_key_enc bytea       not null,
    created_at     timestamptz not null default now(),
    -- A retired key signs nothing new but still verifies what it signed.
    retired_at     timestamptz,
    primary key (tenant_id, id),
    constraint signing_keys_kid_key unique (tenant_id, kid)
);

call enable_tenant_isolation('signing_keys');
grant select, insert, update on signing_keys to nightmarket_app;

-- The operating code (经营码): one per vendor per slot, issued on approval.
create table codes (
    tenant_id          uuid        not null references tenants (id),
    id                 uuid        not null default gen_random_uuid(),
    -- The public identifier in /c/{code}: 13 characters of base32 (65 random bits).
    code               text        not null
        constraint codes_code_format check (code ~ '^[0-9a-z]{13}$'),
    vendor_id          uuid        not null,
    application_id     uuid        not null,
    market_id          uuid        not null,
    slot_id            uuid        not null,
    stall_name         text        not null,
    category           text        not null,
    -- What the scan page shows of the vendor: never more than the mask.
    vendor_name_masked text        not null,
    -- Licence facts as shown (numbers masked, expiry dates).
    licence_facts      jsonb       not null default '{}',
    kid                text        not null,
    -- base64url Ed25519 signature over 'nightmarket:code:v1:<kid>:<code>'.
    signature          text        not null,
    -- Derived from the open causes by domain::colour; kept here so scans read one row.
    colour             text        not null default 'green'
        constraint codes_colour check (colour in ('green', 'yellow', 'red')),
    revoked_at         timestamptz,
    revoked_reason     text,
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now(),
    primary key (tenant_id, id),
    constraint codes_code_key unique (tenant_id, code),
    constraint codes_vendor_fkey foreign key (tenant_id, vendor_id) references users (tenant_id, id),
    constraint codes_application_fkey foreign key (tenant_id, application_id) references applications (tenant_id, id),
    constraint codes_market_fkey foreign key (tenant_id, market_id) references markets (tenant_id, id),
    constraint codes_slot_fkey foreign key (tenant_id, slot_id) references slots (tenant_id, id),
    constraint codes_kid_fkey foreign key (tenant_id, kid) references signing_keys (tenant_id, kid)
);

-- A slot carries at most one live code.
create unique index codes_one_per_slot on codes (tenant_id, slot_id) where revoked_at is null;
create index codes_vendor_idx on codes (tenant_id, vendor_id);
create index codes_market_idx on codes (tenant_id, market_id);

call enable_tenant_isolation('codes');
grant select, insert, update on codes to nightmarket_app;

-- Why a code is not green. A cause is open until cleared; the colour is red if any open cause
-- is red, else yellow if any is yellow, else green.
create table code_causes (
    tenant_id  uuid        not null references tenants (id),
    id         uuid        not null default gen_random_uuid(),
    code_id    uuid        not null,
    kind       text        not null,
    colour     text        not null
        constraint code_causes_colour check (colour in ('yellow', 'red')),
    note       text        not null default '',
    created_by uuid,
    created_at timestamptz not null default now(),
    cleared_at timestamptz,
    cleared_by uuid,
    primary key (tenant_id, id),
    constraint code_causes_code_fkey foreign key (tenant_id, code_id) references codes (tenant_id, id),
    constraint code_causes_creator_fkey foreign key (tenant_id, created_by) references users (tenant_id, id),
    constraint code_causes_clearer_fkey foreign key (tenant_id, cleared_by) references users (tenant_id, id)
);

create index code_causes_open_idx on code_causes (tenant_id, code_id) where cleared_at is null;
-- An official suspends a code once; a second suspension while the first stands makes no sense.
create unique index code_causes_one_open_kind on code_causes (tenant_id, code_id, kind) where cleared_at is null;

call enable_tenant_isolation('code_causes');
grant select, insert, update on code_causes to nightmarket_app;
