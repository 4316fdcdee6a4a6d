#!/usr/bin/env python3
"""Regenerates the committed seed corpus under fuzz/corpus/ (deterministic; run from fuzz/)."""
import os, random, struct

def npy(descr, shape, data, fortran=False, version=1, pack=None):
    h = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape)
    pre = 10 if version == 1 else 12
    while (pre + len(h) + 1) % 64:
        h += " "
    h += "\n"
    out = b"\x93NUMPY" + bytes([version, 0])
    out += struct.pack("<H", len(h)) if version == 1 else struct.pack("<I", len(h))
    out += h.encode()
    fmt = pack or ("<" if descr[0] in "<=" else ">") + "d"
    for v in data:
        out += struct.pack(fmt, v)
    return out

def write(target, name, data):
    d = os.path.join("corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

inf, nan = float("inf"), float("nan")
write("npy_reader", "f8_2x2", npy("<f8", "(2, 2)", [1.0, 2.0, 3.0, 4.0]))
write("npy_reader", "c16_1x2", npy("<c16", "(1, 2)", [1.0, 0.5, -2.0, 3.0]))
write("npy_reader", "f8_fortran_2x3", npy("<f8", "(2, 3)", [0, 3, 1, 4, 2, 5], fortran=True))
write("npy_reader", "f8_be_v2_1x3", npy(">f8", "(1, 3)", [-0.0, inf, nan], version=2))
write("npy_reader", "c16_be_v3_1x1", npy(">c16", "(1, 1)", [5e-324, -1e308], version=3))
write("npy_reader", "f8_0x3", npy("<f8", "(0, 3)", []))
write("npy_reader", "f4_unsupported", npy("<f4", "(1, 1)", [1.0], pack="<f"))
write("npy_reader", "f8_1d", npy("<f8", "(2,)", [1.0, 2.0]))

rng = random.Random(4)
certs = "../proofs/certificates"
for name in ["R3.json", "T2-complex.json", "T8-D4.json"]:
    with open(os.path.join(certs, name), "rb") as f:
        write("certificate_checker", "raw_" + name, b"\x00" + f.read())
for kind in range(11):
    write("certificate_checker", "mut_%02d" % kind,
          bytes([1, rng.randrange(256), kind * 24]) + bytes(rng.randrange(256) for _ in range(24)))

for k in range(8):
    n = rng.choice([16, 48, 96, 160])
    write("differential_soundness", "seed_%02d" % k, bytes(rng.randrange(256) for _ in range(n)))
# 2x2 [[2,1],[1,2]]-like small-integer seed and an all-zero seed
write("differential_soundness", "zeros", bytes(64))
write("differential_soundness", "ones", bytes([1] * 64))
