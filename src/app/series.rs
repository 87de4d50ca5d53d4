//! A plot history with bounded memory: once it holds [`Series::MAX_POINTS`] points,
//! neighbouring pairs are merged (their mean) and later values are averaged in buckets
//! twice as wide. Plots borrow [`Series::points`] as they are; nothing is copied per frame.

use egui_plot::PlotPoint;

#[derive(Clone, Debug)]
pub struct Series {
    points: Vec<PlotPoint>,
    /// Values averaged into each point.
    stride: usize,
    /// The bucket being filled: sum of y, count, last x.
    pending: (f64, usize, f64),
    /// Values pushed in total.
    pushed: u64,
}

impl Default for Series {
    fn default() -> Self {
        Series {
            points: Vec::new(),
            stride: 1,
            pending: (0.0, 0, 0.0),
            pushed: 0,
        }
    }
}

impl Series {
    /// At most this many points are kept.
    pub const MAX_POINTS: usize = 2048;

    /// Adds a value; non-finite values are left out.
    pub fn push(&mut self, x: f64, y: f64) {
        if !(x.is_finite() && y.is_finite()) {
            return;
        }
        self.pushed += 1;
        let (sum, n, _) = self.pending;
        self.pending = (sum + y, n + 1, x);
        if n + 1 < self.stride {
            return;
        }
        let (sum, n, x) = std::mem::replace(&mut self.pending, (0.0, 0, 0.0));
        self.points.push(PlotPoint::new(x, sum / n as f64));
        if self.points.len() >= Self::MAX_POINTS {
            self.points = self
                .points
                .chunks(2)
                .map(|c| {
                    let last = c[c.len() - 1];
                    let mean = c.iter().map(|p| p.y).sum::<f64>() / c.len() as f64;
                    PlotPoint::new(last.x, mean)
                })
                .collect();
            self.stride *= 2;
        }
    }

    /// The points to draw (borrowed by the plot).
    pub fn points(&self) -> &[PlotPoint] {
        &self.points
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The last value pushed into a point.
    pub fn last(&self) -> Option<f64> {
        self.points.last().map(|p| p.y)
    }

    /// Values pushed in total (before decimation).
    pub fn pushed(&self) -> u64 {
        self.pushed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_histories_stay_bounded_and_keep_their_mean() {
        let mut s = Series::default();
        for i in 0..100_000 {
            s.push(i as f64, 1.0 + (i % 2) as f64);
        }
        assert!(s.points().len() <= Series::MAX_POINTS);
        assert!(s.points().len() >= Series::MAX_POINTS / 4);
        assert_eq!(s.pushed(), 100_000);
        for p in s.points() {
            assert!((p.y - 1.5).abs() < 1e-9, "{p:?}");
        }
        assert!(s.points().windows(2).all(|w| w[0].x < w[1].x));
    }

    #[test]
    fn non_finite_values_are_left_out() {
        let mut s = Series::default();
        s.push(1.0, f64::NAN);
        s.push(2.0, 3.0);
        assert_eq!(s.points().len(), 1);
        assert_eq!(s.last(), Some(3.0));
    }
}
