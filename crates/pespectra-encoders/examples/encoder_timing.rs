//! Wall-clock costs of one encoder: load, forward at n tokens, capture of every head, ablation
//! of every head.
//!
//! `cargo run --release -p pespectra-encoders --example encoder_timing -- minilm-l6 [n]`
//! (or `mpnet-base`); the model is fetched into `$PESPECTRA_CACHE` first if needed.

use std::time::Instant;

use pespectra_encoders::Encoder;

const TEXT: &str =
    "Positional encodings decide how a transformer tells tokens apart by where they \
    stand. Learned absolute tables add a vector per position before the first layer, relative \
    biases add a number per offset to every score, and rotary schemes turn queries and keys by \
    an angle that grows with the position. Each choice leaves its own trace in the attention \
    logits, and a trained model shows which of them it actually uses. ";

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "minilm-l6".into());
    let n: usize = args
        .next()
        .map_or(256, |s| s.parse().expect("n must be an integer"));
    let dir = pespectra_models::fetch(&name, &mut |m| eprintln!("{m}")).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2)
    });
    let t = Instant::now();
    let enc = Encoder::load(&dir).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2)
    });
    println!("{name}: load {:.2} s", t.elapsed().as_secs_f64());
    let cfg = enc.config().clone();
    let mut ids = enc
        .tokenize(&TEXT.repeat(1 + 2 * n / 60)[..])
        .unwrap_or_else(|_| {
            // Too long for the model: tokenize a shorter repeat.
            enc.tokenize(&TEXT.repeat(n / 70 + 1)).expect("tokenizable")
        });
    let sep = *ids.last().expect("non-empty");
    ids.truncate(n - 1);
    ids.push(sep);
    assert_eq!(ids.len(), n, "text too short for n = {n}");
    let batch = [ids.clone()];
    enc.embed_ids(&batch).expect("forward"); // warm-up
    let reps = 3;
    let t = Instant::now();
    for _ in 0..reps {
        enc.embed_ids(&batch).expect("forward");
    }
    println!(
        "forward n = {n}: {:.3} s",
        t.elapsed().as_secs_f64() / reps as f64
    );
    let all: Vec<usize> = (0..cfg.layers).collect();
    let t = Instant::now();
    let mut heads = 0;
    enc.capture(&ids, &all, &mut |_| heads += 1)
        .expect("capture");
    println!(
        "capture of {heads} heads: {:.3} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let abl = enc.ablation(&batch).expect("clean run");
    let eff = abl.all_effects(&mut |_, _| {}).expect("ablation");
    let (mut best, mut at) = (0.0, (0, 0));
    for (l, row) in eff.iter().enumerate() {
        for (h, &e) in row.iter().enumerate() {
            if e > best {
                (best, at) = (e, (l, h));
            }
        }
    }
    println!(
        "ablation of all {} heads: {:.3} s (largest effect {best:.3e} at layer {} head {})",
        cfg.layers * cfg.heads,
        t.elapsed().as_secs_f64(),
        at.0,
        at.1
    );
}
