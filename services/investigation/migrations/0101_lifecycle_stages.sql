-- A case's status is the complaint's lifecycle stage as investigation sees it
-- (complaints_domain::lifecycle); rename the statuses investigation kept before.
UPDATE cases SET status = 'awaiting_approval' WHERE status = 'proposed';
UPDATE cases SET status = 'accepted' WHERE status = 'awaiting_execution';
UPDATE cases SET status = 'awaiting_follow_up' WHERE status = 'executed';
