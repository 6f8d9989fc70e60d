-- People who sign in: a tenant's admins, its officials and its vendors.
--
-- The platform operator has no row here: operators act through the CLI with the owner connection.
-- Shoppers have no account; they arrive by scanning a code.

create table users (
    tenant_id            uuid        not null references tenants (id),
    id                   uuid        not null default gen_random_uuid(),
    role                 text        not null
        constraint users_role check (role in ('admin', 'official', 'vendor')),
    -- The normalised sign-in name, unique per tenant. Staff sign in with a user name, stored
    -- lowercased. Vendors sign in with their mobile number, which is personal data: for them this
    -- column holds 'phone:' followed by a keyed blind index (HMAC) of the number, never the number.
    login                text        not null
        constraint users_login_length check (char_length(login) between 2 and 100),
    -- Shown in the interface and the audit trail. Staff: their name. Vendors: the masked number.
    display_name         text        not null
        constraint users_display_name_length check (char_length(display_name) between 1 and 60),
    -- Argon2id PHC string.
    password_hash        text        not null,
    -- What an official may do; an admin grants them. Admins hold every permission implicitly.
    permissions          text[]      not null default '{}'
        constraint users_permissions_known check (permissions <@ array['review', 'complaints', 'inspect']::text[]),
    -- Sessions carry the version they were issued with; raising it revokes every session at once
    -- (sign-out, password change, disabling the account).
    token_version        integer     not null default 0,
    -- Set for accounts created with a one-time password: the first thing they do is choose their own.
    must_change_password boolean     not null default false,
    disabled_at          timestamptz,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    primary key (tenant_id, id),
    constraint users_login_key unique (tenant_id, login)
);

call enable_tenant_isolation('users');

grant select, insert, update on users to nightmarket_app;
