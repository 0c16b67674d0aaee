-- The protected lookup key of the customer's ID number (HMAC under the installation's secret):
-- search by customer and repeat detection compare keys, never clear numbers.
ALTER TABLE complaints ADD COLUMN customer_key TEXT NOT NULL DEFAULT '';
CREATE INDEX complaints_by_customer_key ON complaints (customer_key);
