//! Arbitrary bytes → `pespectra_npy::parse`.
//!
//! Properties: never panics (nor hangs: libFuzzer's `-timeout` catches that); an accepted file
//! has `rows·cols` real parts and, for complex128, as many imaginary parts; writing it back with
//! `to_npy_f64`/`to_npy_c128` and parsing again gives the same shape and bitwise-identical values
//! (NaN payloads and signed zeros included).
#![no_main]

use libfuzzer_sys::fuzz_target;

fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

fuzz_target!(|data: &[u8]| {
    let Ok(m) = pespectra_npy::parse(data) else {
        return;
    };
    let count = m
        .rows
        .checked_mul(m.cols)
        .expect("accepted shape overflows usize");
    assert_eq!(
        m.re.len(),
        count,
        "re length != rows*cols for {}x{}",
        m.rows,
        m.cols
    );
    if let Some(im) = &m.im {
        assert_eq!(im.len(), count, "im length != re length");
    }
    // Every accepted file carries 8 (or 16) bytes per entry, so count is bounded by the input.
    assert!(count <= data.len(), "more entries than input bytes");
    let bytes = match &m.im {
        None => pespectra_npy::to_npy_f64(m.rows, m.cols, &m.re),
        Some(im) => pespectra_npy::to_npy_c128(m.rows, m.cols, &m.re, im),
    };
    let back = pespectra_npy::parse(&bytes).expect("re-parsing our own output failed");
    assert_eq!(
        (back.rows, back.cols),
        (m.rows, m.cols),
        "shape changed on round trip"
    );
    assert!(
        same_bits(&back.re, &m.re),
        "real parts changed on round trip"
    );
    match (&back.im, &m.im) {
        (None, None) => {}
        (Some(a), Some(b)) => assert!(same_bits(a, b), "imaginary parts changed on round trip"),
        _ => panic!("complexity changed on round trip"),
    }
});
