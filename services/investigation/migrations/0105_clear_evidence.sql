-- Start-up seals evidence content still in clear through this index, which stays empty once
-- every item is sealed, rather than by reading the register.
CREATE INDEX evidence_clear ON evidence (complaint_id) WHERE content NOT LIKE 'enc:%';
