-- The visit log is written only by the batch writer, from shares it read out of this database,
-- and shares and links are never deleted (only disabled). Foreign keys on it checked, on every
-- visit, what cannot fail, and one failure would have cost the whole batch.
ALTER TABLE visits DROP CONSTRAINT IF EXISTS visits_share_id_fkey;
ALTER TABLE visits DROP CONSTRAINT IF EXISTS visits_link_id_fkey;

