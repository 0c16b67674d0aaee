-- The complaint's stage follows the one lifecycle (complaints_domain::lifecycle); rename the
-- stages intake kept before it owned the whole lifecycle.
UPDATE complaints SET status = 'customer_informed' WHERE status = 'awaiting_response';
UPDATE complaints SET status = 're_review' WHERE status = 'objected';
UPDATE complaints SET status = 'awaiting_follow_up' WHERE status = 'executed';
