//! Runs `CASES` seeded cases of one property at one size on the calling thread, for instruction
//! profiles that are robust on a shared machine:
//! `valgrind --tool=callgrind target/release/examples/profile_cases T3 16 400`.

use pespectra_campaign::mix;
use pespectra_theorems::{run, Params, Verdict};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = || -> ! {
        eprintln!("usage: profile_cases PROPERTY N CASES");
        std::process::exit(2)
    };
    if args.len() != 4 {
        usage()
    }
    let (id, n, cases) = match (args[2].parse::<usize>(), args[3].parse::<u64>()) {
        (Ok(n), Ok(c)) => (args[1].as_str(), n, c),
        _ => usage(),
    };
    let t = std::time::Instant::now();
    let mut holds = 0;
    for k in 0..cases {
        match run(id, &Params::new(mix(7, k), n)) {
            Ok(r) => holds += usize::from(r.verdict == Verdict::Holds),
            Err(e) => {
                eprintln!("profile_cases: {e}");
                std::process::exit(2)
            }
        }
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "{id} n = {n}: {holds}/{cases} HOLDS in {s:.3} s ({:.1} cases/s on one thread)",
        cases as f64 / s
    );
}
