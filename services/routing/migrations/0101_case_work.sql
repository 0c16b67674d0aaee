-- Case work: the caseload counts open cases only; what reassignment, re-review and re-triage
-- need to know about the complaint; the history of who held each case; re-triage corrections.
ALTER TABLE assignments ADD COLUMN open_case BIGINT NOT NULL DEFAULT 1;
-- The complaint's summary and description: the text a re-triage correction labels.
ALTER TABLE assignments ADD COLUMN complaint_text TEXT NOT NULL DEFAULT '';
-- Staff named in the complaint (JSON list) and the branch involved, for recusal on reassignment.
ALTER TABLE assignments ADD COLUMN staff_involved TEXT NOT NULL DEFAULT '[]';
ALTER TABLE assignments ADD COLUMN branch_involved TEXT NOT NULL DEFAULT '';
ALTER TABLE assignments ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE assignments ADD COLUMN co_reviewers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE assignments ADD COLUMN jurisdiction TEXT NOT NULL DEFAULT '';

DROP INDEX assignments_by_handler;
CREATE INDEX assignments_open_by_handler ON assignments (handler_id) WHERE open_case = 1;

-- Every move of a case after its first assignment, with the written record.
CREATE TABLE reassignments (
    reassignment_id     TEXT PRIMARY KEY,
    complaint_id        TEXT NOT NULL,
    cause               TEXT NOT NULL,
    previous_handler_id TEXT NOT NULL,
    handler_id          TEXT NOT NULL,
    department          TEXT NOT NULL,
    reason              TEXT NOT NULL,
    reassigned_by       TEXT NOT NULL,
    reassigned_at_ms    BIGINT NOT NULL
);

CREATE INDEX reassignments_by_complaint ON reassignments (complaint_id);

-- Re-triage corrections: training data for the classifier (complaintctl model train
-- --corrections). The id is a UUIDv7, so its order is the order of recording.
CREATE TABLE triage_corrections (
    correction_id    TEXT PRIMARY KEY,
    complaint_id     TEXT NOT NULL,
    complaint_number TEXT NOT NULL,
    complaint_text   TEXT NOT NULL,
    category_before  TEXT NOT NULL,
    category         TEXT NOT NULL,
    grade_before     TEXT NOT NULL,
    grade            TEXT NOT NULL,
    product_before   TEXT NOT NULL,
    product          TEXT NOT NULL,
    corrected_by     TEXT NOT NULL,
    reason           TEXT NOT NULL,
    corrected_at_ms  BIGINT NOT NULL
);
