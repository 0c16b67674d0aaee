-- Durable clocks of the services that own them (intake, investigation, approval).
-- One row per clock and round; the arithmetic state is the calendar crate's Clock as JSON.
-- Portable SQL: runs unchanged on SQLite and PostgreSQL.

CREATE TABLE clocks (
    -- <complaint_id>/<kind>/<round>
    clock_id         TEXT PRIMARY KEY,
    complaint_id     TEXT NOT NULL,
    complaint_number TEXT NOT NULL,
    kind             TEXT NOT NULL,
    round            BIGINT NOT NULL,
    jurisdiction     TEXT NOT NULL,
    -- the grade whose rule the clock follows (its extensions)
    grade            TEXT NOT NULL,
    calendar         TEXT NOT NULL,
    -- staff member who must act; NULL when the clock runs on the customer or a department
    owner_id         TEXT,
    -- department whose heads are told when there is no owner, and escalated to on a breach
    department       TEXT,
    basis            TEXT NOT NULL,
    clock            TEXT NOT NULL,
    state            TEXT NOT NULL,
    due_at_ms        BIGINT NOT NULL,
    due_local        TEXT NOT NULL,
    -- NULL for windows (no warning point)
    warning_at_ms    BIGINT,
    provisional      BIGINT NOT NULL,
    warned_at_ms     BIGINT,
    breached_at_ms   BIGINT,
    ended_at_ms      BIGINT,
    -- the next instant the scheduler must act on this clock; NULL when nothing is left
    next_fire_at_ms  BIGINT,
    version          BIGINT NOT NULL,
    traceparent      TEXT NOT NULL,
    updated_at_ms    BIGINT NOT NULL
);

-- The scheduler reads only what falls due: its cost follows due clocks, not open ones.
CREATE INDEX clocks_next_fire ON clocks (next_fire_at_ms, clock_id) WHERE next_fire_at_ms IS NOT NULL;
CREATE INDEX clocks_complaint ON clocks (complaint_id, kind);
-- Open clocks by calendar, recomputed when a calendar changes.
CREATE INDEX clocks_open ON clocks (calendar, clock_id) WHERE ended_at_ms IS NULL;
-- Breached and warned open clocks, for the overdue list.
CREATE INDEX clocks_at_risk ON clocks (state, due_at_ms) WHERE ended_at_ms IS NULL;
