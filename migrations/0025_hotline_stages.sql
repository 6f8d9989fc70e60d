-- The 12345 hotline's stages on our complaint states (issue 20; domain::complaint::stages):
-- 受理 filed → 转办 first taken by an official → 签收 acknowledged → 办理 started → 督办 escalated
-- by a supervisor → 回访 the follow-up call after it was closed → 办结 closed for good.
alter table complaints
    add column assigned_at      timestamptz,
    add column escalated_at     timestamptz,
    add column followed_up_at   timestamptz,
    add column follow_up_result text
        constraint complaints_follow_up_result check (follow_up_result in ('satisfied', 'unsatisfied', 'unreachable'));

alter table complaint_events drop constraint complaint_events_kind;
alter table complaint_events add constraint complaint_events_kind check (kind in
    ('filed', 'acknowledged', 'started', 'answered', 'resolved', 'rejected', 'reopened',
     'assigned', 'escalated', 'followed_up'));
