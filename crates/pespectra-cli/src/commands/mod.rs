//! One file per subcommand; this file holds the one failure shape they all return.

pub(crate) mod audit;
pub(crate) mod bench;
pub(crate) mod campaign;
pub(crate) mod capture;
pub(crate) mod check;
pub(crate) mod experiments;
pub(crate) mod models;
pub(crate) mod spectrum;
pub(crate) mod train;

/// Prints `doc` as one line of JSON with its keys in sorted order, the form every `--json`
/// document of the CLI has (nested objects sorted too).
pub(crate) fn print_json(doc: &impl serde::Serialize) {
    match serde_json::to_value(doc) {
        Ok(v) => println!("{v}"),
        Err(e) => eprintln!("error: cannot write the JSON document: {e}"),
    }
}

/// Keeps freed buffers in the heap instead of returning them to the kernel, for the commands
/// whose big matrices and tensors are allocated and freed over and over (every candle op's
/// output; the split GEMMs' operands and products of `eig`/`svd`; a model's activations in
/// `audit`). With glibc's defaults each
/// such buffer is a fresh mmap whose pages the kernel zeroes again: half of a training step's
/// time, and 8% of a whole `eig` process at n = 2048, whose 32 MiB matrices are above even the
/// highest mmap threshold glibc accepts, so mmap is switched off altogether.
pub(crate) fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator thresholds; called before the run allocates.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

/// A user-facing failure: exit code and one-line message.
pub(crate) struct Failure(pub(crate) u8, pub(crate) String);

pub(crate) fn bad(msg: impl Into<String>) -> Failure {
    Failure(2, msg.into())
}

/// The provenance of this process's output, started from its command line.
pub(crate) fn provenance() -> pespectra_provenance::Provenance {
    pespectra_provenance::Provenance::start(&std::env::args().collect::<Vec<_>>())
}

/// What a report recorded of the run that wrote it, for `--reproduce`: the report itself, the
/// whole recorded command line, and the arguments of its subcommand parsed again.
pub(crate) struct Recording<P> {
    pub(crate) old: serde_json::Value,
    pub(crate) argv: Vec<String>,
    pub(crate) parsed: P,
}

/// Reads the report at `path` (described as `kind`, e.g. "a campaign report") and parses the
/// arguments after `sub` in its provenance command line as `P`; `missing` ends the message when
/// the report has no such command line.
pub(crate) fn read_recording<P: clap::Parser>(
    path: &std::path::Path,
    sub: &str,
    kind: &str,
    missing: &str,
) -> Result<Recording<P>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let old: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not {kind}: {e}", path.display()))?;
    let argv: Vec<String> = old["provenance"]["command_line"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let at = argv.iter().position(|a| a == sub).ok_or_else(|| {
        format!(
            "{}: no provenance command line of {missing}",
            path.display()
        )
    })?;
    let parsed =
        P::try_parse_from(std::iter::once(sub.to_string()).chain(argv[at + 1..].iter().cloned()))
            .map_err(|e| {
            format!(
                "{}: the recorded command line does not parse: {}",
                path.display(),
                e.to_string().lines().next().unwrap_or_default()
            )
        })?;
    Ok(Recording { old, argv, parsed })
}
