//! D2: additive encodings decompose into four Gram terms plus the bias, within the rigorous
//! rounding bound of the PE reference.

use crate::instances::rng;
use crate::registry::Entry;
use crate::{CheckError, Outcome, Params, Verdict};
use rand::Rng;

pub(crate) const ENTRY: Entry = Entry {
    id: "D2",
    statement: "additive logits = G_cc + G_cp + G_pc + G_pp + B, within rigorous rounding bounds",
    expected: Verdict::Holds,
    seeded,
    user: None,
};

fn seeded(p: &Params) -> Result<Outcome, CheckError> {
    use pespectra_pe::{
        check_d2, sinusoidal_table, AlibiForm, PositionalEncoding, RealMatrix, SinusoidalLayout,
    };
    let (n, dm, dh) = (p.n.min(256), 32, 16);
    let mut r = rng(p, 2);
    let mut fill = |rows, cols| -> Result<RealMatrix, CheckError> {
        Ok(RealMatrix::new(
            rows,
            cols,
            (0..rows * cols).map(|_| r.gen_range(-1.0..1.0)).collect(),
        )?)
    };
    let (content, wq, wk) = (fill(n, dm)?, fill(dm, dh)?, fill(dm, dh)?);
    let positions = sinusoidal_table(n, dm, 10000.0, SinusoidalLayout::Interleaved)?;
    let bias = pespectra_pe::bias_matrix(
        n,
        &PositionalEncoding::Alibi {
            slope: 0.125,
            form: AlibiForm::Symmetric,
        },
    )?;
    let c = check_d2(&content, &positions, &wq, &wk, bias.as_ref(), 0.25)?;
    let detail = format!("n = {n}, d_model = {dm}, head dim {dh}, sinusoidal positions + symmetric ALiBi (m = 1/8): four Gram terms + B vs direct");
    Ok(if c.holds {
        Outcome::new(Verdict::Holds, 1.0 - c.max_budget_used, detail)
    } else {
        Outcome::new(Verdict::Fails, c.max_discrepancy, detail)
    })
}
