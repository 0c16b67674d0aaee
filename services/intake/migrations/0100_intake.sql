-- Intake's store: the complaint record (system of record for personal data), number sequence,
-- customer responses and follow-ups.

CREATE TABLE complaints (
    complaint_id     TEXT PRIMARY KEY,
    complaint_number TEXT NOT NULL UNIQUE,
    channel          TEXT NOT NULL,
    request_key      TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    status           TEXT NOT NULL,
    customer_name    TEXT NOT NULL,
    id_type          TEXT NOT NULL,
    id_number        TEXT NOT NULL,
    phone            TEXT NOT NULL,
    email            TEXT NOT NULL,
    address          TEXT NOT NULL,
    account_number   TEXT NOT NULL,
    preferred_channel TEXT NOT NULL,
    summary          TEXT NOT NULL,
    description      TEXT NOT NULL,
    demand           TEXT NOT NULL,
    amount_minor     BIGINT,
    currency         TEXT,
    product_hint     TEXT NOT NULL,
    receiving_staff  TEXT NOT NULL,
    staff_involved   TEXT NOT NULL,
    branch_involved  TEXT NOT NULL,
    tags             TEXT NOT NULL,
    evidence         TEXT NOT NULL,
    received_at_ms   BIGINT NOT NULL,
    -- trace context of the registration; later commands on the complaint join this trace
    traceparent      TEXT NOT NULL,
    created_at_ms    BIGINT NOT NULL,
    updated_at_ms    BIGINT NOT NULL,
    UNIQUE (channel, request_key)
);

CREATE TABLE complaint_numbers (
    day        TEXT PRIMARY KEY,
    last_value BIGINT NOT NULL
);

CREATE TABLE customer_responses (
    response_id    TEXT PRIMARY KEY,
    complaint_id   TEXT NOT NULL REFERENCES complaints (complaint_id),
    response       TEXT NOT NULL,
    comment        TEXT NOT NULL,
    recorded_by    TEXT NOT NULL,
    recorded_at_ms BIGINT NOT NULL
);

CREATE TABLE follow_ups (
    complaint_id    TEXT PRIMARY KEY REFERENCES complaints (complaint_id),
    satisfaction    TEXT NOT NULL,
    accepts_outcome BIGINT NOT NULL,
    recorded_by     TEXT NOT NULL,
    recorded_at_ms  BIGINT NOT NULL
);
