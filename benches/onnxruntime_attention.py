#!/usr/bin/env python3
"""ONNX Runtime baseline for pespectra-attention's benches.

Times com.microsoft.MultiHeadAttention (CPU EP, fp32) on the same shapes as
crates/pespectra-attention/benches/attention.rs: B = 8, H in {8, 32}, S in {512, 2048},
D in {64, 128}, causal (`unidirectional=1`) and not, 1 and 2 threads. Inputs are
B x S x (H*D), so ORT's own transposes are included. GFLOP/s = 4*B*H*S^2*D / best time
(half for causal, i.e. only the useful FLOPs), best of --reps runs after one warm-up.

Setup:  python3 -m venv .venv-attn && .venv-attn/bin/pip install numpy onnx onnxruntime
Run:    .venv-attn/bin/python benches/onnxruntime_attention.py [--quick] [--reps 3]
        --quick restricts to H = 8, D = 128 (as PESPECTRA_BENCH_QUICK=1 does for Criterion).
Prints a Markdown table; compare with the Criterion table and its FMA peak from the same
session (this script does not measure the peak itself).
"""
import argparse
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper


def model(heads, causal):
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["B", "S", "HD"]) for n in ("q", "k", "v")]
    out = helper.make_tensor_value_info("o", TensorProto.FLOAT, ["B", "S", "HD"])
    attrs = {"num_heads": heads}
    if causal:
        attrs["unidirectional"] = 1
    node = helper.make_node("MultiHeadAttention", ["q", "k", "v"], ["o"], domain="com.microsoft", **attrs)
    graph = helper.make_graph([node], "mha", inputs, [out])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    return m.SerializeToString()


def bench(b, h, s, d, causal, threads, reps):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(model(h, causal), so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {n: rng.uniform(-1, 1, (b, s, h * d)).astype(np.float32) for n in ("q", "k", "v")}
    sess.run(None, feeds)
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        sess.run(None, feeds)
        best = min(best, time.perf_counter() - t)
    flops = 4.0 * b * h * s * s * d / (2 if causal else 1)
    return flops / best / 1e9, best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    heads = [8] if args.quick else [8, 32]
    dims = [128] if args.quick else [64, 128]
    print(f"ONNX Runtime {ort.__version__} MultiHeadAttention, B = 8 (best of {args.reps})")
    print("| threads | H | S | D | causal | GFLOP/s | seconds |")
    print("|---|---|---|---|---|---|---|")
    for threads in (1, 2):
        for h in heads:
            for s in (512, 2048):
                for d in dims:
                    for causal in (False, True):
                        gf, t = bench(8, h, s, d, causal, threads, args.reps)
                        print(f"| {threads} | {h} | {s} | {d} | {'yes' if causal else 'no'} | {gf:.1f} | {t:.3f} |", flush=True)


if __name__ == "__main__":
    main()
