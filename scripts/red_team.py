"""Probes of what an attacker, or a bad day, reaches first, against a live demo server.

Run by scripts/red-team.sh, which seeds the demo and starts the server. Each probe prints
HELD or BROKEN with what it saw; the exit status is the number of BROKEN probes. Python's
standard library only.
"""

import base64
import concurrent.futures
import datetime
import json
import os
import stat
import struct
import sys
import urllib.error
import urllib.request
import zlib

BASE = os.environ["RT_BASE"]
DATA = os.environ["RT_DATA"]
CAMERA_KEY = os.environ["RT_CAMERA_KEY"]
PASSWORD = "demo-password-2026"
PURPOSE = {"code": "stolen_vehicle", "file_number": "260101/1234",
           "justification": "Vehicle reported stolen from a driveway overnight"}
results = []


def call(method, path, token=None, body=None, raw=None, headers=None):
    """(status, parsed JSON or text, response headers)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            status, text, hdrs = r.status, r.read().decode(), r.headers
    except urllib.error.HTTPError as e:
        status, text, hdrs = e.code, e.read().decode(), e.headers
    try:
        return status, json.loads(text) if text else None, hdrs
    except ValueError:
        return status, text, hdrs


def login(staff_id):
    status, body, _ = call("POST", "/api/v1/auth/login",
                           body={"staff_id": staff_id, "password": PASSWORD})
    assert status == 200, (staff_id, status, body)
    return body["token"]


def probe(name, held, saw):
    results.append(held)
    print(f"{'HELD  ' if held else 'BROKEN'} {name}: {saw}")


def field(body):
    return (body or {}).get("error", {}).get("field") if isinstance(body, dict) else None


def ledger_bytes(auditor, since):
    size = call("GET", "/api/v1/ledger/tree-head", auditor)[1]["size"]
    total, at = 0, since
    while at < size:
        to = min(size, at + 500)
        page = call("GET", f"/api/v1/ledger/entries?from={at}&to={to}", auditor)[1]
        total += sum(len(e["body"]) for e in page)
        at = to
    return size, total


def png(width, height):
    """A grey PNG of width x height pixels, compressed to almost nothing."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    row = b"\x00" + b"\x80" * width
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def now(minutes_ago=0):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=minutes_ago)
    return t.isoformat().replace("+00:00", "Z")


def ingest(body, key=None, path="/api/v1/reads"):
    return call("POST", path, key or CAMERA_KEY, body=body)


# 1. The ledger against a flood.
auditor = login("S1005")
start = call("GET", "/api/v1/ledger/tree-head", auditor)[1]["size"]
flood = 200
held_back = sum(call("GET", "/api/v1/alerts?filler=" + "q" * 12_000)[0] == 429 for _ in range(flood))
size, used = ledger_bytes(auditor, start)
probe("ledger flood without credentials", used / flood < 1000 and held_back > 0,
      f"{flood} requests with a 12 KB query string: {held_back} answered 429, "
      f"{size - start} entries, {used / flood:.0f} ledger bytes per request")
searcher = login("S1001")
start = size
big = dict(PURPOSE, justification="Checking the vehicle again. " * 4000)
st, body, _ = call("POST", "/api/v1/searches", searcher, body={"plate": "XWJ891", "purpose": big})
size, used = ledger_bytes(auditor, start)
probe("a 100 KB justification", st == 422 and used < 4096,
      f"{st} naming {field(body)}; its ledger entry is {used} bytes")

# 2. Sign-in without an oracle.
answers = []
for attempt in range(6):
    k = call("POST", "/api/v1/auth/login", body={"staff_id": "S1008", "password": "guess"})
    u = call("POST", "/api/v1/auth/login", body={"staff_id": "S9999", "password": "guess"})
    answers.append((k[0], k[1], u[0], u[1], k[2].get("retry-after")))
same = all(a[0] == a[2] and a[1] == a[3] for a in answers)
last = answers[-1]
says_how_long = last[0] == 429 and "minute" in last[1]["error"]["message"] and last[4]
probe("sign-in answers alike for a real and an unknown staff id", same and says_how_long,
      f"statuses {[a[0] for a in answers]} for both; the pause says: {last[1]['error']['message']!r}")

# 3. Camera keys: rotation with an overlap, revocation at once.
admin = login("S1006")
st, rotated, _ = call("POST", "/api/v1/cameras/1/keys", admin, body={"overlap_seconds": 0})
read = {"plate": "RTM123", "captured_at": now(1), "confidence": 0.9}
old_status = ingest(read)[0]
new_key = rotated["api_key"] if st == 201 else ""
new_status = ingest(dict(read, plate="RTM124"), key=new_key)[0]
call("DELETE", "/api/v1/cameras/1/keys", admin)
revoked_status = ingest(dict(read, plate="RTM125"), key=new_key)[0]
probe("camera keys rotate and revoke at once",
      (st, old_status, new_status, revoked_status) == (201, 401, 201, 401),
      f"rotate {st}; old key {old_status}, new key {new_status}, after revoke {revoked_status}")
st, rotated, _ = call("POST", "/api/v1/cameras/1/keys", admin)
CAMERA_KEY = rotated["api_key"]

# 4. Image bombs: a decode budget, and a clear refusal of what can never fit.
bomb = base64.b64encode(png(7000, 5700)).decode()
def overview(_):
    return ingest({"captured_at": now(1), "overview_image": bomb})[0]
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    statuses = list(pool.map(overview, range(16)))
giant = base64.b64encode(png(50_000, 50_000)).decode()
st, body, _ = ingest({"plate": "GNT123", "captured_at": now(1), "confidence": 0.9,
                      "plate_image": giant})
alive = call("GET", "/healthz")[0] == 200
probe("image bombs", alive and st == 413 and field(body) and all(s < 500 or s == 503 for s in statuses),
      f"16 concurrent 40-megapixel overviews: {sorted(statuses)}; a 50,000 x 50,000 PNG: {st} "
      f"naming {field(body)}; server alive: {alive}")

# 6. Files and caching.
modes = {p: stat.S_IMODE(os.stat(os.path.join(DATA, p)).st_mode) for p in ["", "anpr.sqlite"]}
headers = call("GET", "/api/v1/auth/me", searcher)[2]
private = modes[""] & 0o077 == 0 and modes["anpr.sqlite"] & 0o077 == 0
probe("private files, answers not cached", private and headers.get("cache-control") == "no-store",
      f"data directory {modes['']:o}, database {modes['anpr.sqlite']:o}, "
      f"Cache-Control {headers.get('cache-control')!r}")

# 8. Input.
checks = []
dots = dict(PURPOSE, justification="." * 20)
st, body, _ = call("POST", "/api/v1/searches", searcher, body={"plate": "XWJ891", "purpose": dots})
checks.append(("justification of dots", st, field(body), 422, "purpose.justification"))
st, body, _ = call("POST", "/api/v1/searches", searcher,
                   body={"plate": "AB", "mode": "fuzzy", "max_edits": 2, "purpose": PURPOSE})
checks.append(("fuzzy AB with 2 edits", st, field(body), 422, "plate"))
st, body, _ = ingest({"plate": "OLD123", "captured_at": "2010-06-01T10:00:00Z", "confidence": 0.9})
checks.append(("a read from 2010", st, field(body), 422, "captured_at"))
batch = {"reads": [{"plate": f"B{i:05d}", "captured_at": now(1), "confidence": 0.9} for i in range(1001)]}
st, body, _ = ingest(batch, path="/api/v1/reads:batch")
checks.append(("a batch of 1,001 reads", st, field(body), 413, "reads"))
st, body, _ = ingest({"captured_at": now(1), "confidence": 0.9})
checks.append(("a read with no plate and no image", st, field(body), 422, "plate"))
bad = [c for c in checks if (c[1], c[2]) != (c[3], c[4])]
probe("input quality", not bad,
      "; ".join(f"{c[0]}: {c[1]} naming {c[2]}" for c in checks))

print(f"{results.count(True)} held, {results.count(False)} broken")
sys.exit(results.count(False))
