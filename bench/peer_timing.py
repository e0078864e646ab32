"""peer_timing.py -- the timing recipe every peer of compare.sh shares.

The same as `resnet bench` (src/bench.c) and bench/ort_bench.js: warm-up
runs until at least one run and WARMUP_MS have gone by, then `runs` timed
runs; the report is their median and minimum, in ms per batch.
"""
import json
import statistics
import sys
import time

WARMUP_MS = 200.0


def time_forward(run, runs):
    """Time run() as above; returns (median ms, min ms, warm-up runs)."""
    warm, start = 0, time.perf_counter()
    while True:
        run()
        warm += 1
        if (time.perf_counter() - start) * 1e3 >= WARMUP_MS:
            break
    ms = []
    for _ in range(runs):
        t0 = time.perf_counter()
        run()
        ms.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ms), min(ms), warm


def report(peer, variant, model, batch, threads, runs, result, precision=None):
    """One JSON line on stdout, the format compare.sh collects; "precision"
    only when it is not fp32 (bf16, int8)."""
    med, low, warm = result
    o = {"peer": peer, "variant": variant, "model": model, "batch": batch,
         "threads": threads, "runs": runs, "warmup": warm,
         "ms_median": round(med, 4), "ms_min": round(low, 4)}
    if precision:
        o["precision"] = precision
    print(json.dumps(o))
    sys.stdout.flush()


def top5(probs):
    """(index, prob) of the five largest probabilities, largest first."""
    order = sorted(range(len(probs)), key=lambda i: -probs[i])[:5]
    return [(i, float(probs[i])) for i in order]
