//! `pespectra capture MODEL --out DIR`: the heads of a model on a text, written as a capture
//! directory (docs/CAPTURE_FORMAT.md) that `pespectra audit --captures DIR` reads.

use std::path::PathBuf;

use pespectra_audit::AuditRunError;
use pespectra_sources::SourceError;

/// Arguments of `pespectra capture`.
#[derive(clap::Args)]
pub struct CaptureArgs {
    /// Registry name (see `pespectra models list`), e.g. smollm2-135m, a HuggingFace
    /// checkpoint directory, or a gemma3 GGUF file.
    pub model: String,
    /// Plain-text file to run the model on (default: the built-in English text).
    #[arg(long)]
    pub text: Option<PathBuf>,
    /// Token ids instead of text: 3,10,17 or @FILE with one id per line.
    #[arg(long, conflicts_with = "text")]
    pub token_ids: Option<String>,
    /// Tokens captured (the first n tokens of the text, special tokens included).
    #[arg(long, default_value_t = 256)]
    pub n: usize,
    /// Layers: `A..B` (B excluded), `A..=B`, a list `0,3,5`, or one layer (default: all).
    #[arg(long)]
    pub layers: Option<String>,
    /// New directory for manifest.json and captures.safetensors (must not exist).
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `pespectra capture`; `Err` is a one-line message for exit code 2.
pub fn run(a: &CaptureArgs) -> Result<(), String> {
    let layers = crate::audit::parse_layers(a.layers.as_deref()).map_err(|(_, m)| m)?;
    let (input, _) =
        crate::audit::read_input(a.text.as_deref(), a.token_ids.as_deref()).map_err(|(_, m)| m)?;
    let source = pespectra_sources::Source::parse(&a.model).map_err(|e| e.to_string())?;
    let set =
        pespectra_sources::capture(&source, &input, a.n, layers.as_deref(), &a.out, &mut |l| {
            eprintln!("{l}")
        })
        .map_err(|e| match e {
            SourceError::Registry(e) => crate::models::describe(&e),
            SourceError::Run(AuditRunError::BeyondContext { model, n, context }) => {
                format!("--n {n} is larger than the context of {model} ({context} tokens)")
            }
            SourceError::Run(AuditRunError::ShortText { tokens, n }) => {
                format!("the input has only {tokens} tokens, fewer than --n {n}")
            }
            SourceError::Run(e @ AuditRunError::TooFewRequested { .. }) => format!("--{e}"),
            SourceError::Run(e @ AuditRunError::NoSuchLayer { .. }) => format!("--layers: {e}"),
            e => e.to_string(),
        })?;
    println!(
        "captured {} heads of {} at n = {} into {}",
        set.captures.len(),
        set.model,
        set.n,
        a.out.display()
    );
    Ok(())
}
