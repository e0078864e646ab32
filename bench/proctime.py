#!/usr/bin/python3
"""proctime.py -- whole-process time of a command, exec to exit.

    proctime.py --peer P [--variant V] --model M --threads T --runs N --top1-field K -- CMD...

Runs CMD once untimed (so every peer starts with its files in the page
cache; what that run wrote, such as resnet's packed-weight cache, is synced
to disk before timing, so no timed run shares the CPU with its writeback),
then N times timed; prints one JSON line for report.py with the
median and minimum ms and the top-1 class: field K (0-based, tab-separated)
of the first line CMD printed.  When CMD prints resnet classify --timing's
line on stderr, each run's forward-pass time is read from it, and the
medians of the forward pass and of the rest of that same run are added.  A failing CMD is an error: exit status 1
and its stderr.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--peer", required=True)
    ap.add_argument("--variant", default="")
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--top1-field", type=int, default=0)
    ap.add_argument("cmd", nargs="+")
    args = ap.parse_args()

    ms, fwd, outside, out = [], [], [], ""
    for r in range(args.runs + 1):
        t0 = time.perf_counter()
        p = subprocess.run(args.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        dt = (time.perf_counter() - t0) * 1e3
        if p.returncode != 0:
            sys.stderr.write(p.stderr)
            sys.exit(f"proctime.py: {' '.join(args.cmd)} exited with status {p.returncode}")
        if r:
            ms.append(dt)
            m = re.search(r"^resnet: timing: .* forward ([0-9.]+) ", p.stderr, re.M)
            if m:
                fwd.append(float(m.group(1)))
                outside.append(100 * (dt - fwd[-1]) / dt)
        else:
            os.sync()
        out = p.stdout
    lines = out.splitlines()
    fields = lines[0].split("\t") if lines else []
    top1 = fields[args.top1_field] if len(fields) > args.top1_field else "?"
    result = {"kind": "process", "peer": args.peer, "variant": args.variant, "model": args.model,
              "threads": args.threads, "runs": args.runs,
              "ms_median": round(statistics.median(ms), 3), "ms_min": round(min(ms), 3), "top1": top1}
    if len(fwd) == len(ms):
        result["forward_ms_median"] = round(statistics.median(fwd), 3)
        result["outside_percent_median"] = round(statistics.median(outside), 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
