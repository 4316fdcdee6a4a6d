//! T1, exactly: a Hadamard product with a rank-one unimodular kernel is a unitary similarity.

use crate::ball::{QComplex, ANGLES};
use crate::exact::{f, qc};
use crate::instances::rng;
use crate::registry::Entry;
use crate::{CheckError, Outcome, Params, Verdict};
use num_traits::Signed;
use rand::Rng;

pub(crate) const ENTRY: Entry = Entry {
    id: "T1",
    statement:
        "X ∘ (u uᴴ) = diag(u) X diag(u)ᴴ for |u_j| = 1 (exact), so G^f∘E^f has the spectrum of G^f",
    expected: Verdict::Holds,
    seeded,
    user: None,
};

/// T1 exactly: `X∘(u uᴴ) = diag(u)·X·diag(u)ᴴ` entrywise with `u_j = z^j`, |z| = 1.
fn seeded(p: &Params) -> Result<Outcome, CheckError> {
    let n = p.n.min(24);
    let mut r = rng(p, 21);
    let x: Vec<Vec<QComplex>> = (0..n)
        .map(|_| {
            (0..n)
                .map(|_| qc(r.gen_range(-9..=9), r.gen_range(-9..=9)))
                .collect()
        })
        .collect();
    for angle in ANGLES {
        let u = angle.powers(n);
        for i in 0..n {
            for j in 0..n {
                let lhs = x[i][j].mul(&u[i].mul(&u[j].conj()));
                let rhs = u[i].mul(&x[i][j]).mul(&u[j].conj());
                if lhs != rhs {
                    return Ok(Outcome::new(
                        Verdict::Fails,
                        f(&lhs.sub(&rhs).re.abs()),
                        format!("entry ({i}, {j}) differs"),
                    ));
                }
            }
        }
        // |u_j| = 1 exactly
        if u.iter().any(|w| w.mul(&w.conj()) != QComplex::one()) {
            return Ok(Outcome::inconclusive("hypothesis |u_j| = 1 failed"));
        }
    }
    Ok(Outcome::new(Verdict::Holds, 0.0, format!("exact identity on {n}×{n} Gaussian-integer X for 6 Pythagorean angles (margin 0: an equality); diag(u) unitary ⇒ identical eigen- and singular values")))
}
