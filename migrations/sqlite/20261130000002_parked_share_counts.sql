-- Share counters a big visit batch parked instead of applying (see `ShareCounts` in the visit
-- writer): one row per batch, written in the batch's transaction, deleted by the batch that
-- folds it into `shares`. Per share, four little-endian 64-bit integers: id, clicks, unfurls,
-- bots.
CREATE TABLE pending_share_counts (
    id     INTEGER PRIMARY KEY,
    counts BLOB NOT NULL
);
