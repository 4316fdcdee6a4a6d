//! The two synthetic tasks of the paper's experiment, generated from a seed.
//!
//! The authors' generators (`dis_gen/data-gen.py`, `count_gen/data-gen.py`) draw from an
//! unseeded `random` and a `vocab.json` no script produces, and go through a trained Unigram
//! tokenizer. Here every word is one token id, the vocabulary is ids `FIRST_WORD..vocab_size`
//! (id 0 pads, as the authors' `[UNK]` = 0 does; ids 1–4 stand for their other specials and never
//! occur), and a ChaCha8 stream seeded by `seed` replaces `random`. Label semantics and lengths
//! are the authors' (paper-notes §4.1).

use rand::seq::{index, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;

/// Id that pads every sentence to the model's length.
pub const PAD: u32 = 0;
/// First id that is a word (0 pads; 1–4 are the authors' other special tokens, unused).
pub const FIRST_WORD: u32 = 5;
/// The authors' vocabulary (and embedding) size.
pub const VOCAB_SIZE: usize = 574;
/// Longest sentence, in words (both tasks).
pub const MAX_WORDS: usize = 120;

/// Which task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Task 1: distance between two trigger words, label = words between + 1 ∈ {2..71}.
    Distance,
    /// Task 2: how many of the sentence's 120 words are one of 30 trigger words, label ∈ {0..100}.
    Count,
}

impl Task {
    /// Lower-case name as in file names and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Distance => "distance",
            Self::Count => "count",
        }
    }

    /// The authors' sample count before deduplication (Task 1 100 000, Task 2 50 000).
    pub fn paper_samples(self) -> usize {
        match self {
            Self::Distance => 100_000,
            Self::Count => 50_000,
        }
    }
}

impl std::str::FromStr for Task {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "distance" => Ok(Self::Distance),
            "count" => Ok(Self::Count),
            _ => Err(format!("unknown task {s:?} (distance or count)")),
        }
    }
}

/// One sentence, padded with [`PAD`] to the model length, and its label.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sample {
    /// Token ids, `len == max_len`.
    pub ids: Vec<u32>,
    /// Class index.
    pub label: u32,
}

/// A generated dataset split 70/30 like the authors' `random_split`.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Which task.
    pub task: Task,
    /// The trigger words the dataset was built around (2 for distance, 30 for count).
    pub triggers: Vec<u32>,
    /// 70 % of the samples.
    pub train: Vec<Sample>,
    /// The other 30 %.
    pub test: Vec<Sample>,
}

/// Generates `samples` sentences of `task` (Task 1 is then deduplicated, as the authors do, so
/// slightly fewer may remain), pads them to `max_len` (≥ 120) and splits them 70/30, all from
/// `seed`.
pub fn generate(task: Task, samples: usize, max_len: usize, seed: u64) -> Dataset {
    assert!(
        max_len >= MAX_WORDS,
        "sentences are up to {MAX_WORDS} words"
    );
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let words: Vec<u32> = (FIRST_WORD..VOCAB_SIZE as u32).collect();
    let (triggers, mut all) = match task {
        Task::Distance => distance(&mut rng, &words, samples),
        Task::Count => count(&mut rng, &words, samples),
    };
    for s in &mut all {
        s.ids.resize(max_len, PAD);
    }
    all.shuffle(&mut rng);
    let cut = all.len() * 7 / 10;
    let test = all.split_off(cut);
    Dataset {
        task,
        triggers,
        train: all,
        test,
    }
}

/// `count` distinct words drawn uniformly (the authors' `random.sample(vocab, count)`).
fn distinct(rng: &mut ChaCha8Rng, words: &[u32], count: usize) -> Vec<u32> {
    index::sample(rng, words.len(), count)
        .into_iter()
        .map(|i| words[i])
        .collect()
}

fn distance(rng: &mut ChaCha8Rng, words: &[u32], samples: usize) -> (Vec<u32>, Vec<Sample>) {
    let t = distinct(rng, words, 2);
    let (w1, w2) = (t[0], t[1]);
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(samples);
    for _ in 0..samples {
        let between = rng.gen_range(1..=70usize);
        let left = rng.gen_range(1..=25usize);
        let right = rng.gen_range(1..=25usize);
        let mut ids = distinct(rng, words, left);
        ids.push(w1);
        ids.extend(distinct(rng, words, between));
        ids.push(w2);
        ids.extend(distinct(rng, words, right));
        ids.truncate(MAX_WORDS);
        let s = Sample {
            ids,
            label: between as u32 + 1,
        };
        if seen.insert(s.clone()) {
            out.push(s);
        }
    }
    (t, out)
}

fn count(rng: &mut ChaCha8Rng, words: &[u32], samples: usize) -> (Vec<u32>, Vec<Sample>) {
    let triggers = distinct(rng, words, 30);
    let fillers: Vec<u32> = words
        .iter()
        .copied()
        .filter(|w| !triggers.contains(w))
        .collect();
    let out = (0..samples)
        .map(|_| {
            let k = rng.gen_range(0..=100usize);
            let mut ids: Vec<u32> = (0..k)
                .map(|_| triggers[rng.gen_range(0..triggers.len())])
                .collect();
            ids.extend((0..MAX_WORDS - k).map(|_| fillers[rng.gen_range(0..fillers.len())]));
            ids.shuffle(rng);
            Sample {
                ids,
                label: k as u32,
            }
        })
        .collect();
    (triggers, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Re-derives a Task 1 label from the sentence alone: the trigger positions.
    fn distance_of(s: &Sample, w1: u32, w2: u32) -> Option<u32> {
        let words = &s.ids[..s.ids.iter().position(|&t| t == PAD).unwrap_or(s.ids.len())];
        // The label must be consistent with some w1 … w2 occurrence pair (fillers may repeat
        // the triggers, so check that the labelled pair exists).
        (0..words.len()).find_map(|i| {
            let j = i + s.label as usize;
            (words[i] == w1 && j < words.len() && words[j] == w2).then_some(s.label)
        })
    }

    #[test]
    fn distance_labels_are_trigger_gaps_and_lengths_follow_the_authors() {
        let d = generate(Task::Distance, 3000, 128, 7);
        let (w1, w2) = (d.triggers[0], d.triggers[1]);
        assert_ne!(w1, w2);
        for s in d.train.iter().chain(&d.test) {
            assert_eq!(s.ids.len(), 128);
            assert!((2..=71).contains(&s.label), "label {}", s.label);
            assert_eq!(distance_of(s, w1, w2), Some(s.label));
            let len = s.ids.iter().position(|&t| t == PAD).unwrap_or(128);
            // left ≥ 1 + w1 + between + w2 + right ≥ 1, at most 25 + 1 + 70 + 1 + 25 = 122 → 120
            assert!((5..=MAX_WORDS).contains(&len), "length {len}");
            assert!(s.ids[len..].iter().all(|&t| t == PAD));
            assert!(s.ids[..len].iter().all(|&t| t >= FIRST_WORD));
        }
        // every class occurs
        let labels: HashSet<u32> = d.train.iter().map(|s| s.label).collect();
        assert_eq!(labels.len(), 70);
        assert_eq!(
            d.train.len() * 10 / 7 / 10,
            (d.train.len() + d.test.len()) / 10
        );
    }

    #[test]
    fn count_labels_count_triggers_in_full_length_sentences() {
        let d = generate(Task::Count, 2000, 128, 3);
        assert_eq!(d.triggers.len(), 30);
        let set: HashSet<u32> = d.triggers.iter().copied().collect();
        assert_eq!(set.len(), 30);
        for s in d.train.iter().chain(&d.test) {
            let n = s.ids[..MAX_WORDS]
                .iter()
                .filter(|t| set.contains(t))
                .count();
            assert_eq!(n as u32, s.label);
            assert!(s.label <= 100);
            assert!(s.ids[..MAX_WORDS].iter().all(|&t| t >= FIRST_WORD));
            assert!(s.ids[MAX_WORDS..].iter().all(|&t| t == PAD));
        }
        assert_eq!(d.train.len() + d.test.len(), 2000);
    }

    #[test]
    fn same_seed_same_data_other_seed_other_data() {
        let a = generate(Task::Distance, 500, 128, 1);
        let b = generate(Task::Distance, 500, 128, 1);
        let c = generate(Task::Distance, 500, 128, 2);
        assert_eq!(a.train, b.train);
        assert_eq!(a.test, b.test);
        assert_ne!(a.train, c.train);
    }
}
