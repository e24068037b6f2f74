-- What a link may ask of its visits beyond a plain redirect. Every column is NULL for a link that
-- asks nothing, which is every link made before this migration: they behave as they did.
--
-- max_clicks:   human clicks after which its short links behave as expired.
-- fallback_url: where an expired, used-up or switched-off link sends people instead of 410.
-- password_hash: argon2id PHC string; a visitor must give the password before the redirect.
-- utm_*:        per-link UTM tags: NULL keeps sharetrail's per-channel value, '' adds none,
--               any other text replaces it.
ALTER TABLE links ADD COLUMN max_clicks BIGINT CHECK (max_clicks > 0);
ALTER TABLE links ADD COLUMN fallback_url TEXT;
ALTER TABLE links ADD COLUMN password_hash TEXT;
ALTER TABLE links ADD COLUMN utm_source TEXT;
ALTER TABLE links ADD COLUMN utm_medium TEXT;
ALTER TABLE links ADD COLUMN utm_campaign TEXT;
ALTER TABLE links ADD COLUMN utm_term TEXT;
ALTER TABLE links ADD COLUMN utm_content TEXT;
