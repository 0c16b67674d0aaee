-- Routing's store: one assignment per complaint.

CREATE TABLE assignments (
    complaint_id     TEXT PRIMARY KEY,
    complaint_number TEXT NOT NULL,
    grade            TEXT NOT NULL,
    category         TEXT NOT NULL,
    product          TEXT NOT NULL,
    department       TEXT NOT NULL,
    handler_id       TEXT NOT NULL,
    reasons          TEXT NOT NULL,
    recused          TEXT NOT NULL,
    assigned_at_ms   BIGINT NOT NULL
);

CREATE INDEX assignments_by_handler ON assignments (handler_id);
