//! # pespectra-encoders
//!
//! Forward passes of the two trained sentence encoders the audit studies, built on the
//! project's attention core:
//! * **all-MiniLM-L6-v2** (BERT, learned absolute positions added at the input);
//! * **all-mpnet-base-v2** (MPNet: learned absolute positions from `padding_idx + 1 = 2` *and*
//!   a T5-style bucketed relative bias, one `[32, heads]` table shared by all layers, added
//!   after the 1/√d scale).
//!
//! Weights come from the shipped `model.safetensors` through `pespectra-hf`'s tensor source
//! (memory-mapped, f32/f16/bf16, every tensor checked against the shape `config.json` implies),
//! tokens from the shipped `tokenizer.json` through the `tokenizers` crate. Activations are
//! f32; the linear layers, LayerNorm and exact GELU are `pespectra-layers`', attention is
//! [`pespectra_attention::flash_attention`] (padding mask for batches, the core's T5 path for
//! MPNet's bias). Sentence embeddings are sentence-transformers' pipeline for both models:
//! mean pooling over real tokens, then L2 normalisation.
//!
//! Beyond embeddings: [`Encoder::capture`] streams a
//! [`HeadCapture`](pespectra_capture::HeadCapture) per layer and head (see the `capture`
//! module docs for what "content logits" means for each model), and [`Encoder::ablation`]
//! measures how far the embeddings move when one head is zeroed.
//!
//! Tested against transformers (float64) on the same safetensors: tokenizer ids, sentence
//! embeddings, layer-0 logits, the position-free content logits and one head ablation
//! (`tests/golden/`, produced by `tests/golden/make_reference.py`).
//!
//! ```no_run
//! // needs all-MiniLM-L6-v2 (`pespectra models fetch minilm-l6`; not run by doctests)
//! let dir = pespectra_models::installed("minilm-l6")?.expect("fetched");
//! let enc = pespectra_encoders::Encoder::load(&dir)?;
//! let e = enc.embed(&["a positional encoding", "a rotary encoding"])?;
//! let cos: f32 = e[0].iter().zip(&e[1]).map(|(a, b)| a * b).sum();
//! println!("cosine similarity {cos:.3}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]
mod ablation;
mod capture;
mod capture_model;
mod config;
mod error;
mod model;
mod ops;
mod tokenizer;

pub use ablation::Ablation;
pub use config::{Architecture, EncoderConfig, MPNET_MAX_DISTANCE, MPNET_PADDING_IDX};
pub use error::EncoderError;
pub use model::Encoder;
