-- wrk script for scripts/bench-redirect: every request asks for a random
-- short code from the file named by CODES_FILE, as a desktop Chrome browser,
-- so that sharetrail records each one as a human click.
--
-- With UNKNOWN_CODES=1 it asks for random codes of the generated shape that
-- nobody minted instead, as a scan for live codes would: every answer is 404.
--
-- It also counts the requests each thread wrote. wrk counts only completed
-- responses, so at the end of a timed run up to one request per connection is
-- in flight: the server may have redirected (and recorded) it or not. The
-- benchmark checks that the stored visits lie between the two counts.

local threads = {}

function setup(thread)
    thread:set("id", #threads + 1)
    table.insert(threads, thread)
end

local codes = {}
sent = 0

function init(args)
    local path = os.getenv("CODES_FILE")
    if not path then
        error("CODES_FILE is not set")
    end
    for line in io.lines(path) do
        if line ~= "" then
            table.insert(codes, line)
        end
    end
    if #codes == 0 then
        error("no codes in " .. path)
    end
    math.randomseed(os.time() * 100 + id)
    wrk.headers["User-Agent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
        .. "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
    wrk.headers["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    wrk.headers["Accept-Language"] = "en-GB,en;q=0.9"
end

-- The generated codes' alphabet (src/domain/code.rs): no 0, O, 1, l or I.
local alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
local unknown = os.getenv("UNKNOWN_CODES") == "1"

local function random_code()
    local chars = {}
    for i = 1, 8 do
        local at = math.random(#alphabet)
        chars[i] = alphabet:sub(at, at)
    end
    return table.concat(chars)
end

function request()
    sent = sent + 1
    if unknown then
        return wrk.format("GET", "/" .. random_code())
    end
    return wrk.format("GET", "/" .. codes[math.random(#codes)])
end

function done(summary, latency, requests)
    local total = 0
    for _, thread in ipairs(threads) do
        total = total + thread:get("sent")
    end
    -- Read by scripts/bench-redirect.
    io.write(string.format("Requests sent: %d\n", total))
end
