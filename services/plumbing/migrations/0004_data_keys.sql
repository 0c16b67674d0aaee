-- Data keys of envelope encryption (see `complaints_plumbing::vault`): one per customer (the
-- key reference is the customer's protected lookup key), each wrapped by a key-encryption key
-- of the keyring. Erasing a customer destroys the wrapped key (crypto-shredding): every field
-- sealed under it becomes unreadable, wherever a copy of the field lies.

CREATE TABLE data_keys (
    key_id         TEXT PRIMARY KEY,
    key_ref        TEXT NOT NULL,
    -- the key-encryption key that wraps this one; rotation re-wraps under the newest
    kek_id         TEXT NOT NULL,
    -- base64 of nonce and sealed key; empty once shredded
    wrapped        TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    shredded_at_ms BIGINT
);

-- One live key per reference: a customer erased and complaining again gets a new key.
CREATE UNIQUE INDEX data_keys_live ON data_keys (key_ref) WHERE shredded_at_ms IS NULL;
CREATE INDEX data_keys_by_kek ON data_keys (kek_id) WHERE shredded_at_ms IS NULL;
