-- What a messaging app's link preview shows for a link: the default card (channel NULL) and a
-- variant per channel. Kept beside `links`, not in it: most links have none, and the redirect
-- reads a link's cards only when a preview bot asks.
CREATE TABLE link_preview_cards (
    link_id     BIGINT  NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    channel     TEXT,
    title       TEXT    NOT NULL,
    description TEXT,
    image_url   TEXT,
    updated_at  BIGINT  NOT NULL
);

-- One card per link and channel, the default included: NULLs are never equal in a UNIQUE
-- constraint, so the index is on the channel with the default spelled ''.
CREATE UNIQUE INDEX link_preview_cards_one_per_channel ON link_preview_cards (link_id, (COALESCE(channel, '')));
