-- A deleted link keeps its row, so that its codes and slugs are never handed out again and
-- keep answering 410 Gone. Deleting also switches it off and takes it out of its campaign, so
-- the redirect, the minting checks and every campaign figure treat it as gone without a
-- condition of their own; lists and documents skip rows where this is set.
ALTER TABLE links ADD COLUMN deleted_at BIGINT;
