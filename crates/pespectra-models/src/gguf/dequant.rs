//! Dequantization of whole ggml blocks to f32, following ggml's `dequantize_row_*`.

use super::{GgmlType, GgufError};

fn f16(b: &[u8], at: usize) -> f32 {
    half::f16::from_le_bytes([b[at], b[at + 1]]).to_f32()
}

/// Dequantizes whole blocks of type `ty`; a partial trailing block is an error.
pub fn dequantize(ty: GgmlType, bytes: &[u8]) -> Result<Vec<f32>, GgufError> {
    let (be, bb) = ty.block();
    if !bytes.len().is_multiple_of(bb) {
        return Err(GgufError::Malformed(format!(
            "{} bytes are not whole {} blocks of {bb}",
            bytes.len(),
            ty.name()
        )));
    }
    let mut out = vec![0f32; bytes.len() / bb * be];
    for (blk, y) in bytes.chunks_exact(bb).zip(out.chunks_exact_mut(be)) {
        match ty {
            GgmlType::F32 => y[0] = f32::from_le_bytes(blk.try_into().unwrap()),
            GgmlType::F16 => y[0] = f16(blk, 0),
            GgmlType::BF16 => {
                y[0] = f32::from_bits((u16::from_le_bytes([blk[0], blk[1]]) as u32) << 16)
            }
            GgmlType::Q8_0 => {
                let d = f16(blk, 0);
                for (yi, &q) in y.iter_mut().zip(&blk[2..]) {
                    *yi = d * (q as i8) as f32;
                }
            }
            // Rounding as in ggml: symmetric types scale the centred integer, (q − 8)·d;
            // affine ones compute q·d + m.
            GgmlType::Q4_0 => {
                let d = f16(blk, 0);
                for (j, &q) in blk[2..].iter().enumerate() {
                    y[j] = ((q & 0xF) as i32 - 8) as f32 * d;
                    y[j + 16] = ((q >> 4) as i32 - 8) as f32 * d;
                }
            }
            GgmlType::Q4_1 => {
                let (d, m) = (f16(blk, 0), f16(blk, 2));
                for (j, &q) in blk[4..].iter().enumerate() {
                    y[j] = (q & 0xF) as f32 * d + m;
                    y[j + 16] = (q >> 4) as f32 * d + m;
                }
            }
            GgmlType::Q5_0 | GgmlType::Q5_1 => {
                let d = f16(blk, 0);
                let (m, rest) = match ty {
                    GgmlType::Q5_1 => (Some(f16(blk, 2)), &blk[4..]),
                    _ => (None, &blk[2..]),
                };
                let qh = u32::from_le_bytes(rest[..4].try_into().unwrap());
                for (j, &q) in rest[4..].iter().enumerate() {
                    let q0 = (q as u32 & 0xF) | (((qh >> j) << 4) & 0x10);
                    let q1 = (q as u32 >> 4) | ((qh >> (j + 12)) & 0x10);
                    match m {
                        Some(m) => {
                            y[j] = q0 as f32 * d + m;
                            y[j + 16] = q1 as f32 * d + m;
                        }
                        None => {
                            y[j] = (q0 as i32 - 16) as f32 * d;
                            y[j + 16] = (q1 as i32 - 16) as f32 * d;
                        }
                    }
                }
            }
            GgmlType::Q4K | GgmlType::Q5K => {
                let d = f16(blk, 0);
                let dmin = f16(blk, 2);
                let scales = &blk[4..16];
                let (qh, qs) = match ty {
                    GgmlType::Q5K => (Some(&blk[16..48]), &blk[48..]),
                    _ => (None, &blk[16..]),
                };
                for g in 0..4 {
                    let (s1, m1) = scale_min_k4(2 * g, scales);
                    let (s2, m2) = scale_min_k4(2 * g + 1, scales);
                    let (d1, o1) = (d * s1 as f32, dmin * m1 as f32);
                    let (d2, o2) = (d * s2 as f32, dmin * m2 as f32);
                    let q = &qs[32 * g..32 * g + 32];
                    for l in 0..32 {
                        let (hi1, hi2) = match qh {
                            Some(h) => (
                                ((h[l] >> (2 * g)) & 1) << 4,
                                ((h[l] >> (2 * g + 1)) & 1) << 4,
                            ),
                            None => (0, 0),
                        };
                        y[64 * g + l] = d1 * ((q[l] & 0xF) | hi1) as f32 - o1;
                        y[64 * g + 32 + l] = d2 * ((q[l] >> 4) | hi2) as f32 - o2;
                    }
                }
            }
            GgmlType::Q6K => {
                let ql = &blk[..128];
                let qh = &blk[128..192];
                let sc = &blk[192..208];
                let d = f16(blk, 208);
                for n in 0..2 {
                    let (ql, qh, sc) = (&ql[64 * n..], &qh[32 * n..], &sc[8 * n..]);
                    let y = &mut y[128 * n..];
                    for l in 0..32 {
                        let is = l / 16;
                        let q1 = ((ql[l] & 0xF) | ((qh[l] & 3) << 4)) as i32 - 32;
                        let q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) as i32 - 32;
                        let q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i32 - 32;
                        let q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) as i32 - 32;
                        let s = |k: usize| d * (sc[is + k] as i8) as f32;
                        y[l] = s(0) * q1 as f32;
                        y[l + 32] = s(2) * q2 as f32;
                        y[l + 64] = s(4) * q3 as f32;
                        y[l + 96] = s(6) * q4 as f32;
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The 6-bit (scale, min) pair `j` of a Q4_K/Q5_K block (`get_scale_min_k4` in ggml).
fn scale_min_k4(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        (
            (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4),
            (q[j + 4] >> 4) | ((q[j] >> 6) << 4),
        )
    }
}
