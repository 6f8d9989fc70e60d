-- A picture of the street under a market's plan (an aerial photo, a drawing of the site): the
-- plan's grid is stretched over it on every map. Not personal data; kept as sent, checked to be a
-- JPEG or PNG by its content.
create table market_plan_images (
    tenant_id    uuid        not null references tenants (id),
    market_id    uuid        not null,
    content_type text        not null
        constraint market_plan_images_type check (content_type in ('image/jpeg', 'image/png')),
    bytes        bytea       not null
        constraint market_plan_images_size check (octet_length(bytes) between 1 and 2097152),
    -- Hex SHA-256 of the bytes: the picture's version in its URL, so a new one is fetched at once.
    sha256       text        not null,
    updated_at   timestamptz not null default now(),
    primary key (tenant_id, market_id),
    constraint market_plan_images_market_fkey foreign key (tenant_id, market_id) references markets (tenant_id, id)
);

call enable_tenant_isolation('market_plan_images');
grant select, insert, update, delete on market_plan_images to nightmarket_app;
