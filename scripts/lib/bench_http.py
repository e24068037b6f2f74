"""HTTP and parsing helpers for scripts/bench-redirect and scripts/bench-mint (Python 3 stdlib only).

Each subcommand prints plain words on one line for the shell to `read`.
"""

import http.client
import json
import os
import re
import socket
import sys
import time
import urllib.parse

CHANNELS = ["whatsapp", "email", "slack", "sms", "telegram"]


def connect(base):
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.connect()
    # Small request/response pairs on one connection: no Nagle delays.
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def call(conn, method, path, key=None, body=None):
    """One request on a keep-alive connection; returns (status, bytes)."""
    headers = {"Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def expect_json(status, payload, what):
    if not 200 <= status < 300:
        sys.exit(f"{what}: HTTP {status}: {payload[:300]!r}")
    return json.loads(payload)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        print(sock.getsockname()[1])


def wait(url, status, timeout, pid):
    """Waits until GET url answers with the given status while pid lives."""
    deadline = time.monotonic() + float(timeout)
    parts = urllib.parse.urlsplit(url)
    while time.monotonic() < deadline:
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            sys.exit(f"process {pid} exited before {url} answered")
        try:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=2)
            conn.request("GET", parts.path or "/")
            if conn.getresponse().status == int(status):
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"{url} did not answer {status} within {timeout} s")


def seed(base, key, links, shares_per_link, codes_path, links_path):
    """Creates links x shares over one keep-alive connection; writes codes and link ids."""
    conn = connect(base)
    codes, link_ids = [], []
    for i in range(int(links)):
        status, payload = call(
            conn,
            "POST",
            "/api/v1/links",
            key,
            {"url": f"https://example.com/landing/{i}", "campaign": "bench"},
        )
        link_id = expect_json(status, payload, "create link")["id"]
        link_ids.append(link_id)
        for j in range(int(shares_per_link)):
            body = {"link_id": link_id, "channel": CHANNELS[j % len(CHANNELS)]}
            status, payload = call(conn, "POST", "/api/v1/shares", key, body)
            codes.append(expect_json(status, payload, "create share")["code"])
    unique = list(dict.fromkeys(codes))
    with open(codes_path, "w") as out:
        out.writelines(f"{code}\n" for code in unique)
    with open(links_path, "w") as out:
        out.writelines(f"{link_id}\n" for link_id in link_ids)
    print(len(unique))


def mint_seed(base, site_key, origin, page, count, parents_path):
    """Mints `count` shares of `page` as share buttons do (the parents the benchmark's
    requests reshare under); writes their codes and prints the page's link id."""
    conn = connect(base)
    codes, link_id = [], None
    for i in range(int(count)):
        body = json.dumps({"site": site_key, "url": page, "channel": CHANNELS[i % len(CHANNELS)]}).encode()
        conn.request("POST", "/api/v1/public/shares", body=body,
                     headers={"Origin": origin, "Content-Type": "text/plain;charset=UTF-8"})
        response = conn.getresponse()
        share = expect_json(response.status, response.read(), "mint a share")
        codes.append(share["code"])
        link_id = share["link_id"]
    with open(parents_path, "w") as out:
        out.writelines(f"{code}\n" for code in codes)
    print(link_id)


def metric(base, name):
    """Prints the value of one sharetrail metric (0 when it has none yet)."""
    conn = connect(base)
    status, payload = call(conn, "GET", "/metrics")
    if status != 200:
        sys.exit(f"/metrics: HTTP {status}")
    for line in payload.decode().splitlines():
        match = re.match(rf"{re.escape(name)}\s+(\S+)$", line)
        if match:
            value = float(match.group(1))
            print(int(value) if value.is_integer() else value)
            return
    print(0)


def share_count(base, key, link_id):
    """Prints shares.total of one link's stats."""
    conn = connect(base)
    status, payload = call(conn, "GET", f"/api/v1/links/{link_id}/stats", key)
    print(expect_json(status, payload, f"stats of link {link_id}")["shares"]["total"])


def counters(base):
    conn = connect(base)
    status, payload = call(conn, "GET", "/metrics")
    if status != 200:
        sys.exit(f"/metrics: HTTP {status}")
    totals = {"queued": 0.0, "written": 0.0, "dropped": 0.0}
    for line in payload.decode().splitlines():
        match = re.match(r"sharetrail_visits_(queued|written|dropped)_total(?:\{[^}]*\})?\s+(\S+)", line)
        if match:
            totals[match.group(1)] += float(match.group(2))
    return tuple(int(totals[k]) for k in ("queued", "written", "dropped"))


def drain(base, timeout):
    """Waits until every queued visit is written (or dropped) and the counters
    hold still; prints queued, written, dropped and whether it drained."""
    deadline = time.monotonic() + float(timeout)
    previous = None
    while True:
        current = counters(base)
        queued, written, dropped = current
        if written + dropped >= queued and current == previous:
            print(queued, written, dropped, "drained")
            return
        if time.monotonic() > deadline:
            print(queued, written, dropped, "timeout")
            return
        previous = current
        time.sleep(0.5)


def clicks(base, key, links_path):
    """Sums clicks.total over the stats of every seeded link."""
    conn = connect(base)
    total = 0
    with open(links_path) as lines:
        for link_id in filter(None, (line.strip() for line in lines)):
            status, payload = call(conn, "GET", f"/api/v1/links/{link_id}/stats", key)
            total += int(expect_json(status, payload, f"stats of link {link_id}")["clicks"]["total"])
    print(total)


def to_ms(value):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk_parse(path):
    """Prints req/s, p50 ms, p99 ms, completed, sent, non-2xx/3xx and socket errors."""
    text = open(path).read()

    def find(pattern, default=None):
        match = re.search(pattern, text, re.MULTILINE)
        if match:
            return match.group(1)
        if default is None:
            sys.exit(f"{path}: no match for {pattern!r}; is this wrk --latency output?")
        return default

    rps = float(find(r"^Requests/sec:\s+([\d.]+)"))
    p50 = to_ms(find(r"^\s+50%\s+(\S+)"))
    p99 = to_ms(find(r"^\s+99%\s+(\S+)"))
    completed = int(find(r"^\s+(\d+) requests in "))
    sent = int(find(r"^Requests sent: (\d+)"))
    created = int(find(r"^Created: (\d+)", "-1"))
    bad = int(find(r"^\s+Non-2xx or 3xx responses: (\d+)", "0"))
    errors = find(r"^\s+Socket errors: (.*)$", "")
    error_count = sum(int(n) for n in re.findall(r"\d+", errors))
    print(f"{rps:.0f} {p50:.2f} {p99:.2f} {completed} {sent} {bad} {error_count} {created}")


COMMANDS = {
    "free-port": free_port,
    "wait": wait,
    "seed": seed,
    "mint-seed": mint_seed,
    "metric": metric,
    "share-count": share_count,
    "drain": drain,
    "clicks": clicks,
    "wrk-parse": wrk_parse,
}

if __name__ == "__main__":
    COMMANDS[sys.argv[1]](*sys.argv[2:])
