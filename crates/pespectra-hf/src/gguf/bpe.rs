//! The byte-level BPE tokenizer of a GGUF vocabulary (`tokenizer.ggml.model = "gpt2"`), rebuilt
//! with the `tokenizers` crate (the code Hugging Face tokenizers run) from
//! `tokenizer.ggml.tokens`/`merges`.
//!
//! Pre-tokenization follows `tokenizer.ggml.pre`. For `smollm` (and the StarCoder family) that
//! is: every digit on its own, then the GPT-2 split — llama.cpp's regex pair for that type and
//! the `Digits(individual_digits) + ByteLevel` pipeline of SmolLM2's original `tokenizer.json`.
//! (transformers' GGUF loader does not know `smollm` and falls back to the plain GPT-2 split,
//! which keeps digit runs together; the golden test records both.) Control tokens
//! (`<|im_start|>`) are matched whole.

use pespectra_models::gguf::Gguf;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{AddedToken, PreTokenizerWrapper, Tokenizer};

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

/// A byte-level BPE tokenizer.
pub struct BpeTokenizer {
    inner: Tokenizer,
    bos: Option<u32>,
}

impl BpeTokenizer {
    /// The tokenizer of `g`'s `tokenizer.ggml.*` metadata.
    pub fn from_gguf(g: &Gguf) -> Result<Self, String> {
        let pre = g.get_str("tokenizer.ggml.pre").unwrap_or("default");
        let digits = if DIGIT_SPLIT.contains(&pre) {
            true
        } else if GPT2_SPLIT.contains(&pre) {
            false
        } else {
            return Err(format!(
                "tokenizer.ggml.pre '{pre}' is not supported (known: {}, {})",
                DIGIT_SPLIT.join(", "),
                GPT2_SPLIT.join(", ")
            ));
        };
        let tokens = g
            .get_str_array("tokenizer.ggml.tokens")
            .map_err(|e| e.to_string())?;
        let vocab: Vocab = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.to_string(), i as u32))
            .collect();
        let merges = g
            .get_str_array("tokenizer.ggml.merges")
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|m| {
                m.split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .ok_or_else(|| format!("tokenizer.ggml.merges: '{m}' is not two tokens"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            .build()
            .map_err(|e| format!("tokenizer.ggml.merges: {e}"))?;
        let mut inner = Tokenizer::new(bpe);
        let byte_level = PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, true, true));
        inner.with_pre_tokenizer(Some(if digits {
            PreTokenizerWrapper::Sequence(Sequence::new(vec![
                PreTokenizerWrapper::Digits(Digits::new(true)),
                byte_level,
            ]))
        } else {
            byte_level
        }));
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
        let add_bos = matches!(
            g.get("tokenizer.ggml.add_bos_token"),
            Some(pespectra_models::gguf::Value::Bool(true))
        );
        let bos = match (add_bos, g.get_u64("tokenizer.ggml.bos_token_id")) {
            (false, _) => None,
            (true, Ok(b)) if (b as usize) < tokens.len() => Some(b as u32),
            (true, _) => {
                return Err("tokenizer.ggml.bos_token_id: missing or outside the vocabulary".into())
            }
        };
        Ok(Self { inner, bos })
    }

    /// Token ids of `text`, after BOS when the file asks for it.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, String> {
        let enc = self.inner.encode(text, false).map_err(|e| e.to_string())?;
        Ok(self
            .bos
            .into_iter()
            .chain(enc.get_ids().iter().copied())
            .collect())
    }
}
