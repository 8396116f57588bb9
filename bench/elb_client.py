#!/usr/bin/env python3
"""Bounded HTTP load for bench/elb.sh: N requests over C keep-alive-less connections in parallel
(HTTP/1.0, one request per connection, as busybox httpd answers), against one address and port.
Prints one JSON line: requests, failures, seconds, requests per second, median and p99 latency (ms).

    elb_client.py ADDRESS PORT REQUESTS CONCURRENCY
"""
import json
import socket
import sys
import threading
import time


def worker(addr, port, n, lat, fails, lock):
    for _ in range(n):
        t0 = time.perf_counter()
        try:
            with socket.create_connection((addr, port), timeout=10) as s:
                s.sendall(b"GET / HTTP/1.0\r\nHost: bench\r\n\r\n")
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            ok = data.startswith(b"HTTP/1.") and b" 200 " in data.split(b"\r\n", 1)[0]
        except OSError:
            ok = False
        dt = (time.perf_counter() - t0) * 1000
        with lock:
            if ok:
                lat.append(dt)
            else:
                fails.append(dt)


def main():
    addr, port, total, conc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    lat, fails, lock = [], [], threading.Lock()
    per = [total // conc + (1 if i < total % conc else 0) for i in range(conc)]
    threads = [threading.Thread(target=worker, args=(addr, port, k, lat, fails, lock)) for k in per]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.perf_counter() - t0
    lat.sort()
    pick = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 2) if lat else None
    print(json.dumps({"requests": total, "failures": len(fails), "seconds": round(secs, 3),
                      "rps": round(len(lat) / secs, 1), "median_ms": pick(0.5), "p99_ms": pick(0.99)}))


if __name__ == "__main__":
    main()
