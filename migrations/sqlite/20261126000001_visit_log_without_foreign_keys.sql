-- The visit log is written only by the batch writer, from shares it read out of this database,
-- and shares and links are never deleted (only disabled). Foreign keys on it checked, on every
-- visit, what cannot fail, and one failure would have cost the whole batch.
-- SQLite cannot drop a constraint: the table is rebuilt without them.
CREATE TABLE visits_log (
    id            INTEGER PRIMARY KEY,
    share_id      BIGINT  NOT NULL,
    link_id       BIGINT  NOT NULL,
    at            BIGINT  NOT NULL,
    kind          TEXT    NOT NULL,
    app           TEXT,
    visitor       TEXT    NOT NULL,
    referrer_host TEXT,
    device        TEXT    NOT NULL,
    browser       TEXT,
    os            TEXT,
    country       TEXT
);
INSERT INTO visits_log (id, share_id, link_id, at, kind, app, visitor, referrer_host, device, browser, os, country)
    SELECT id, share_id, link_id, at, kind, app, visitor, referrer_host, device, browser, os, country FROM visits;
DROP TABLE visits;
ALTER TABLE visits_log RENAME TO visits;
CREATE INDEX visits_by_link ON visits (link_id, at);
