-- The visit log as runs: one row per batch and link holding that link's visits of the batch as a
-- JSON array (one array per visit, fields in the order of the `visits` view below). A row and an
-- index entry per visit were most of the visit writer's work; a batch of thousands of visits
-- touches a few hundred links. Each visit keeps its own id: a run's visits are
-- first_id, first_id + 1, … first_id + visits - 1, from a block of ids its batch took.
CREATE TABLE visit_runs (
    first_id INTEGER PRIMARY KEY,
    link_id  INTEGER NOT NULL,
    visits   INTEGER NOT NULL,
    min_at   INTEGER NOT NULL,
    max_at   INTEGER NOT NULL,
    data     TEXT    NOT NULL
);
-- The export reads a scope's runs in id order.
CREATE INDEX visit_runs_by_link ON visit_runs (link_id, first_id);

-- The next free visit id; a batch takes its block by updating this row.
CREATE TABLE visit_ids (next_id INTEGER NOT NULL);
INSERT INTO visit_ids (next_id) SELECT COALESCE(MAX(id), 0) + 1 FROM visits;

-- Visits stored so far become runs of one, keeping their ids.
INSERT INTO visit_runs (first_id, link_id, visits, min_at, max_at, data)
SELECT id, link_id, 1, at, at,
       json_array(json_array(share_id, at, kind, app, visitor, referrer_host, device, browser, os, country))
FROM visits;
DROP TABLE visits;

-- The visit log a row per visit, as it was: for SQL reports and a look at the data by hand.
CREATE VIEW visits AS
SELECT r.first_id + e.key  AS id,
       r.link_id,
       e.value ->> 0       AS share_id,
       e.value ->> 1       AS at,
       e.value ->> 2       AS kind,
       e.value ->> 3       AS app,
       e.value ->> 4       AS visitor,
       e.value ->> 5       AS referrer_host,
       e.value ->> 6       AS device,
       e.value ->> 7       AS browser,
       e.value ->> 8       AS os,
       e.value ->> 9       AS country
FROM visit_runs r, json_each(r.data) AS e;
