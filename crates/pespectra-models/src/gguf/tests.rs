//! Hand-computed blocks of every supported type, and malformed files. The comparison with the
//! independent `gguf` Python package is in `tests/gguf_oracle.rs`.

use super::*;

fn h(v: u16) -> [u8; 2] {
    v.to_le_bytes()
}

fn deq(ty: GgmlType, b: &[u8]) -> Vec<f32> {
    dequantize(ty, b).unwrap()
}

#[test]
fn plain_float_types() {
    let b: Vec<u8> = [1.5f32, -0.0, 3e-40]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    assert_eq!(deq(GgmlType::F32, &b), vec![1.5, -0.0, 3e-40]);
    let b: Vec<u8> = [0x3C00u16, 0xC000, 0x7BFF, 0x0001]
        .iter()
        .flat_map(|&x| h(x))
        .collect();
    assert_eq!(
        deq(GgmlType::F16, &b),
        vec![1.0, -2.0, 65504.0, 2f32.powi(-24)]
    );
    let b: Vec<u8> = [0x3F80u16, 0xC040].iter().flat_map(|&x| h(x)).collect();
    assert_eq!(deq(GgmlType::BF16, &b), vec![1.0, -3.0]);
}

#[test]
fn q8_0_block() {
    // d = 0.5, q_i = i − 16
    let mut b = h(0x3800).to_vec();
    b.extend((0..32).map(|i| (i as i8 - 16) as u8));
    let want: Vec<f32> = (0..32).map(|i| (i as f32 - 16.0) * 0.5).collect();
    assert_eq!(deq(GgmlType::Q8_0, &b), want);
}

#[test]
fn q4_blocks() {
    // Q4_0: d = 2, low nibble j, high nibble 15 − j: y_j = (j − 8)·2, y_{j+16} = (7 − j)·2
    let mut b = h(0x4000).to_vec();
    b.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
    let y = deq(GgmlType::Q4_0, &b);
    for j in 0..16 {
        assert_eq!(y[j], (j as f32 - 8.0) * 2.0);
        assert_eq!(y[j + 16], (7.0 - j as f32) * 2.0);
    }
    // Q4_1: d = 0.25, m = −1, both nibbles j: y_j = y_{j+16} = j/4 − 1
    let mut b = h(0x3400).to_vec();
    b.extend(h(0xBC00));
    b.extend((0..16u8).map(|j| j | (j << 4)));
    let y = deq(GgmlType::Q4_1, &b);
    for j in 0..16 {
        assert_eq!(y[j], j as f32 / 4.0 - 1.0);
        assert_eq!(y[j + 16], y[j]);
    }
}

#[test]
fn q5_blocks() {
    // qh bit k is the 5th bit of element k: bits 0 and 31 set; nibbles 1 (low) and 2 (high).
    let qh = 0x8000_0001u32.to_le_bytes();
    let mut b = h(0x3C00).to_vec();
    b.extend(qh);
    b.extend([0x21u8; 16]);
    let y = deq(GgmlType::Q5_0, &b);
    assert_eq!(y[0], 17.0 - 16.0);
    assert_eq!(y[1], 1.0 - 16.0);
    assert_eq!(y[16], 2.0 - 16.0);
    assert_eq!(y[31], 18.0 - 16.0);
    // Q5_1: d = 1, m = 0.5, no centring
    let mut b = h(0x3C00).to_vec();
    b.extend(h(0x3800));
    b.extend(qh);
    b.extend([0x21u8; 16]);
    let y = deq(GgmlType::Q5_1, &b);
    assert_eq!((y[0], y[1], y[16], y[31]), (17.5, 1.5, 2.5, 18.5));
}

/// Scale bytes giving sc = [1, 2, 3, 4, 17, 3, 5, 7], min = [5, 6, 7, 8, 34, 4, 6, 8]:
/// sc_4 takes 16 from the top bits of byte 0, min_4 takes 32 from those of byte 4.
const K_SCALES: [u8; 12] = [1 | 0x40, 2, 3, 4, 5 | 0x80, 6, 7, 8, 0x21, 0x43, 0x65, 0x87];
const K_SC: [f32; 8] = [1., 2., 3., 4., 17., 3., 5., 7.];
const K_MIN: [f32; 8] = [5., 6., 7., 8., 34., 4., 6., 8.];

#[test]
fn q4_k_block() {
    // d = 1, dmin = 0.5, every byte 0x3A: the first 32 of each 64 read 10, the next 32 read 3.
    let mut b = h(0x3C00).to_vec();
    b.extend(h(0x3800));
    b.extend(K_SCALES);
    b.extend([0x3Au8; 128]);
    let y = deq(GgmlType::Q4K, &b);
    for (i, &v) in y.iter().enumerate() {
        let s = i / 32;
        let q = if s % 2 == 0 { 10.0 } else { 3.0 };
        assert_eq!(v, K_SC[s] * q - 0.5 * K_MIN[s], "element {i}");
    }
    assert_eq!((y[0], y[128], y[160]), (7.5, 153.0, 7.0));
}

#[test]
fn q5_k_block() {
    // As Q4_K, plus qh[0] = 0b101: element 0 (sub-block 0) and element 64 (sub-block 2) get +16.
    let mut b = h(0x3C00).to_vec();
    b.extend(h(0x3800));
    b.extend(K_SCALES);
    let mut qh = [0u8; 32];
    qh[0] = 0b101;
    b.extend(qh);
    b.extend([0x3Au8; 128]);
    let y = deq(GgmlType::Q5K, &b);
    assert_eq!(y[0], 26.0 - 2.5);
    assert_eq!(y[64], 3.0 * 26.0 - 3.5);
    assert_eq!(y[1], 10.0 - 2.5);
    assert_eq!(y[32], 2.0 * 3.0 - 3.0);
    assert_eq!(y[128], 153.0);
}

#[test]
fn q6_k_block() {
    // ql = 0x21 (nibbles 1, 2), qh = 0xE4 (2-bit fields 0, 1, 2, 3), d = 0.5, scales i − 8:
    // the four quarters of each half read 1 − 32, 17 − 32, 34 − 32, 50 − 32.
    let mut b = vec![0x21u8; 128];
    b.extend([0xE4u8; 64]);
    b.extend((0..16).map(|i| (i as i8 - 8) as u8));
    b.extend(h(0x3800));
    let y = deq(GgmlType::Q6K, &b);
    let q = [-31.0f32, -15.0, 2.0, 18.0];
    for (i, &v) in y.iter().enumerate() {
        let (half, r) = (i / 128, i % 128);
        let (quarter, l) = (r / 32, r % 32);
        let sc = (8 * half + l / 16 + 2 * quarter) as f32 - 8.0;
        assert_eq!(v, 0.5 * sc * q[quarter], "element {i}");
    }
    assert_eq!(
        (y[0], y[16], y[32], y[64], y[96]),
        (124.0, 108.5, 45.0, -4.0, -18.0)
    );
}

#[test]
fn partial_blocks_are_errors() {
    assert!(dequantize(GgmlType::Q8_0, &[0u8; 33]).is_err());
    assert!(dequantize(GgmlType::Q6K, &[0u8; 209]).is_err());
}

/// A small GGUF image: metadata of every value type (nested arrays included) and two tensors.
struct Writer(Vec<u8>);

impl Writer {
    fn u32(&mut self, v: u32) {
        self.0.extend(v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend(v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.extend(s.as_bytes());
    }
}

fn sample(tensor_type: u32, offset2: u64) -> Vec<u8> {
    let mut w = Writer(Vec::new());
    w.0.extend(b"GGUF");
    w.u32(3);
    w.u64(2); // tensors
    w.u64(8); // metadata
    w.str("general.architecture");
    w.u32(8);
    w.str("llama");
    w.str("a.u8");
    w.u32(0);
    w.0.push(200);
    w.str("a.i16");
    w.u32(3);
    w.0.extend((-300i16).to_le_bytes());
    w.str("a.f32");
    w.u32(6);
    w.0.extend(0.25f32.to_le_bytes());
    w.str("a.bool");
    w.u32(7);
    w.0.push(1);
    w.str("a.i64");
    w.u32(11);
    w.0.extend((-5i64).to_le_bytes());
    w.str("a.strs");
    w.u32(9);
    w.u32(8);
    w.u64(2);
    w.str("Ġhello");
    w.str("x");
    w.str("a.nested");
    w.u32(9);
    w.u32(9);
    w.u64(1);
    w.u32(12);
    w.u64(1);
    w.0.extend(1.5f64.to_le_bytes());
    // tensors: "w" F32 [3 cols, 2 rows] at 0; "q" of `tensor_type` [32] at offset2
    w.str("w");
    w.u32(2);
    w.u64(3);
    w.u64(2);
    w.u32(0);
    w.u64(0);
    w.str("q");
    w.u32(1);
    w.u64(32);
    w.u32(tensor_type);
    w.u64(offset2);
    while !w.0.len().is_multiple_of(32) {
        w.0.push(0);
    }
    for x in [1f32, 2., 3., 4., 5., 6.] {
        w.0.extend(x.to_le_bytes());
    }
    while !w.0.len().is_multiple_of(32) {
        w.0.push(0);
    }
    w.0.extend(h(0x3C00));
    w.0.extend((0..32).map(|i| i as u8));
    w.0
}

#[test]
fn parses_every_value_type_and_tensor() {
    let g = Gguf::from_bytes(sample(8, 32)).unwrap();
    assert_eq!(g.version, 3);
    assert_eq!(g.get_str("general.architecture").unwrap(), "llama");
    assert_eq!(g.get_u64("a.u8").unwrap(), 200);
    assert_eq!(g.get("a.i16"), Some(&Value::I64(-300)));
    assert!(g.get_u64("a.i16").is_err());
    assert_eq!(g.get_f64("a.f32").unwrap(), 0.25);
    assert_eq!(g.get("a.bool"), Some(&Value::Bool(true)));
    assert_eq!(g.get("a.i64"), Some(&Value::I64(-5)));
    assert_eq!(g.get_str_array("a.strs").unwrap(), vec!["Ġhello", "x"]);
    assert_eq!(
        g.get("a.nested"),
        Some(&Value::Array(vec![Value::Array(vec![Value::F64(1.5)])]))
    );
    let t = g.tensor("w").unwrap();
    assert_eq!((t.dims.clone(), t.n_elements()), (vec![3, 2], 6));
    assert_eq!(g.tensor_f32("w").unwrap(), vec![1., 2., 3., 4., 5., 6.]);
    let q = g.tensor_f32("q").unwrap();
    assert_eq!(q, (0..32).map(|i| i as f32).collect::<Vec<_>>());
    let e = g.tensor_f32("nope").unwrap_err().to_string();
    assert!(e.contains("lacks tensor nope"), "{e}");
}

#[test]
fn every_truncation_is_an_error_never_a_panic() {
    let full = sample(8, 32);
    for cut in 0..full.len() {
        let e = Gguf::from_bytes(full[..cut].to_vec());
        assert!(e.is_err(), "cut at {cut} parsed");
    }
}

#[test]
fn bad_files_give_one_line_errors() {
    let mut b = sample(8, 32);
    b[0] = b'X';
    assert_eq!(Gguf::from_bytes(b).unwrap_err(), GgufError::BadMagic);
    let mut b = sample(8, 32);
    b[4] = 1;
    assert_eq!(
        Gguf::from_bytes(b).unwrap_err().to_string(),
        "unsupported GGUF version 1 (2 and 3 are read)"
    );
    // Tensor data past the end of the file.
    let e = Gguf::from_bytes(sample(8, 4096)).unwrap_err();
    assert_eq!(e, GgufError::OutOfBounds("q".into()));
    // Q2_K is parsed but not dequantized: the error names the type.
    let g = Gguf::from_bytes(sample(10, 32)).unwrap();
    let e = g.tensor_f32("q").unwrap_err().to_string();
    assert!(
        e.contains("unsupported quantization type Q2_K") && e.contains("Q4_K"),
        "{e}"
    );
    // A metadata array claiming 2^40 strings is refused before allocating.
    let mut w = Writer(b"GGUF".to_vec());
    w.u32(3);
    w.u64(0);
    w.u64(1);
    w.str("k");
    w.u32(9);
    w.u32(8);
    w.u64(1 << 40);
    let e = Gguf::from_bytes(w.0).unwrap_err().to_string();
    assert!(
        e.starts_with("truncated GGUF file") && e.contains("metadata value k"),
        "{e}"
    );
    // An unknown value type.
    let mut w = Writer(b"GGUF".to_vec());
    w.u32(3);
    w.u64(0);
    w.u64(1);
    w.str("k");
    w.u32(99);
    let e = Gguf::from_bytes(w.0).unwrap_err().to_string();
    assert!(e.contains("unknown value type 99"), "{e}");
    // Missing file.
    let e = Gguf::open(Path::new("/nonexistent/x.gguf"))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("cannot read GGUF file"), "{e}");
}
