-- The department handling each complaint (from `assigned`; a re-assignment replaces it), so
-- approvers are checked against the case's line: a head of that department, a vice president
-- in charge of it. Resolutions are stored as JSON of the domain type from now on.
CREATE TABLE case_departments (
    complaint_id TEXT PRIMARY KEY,
    department   TEXT NOT NULL
);
