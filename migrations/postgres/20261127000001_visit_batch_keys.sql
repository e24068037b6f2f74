-- The visit writer retries a batch when it cannot tell whether its commit landed (a dropped
-- connection, a timeout). Each batch records its key in the same transaction, so a retry of a
-- batch that did land changes nothing instead of storing every visit in it twice. Keys are
-- only needed for as long as a retry can come; the writer deletes them after an hour.
CREATE TABLE visit_batches (
    batch_key TEXT PRIMARY KEY,
    written_at BIGINT NOT NULL
);
CREATE INDEX visit_batches_by_time ON visit_batches (written_at);
