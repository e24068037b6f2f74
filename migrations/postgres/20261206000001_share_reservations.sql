-- A share exists once it was sent: its button was clicked, or someone minted it on purpose.
-- The share buttons reserve a code ahead of the click (on hover or focus) so the click can open
-- the channel at once; until the click sends it, the row is a reservation: `reserved_until` is
-- set, it counts in no figure and is listed nowhere, and it is deleted once that time has
-- passed. Opening its short link proves it was sent and makes it a share. Rows that exist
-- already were all sent, and keep NULL.
ALTER TABLE shares ADD COLUMN reserved_until BIGINT;
CREATE INDEX shares_by_reservation_end ON shares (reserved_until) WHERE reserved_until IS NOT NULL;
