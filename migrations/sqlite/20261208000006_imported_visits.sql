-- The visit history another shortener exported for an imported code (Shlink logs each visit),
-- summed per UTC day and visitor country: people apart from what that tool took for bots.
-- Like `imported_shares.clicks`, these were measured by somebody else and are shown as the
-- imported history beside sharetrail's figures, never added to clicks, visitors, channels or
-- depths. Written in the transaction that imports the code, so a history is never written
-- twice and never half.
CREATE TABLE imported_visits (
    share_id BIGINT NOT NULL REFERENCES imported_shares (share_id),
    link_id  BIGINT NOT NULL REFERENCES links (id),
    day      TEXT   NOT NULL,
    -- ISO 3166-1 alpha-2, or 'unknown' where the tool could not place the visitor.
    country  TEXT   NOT NULL,
    clicks   BIGINT NOT NULL DEFAULT 0,
    bots     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (share_id, day, country)
);
CREATE INDEX imported_visits_by_link ON imported_visits (link_id, day);
