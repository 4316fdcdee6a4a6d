#!/usr/bin/env python3
"""Generate the hand-made certificates in this directory.

Independent of the Rust producer: nothing here calls or imports pespectra code.
Matrices are written down by hand (or from closed forms: KMS, |i-j|, powers of
the Gaussian-rational unit (3+4i)/5); every number is an exact Fraction or a
sympy exact algebraic value. Eigenvalue enclosures come from sympy's exact
real-root isolation of the characteristic polynomial, rounded *outward* to the
dyadic grid 2^-40 and printed as exact decimals. Before writing, each
eigenvalue claim is re-checked here with sympy's exact root counting, so the
Rust checker and this script agree through two unrelated exact methods.

Usage (from the repository root):
    python3 -m venv .venv-cert && .venv-cert/bin/pip install sympy
    .venv-cert/bin/python proofs/certificates/generate.py
"""

import json
import math
import os
from fractions import Fraction as F

import sympy as sp

HERE = os.path.dirname(os.path.abspath(__file__))
GRID = 40  # enclosure endpoints are multiples of 2^-GRID


def s(x):
    """Certificate scalar string for an exact Fraction/int (integer or p/q)."""
    x = F(x)
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def dyadic_decimal(x):
    """Exact decimal string of a dyadic rational p/2^k (what an f64 prints to)."""
    x = F(x)
    k = x.denominator.bit_length() - 1
    assert x.denominator == 1 << k, "not dyadic"
    if k == 0:
        return str(x.numerator)
    scaled = abs(x.numerator) * 5**k  # x = scaled / 10^k
    digits = str(scaled).rjust(k + 1, "0")
    out = digits[:-k] + "." + digits[-k:]
    out = out.rstrip("0").rstrip(".")
    return ("-" if x < 0 else "") + out


def mat(rows, cols, entries):
    """Matrix object; entries are Fractions or (re, im) pairs of Fractions."""
    assert len(entries) == rows * cols
    cplx = any(isinstance(e, tuple) for e in entries)
    re = [s(e[0] if isinstance(e, tuple) else e) for e in entries]
    im = [s(e[1] if isinstance(e, tuple) else 0) for e in entries] if cplx else None
    return {"rows": rows, "cols": cols, "re": re, "im": im}


def to_sympy(rows, cols, entries):
    def conv(e):
        if isinstance(e, tuple):
            return sp.Rational(e[0].numerator, e[0].denominator) + sp.I * sp.Rational(
                e[1].numerator, e[1].denominator
            )
        e = F(e)
        return sp.Rational(e.numerator, e.denominator)

    return sp.Matrix(rows, cols, [conv(e) for e in entries])


def eigen_enclosures(M):
    """Exact dyadic enclosures of all eigenvalues of Hermitian M, largest first.

    Rational eigenvalues get the degenerate enclosure [v, v] when v is dyadic.
    """
    x = sp.Symbol("x")
    p = sp.Poly(sp.expand((M - x * sp.eye(M.rows)).det()), x)
    assert all(c.is_real for c in p.all_coeffs()), "Hermitian char poly is real"
    p = sp.Poly([sp.nsimplify(c) for c in p.all_coeffs()], x, domain="QQ")
    out = []
    eps = sp.Rational(1, 2 ** (GRID + 2))
    for (a, b), mult in p.intervals(eps=eps):
        a, b = F(int(a.p), int(a.q)), F(int(b.p), int(b.q))
        lo = F(math.floor(a * 2**GRID), 2**GRID)
        hi = F(math.ceil(b * 2**GRID), 2**GRID)
        out += [(lo, hi)] * mult
    out.sort(key=lambda t: t[0], reverse=True)
    assert len(out) == M.rows
    # Independent re-check: k-th largest in [lo, hi] by exact root counting.
    n = M.rows
    roots = sp.real_roots(p)
    for k, (lo, hi) in enumerate(out, start=1):
        lo_s, hi_s = sp.Rational(lo.numerator, lo.denominator), sp.Rational(hi.numerator, hi.denominator)
        n_le_hi = n - sum(1 for r in roots if r > hi_s)
        n_lt_lo = sum(1 for r in roots if r < lo_s)
        assert n_lt_lo <= n - k and n_le_hi >= n - k + 1, (k, lo, hi)
    return out


def cert(id_, statement, verdict, matrices, derived, claims, conclusion, notes):
    return {
        "format": "pespectra-certificate/1",
        "id": id_,
        "statement": statement,
        "verdict": verdict,
        "notes": notes,
        "matrices": matrices,
        "derived": derived,
        "claims": claims,
        "conclusion": conclusion,
    }


def eig_claim(matrix, k, enc):
    lo, hi = enc
    return {"kind": "eigenvalue", "matrix": matrix, "index": k, "lo": dyadic_decimal(lo), "hi": dyadic_decimal(hi)}


def layout(c):
    """One line per top-level field, matrix, derived op and claim (diff-friendly)."""
    d = lambda x: json.dumps(x, ensure_ascii=False)  # noqa: E731
    lines = ["{"]
    keys = list(c.keys())
    for i, k in enumerate(keys):
        comma = "," if i + 1 < len(keys) else ""
        v = c[k]
        if k == "matrices":
            items = [f"  {d(name)}: {d(m)}" for name, m in v.items()]
            lines.append(f' "{k}": {{\n' + ",\n".join(items) + "\n }" + comma)
        elif k in ("derived", "claims") and v:
            items = [f"  {d(x)}" for x in v]
            lines.append(f' "{k}": [\n' + ",\n".join(items) + "\n ]" + comma)
        else:
            lines.append(f" {d(k)}: {d(v)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write(name, c):
    path = os.path.join(HERE, name)
    with open(path, "w") as f:
        f.write(layout(c))
    print("wrote", path)


def cmul(a, b):
    return (a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0])


def cpow(w, k):
    r = (F(1), F(0))
    for _ in range(k):
        r = cmul(r, w)
    return r


# ------------------------------------------------------------------- R3 -----
def r3():
    # A = 11^T, B = [[1,5],[5,1]]: A o B = B, eigenvalues 1 +- 5 = {6, -4};
    # A has eigenvalues {2, 0}. Hand-derived, exact.
    return cert(
        "R3",
        "FALSE reading: every unit-diagonal kernel B contracts, lambda_max(A o B) <= lambda_max(A); "
        "refuted by A = 11^T, B = [[1,5],[5,1]] (unit diagonal, not PSD)",
        "FAILS",
        {"A": mat(2, 2, [1, 1, 1, 1]), "B": mat(2, 2, [1, 5, 5, 1])},
        [{"name": "C", "op": "hadamard", "args": ["A", "B"]}],
        [
            {"kind": "unit_diagonal", "matrix": "B"},
            {"kind": "inertia", "matrix": "B", "shift": "0", "neg": 1, "zero": 0, "pos": 1},
            {"kind": "eigenvalue", "matrix": "C", "index": 1, "lo": "6", "hi": "6"},
            {"kind": "eigenvalue", "matrix": "C", "index": 2, "lo": "-4", "hi": "-4"},
            {"kind": "eigenvalue", "matrix": "A", "index": 1, "lo": "2", "hi": "2"},
            {"kind": "psd", "matrix": "A"},
        ],
        {"lhs": {"claim": 2, "end": "lo"}, "rel": "le", "rhs": {"claim": 4, "end": "hi"}, "margin": "4"},
        "Hand-derived: A o B = B has eigenvalues 1 +- 5. Claim 1 shows B is not PSD "
        "(one negative eigenvalue), which is exactly the hypothesis T2 needs.",
    )


# ------------------------------------------------------------------- R2 -----
def r2():
    # A = [[2,1],[-3/4,0]]: char poly l^2 - 2l + 3/4, eigenvalues 3/2 and 1/2.
    # n = 2, theta = pi/2: Re E = [[1, cos(pi/2)], [cos(pi/2), 1]] = I, so A o Re E = diag(2, 0).
    # Eigenvectors v1 = (2,-1) (for 3/2), v2 = (2,-3) (for 1/2); V = [v1 v2],
    # S = V^-1 = [[3/4, 1/2], [-1/4, -1/2]], T = S A V = diag(3/2, 1/2).
    # rho(A) = rho(T) <= ||T||_2 = sigma_max(T) = top eigenvalue of [[0,T],[T^H,0]] = 3/2.
    return cert(
        "R2",
        "FALSE reading: multiplicative coupling never increases the spectral radius, "
        "rho(A o Re E) <= rho(A), for non-symmetric A; refuted by A = [[2,1],[-0.75,0]], n = 2, theta = pi/2",
        "FAILS",
        {
            "A": mat(2, 2, [2, 1, F(-3, 4), 0]) | {"re": ["2", "1", "-0.75", "0"]},
            "ReE": mat(2, 2, [1, 0, 0, 1]),
            "S": mat(2, 2, [F(3, 4), F(1, 2), F(-1, 4), F(-1, 2)]),
            "V": mat(2, 2, [2, 2, -1, -3]),
        },
        [
            {"name": "AE", "op": "hadamard", "args": ["A", "ReE"]},
            {"name": "SV", "op": "matmul", "args": ["S", "V"]},
            {"name": "SA", "op": "matmul", "args": ["S", "A"]},
            {"name": "T", "op": "matmul", "args": ["SA", "V"]},
            {"name": "JT", "op": "jordan_wielandt", "args": ["T"]},
        ],
        [
            {"kind": "unit_diagonal", "matrix": "ReE"},
            {"kind": "psd", "matrix": "ReE"},
            {"kind": "entry", "matrix": "SV", "row": 0, "col": 0, "re": "1", "im": "0"},
            {"kind": "entry", "matrix": "SV", "row": 0, "col": 1, "re": "0", "im": "0"},
            {"kind": "entry", "matrix": "SV", "row": 1, "col": 0, "re": "0", "im": "0"},
            {"kind": "entry", "matrix": "SV", "row": 1, "col": 1, "re": "1", "im": "0"},
            {"kind": "hermitian", "matrix": "AE"},
            {"kind": "eigenvalue", "matrix": "AE", "index": 1, "lo": "2", "hi": "2"},
            {"kind": "eigenvalue", "matrix": "JT", "index": 1, "lo": "3/2", "hi": "3/2"},
            {"kind": "entry", "matrix": "T", "row": 0, "col": 1, "re": "0", "im": "0"},
            {"kind": "entry", "matrix": "T", "row": 1, "col": 0, "re": "0", "im": "0"},
        ],
        {"lhs": {"claim": 7, "end": "lo"}, "rel": "le", "rhs": {"claim": 8, "end": "hi"}, "margin": "1/2"},
        "Hand-derived. rho(A o Re E) >= lambda_max(A o Re E) = 2 (claim 7; A o Re E is Hermitian). "
        "Claims 2-5 show S = V^-1, so T = S A V is similar to A and rho(A) <= ||T||_2 = sigma_max(T), "
        "which claim 8 bounds by 3/2 through the Jordan-Wielandt matrix [[0,T],[T^H,0]]. "
        "Hence rho(A o Re E) - rho(A) >= 1/2. Re E = I because cos(pi/2) = 0 exactly "
        "(the f64 producer sees cos(pi/2) ~ 6e-17; this certificate states the exact kernel).",
    )


# ------------------------------------------------------------------- T2 -----
def t2_real():
    A = [2, 1, 0, 1, -1, 3, 0, 3, 1]
    h = F(1, 2)
    B = [F(1), h, h * h, h, F(1), h, h * h, h, F(1)]  # KMS matrix, rho = 1/2
    C = [F(a) * b for a, b in zip(A, B)]
    eA = eigen_enclosures(to_sympy(3, 3, A))
    eC = eigen_enclosures(to_sympy(3, 3, C))
    assert eC[0][1] < eA[0][0] and eA[2][1] < eC[2][0]
    claims = [
        {"kind": "hermitian", "matrix": "A"},
        {"kind": "pd", "matrix": "B"},
        {"kind": "unit_diagonal", "matrix": "B"},
        eig_claim("C", 1, eC[0]),
        eig_claim("A", 1, eA[0]),
        eig_claim("C", 3, eC[2]),
        eig_claim("A", 3, eA[2]),
        {"kind": "trace", "matrix": "C", "value": s(sum(C[i * 4] for i in range(3)))},
        {"kind": "trace", "matrix": "A", "value": s(sum(A[i * 4] for i in range(3)))},
    ]
    return cert(
        "T2",
        "Schur containment: A Hermitian, B PSD with unit diagonal => lambda_max(A o B) <= lambda_max(A) "
        "(instance: A = [[2,1,0],[1,-1,3],[0,3,1]], B = KMS(1/2) 3x3)",
        "HOLDS",
        {"A": mat(3, 3, A), "B": mat(3, 3, B)},
        [{"name": "C", "op": "hadamard", "args": ["A", "B"]}],
        claims,
        {
            "lhs": {"claim": 3, "end": "hi"},
            "rel": "le",
            "rhs": {"claim": 4, "end": "lo"},
            "margin": s(eA[0][0] - eC[0][1]),
        },
        "Enclosures: sympy exact root isolation of the characteristic polynomials, rounded outward to "
        "multiples of 2^-40 (generate.py). Claims 5 and 6 give the lower side of the containment "
        "(lambda_min(A) <= lambda_min(A o B)); claims 7-8 the trace equality tr(A o B) = tr A of T3.",
    )


# ------------------------------------------------------------------- T1 -----
def t1():
    # Unitary Q = R1 R2 with Gaussian-rational entries; X = Q diag(3,1,-2) Q^H.
    i5 = (F(0), F(4, 5))
    R1 = [(F(3, 5), F(0)), i5, (F(0), F(0)), i5, (F(3, 5), F(0)), (F(0), F(0)), (F(0), F(0)), (F(0), F(0)), (F(1), F(0))]
    R2 = [(F(1), F(0)), (F(0), F(0)), (F(0), F(0)),
          (F(0), F(0)), (F(3, 5), F(0)), (F(-4, 5), F(0)),
          (F(0), F(0)), (F(4, 5), F(0)), (F(3, 5), F(0))]

    def mm(X, Y, n=3):
        out = []
        for r in range(n):
            for c in range(n):
                acc = (F(0), F(0))
                for k in range(n):
                    p = cmul(X[r * n + k], Y[k * n + c])
                    acc = (acc[0] + p[0], acc[1] + p[1])
                out.append(acc)
        return out

    def adj(X, n=3):
        return [(X[c * n + r][0], -X[c * n + r][1]) for r in range(n) for c in range(n)]

    Q = mm(R1, R2)
    assert mm(Q, adj(Q)) == [((F(1) if r == c else F(0)), F(0)) for r in range(3) for c in range(3)]
    Dg = [((F([3, 1, -2][r]) if r == c else F(0)), F(0)) for r in range(3) for c in range(3)]
    X = mm(mm(Q, Dg), adj(Q))
    w = (F(3, 5), F(4, 5))
    u = [cpow(w, j) for j in range(3)]
    D = [(u[r] if r == c else (F(0), F(0))) for r in range(3) for c in range(3)]
    return cert(
        "T1",
        "Per-frequency similarity: X o (u u^H) = diag(u) X diag(u)^H for |u_j| = 1, so X o (u u^H) has "
        "the spectrum of X (instance: u_j = ((3+4i)/5)^j, X = Q diag(3,1,-2) Q^H complex Hermitian)",
        "HOLDS",
        {"X": mat(3, 3, X), "u": mat(3, 1, u), "D": mat(3, 3, D)},
        [
            {"name": "uH", "op": "adjoint", "args": ["u"]},
            {"name": "E", "op": "matmul", "args": ["u", "uH"]},
            {"name": "L", "op": "hadamard", "args": ["X", "E"]},
            {"name": "DH", "op": "adjoint", "args": ["D"]},
            {"name": "DX", "op": "matmul", "args": ["D", "X"]},
            {"name": "R", "op": "matmul", "args": ["DX", "DH"]},
            {"name": "Z", "op": "sub", "args": ["L", "R"]},
            {"name": "DDH", "op": "matmul", "args": ["D", "DH"]},
        ],
        [
            {"kind": "unit_diagonal", "matrix": "E"},
            {"kind": "psd", "matrix": "E"},
            {"kind": "inertia", "matrix": "E", "shift": "0", "neg": 0, "zero": 2, "pos": 1},
            {"kind": "unit_diagonal", "matrix": "DDH"},
            {"kind": "inertia", "matrix": "DDH", "shift": "1", "neg": 0, "zero": 3, "pos": 0},
            {"kind": "hermitian", "matrix": "X"},
            {"kind": "inertia", "matrix": "Z", "shift": "0", "neg": 0, "zero": 3, "pos": 0},
            {"kind": "eigenvalue", "matrix": "X", "index": 1, "lo": "3", "hi": "3"},
            {"kind": "eigenvalue", "matrix": "L", "index": 1, "lo": "3", "hi": "3"},
            {"kind": "eigenvalue", "matrix": "L", "index": 2, "lo": "1", "hi": "1"},
            {"kind": "eigenvalue", "matrix": "L", "index": 3, "lo": "-2", "hi": "-2"},
            {"kind": "trace", "matrix": "L", "value": "2", "im": "0"},
        ],
        {"lhs": {"claim": 8, "end": "hi"}, "rel": "le", "rhs": {"claim": 7, "end": "lo"}, "margin": "0"},
        "Hand-constructed: Q = R1 R2 with R1 = [[3/5, 4i/5, 0], [4i/5, 3/5, 0], [0, 0, 1]] and the real "
        "rotation R2 = [[1,0,0],[0,3/5,-4/5],[0,4/5,3/5]]. Claims 3-4 show D D^H = I (D unitary); claim 6 "
        "shows Z = L - D X D^H is the zero matrix (Hermitian with three zero eigenvalues), i.e. the "
        "identity T1 holds exactly; claims 7-10 show the spectra agree. E = u u^H is the RoPE kernel "
        "for the frequency arg((3+4i)/5).",
    )


def t2_complex():
    n = 4
    # Complex Hermitian A with Gaussian-integer entries (hand-picked).
    A = [[(3, 0), (1, 2), (0, -1), (2, 0)],
         [None, (-1, 0), (2, 1), (0, 3)],
         [None, None, (2, 0), (1, -1)],
         [None, None, None, (0, 0)]]
    Af = []
    for r in range(n):
        for c in range(n):
            if r <= c:
                e = A[r][c]
                Af.append((F(e[0]), F(e[1])))
            else:
                e = A[c][r]
                Af.append((F(e[0]), F(-e[1])))
    w1 = (F(3, 5), F(4, 5))
    w2 = (F(5, 13), F(12, 13))
    u1 = [cpow(w1, j) for j in range(n)]
    u2 = [cpow(w2, j) for j in range(n)]

    def outer(u):
        return [cmul(u[r], (u[c][0], -u[c][1])) for r in range(n) for c in range(n)]

    E1, E2 = outer(u1), outer(u2)
    B = [((a[0] + b[0]) / 2, (a[1] + b[1]) / 2) for a, b in zip(E1, E2)]
    C = [cmul(a, b) for a, b in zip(Af, B)]
    eA = eigen_enclosures(to_sympy(n, n, Af))
    eC = eigen_enclosures(to_sympy(n, n, C))
    assert eC[0][1] < eA[0][0] and eA[-1][1] < eC[-1][0]
    claims = [
        {"kind": "hermitian", "matrix": "A"},
        {"kind": "psd", "matrix": "B"},
        {"kind": "unit_diagonal", "matrix": "B"},
        {"kind": "inertia", "matrix": "B", "shift": "0", "neg": 0, "zero": 2, "pos": 2},
        eig_claim("C", 1, eC[0]),
        eig_claim("A", 1, eA[0]),
        eig_claim("C", n, eC[-1]),
        eig_claim("A", n, eA[-1]),
        {"kind": "trace", "matrix": "C", "value": s(sum(C[i * (n + 1)][0] for i in range(n))), "im": "0"},
    ]
    return cert(
        "T2-complex",
        "Schur containment for a complex Hermitian A and the two-frequency RoPE kernel B = (E1 + E2)/2 "
        "(E_f = u_f u_f^H, u_f,j = w_f^j, w1 = (3+4i)/5, w2 = (5+12i)/13): lambda_max(A o B) <= lambda_max(A)",
        "HOLDS",
        {"A": mat(n, n, Af), "u1": mat(n, 1, u1), "u2": mat(n, 1, u2)},
        [
            {"name": "u1H", "op": "adjoint", "args": ["u1"]},
            {"name": "u2H", "op": "adjoint", "args": ["u2"]},
            {"name": "E1", "op": "matmul", "args": ["u1", "u1H"]},
            {"name": "E2", "op": "matmul", "args": ["u2", "u2H"]},
            {"name": "E12", "op": "add", "args": ["E1", "E2"]},
            {"name": "B", "op": "scale", "args": ["E12"], "scalar": "1/2"},
            {"name": "C", "op": "hadamard", "args": ["A", "B"]},
        ],
        claims,
        {
            "lhs": {"claim": 4, "end": "hi"},
            "rel": "le",
            "rhs": {"claim": 5, "end": "lo"},
            "margin": s(eA[0][0] - eC[0][1]),
        },
        "Enclosures: sympy exact root isolation (complex Hermitian characteristic polynomials have real "
        "coefficients), rounded outward to multiples of 2^-40 (generate.py). Claim 3: B has rank 2.",
    )


def t8(n):
    D = [abs(r - c) for r in range(n) for c in range(n)]
    e = eigen_enclosures(to_sympy(n, n, D))
    lower = F(n * n - 1, 3)  # Rayleigh quotient of the all-ones vector
    upper = F(n * (n - 1), 2)  # maximum row sum
    assert lower <= e[0][0] and e[0][1] <= upper
    return cert(
        f"T8-D{n}",
        f"ALiBi growth: D_{n} = [|i-j|] has exactly one positive and {n - 1} negative eigenvalues, and "
        f"(n^2-1)/3 <= lambda_max(D_n) <= n(n-1)/2 (n = {n})",
        "HOLDS",
        {"D": mat(n, n, D)},
        [],
        [
            {"kind": "inertia", "matrix": "D", "shift": "0", "neg": n - 1, "zero": 0, "pos": 1},
            {"kind": "eigenvalue", "matrix": "D", "index": 1, "lo": s(lower), "hi": s(upper)},
            eig_claim("D", 1, e[0]),
            eig_claim("D", n, e[-1]),
            {"kind": "trace", "matrix": "D", "value": "0"},
        ],
        {"lhs": {"value": s(lower)}, "rel": "le", "rhs": {"claim": 2, "end": "lo"}, "margin": s(e[0][0] - lower)},
        "Claim 1 is the hand bound of T8 (Rayleigh quotient of 1 and maximum row sum), checked exactly; "
        "claims 2-3 are sympy enclosures rounded outward to 2^-40 (generate.py).",
    )


def t10_additive():
    # A = 2I is PD. ALiBi (bidirectional, slope 1/2) adds B = -D_4/2: the eigenvalues of
    # A + B are 2 - lambda(D_4)/2, and lambda_max(D_4) > 5 makes the smallest negative.
    # The multiplicative analogue keeps definiteness: A o K with K = KMS(1/2) is PD (T10).
    n = 4
    A = [F(2) if r == c else F(0) for r in range(n) for c in range(n)]
    D = [abs(r - c) for r in range(n) for c in range(n)]
    S = [a - F(d, 2) for a, d in zip(A, D)]
    K = [F(1, 2) ** abs(r - c) for r in range(n) for c in range(n)]
    eS = eigen_enclosures(to_sympy(n, n, S))
    assert eS[-1][1] < 0
    return cert(
        "T10-additive",
        "FALSE reading (additive analogue of T10): adding the ALiBi bias keeps positive definite logits "
        "positive definite, 0 < lambda_min(A + B); refuted by A = 2I, B = -D_4/2 (slope 1/2)",
        "FAILS",
        {"A": mat(n, n, A), "D": mat(n, n, D), "K": mat(n, n, K)},
        [
            {"name": "B", "op": "scale", "args": ["D"], "scalar": "-0.5"},
            {"name": "S", "op": "add", "args": ["A", "B"]},
            {"name": "AK", "op": "hadamard", "args": ["A", "K"]},
        ],
        [
            {"kind": "pd", "matrix": "A"},
            {"kind": "inertia", "matrix": "S", "shift": "0", "neg": 1, "zero": 0, "pos": 3},
            eig_claim("S", n, eS[-1]),
            {"kind": "pd", "matrix": "K"},
            {"kind": "unit_diagonal", "matrix": "K"},
            {"kind": "pd", "matrix": "AK"},
        ],
        {"lhs": {"value": "0"}, "rel": "lt", "rhs": {"claim": 2, "end": "hi"}, "margin": s(-eS[-1][1])},
        "A + B = 2I - D_4/2 has eigenvalues 2 - lambda(D_4)/2; claim 1 shows it is indefinite and claim 2 "
        "encloses its smallest eigenvalue (sympy, outward to 2^-40, generate.py). Claims 3-5: the RoPE-style "
        "multiplicative coupling with a PSD unit-diagonal kernel keeps A o K positive definite (T10).",
    )


if __name__ == "__main__":
    write("R3.json", r3())
    write("R2.json", r2())
    write("T1.json", t1())
    write("T2.json", t2_real())
    write("T2-complex.json", t2_complex())
    write("T8-D4.json", t8(4))
    write("T8-D16.json", t8(16))
    write("T10-additive.json", t10_additive())
