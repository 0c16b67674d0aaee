-- No index by key-encryption key: re-wrapping walks the keys in key-id order, and every new
-- customer's key no longer pays for a third index entry. (SQLite also rebuilds the table
-- WITHOUT ROWID; a PostgreSQL heap already holds the row once.)
DROP INDEX data_keys_by_kek;
