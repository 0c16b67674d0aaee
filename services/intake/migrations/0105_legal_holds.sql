-- Legal holds (a held complaint's customer cannot be erased) and erasure: once a customer is
-- erased their data keys are destroyed, the sealed columns stay unreadable and the lookup key
-- is cleared, so the record can no longer be found by ID number either.
ALTER TABLE complaints ADD COLUMN legal_hold TEXT NOT NULL DEFAULT '';
ALTER TABLE complaints ADD COLUMN erased_at_ms BIGINT;
