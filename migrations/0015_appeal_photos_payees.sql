-- A vendor may back an appeal with one photo (the stall as it really was, a receipt): sealed like
-- every other document, shown to the official deciding the appeal and to the vendor.
alter table appeals
    add column photo_type text
        constraint appeals_photo_type check (photo_type in ('image/jpeg', 'image/png')),
    add column photo_size integer
        constraint appeals_photo_size check (photo_size between 1 and 5242880),
    add column photo_enc  bytea,
    add constraint appeals_photo_whole
        check ((photo_type is null) = (photo_enc is null) and (photo_type is null) = (photo_size is null));

-- Where a vendor's voucher subsidy is paid: the account holder and the bank account, sealed (the
-- finance office needs them in clear only when paying; admins reveal them, audited), with masks
-- for every other view. One per vendor, replaced when the vendor changes it.
create table payee_accounts (
    tenant_id       uuid        not null references tenants (id),
    vendor_id       uuid        not null,
    holder_enc      bytea       not null,
    holder_masked   text        not null,
    bank            text        not null
        constraint payee_accounts_bank_length check (char_length(bank) between 2 and 60),
    account_enc     bytea       not null,
    account_masked  text        not null,
    updated_at      timestamptz not null,
    primary key (tenant_id, vendor_id),
    constraint payee_accounts_vendor_fkey foreign key (tenant_id, vendor_id) references users (tenant_id, id)
);

call enable_tenant_isolation('payee_accounts');
grant select, insert, update on payee_accounts to nightmarket_app;
