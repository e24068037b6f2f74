-- The only reader of raw visits is the CSV export, which pages through a scope's visits in id
-- order. An index on link_id alone is ordered by (link_id, rowid), which is the visit id: it
-- finds each page directly, where (link_id, at) had it sort a link's visits for every page, and
-- its entries are smaller for the visit writer to insert.
DROP INDEX visits_by_link;
CREATE INDEX visits_by_link ON visits (link_id);
