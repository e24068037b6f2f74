-- Times are Unix milliseconds (BIGINT) on both backends so the two stores share their SQL.

CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    prefix      TEXT    NOT NULL,
    key_hash    TEXT    NOT NULL UNIQUE,
    created_at  BIGINT  NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE custom_channels (
    name        TEXT    PRIMARY KEY,
    utm_medium  TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE links (
    id              INTEGER PRIMARY KEY,
    url             TEXT    NOT NULL,
    title           TEXT,
    campaign        TEXT,
    created_at      BIGINT  NOT NULL,
    disabled_at     BIGINT,
    expires_at      BIGINT,
    -- Running totals kept by the visit writer and share creation, so stats never scan visits.
    share_count     BIGINT  NOT NULL DEFAULT 0,
    child_shares    BIGINT  NOT NULL DEFAULT 0,
    max_depth       BIGINT  NOT NULL DEFAULT 0,
    sum_sizes       BIGINT  NOT NULL DEFAULT 0,
    sum_sq_sizes    BIGINT  NOT NULL DEFAULT 0,
    clicks          BIGINT  NOT NULL DEFAULT 0,
    unfurls         BIGINT  NOT NULL DEFAULT 0,
    bots            BIGINT  NOT NULL DEFAULT 0,
    unique_visitors BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE shares (
    id               INTEGER PRIMARY KEY,
    link_id          BIGINT  NOT NULL REFERENCES links (id),
    code             TEXT    NOT NULL UNIQUE,
    -- Lower-cased custom slug: slugs are unique ignoring case, generated codes are not slugs.
    slug_key         TEXT    UNIQUE,
    channel          TEXT    NOT NULL,
    parent_id        BIGINT  REFERENCES shares (id),
    depth            BIGINT  NOT NULL,
    label            TEXT,
    created_at       BIGINT  NOT NULL,
    disabled_at      BIGINT,
    expires_at       BIGINT,
    subtree_size     BIGINT  NOT NULL DEFAULT 1,
    inferred_channel TEXT,
    clicks           BIGINT  NOT NULL DEFAULT 0,
    unfurls          BIGINT  NOT NULL DEFAULT 0,
    bots             BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX shares_by_link ON shares (link_id, id);
CREATE INDEX shares_by_parent ON shares (parent_id);

CREATE TABLE visits (
    id            INTEGER PRIMARY KEY,
    share_id      BIGINT  NOT NULL REFERENCES shares (id),
    link_id       BIGINT  NOT NULL REFERENCES links (id),
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
CREATE INDEX visits_by_link ON visits (link_id, at);

CREATE TABLE link_channel_stats (
    link_id BIGINT NOT NULL,
    channel TEXT   NOT NULL,
    shares  BIGINT NOT NULL DEFAULT 0,
    clicks  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (link_id, channel)
);

CREATE TABLE link_depth_stats (
    link_id BIGINT NOT NULL,
    depth   BIGINT NOT NULL,
    shares  BIGINT NOT NULL DEFAULT 0,
    clicks  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (link_id, depth)
);

CREATE TABLE link_unfurl_stats (
    link_id BIGINT NOT NULL,
    app     TEXT   NOT NULL,
    unfurls BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (link_id, app)
);

CREATE TABLE link_daily_stats (
    link_id BIGINT NOT NULL,
    day     TEXT   NOT NULL,
    clicks  BIGINT NOT NULL DEFAULT 0,
    shares  BIGINT NOT NULL DEFAULT 0,
    unfurls BIGINT NOT NULL DEFAULT 0,
    bots    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (link_id, day)
);

-- One row per (link, daily visitor hash): the count of rows is the unique-visitor total.
CREATE TABLE link_visitors (
    link_id BIGINT NOT NULL,
    visitor TEXT   NOT NULL,
    PRIMARY KEY (link_id, visitor)
);

-- The salt of the visitor hash; rows older than today are deleted.
CREATE TABLE visitor_salts (
    day  TEXT PRIMARY KEY,
    salt TEXT NOT NULL
);
