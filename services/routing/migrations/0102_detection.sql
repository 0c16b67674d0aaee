-- Repeat and mass-complaint detection.
-- What a complaint is compared on: the customer (protected lookup key), when, its text's
-- MinHash signature, its place in the customer's series on the matter, its mass incident.
ALTER TABLE assignments ADD COLUMN customer_key TEXT NOT NULL DEFAULT '';
ALTER TABLE assignments ADD COLUMN received_at_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE assignments ADD COLUMN channel TEXT NOT NULL DEFAULT '';
ALTER TABLE assignments ADD COLUMN signature TEXT NOT NULL DEFAULT '';
ALTER TABLE assignments ADD COLUMN series_count BIGINT NOT NULL DEFAULT 1;
ALTER TABLE assignments ADD COLUMN incident_id TEXT NOT NULL DEFAULT '';
CREATE INDEX assignments_by_customer ON assignments (customer_key, received_at_ms);

-- Locality-sensitive hashing bands of the complaints inside the mass-detection window only
-- (older rows are pruned): a new complaint looks up its band keys, never the history.
CREATE TABLE similarity_bands (
    band_key       TEXT NOT NULL,
    complaint_id   TEXT NOT NULL,
    received_at_ms BIGINT NOT NULL,
    PRIMARY KEY (band_key, complaint_id)
);
CREATE INDEX similarity_bands_by_age ON similarity_bands (received_at_ms);

-- Every repeat, linked to the customer's earlier complaints on the matter.
CREATE TABLE repeat_links (
    complaint_id        TEXT NOT NULL,
    earlier_id          TEXT NOT NULL,
    earlier_number      TEXT NOT NULL,
    similarity_permille BIGINT NOT NULL,
    linked_at_ms        BIGINT NOT NULL,
    PRIMARY KEY (complaint_id, earlier_id)
);

CREATE TABLE incidents (
    incident_id      TEXT PRIMARY KEY,
    incident_number  TEXT NOT NULL UNIQUE,
    product          TEXT NOT NULL,
    category         TEXT NOT NULL,
    -- open, closed
    status           TEXT NOT NULL,
    opened_at_ms     BIGINT NOT NULL,
    task_force       TEXT NOT NULL,
    root_cause       TEXT NOT NULL DEFAULT '',
    statement        TEXT NOT NULL DEFAULT '',
    statement_by     TEXT NOT NULL DEFAULT '',
    statement_at_ms  BIGINT,
    review           TEXT NOT NULL DEFAULT '',
    closed_at_ms     BIGINT
);

CREATE TABLE incident_members (
    incident_id      TEXT NOT NULL,
    complaint_id     TEXT NOT NULL,
    complaint_number TEXT NOT NULL,
    joined_at_ms     BIGINT NOT NULL,
    linked_by        TEXT NOT NULL,
    left_at_ms       BIGINT,
    PRIMARY KEY (incident_id, complaint_id)
);
CREATE INDEX incident_members_by_complaint ON incident_members (complaint_id);
