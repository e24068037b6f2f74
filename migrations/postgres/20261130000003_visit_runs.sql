-- The visit log as runs: one row per batch and link holding that link's visits of the batch as a
-- JSON array (one array per visit, fields in the order of the `visits` view below). A row and an
-- index entry per visit were most of the database's work per redirect; a batch of thousands of
-- visits touches a few hundred links. Each visit keeps its own id: a run's visits are
-- first_id, first_id + 1, … first_id + visits - 1, from a block of ids its batch took.
CREATE TABLE visit_runs (
    first_id BIGINT  PRIMARY KEY,
    link_id  BIGINT  NOT NULL,
    visits   INTEGER NOT NULL,
    min_at   BIGINT  NOT NULL,
    max_at   BIGINT  NOT NULL,
    data     TEXT    NOT NULL
) WITH (toast_tuple_target = 8160);
-- Runs up to a page long stay in the row, uncompressed: compressing costs the writer's CPU and
-- JSON this repetitive is cheaper to store than to squeeze. Longer ones go out of line as they are.
ALTER TABLE visit_runs ALTER COLUMN data SET STORAGE EXTERNAL;
-- The export reads a scope's runs in id order.
CREATE INDEX visit_runs_by_link ON visit_runs (link_id, first_id);

-- The next free visit id. A batch takes its block by updating this row, which also queues
-- instances' batches behind each other, so the ids of one run are never interleaved.
CREATE TABLE visit_ids (next_id BIGINT NOT NULL);
INSERT INTO visit_ids (next_id) SELECT COALESCE(MAX(id), 0) + 1 FROM visits;

-- Visits stored so far become runs of one, keeping their ids.
INSERT INTO visit_runs (first_id, link_id, visits, min_at, max_at, data)
SELECT id, link_id, 1, at, at,
       json_build_array(json_build_array(share_id, at, kind, app, visitor, referrer_host, device, browser, os, country))::text
FROM visits;
DROP TABLE visits;

-- The visit log a row per visit, as it was: for SQL reports and a look at the data by hand.
CREATE VIEW visits AS
SELECT r.first_id + e.n - 1           AS id,
       r.link_id,
       CAST(e.v ->> 0 AS BIGINT)      AS share_id,
       CAST(e.v ->> 1 AS BIGINT)      AS at,
       e.v ->> 2                      AS kind,
       e.v ->> 3                      AS app,
       e.v ->> 4                      AS visitor,
       e.v ->> 5                      AS referrer_host,
       e.v ->> 6                      AS device,
       e.v ->> 7                      AS browser,
       e.v ->> 8                      AS os,
       e.v ->> 9                      AS country
FROM visit_runs r
CROSS JOIN LATERAL json_array_elements(CAST(r.data AS json)) WITH ORDINALITY AS e (v, n);
