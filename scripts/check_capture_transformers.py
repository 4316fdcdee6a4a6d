"""Cross-checks scripts/capture_transformers.py against `pespectra capture` on the tiny RoPE
checkpoints in crates/pespectra-hf/tests/fixtures: two independent captures of the same model
(transformers' forward pass with hooks, and pespectra's own Rust forward pass) must agree on every
head's manifest record and tensors. Needs torch, so it is a documented command, not a CI test:

    .venv-pe/bin/pip install ./crates/pespectra-py
    .venv-pe/bin/python scripts/check_capture_transformers.py [--bin target/release/pespectra] [NAME ...]

Exit 0 when every fixture agrees (prints the largest differences), 1 otherwise.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
FIXTURES = HERE.parent / "crates/pespectra-hf/tests/fixtures"
ROPE = ["llama", "llama-tied-bias", "llama3-scaled", "llama-linear", "llama-yarn", "mistral-window",
        "qwen2", "qwen3", "gemma2", "gemma3", "phi3", "phi3-longrope", "stablelm", "stablelm-qk-parallel",
        "gpt-neox", "gpt-neox-sequential", "falcon-rope-mqa", "falcon-rope-new-arch",
        "falcon-rope-new-arch-one-ln", "falcon-rope-mha"]
TOL = 2e-5  # relative to each tensor's largest entry: f32 forward passes in two implementations


def read_safetensors(path):
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    base = 8 + n
    return {k: np.frombuffer(raw[base + v["data_offsets"][0] : base + v["data_offsets"][1]], "<f4").reshape(v["shape"])
            for k, v in header.items() if k != "__metadata__"}


def compare(name, rust_dir, py_dir):
    """Largest relative tensor difference, or a string describing the first disagreement."""
    mr = json.loads((rust_dir / "manifest.json").read_text())
    mp = json.loads((py_dir / "manifest.json").read_text())
    key = lambda h: (h["layer"], h["head"])
    hr, hp = {key(h): h for h in mr["heads"]}, {key(h): h for h in mp["heads"]}
    if hr.keys() != hp.keys():
        return f"heads differ: {sorted(hr)} vs {sorted(hp)}"
    for k, a in hr.items():
        b = hp[k]
        for f in ("kv_head", "head_dim", "causal", "window", "softcap"):
            if a.get(f) != b.get(f):
                return f"head {k}: {f} {a.get(f)} vs {b.get(f)}"
        if abs(a["scale"] - b["scale"]) > 1e-6 * a["scale"]:
            return f"head {k}: scale {a['scale']} vs {b['scale']}"
        pa, pb = a["positional"], b["positional"]
        if pa["kind"] != pb["kind"] or pa.get("pairing") != pb.get("pairing"):
            return f"head {k}: positional {pa['kind']}/{pa.get('pairing')} vs {pb['kind']}/{pb.get('pairing')}"
        fa, fb = np.array(pa["inv_freq"]), np.array(pb["inv_freq"])
        if fa.shape != fb.shape or np.abs(fa - fb).max() > 1e-6 * np.abs(fa).max():
            return f"head {k}: inv_freq {fa} vs {fb}"
    tr, tp = read_safetensors(rust_dir / "captures.safetensors"), read_safetensors(py_dir / "captures.safetensors")
    if tr.keys() != tp.keys():
        return f"tensors differ: {sorted(set(tr) ^ set(tp))}"
    worst = 0.0
    for t in tr:
        d = np.abs(tr[t].astype(np.float64) - tp[t]).max() / max(np.abs(tr[t]).max(), 1e-30)
        if d > TOL:
            return f"{t}: relative difference {d:.2e} > {TOL:.0e}"
        worst = max(worst, d)
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.environ.get("PESPECTRA_EXE", "target/release/pespectra"))
    ap.add_argument("names", nargs="*", default=ROPE)
    a = ap.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in a.names:
            fx = FIXTURES / name
            tokens = json.loads((fx / "golden.json").read_text())["token_ids"]
            ids = ",".join(str(i) for i in tokens)
            rust, py = pathlib.Path(tmp) / f"{name}-rust", pathlib.Path(tmp) / f"{name}-py"
            runs = [
                [a.bin, "capture", str(fx), "--token-ids", ids, "--n", str(len(tokens)), "--out", str(rust)],
                # a fresh process per fixture: the script wraps functions of the modeling module
                [sys.executable, str(HERE / "capture_transformers.py"), str(fx), str(py),
                 "--token-ids", ids, "--layers", "0,1"],
            ]
            r = None
            for cmd in runs:
                p = subprocess.run(cmd, capture_output=True, text=True)
                if p.returncode != 0:
                    r = f"{os.path.basename(cmd[0])} failed: {p.stderr.strip().splitlines()[-1:]}"
                    break
            if r is None:
                r = compare(name, rust, py)
            ok = not isinstance(r, str)
            failed += not ok
            print(f"{name:24s} {'agree, max relative difference %.1e' % r if ok else 'DISAGREE: ' + r}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
