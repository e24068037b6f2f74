-- The marketers' web UI: campaigns, a date-filterable rollup, accounts and sessions.

-- Campaigns group links. `slug` is what links carry in `links.campaign` (and so in utm_campaign);
-- renaming a campaign changes its `name` only, so analytics keep seeing one campaign.
CREATE TABLE campaigns (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    archived_at BIGINT
);
INSERT INTO campaigns (slug, name, created_at)
    SELECT campaign, campaign, MIN(created_at) FROM links WHERE campaign IS NOT NULL GROUP BY campaign;
CREATE INDEX links_by_campaign ON links (campaign);

-- Visits per link, day, channel, depth, kind and unfurl app ('' for none): the rollup the web UI
-- filters by date range, kept by the visit writer like the others.
CREATE TABLE link_daily_breakdown (
    link_id BIGINT NOT NULL,
    day     TEXT   NOT NULL,
    channel TEXT   NOT NULL,
    depth   BIGINT NOT NULL,
    kind    TEXT   NOT NULL,
    app     TEXT   NOT NULL DEFAULT '',
    visits  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (link_id, day, channel, depth, kind, app)
);
INSERT INTO link_daily_breakdown (link_id, day, channel, depth, kind, app, visits)
    SELECT v.link_id, to_char(to_timestamp(v.at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), s.channel, s.depth, v.kind, COALESCE(v.app, ''), COUNT(*)
    FROM visits v JOIN shares s ON s.id = v.share_id
    GROUP BY v.link_id, to_char(to_timestamp(v.at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), s.channel, s.depth, v.kind, COALESCE(v.app, '');

-- Marketers' accounts. `email` is stored lower-cased; the password as an argon2id PHC string.
CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    disabled_at   BIGINT
);

-- Server-side sessions: the cookie holds a random token, the database only its SHA-256, so a
-- copy of the database cannot be turned into a signed-in browser.
CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY,
    user_id      BIGINT  NOT NULL REFERENCES users (id),
    csrf_token   TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    last_seen_at BIGINT  NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
