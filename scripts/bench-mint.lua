-- wrk script for scripts/bench-mint: every request mints (or reserves) a share of
-- one page, under a parent picked at random from the file PARENTS_FILE, on a channel
-- picked at random. BODY is the JSON body with two %s: the channel, then the parent.
-- With KEY set it is an API request (Bearer key, JSON); otherwise a share button's
-- (Origin ORIGIN, JSON as text/plain, no preflight).
--
-- It counts what it sent and how many answers were 201: the benchmark checks that
-- sharetrail stored exactly as many shares or reservations as it said it made.

local threads = {}

function setup(thread)
    thread:set("id", #threads + 1)
    table.insert(threads, thread)
end

local parents = {}
local channels = { "whatsapp", "email", "slack", "sms", "copy", "telegram" }
local body, path
sent = 0
created = 0

function init(args)
    for line in io.lines(os.getenv("PARENTS_FILE")) do
        if line ~= "" then
            table.insert(parents, line)
        end
    end
    math.randomseed(os.time() * 100 + id)
    body, path = os.getenv("BODY"), os.getenv("MINT_PATH")
    wrk.method = "POST"
    local key = os.getenv("KEY")
    if key and key ~= "" then
        wrk.headers["Authorization"] = "Bearer " .. key
        wrk.headers["Content-Type"] = "application/json"
    else
        wrk.headers["Origin"] = os.getenv("ORIGIN")
        wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
    end
end

function request()
    sent = sent + 1
    local channel = channels[math.random(#channels)]
    return wrk.format(nil, path, nil, string.format(body, channel, parents[math.random(#parents)]))
end

function response(status, headers, response_body)
    if status == 201 then
        created = created + 1
    end
end

function done(summary, latency, requests)
    local total_sent, total_created = 0, 0
    for _, thread in ipairs(threads) do
        total_sent = total_sent + thread:get("sent")
        total_created = total_created + thread:get("created")
    end
    -- Read by scripts/bench-mint.
    io.write(string.format("Requests sent: %d\nCreated: %d\n", total_sent, total_created))
end
