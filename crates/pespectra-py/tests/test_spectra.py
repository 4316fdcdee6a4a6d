"""eig/svd against independent oracles: closed forms evaluated in Arb (python-flint) and Arb's
own rigorous eigenvalue solver. Containment is the claim, so every check is an inclusion of
Arb's ball (radius ~1e-70 at 256 bits) in pespectra's float64 bounds."""

import numpy as np
import pytest

import pespectra

flint = pytest.importorskip("flint")


def arb_inside(ball, lo, hi):
    """ball ⊂ [lo, hi], decided in Arb (lo/hi are exact binary floats)."""
    return bool(flint.arb(lo) <= ball.lower()) and bool(ball.upper() <= flint.arb(hi))


def test_tridiagonal_toeplitz_closed_form():
    # eigenvalues of tridiag(-1, 2, -1) of order n: 2 - 2 cos(kπ/(n+1)), k = 1..n
    n = 40
    a = 2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    e = pespectra.eig(a)
    flint.ctx.prec = 256
    exact = sorted(
        (2 - 2 * (flint.arb.pi() * k / (n + 1)).cos() for k in range(1, n + 1)),
        key=lambda x: float(x.mid()),
        reverse=True,
    )
    for k in range(n):
        assert arb_inside(exact[k], e.lo[k], e.hi[k]), (k, exact[k], e.lo[k], e.hi[k])
    # the enclosures are tight, not merely valid
    assert float(np.max(e.hi - e.lo)) < 1e-12


@pytest.mark.parametrize("precision", [53, 128, "auto"])
def test_random_symmetric_against_arb_eig(rng, precision):
    n = 12
    x = rng.standard_normal((n, n))
    a = (x + x.T) / 2
    e = pespectra.eig(a, precision=precision, width=1e-20 if precision == "auto" else None)
    flint.ctx.prec = 256
    ev = flint.acb_mat(a.tolist()).eig()
    ev = sorted((z.real for z in ev), key=lambda r: float(r.mid()), reverse=True)
    for k in range(n):
        assert arb_inside(ev[k], e.lo[k], e.hi[k]), k
    if precision == "auto":
        assert e.met_width and e.precision_bits > 53


def test_complex_hermitian_and_fortran_order(rng):
    n = 6
    x = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    a = np.asfortranarray((x + x.conj().T) / 2)
    e = pespectra.eig(a)
    flint.ctx.prec = 256
    ev = sorted((z.real for z in flint.acb_mat(a.tolist()).eig()), key=lambda r: float(r.mid()), reverse=True)
    for k in range(n):
        assert arb_inside(ev[k], e.lo[k], e.hi[k])
    # to_arb balls contain the same values
    for ball, ref in zip(e.to_arb(), ev):
        assert ball.overlaps(ref)


def test_svd_against_arb(rng):
    n = 8
    a = rng.standard_normal((n, n))
    s = pespectra.svd(a)
    flint.ctx.prec = 256
    m = flint.arb_mat(a.tolist())
    ev = flint.acb_mat((m.transpose() * m).tolist()).eig()
    sv = sorted((z.real.sqrt() for z in ev), key=lambda r: float(r.mid()), reverse=True)
    for k in range(n):
        assert arb_inside(sv[k], s.lo[k], s.hi[k])


def test_hermitian_part_and_decimal_strings():
    a = np.array([[1.0, 2.0], [0.0, 1.0]])  # Hermitian part [[1, 1], [1, 1]]: eigenvalues 2, 0
    e = pespectra.eig(a, hermitian_part=True, precision=256)
    assert e.lo[0] <= 2.0 <= e.hi[0] and e.lo[1] <= 0.0 <= e.hi[1]
    lo, hi = e.decimal[0]
    assert float(lo) <= 2.0 <= float(hi) and e.precision_bits == 256
    assert "eigenvalues" in repr(e)


def test_bounds_are_outward_for_inexact_values():
    # λ = 1 ± 1/√2·… : eigenvalues of [[1, 1], [1, 0]] are (1 ± √5)/2, irrational
    e = pespectra.eig(np.array([[1.0, 1.0], [1.0, 0.0]]))
    flint.ctx.prec = 256
    phi = (1 + flint.arb(5).sqrt()) / 2
    assert arb_inside(phi, e.lo[0], e.hi[0]) and arb_inside(1 - phi, e.lo[1], e.hi[1])
    assert e.lo[0] < e.hi[0]  # a point enclosure of an irrational would be a lie
