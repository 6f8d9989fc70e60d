-- Personal data kept only as long as its purpose needs (services::retention): the sweeper, running
-- as the application under row-level security, removes what the retention schedule says has
-- outlived its purpose.
grant delete on scan_visitors to nightmarket_app;
grant delete on otp_codes to nightmarket_app;
grant delete on sms_outbox to nightmarket_app;
grant delete on scan_hours to nightmarket_app;
