//! Times the audit of synthetic SmolLM2-shaped RoPE heads (n = 256, head_dim 64, 32
//! frequencies, base 1e5) and writes the plots of a synthetic report to the given directory.
//! `cargo run --release -p pespectra-audit --example synthetic_timing -- HEADS [DIR]`

use pespectra_audit::report::{AuditReport, Timing};
use pespectra_audit::{audit_head, HeadCapture, Positional};
use pespectra_capture::Pairing;
use pespectra_pe::{logits, PositionalEncoding, RealMatrix, RopeConfig};
use rand::{Rng, SeedableRng};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let heads: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(4);
    let dir = args.next();
    let (n, d) = (256, 64);
    let inv_freq: Vec<f64> = (0..d / 2)
        .map(|f| 1e5f64.powf(-2.0 * f as f64 / d as f64))
        .collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut out = Vec::new();
    for h in 0..heads {
        let q: Vec<f32> = (0..n * d).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
        let k: Vec<f32> = (0..n * d).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
        let m = |x: &[f32]| RealMatrix::new(n, d, x.iter().map(|&v| v as f64).collect()).unwrap();
        let pe = PositionalEncoding::Rope(RopeConfig::explicit(
            d,
            inv_freq.clone(),
            1.0,
            Pairing::Interleaved,
        ));
        let scale = 0.125;
        let l = logits(&m(&q), &m(&k), &pe, scale).unwrap();
        let c = logits(&m(&q), &m(&k), &PositionalEncoding::None, scale).unwrap();
        let cap = HeadCapture {
            layer: h / 9,
            head: h % 9,
            kv_head: (h % 9) / 3,
            n,
            head_dim: d,
            scale,
            causal: true,
            window: None,
            softcap: None,
            logits: l.data().iter().map(|&v| v as f32).collect(),
            content_logits: c.data().iter().map(|&v| v as f32).collect(),
            q,
            k,
            positional: Positional::Rope {
                pairing: Pairing::Interleaved,
                inv_freq: inv_freq.clone(),
            },
        };
        let t = Instant::now();
        let _ = pespectra_audit::dense::sym_eigs(&cap.logits, None, n).unwrap();
        let t_eig = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let _ = pespectra_audit::dense::d1_check(&cap, Pairing::Interleaved, &inv_freq).unwrap();
        let t_d1 = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let _ =
            pespectra_audit::rope::rope_checks(&cap.q, &cap.k, d, Pairing::Interleaved, &inv_freq)
                .unwrap();
        let t_rope = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let _ = pespectra_audit::metrics::spectral_norm(&cap.logits, n);
        println!(
            "eig {t_eig:.3} d1 {t_d1:.3} rope {t_rope:.3} svd {:.3}",
            t.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        let a = audit_head(&cap).unwrap();
        println!(
            "head {h}: {:.3} s, {:?}",
            t.elapsed().as_secs_f64(),
            a.checks
                .iter()
                .map(|c| (c.id, c.verdict.as_str()))
                .collect::<Vec<_>>()
        );
        out.push(a);
    }
    if let Some(dir) = dir {
        let report = AuditReport {
            model: "synthetic".into(),
            n,
            ablation_metric: None,
            heads: out,
            growth: vec![],
            timing: Timing::default(),
        };
        std::fs::create_dir_all(&dir).unwrap();
        println!(
            "{:?}",
            pespectra_audit::plot::write_all(&report, std::path::Path::new(&dir)).unwrap()
        );
    }
}
