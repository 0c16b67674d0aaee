-- Analytics' store: a summary row per complaint and the timeline of every event.

CREATE TABLE complaint_summaries (
    complaint_id      TEXT PRIMARY KEY,
    complaint_number  TEXT NOT NULL,
    status            TEXT NOT NULL,
    status_rank       BIGINT NOT NULL,
    status_at_ms      BIGINT NOT NULL,
    grade             TEXT NOT NULL,
    channel           TEXT NOT NULL,
    received_at_ms    BIGINT
);

CREATE INDEX complaint_summaries_by_number ON complaint_summaries (complaint_number);

CREATE TABLE timeline (
    event_id       TEXT PRIMARY KEY,
    complaint_id   TEXT NOT NULL,
    stage          TEXT NOT NULL,
    occurred_at_ms BIGINT NOT NULL,
    actor          TEXT NOT NULL,
    detail         TEXT NOT NULL,
    producer       TEXT NOT NULL,
    trace_id       TEXT NOT NULL
);

CREATE INDEX timeline_by_complaint ON timeline (complaint_id, occurred_at_ms);
