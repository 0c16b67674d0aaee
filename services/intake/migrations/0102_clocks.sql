-- The rule pack each complaint's clocks follow, and the first-contact records that meet the
-- contact and hand-over clocks. Complaints registered before clocks ran follow the default pack.
ALTER TABLE complaints ADD COLUMN jurisdiction TEXT NOT NULL DEFAULT 'cn';
ALTER TABLE complaints ADD COLUMN payment_services BIGINT NOT NULL DEFAULT 0;

CREATE TABLE contacts (
    contact_id     TEXT PRIMARY KEY,
    complaint_id   TEXT NOT NULL REFERENCES complaints (complaint_id),
    -- first_contact | handover
    kind           TEXT NOT NULL,
    note           TEXT NOT NULL,
    recorded_by    TEXT NOT NULL,
    recorded_at_ms BIGINT NOT NULL
);

CREATE INDEX contacts_complaint ON contacts (complaint_id);
