-- The case journal (each event's record, the customer's contact masked) and the sealed case
-- files of archived complaints. Both are written once per key and never updated.

CREATE TABLE case_journal (
    event_id       TEXT PRIMARY KEY,
    complaint_id   TEXT NOT NULL,
    occurred_at_ms BIGINT NOT NULL,
    kind           TEXT NOT NULL,
    producer       TEXT NOT NULL,
    record         TEXT NOT NULL
);

CREATE INDEX case_journal_by_complaint ON case_journal (complaint_id, occurred_at_ms);

CREATE TABLE case_files (
    complaint_id     TEXT PRIMARY KEY,
    complaint_number TEXT NOT NULL,
    sha256           TEXT NOT NULL,
    document         TEXT NOT NULL,
    html             TEXT NOT NULL,
    archived_at_ms   BIGINT NOT NULL
);

CREATE INDEX case_files_by_number ON case_files (complaint_number);
