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
