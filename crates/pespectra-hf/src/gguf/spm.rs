//! SentencePiece BPE tokenization from a GGUF vocabulary (`tokenizer.ggml.model = "llama"`), as
//! transformers' tokenizer for the file does it: user-defined and control pieces (Gemma's runs
//! of spaces and newlines, `<start_of_turn>`) are cut out of the raw text first, leftmost-longest,
//! as single tokens; in the text between them spaces become `▁`, the text is split into
//! characters, and the adjacent pair whose concatenation is the highest-scoring normal piece is
//! merged first (ties: leftmost) until no pair is a piece (llama.cpp's `llm_tokenizer_spm`);
//! characters outside the vocabulary fall back to their UTF-8 bytes (`<0xAB>` pieces).
//! Checked against transformers' tokenizer for the same GGUF (tests/gguf.rs).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use pespectra_models::gguf::Gguf;

/// GGUF token types (`tokenizer.ggml.token_type`).
const NORMAL: u64 = 1;
const CONTROL: u64 = 3;
const USER_DEFINED: u64 = 4;
const BYTE: u64 = 6;

/// A SentencePiece BPE tokenizer.
pub struct SpmTokenizer {
    /// Mergeable (normal) pieces → id.
    pieces: HashMap<String, u32>,
    /// User-defined and control pieces → id, matched whole in the raw text.
    atomic: HashMap<String, u32>,
    /// Longest atomic piece, in bytes.
    atomic_len: usize,
    scores: Vec<f32>,
    /// `<0xAB>` → id, per byte.
    bytes: [Option<u32>; 256],
    unknown: u32,
    bos: Option<u32>,
    eos: Option<u32>,
    space_prefix: bool,
}

/// A candidate merge of the symbols starting at `left` and `right`.
struct Bigram {
    score: f32,
    left: usize,
    right: usize,
    /// Byte length of the merged text, to skip pairs whose symbols changed since.
    len: usize,
}

impl PartialEq for Bigram {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Bigram {}
impl PartialOrd for Bigram {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Bigram {
    /// Max-heap order: higher score first, then the leftmost pair.
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| other.left.cmp(&self.left))
    }
}

/// One symbol of the text being merged: a byte range, linked to its live neighbours.
#[derive(Clone, Copy)]
struct Symbol {
    start: usize,
    len: usize,
    prev: Option<usize>,
    next: Option<usize>,
}

impl SpmTokenizer {
    /// The tokenizer of a GGUF file's `tokenizer.ggml.*` metadata (its model is `llama`, which
    /// [`super::GgufTokenizer::from_gguf`] checked); the error says which key is missing or
    /// inconsistent.
    pub fn from_gguf(g: &Gguf) -> Result<Self, String> {
        let tokens = g
            .get_str_array("tokenizer.ggml.tokens")
            .map_err(|e| e.to_string())?;
        let list = |key: &str| -> Result<&[pespectra_models::gguf::Value], String> {
            let a = g
                .get(key)
                .and_then(|v| v.as_array())
                .ok_or_else(|| format!("metadata {key}: missing or not an array"))?;
            if a.len() != tokens.len() {
                return Err(format!(
                    "metadata {key}: {} entries for {} tokens",
                    a.len(),
                    tokens.len()
                ));
            }
            Ok(a)
        };
        let scores = list("tokenizer.ggml.scores")?
            .iter()
            .map(|s| s.as_f64().map(|x| x as f32))
            .collect::<Option<Vec<f32>>>()
            .ok_or("metadata tokenizer.ggml.scores: not numbers")?;
        let types = list("tokenizer.ggml.token_type")?;
        let mut pieces = HashMap::with_capacity(tokens.len());
        let mut atomic = HashMap::new();
        let mut bytes = [None; 256];
        for (id, (t, ty)) in tokens.iter().zip(types).enumerate() {
            let id = id as u32;
            match ty.as_u64() {
                Some(NORMAL) => {
                    pieces.entry(t.to_string()).or_insert(id);
                }
                Some(CONTROL | USER_DEFINED) if !t.is_empty() => {
                    atomic.entry(t.to_string()).or_insert(id);
                }
                Some(BYTE) => {
                    let b = t
                        .strip_prefix("<0x")
                        .and_then(|h| h.strip_suffix('>'))
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                        .ok_or_else(|| format!("byte token {id} is '{t}', not <0xAB>"))?;
                    bytes[b as usize] = Some(id);
                }
                _ => {}
            }
        }
        let id = |key: &str| g.get(key).and_then(|v| v.as_u64()).map(|v| v as u32);
        let flag = |key: &str, default: bool| match g.get(key) {
            Some(pespectra_models::gguf::Value::Bool(b)) => *b,
            _ => default,
        };
        let n = tokens.len() as u32;
        let special = |key: &str, add: &str, default: bool| -> Result<Option<u32>, String> {
            match (flag(add, default), id(key)) {
                (false, _) => Ok(None),
                (true, Some(i)) if i < n => Ok(Some(i)),
                (true, _) => Err(format!("metadata {key}: missing or outside the vocabulary")),
            }
        };
        let atomic_len = atomic.keys().map(String::len).max().unwrap_or(0);
        Ok(Self {
            pieces,
            atomic,
            atomic_len,
            scores,
            bytes,
            unknown: id("tokenizer.ggml.unknown_token_id").unwrap_or(0),
            bos: special(
                "tokenizer.ggml.bos_token_id",
                "tokenizer.ggml.add_bos_token",
                true,
            )?,
            eos: special(
                "tokenizer.ggml.eos_token_id",
                "tokenizer.ggml.add_eos_token",
                false,
            )?,
            space_prefix: flag("tokenizer.ggml.add_space_prefix", true),
        })
    }

    /// Token ids of `text`, with BOS/EOS as the file asks.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut out: Vec<u32> = self.bos.into_iter().collect();
        let mut from = 0;
        let mut at = 0;
        while at < text.len() {
            match self.atomic_at(&text[at..]) {
                Some((id, len)) => {
                    self.merge(&text[from..at], from == 0, &mut out);
                    out.push(id);
                    at += len;
                    from = at;
                }
                None => at += text[at..].chars().next().map_or(1, char::len_utf8),
            }
        }
        self.merge(&text[from..], from == 0, &mut out);
        out.extend(self.eos);
        out
    }

    /// The longest atomic piece `text` starts with: (id, byte length).
    fn atomic_at(&self, text: &str) -> Option<(u32, usize)> {
        (1..=self.atomic_len.min(text.len()))
            .rev()
            .filter(|&k| text.is_char_boundary(k))
            .find_map(|k| self.atomic.get(&text[..k]).map(|&id| (id, k)))
    }

    /// The BPE tokens of `text` (no atomic piece inside) appended to `out`.
    fn merge(&self, text: &str, first: bool, out: &mut Vec<u32>) {
        if text.is_empty() {
            return;
        }
        let mut s = String::with_capacity(text.len() + 3);
        if self.space_prefix && first {
            s.push('▁');
        }
        for c in text.chars() {
            s.push(if c == ' ' { '▁' } else { c });
        }
        let mut sym: Vec<Symbol> = Vec::new();
        for (i, (start, c)) in s.char_indices().enumerate() {
            sym.push(Symbol {
                start,
                len: c.len_utf8(),
                prev: i.checked_sub(1),
                next: None,
            });
            if i > 0 {
                sym[i - 1].next = Some(i);
            }
        }
        let mut heap = BinaryHeap::new();
        let push = |heap: &mut BinaryHeap<Bigram>, sym: &[Symbol], l: usize, r: usize| {
            let text = &s[sym[l].start..sym[r].start + sym[r].len];
            if let Some(&id) = self.pieces.get(text) {
                heap.push(Bigram {
                    score: self.scores[id as usize],
                    left: l,
                    right: r,
                    len: text.len(),
                });
            }
        };
        for i in 1..sym.len() {
            push(&mut heap, &sym, i - 1, i);
        }
        while let Some(b) = heap.pop() {
            let (l, r) = (b.left, b.right);
            // stale: one side was merged away or grew since this pair was queued
            if sym[l].len == 0 || sym[r].len == 0 || sym[l].len + sym[r].len != b.len {
                continue;
            }
            sym[l].len += sym[r].len;
            sym[r].len = 0;
            sym[l].next = sym[r].next;
            if let Some(n) = sym[r].next {
                sym[n].prev = Some(l);
            }
            if let Some(p) = sym[l].prev {
                push(&mut heap, &sym, p, l);
            }
            if let Some(n) = sym[l].next {
                push(&mut heap, &sym, l, n);
            }
        }
        let mut at = (!sym.is_empty()).then_some(0);
        while let Some(i) = at {
            let text = &s[sym[i].start..sym[i].start + sym[i].len];
            match self.pieces.get(text) {
                Some(&id) => out.push(id),
                None => out.extend(
                    text.bytes()
                        .map(|b| self.bytes[b as usize].unwrap_or(self.unknown)),
                ),
            }
            at = sym[i].next;
        }
    }
}
