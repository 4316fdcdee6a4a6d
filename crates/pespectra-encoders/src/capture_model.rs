//! The encoders as a [`CaptureModel`], the one interface the audit drives models through.

use pespectra_capture::{
    CaptureModel, HeadAblation, HeadCapture, ModelDims, ModelError, ModelStage,
};

use crate::model::Encoder;

impl CaptureModel for Encoder {
    fn dims(&self) -> ModelDims {
        let c = self.config();
        ModelDims {
            layers: c.layers,
            heads: c.heads,
            context: c.max_tokens(),
        }
    }

    /// The ids of the longest prefix of whole words that fits the position table.
    fn tokenize(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        longest_word_prefix(text, |t| Encoder::tokenize(self, t))
            .map_err(|e| ModelError::new(ModelStage::Tokenize, e))
    }

    /// The first `n − 1` ids and the closing special token (`[SEP]`, `</s>`).
    fn prefix(&self, ids: &[u32], n: usize) -> Vec<u32> {
        keep_last(ids, n)
    }

    fn capture(
        &self,
        ids: &[u32],
        layers: &[usize],
        sink: &mut dyn FnMut(HeadCapture),
    ) -> Result<(), ModelError> {
        Encoder::capture(self, ids, layers, sink)
            .map_err(|e| ModelError::new(ModelStage::Forward, e))
    }

    /// `1 − cos(sentence embedding)` with the head zeroed; the heads of one layer run as one
    /// batch.
    fn ablation(
        &self,
        ids: &[u32],
        heads: &[(usize, usize)],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<HeadAblation, ModelError> {
        let err = |e| ModelError::new(ModelStage::Ablation, e);
        let abl = Encoder::ablation(self, &[ids.to_vec()]).map_err(err)?;
        let mut layers: Vec<usize> = heads.iter().map(|&(l, _)| l).collect();
        layers.sort_unstable();
        layers.dedup();
        let mut effects = vec![f64::NAN; heads.len()];
        let mut done = 0;
        for l in layers {
            let per_head = abl.layer_effects(l).map_err(err)?;
            for (e, &(hl, h)) in effects.iter_mut().zip(heads) {
                if hl == l {
                    *e = *per_head.get(h).ok_or_else(|| {
                        err(crate::EncoderError::InvalidInput(format!(
                            "head {h} does not exist (the model has {} heads)",
                            per_head.len()
                        )))
                    })?;
                    done += 1;
                }
            }
            progress(done, heads.len());
        }
        Ok(HeadAblation {
            metric: "1 − cos(sentence embedding) when the head is zeroed".to_string(),
            effects,
        })
    }

    fn growth_by_default(&self) -> bool {
        true
    }
}

/// The ids of `text`, or of its longest prefix of whole words that `tokenize` accepts (found by
/// bisection on the word count: the encoders refuse inputs longer than their position table);
/// the error of the whole text when no prefix is accepted.
fn longest_word_prefix<E>(
    text: &str,
    tokenize: impl Fn(&str) -> Result<Vec<u32>, E>,
) -> Result<Vec<u32>, E> {
    let first = match tokenize(text) {
        Ok(ids) => return Ok(ids),
        Err(e) => e,
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    let (mut lo, mut hi) = (0usize, words.len()); // lo fits (0: nothing yet), hi is too long
    let mut best = None;
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        match tokenize(&words[..mid].join(" ")) {
            Ok(ids) => {
                best = Some(ids);
                lo = mid;
            }
            Err(_) => hi = mid,
        }
    }
    best.ok_or(first)
}

/// The first `n` of `ids`, keeping the final special token at the end.
fn keep_last(ids: &[u32], n: usize) -> Vec<u32> {
    match ids.last() {
        Some(&last) if ids.len() > n && n > 0 => {
            let mut v = ids[..n - 1].to_vec();
            v.push(last);
            v
        }
        _ => ids.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(keep_last(&[101, 1, 2, 3, 102], 3), vec![101, 1, 102]);
        assert_eq!(keep_last(&[101, 1, 102], 5), vec![101, 1, 102]);
        // a tokenizer that refuses more than 4 words
        let tok = |t: &str| {
            let n = t.split_whitespace().count();
            if n > 4 {
                Err(())
            } else {
                Ok((0..n as u32).collect::<Vec<_>>())
            }
        };
        assert_eq!(longest_word_prefix("a b c d e f g", tok).unwrap().len(), 4);
        assert_eq!(longest_word_prefix("a b", tok).unwrap().len(), 2);
        assert!(longest_word_prefix("", |_| Err::<Vec<u32>, _>("no tokens")).is_err());
    }
}
