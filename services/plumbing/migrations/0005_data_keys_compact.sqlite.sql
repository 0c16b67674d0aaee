-- Data keys in one B-tree keyed by key id (WITHOUT ROWID), and no index by key-encryption key
-- (re-wrapping walks the keys in key-id order): registering a new customer's complaint writes
-- two pages of data_keys instead of four, in the transaction that pays for every page in the
-- write-ahead log. Key ids are time-ordered (UUIDv7) from this version, so new keys append.
CREATE TABLE data_keys_compact (
    key_id         TEXT NOT NULL PRIMARY KEY,
    key_ref        TEXT NOT NULL,
    kek_id         TEXT NOT NULL,
    wrapped        TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    shredded_at_ms BIGINT
) WITHOUT ROWID;
INSERT INTO data_keys_compact (key_id, key_ref, kek_id, wrapped, created_at_ms, shredded_at_ms)
    SELECT key_id, key_ref, kek_id, wrapped, created_at_ms, shredded_at_ms FROM data_keys;
DROP TABLE data_keys;
ALTER TABLE data_keys_compact RENAME TO data_keys;
CREATE UNIQUE INDEX data_keys_live ON data_keys (key_ref) WHERE shredded_at_ms IS NULL;
