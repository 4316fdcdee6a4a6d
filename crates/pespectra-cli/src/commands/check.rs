//! `pespectra check` and `pespectra theorems`: one catalogue entry on a seeded instance or a user matrix.

use super::spectrum::read_npy;
use super::*;
use serde_json::json;
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
    /// Check user matrices instead of built-in instances (T2, T3, T4, T5, T7, T9, T10): A (.npy).
    #[arg(long)]
    pub(crate) a: Option<PathBuf>,
    /// Second user matrix B (.npy) for T2, T3, T4, T10 and T7 (the additive bias).
    #[arg(long, requires = "a")]
    pub(crate) b: Option<PathBuf>,
    /// Write certificates (instances with n ≤ 16) into this directory.
    #[arg(long)]
    pub(crate) certificates: Option<PathBuf>,
    /// Machine-readable JSON on stdout.
    #[arg(long)]
    pub(crate) json: bool,
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
        return Err(bad(
            "with --a, name exactly one theorem id (T2, T3, T4, T5, T7, T9 or T10)",
        ));
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
            rows.push(json!({"id": r.id, "verdict": r.verdict.as_str(), "margin": margin, "certificate": cert_path, "seconds": r.seconds, "detail": r.detail}));
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
        println!("{}", json!({"results": rows, "provenance": prov.to_json()}));
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
