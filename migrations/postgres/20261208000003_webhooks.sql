-- Webhooks: endpoints, and an outbox of deliveries per endpoint. An event is written in the
-- same transaction as what it reports, so a crash or a restart loses none; each endpoint's
-- queue is sent in id order by one instance at a time (the lease).
CREATE TABLE webhook_endpoints (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url           TEXT    NOT NULL,
    -- `whsec_` and the base64 of the signing key, as Standard Webhooks writes it.
    secret        TEXT    NOT NULL,
    -- The event types it receives, comma-separated, each once.
    events        TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    disabled_at   BIGINT,
    -- Set when a delivery used up its retries: the queue waits until the endpoint is re-enabled.
    failing_since BIGINT,
    -- Failed attempts in a row at the head of the queue: the position in the retry schedule.
    failures      INTEGER NOT NULL DEFAULT 0,
    -- The queue waits until then (a retry's backoff, or the pace of click deliveries).
    not_before    BIGINT  NOT NULL DEFAULT 0,
    last_click_at BIGINT  NOT NULL DEFAULT 0,
    lease_owner   TEXT,
    lease_until   BIGINT
);

CREATE TABLE webhook_deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id     BIGINT  NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_type      TEXT    NOT NULL,
    -- The event's `data` as JSON; NULL for clicks, which name a range of the visit log instead.
    data            TEXT,
    first_visit     BIGINT,
    last_visit      BIGINT,
    -- Fixed at the first attempt, so every retry sends the same message under the same id.
    message_id      TEXT,
    body            TEXT,
    created_at      BIGINT  NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_attempt_at BIGINT,
    response_status INTEGER,
    last_error      TEXT,
    next_attempt_at BIGINT,
    delivered_at    BIGINT
);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (endpoint_id, id) WHERE delivered_at IS NULL;
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, id);

-- The deepest level each link's cascade has reached, for `cascade.depth_reached`: raised in
-- the transaction that counts a deeper share, so each new depth is reported once.
CREATE TABLE webhook_depth_marks (
    link_id BIGINT PRIMARY KEY,
    depth   BIGINT NOT NULL
);
INSERT INTO webhook_depth_marks (link_id, depth)
SELECT link_id, MAX(depth) FROM shares WHERE reserved_until IS NULL GROUP BY link_id;
