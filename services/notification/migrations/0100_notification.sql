-- Notification's store: how to reach each customer, and every delivery (pending or made).

CREATE TABLE contacts (
    complaint_id      TEXT PRIMARY KEY,
    complaint_number  TEXT NOT NULL,
    name              TEXT NOT NULL,
    phone             TEXT NOT NULL,
    email             TEXT NOT NULL,
    channel           TEXT NOT NULL
);

CREATE TABLE deliveries (
    -- the id of the event that called for this delivery: one delivery per event
    delivery_id        TEXT PRIMARY KEY,
    complaint_id       TEXT NOT NULL,
    complaint_number   TEXT NOT NULL,
    kind               TEXT NOT NULL,
    channel            TEXT NOT NULL,
    recipient          TEXT NOT NULL,
    body               TEXT NOT NULL,
    status             TEXT NOT NULL,
    attempts           BIGINT NOT NULL,
    next_attempt_at_ms BIGINT NOT NULL,
    last_error         TEXT NOT NULL,
    traceparent        TEXT NOT NULL,
    created_at_ms      BIGINT NOT NULL,
    delivered_at_ms    BIGINT
);

CREATE INDEX deliveries_due ON deliveries (next_attempt_at_ms) WHERE status = 'pending';
CREATE INDEX deliveries_by_complaint ON deliveries (complaint_id);
