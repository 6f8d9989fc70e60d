-- 12345's rules for complaints (issue 20).
--
-- Each category's GB/T 39666-2020 classification (政府热线服务分类与代码: main, middle and sub
-- class, two digits each), entered by the tenant's admin from the standard's table, and whether its
-- time to resolve counts working days (as Guangdong's 12345 rules do) rather than calendar days.
alter table complaint_deadlines
    add column working_days boolean not null default false,
    add column gbt_code     text
        constraint complaint_deadlines_gbt check (gbt_code ~ '^[0-9]{6}$' and gbt_code !~ '^00');

-- The tenant's calendar of days off and adjusted working days (调休): Monday to Friday are working
-- days unless listed as a holiday; a listed working day (a Saturday or Sunday worked to bridge a
-- holiday) is one. Entered by the admin each year as the State Council announces them.
create table work_calendar (
    tenant_id uuid not null references tenants (id),
    day       date not null,
    kind      text not null constraint work_calendar_kind check (kind in ('holiday', 'workday')),
    name      text not null constraint work_calendar_name check (char_length(name) between 1 and 40),
    primary key (tenant_id, day)
);

call enable_tenant_isolation('work_calendar');
grant select, insert, update, delete on work_calendar to nightmarket_app;
