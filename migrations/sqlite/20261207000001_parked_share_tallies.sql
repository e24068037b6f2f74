-- PostgreSQL's mint writers park what a share batch adds to its links' rollups here, for one
-- folder to apply. SQLite's single writer adds it in the batch's own transaction and never
-- writes this table; it exists so that the two backends stay one schema.
CREATE TABLE pending_share_tallies (
    id    INTEGER PRIMARY KEY,
    tally TEXT NOT NULL
);
