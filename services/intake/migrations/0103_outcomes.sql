-- How a complaint left the main path: withdrawn by the customer (the reason), or closed out of
-- scope (the external route the customer chose). One row per outcome, never updated.
CREATE TABLE complaint_outcomes (
    outcome_id     TEXT PRIMARY KEY,
    complaint_id   TEXT NOT NULL,
    -- "withdrawn" or "external_route"
    outcome        TEXT NOT NULL,
    -- For external_route: the route chosen ("mediation", ..., "declined"); empty otherwise.
    detail         TEXT NOT NULL,
    reason         TEXT NOT NULL,
    recorded_by    TEXT NOT NULL,
    on_behalf      INTEGER NOT NULL,
    recorded_at_ms BIGINT NOT NULL
);

CREATE INDEX complaint_outcomes_by_complaint ON complaint_outcomes (complaint_id);
