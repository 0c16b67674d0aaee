-- The rule pack each case's clocks follow (from the assignment).
ALTER TABLE cases ADD COLUMN jurisdiction TEXT NOT NULL DEFAULT 'cn';
