//! Character-level text corpora: vocabulary, encoding, splits and next-character data.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::{DataError, Result};
use super::stream::{StepSeries, StreamData};

/// How to read a text corpus.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextOptions {
    /// Lower-case the text before building the vocabulary. Default false.
    pub lowercase: bool,
    /// Fraction of the corpus, before the test part, held out for validation. Default 0.1.
    pub validation_fraction: f32,
    /// Fraction of the corpus at its very end held out for testing. Default 0.
    pub test_fraction: f32,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            lowercase: false,
            validation_fraction: 0.1,
            test_fraction: 0.0,
        }
    }
}

/// The characters a model knows, in sorted (code point) order; a character's id is its
/// position. Stable: the same text always gives the same vocabulary, and it is saved with
/// the model (serialised as the list of characters).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<char>", into = "Vec<char>")]
pub struct Vocabulary {
    chars: Vec<char>,
}

impl From<Vec<char>> for Vocabulary {
    /// Sorts and deduplicates, so any list makes a valid vocabulary.
    fn from(mut chars: Vec<char>) -> Self {
        chars.sort_unstable();
        chars.dedup();
        Vocabulary { chars }
    }
}

impl From<Vocabulary> for Vec<char> {
    fn from(vocab: Vocabulary) -> Self {
        vocab.chars
    }
}

impl Vocabulary {
    /// The distinct characters of `text`.
    pub fn from_text(text: &str) -> Self {
        Vocabulary::from(text.chars().collect::<Vec<_>>())
    }

    /// V, the number of characters.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// True for the empty vocabulary.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The characters, sorted.
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    /// The id of `c`, if known.
    pub fn id(&self, c: char) -> Option<usize> {
        self.chars.binary_search(&c).ok()
    }

    /// The character with id `id`, if any.
    pub fn char(&self, id: usize) -> Option<char> {
        self.chars.get(id).copied()
    }

    /// The ids of the characters of `text`; fails on the first unknown character.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        text.chars()
            .enumerate()
            .map(|(position, ch)| {
                self.id(ch)
                    .map(|id| id as u32)
                    .ok_or(DataError::UnknownChar {
                        ch,
                        position,
                        vocab_size: self.len(),
                    })
            })
            .collect()
    }

    /// The text of `ids`; fails on an id outside the vocabulary.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        ids.iter()
            .map(|&id| {
                self.char(id as usize).ok_or(DataError::UnknownToken {
                    id: id as usize,
                    vocab_size: self.len(),
                })
            })
            .collect()
    }
}

/// A text encoded as character ids.
#[derive(Clone, Debug, PartialEq)]
pub struct CharCorpus {
    vocab: Vocabulary,
    ids: Vec<u32>,
}

impl CharCorpus {
    /// A corpus over its own vocabulary.
    pub fn from_text(text: &str, options: &TextOptions) -> Self {
        let text = prepare(text, options);
        let vocab = Vocabulary::from_text(&text);
        let ids = vocab
            .encode(&text)
            .expect("the vocabulary is built from this text");
        CharCorpus { vocab, ids }
    }

    /// A corpus over a given vocabulary (e.g. the one saved with a model); fails on a
    /// character the vocabulary lacks.
    pub fn with_vocabulary(text: &str, vocab: Vocabulary, options: &TextOptions) -> Result<Self> {
        let ids = vocab.encode(&prepare(text, options))?;
        Ok(CharCorpus { vocab, ids })
    }

    /// Decodes UTF-8 bytes; `source_name` (a path or "input") names the source in errors.
    pub fn from_bytes(bytes: &[u8], source_name: &str, options: &TextOptions) -> Result<Self> {
        use super::read::{decode_text, TextProblem};
        let text = decode_text(bytes).map_err(|p| match p {
            TextProblem::Wide(encoding) => DataError::WideEncoding {
                source_name: source_name.to_string(),
                encoding,
            },
            TextProblem::InvalidUtf8 { offset } => DataError::InvalidUtf8 {
                source_name: source_name.to_string(),
                offset,
            },
        })?;
        Ok(Self::from_text(text, options))
    }

    /// Reads a UTF-8 text file.
    pub fn from_file(path: &Path, options: &TextOptions) -> Result<Self> {
        let bytes = super::read::read_regular(path).map_err(|source| DataError::Unreadable {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, &path.display().to_string(), options)
    }

    /// The vocabulary.
    pub fn vocab(&self) -> &Vocabulary {
        &self.vocab
    }

    /// The text as character ids.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// Number of characters.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True for an empty text.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The text back.
    pub fn text(&self) -> String {
        self.vocab
            .decode(&self.ids)
            .expect("ids come from this vocabulary")
    }

    /// Splits into `[train | validation | test]` by character counts, in text order: the
    /// test part is the last `round(n * test)` characters, validation the
    /// `round(n * validation)` before it. All parts share this corpus's vocabulary.
    pub fn split(&self, validation: f32, test: f32) -> Result<CorpusSplit> {
        let valid = |f: f32| (0.0..1.0).contains(&f);
        if !valid(validation) || !valid(test) || validation + test >= 1.0 {
            return Err(DataError::InvalidOption {
                option: "validation_fraction/test_fraction",
                message: format!(
                    "{validation} and {test} must each be in [0, 1) and leave some text for \
                     training (their sum below 1)"
                ),
            });
        }
        let n = self.ids.len() as f64;
        let n_test = (n * f64::from(test)).round() as usize;
        let n_val = (n * f64::from(validation)).round() as usize;
        let train_end = self.ids.len().saturating_sub(n_test + n_val);
        let val_end = self.ids.len() - n_test;
        let part = |from: usize, to: usize| CharCorpus {
            vocab: self.vocab.clone(),
            ids: self.ids[from..to].to_vec(),
        };
        Ok(CorpusSplit {
            train: part(0, train_end),
            validation: part(train_end, val_end),
            test: part(val_end, self.ids.len()),
        })
    }

    /// Next-character data: input `ids[i]`, target `ids[i + 1]`, both one-hot of width V,
    /// `len() - 1` steps. Batch it with [`StreamData::batcher`] or
    /// [`StreamData::sample_windows`].
    pub fn next_char_data(&self) -> StreamData {
        let classes = self.vocab.len();
        let n = self.ids.len().saturating_sub(1);
        StreamData::new(
            StepSeries::OneHot {
                ids: self.ids[..n].to_vec(),
                classes,
            },
            StepSeries::OneHot {
                ids: self.ids[self.ids.len() - n..].to_vec(),
                classes,
            },
            "text corpus",
        )
    }
}

fn prepare(text: &str, options: &TextOptions) -> String {
    if options.lowercase {
        text.to_lowercase()
    } else {
        text.to_string()
    }
}

/// A corpus cut into consecutive parts.
#[derive(Clone, Debug, PartialEq)]
pub struct CorpusSplit {
    pub train: CharCorpus,
    pub validation: CharCorpus,
    pub test: CharCorpus,
}
