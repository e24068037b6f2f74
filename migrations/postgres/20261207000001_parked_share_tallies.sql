-- What a share batch adds to its links' rollups (share count, depths, channels, days), parked
-- by PostgreSQL's mint writers instead of applied: every share of a viral page adds to the
-- same link row, and writers that each updated it queued behind each other's commits. One
-- folder at a time (an advisory lock) applies and deletes the parked rows, in the background
-- and before any read of those figures, so every figure read is exact. The tally is JSON (see
-- `ShareTally::to_parked`).
CREATE TABLE pending_share_tallies (
    id    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tally TEXT NOT NULL
);
