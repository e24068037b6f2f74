-- Share counters a big visit batch parked instead of applying (see `ShareCounts` in the visit
-- writer): one row per batch, written in the batch's transaction, deleted by the batch that
-- folds it into `shares`. Per share, four little-endian 64-bit integers: id, clicks, unfurls,
-- bots.
CREATE TABLE pending_share_counts (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    counts BYTEA NOT NULL
);
-- Random-looking integers do not compress; storing them as they are saves the attempt.
ALTER TABLE pending_share_counts ALTER COLUMN counts SET STORAGE EXTERNAL;
