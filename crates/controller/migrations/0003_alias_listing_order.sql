-- The resolvable-alias listing pages by (created, id) descending, one keyset page per
-- request: without this index every page sorted the whole table.
CREATE INDEX aliases_created ON aliases (created, id);
