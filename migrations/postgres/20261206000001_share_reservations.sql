-- A share exists once it was sent: its button was clicked, or someone minted it on purpose.
-- The share buttons reserve a code ahead of the click (on hover or focus) so the click can open
-- the channel at once; until the click sends it, the row is a reservation: `reserved_until` is
-- set, it counts in no figure and is listed nowhere, and it is deleted once that time has
-- passed. Opening its short link proves it was sent and makes it a share. Rows that exist
-- already were all sent, and keep NULL.
ALTER TABLE shares ADD COLUMN reserved_until BIGINT;
CREATE INDEX shares_by_reservation_end ON shares (reserved_until) WHERE reserved_until IS NOT NULL;

-- Most shares have no token and many no parent: their index entries were written (and, on
-- SQLite, checkpointed) for every reservation and share without ever being looked up.
DROP INDEX shares_by_token;
CREATE UNIQUE INDEX shares_by_token ON shares (link_id, token) WHERE token IS NOT NULL;
DROP INDEX shares_by_parent;
CREATE INDEX shares_by_parent ON shares (parent_id) WHERE parent_id IS NOT NULL;

-- A new share's link and parent are read and checked in the transaction that inserts it, and
-- neither links nor shares that were sent are ever deleted (only disabled): the foreign keys
-- checked, and locked a row for, what cannot fail, once per share of every batch.
ALTER TABLE shares DROP CONSTRAINT IF EXISTS shares_link_id_fkey;
ALTER TABLE shares DROP CONSTRAINT IF EXISTS shares_parent_id_fkey;
