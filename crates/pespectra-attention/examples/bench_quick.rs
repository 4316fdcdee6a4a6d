//! One `bench_attention` measurement, for tuning: `cargo run --release --example bench_quick -- B H S D causal threads`.
fn main() {
    let a: Vec<usize> = std::env::args()
        .skip(1)
        .map(|x| x.parse().expect("integer arguments"))
        .collect();
    let r = pespectra_attention::bench_attention(a[0], a[1], a[2], a[3], a[4] != 0, a[5])
        .expect("bench");
    println!("{}", r.to_json());
}
