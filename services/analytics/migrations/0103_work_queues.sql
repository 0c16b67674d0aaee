-- Work queues: what a queue filters and sorts on, kept on the summary row from the events.
ALTER TABLE complaint_summaries ADD COLUMN handler_id TEXT NOT NULL DEFAULT '';
ALTER TABLE complaint_summaries ADD COLUMN department TEXT NOT NULL DEFAULT '';
ALTER TABLE complaint_summaries ADD COLUMN product TEXT NOT NULL DEFAULT '';
ALTER TABLE complaint_summaries ADD COLUMN category TEXT NOT NULL DEFAULT '';
ALTER TABLE complaint_summaries ADD COLUMN jurisdiction TEXT NOT NULL DEFAULT '';
ALTER TABLE complaint_summaries ADD COLUMN summary TEXT NOT NULL DEFAULT '';
-- Protected lookup key of the customer's ID number (keyed HMAC), never the number.
ALTER TABLE complaint_summaries ADD COLUMN customer_key TEXT NOT NULL DEFAULT '';
-- The earliest due instant of the open staff clocks; 9223372036854775807 when none is open,
-- so "earliest due first" needs no NULL ordering and one index serves every queue.
ALTER TABLE complaint_summaries ADD COLUMN next_due_at_ms BIGINT NOT NULL DEFAULT 9223372036854775807;
-- The worst state among the open staff clocks: breached, warned, running, paused; '' none.
ALTER TABLE complaint_summaries ADD COLUMN clock_state TEXT NOT NULL DEFAULT '';
ALTER TABLE complaint_summaries ADD COLUMN open_case BIGINT NOT NULL DEFAULT 1;

CREATE INDEX summaries_queue ON complaint_summaries (open_case, next_due_at_ms, complaint_id);
CREATE INDEX summaries_by_handler ON complaint_summaries (handler_id, open_case, next_due_at_ms, complaint_id);
CREATE INDEX summaries_by_department ON complaint_summaries (department, open_case, next_due_at_ms, complaint_id);
CREATE INDEX summaries_by_customer ON complaint_summaries (customer_key);
