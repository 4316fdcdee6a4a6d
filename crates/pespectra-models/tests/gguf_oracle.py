"""Independent oracle for the GGUF reader: the `gguf` package (llama.cpp's gguf-py, numpy).

  gguf_oracle.py blocks DIR            for each DIR/<TYPE>.bin write DIR/<TYPE>.f32 (dequantized)
  gguf_oracle.py file GGUF DIR NAME..  write DIR/summary.json (metadata + tensor table) and
                                       DIR/<NAME>.f32 for each named tensor
"""
import json
import os
import sys

import numpy as np
from gguf import GGUFReader, GGMLQuantizationType
from gguf.quants import dequantize


def blocks(d):
    for f in sorted(os.listdir(d)):
        if f.endswith(".bin"):
            ty = GGMLQuantizationType[f[:-4]]
            raw = np.fromfile(os.path.join(d, f), dtype=np.uint8)
            out = dequantize(raw, ty).astype(np.float32)
            out.tofile(os.path.join(d, f[:-4] + ".f32"))


def summarize(v):
    if isinstance(v, list):
        return {"len": len(v), "head": [summarize(x) for x in v[:3]], "last": summarize(v[-1]) if v else None}
    if isinstance(v, (bool, str)):
        return v
    if isinstance(v, (int, np.integer)):
        return int(v)
    return float(v)


def file(path, d, names):
    r = GGUFReader(path)
    meta = {}
    for k, f in r.fields.items():
        if k.startswith("GGUF."):
            continue
        meta[k] = summarize(f.contents())
    tensors = [
        {"name": t.name, "dims": [int(x) for x in t.shape], "type": int(t.tensor_type), "start": int(t.data_offset), "len": int(t.n_bytes)}
        for t in r.tensors
    ]
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump({"metadata": meta, "tensors": tensors}, f)
    by_name = {t.name: t for t in r.tensors}
    for n in names:
        t = by_name[n]
        dequantize(t.data, t.tensor_type).astype(np.float32).tofile(os.path.join(d, n + ".f32"))


if __name__ == "__main__":
    if sys.argv[1] == "blocks":
        blocks(sys.argv[2])
    else:
        file(sys.argv[2], sys.argv[3], sys.argv[4:])
