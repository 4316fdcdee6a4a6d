//! Where the time of one verified f64 enclosure goes (decomposition vs verification GEMMs).
//! `cargo run --release -p pespectra-spectra --example profile_eig -- 512`
use faer::Mat;
use pespectra_arith::gemm::{
    gemm_description, gram_split_with, matmul_split_with, norm2_upper, par_for, with_backend,
    Backend, ColumnSplit,
};
use pespectra_spectra::eig_f64::{approx_eig, residual_bounds};
use pespectra_spectra::matrix::CMat;
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    let m = Mat::from_fn(n, n, |i, j| {
        (((i * 31 + j * 17) % 97) as f64 - 48.0) / 97.0 + if i == j { 0.5 } else { 0.0 }
    });
    let a = CMat::real(Mat::from_fn(n, n, |i, j| m[(i.min(j), i.max(j))]));
    for _ in 0..3 {
        let t = Instant::now();
        let ap = approx_eig(&a).unwrap();
        let t1 = t.elapsed();
        let _ = residual_bounds(&a, &ap.x, &ap.d, par_for(n));
        println!(
            "n = {n}: decomposition {t1:?}, verification {:?}",
            t.elapsed() - t1
        );
        let t = Instant::now();
        let _ = pespectra_arith::gemm::matmul_ball(a.re.as_ref(), ap.x.re.as_ref(), par_for(n));
        let t2 = t.elapsed();
        let _ = pespectra_arith::gemm::matmul_ball(a.re.as_ref(), ap.x.re.as_ref(), faer::Par::Seq);
        println!(
            "  one matmul_ball: rayon {t2:?}, seq {:?}",
            t.elapsed() - t2
        );
        let par = par_for(n);
        let t = Instant::now();
        let xs = ColumnSplit::new(ap.x.re.as_ref(), par);
        let t_split = t.elapsed();
        let p = matmul_split_with(a.re.as_ref(), &xs, par);
        let t_ax = t.elapsed();
        let g = gram_split_with(&xs, par);
        let t_gram = t.elapsed();
        let r = p.modulus_minus_products(|i, j| (ap.x.re[(i, j)], ap.d[j]));
        let f = g.modulus_minus_products(|i, j| (if i == j { 1.0 } else { 0.0 }, 1.0));
        let t_mod = t.elapsed();
        let _ = (norm2_upper(r.as_ref()), norm2_upper(f.as_ref()));
        println!(
            "  split X {t_split:?}, A·X {:?}, XᵀX {:?}, two moduli {:?}, two norms {:?} ({})",
            t_ax - t_split,
            t_gram - t_ax,
            t_mod - t_gram,
            t.elapsed() - t_mod,
            gemm_description()
        );
        let t = Instant::now();
        let mut c = Mat::<f64>::zeros(n, n);
        faer::linalg::matmul::matmul(
            c.as_mut(),
            faer::Accum::Replace,
            a.re.as_ref(),
            ap.x.re.as_ref(),
            1.0,
            faer::Par::Seq,
        );
        let t3 = t.elapsed();
        for backend in [Backend::SystemBlas, Backend::Faer] {
            let t = Instant::now();
            let r = with_backend(backend, || {
                pespectra_arith::gemm::matmul_nonneg_upper(a.re.as_ref(), ap.x.re.as_ref(), par)
            });
            println!(
                "  one GEMM + pass, {backend:?}: {:?} ({})",
                t.elapsed(),
                r.is_ok()
            );
        }
        let ab = Mat::from_fn(n, n, |i, j| a.re[(i, j)].abs());
        println!("  raw gemm seq {t3:?}, one from_fn {:?}", t.elapsed() - t3);
        std::hint::black_box((c, ab));
    }
}
