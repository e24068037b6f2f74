-- Short codes brought in from another shortener (Bitly, Shlink, YOURLS, a CSV file). Each is a
-- share of its link; this row says where it came from and how many clicks that tool had
-- counted. Those clicks were measured by somebody else, in their own way: they are shown as
-- imported clicks beside sharetrail's figures and never added to clicks, visitors or channels.
CREATE TABLE imported_shares (
    share_id    BIGINT NOT NULL PRIMARY KEY REFERENCES shares (id),
    link_id     BIGINT NOT NULL REFERENCES links (id),
    source      TEXT   NOT NULL,
    clicks      BIGINT NOT NULL DEFAULT 0,
    imported_at BIGINT NOT NULL
);
CREATE INDEX imported_shares_by_link ON imported_shares (link_id);

-- An export an admin uploaded in the web UI, kept between its preview and its confirmation
-- (in the database, so any instance can take the confirmation). Deleted once imported, and
-- after a day when nobody confirmed it.
CREATE TABLE import_uploads (
    token      TEXT   NOT NULL PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id),
    format     TEXT   NOT NULL,
    file_name  TEXT   NOT NULL,
    body       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
