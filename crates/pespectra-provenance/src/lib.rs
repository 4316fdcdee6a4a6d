//! The provenance block of every machine-readable pespectra output (`docs/REPORT_FORMAT.md`):
//! what produced a report, so that a reader can trust it and rerun it.
//!
//! A [`Provenance`] is started when a command starts ([`Provenance::start`]), collects what the
//! command learns on the way (model files and their SHA-256, input text and token ids, seeds,
//! precision, threads, the SIMD path its kernels used) and is finished into JSON
//! ([`Provenance::to_json`]) with the duration. Nothing here measures or decides anything.
//!
//! ```
//! use pespectra_provenance::Provenance;
//! let mut p = Provenance::start(&["pespectra", "check", "T3"]);
//! p.setting("seed", 42);
//! p.input_text("some text");
//! let v = p.to_json();
//! assert_eq!(v["schema"], "pespectra-provenance/1");
//! assert_eq!(v["settings"]["seed"], 42);
//! assert_eq!(v["input"]["text_sha256"].as_str().unwrap().len(), 64);
//! ```

#![warn(missing_docs)]
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Version of the block's layout; bumped on any incompatible change.
pub const SCHEMA: &str = "pespectra-provenance/1";

/// The git commit this binary was built from (`unknown` outside a checkout).
pub const GIT_COMMIT: &str = env!("PESPECTRA_GIT_COMMIT");

/// The pespectra version (workspace version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// SHA-256 of bytes, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of token ids, each as 4 little-endian bytes (documented so others can recompute it).
pub fn token_ids_sha256(ids: &[u32]) -> String {
    let mut h = Sha256::new();
    for id in ids {
        h.update(id.to_le_bytes());
    }
    hex(&h.finalize())
}

/// One input file and its digest.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FileDigest {
    /// Path as the report should show it (relative to the model directory).
    pub path: String,
    /// SHA-256, lower-case hex.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// The CPU model name from `/proc/cpuinfo` (`unknown` where it cannot be read).
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The CPU's vector features that matter to pespectra's kernels and to faer, detected at run time.
pub fn cpu_features() -> Vec<&'static str> {
    let mut f = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            f.push("avx512f");
        }
        if is_x86_feature_detected!("avx2") {
            f.push("avx2");
        }
        if is_x86_feature_detected!("fma") {
            f.push("fma");
        }
    }
    f
}

/// UTC time as RFC 3339 (`2026-12-06T13:14:47Z`), from the system clock.
pub fn utc_rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // civil-from-days (proleptic Gregorian), H. Hinnant's algorithm
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// What produced one report; see the module docs.
#[derive(Clone, Debug)]
pub struct Provenance {
    command_line: Vec<String>,
    started: SystemTime,
    clock: Instant,
    settings: Map<String, Value>,
    model: Option<(String, Vec<FileDigest>)>,
    input: Map<String, Value>,
    simd: Option<String>,
    gemm: Option<String>,
    threads: Option<usize>,
}

impl Provenance {
    /// Starts the record of a command run with these arguments (`std::env::args()`).
    pub fn start<S: AsRef<str>>(args: &[S]) -> Self {
        Self {
            command_line: args.iter().map(|a| a.as_ref().to_string()).collect(),
            started: SystemTime::now(),
            clock: Instant::now(),
            settings: Map::new(),
            model: None,
            input: Map::new(),
            simd: None,
            gemm: None,
            threads: None,
        }
    }

    /// The arguments it was started with.
    pub fn command_line(&self) -> &[String] {
        &self.command_line
    }

    /// Records a setting (seed, precision, width, n, layers, …).
    pub fn setting(&mut self, key: &str, value: impl Into<Value>) {
        self.settings.insert(key.into(), value.into());
    }

    /// Records the model and the digests of the files it was read from.
    pub fn model(&mut self, id: &str, files: Vec<FileDigest>) {
        self.model = Some((id.into(), files));
    }

    /// Records the SHA-256 of the input text.
    pub fn input_text(&mut self, text: &str) {
        self.input
            .insert("text_sha256".into(), sha256_hex(text.as_bytes()).into());
    }

    /// Records the token ids' count and SHA-256 ([`token_ids_sha256`]).
    pub fn token_ids(&mut self, ids: &[u32]) {
        self.input.insert("tokens".into(), ids.len().into());
        self.input
            .insert("token_ids_sha256".into(), token_ids_sha256(ids).into());
    }

    /// Records an input file (a `.npy` matrix, a certificate) and its SHA-256.
    pub fn input_file(&mut self, role: &str, path: &str, bytes: &[u8]) {
        self.input.insert(
            role.into(),
            value(&FileDigest {
                path: path.into(),
                sha256: sha256_hex(bytes),
                bytes: bytes.len() as u64,
            }),
        );
    }

    /// Records the SIMD path the command's own kernels used (`avx512`, `avx2+fma`, `portable`).
    pub fn simd(&mut self, name: &str) {
        self.simd = Some(name.into());
    }

    /// Records the library that computed the verification's f64 matrix products (faer, or the
    /// system OpenBLAS with its version and kernel).
    pub fn gemm(&mut self, description: &str) {
        self.gemm = Some(description.into());
    }

    /// Records the number of worker threads.
    pub fn threads(&mut self, n: usize) {
        self.threads = Some(n);
    }

    /// The block, with the duration up to now.
    pub fn to_json(&self) -> Value {
        let threads = self
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        /// The model the command ran, with its files.
        #[derive(serde::Serialize)]
        struct ModelJson<'a> {
            id: &'a str,
            files: &'a [FileDigest],
        }
        /// The CPU the command ran on.
        #[derive(serde::Serialize)]
        struct CpuJson<'a> {
            model: String,
            features: Vec<&'static str>,
            simd_path: Option<&'a str>,
        }
        /// The block (keys sorted once it is a `Value`).
        #[derive(serde::Serialize)]
        struct BlockJson<'a> {
            schema: &'static str,
            pespectra_version: &'static str,
            git_commit: &'static str,
            command_line: &'a [String],
            cpu: CpuJson<'a>,
            threads: usize,
            started_at: String,
            duration_seconds: f64,
            settings: &'a Map<String, Value>,
            input: &'a Map<String, Value>,
            #[serde(skip_serializing_if = "Option::is_none")]
            model: Option<ModelJson<'a>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            gemm: Option<&'a str>,
        }
        value(&BlockJson {
            schema: SCHEMA,
            pespectra_version: VERSION,
            git_commit: GIT_COMMIT,
            command_line: &self.command_line,
            cpu: CpuJson {
                model: cpu_model(),
                features: cpu_features(),
                simd_path: self.simd.as_deref(),
            },
            threads,
            started_at: utc_rfc3339(self.started),
            duration_seconds: self.clock.elapsed().as_secs_f64(),
            settings: &self.settings,
            input: &self.input,
            model: self
                .model
                .as_ref()
                .map(|(id, files)| ModelJson { id, files }),
            gemm: self.gemm.as_deref(),
        })
    }
}

/// `doc` as a JSON value with sorted keys (cannot fail: every key is a string).
fn value(doc: &impl serde::Serialize) -> Value {
    serde_json::to_value(doc).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_instants() {
        let at = |s: u64| utc_rfc3339(UNIX_EPOCH + std::time::Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        // 2000-02-29T12:34:56Z (a leap day) and 2026-12-06T13:14:47Z, from `date -u -d @…`
        assert_eq!(at(951_827_696), "2000-02-29T12:34:56Z");
        assert_eq!(at(1_796_562_887), "2026-12-06T13:14:47Z");
    }

    #[test]
    fn digests_match_known_vectors() {
        // FIPS 180-2 test vector
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(token_ids_sha256(&[0x0063_6261]), sha256_hex(b"abc\0"));
    }
}
