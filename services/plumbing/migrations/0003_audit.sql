-- The audit chain every service store has: one entry per command, each hash covering the
-- entry and its predecessor's hash (see `complaints_plumbing::audit`). Append-only: the code
-- has no update or delete path, and on PostgreSQL the service role is granted INSERT and
-- SELECT only.

CREATE TABLE audit_log (
    seq            BIGINT PRIMARY KEY,
    recorded_at_ms BIGINT NOT NULL,
    actor          TEXT NOT NULL,
    method         TEXT NOT NULL,
    payload_sha256 TEXT NOT NULL,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
);
