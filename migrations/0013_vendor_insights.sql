-- For vendors: the hour of the night shoppers scan (insights), a score history (the credit
-- record), signed credit records a vendor hands to a bank or supplier, and goods-source
-- declarations (进货来源).

-- Scans per code per local hour, added by the scan flusher with scan_nights (db::scan_counts::add).
create table scan_hours (
    tenant_id uuid     not null references tenants (id),
    code_id   uuid     not null,
    night     date     not null,
    hour      smallint not null constraint scan_hours_hour check (hour between 0 and 23),
    scans     bigint   not null default 0 constraint scan_hours_scans check (scans >= 0),
    primary key (tenant_id, code_id, night, hour),
    constraint scan_hours_code_fkey foreign key (tenant_id, code_id) references codes (tenant_id, id)
);

call enable_tenant_isolation('scan_hours');
grant select, insert, update on scan_hours to nightmarket_app;

-- A stall's score at the end of each day it changed (the tenant's calendar day), kept by a
-- trigger on stall_scores so every writer of the score feeds the history.
create table stall_score_days (
    tenant_id uuid    not null references tenants (id),
    code_id   uuid    not null,
    day       date    not null,
    score     integer not null constraint stall_score_days_range check (score between 0 and 100),
    primary key (tenant_id, code_id, day),
    constraint stall_score_days_code_fkey foreign key (tenant_id, code_id) references codes (tenant_id, id)
);

call enable_tenant_isolation('stall_score_days');
grant select, insert, update on stall_score_days to nightmarket_app;

create function stall_score_days_keep() returns trigger
    language plpgsql
as $$
begin
    insert into stall_score_days (tenant_id, code_id, day, score)
    select new.tenant_id, new.code_id, (new.updated_at at time zone t.timezone)::date, new.score
    from tenants t
    where t.id = new.tenant_id
    on conflict (tenant_id, code_id, day) do update set score = excluded.score;
    return null;
end
$$;

create trigger stall_score_days_keep
    after insert or update of score on stall_scores
    for each row execute function stall_score_days_keep();

insert into stall_score_days (tenant_id, code_id, day, score)
select s.tenant_id, s.code_id, (s.updated_at at time zone t.timezone)::date, s.score
from stall_scores s
join tenants t on t.id = s.tenant_id;

-- A credit record (信用记录): what the vendor chose to share, as the exact JSON that was signed
-- with the tenant's code key. The verification code is the tenant's slug and these 12 characters
-- (Crockford base32, 60 random bits), so /verify/{code} knows which tenant to ask.
create table credit_records (
    tenant_id  uuid        not null references tenants (id),
    id         uuid        not null,
    vendor_id  uuid        not null,
    code       text        not null constraint credit_records_code_format check (code ~ '^[0-9A-HJKMNP-TV-Z]{12}$'),
    sections   text[]      not null
        constraint credit_records_sections check (cardinality(sections) >= 1 and sections <@
            array['trading', 'score', 'complaints', 'inspections', 'credentials', 'vouchers']::text[]),
    payload    text        not null,
    kid        text        not null,
    -- base64url Ed25519 signature over 'nightmarket:record:v1:<kid>:<payload>'.
    signature  text        not null,
    issued_at  timestamptz not null,
    expires_at timestamptz not null,
    revoked_at timestamptz,
    primary key (tenant_id, id),
    constraint credit_records_code_key unique (tenant_id, code),
    constraint credit_records_expiry check (expires_at > issued_at),
    constraint credit_records_vendor_fkey foreign key (tenant_id, vendor_id) references users (tenant_id, id),
    constraint credit_records_kid_fkey foreign key (tenant_id, kid) references signing_keys (tenant_id, kid)
);

create index credit_records_vendor_idx on credit_records (tenant_id, vendor_id, issued_at desc);

call enable_tenant_isolation('credit_records');
grant select, insert, update on credit_records to nightmarket_app;

-- Where a vendor's goods come from (进货来源). Never edited: a new delivery is a new row, so the
-- history stays; an official may mark one checked while inspecting the stall.
create table goods_sources (
    tenant_id     uuid        not null references tenants (id),
    id            uuid        not null,
    vendor_id     uuid        not null,
    supplier      text        not null constraint goods_sources_supplier_length check (char_length(supplier) between 2 and 60),
    place         text        not null constraint goods_sources_place_length check (char_length(place) between 2 and 60),
    batch         text        not null default '' constraint goods_sources_batch_length check (char_length(batch) <= 60),
    received_on   date        not null,
    photo_type    text        constraint goods_sources_photo_type check (photo_type in ('image/jpeg', 'image/png', 'application/pdf')),
    photo_size    integer     constraint goods_sources_photo_size check (photo_size between 1 and 5242880),
    photo_enc     bytea,
    created_at    timestamptz not null default now(),
    checked_at    timestamptz,
    checked_by    uuid,
    inspection_id uuid,
    primary key (tenant_id, id),
    constraint goods_sources_evidence check (batch <> '' or photo_enc is not null),
    constraint goods_sources_photo_whole check ((photo_type is null) = (photo_enc is null) and (photo_type is null) = (photo_size is null)),
    constraint goods_sources_check_whole check ((checked_at is null) = (checked_by is null)),
    constraint goods_sources_vendor_fkey foreign key (tenant_id, vendor_id) references users (tenant_id, id),
    constraint goods_sources_checker_fkey foreign key (tenant_id, checked_by) references users (tenant_id, id),
    constraint goods_sources_inspection_fkey foreign key (tenant_id, inspection_id) references inspections (tenant_id, id)
);

create index goods_sources_vendor_idx on goods_sources (tenant_id, vendor_id, received_on desc, created_at desc);

call enable_tenant_isolation('goods_sources');
grant select, insert, update on goods_sources to nightmarket_app;

-- The scan page shows the latest declaration: a new one (or one marked checked) drops the cached
-- pages of every live code of the vendor, on every instance (as notify_scan_change does).
create function notify_goods_source_change() returns trigger
    language plpgsql as $$
declare
    c record;
begin
    for c in select id from codes where tenant_id = new.tenant_id and vendor_id = new.vendor_id and revoked_at is null loop
        perform pg_notify('nightmarket_scan', new.tenant_id::text || ':' || c.id::text);
    end loop;
    return null;
end;
$$;

create trigger goods_sources_scan_change after insert or update on goods_sources
    for each row execute function notify_goods_source_change();
