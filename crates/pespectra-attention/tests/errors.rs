//! Invalid input is reported as `Err` with a clear message, never a panic.

mod common;
use common::*;
use pespectra_attention::*;

fn problem() -> Problem {
    Problem::random(AttentionConfig::new(1, 2, 9, 16), 1, 1.0)
}

#[test]
fn nan_and_inf_inputs_are_errors() {
    for (tensor, val) in [("q", f32::NAN), ("k", f32::INFINITY), ("v", f32::NAN)] {
        let mut p = problem();
        let buf = match tensor {
            "q" => &mut p.q,
            "k" => &mut p.k,
            _ => &mut p.v,
        };
        buf[5] = val;
        for isa in Isa::available() {
            let e = flash_attention_with(isa, &p.cfg, &p.inputs()).unwrap_err();
            assert!(matches!(e, Error::NonFinite { index: 5, .. }), "{e:?}");
            let msg = e.to_string();
            assert!(msg.contains(tensor) && msg.contains("non-finite"), "{msg}");
        }
        assert!(reference_attention(&p.cfg, &p.inputs()).is_err());
        assert!(attention_logits(&p.cfg, &p.inputs(), LogitsRequest::all(&p.cfg)).is_err());
    }
}

#[test]
fn shape_mismatches_are_errors() {
    let mut p = problem();
    p.k.pop();
    let e = flash_attention(&p.cfg, &p.inputs()).unwrap_err();
    assert_eq!(
        e,
        Error::ShapeMismatch {
            tensor: "k",
            expected: 2 * 9 * 16,
            actual: 2 * 9 * 16 - 1
        }
    );
    let p = problem();
    let mut out = vec![0f32; 3];
    assert!(flash_attention_into(Isa::Portable, &p.cfg, &p.inputs(), &mut out).is_err());
}

#[test]
fn invalid_configurations_are_errors() {
    let base = problem();
    let mut cases: Vec<AttentionConfig> = Vec::new();
    let mut c = base.cfg.clone();
    c.kv_heads = 3;
    cases.push(c);
    let mut c = base.cfg.clone();
    c.seq = 0;
    cases.push(c);
    let mut c = base.cfg.clone();
    c.scale = f64::NAN;
    cases.push(c);
    let mut c = base.cfg.clone();
    c.sliding_window = Some(0);
    cases.push(c);
    let mut c = base.cfg.clone();
    c.mask = Mask::padding(vec![0]);
    cases.push(c);
    let mut c = base.cfg.clone();
    c.mask = Mask::padding(vec![3, 3]);
    cases.push(c);
    let mut c = base.cfg.clone();
    c.pe = PositionalEncoding::Rope(Rope {
        rotary_fraction: 0.2,
        ..Rope::new(RopePairing::HalfSplit, 10000.0)
    });
    cases.push(c);
    let mut c = base.cfg.clone();
    c.pe = PositionalEncoding::Alibi { slopes: vec![0.5] };
    cases.push(c);
    let mut c = base.cfg.clone();
    c.pe = PositionalEncoding::Mla(Mla {
        nope_dim: 10,
        rope_dim: 8,
        rope: Rope::new(RopePairing::Interleaved, 10000.0),
    });
    cases.push(c);
    for c in cases {
        let p = Problem {
            cfg: c.clone(),
            q: base.q.clone(),
            k: base.k.clone(),
            v: base.v.clone(),
            rope_key: None,
        };
        let e = flash_attention(&p.cfg, &p.inputs()).unwrap_err();
        assert!(!e.to_string().is_empty());
        assert!(
            matches!(e, Error::InvalidConfig(_) | Error::ShapeMismatch { .. }),
            "{c:?}: {e:?}"
        );
    }
}

#[test]
fn mla_without_rope_key_is_an_error() {
    let mut c = AttentionConfig::new(1, 2, 9, 16);
    c.pe = PositionalEncoding::Mla(Mla {
        nope_dim: 8,
        rope_dim: 8,
        rope: Rope::new(RopePairing::Interleaved, 10000.0),
    });
    let mut p = Problem::random(c, 1, 1.0);
    p.rope_key = None;
    let e = flash_attention(&p.cfg, &p.inputs()).unwrap_err();
    assert!(e.to_string().contains("rope_key"), "{e}");
}

#[test]
fn per_frequency_request_needs_rope() {
    let p = problem();
    let req = LogitsRequest {
        pre_mask: false,
        content: false,
        per_frequency: true,
    };
    assert!(matches!(
        attention_logits(&p.cfg, &p.inputs(), req),
        Err(Error::InvalidConfig(_))
    ));
}

/// The flash path tests finiteness while packing (per kv-group and per query tile): a NaN or
/// ±∞ anywhere — first or last element, another batch or head, a GQA group, the f32 copy path
/// (NoPE, ALiBi) or the f64 encoding path (RoPE) — is the same error as `validate` reports.
#[test]
fn non_finite_anywhere_is_found_by_the_fused_check() {
    let mut base = AttentionConfig::new(2, 4, 37, 16);
    base.kv_heads = 2;
    let encodings = [
        PositionalEncoding::NoPE,
        PositionalEncoding::Rope(Rope::new(RopePairing::HalfSplit, 10000.0)),
        PositionalEncoding::Alibi {
            slopes: alibi_slopes(4),
        },
    ];
    for pe in encodings {
        let mut cfg = base.clone();
        cfg.pe = pe;
        let clean = Problem::random(cfg.clone(), 7, 1.0);
        for tensor in ["q", "k", "v"] {
            let len = match tensor {
                "q" => clean.q.len(),
                "k" => clean.k.len(),
                _ => clean.v.len(),
            };
            for (index, val) in [
                (0, f32::NAN),
                (len / 2 + 3, f32::NEG_INFINITY),
                (len - 1, f32::INFINITY),
            ] {
                let mut p = Problem::random(cfg.clone(), 7, 1.0);
                let buf = match tensor {
                    "q" => &mut p.q,
                    "k" => &mut p.k,
                    _ => &mut p.v,
                };
                buf[index] = val;
                let expected = validate(&p.cfg, &p.inputs()).unwrap_err();
                assert!(matches!(expected, Error::NonFinite { index: i, .. } if i == index));
                for isa in Isa::available() {
                    let e = flash_attention_with(isa, &p.cfg, &p.inputs()).unwrap_err();
                    // (compared as text: NaN ≠ NaN inside the error value)
                    assert_eq!(e.to_string(), expected.to_string(), "{:?}", p.cfg.pe);
                }
            }
        }
        // and the clean problem still runs after errors left stale data in the buffers
        assert!(check_flash(&clean) <= 1.0);
    }
}
