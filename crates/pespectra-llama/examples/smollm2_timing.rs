//! Where the time goes on SmolLM2-135M: load, one forward at n tokens, a forward capturing every
//! head, and single-head ablations. `cargo run --release --example smollm2_timing -- [n] [forward]`
//! (`forward`: stop after the plain forward; fetches the model into the cache first if needed).

use pespectra_capture::HeadCapture;
use pespectra_llama::{ForwardOptions, Llama};
use std::time::Instant;

const TEXT: &str = "The history of the printing press begins in the fifteenth century, when \
Johannes Gutenberg combined movable metal type, oil-based ink and a wooden press adapted from \
wine making. Within fifty years presses operated in more than two hundred European cities, and \
the price of books fell so far that reading spread well beyond monasteries and universities. ";

/// CPU seconds of this process (user + system, all threads): robust to other processes sharing
/// the cores, unlike wall time. Linux only (NaN elsewhere); assumes 100 clock ticks per second.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    let after = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| {
        f.get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (tick(11) + tick(12)) / 100.0
}

/// Runs `f` three times; prints the best wall time and the mean CPU time.
fn measure(what: &str, f: &mut dyn FnMut()) {
    let (mut wall, c0) = (f64::INFINITY, cpu_seconds());
    for _ in 0..3 {
        let t = Instant::now();
        f();
        wall = wall.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{what}: {wall:.3} s wall (best of 3), {:.3} s CPU",
        (cpu_seconds() - c0) / 3.0
    );
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(256, |s| s.parse().expect("n"));
    let dir = pespectra_models::fetch("smollm2-135m", &mut |l| eprintln!("{l}")).unwrap();
    let path = pespectra_models::lookup("smollm2-135m")
        .unwrap()
        .weight_path(&dir);
    let (t, c0) = (Instant::now(), cpu_seconds());
    let m = Llama::load(&path).unwrap();
    println!(
        "load (parse + dequantize): {:.2} s wall, {:.2} s CPU",
        t.elapsed().as_secs_f64(),
        cpu_seconds() - c0
    );
    let mut tokens = Vec::new();
    while tokens.len() < n {
        tokens.extend(m.encode(TEXT).unwrap());
    }
    tokens.truncate(n);
    m.forward(&tokens, &mut ForwardOptions::default()).unwrap(); // warm-up
    measure(&format!("forward n={n}, last-token logits"), &mut || {
        m.forward(&tokens, &mut ForwardOptions::default()).unwrap();
    });
    if std::env::args().nth(2).as_deref() == Some("forward") {
        return;
    }
    measure(
        &format!("forward n={n} + loss over all positions"),
        &mut || {
            let mut o = ForwardOptions {
                loss: true,
                ..Default::default()
            };
            m.forward(&tokens, &mut o).unwrap();
        },
    );
    let mut count = 0;
    let (t, c0) = (Instant::now(), cpu_seconds());
    {
        let mut sink = |_c: HeadCapture| count += 1;
        let mut o = ForwardOptions {
            capture_layers: (0..m.config.n_layers).collect(),
            sink: Some(&mut sink),
            loss: false,
        };
        m.forward(&tokens, &mut o).unwrap();
    }
    println!(
        "forward n={n} capturing all {count} heads: {:.3} s wall, {:.3} s CPU",
        t.elapsed().as_secs_f64(),
        cpu_seconds() - c0
    );
    let all = std::env::args().nth(2).as_deref() == Some("all");
    let (layers, per_layer) = if all {
        ((0..m.config.n_layers).collect::<Vec<_>>(), m.config.n_heads)
    } else {
        (vec![0, 15, 29], 3)
    };
    let heads: Vec<(usize, usize)> = layers
        .iter()
        .flat_map(|&l| (0..per_layer).map(move |h| (l, h)))
        .collect();
    let (t, c0) = (Instant::now(), cpu_seconds());
    let r = m.ablation_losses(&tokens, &heads, &mut |_, _| {}).unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "ablation of {} heads incl. clean run: {secs:.2} s wall, {:.2} s CPU; clean loss {:.4}, largest effect {:.4}",
        heads.len(),
        cpu_seconds() - c0,
        r.clean_loss,
        r.losses.iter().map(|l| l - r.clean_loss).fold(f64::NEG_INFINITY, f64::max)
    );
}
