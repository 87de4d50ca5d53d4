//! A plot history that keeps every point, and a decimated view of it for drawing.
//!
//! A long run has 10⁵–10⁶ iterations, and a plot line drawn through all of them costs
//! the UI thread a frame's budget while showing nothing more than a few hundred pixel
//! columns can. [`decimate`] keeps, for each pixel column of the visible x range,
//! the first, minimum, maximum and last point (the M4 reduction: the drawn line is the
//! same as with every point), so a frame draws O(width) points whatever the history.
//! The full history stays in the run's view ([`crate::train::view::Curve`]; zooming in
//! shows the real points; export reads the run's `metrics.csv`).

use egui_plot::PlotPoint;

/// The points of `pts` (in x order) to draw for `columns` pixel columns over `x_range` (the whole series
/// when `None`): per column the first, lowest, highest and last point, in x order,
/// plus the nearest point on each side of the range so the line runs to the edges.
/// Series no longer than `2 * columns` are returned whole.
pub fn decimate(pts: &[[f64; 2]], x_range: Option<(f64, f64)>, columns: usize) -> Vec<PlotPoint> {
    let point = |p: &[f64; 2]| PlotPoint::new(p[0], p[1]);
    let (lo, hi) = match x_range {
        Some((a, b)) if a.is_finite() && b.is_finite() && b > a => {
            let lo = pts.partition_point(|p| p[0] < a).saturating_sub(1);
            let hi = (pts.partition_point(|p| p[0] <= b) + 1).min(pts.len());
            (lo, hi)
        }
        _ => (0, pts.len()),
    };
    let slice = &pts[lo..hi];
    let columns = columns.max(1);
    if slice.len() <= 2 * columns {
        return slice.iter().map(point).collect();
    }
    let (x0, x1) = (slice[0][0], slice[slice.len() - 1][0]);
    let width = (x1 - x0).max(f64::MIN_POSITIVE);
    let column = |x: f64| (((x - x0) / width * columns as f64) as usize).min(columns - 1);
    let mut out = Vec::with_capacity(4 * columns + 2);
    let mut start = 0;
    while start < slice.len() {
        let c = column(slice[start][0]);
        let mut end = start + 1;
        while end < slice.len() && column(slice[end][0]) == c {
            end += 1;
        }
        let bucket = &slice[start..end];
        let (mut min, mut max) = (0, 0);
        for (i, p) in bucket.iter().enumerate() {
            if p[1] < bucket[min][1] {
                min = i;
            }
            if p[1] > bucket[max][1] {
                max = i;
            }
        }
        let mut picks = [0, min, max, bucket.len() - 1];
        picks.sort_unstable();
        let mut last = usize::MAX;
        for i in picks {
            if i != last {
                out.push(point(&bucket[i]));
                last = i;
            }
        }
        start = end;
    }
    out
}

/// `y` as drawn on a log10 axis (`None` for values that have no logarithm).
pub fn log10(p: PlotPoint) -> Option<PlotPoint> {
    (p.y > 0.0).then(|| PlotPoint::new(p.x, p.y.log10()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sawtooth(n: usize) -> Vec<[f64; 2]> {
        (0..n).map(|i| [i as f64, (i % 7) as f64 - 3.0]).collect()
    }

    #[test]
    fn decimation_keeps_each_columns_extremes_and_stays_bounded() {
        let s = sawtooth(100_000);
        let d = decimate(&s, None, 500);
        assert!(d.len() <= 4 * 500, "{} points", d.len());
        assert!(d.len() >= 500);
        assert!(d.windows(2).all(|w| w[0].x <= w[1].x));
        // every column spans 200 values of a period-7 sawtooth: its extremes survive
        assert_eq!(d.iter().map(|p| p.y).fold(f64::MAX, f64::min), -3.0);
        assert_eq!(d.iter().map(|p| p.y).fold(f64::MIN, f64::max), 3.0);
        assert_eq!(d.first().unwrap().x, 0.0);
        assert_eq!(d.last().unwrap().x, 99_999.0);
    }

    #[test]
    fn decimating_a_visible_range_returns_its_points_and_one_neighbour_each_side() {
        let s = sawtooth(100_000);
        let d = decimate(&s, Some((1000.0, 1100.0)), 500);
        assert_eq!(d.len(), 103);
        assert_eq!(d[0].x, 999.0);
        assert_eq!(d[102].x, 1101.0);
    }

    #[test]
    fn a_spike_survives_decimation() {
        let s: Vec<[f64; 2]> = (0..50_000)
            .map(|i| [i as f64, if i == 31_337 { 100.0 } else { 1.0 }])
            .collect();
        let d = decimate(&s, None, 100);
        assert!(d.iter().any(|p| p.y == 100.0 && p.x == 31_337.0));
    }
}
