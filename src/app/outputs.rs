//! The notebook's output widgets: tables (sortable), plot series, next-step
//! probabilities and confusion matrices, drawn from the typed outputs of cells.

use eframe::egui;
use egui_plot::{Legend, Line, Plot, PlotPoints};

use crate::experiment::notebook::{Confusion, Series, Table};

/// Rows of a table cell drawn at most (the rest are counted).
const MAX_TABLE_ROWS: usize = 500;

/// A table whose columns sort when their header is clicked (numbers as numbers).
/// Returns the new sort order when a header was clicked.
pub fn table_ui(
    ui: &mut egui::Ui,
    id: (usize, usize),
    t: &Table,
    sort: Option<(usize, bool)>,
) -> Option<(usize, bool)> {
    if !t.title.is_empty() {
        ui.label(egui::RichText::new(&t.title).strong());
    }
    let mut order: Vec<usize> = (0..t.rows.len()).collect();
    if let Some((col, asc)) = sort {
        let key = |r: usize| t.rows[r].get(col).map(String::as_str).unwrap_or("");
        let numeric = t.rows.iter().all(|r| {
            r.get(col)
                .is_some_and(|v| v.parse::<f64>().is_ok() || v == "-" || v.is_empty())
        });
        order.sort_by(|&a, &b| {
            let o = if numeric {
                let n = |r| key(r).parse::<f64>().unwrap_or(f64::NEG_INFINITY);
                n(a).total_cmp(&n(b))
            } else {
                key(a).cmp(key(b))
            };
            if asc {
                o
            } else {
                o.reverse()
            }
        });
    }
    let mut clicked = None;
    let mut draw = |ui: &mut egui::Ui| {
        egui::Grid::new(("table_grid", id))
            .striped(true)
            .num_columns(t.columns.len())
            .spacing([14.0, 3.0])
            .show(ui, |ui| {
                if t.columns.iter().any(|c| !c.is_empty()) {
                    for (c, name) in t.columns.iter().enumerate() {
                        let arrow = match sort {
                            Some((col, true)) if col == c => " ^",
                            Some((col, false)) if col == c => " v",
                            _ => "",
                        };
                        let label = format!("{name}{arrow}");
                        if ui
                            .add(
                                egui::Button::new(egui::RichText::new(label).strong()).frame(false),
                            )
                            .on_hover_text(format!("Sort by {name}"))
                            .clicked()
                        {
                            clicked = Some(match sort {
                                Some((col, asc)) if col == c => (c, !asc),
                                _ => (c, true),
                            });
                        }
                    }
                    ui.end_row();
                }
                for &r in order.iter().take(MAX_TABLE_ROWS) {
                    for v in &t.rows[r] {
                        ui.monospace(v);
                    }
                    ui.end_row();
                }
            });
        if t.rows.len() > MAX_TABLE_ROWS {
            ui.weak(format!(
                "… {} more rows (the first {MAX_TABLE_ROWS} are shown)",
                t.rows.len() - MAX_TABLE_ROWS
            ));
        }
    };
    // a wide table scrolls sideways rather than widening the notebook; a long one
    // scrolls down too, a short one takes its own height
    if t.rows.len() > 12 {
        egui::ScrollArea::both()
            .id_salt(("table", id))
            .max_height(320.0)
            .auto_shrink([false, true])
            .show(ui, |ui| draw(ui));
    } else {
        egui::ScrollArea::horizontal()
            .id_salt(("table", id))
            .auto_shrink([false, true])
            .show(ui, |ui| draw(ui));
    }
    clicked
}

/// Curves with a legend; a log-scale series is drawn on a log10 axis.
pub fn series_ui(ui: &mut egui::Ui, id: &str, s: &Series) {
    if !s.title.is_empty() {
        ui.label(egui::RichText::new(&s.title).strong());
    }
    let mut plot = Plot::new(id)
        .height(220.0)
        .legend(Legend::default())
        .x_axis_label(s.x_label.clone())
        .y_axis_label(s.y_label.clone())
        .allow_scroll(false);
    if s.log_y {
        plot = plot
            .y_axis_formatter(|mark, _| format!("1e{:.0}", mark.value))
            .y_grid_spacer(egui_plot::log_grid_spacer(10));
    }
    plot.show(ui, |plot| {
        let columns = plot.transform().frame().width().max(50.0) as usize;
        for line in &s.lines {
            let pts: Vec<[f64; 2]> = line
                .points
                .iter()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .map(|&(x, y)| [x, y])
                .collect();
            let mut pts = super::series::decimate(&pts, None, columns);
            if s.log_y {
                pts = pts.into_iter().filter_map(super::series::log10).collect();
            }
            // a marked line (a sweep's best trial) is drawn bold over thin ones
            let width = if line.emphasis { 3.0 } else { 1.2 };
            plot.line(Line::new(line.name.clone(), PlotPoints::Owned(pts)).width(width));
        }
    });
}

/// Next-step probabilities as horizontal bars, most likely first.
pub fn probabilities_ui(ui: &mut egui::Ui, probs: &[(String, f64)]) {
    let bar_w = (ui.available_width() - 160.0).clamp(80.0, 400.0);
    egui::Grid::new(ui.next_auto_id())
        .num_columns(3)
        .spacing([8.0, 2.0])
        .show(ui, |ui| {
            for (label, p) in probs {
                ui.monospace(label);
                let (rect, resp) =
                    ui.allocate_exact_size(egui::vec2(bar_w, 14.0), egui::Sense::hover());
                let painter = ui.painter();
                painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
                let mut fill = rect;
                fill.set_width(rect.width() * p.clamp(0.0, 1.0) as f32);
                painter.rect_filled(fill, 2.0, egui::Color32::from_rgb(90, 160, 230));
                resp.on_hover_text(format!("{label}: {p:.4}"));
                ui.monospace(format!("{:5.1}%", p * 100.0));
                ui.end_row();
            }
        });
}

/// The classes a heat map shows: all of them when there are few, else those that occur
/// (as actual or predicted class).
pub fn shown_classes(c: &Confusion) -> Vec<usize> {
    let n = c.classes.len().min(c.counts.len());
    if n <= 12 {
        return (0..n).collect();
    }
    (0..n)
        .filter(|&k| {
            c.counts[k].iter().sum::<u64>() > 0
                || c.counts
                    .iter()
                    .any(|row| row.get(k).copied().unwrap_or(0) > 0)
        })
        .collect()
}

/// A confusion matrix as a heat map: rows the actual class, columns the predicted one,
/// coloured by the share of the actual class, with counts written when the cells are
/// large enough (and on hover always).
pub fn confusion_ui(ui: &mut egui::Ui, c: &Confusion) {
    let classes = shown_classes(c);
    let n = classes.len();
    if n == 0 {
        ui.weak("(empty confusion matrix)");
        return;
    }
    let hidden = c.classes.len() - n;
    ui.label(egui::RichText::new("confusion matrix").strong())
        .on_hover_text("Rows: actual class; columns: predicted class; colour: share of the row");
    if hidden > 0 {
        ui.weak(format!(
            "{hidden} classes that never occur (actual or predicted) are left out"
        ));
    }
    let label_w = 56.0;
    let cell = ((ui.available_width() - label_w - 20.0) / n as f32).clamp(8.0, 40.0);
    let size = egui::vec2(
        label_w + cell * n as f32,
        label_w * 0.5 + cell * n as f32 + 16.0,
    );
    let (rect, response) = ui.allocate_exact_size(size, egui::Sense::hover());
    let painter = ui.painter_at(rect);
    let origin = rect.min + egui::vec2(label_w, label_w * 0.5);
    let text_color = ui.visuals().text_color();
    let font = egui::FontId::monospace((cell * 0.4).clamp(8.0, 12.0));
    let base = ui.visuals().extreme_bg_color;
    let hot = egui::Color32::from_rgb(50, 120, 220);
    painter.text(
        rect.min + egui::vec2(label_w, 0.0),
        egui::Align2::LEFT_TOP,
        "predicted (columns)",
        egui::FontId::proportional(11.0),
        ui.visuals().weak_text_color(),
    );
    painter.text(
        rect.min + egui::vec2(0.0, label_w * 0.5 + cell * n as f32),
        egui::Align2::LEFT_TOP,
        "actual (rows)",
        egui::FontId::proportional(11.0),
        ui.visuals().weak_text_color(),
    );
    let mut hovered = None;
    for (ri, &a) in classes.iter().enumerate() {
        let row_total: u64 = c.counts[a].iter().sum();
        if cell >= 10.0 || ri % 5 == 0 {
            painter.text(
                origin + egui::vec2(-4.0, (ri as f32 + 0.5) * cell),
                egui::Align2::RIGHT_CENTER,
                &c.classes[a],
                font.clone(),
                text_color,
            );
        }
        for (ci, &p) in classes.iter().enumerate() {
            let count = c.counts[a].get(p).copied().unwrap_or(0);
            let share = if row_total > 0 {
                count as f32 / row_total as f32
            } else {
                0.0
            };
            let r = egui::Rect::from_min_size(
                origin + egui::vec2(ci as f32 * cell, ri as f32 * cell),
                egui::vec2(cell, cell),
            );
            painter.rect_filled(r.shrink(0.5), 1.0, lerp_color(base, hot, share.sqrt()));
            if a == p {
                painter.rect_stroke(
                    r.shrink(0.5),
                    1.0,
                    egui::Stroke::new(1.0, ui.visuals().weak_text_color()),
                    egui::StrokeKind::Inside,
                );
            }
            if cell >= 24.0 && count > 0 {
                let fg = if share > 0.45 {
                    egui::Color32::WHITE
                } else {
                    text_color
                };
                painter.text(
                    r.center(),
                    egui::Align2::CENTER_CENTER,
                    count.to_string(),
                    font.clone(),
                    fg,
                );
            }
            if response.hover_pos().is_some_and(|pos| r.contains(pos)) {
                hovered = Some((a, p, count, share));
            }
        }
    }
    for (ci, &p) in classes.iter().enumerate() {
        if cell >= 14.0 || ci % 5 == 0 {
            painter.text(
                origin + egui::vec2((ci as f32 + 0.5) * cell, -2.0),
                egui::Align2::CENTER_BOTTOM,
                &c.classes[p],
                font.clone(),
                text_color,
            );
        }
    }
    if let Some((a, p, count, share)) = hovered {
        response.on_hover_text(format!(
            "actual {}, predicted {}: {count} ({:.1}% of the actual class)",
            c.classes[a],
            c.classes[p],
            share * 100.0
        ));
    }
}

pub fn lerp_color(a: egui::Color32, b: egui::Color32, t: f32) -> egui::Color32 {
    let t = t.clamp(0.0, 1.0);
    let mix = |x: u8, y: u8| (x as f32 + (y as f32 - x as f32) * t).round() as u8;
    egui::Color32::from_rgb(mix(a.r(), b.r()), mix(a.g(), b.g()), mix(a.b(), b.b()))
}
