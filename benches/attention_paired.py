#!/usr/bin/env python3
"""Paired, best-of-rounds comparison of pespectra-attention and ONNX Runtime on a shared
machine.

Each round runs every case once for pespectra (the `bench_quick` example: best of up to 5
calls, FMA peak probed before and after on the same threads) and then for ONNX Runtime
(best of 3), back to back, so both see the same load. Over the rounds the best GFLOP/s of
each is kept, with the largest FMA peak seen for that case and the lowest 1-minute load
average; ratios are GFLOP/s over that peak. Prints a Markdown table.

Build:  cargo build --release -p pespectra-attention --example bench_quick
Run:    .venv-attn/bin/python benches/attention_paired.py --bin $CARGO_TARGET_DIR/release/examples/bench_quick \
            [--threads 2] [--rounds 3] [--quick]
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnxruntime_attention as ortb  # noqa: E402


def load():
    with open("/proc/loadavg") as fh:
        return float(fh.read().split()[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--threads", type=int, nargs="+", default=[2])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    heads = [8] if args.quick else [8, 32]
    dims = [128] if args.quick else [64, 128]
    cases = [(t, h, s, d, c) for t in args.threads for h in heads for s in (512, 2048) for d in dims for c in (False, True)]
    best = {}
    for r in range(args.rounds):
        for case in cases:
            t, h, s, d, c = case
            l0 = load()
            out = subprocess.run([args.bin, "8", str(h), str(s), str(d), str(int(c)), str(t)],
                                 check=True, capture_output=True, text=True).stdout
            rep = json.loads(out.strip().splitlines()[-1])
            ort_gf, _ = ortb.bench(8, h, s, d, c, t, 3)
            b = best.setdefault(case, {"gf": 0.0, "peak": 0.0, "ort": 0.0, "load": 99.0})
            b["gf"] = max(b["gf"], rep["gflops"])
            b["peak"] = max(b["peak"], rep["peak_gflops"])
            b["ort"] = max(b["ort"], ort_gf)
            b["load"] = min(b["load"], l0)
            print(f"round {r} {case}: pespectra {rep['gflops']:.1f} (peak {rep['peak_gflops']:.1f}), ort {ort_gf:.1f}, load {l0}",
                  file=sys.stderr, flush=True)
    print(f"Best of {args.rounds} paired rounds, B = 8 (causal: useful FLOPs)")
    print("| threads | H | S | D | causal | pespectra GFLOP/s | FMA peak | ratio | ORT GFLOP/s | ORT ratio | min load |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for case in cases:
        t, h, s, d, c = case
        b = best[case]
        print(f"| {t} | {h} | {s} | {d} | {'yes' if c else 'no'} | {b['gf']:.1f} | {b['peak']:.1f} | "
              f"{b['gf'] / b['peak']:.2f} | {b['ort']:.1f} | {b['ort'] / b['peak']:.2f} | {b['load']:.1f} |")


if __name__ == "__main__":
    main()
