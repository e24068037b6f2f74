-- Every index on the visit log is one more B-tree insert for every visit stored, and the visit
-- writer stores tens of thousands a second. The only reader of raw visits is the CSV export,
-- which pages through a scope's visits in id order: an index on (link_id, id) finds each page
-- directly, where (link_id, at) had it sort all of a link's visits in the range for every page.
-- Nothing looks a single visit up by its id, and the identity column keeps ids unique, so the
-- primary key's index is dropped rather than paid for on every insert.
DROP INDEX visits_by_link;
CREATE INDEX visits_by_link ON visits (link_id, id);
ALTER TABLE visits DROP CONSTRAINT visits_pkey;

-- Each batch adds to the counters of thousands of shares and breakdown rows. With room left on
-- the page PostgreSQL rewrites such a row beside the old one (a HOT update) instead of adding an
-- entry to every index of the table; full pages made most of those updates touch every index.
-- Applies to pages written from now on.
ALTER TABLE shares SET (fillfactor = 70);
ALTER TABLE link_daily_breakdown SET (fillfactor = 70);
