-- Integrity: what a script, a rival or a careless client could do to what others see.
--
-- * A rating counts only when it came from a real scan (a single-use ticket the scan page hands
--   out, its nonce kept here so it is spent once) and did not arrive in a burst: bursts are held
--   for an official rather than counted or dropped. Officials may also void a counted rating's
--   stars. Only `status = 'counted'` ratings feed a score, the tenant mean and the numbers.
-- * A complaint is kept whoever sent it, but only one that carries weight (a number verified by
--   SMS, the hotline's intake, or accepted by an official) moves a code's colour; a burst of them
--   is held for an official to screen.
-- * Open311's public `service_request_id` is an id of its own: the tracking number stays the
--   complainant's secret.
-- * Whether a yellow code may take vouchers is the tenant's choice.

-- ------------------------------------------------------------------------------------ ratings

alter table ratings
    -- counted: in the score; held: a burst, waiting for an official; voided: an official took
    -- its stars out (the row and its words are kept).
    add column status        text        not null default 'counted'
        constraint ratings_status check (status in ('counted', 'held', 'voided')),
    -- Why it was held (kept after an official released it, for the record).
    add column held_reason   text
        constraint ratings_held_reason check (held_reason in ('address_burst', 'stall_burst')),
    -- A keyed hash of the client address (per tenant), for telling bursts from one place.
    add column client_hash   text,
    -- The nonce of the scan ticket it was made with: a ticket is spent once.
    add column ticket        text,
    -- The official who released or voided it, when, and why (voiding needs a reason).
    add column decided_by    uuid,
    add column decided_at    timestamptz,
    add column decision_note text
        constraint ratings_decision_note_length check (char_length(decision_note) <= 200),
    add constraint ratings_ticket_once unique (tenant_id, ticket),
    add constraint ratings_decided_by_fkey foreign key (tenant_id, decided_by) references users (tenant_id, id),
    add constraint ratings_held_with_reason check (status <> 'held' or held_reason is not null),
    add constraint ratings_voided_with_note check (status <> 'voided' or decision_note is not null);

-- Bursts: a stall's ratings from one address on one night.
create index ratings_client_idx on ratings (tenant_id, code_id, business_date, client_hash);
-- The officials' queue of held ratings.
create index ratings_held_idx on ratings (tenant_id, created_at) where status = 'held';

-- The numbers count what the score counts: visible (words not hidden) and counted.
drop index ratings_night_idx;
create index ratings_night_idx on ratings (tenant_id, business_date) include (code_id, stars)
    where hidden_at is null and status = 'counted';

create or replace function ratings_deltas(rows jsonb, sign int) returns jsonb
    language sql
    stable
as $$
    select jsonb_agg(jsonb_build_object(
               'tenant_id', g.tenant_id, 'market_id', c.market_id, 'night', g.business_date,
               'shard', market_night_shard(g.code_id), 'opened', 0, 'late', 0, 'ratings', sign * g.n,
               'stars', sign * g.s, 'redemptions', 0, 'subsidy_fen', 0, 'consumption_fen', 0))
    from (select r.tenant_id, r.code_id, r.business_date, count(*) as n, sum(r.stars) as s
          from jsonb_to_recordset(rows) as r (tenant_id uuid, code_id uuid, business_date date, stars int,
                                              hidden_at timestamptz, status text)
          where r.hidden_at is null and r.status = 'counted'
          group by 1, 2, 3) g
    join codes c on c.tenant_id = g.tenant_id and c.id = g.code_id
$$;

-- --------------------------------------------------------------------------------- complaints

alter table complaints
    -- Open311's service_request_id: public, and no key to anything.
    add column public_id   text not null default substr(replace(gen_random_uuid()::text, '-', ''), 1, 20)
        constraint complaints_public_id_format check (public_id ~ '^[0-9a-z]{12,40}$'),
    -- Why it was held for screening (a burst); cleared by nothing: an official's acceptance is
    -- what gives a held complaint weight, as any other.
    add column held_reason text
        constraint complaints_held_reason check (held_reason in ('address_burst', 'stall_burst')),
    add column client_hash text,
    add constraint complaints_public_id_once unique (tenant_id, public_id);

create index complaints_client_idx on complaints (tenant_id, code_id, client_hash, created_at);

-- ------------------------------------------------------------------------------------ settings

alter table tenant_settings
    -- Whether a yellow code (a warning, not a suspension) may take vouchers; red never does.
    add column vouchers_at_yellow boolean not null default false;

-- ------------------------------------------------------------------- the scan page's licences

-- The scan page shows a vendor's credentials as they are now (number, expiry, status), so a
-- change of any of them (a renewal accepted, a feed's event, the sweeper's expiry) drops the
-- cached page of every live code of that vendor on every instance.
create function notify_vendor_codes_change() returns trigger
    language plpgsql as $$
begin
    perform pg_notify('nightmarket_scan', c.tenant_id || ':' || c.id)
    from codes c
    where c.tenant_id = new.tenant_id and c.vendor_id = new.vendor_id and c.revoked_at is null;
    return null;
end;
$$;

create trigger credentials_scan_change after insert or update on credentials
    for each row execute function notify_vendor_codes_change();

-- ------------------------------------------------------------------------- forgotten passwords

-- A vendor who forgot their password gets a code by SMS, under the sign-up code's rules.
alter table otp_codes drop constraint otp_codes_purpose;
alter table otp_codes add constraint otp_codes_purpose
    check (purpose in ('vendor_signup', 'complaint', 'shopper', 'password_reset'));

-- ---------------------------------------------------------------- disputes of a feed's report

-- A vendor who thinks an external system reported a credential wrongly (health status invalid,
-- say) disputes it; an official sees the feed's event beside the vendor's word and decides: the
-- credential valid again (the vendor was right) or the report kept. One dispute waits per
-- credential at a time; every decision is kept with its reason.
create table credential_disputes (
    tenant_id     uuid        not null references tenants (id),
    id            uuid        not null default gen_random_uuid(),
    vendor_id     uuid        not null,
    kind          text        not null
        constraint credential_disputes_kind check (kind in ('health', 'food_licence', 'business_licence')),
    -- The feed's latest event about this credential when the dispute was filed.
    event_id      text,
    text          text        not null
        constraint credential_disputes_text_length check (char_length(text) between 5 and 500),
    state         text        not null default 'pending'
        constraint credential_disputes_state check (state in ('pending', 'upheld', 'rejected')),
    decided_by    uuid,
    decision_note text
        constraint credential_disputes_note_length check (char_length(decision_note) between 2 and 200),
    decided_at    timestamptz,
    created_at    timestamptz not null default now(),
    primary key (tenant_id, id),
    constraint credential_disputes_vendor_fkey foreign key (tenant_id, vendor_id) references users (tenant_id, id),
    constraint credential_disputes_decided_by_fkey foreign key (tenant_id, decided_by) references users (tenant_id, id),
    constraint credential_disputes_event_fkey foreign key (tenant_id, event_id)
        references credential_events (tenant_id, event_id),
    constraint credential_disputes_decided_whole check ((state = 'pending') = (decided_at is null)
        and (state = 'pending') = (decision_note is null))
);

create unique index credential_disputes_one_pending on credential_disputes (tenant_id, vendor_id, kind)
    where state = 'pending';

call enable_tenant_isolation('credential_disputes');
grant select, insert, update on credential_disputes to nightmarket_app;

-- --------------------------------------------------------------------- fraud flags looked at

-- An official who looked at a fraud flag and found nothing wrong dismisses it with a reason. The
-- flag is named by its evidence (a hash of its kind, subject and redemptions), so new uses that
-- extend the pattern raise it again.
create table voucher_flag_reviews (
    tenant_id   uuid        not null references tenants (id),
    flag_key    text        not null constraint voucher_flag_reviews_key check (flag_key ~ '^[0-9a-f]{64}$'),
    reason      text        not null constraint voucher_flag_reviews_reason check (char_length(reason) between 2 and 200),
    reviewed_by uuid        not null,
    reviewed_at timestamptz not null,
    primary key (tenant_id, flag_key),
    constraint voucher_flag_reviews_by_fkey foreign key (tenant_id, reviewed_by) references users (tenant_id, id)
);

call enable_tenant_isolation('voucher_flag_reviews');
grant select, insert on voucher_flag_reviews to nightmarket_app;
