//! `pespectra check` and `pespectra theorems`: one catalogue entry on a seeded instance or a user matrix.

use super::spectrum::read_npy;
use super::*;
use std::path::PathBuf;

#[derive(clap::Args)]
pub(crate) struct CheckArgs {
    /// Catalogue ids to run (default: all), e.g. T3 R1.
    pub(crate) ids: Vec<String>,
    /// Seed of the built-in instances.
    #[arg(long, default_value_t = 42)]
    pub(crate) seed: u64,
    /// Sequence length of the spectral instances (2..=1024).
    #[arg(long, default_value_t = 64)]
    pub(crate) n: usize,
    #[arg(long, help = a_help())]
    pub(crate) a: Option<PathBuf>,
    #[arg(long, requires = "a", help = b_help())]
    pub(crate) b: Option<PathBuf>,
    /// Write certificates (instances with n ≤ 16) into this directory.
    #[arg(long)]
    pub(crate) certificates: Option<PathBuf>,
    /// Machine-readable JSON on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `--a`'s help: the entries that take user matrices, from the catalogue.
fn a_help() -> String {
    format!(
        "Check user matrices instead of built-in instances ({}): A (.npy)",
        pespectra_theorems::user_matrix_ids().join(", ")
    )
}

/// `--b`'s help: the entries that take a second matrix, from the catalogue.
fn b_help() -> String {
    let ids: Vec<&str> = pespectra_theorems::catalogue()
        .into_iter()
        .filter(|e| e.user_operands() == Some(pespectra_theorems::Operands::AAndB))
        .map(|e| e.id)
        .collect();
    format!(
        "Second user matrix B (.npy) for {} (for T7, the additive bias)",
        and_list(&ids)
    )
}

/// "x, y or z".
fn or_list(ids: &[&str]) -> String {
    joined(ids, "or")
}

/// "x, y and z".
fn and_list(ids: &[&str]) -> String {
    joined(ids, "and")
}

fn joined(ids: &[&str], last: &str) -> String {
    match ids.split_last() {
        Some((tail, head)) if !head.is_empty() => format!("{} {last} {tail}", head.join(", ")),
        Some((tail, _)) => tail.to_string(),
        None => String::new(),
    }
}

/// One verdict of `pespectra check --json`.
#[derive(serde::Serialize)]
struct ResultJson {
    id: &'static str,
    verdict: &'static str,
    /// The certified margin rounded toward −∞ (6 digits).
    margin: Option<String>,
    certificate: Option<String>,
    seconds: f64,
    detail: String,
}

/// The `pespectra check --json` document.
#[derive(serde::Serialize)]
struct CheckJson {
    results: Vec<ResultJson>,
    provenance: serde_json::Value,
}

pub(crate) fn run_check(a: &CheckArgs) -> Result<(), Failure> {
    use pespectra_theorems::{catalogue, entry, run, Params};
    let mut prov = provenance();
    // resolve every id once (the theorems crate owns the lookup and its error message)
    let entries = if a.ids.is_empty() {
        catalogue()
    } else {
        a.ids
            .iter()
            .map(|id| entry(id))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(e.to_string()))?
    };
    let ids: Vec<&str> = entries.iter().map(|e| e.id).collect();
    if a.a.is_some() && ids.len() != 1 {
        return Err(bad(format!(
            "with --a, name exactly one theorem id ({})",
            or_list(&pespectra_theorems::user_matrix_ids())
        )));
    }
    let user = match &a.a {
        Some(pa) => Some((read_npy(pa)?, a.b.as_deref().map(read_npy).transpose()?)),
        None => None,
    };
    for (role, p) in [("a", &a.a), ("b", &a.b)] {
        if let Some(p) = p {
            let bytes = std::fs::read(p).unwrap_or_default();
            prov.input_file(role, &p.display().to_string(), &bytes);
        }
    }
    prov.setting("seed", a.seed);
    prov.setting("n", a.n);
    prov.setting("ids", ids.clone());
    prov.threads(rayon::current_num_threads());
    if let Some(dir) = &a.certificates {
        std::fs::create_dir_all(dir)
            .map_err(|e| bad(format!("cannot create {}: {e}", dir.display())))?;
    }
    let params = Params {
        certificates: a.certificates.is_some(),
        ..Params::new(a.seed, a.n)
    };
    let mut rows = Vec::new();
    let mut all_expected = true;
    if !a.json {
        println!(
            "{:<4} {:<13} {:>22} {:>8}  statement",
            "id", "verdict", "certified margin", "seconds"
        );
    }
    for (id, entry) in ids.iter().copied().zip(&entries) {
        let r = match &user {
            Some((ma, mb)) => pespectra_theorems::run_on(id, ma, mb.as_ref()),
            None => run(id, &params),
        }
        .map_err(|e| bad(format!("{id}: {e}")))?;
        let cert_path = match (&a.certificates, &r.certificate) {
            (Some(dir), Some(c)) => {
                let p = dir.join(format!("{}.json", r.id));
                std::fs::write(&p, serde_json::to_string_pretty(c).expect("JSON"))
                    .map_err(|e| bad(format!("cannot write {}: {e}", p.display())))?;
                Some(p.display().to_string())
            }
            _ => None,
        };
        all_expected &= r.verdict == entry.expected;
        // the margin is a certified lower bound: print it rounded toward −∞
        let margin = r.margin.map(|m| {
            pespectra_arith::mp::decimal(&rug::Float::with_val(53, m), 6, rug::float::Round::Down)
        });
        if a.json {
            rows.push(ResultJson {
                id: r.id,
                verdict: r.verdict.as_str(),
                margin,
                certificate: cert_path,
                seconds: r.seconds,
                detail: r.detail,
            });
        } else {
            let flag = if r.verdict == entry.expected {
                ""
            } else {
                "  ← UNEXPECTED"
            };
            println!(
                "{:<4} {:<13} {:>22} {:>8.3}  {}{flag}",
                r.id,
                r.verdict.as_str(),
                margin.unwrap_or_else(|| "-".into()),
                r.seconds,
                entry.statement
            );
            if user.is_some() || r.verdict != entry.expected {
                println!("      {}", r.detail);
            }
        }
    }
    if a.json {
        print_json(&CheckJson {
            results: rows,
            provenance: prov.to_json(),
        });
    }
    if all_expected {
        Ok(())
    } else {
        Err(Failure(
            1,
            "some verdicts differ from the expected ones (HOLDS for T*/D*, FAILS for R*)".into(),
        ))
    }
}

pub(crate) fn list_theorems() {
    for e in pespectra_theorems::catalogue() {
        println!(
            "{:<4} expected {:<6} {}",
            e.id,
            e.expected.as_str(),
            e.statement
        );
    }
}
