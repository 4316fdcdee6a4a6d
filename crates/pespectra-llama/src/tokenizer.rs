//! The byte-level BPE tokenizer of a llama-architecture GGUF, rebuilt from its metadata with the
//! `tokenizers` crate (the same code Hugging Face tokenizers run).
//!
//! Pre-tokenization follows `tokenizer.ggml.pre`. For `smollm` (and the StarCoder family) that
//! is: every digit on its own, then the GPT-2 split — llama.cpp's regex pair for that type and
//! the `Digits(individual_digits) + ByteLevel` pipeline of SmolLM2's original `tokenizer.json`.
//! (transformers' GGUF loader does not know `smollm` and falls back to the plain GPT-2 split,
//! which keeps digit runs together; the golden test records both.)

use crate::LlamaError;
use pespectra_models::gguf::Gguf;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{AddedToken, PreTokenizerWrapper, Tokenizer as HfTokenizer};

/// Pre-tokenizer types whose digits are split one by one (llama.cpp groups them with StarCoder).
const DIGIT_SPLIT: [&str; 7] = [
    "smollm",
    "starcoder",
    "refact",
    "command-r",
    "codeshell",
    "exaone",
    "minerva-7b",
];
/// Pre-tokenizer types that are the plain GPT-2 split.
const GPT2_SPLIT: [&str; 2] = ["gpt-2", "default"];

/// Tokenizer of a GGUF model.
pub struct Tokenizer {
    inner: HfTokenizer,
    /// End-of-sequence token id.
    pub eos: u32,
    vocab_size: usize,
}

fn tok_err(e: impl std::fmt::Display) -> LlamaError {
    LlamaError::Tokenizer(e.to_string())
}

impl Tokenizer {
    /// Builds the tokenizer from `tokenizer.ggml.*` metadata.
    pub fn from_gguf(g: &Gguf) -> Result<Self, LlamaError> {
        let model = g.get_str("tokenizer.ggml.model")?;
        if model != "gpt2" {
            return Err(LlamaError::Unsupported(format!(
                "tokenizer model '{model}' (only byte-level BPE, 'gpt2', is implemented)"
            )));
        }
        let pre = g.get_str("tokenizer.ggml.pre").unwrap_or("default");
        let digits = if DIGIT_SPLIT.contains(&pre) {
            true
        } else if GPT2_SPLIT.contains(&pre) {
            false
        } else {
            return Err(LlamaError::Unsupported(format!(
                "pre-tokenizer '{pre}' (known: {}, {})",
                DIGIT_SPLIT.join(", "),
                GPT2_SPLIT.join(", ")
            )));
        };
        let tokens = g.get_str_array("tokenizer.ggml.tokens")?;
        let vocab: Vocab = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.to_string(), i as u32))
            .collect();
        let merges = g
            .get_str_array("tokenizer.ggml.merges")?
            .into_iter()
            .map(|m| {
                m.split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .ok_or_else(|| tok_err(format!("merge '{m}' is not two tokens")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            .build()
            .map_err(tok_err)?;
        let mut inner = HfTokenizer::new(bpe);
        let byte_level = PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, true, true));
        let pre_tok = if digits {
            PreTokenizerWrapper::Sequence(Sequence::new(vec![
                PreTokenizerWrapper::Digits(Digits::new(true)),
                byte_level,
            ]))
        } else {
            byte_level
        };
        inner.with_pre_tokenizer(Some(pre_tok));
        inner.with_decoder(Some(ByteLevelDecoder::default()));
        // Control tokens (type 3, e.g. <|im_start|>) are matched whole, never split.
        if let Some(types) = g
            .get("tokenizer.ggml.token_type")
            .and_then(|v| v.as_array())
        {
            let special: Vec<AddedToken> = types
                .iter()
                .zip(&tokens)
                .filter(|(t, _)| t.as_u64() == Some(3))
                .map(|(_, s)| AddedToken::from(s.to_string(), true))
                .collect();
            inner.add_special_tokens(&special);
        }
        let eos = g.get_u64("tokenizer.ggml.eos_token_id")? as u32;
        Ok(Tokenizer {
            inner,
            eos,
            vocab_size: tokens.len(),
        })
    }

    /// Token ids of `text` (no BOS: SmolLM2's GGUF sets `add_bos_token = false`).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, LlamaError> {
        let enc = self.inner.encode(text, false).map_err(tok_err)?;
        Ok(enc.get_ids().to_vec())
    }

    /// Text of `ids` (special tokens included verbatim).
    pub fn decode(&self, ids: &[u32]) -> Result<String, LlamaError> {
        if let Some(&bad) = ids.iter().find(|&&t| t as usize >= self.vocab_size) {
            return Err(LlamaError::BadToken {
                id: bad,
                vocab: self.vocab_size,
            });
        }
        self.inner.decode(ids, false).map_err(tok_err)
    }
}
