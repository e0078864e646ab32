#!/usr/bin/python3
"""report.py -- compare.sh's results as markdown tables for the README.

    report.py RESULTS.jsonl --date D --cpu "CPU" --versions "..."

RESULTS.jsonl holds one JSON object per line:
  - `resnet bench -f json` output (no "peer" key), with "peak_gflops"; with
    "baseline": true, from compare.sh --baseline's other resnet binary; with
    "precision": "bf16" or "int8", from `resnet bench --precision`;
  - peer_timing.report lines of the peers ("peer", "variant", "ms_median", ...;
    the PyTorch bf16 and int8 peers are "pytorch-bf16" and "pytorch-int8");
  - process lines of proctime.py ("kind": "process", "peer", "variant", "model",
    "ms_median", "top1").
Per row, each peer's median is shown with its ratio to the fastest peer of
the row at the same precision (fp32, bf16, int8: a lower precision is
compared with its own kind); a peer measured several ways (resnet direct and
--winograd, PyTorch eager, channels_last and TorchScript) is shown at its
best, and tables list every variant, so it is visible which helped.
"""
import argparse
import json

PEERS = [("resnet", "resnet"), ("resnet-baseline", "resnet (baseline)"),
         ("onnxruntime", "ONNX Runtime"), ("pytorch", "PyTorch"), ("opencv", "OpenCV DNN"),
         ("resnet-bf16", "resnet bf16"), ("pytorch-bf16", "PyTorch bf16"),
         ("resnet-int8", "resnet int8"), ("pytorch-int8", "PyTorch int8")]
LOWER = ("bf16", "int8")  # the precisions below fp32, as in the peer names


def precision(peer):
    return next((p for p in LOWER if peer.endswith("-" + p)), "fp32")


def fmt_ms(ms):
    return f"{ms:.1f} ms" if ms >= 10 else f"{ms:.2f} ms"


def cell(ms, best, note=""):
    text = f"{fmt_ms(ms)} ({ms / best:.2f}x{', ' + note if note else ''})"
    return f"**{text}**" if ms == best else text


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results")
    ap.add_argument("--date", required=True)
    ap.add_argument("--cpu", required=True)
    ap.add_argument("--versions", default="")
    args = ap.parse_args()

    bench, proc, peak, variants, resnet_proc, direct_runs = {}, {}, {}, {}, {}, []
    for line in open(args.results):
        o = json.loads(line)
        if o.get("kind") == "process":
            if o["peer"] == "resnet":
                resnet_proc.setdefault(o["model"], []).append(o)
            row = proc.setdefault(o["model"], {})
            if o["peer"] not in row or o["ms_median"] < row[o["peer"]]["ms_median"]:
                row[o["peer"]] = o
            continue
        if "peer" not in o:  # resnet bench -f json; its share of the peak is set below
            o["peer"] = "resnet-baseline" if o.get("baseline") else "resnet"
            o["variant"] = "winograd" if o.get("winograd") else "direct"
            if o.get("precision", "fp32") != "fp32":
                o["peer"] += "-" + o["precision"]
            else:  # the FP32 FMA loop's peak, which the shares below are of
                peak[o["threads"]] = max(peak.get(o["threads"], 0), o["peak_gflops"])
        key = (o["model"], o["batch"], o["threads"])
        variants.setdefault(key, {})[(o["peer"], o["variant"])] = o["ms_median"]
        if o["peer"] == "resnet" and o["variant"] == "direct":
            direct_runs.append(o)
        best = bench.setdefault(key, {}).get(o["peer"])
        if best is None or o["ms_median"] < best["ms_median"]:
            bench[key][o["peer"]] = o

    # Each resnet run measured the peak again; another process can only have
    # lowered it, so the share is taken of the best measurement per thread count.
    # Winograd does fewer multiply-adds than it is credited with: no share.
    def resnet_note(o):
        if o["variant"] == "winograd":
            return "winograd"
        return f"direct, {100 * o['gflops'] / peak[o['threads']]:.0f}% of peak"

    out = []
    peaks = ", ".join(f"{peak[t]:.0f} GFLOP/s on {t} thread{'s' if t > 1 else ''}" for t in sorted(peak))
    out.append(f"Measured {args.date} on {args.cpu}"
               + (f"; FP32 peak (resnet's FMA loop) {peaks}" if peaks else "") + ".")
    if args.versions:
        out.append(f"Versions: {args.versions}.")
    out.append("")

    if bench:
        peers = [p for p in PEERS if any(p[0] in v for v in bench.values())]
        if any(precision(p) != "fp32" for p, _ in peers):
            out.append("Forward pass, 224x224, ms per batch (median; in brackets the ratio to the "
                       "fastest of the same precision in the row, fp32, bf16 or int8, which is in bold):")
        else:
            out.append("Forward pass, 224x224, ms per batch (median; in brackets the ratio to the "
                       "fastest in the row, which is in bold):")
        out.append("")
        out.append("| model | batch | threads | " + " | ".join(name for _, name in peers) + " |")
        out.append("|---|---:|---:|" + "---:|" * len(peers))
        for key in sorted(bench, key=lambda k: (k[0], k[1], k[2])):
            row = bench[key]
            best = {}
            for p, o in row.items():
                best[precision(p)] = min(best.get(precision(p), o["ms_median"]), o["ms_median"])
            cells = []
            for p, _ in peers:
                o = row.get(p)
                if o is None:
                    cells.append("-")
                    continue
                note = (o["variant"] if p.startswith("pytorch") or precision(p) != "fp32"
                        else resnet_note(o) if p.startswith("resnet") else "")
                cells.append(cell(o["ms_median"], best[precision(p)], note))
            out.append(f"| {key[0]} | {key[1]} | {key[2]} | " + " | ".join(cells) + " |")
        out.append("")
        images = [(k, o) for k, r in sorted(bench.items()) for p, o in r.items() if p == "resnet"]
        if images:
            out.append("resnet images/s (its faster path): " + ", ".join(
                f"{k[0]} b{k[1]} t{k[2]} {k[1] * 1000 / o['ms_median']:.1f}" for k, o in images) + ".")
            out.append("")

        resnet_variants = [v for v in ("direct", "winograd")
                           if any(("resnet", v) in vs for vs in variants.values())]
        if len(resnet_variants) > 1:
            out.append("resnet's two paths, ms per batch (median): the default direct convolution "
                       "(its share of the FP32 peak) and `--winograd`:")
            out.append("")
            out.append("| model | batch | threads | direct | --winograd | speed-up |")
            out.append("|---|---:|---:|---:|---:|---:|")
            for key in sorted(variants):
                d, w = variants[key].get(("resnet", "direct")), variants[key].get(("resnet", "winograd"))
                if d is None or w is None:
                    continue
                pct = next(100 * o["gflops"] / peak[o["threads"]] for o in direct_runs if
                           (o["model"], o["batch"], o["threads"]) == key)
                out.append(f"| {key[0]} | {key[1]} | {key[2]} | {fmt_ms(d)} ({pct:.0f}% of peak) | "
                           f"{fmt_ms(w)} | {d / w:.2f}x |")
            out.append("")

        lower = [q for q in LOWER if any(p == "resnet-" + q for vs in variants.values() for (p, _) in vs)]
        if lower:
            out.append("resnet at lower precision, ms per batch (median), its fastest path; in "
                       "brackets the speed-up over its default fp32 path (direct convolution):")
            out.append("")
            out.append("| model | batch | threads | fp32 direct | " + " | ".join(lower) + " |")
            out.append("|---|---:|---:|---:|" + "---:|" * len(lower))
            for key in sorted(variants):
                d = variants[key].get(("resnet", "direct"))
                cells = []
                for q in lower:
                    o = bench[key].get("resnet-" + q)
                    cells.append("-" if o is None else fmt_ms(o["ms_median"]) +
                                 (f" ({d / o['ms_median']:.2f}x)" if d else ""))
                out.append(f"| {key[0]} | {key[1]} | {key[2]} | {fmt_ms(d) if d else '-'} | "
                           + " | ".join(cells) + " |")
            out.append("")

        if any(p == "resnet-baseline" for vs in variants.values() for (p, _) in vs):
            out.append("resnet against the baseline binary (compare.sh --baseline), ms per batch "
                       "(median), each path timed right after the other; a ratio above 1 means "
                       "this build is slower:")
            out.append("")
            out.append("| model | batch | threads | path | this build | baseline | ratio |")
            out.append("|---|---:|---:|---|---:|---:|---:|")
            for key in sorted(variants):
                for v in ("direct", "winograd"):
                    a, b = variants[key].get(("resnet", v)), variants[key].get(("resnet-baseline", v))
                    if a is not None and b is not None:
                        out.append(f"| {key[0]} | {key[1]} | {key[2]} | {v} | {fmt_ms(a)} | "
                                   f"{fmt_ms(b)} | {a / b:.3f} |")
            out.append("")

        # fp32 first, then bf16 and int8; a lower precision's columns are named by it
        torch_variants = sorted({(p, v) for vs in variants.values() for (p, v) in vs if p.startswith("pytorch")},
                                key=lambda pv: ((("fp32",) + LOWER).index(precision(pv[0])), pv[1]))
        if torch_variants:
            out.append("PyTorch variants, ms per batch (median):")
            out.append("")
            out.append("| model | batch | threads | " + " | ".join(
                v if precision(p) == "fp32" else f"{precision(p)} {v}" for p, v in torch_variants) + " |")
            out.append("|---|---:|---:|" + "---:|" * len(torch_variants))
            for key in sorted(variants):
                vs = variants[key]
                out.append(f"| {key[0]} | {key[1]} | {key[2]} | " + " | ".join(
                    fmt_ms(vs[pv]) if pv in vs else "-" for pv in torch_variants) + " |")
            out.append("")

    if proc:
        peers = [p for p in PEERS if any(p[0] in v for v in proc.values())]
        threads = {o["threads"] for r in proc.values() for o in r.values()}
        out.append("Classifying one JPEG, whole process from exec to exit (median ms; "
                   f"{'/'.join(map(str, sorted(threads)))} thread{'s' if max(threads) > 1 else ''}; top-1 class index in brackets, "
                   "the same everywhere when the peers run the same network):")
        out.append("")
        out.append("| model | " + " | ".join(name for _, name in peers) + " |")
        out.append("|---|" + "---:|" * len(peers))
        for model in sorted(proc):
            row = proc[model]
            best = min(o["ms_median"] for o in row.values())
            cells = []
            for p, _ in peers:
                o = row.get(p)
                note = ", ".join(x for x in (o.get("variant", ""), f"top-1 {o['top1']}") if x) if o else ""
                cells.append("-" if o is None else cell(o["ms_median"], best, note))
            out.append(f"| {model} | " + " | ".join(cells) + " |")
        out.append("")
        # Start-up: each resnet run's forward pass (classify --timing) against
        # the whole of that same run.
        notes = []
        for model in sorted(resnet_proc):
            for o in resnet_proc[model]:
                what = f"{model} {o['variant'] or 'resnet'} {o['ms_median']:.1f} ms"
                if "forward_ms_median" in o:
                    what += (f" (forward pass {o['forward_ms_median']:.1f} ms; outside it "
                             f"{o['outside_percent_median']:.0f}%)")
                notes.append(what)
        if notes:
            out.append("resnet whole process, median, and in brackets the median of each run's "
                       "forward pass (`classify --timing`) and of the share of that run spent "
                       "outside it: " + "; ".join(notes) + ".")
            out.append("")
    print("\n".join(out).rstrip())


if __name__ == "__main__":
    main()
