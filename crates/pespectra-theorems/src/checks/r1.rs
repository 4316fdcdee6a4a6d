//! R1, refuted: content whose phases undo the rotation makes RoPE raise λmax of the symmetric
//! logits above NoPE's.

use crate::ball::{rational_ball, PythagoreanAngle, QComplex, ANGLES};
use crate::certificate::{self as cert, Bound, Certificate, Claim, End, Op, Rel};
use crate::enclose::eig;
use crate::instances::rng;
use crate::registry::Entry;
use crate::{CheckError, Outcome, Params, Verdict};
use pespectra_arith::interval::Interval;
use pespectra_spectra::ball::Ball;
use rand::Rng;

pub(crate) const ENTRY: Entry = Entry {
    id: "R1",
    statement: "false: RoPE lowers λmax of the symmetric logits compared with NoPE",
    expected: Verdict::Fails,
    seeded,
    user: None,
};

/// R1: content whose phases undo the rotation, a_j = r_j·e^{−ijθ}, makes the RoPE logits r rᵀ.
fn seeded(p: &Params) -> Result<Outcome, CheckError> {
    let n = 16;
    let mut r = rng(p, 11);
    for attempt in 0..32 {
        let angle = ANGLES[attempt % ANGLES.len()];
        let rv: Vec<f64> = (0..n).map(|_| r.gen_range(0.25..2.0)).collect();
        let pw = angle.powers(n);
        // a_j = r_j conj(z)^j (exact); G_ij = conj(a_i) a_j; E_ij = z^(j−i)
        let a: Vec<QComplex> = (0..n)
            .map(|j| {
                pw[j].conj().mul(&QComplex::new(
                    num_rational::BigRational::from_float(rv[j]).expect("finite"),
                    num_rational::BigRational::from_integer(0.into()),
                ))
            })
            .collect();
        let g = Ball::from_entries(n, n, |i, j| {
            let v = a[i].conj().mul(&a[j]);
            let (cr, rr) = rational_ball(&v.re);
            let (ci, ri) = rational_ball(&v.im);
            (
                Interval::point(cr),
                Interval::point(ci),
                pespectra_arith::round::hypot_up(rr, ri),
            )
        });
        let rope = g.hadamard(&angle.kernel(n)).real_part();
        let nope = g.real_part();
        let (er, en) = (
            eig(&rope.hermitian_input()?)?,
            eig(&nope.hermitian_input()?)?,
        );
        let viol = (er[0] - en[0]).lo();
        if viol > 0.0 {
            let certificate = p
                .certificates
                .then(|| {
                    let mut c = Certificate::new(
                        "R1",
                        "FALSE reading: RoPE lowers the top eigenvalue of the symmetric logits, lambda_max(Re(G o E)) <= lambda_max(Re G)",
                        Verdict::Fails,
                    );
                    c.matrix("G", cert::complex_matrix(n, |i, j| a[i].conj().mul(&a[j])));
                    c.matrix(
                        "E",
                        cert::complex_matrix(n, |i, j| PythagoreanAngle::kernel_entry(&pw, i, j)),
                    );
                    c.derive("H", Op::Hadamard, &["G", "E"]);
                    c.derive("ROPE", Op::RealPart, &["H"]);
                    c.derive("NOPE", Op::RealPart, &["G"]);
                    let rope = c.claim(Claim::eigenvalue("ROPE", 1, er[0]));
                    let nope = c.claim(Claim::eigenvalue("NOPE", 1, en[0]));
                    c.finish(
                        Bound::Claim(rope, End::Lo),
                        Rel::Le,
                        Bound::Claim(nope, End::Hi),
                        cert::margin(er[0].lo(), en[0].hi()),
                    )
                })
                .transpose()?;
            return Ok(Outcome::new(Verdict::Fails, viol, format!("n = {n}, θ = {:.4} (cos θ = {}/{}), attempt {attempt}: λmax(RoPE logits) ≥ {:.4} > {:.4} ≥ λmax(NoPE logits)", angle.theta(), angle.p, angle.r, er[0].lo(), en[0].hi())).with_certificate(certificate));
        }
    }
    Ok(Outcome::inconclusive(
        "no certified counterexample in 32 attempts",
    ))
}
