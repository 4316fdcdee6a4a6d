//! D1: the RoPE logits decompose exactly into per-frequency Hadamard products with Toeplitz
//! kernels, checked against the rigorous rounding bound of the PE reference.

use crate::instances::rng;
use crate::registry::Entry;
use crate::{CheckError, Outcome, Params, Verdict};
use rand::Rng;

pub(crate) const ENTRY: Entry = Entry {
    id: "D1",
    statement: "RoPE logits = Σ_f Re(G^f ∘ E^f) (both pairings), within rigorous rounding bounds",
    expected: Verdict::Holds,
    seeded,
    user: None,
};

fn seeded(p: &Params) -> Result<Outcome, CheckError> {
    use pespectra_pe::{check_d1, Pairing, PositionalEncoding, RealMatrix, RopeConfig};
    let (n, d) = (p.n.min(256), 64);
    let mut r = rng(p, 1);
    let mut q = vec![0.0; n * d];
    let mut k = vec![0.0; n * d];
    q.iter_mut()
        .chain(k.iter_mut())
        .for_each(|v| *v = r.gen_range(-1.0..1.0));
    let (q, k) = (RealMatrix::new(n, d, q)?, RealMatrix::new(n, d, k)?);
    let mut worst = 0.0f64;
    for pairing in [Pairing::Interleaved, Pairing::HalfSplit] {
        let pe = PositionalEncoding::Rope(RopeConfig::new(d, 10000.0, pairing));
        let c = check_d1(&q, &k, &pe, 1.0)?;
        if !c.holds {
            return Ok(Outcome::new(Verdict::Fails, c.max_discrepancy, format!("{pairing:?}: direct and reconstructed logits differ beyond the rounding bound at {:?}", c.worst_entry)));
        }
        worst = worst.max(c.max_budget_used);
    }
    Ok(Outcome::new(Verdict::Holds, 1.0 - worst, format!("n = {n}, d = {d}, base 1e4, interleaved and half-split: |direct − Σ_f Re(G^f∘E^f)| within the rigorous bound (margin = unused fraction of the bound; assumes libm cos/sin within 4 ulps)")))
}
