//! Records the git commit the binary is built from (`PESPECTRA_GIT_COMMIT`): `HEAD` of the
//! checkout, re-read whenever HEAD or a branch ref moves; `unknown` outside a git checkout (a
//! source tarball). Uncommitted edits are not detected: release and CI builds come from clean
//! checkouts, and the report says which commit, not which working tree.

use std::path::Path;
use std::process::Command;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.to_string_lossy().to_string();
    let commit = Command::new("git")
        .args(["-C", &root, "rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=PESPECTRA_GIT_COMMIT={commit}");
    for p in [".git/HEAD", ".git/refs/heads", ".git/packed-refs"] {
        println!("cargo:rerun-if-changed={root}/{p}");
    }
}
