"""Probes that need a deployment of two servers on one PostgreSQL database over TLS (run by
`scripts/red-team.sh --long` when ANPR_TEST_POSTGRES_URL is set): the rate limits and the
sign-in pauses hold across the servers, and every connection the servers hold is encrypted.
Prints HELD or BROKEN per probe; the exit status is the number of BROKEN ones."""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

A, B = os.environ["RT_BASE_A"], os.environ["RT_BASE_B"]
ADMIN_URL, DB = os.environ["RT_PG_ADMIN_URL"], os.environ["RT_PG_DB"]
PASSWORD = "demo-password-2026"
PURPOSE = {"code": "stolen_vehicle", "file_number": "260101/1234",
           "justification": "Vehicle reported stolen from a driveway overnight"}
results = []


def call(base, method, path, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def probe(name, held, saw):
    results.append(held)
    print(f"{'HELD  ' if held else 'BROKEN'} {name}: {saw}")


token = call(A, "POST", "/api/v1/auth/login", body={"staff_id": "S1001", "password": PASSWORD})[1]["token"]
statuses = [call(base, "POST", "/api/v1/searches", token, {"plate": "XWJ891", "purpose": PURPOSE})[0]
            for base in [A, B, A, B, A]]
probe("one rate limit for two servers (3 searches an hour in this test)",
      statuses == [200, 200, 200, 429, 429], f"searches alternating between the servers: {statuses}")

guesses = [call(base, "POST", "/api/v1/auth/login", body={"staff_id": "S1008", "password": "guess"})[0]
           for base in [A, B, A, B, A]]
right = [call(base, "POST", "/api/v1/auth/login", body={"staff_id": "S1008", "password": PASSWORD})[0]
         for base in [A, B]]
probe("one sign-in throttle for two servers", guesses == [401] * 5 and right == [429, 429],
      f"5 wrong passwords alternating: {guesses}; then the right one on each: {right}")

sql = ("SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_activity a "
       f"JOIN pg_stat_ssl s USING (pid) WHERE a.datname = '{DB}'")
out = subprocess.run(["psql", ADMIN_URL, "-Atc", sql], capture_output=True, text=True, check=True)
encrypted, total = (int(x) for x in out.stdout.strip().split("|"))
probe("TLS to PostgreSQL (sslmode=require)", total > 0 and encrypted == total,
      f"{encrypted} of the servers' {total} connections encrypted")

print(f"{results.count(True)} held, {results.count(False)} broken")
sys.exit(results.count(False))
