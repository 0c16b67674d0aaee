-- The rule pack each complaint's approval clock follows (from `received`).
ALTER TABLE involvements ADD COLUMN jurisdiction TEXT NOT NULL DEFAULT 'cn';

-- Extension requests for the investigation limit or a statutory limit, decided at the
-- superior level.
CREATE TABLE extension_requests (
    request_id       TEXT PRIMARY KEY,
    complaint_id     TEXT NOT NULL,
    complaint_number TEXT NOT NULL,
    clock            TEXT NOT NULL,
    reason           TEXT NOT NULL,
    requested_by     TEXT NOT NULL,
    department       TEXT NOT NULL,
    status           TEXT NOT NULL,
    decided_by       TEXT,
    comment          TEXT NOT NULL,
    traceparent      TEXT NOT NULL,
    requested_at_ms  BIGINT NOT NULL,
    decided_at_ms    BIGINT
);

CREATE INDEX extension_requests_complaint ON extension_requests (complaint_number, request_id);
