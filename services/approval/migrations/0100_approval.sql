-- Approval's store: one row per proposal, the signatures given, and what each complaint is
-- about (for approver recusal).

CREATE TABLE approvals (
    proposal_id      TEXT PRIMARY KEY,
    complaint_id     TEXT NOT NULL,
    complaint_number TEXT NOT NULL,
    level            TEXT NOT NULL,
    status           TEXT NOT NULL,
    -- base64 of the encoded Resolution
    resolution       TEXT NOT NULL,
    proposed_by      TEXT NOT NULL,
    traceparent      TEXT NOT NULL,
    created_at_ms    BIGINT NOT NULL,
    decided_at_ms    BIGINT
);

CREATE INDEX approvals_by_complaint ON approvals (complaint_id, created_at_ms);

CREATE TABLE signatures (
    proposal_id   TEXT NOT NULL REFERENCES approvals (proposal_id),
    position      BIGINT NOT NULL,
    role          TEXT NOT NULL,
    approver_id   TEXT NOT NULL,
    decision      TEXT NOT NULL,
    comment       TEXT NOT NULL,
    signed_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (proposal_id, position)
);

CREATE TABLE involvements (
    complaint_id     TEXT PRIMARY KEY,
    staff_involved   TEXT NOT NULL,
    branch_involved  TEXT NOT NULL
);
