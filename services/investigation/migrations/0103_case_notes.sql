-- The case file's record of case work that is not evidence or a finding: out of scope with its
-- reason, nothing to execute, reassignments and hand-overs, withdrawal. Appended, never updated.
CREATE TABLE case_notes (
    note_id        TEXT PRIMARY KEY,
    complaint_id   TEXT NOT NULL,
    -- "out_of_scope", "nothing_to_execute", "reassignment", "retriage", "re_review", "withdrawn"
    kind           TEXT NOT NULL,
    note           TEXT NOT NULL,
    recorded_by    TEXT NOT NULL,
    recorded_at_ms BIGINT NOT NULL
);

CREATE INDEX case_notes_by_complaint ON case_notes (complaint_id);
