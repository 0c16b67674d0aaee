-- Contacts and customer recipients are sealed under the customer's data key (see
-- `complaints_plumbing::vault`); the key reference is the customer's protected lookup key.
-- Rows written before encryption keep their clear values until a delivery reads them, and are
-- sealed by notification's start-up pass.
ALTER TABLE contacts ADD COLUMN customer_key TEXT NOT NULL DEFAULT '';
