-- The rule pack each complaint's approval clock follows (from `received`).
ALTER TABLE involvements ADD COLUMN jurisdiction TEXT NOT NULL DEFAULT 'cn';
