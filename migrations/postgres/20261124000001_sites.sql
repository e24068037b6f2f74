-- Sites embed the share-button snippet: a publishable key, the hosts their pages live on and the
-- origins allowed to call the public API. Lists are stored space-separated (neither hosts nor
-- origins can contain a space), which keeps the two dialects identical.
CREATE TABLE sites (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT    NOT NULL,
    public_key   TEXT    NOT NULL UNIQUE,
    domains      TEXT    NOT NULL,
    origins      TEXT    NOT NULL,
    utm_enabled  BIGINT  NOT NULL DEFAULT 1,
    utm_campaign TEXT,
    is_demo      BIGINT  NOT NULL DEFAULT 0,
    created_at   BIGINT  NOT NULL,
    disabled_at  BIGINT
);

-- A page of a site is one link, created on its first share and reused after.
ALTER TABLE links ADD COLUMN site_id BIGINT REFERENCES sites (id);
CREATE UNIQUE INDEX links_by_site_page ON links (site_id, url);

-- The fragment token of an address-bar reshare: one share per token and link.
ALTER TABLE shares ADD COLUMN token TEXT;
CREATE UNIQUE INDEX shares_by_token ON shares (link_id, token);

CREATE TABLE conversions (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id  BIGINT NOT NULL REFERENCES sites (id),
    link_id  BIGINT REFERENCES links (id),
    share_id BIGINT REFERENCES shares (id),
    name     TEXT   NOT NULL,
    value    DOUBLE PRECISION,
    at       BIGINT NOT NULL
);
CREATE INDEX conversions_by_link ON conversions (link_id);

-- Every share of the chain that brought a converting visitor: the last one converts, the
-- ancestors assist.
CREATE TABLE conversion_credits (
    conversion_id BIGINT NOT NULL REFERENCES conversions (id),
    share_id      BIGINT NOT NULL REFERENCES shares (id),
    link_id       BIGINT NOT NULL REFERENCES links (id),
    role          TEXT   NOT NULL,
    PRIMARY KEY (conversion_id, share_id)
);
CREATE INDEX conversion_credits_by_link ON conversion_credits (link_id);

-- "How did you hear about us?" answers, beside what was measured.
CREATE TABLE self_reports (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id  BIGINT NOT NULL REFERENCES sites (id),
    link_id  BIGINT REFERENCES links (id),
    share_id BIGINT REFERENCES shares (id),
    answer   TEXT   NOT NULL,
    channel  TEXT,
    at       BIGINT NOT NULL
);
CREATE INDEX self_reports_by_link ON self_reports (link_id);
CREATE INDEX self_reports_by_site ON self_reports (site_id);
