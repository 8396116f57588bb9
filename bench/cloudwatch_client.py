"""Throughput and latency of one signed CloudWatch request (AWS Query protocol), sent again and again
over keep-alive connections by THREADS client processes for SECONDS, without parsing the answers.
Prints: requests/s, p50 ms, p95 ms, response bytes.

    cloudwatch_client.py ENDPOINT ACCESS_KEY SECRET SECONDS THREADS put|get|seed NOW

put:  PutMetricData of 20 values of one metric (Bench/Put, Host=h1..h20)
get:  GetMetricStatistics of Bench/Day over the 24 hours before NOW, Period 60 (1,440 points)
seed: puts those 1,440 one-minute points of Bench/Day first (once, before get)

Each request is signed (SigV4, its own time stamp and payload hash) by the few lines below rather than
by botocore: botocore's signer costs ~0.4 ms of Python a request, which capped the client near the
rate it measured, so the number said more about the client than about the server."""
import hashlib
import hmac
import http.client
import json
import os
import sys
import time
import urllib.parse

endpoint, akid, secret, seconds, threads, mode, now = sys.argv[1:8]
seconds, threads, now = float(seconds), int(threads), int(now) // 60 * 60
u = urllib.parse.urlparse(endpoint)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


host = u.netloc
keys = {}  # the signing key of a day


def signing_key(day):
    if day not in keys:
        k = ("AWS4" + secret).encode()
        for part in (day, "us-east-1", "monitoring", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        keys[day] = k
    return keys[day]


def signed(params):
    body = urllib.parse.urlencode(dict(params, Version="2010-08-01"))
    amz = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    ctype = "application/x-www-form-urlencoded; charset=utf-8"
    payload = hashlib.sha256(body.encode()).hexdigest()
    canonical = "POST\n/\n\ncontent-type:%s\nhost:%s\nx-amz-date:%s\n\ncontent-type;host;x-amz-date\n%s" % (
        ctype, host, amz, payload)
    scope = "%s/us-east-1/monitoring/aws4_request" % amz[:8]
    to_sign = "AWS4-HMAC-SHA256\n%s\n%s\n%s" % (amz, scope, hashlib.sha256(canonical.encode()).hexdigest())
    sig = hmac.new(signing_key(amz[:8]), to_sign.encode(), hashlib.sha256).hexdigest()
    return body, {"Content-Type": ctype, "X-Amz-Date": amz,
                  "Authorization": "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=content-type;host;x-amz-date, "
                                   "Signature=%s" % (akid, scope, sig)}


def send(conn, body, headers):
    conn.request("POST", "/", body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise SystemExit("HTTP %d: %s" % (r.status, data[:300]))
    return data


if mode == "seed":
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    for start in range(0, 1440, 720):
        p = {"Action": "PutMetricData", "Namespace": "Bench"}
        for i in range(720):
            k = "MetricData.member.%d." % (i + 1)
            p.update({k + "MetricName": "Day", k + "Value": str((start + i) % 97),
                      k + "Timestamp": iso(now - 86400 + (start + i) * 60)})
        send(conn, *signed(p))
    sys.exit(0)

if mode == "put":
    p = {"Action": "PutMetricData", "Namespace": "Bench"}
    for i in range(20):
        k = "MetricData.member.%d." % (i + 1)
        p.update({k + "MetricName": "Put", k + "Value": str(i), k + "Unit": "Count",
                  k + "Dimensions.member.1.Name": "Host", k + "Dimensions.member.1.Value": "h%d" % (i + 1)})
else:
    p = {"Action": "GetMetricStatistics", "Namespace": "Bench", "MetricName": "Day", "Period": "60",
         "StartTime": iso(now - 86400), "EndTime": iso(now), "Statistics.member.1": "Average",
         "Statistics.member.2": "Maximum"}

stop_at = time.monotonic() + seconds


def worker(out):
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    mine, size = [], 0
    while time.monotonic() < stop_at:
        body, headers = signed(p)  # signed each time: a time-stamped signature, as a client does
        t0 = time.monotonic()
        size = len(send(conn, body, headers))
        mine.append(time.monotonic() - t0)
    out.write(json.dumps([size, mine]))
    out.close()


# one process per client (threads of one Python share its lock, and the client was the bottleneck)
t0 = time.monotonic()
pipes = []
for _ in range(threads):
    r, w = os.pipe()
    if os.fork() == 0:
        os.close(r)
        worker(os.fdopen(w, "w"))
        os._exit(0)
    os.close(w)
    pipes.append(os.fdopen(r))
results = [json.loads(f.read()) for f in pipes]
for _ in pipes:
    os.wait()
elapsed = time.monotonic() - t0
lat = sorted(x for _, mine in results for x in mine)
print("%.0f %.2f %.2f %d" % (len(lat) / elapsed, lat[len(lat) // 2] * 1e3, lat[int(len(lat) * 0.95)] * 1e3,
                             max(size for size, _ in results)))
