//! One long series cut into minibatches: char-rnn style parallel streams that carry state
//! from one minibatch to the next, and random fixed-length windows.
//!
//! A series of `N` steps (inputs and targets of equal length) is cut into `B` contiguous
//! streams of `S = N / B` steps (the remainder is dropped). Minibatch `k` holds steps
//! `k*T .. (k+1)*T` of every stream, so stream `b` of minibatch `k+1` continues exactly
//! where stream `b` of minibatch `k` ended: the network's final state for one minibatch is
//! the right initial state for the next. An epoch has `ceil(S / T)` minibatches; the last
//! one is shorter when `T` does not divide `S`. Reset the state at the start of each epoch.

use ndarray::{s, Array2, Array3};
use rand::{Rng, SeedableRng};

use super::batch::SeqBatch;
use super::error::{DataError, Result};

/// The per-step values of a series, stored compactly.
#[derive(Clone, Debug, PartialEq)]
pub enum StepSeries {
    /// Class ids, expanded to one-hot rows of width `classes` when batched.
    OneHot { ids: Vec<u32>, classes: usize },
    /// Dense rows `(N, width)`.
    Values(Array2<f32>),
}

impl StepSeries {
    /// N, the number of steps.
    pub fn len(&self) -> usize {
        match self {
            StepSeries::OneHot { ids, .. } => ids.len(),
            StepSeries::Values(v) => v.nrows(),
        }
    }

    /// True when there are no steps.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Width of one step once batched.
    pub fn width(&self) -> usize {
        match self {
            StepSeries::OneHot { classes, .. } => *classes,
            StepSeries::Values(v) => v.ncols(),
        }
    }

    /// Writes step `step` into `out` (a row of width [`Self::width`], zeroed beforehand).
    fn write_step(&self, step: usize, mut out: ndarray::ArrayViewMut1<'_, f32>) {
        match self {
            StepSeries::OneHot { ids, .. } => out[ids[step] as usize] = 1.0,
            StepSeries::Values(v) => out.assign(&v.row(step)),
        }
    }
}

/// Inputs and targets of a series, step for step (targets already shifted: for
/// next-character data `targets[i]` is `inputs[i + 1]`).
#[derive(Clone, Debug, PartialEq)]
pub struct StreamData {
    pub inputs: StepSeries,
    pub targets: StepSeries,
    /// What the series is, for messages (e.g. "text corpus", "echo series").
    pub name: String,
}

impl StreamData {
    /// Pairs inputs with targets. Panics if their lengths differ (programmer error).
    pub fn new(inputs: StepSeries, targets: StepSeries, name: impl Into<String>) -> Self {
        assert_eq!(
            inputs.len(),
            targets.len(),
            "inputs and targets pair step by step"
        );
        StreamData {
            inputs,
            targets,
            name: name.into(),
        }
    }

    /// N, the number of (input, target) steps.
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// True when there are no steps.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Cuts the series into `streams` parallel streams read `steps` at a time (see the
    /// module docs). Fails when the series has fewer than `streams` steps.
    pub fn batcher(&self, streams: usize, steps: usize) -> Result<StreamBatcher<'_>> {
        positive("streams (batch size)", streams)?;
        positive("steps (truncated length)", steps)?;
        if self.len() < streams {
            return Err(DataError::TooShort {
                what: self.name.clone(),
                len: self.len(),
                needed: streams,
                hint: "use fewer parallel streams or more data".to_string(),
            });
        }
        Ok(StreamBatcher {
            data: self,
            streams,
            steps,
            stream_len: self.len() / streams,
        })
    }

    /// The minibatch made of the windows starting at `starts`, each `steps` long.
    fn windows_at(&self, starts: &[usize], steps: usize) -> SeqBatch {
        let b = starts.len();
        let mut features = Array3::zeros((steps, b, self.inputs.width()));
        let mut labels = Array3::zeros((steps, b, self.targets.width()));
        for (i, &start) in starts.iter().enumerate() {
            for t in 0..steps {
                self.inputs
                    .write_step(start + t, features.slice_mut(s![t, i, ..]));
                self.targets
                    .write_step(start + t, labels.slice_mut(s![t, i, ..]));
            }
        }
        SeqBatch::new(features, labels, None, None)
    }

    /// `batch` windows of `steps` steps at uniformly random starts.
    pub fn sample_windows<R: Rng + ?Sized>(
        &self,
        batch: usize,
        steps: usize,
        rng: &mut R,
    ) -> Result<SeqBatch> {
        self.check_window(batch, steps)?;
        let starts: Vec<usize> = (0..batch)
            .map(|_| rng.random_range(0..=self.len() - steps))
            .collect();
        Ok(self.windows_at(&starts, steps))
    }

    /// An endless, seeded sequence of random-window minibatches.
    pub fn windows(
        &self,
        batch: usize,
        steps: usize,
        seed: u64,
    ) -> Result<impl Iterator<Item = SeqBatch> + '_> {
        self.check_window(batch, steps)?;
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        Ok(std::iter::from_fn(move || {
            let starts: Vec<usize> = (0..batch)
                .map(|_| rng.random_range(0..=self.len() - steps))
                .collect();
            Some(self.windows_at(&starts, steps))
        }))
    }

    fn check_window(&self, batch: usize, steps: usize) -> Result<()> {
        positive("batch size", batch)?;
        positive("steps (window length)", steps)?;
        if self.len() < steps {
            return Err(DataError::TooShort {
                what: self.name.clone(),
                len: self.len(),
                needed: steps,
                hint: "use shorter windows or more data".to_string(),
            });
        }
        Ok(())
    }
}

fn positive(option: &'static str, value: usize) -> Result<()> {
    if value == 0 {
        return Err(DataError::InvalidOption {
            option,
            message: "must be at least 1".to_string(),
        });
    }
    Ok(())
}

/// Consecutive minibatches of parallel streams (see the module docs).
#[derive(Clone, Copy, Debug)]
pub struct StreamBatcher<'a> {
    data: &'a StreamData,
    streams: usize,
    steps: usize,
    stream_len: usize,
}

impl<'a> StreamBatcher<'a> {
    /// B, the number of parallel streams.
    pub fn streams(&self) -> usize {
        self.streams
    }

    /// S, steps per stream (the series length divided by B, rounded down).
    pub fn stream_len(&self) -> usize {
        self.stream_len
    }

    /// Minibatches per epoch: `ceil(S / T)`.
    pub fn batches_per_epoch(&self) -> usize {
        self.stream_len.div_ceil(self.steps)
    }

    /// Minibatch `k` of an epoch: steps `k*T .. min((k+1)*T, S)` of each stream, as
    /// `(T, B, ·)` with no masks. Panics if `k >= batches_per_epoch()`.
    pub fn batch(&self, k: usize) -> SeqBatch {
        assert!(k < self.batches_per_epoch(), "minibatch index out of range");
        let from = k * self.steps;
        let to = (from + self.steps).min(self.stream_len);
        let t_len = to - from;
        let mut features = Array3::zeros((t_len, self.streams, self.data.inputs.width()));
        let mut labels = Array3::zeros((t_len, self.streams, self.data.targets.width()));
        for b in 0..self.streams {
            let base = b * self.stream_len + from;
            for t in 0..t_len {
                self.data
                    .inputs
                    .write_step(base + t, features.slice_mut(s![t, b, ..]));
                self.data
                    .targets
                    .write_step(base + t, labels.slice_mut(s![t, b, ..]));
            }
        }
        SeqBatch::new(features, labels, None, None)
    }

    /// One epoch of minibatches in order. Call again for the next epoch (the data does
    /// not change between epochs; state should be reset before the first minibatch).
    pub fn epoch(&self) -> impl Iterator<Item = SeqBatch> + 'a {
        let this = *self;
        (0..self.batches_per_epoch()).map(move |k| this.batch(k))
    }
}
