-- How long the documents of a rejected or withdrawn application (photos of ID cards and licences)
-- are kept after its decision: long enough to answer a question or an objection, then removed by
-- the sweeper (services::retention). The tenant chooses within 30 days and 3 years; 180 by default.
alter table tenant_settings
    add column rejected_documents_days integer not null default 180
        constraint tenant_settings_rejected_documents_days check (rejected_documents_days between 30 and 1095);

grant delete on application_documents to nightmarket_app;
