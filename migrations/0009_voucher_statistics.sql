-- A campaign's vouchers are made in one go when it is scheduled, often minutes before the rush.
-- Until autovacuum gets round to analysing the table, the planner believes it nearly empty and
-- picks plans that read every voucher of the campaign for each batch of claims (measured: the
-- rush slowed from 9 ms to over 100 ms a batch). The application role does not own the table, so
-- it asks this function (running as the owner) to refresh the statistics right after making them.
create function analyze_vouchers() returns void
    language plpgsql
    security definer
    set search_path = public, pg_temp
as $$
begin
    analyze vouchers;
end
$$;

revoke all on function analyze_vouchers() from public;

grant execute on function analyze_vouchers() to nightmarket_app;
