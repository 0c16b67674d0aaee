-- The evidence register is a hash chain per case: each item's chain_hash covers its content
-- hash, its fields and the chain_hash of the item before it (see `chain.rs`). Items registered
-- before this migration are sealed into the chain once, at the next start.

ALTER TABLE evidence ADD COLUMN chain_hash TEXT NOT NULL DEFAULT '';

-- Start-up looks for unsealed items through this index, not by reading the register.
CREATE INDEX evidence_unchained ON evidence (complaint_id) WHERE chain_hash = '';
