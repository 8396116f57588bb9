#!/usr/bin/python3
"""Where each launch of bench/launch.sh spent its time, from its BENCH_TRACE file: one line per
sample, vmmgr's steps (the CLI's and its job's, from VMMGR_TRACE) beside the baseline's."""
import re
import sys


def main(path):
    lines = open(path).read().splitlines()
    ours = [l for l in lines if l.startswith('ours ')]
    theirs = [l for l in lines if l.startswith('theirs ')]
    # vmmgr trace PID EPOCH_MS +MS STEP…
    trace = [(float(f[3]), ' '.join(f[5:])) for f in (l.split() for l in lines if l.startswith('vmmgr trace '))]
    for o, t in zip(ours, theirs):
        m = re.match(r'ours (\S+): t0 (\d+), running at \+(\d+)', o)
        iid, t0, run = m.group(1), int(m.group(2)), int(m.group(3))
        steps = {}
        for ms, what in trace:
            if iid in what:
                steps.setdefault(what.split(': ')[-1] if ': ' in what else what.split()[0], ms)
        cli = [ms for ms, what in trace if t0 <= ms < t0 + 5000 and
               (what.startswith('start ') or what.startswith('dispatched'))]
        need = ('job', 'libvirt connected', 'disk step committed', 'network prepared', 'defined',
                'define step committed', 'creating', 'created')
        if len(cli) < 2 or any(k not in steps for k in need):
            print(f'{iid}: trace incomplete')
            continue
        print(f"{iid}: to main {cli[0] - t0:.0f}, CLI {cli[1] - cli[0]:.0f}, to job {steps['job'] - cli[1]:.0f}, "
              f"job {steps['define step committed'] - steps['job']:.0f} "
              f"(disk {steps['disk step committed'] - steps['libvirt connected']:.0f}, "
              f"network {steps['network prepared'] - steps['disk step committed']:.0f}, "
              f"define {steps['defined'] - steps['network prepared']:.0f}), "
              f"libvirt start {steps['created'] - steps['creating']:.0f}; running at +{run} ms"
              f" | baseline {t.split(': ', 1)[1]}")


if __name__ == '__main__':
    main(sys.argv[1])
