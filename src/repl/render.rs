//! Outputs as plain text: aligned tables, a text sketch of plots, confusion matrices and
//! probability bars. Used by the terminal REPL, scripts and the window's console log.

use crate::experiment::notebook::{Confusion, Output, Series, Table};

/// The output as text lines (no trailing newline).
pub fn render(output: &Output) -> String {
    match output {
        Output::Text(t) | Output::Markdown(t) => t.clone(),
        Output::Sample(t) => t.clone(),
        Output::Error(e) => format!("error: {e}"),
        Output::Table(t) => table(t),
        Output::Series(s) => series(s),
        Output::Confusion(c) => confusion(c),
        Output::Probabilities(p) => probabilities(p),
        Output::Run { name, folder } => format!(
            "run {name} started in {} (pause, resume, stop, lr VALUE; wait blocks until it ends)",
            folder.display()
        ),
    }
}

/// An aligned table; a title line first when it has one.
pub fn table(t: &Table) -> String {
    let cols = t
        .columns
        .len()
        .max(t.rows.iter().map(Vec::len).max().unwrap_or(0));
    let mut width = vec![0usize; cols];
    let header = t.columns.iter().any(|c| !c.is_empty());
    let all_rows = header
        .then_some(&t.columns)
        .into_iter()
        .chain(t.rows.iter());
    for row in all_rows.clone() {
        for (i, cell) in row.iter().enumerate() {
            width[i] = width[i].max(cell.chars().count());
        }
    }
    let mut out = Vec::new();
    if !t.title.is_empty() {
        out.push(t.title.clone());
    }
    let line = |row: &Vec<String>| {
        let cells: Vec<String> = (0..cols)
            .map(|i| {
                let c = row.get(i).map(String::as_str).unwrap_or("");
                let pad = width[i].saturating_sub(c.chars().count());
                if is_number(c) {
                    format!("{}{c}", " ".repeat(pad))
                } else {
                    format!("{c}{}", " ".repeat(pad))
                }
            })
            .collect();
        format!("  {}", cells.join("  ").trim_end())
    };
    if header {
        out.push(line(&t.columns));
        out.push(format!(
            "  {}",
            width
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .join("  ")
        ));
    }
    for row in &t.rows {
        out.push(line(row));
    }
    out.join("\n")
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.parse::<f64>().is_ok()
}

/// A plot as text: per line, its range, first/last points and a sparkline.
pub fn series(s: &Series) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let mut out = vec![format!("{} ({} vs {})", s.title, s.y_label, s.x_label)];
    for l in &s.lines {
        if l.points.is_empty() {
            continue;
        }
        let ys: Vec<f64> = l
            .points
            .iter()
            .map(|p| p.1)
            .filter(|y| y.is_finite())
            .collect();
        let (lo, hi) = ys
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &y| {
                (a.min(y), b.max(y))
            });
        let n = 40.min(l.points.len());
        let spark: String = (0..n)
            .map(|k| {
                let p = l.points[k * (l.points.len() - 1) / (n - 1).max(1)].1;
                if !p.is_finite() || hi <= lo {
                    BARS[0]
                } else {
                    BARS[(((p - lo) / (hi - lo)) * 7.0).round() as usize]
                }
            })
            .collect();
        let (first, last) = (l.points[0], l.points[l.points.len() - 1]);
        out.push(format!(
            "  {:<12} {spark}  {} {:.4} -> {} {:.4} (min {lo:.4}, {} points)",
            l.name,
            first.0,
            first.1,
            last.0,
            last.1,
            l.points.len()
        ));
    }
    out.join("\n")
}

/// Classes above which a confusion matrix prints as its largest confusions.
const MATRIX_CLASSES: usize = 12;

/// A confusion matrix as a table (rows actual, columns predicted); with many classes,
/// the most frequent confusions instead.
pub fn confusion(c: &Confusion) -> String {
    if c.classes.len() > MATRIX_CLASSES {
        let mut pairs: Vec<(u64, usize, usize)> = Vec::new();
        for (a, row) in c.counts.iter().enumerate() {
            for (p, &n) in row.iter().enumerate() {
                if a != p && n > 0 {
                    pairs.push((n, a, p));
                }
            }
        }
        pairs.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
        let label = |i: usize| c.classes.get(i).cloned().unwrap_or_else(|| i.to_string());
        let t = Table {
            title: format!(
                "confusion matrix of {} classes: the most frequent confusions (the window draws the whole matrix)",
                c.classes.len()
            ),
            columns: ["actual", "predicted", "count"].map(String::from).to_vec(),
            rows: pairs
                .iter()
                .take(10)
                .map(|&(n, a, p)| vec![label(a), label(p), n.to_string()])
                .collect(),
        };
        return table(&t);
    }
    let t = Table {
        title: "confusion matrix (rows: actual class, columns: predicted class)".into(),
        columns: std::iter::once("actual \\ predicted".to_string())
            .chain(c.classes.iter().cloned())
            .collect(),
        rows: c
            .counts
            .iter()
            .enumerate()
            .map(|(i, row)| {
                std::iter::once(c.classes.get(i).cloned().unwrap_or_default())
                    .chain(row.iter().map(u64::to_string))
                    .collect()
            })
            .collect(),
    };
    table(&t)
}

/// Probabilities as bars.
pub fn probabilities(p: &[(String, f64)]) -> String {
    p.iter()
        .map(|(label, prob)| {
            let bar = "█".repeat((prob * 30.0).round() as usize);
            format!("  {:>6}  {:>7.4}  {bar}", format!("'{label}'"), prob)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns_and_numbers_right() {
        let t = Table {
            title: "t".into(),
            columns: vec!["name".into(), "value".into()],
            rows: vec![
                vec!["a".into(), "1.5".into()],
                vec!["longer".into(), "10".into()],
            ],
        };
        assert_eq!(
            table(&t),
            "t\n  name    value\n  ------  -----\n  a         1.5\n  longer     10"
        );
    }
}
