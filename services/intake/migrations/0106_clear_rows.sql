-- Start-up seals complaints still holding personal data in clear (written before encryption,
-- or by an older replica during a rolling upgrade). It finds them through this index, which
-- stays empty once every row is sealed, rather than by reading the whole register.
CREATE INDEX complaints_clear ON complaints (complaint_id) WHERE id_number NOT LIKE 'enc:%' AND id_number <> '';
