-- Summaries carry the complaint's lifecycle stage (complaints_domain::lifecycle) and its
-- progress; rename the statuses analytics derived before.
UPDATE complaint_summaries SET status = 'awaiting_follow_up' WHERE status = 'executed';
UPDATE complaint_summaries SET status = 'closed' WHERE status = 'followed_up';
