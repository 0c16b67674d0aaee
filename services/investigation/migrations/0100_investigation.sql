-- Investigation's store: the case file, evidence register, findings and execution record.

CREATE TABLE cases (
    complaint_id     TEXT PRIMARY KEY,
    complaint_number TEXT NOT NULL UNIQUE,
    status           TEXT NOT NULL,
    handler_id       TEXT NOT NULL,
    department       TEXT NOT NULL,
    grade            TEXT NOT NULL,
    proposal_id      TEXT,
    resolution       TEXT,
    proposed_by      TEXT,
    traceparent      TEXT NOT NULL,
    opened_at_ms     BIGINT NOT NULL,
    updated_at_ms    BIGINT NOT NULL
);

CREATE TABLE evidence (
    complaint_id     TEXT NOT NULL REFERENCES cases (complaint_id),
    evidence_number  BIGINT NOT NULL,
    kind             TEXT NOT NULL,
    description      TEXT NOT NULL,
    sha256           TEXT NOT NULL,
    size_bytes       BIGINT NOT NULL,
    -- base64 of the content; moves to an object store when files grow
    content          TEXT NOT NULL,
    registered_by    TEXT NOT NULL,
    registered_at_ms BIGINT NOT NULL,
    PRIMARY KEY (complaint_id, evidence_number)
);

CREATE TABLE findings (
    finding_id     TEXT PRIMARY KEY,
    complaint_id   TEXT NOT NULL REFERENCES cases (complaint_id),
    finding        TEXT NOT NULL,
    recorded_by    TEXT NOT NULL,
    recorded_at_ms BIGINT NOT NULL
);

CREATE TABLE executions (
    complaint_id   TEXT PRIMARY KEY REFERENCES cases (complaint_id),
    executed_by    TEXT NOT NULL,
    reference      TEXT NOT NULL,
    executed_at_ms BIGINT NOT NULL
);
