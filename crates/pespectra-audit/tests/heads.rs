//! `audit_head` on synthetic captures whose answers are known independently: RoPE logits built
//! by pespectra-pe, T5/ALiBi biases, absolute positions; reports and plots.

use pespectra_audit::report::{layer_summaries, verdict_counts, AuditReport, Timing};
use pespectra_audit::{audit_head, audit_heads, HeadCapture, Positional, Verdict};
use pespectra_capture::Pairing;
use pespectra_pe::{logits, PositionalEncoding, RealMatrix, RopeConfig, T5Buckets};
use rand::{Rng, SeedableRng};

fn random(rng: &mut impl Rng, len: usize) -> Vec<f32> {
    (0..len).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
}

fn gram(x: &[f32], y: &[f32], n: usize, d: usize, scale: f64) -> Vec<f32> {
    let mut out = vec![0.0f32; n * n];
    for i in 0..n {
        for j in 0..n {
            let s: f64 = (0..d)
                .map(|t| x[i * d + t] as f64 * y[j * d + t] as f64)
                .sum();
            out[i * n + j] = (scale * s) as f32;
        }
    }
    out
}

fn rope_capture(
    q: Vec<f32>,
    k: Vec<f32>,
    n: usize,
    d: usize,
    pairing: Pairing,
    capture_pairing: Pairing,
) -> HeadCapture {
    let inv_freq: Vec<f64> = (0..d / 2)
        .map(|f| 10000f64.powf(-2.0 * f as f64 / d as f64))
        .collect();
    let scale = 1.0 / (d as f64).sqrt();
    let m = |x: &[f32]| RealMatrix::new(n, d, x.iter().map(|&v| v as f64).collect()).unwrap();
    let pe = PositionalEncoding::Rope(RopeConfig::explicit(d, inv_freq.clone(), 1.0, pairing));
    let l = logits(&m(&q), &m(&k), &pe, scale).unwrap();
    HeadCapture {
        layer: 0,
        head: 0,
        kv_head: 0,
        n,
        head_dim: d,
        scale,
        causal: true,
        window: None,
        softcap: None,
        logits: l.data().iter().map(|&v| v as f32).collect(),
        content_logits: gram(&q, &k, n, d, scale),
        q,
        k,
        positional: Positional::Rope {
            pairing: capture_pairing,
            inv_freq,
        },
    }
}

fn verdict(h: &pespectra_audit::HeadAudit, id: &str) -> Verdict {
    h.checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no {id}"))
        .verdict
}

#[test]
fn rope_head_every_theorem_holds_and_the_capture_matches_its_reference() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let (n, d) = (48, 16);
    for pairing in [Pairing::HalfSplit, Pairing::Interleaved] {
        let c = rope_capture(
            random(&mut rng, n * d),
            random(&mut rng, n * d),
            n,
            d,
            pairing,
            pairing,
        );
        let h = audit_head(&c).unwrap();
        for id in ["D1", "T1", "T2", "T3", "T4"] {
            assert_eq!(
                verdict(&h, id),
                Verdict::Holds,
                "{pairing:?} {id}: {:?}",
                h.checks
            );
        }
        assert!(
            h.checks
                .iter()
                .find(|c| c.id == "T4")
                .unwrap()
                .margin
                .unwrap()
                > 0.0
        );
        assert_ne!(
            verdict(&h, "R1"),
            Verdict::Inconclusive,
            "random content separates λmax"
        );
        assert!(
            h.capture_deviation.unwrap() < 1e-6,
            "f32 logits vs f64 reference"
        );
        assert_eq!(h.freqs_raised.unwrap().1, d / 2);
        assert_eq!(h.spectrum_logits.len(), n);
        // trace of sym L equals trace of sym L_content (RoPE leaves the diagonal unchanged)
        let (tl, tc): (f64, f64) = (
            h.spectrum_logits.iter().sum(),
            h.spectrum_content.iter().sum(),
        );
        assert!((tl - tc).abs() < 1e-4 * tc.abs().max(1.0));
    }
}

#[test]
fn a_capture_with_the_wrong_pairing_is_caught() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
    let (n, d) = (24, 8);
    let c = rope_capture(
        random(&mut rng, n * d),
        random(&mut rng, n * d),
        n,
        d,
        Pairing::Interleaved,
        Pairing::HalfSplit,
    );
    let h = audit_head(&c).unwrap();
    assert!(
        h.capture_deviation.unwrap() > 1e-2,
        "deviation {:?}",
        h.capture_deviation
    );
}

#[test]
fn constant_content_under_rope_gives_toeplitz_logits() {
    // q_i = q, k_j = k for every position: L_ij depends on j − i only (Toeplitz share 1), and
    // the content logits are constant (also Toeplitz)
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let (n, d) = (32, 8);
    let (q1, k1) = (random(&mut rng, d), random(&mut rng, d));
    let q: Vec<f32> = (0..n).flat_map(|_| q1.clone()).collect();
    let k: Vec<f32> = (0..n).flat_map(|_| k1.clone()).collect();
    let h = audit_head(&rope_capture(
        q,
        k,
        n,
        d,
        Pairing::HalfSplit,
        Pairing::HalfSplit,
    ))
    .unwrap();
    assert!(h.toeplitz_share > 1.0 - 1e-6, "{}", h.toeplitz_share);
    for id in ["T1", "T2", "T3", "T4"] {
        assert_ne!(verdict(&h, id), Verdict::Fails);
    }
}

fn additive_capture(content: Vec<f32>, bias: Vec<f32>, n: usize, d: usize) -> HeadCapture {
    let logits = content.iter().zip(&bias).map(|(c, b)| c + b).collect();
    HeadCapture {
        layer: 0,
        head: 0,
        kv_head: 0,
        n,
        head_dim: d,
        scale: 1.0,
        causal: false,
        window: None,
        softcap: None,
        q: vec![0.0; n * d],
        k: vec![0.0; n * d],
        logits,
        content_logits: content,
        positional: Positional::AdditiveBias { bias },
    }
}

#[test]
fn t5_and_alibi_biases_weyl_and_szego_hold() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    let (n, d): (usize, usize) = (40, 8);
    let table: Vec<f64> = (0..32).map(|_| rng.gen_range(-2.0..2.0)).collect();
    let bk = T5Buckets::ENCODER;
    let t5: Vec<f32> = (0..n * n)
        .map(|x| table[bk.bucket((x % n) as i64 - (x / n) as i64).unwrap()] as f32)
        .collect();
    let alibi: Vec<f32> = (0..n * n)
        .map(|x| -0.25 * (x % n).abs_diff(x / n) as f32)
        .collect();
    for bias in [t5, alibi] {
        let (q, k) = (random(&mut rng, n * d), random(&mut rng, n * d));
        let h = audit_head(&additive_capture(gram(&q, &k, n, d, 0.5), bias, n, d)).unwrap();
        assert_eq!(verdict(&h, "T7"), Verdict::Holds, "{:?}", h.checks);
        assert_eq!(verdict(&h, "T9"), Verdict::Holds, "{:?}", h.checks);
        // logits − content is the bias up to one f32 rounding per entry: Toeplitz
        assert!(
            h.delta_toeplitz_share > 1.0 - 1e-5,
            "{}",
            h.delta_toeplitz_share
        );
    }
}

#[test]
fn a_bias_that_is_not_toeplitz_fails_the_t9_hypothesis() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let (n, d) = (12, 4);
    let bias = random(&mut rng, n * n);
    let h = audit_head(&additive_capture(vec![0.0; n * n], bias, n, d)).unwrap();
    let t9 = h.checks.iter().find(|c| c.id == "T9").unwrap();
    assert_eq!(t9.verdict, Verdict::Inconclusive);
    assert!(t9.detail.contains("not exactly Toeplitz"));
}

#[test]
fn absolute_positions_weyl_holds_and_the_positional_part_is_not_toeplitz() {
    // L = (Q + P_q)(K + P_k)ᵀ with random position rows: Δ = L − QKᵀ is P W Pᵀ-like, not
    // Toeplitz (R6 refuted on this head)
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(6);
    let (n, d) = (30, 8);
    let (q, k, pq, pk) = (
        random(&mut rng, n * d),
        random(&mut rng, n * d),
        random(&mut rng, n * d),
        random(&mut rng, n * d),
    );
    let add = |x: &[f32], p: &[f32]| x.iter().zip(p).map(|(a, b)| a + b).collect::<Vec<f32>>();
    let c = HeadCapture {
        layer: 1,
        head: 2,
        kv_head: 2,
        n,
        head_dim: d,
        scale: 1.0,
        causal: false,
        window: None,
        softcap: None,
        logits: gram(&add(&q, &pq), &add(&k, &pk), n, d, 1.0),
        content_logits: gram(&q, &k, n, d, 1.0),
        q,
        k,
        positional: Positional::Absolute,
    };
    let h = audit_head(&c).unwrap();
    assert_eq!(verdict(&h, "T7"), Verdict::Holds, "{:?}", h.checks);
    assert_eq!(verdict(&h, "R6"), Verdict::Fails);
    assert!(h.delta_toeplitz_share < 0.9);
}

#[test]
fn reports_summaries_and_plots() {
    // 2 layers × 3 heads; layer 1 head 2 carries an ALiBi bias on content 1000 times smaller
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
    let (n, d): (usize, usize) = (16, 4);
    let mut caps = Vec::new();
    for layer in 0..2 {
        for head in 0..3 {
            let (q, k) = (random(&mut rng, n * d), random(&mut rng, n * d));
            let deposit = layer == 1 && head == 2;
            let content = gram(&q, &k, n, d, if deposit { 1e-3 } else { 1.0 });
            let bias: Vec<f32> = (0..n * n)
                .map(|x| -0.05 * (x % n).abs_diff(x / n) as f32)
                .collect();
            let mut c = additive_capture(content, bias, n, d);
            c.layer = layer;
            c.head = head;
            c.kv_head = head;
            caps.push(c);
        }
    }
    let progress_calls = std::sync::atomic::AtomicUsize::new(0);
    let mut heads = audit_heads(&caps, &|_, total| {
        assert_eq!(total, 6);
        progress_calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(progress_calls.into_inner(), 6);
    for (i, h) in heads.iter_mut().enumerate() {
        h.ablation = Some(if i == 5 { 0.5 } else { 0.0 });
    }
    let layers = layer_summaries(&heads);
    assert_eq!(layers.len(), 2);
    assert_eq!(layers[1].max_share.1, 2);
    assert!(
        layers[1].max_share.0 > 0.99,
        "an ALiBi bias is all Toeplitz"
    );
    // one head of three holds every ablation effect: Gini (n − 1)/n = 2/3
    assert!((layers[1].gini_ablation.unwrap() - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(layers[1].max_ablation, Some((0.5, 2)));
    assert_eq!(verdict_counts(&heads)["T7"], [6, 0, 0]);
    let report = AuditReport {
        model: "synthetic".into(),
        n,
        ablation_metric: Some("loss increase".into()),
        heads,
        growth: vec![],
        timing: Timing::default(),
    };
    let j = report.to_json();
    assert_eq!(j["verdict_counts"]["T9"]["HOLDS"], 6);
    assert_eq!(j["most_positional"][0]["layer"], 1);
    assert_eq!(j["heads"].as_array().unwrap().len(), 6);
    // spectra are stored for the three most positional heads only
    let top = j["most_positional"].as_array().unwrap().clone();
    for h in j["heads"].as_array().unwrap() {
        let is_top = top
            .iter()
            .any(|m| m["layer"] == h["layer"] && m["head"] == h["head"]);
        assert_eq!(h.get("spectrum_logits").is_some(), is_top);
    }
    let csv = report.to_csv();
    assert_eq!(csv.lines().count(), 7);
    assert!(csv.lines().next().unwrap().ends_with(",T7,T9"));
    let dir = std::env::temp_dir().join(format!("pespectra-audit-plots-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = pespectra_audit::plot::write_all(&report, &dir).unwrap();
    assert_eq!(files.len(), 4);
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        assert!(
            bytes.len() > 5000,
            "{} is {} bytes",
            f.display(),
            bytes.len()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
