#!/usr/bin/env python3
"""Independent oracle: Arb (python-flint) enclosures of the eigenvalues of Hermitian matrices.

stdin/argv[1]: JSON {"prec": bits, "matrices": [{"n": n, "re": [row-major floats], "im": [...] or null}]}
stdout/argv[2]: JSON {"results": [[["m", "e", "m", "e"], ...] per matrix]}: each eigenvalue's real
enclosure as exact dyadics lo = m·2^e, hi = m·2^e, in decreasing order of midpoints.
Floats travel as Python repr strings, which round-trip exactly.
"""
import json
import sys

from flint import acb, acb_mat, arb, ctx


def enclosures(n, re, im, prec):
    # exact multiplicities and tight clusters may need more precision to be isolated: double it
    # until Arb succeeds (the enclosure is rigorous at every precision)
    while True:
        ctx.prec = prec
        m = acb_mat(n, n, [acb(re[k], 0 if im is None else im[k]) for k in range(n * n)])
        try:
            eig = m.eig(multiple=True)
            break
        except ValueError:
            if prec >= 8192:
                raise
            prec *= 2
    out = []
    for z in eig:
        x = z.real  # the matrix is Hermitian: the eigenvalue is real and lies in (ball ∩ ℝ)
        lo, hi = x.lower().man_exp(), x.upper().man_exp()
        out.append((float(x.mid()), [str(lo[0]), str(lo[1]), str(hi[0]), str(hi[1])]))
    out.sort(key=lambda t: -t[0])
    return [b for _, b in out]


def main():
    data = json.load(open(sys.argv[1]))
    prec = data["prec"]
    res = [enclosures(m["n"], [float(v) for v in m["re"]], None if m["im"] is None else [float(v) for v in m["im"]], prec) for m in data["matrices"]]
    json.dump({"results": res}, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
