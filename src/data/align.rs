//! Placing sequences of different lengths into one padded, masked minibatch.
//!
//! The semantics are those of DL4J's `SequenceRecordReaderDataSetIterator.AlignmentMode`.
//! For one example with `Tf` feature steps and `Tl` label steps, `Te = max(Tf, Tl)`, and
//! a minibatch of `T = max Te` steps:
//!
//! | mode          | features occupy | labels occupy | padding                              |
//! |---------------|-----------------|---------------|--------------------------------------|
//! | `EqualLength` | `0..Tf`         | `0..Tl`       | none: every `Tf` and `Tl` is equal   |
//! | `AlignStart`  | `0..Tf`         | `0..Tl`       | after each part up to `T`            |
//! | `AlignEnd`    | `Te-Tf..Te`     | `Te-Tl..Te`   | before the shorter part; after `Te`  |
//!
//! So with `AlignEnd` a many-to-one example (one label line) has its label at its last
//! real feature step, and a one-to-many example (one feature line) has its input at its
//! last real label step. With `AlignStart` the single label (or input) sits at step 0.
//! Padded values are 0; masks are 1 on real steps and 0 on padding.

use std::str::FromStr;

use ndarray::{s, Array2, Array3};
use serde::{Deserialize, Serialize};

use super::batch::SeqBatch;
use super::error::{DataError, Result};
use super::example::SequenceExample;

/// How sequences of different lengths are aligned in a minibatch (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AlignmentMode {
    /// Every sequence, features and labels, has the same length; nothing is padded and no
    /// masks are produced. Different lengths are an error. DL4J's default.
    #[default]
    EqualLength,
    /// Features and labels both start at step 0; padding follows the shorter ones.
    AlignStart,
    /// Per example, features and labels end at the same step (the shorter part is shifted
    /// to end where the longer ends); padding follows the example up to the batch length.
    AlignEnd,
}

impl AlignmentMode {
    /// All modes, in the order a GUI lists them.
    pub const ALL: [AlignmentMode; 3] = [
        AlignmentMode::EqualLength,
        AlignmentMode::AlignStart,
        AlignmentMode::AlignEnd,
    ];

    /// DL4J's name: `EQUAL_LENGTH`, `ALIGN_START`, `ALIGN_END`.
    pub fn dl4j_name(self) -> &'static str {
        match self {
            AlignmentMode::EqualLength => "EQUAL_LENGTH",
            AlignmentMode::AlignStart => "ALIGN_START",
            AlignmentMode::AlignEnd => "ALIGN_END",
        }
    }

    /// Where an example with `tf` feature steps and `tl` label steps goes:
    /// `(feature offset, label offset, example length)`.
    pub fn placement(self, tf: usize, tl: usize) -> Placement {
        let length = tf.max(tl);
        match self {
            AlignmentMode::EqualLength | AlignmentMode::AlignStart => Placement {
                feature_offset: 0,
                label_offset: 0,
                length,
            },
            AlignmentMode::AlignEnd => Placement {
                feature_offset: length - tf,
                label_offset: length - tl,
                length,
            },
        }
    }
}

impl FromStr for AlignmentMode {
    type Err = DataError;

    /// Accepts `equal`, `start`, `end` and the DL4J names (any case).
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "equal" | "equal_length" | "equallength" => Ok(AlignmentMode::EqualLength),
            "start" | "align_start" | "alignstart" => Ok(AlignmentMode::AlignStart),
            "end" | "align_end" | "alignend" => Ok(AlignmentMode::AlignEnd),
            _ => Err(DataError::InvalidOption {
                option: "align",
                message: format!("unknown alignment mode {s:?}; use equal, start or end"),
            }),
        }
    }
}

/// Where one example's parts sit in the batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// First step of the features.
    pub feature_offset: usize,
    /// First step of the labels.
    pub label_offset: usize,
    /// Steps from 0 to the end of the example (`max(Tf, Tl)`).
    pub length: usize,
}

/// Checks that `mode` can align these examples: for `EqualLength`, that every example's
/// features and labels have the length of the first example's features. The error names
/// the first example that does not.
pub fn check_alignment(examples: &[SequenceExample], mode: AlignmentMode) -> Result<()> {
    if mode != AlignmentMode::EqualLength {
        return Ok(());
    }
    let Some(first) = examples.first() else {
        return Ok(());
    };
    let expected = first.feature_steps();
    for example in examples {
        let (tf, tl) = (example.feature_steps(), example.label_steps());
        let detail = if tf != tl {
            format!("{tf} feature steps but {tl} label steps")
        } else if tf != expected {
            format!(
                "{tf} steps but the first sequence, {}, has {expected}",
                first.name()
            )
        } else {
            continue;
        };
        return Err(DataError::LengthMismatch {
            example: example.name(),
            detail,
        });
    }
    Ok(())
}

/// Pads and masks examples into one minibatch. The caller has checked the alignment
/// (see [`check_alignment`]); examples must share feature and label widths.
///
/// Panics on an empty slice or on widths that differ (programmer errors).
pub fn align_batch(examples: &[&SequenceExample], mode: AlignmentMode) -> SeqBatch {
    assert!(
        !examples.is_empty(),
        "a minibatch needs at least one example"
    );
    let f = examples[0].features.ncols();
    let l = examples[0].labels.ncols();
    let placements: Vec<Placement> = examples
        .iter()
        .map(|e| mode.placement(e.feature_steps(), e.label_steps()))
        .collect();
    let t = placements.iter().map(|p| p.length).max().unwrap_or(0);
    let b = examples.len();
    let mut features = Array3::zeros((t, b, f));
    let mut labels = Array3::zeros((t, b, l));
    let mut feature_mask = Array2::zeros((t, b));
    let mut label_mask = Array2::zeros((t, b));
    for (i, (example, p)) in examples.iter().zip(&placements).enumerate() {
        assert_eq!(
            example.features.ncols(),
            f,
            "examples differ in feature count"
        );
        assert_eq!(example.labels.ncols(), l, "examples differ in label width");
        let (tf, tl) = (example.feature_steps(), example.label_steps());
        let (fo, lo) = (p.feature_offset, p.label_offset);
        features
            .slice_mut(s![fo..fo + tf, i, ..])
            .assign(&example.features);
        labels
            .slice_mut(s![lo..lo + tl, i, ..])
            .assign(&example.labels);
        feature_mask.slice_mut(s![fo..fo + tf, i]).fill(1.0);
        label_mask.slice_mut(s![lo..lo + tl, i]).fill(1.0);
    }
    SeqBatch::new(features, labels, Some(feature_mask), Some(label_mask))
}
