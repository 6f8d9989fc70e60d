-- A market's plan: the street as a grid of cells, each slot a rectangle on it, landmarks
-- (entrance, toilets, the service desk) as labelled marks. The public map, the officials' live
-- wall and the vendor's own slot are drawn from it (services::plan).

alter table markets
    add column plan_columns integer not null default 24
        constraint markets_plan_columns check (plan_columns between 4 and 120),
    add column plan_rows integer not null default 12
        constraint markets_plan_rows check (plan_rows between 4 and 120),
    -- Bumped by every save of the plan; a save names the version it was made on, so two admins
    -- editing at once cannot overwrite each other unseen.
    add column plan_version integer not null default 0;

-- A slot's place on the plan, in cells from the top-left corner; all four or none (not yet placed).
-- That it lies inside the grid and overlaps no other slot is checked by domain::plan when saved.
alter table slots
    add column plan_x integer,
    add column plan_y integer,
    add column plan_w integer,
    add column plan_h integer,
    add constraint slots_plan_all_or_none check (
        (plan_x is null) = (plan_y is null) and (plan_x is null) = (plan_w is null) and (plan_x is null) = (plan_h is null)),
    add constraint slots_plan_range check (
        plan_x is null or (plan_x >= 0 and plan_y >= 0 and plan_w between 1 and 20 and plan_h between 1 and 20));

create table market_landmarks (
    tenant_id  uuid    not null references tenants (id),
    id         uuid    not null default gen_random_uuid(),
    market_id  uuid    not null,
    kind       text    not null
        constraint market_landmarks_kind check (kind in ('entrance', 'exit', 'toilet', 'service_desk', 'first_aid', 'parking', 'other')),
    label      text    not null default ''
        constraint market_landmarks_label_length check (char_length(label) <= 40),
    x          integer not null constraint market_landmarks_x check (x >= 0),
    y          integer not null constraint market_landmarks_y check (y >= 0),
    primary key (tenant_id, id),
    constraint market_landmarks_market_fkey foreign key (tenant_id, market_id) references markets (tenant_id, id)
);

create index market_landmarks_market_idx on market_landmarks (tenant_id, market_id);

call enable_tenant_isolation('market_landmarks');
grant select, insert, update, delete on market_landmarks to nightmarket_app;
