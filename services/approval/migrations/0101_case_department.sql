-- The department handling the case, carried by `resolution_proposed`: approvers are checked
-- against its line (a head of that department, a vice president in charge of it).
-- Resolutions are stored as JSON of the domain type from now on.
ALTER TABLE approvals ADD COLUMN department TEXT NOT NULL DEFAULT '';
