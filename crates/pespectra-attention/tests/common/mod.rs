//! Shared helpers: random problems and the bound-checked comparison.
#![allow(dead_code)]

use pespectra_attention::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Owned inputs for a configuration.
pub struct Problem {
    pub cfg: AttentionConfig,
    pub q: Vec<f32>,
    pub k: Vec<f32>,
    pub v: Vec<f32>,
    pub rope_key: Option<Vec<f32>>,
}

impl Problem {
    pub fn random(cfg: AttentionConfig, seed: u64, amp: f32) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut gen = |n: usize| {
            (0..n)
                .map(|_| rng.gen_range(-amp..amp))
                .collect::<Vec<f32>>()
        };
        let q = gen(cfg.q_len());
        let k = gen(cfg.k_len());
        let v = gen(cfg.v_len());
        let rope_key = match &cfg.pe {
            PositionalEncoding::Mla(m) => Some(gen(cfg.batch * cfg.seq * m.rope_dim)),
            _ => None,
        };
        Self {
            cfg,
            q,
            k,
            v,
            rope_key,
        }
    }

    pub fn inputs(&self) -> AttentionInputs<'_> {
        AttentionInputs {
            q: &self.q,
            k: &self.k,
            v: &self.v,
            rope_key: self.rope_key.as_deref(),
        }
    }
}

/// Runs the flash path on every available ISA and checks every output element against
/// the f64 reference with the stated bound. Returns the worst error/bound ratio.
pub fn check_flash(p: &Problem) -> f64 {
    let inp = p.inputs();
    let reference = reference_attention(&p.cfg, &inp).unwrap();
    let bounds = error_bounds(&p.cfg, &inp).unwrap();
    let mut worst = 0.0f64;
    for isa in Isa::available() {
        let out = flash_attention_with(isa, &p.cfg, &inp).unwrap();
        for (idx, ((&o, &r), &bd)) in out.iter().zip(&reference).zip(&bounds.output).enumerate() {
            let err = (o as f64 - r).abs();
            assert!(
                err <= bd,
                "{}: element {idx}: |{o} - {r}| = {err:e} > bound {bd:e} ({:?})",
                isa.name(),
                p.cfg
            );
            worst = worst.max(err / bd);
        }
    }
    worst
}
