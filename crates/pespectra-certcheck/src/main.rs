//! `pespectra-certcheck CERT.json...`: verify certificates with the independent
//! exact checker. Exit 0 if all are valid, 1 if any is invalid, 2 if any is
//! unreadable (or on bad usage). `pespectra verify` has the same contract.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: pespectra-certcheck CERT.json...");
        return ExitCode::from(2);
    }
    let mut worst = 0;
    for p in &paths {
        let result = pespectra_certcheck::verify_file(Path::new(p));
        match &result {
            Ok(report) => print!("{p}: {report}"),
            Err(e) => eprintln!("{p}: {e}"),
        }
        worst = worst.max(pespectra_certcheck::exit_code(&result));
    }
    ExitCode::from(worst as u8)
}
