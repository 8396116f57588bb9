"""Throughput and latency of one signed CloudWatch request (AWS Query protocol), sent again and again
over keep-alive connections by THREADS threads for SECONDS, without parsing the answers.
Prints: requests/s, p50 ms, p95 ms, response bytes.

    cloudwatch_client.py ENDPOINT ACCESS_KEY SECRET SECONDS THREADS put|get|seed NOW

put:  PutMetricData of 20 values of one metric (Bench/Put, Host=h1..h20)
get:  GetMetricStatistics of Bench/Day over the 24 hours before NOW, Period 60 (1,440 points)
seed: puts those 1,440 one-minute points of Bench/Day first (once, before get)"""
import http.client
import sys
import threading
import time
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

endpoint, akid, secret, seconds, threads, mode, now = sys.argv[1:8]
seconds, threads, now = float(seconds), int(threads), int(now) // 60 * 60
u = urllib.parse.urlparse(endpoint)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def signed(params):
    body = urllib.parse.urlencode(dict(params, Version="2010-08-01"))
    req = AWSRequest(method="POST", url=endpoint + "/", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(akid, secret), "monitoring", "us-east-1").add_auth(req)
    return body, dict(req.headers.items())


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

lat, sizes, lock = [], [], threading.Lock()
stop_at = time.monotonic() + seconds


def worker():
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    mine, size = [], 0
    while time.monotonic() < stop_at:
        body, headers = signed(p)  # signed each time: a time-stamped signature, as a client does
        t0 = time.monotonic()
        size = len(send(conn, body, headers))
        mine.append(time.monotonic() - t0)
    with lock:
        lat.extend(mine)
        sizes.append(size)


ts = [threading.Thread(target=worker) for _ in range(threads)]
t0 = time.monotonic()
for t in ts:
    t.start()
for t in ts:
    t.join()
elapsed = time.monotonic() - t0
lat.sort()
print("%.0f %.2f %.2f %d" % (len(lat) / elapsed, lat[len(lat) // 2] * 1e3, lat[int(len(lat) * 0.95)] * 1e3,
                             max(sizes)))
