//! candle's gradients of whole models (every positional path, both architectures, MLA with
//! both rotary maps) against central finite differences, in f64.

use candle_core::{DType, Device, Tensor};
use pespectra_train::config::{Arch, ModelConfig, Sizes};
use pespectra_train::data::Task;
use pespectra_train::E4;
use rand::{Rng, SeedableRng};

const SIZES: Sizes = Sizes {
    layers: 2,
    d_model: 8,
    heads: 2,
    d_ff: 6,
};

/// A fixed random functional of the logits of a 2 × 7 batch with one padded position.
fn objective(m: &E4) -> Tensor {
    let ids = Tensor::new(
        &[[5u32, 9, 11, 5, 40, 7, 0], [8, 8, 30, 12, 6, 19, 22]],
        &Device::Cpu,
    )
    .unwrap();
    let words = Tensor::new(
        &[[1f64, 1., 1., 1., 1., 1., 0.], [1., 1., 1., 1., 1., 1., 1.]],
        &Device::Cpu,
    )
    .unwrap();
    let logits = m.forward(&ids, Some(&words), &[]).unwrap();
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(99);
    let w: Vec<f64> = (0..logits.elem_count())
        .map(|_| r.gen_range(-1.0..1.0))
        .collect();
    let w = Tensor::from_vec(w, logits.shape(), &Device::Cpu).unwrap();
    (logits * w).unwrap().sum_all().unwrap()
}

fn check(pe: &str, arch: Arch) {
    let c = ModelConfig::new(pe, arch, Task::Distance, SIZES).unwrap();
    let m = E4::new(c, 5, DType::F64).unwrap();
    let grads = objective(&m).backward().unwrap();
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut checked = 0;
    for (name, var) in m.named_vars() {
        let g = match grads.get(var.as_tensor()) {
            Some(g) => g.flatten_all().unwrap().to_vec1::<f64>().unwrap(),
            // the embedding rows of unused ids and similar get no gradient at all
            None => continue,
        };
        let base: Vec<f64> = var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
        for _ in 0..3 {
            let i = r.gen_range(0..base.len());
            let at = |d: f64| {
                let mut v = base.clone();
                v[i] += d;
                var.set(&Tensor::from_vec(v, var.shape(), &Device::Cpu).unwrap())
                    .unwrap();
                objective(&m).to_scalar::<f64>().unwrap()
            };
            let h = 1e-5;
            let fd = (at(h) - at(-h)) / (2.0 * h);
            var.set(&Tensor::from_vec(base.clone(), var.shape(), &Device::Cpu).unwrap())
                .unwrap();
            assert!(
                (fd - g[i]).abs() <= 1e-6 * (1.0 + fd.abs()),
                "{pe} {arch:?} {name}[{i}]: autodiff {} vs finite difference {fd}",
                g[i]
            );
            checked += 1;
        }
    }
    assert!(
        checked > 30,
        "{pe}: only {checked} gradient entries checked"
    );
}

#[test]
fn rotary_models_match_finite_differences() {
    for pe in ["rope", "rope-hybrid", "partial-rope:1"] {
        check(pe, Arch::Paper);
    }
    check("rope", Arch::Standard);
}

#[test]
fn additive_bias_models_match_finite_differences() {
    for pe in ["relative", "t5", "alibi", "alibi-standard"] {
        check(pe, Arch::Paper);
    }
    check("t5", Arch::Standard);
}

#[test]
fn mla_models_match_finite_differences() {
    for pe in ["mla", "mla-paper"] {
        check(pe, Arch::Standard);
        check(pe, Arch::Paper);
    }
}

#[test]
fn absolute_models_match_finite_differences() {
    for pe in ["nope", "sinusoidal", "learned"] {
        check(pe, Arch::Paper);
    }
}
