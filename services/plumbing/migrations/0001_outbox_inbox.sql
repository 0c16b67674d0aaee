-- Plumbing tables every service store has: the transactional outbox and the inbox.
-- Portable SQL: runs unchanged on SQLite and PostgreSQL.

CREATE TABLE outbox (
    event_id        TEXT PRIMARY KEY,
    subject         TEXT NOT NULL,
    complaint_id    TEXT NOT NULL,
    -- base64 of the encoded EventEnvelope
    payload         TEXT NOT NULL,
    traceparent     TEXT NOT NULL,
    tracestate      TEXT NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    published_at_ms BIGINT
);

CREATE INDEX outbox_unpublished ON outbox (event_id) WHERE published_at_ms IS NULL;

CREATE TABLE inbox (
    consumer        TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    subject         TEXT NOT NULL,
    processed_at_ms BIGINT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
