-- The read side of every service's clocks, kept from clocks_changed / clock_warning /
-- clock_breached: one row per complaint, clock kind and round, the latest event winning.
CREATE TABLE clock_view (
    complaint_id     TEXT NOT NULL,
    complaint_number TEXT NOT NULL,
    kind             TEXT NOT NULL,
    round            BIGINT NOT NULL,
    -- the service that owns the clock
    producer         TEXT NOT NULL,
    state            TEXT NOT NULL,
    jurisdiction     TEXT NOT NULL,
    calendar         TEXT NOT NULL,
    period           TEXT NOT NULL,
    started_at_ms    BIGINT NOT NULL,
    due_at_ms        BIGINT NOT NULL,
    due_local        TEXT NOT NULL,
    warning_at_ms    BIGINT,
    provisional      BIGINT NOT NULL,
    owner_id         TEXT NOT NULL,
    ended_at_ms      BIGINT,
    warned_at_ms     BIGINT,
    breached_at_ms   BIGINT,
    extensions       BIGINT NOT NULL,
    basis            TEXT NOT NULL,
    last_event_id    TEXT NOT NULL,
    PRIMARY KEY (complaint_id, kind, round)
);

-- Breached and at-risk open clocks across the platform, by due instant.
CREATE INDEX clock_view_open ON clock_view (state, due_at_ms) WHERE ended_at_ms IS NULL;
