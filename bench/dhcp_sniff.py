#!/usr/bin/env python3
"""Prints every DHCP message seen in the namespace: "<epoch seconds> <type> <client MAC>", one per
line, flushed at once.  Runs inside the harness's network namespace (AF_PACKET on every interface:
the guest's tap carries both directions, the bridge only what comes from guests; no tcpdump needed).

    dhcp_sniff.py
"""
import socket
import struct
import sys
import time

TYPES = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 5: "ACK", 6: "NAK"}

# ETH_P_ALL: a socket for ETH_P_IP alone is not given the frames the host sends (dnsmasq's answers)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
print("listening", flush=True)
while True:
    frame = s.recv(2048)
    t = time.time()
    if frame[12:14] != b"\x08\x00":
        continue
    ip = frame[14:]
    if len(ip) < 20 or ip[9] != 17:
        continue
    ihl = (ip[0] & 15) * 4
    sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
    if {sport, dport} != {67, 68}:
        continue
    bootp = ip[ihl + 8:]
    if len(bootp) < 240 or bootp[236:240] != b"\x63\x82\x53\x63":
        continue
    mac = ":".join("%02x" % b for b in bootp[28:34])
    opts, kind = bootp[240:], None
    i = 0
    while i + 1 < len(opts) and opts[i] != 255:
        if opts[i] == 0:
            i += 1
            continue
        if opts[i] == 53:
            kind = TYPES.get(opts[i + 2], str(opts[i + 2]))
        i += 2 + opts[i + 1]
    print("%.6f %s %s" % (t, kind, mac), flush=True)
