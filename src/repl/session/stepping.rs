//! Stateful stepping of the selected model (`step`) and its saved states (`state`).

use super::*;
use crate::experiment::notebook::StateTensor;

impl Session {
    pub(super) fn step(&mut self, input: &str) -> Result<Vec<Output>, String> {
        let sel = self.model()?;
        let net = &mut sel.model.net;
        if let Some(why) = net.cannot_step() {
            return Err(why);
        }
        let i = net.config().input_size;
        if let Some(vocab) = &sel.model.vocab {
            let chars: Vec<char> = input.chars().collect();
            let mut x = Array3::<f32>::zeros((chars.len(), 1, i));
            for (t, c) in chars.iter().enumerate() {
                let id = vocab.id(*c).ok_or_else(|| {
                    format!(
                        "{c:?} (position {}) is not in the model's vocabulary",
                        t + 1
                    )
                })?;
                x[[t, 0, id]] = 1.0;
            }
            let y = net.rnn_time_step(x.view(), None);
            let last = y.index_axis(ndarray::Axis(0), y.dim().0 - 1);
            let mut probs: Vec<(String, f64)> = last
                .iter()
                .enumerate()
                .map(|(k, &p)| {
                    (
                        vocab
                            .char(k)
                            .map_or("?".into(), |c| c.escape_debug().to_string()),
                        p as f64,
                    )
                })
                .collect();
            probs.sort_by(|a, b| b.1.total_cmp(&a.1));
            probs.truncate(TOP_K);
            return Ok(vec![
                text(format!(
                    "fed {} step(s); next-character probabilities:",
                    chars.len()
                )),
                Output::Probabilities(probs),
            ]);
        }
        let mut rows: Vec<Vec<f32>> = Vec::new();
        for (n, step) in input.split(';').enumerate() {
            let values: Result<Vec<f32>, _> =
                step.split(',').map(|v| v.trim().parse::<f32>()).collect();
            let values = values.map_err(|_| {
                format!(
                    "step {}: {step:?} is not a list of numbers; write step 0.1,0.2;0.3,0.4",
                    n + 1
                )
            })?;
            if values.len() != i {
                return Err(format!(
                    "step {}: {} values, but the model reads {i} features per step",
                    n + 1,
                    values.len()
                ));
            }
            rows.push(values);
        }
        let mut x = Array2::<f32>::zeros((rows.len(), i));
        for (t, r) in rows.iter().enumerate() {
            for (k, v) in r.iter().enumerate() {
                x[[t, k]] = *v;
            }
        }
        if let Some(norm) = &sel.model.normalizer {
            norm.transform(x.view_mut()).map_err(|e| e.to_string())?;
        }
        let t_len = rows.len();
        let x = x
            .into_shape_with_order((t_len, 1, i))
            .map_err(|e| e.to_string())?;
        let y = net.rnn_time_step(x.view(), None);
        let mut t = Table {
            title: format!("outputs (state kept; run {})", sel.name),
            columns: std::iter::once("step".to_string())
                .chain((0..y.dim().2).map(|k| format!("output {k}")))
                .collect(),
            rows: Vec::new(),
        };
        for s in 0..y.dim().0 {
            t.rows.push(
                std::iter::once((s + 1).to_string())
                    .chain((0..y.dim().2).map(|k| format!("{:.6}", y[[s, 0, k]])))
                    .collect(),
            );
        }
        Ok(vec![Output::Table(t)])
    }

    pub(super) fn state(&mut self, cmd: StateCommand) -> Result<Vec<Output>, String> {
        match cmd {
            StateCommand::Reset => {
                let sel = self.model()?;
                sel.model.net.rnn_clear_previous_state();
                Ok(vec![text(format!(
                    "stepping state of run {} reset to zero",
                    sel.name
                ))])
            }
            StateCommand::Show => {
                let sel = self.model()?;
                let state = sel.model.net.rnn_get_state();
                let shapes = sel.model.net.state_shapes();
                // one column per state tensor name, in the order the layers list them
                let mut names: Vec<&str> = Vec::new();
                for s in shapes.iter().flatten() {
                    if !names.contains(&s.name) {
                        names.push(s.name);
                    }
                }
                let mut t = Table {
                    title: format!("stepping state of run {}", sel.name),
                    columns: ["layer", "kind"]
                        .into_iter()
                        .map(String::from)
                        .chain(names.iter().map(|n| format!("‖{n}‖")))
                        .collect(),
                    rows: Vec::new(),
                };
                for (k, l) in sel.model.experiment.model.layers.iter().enumerate() {
                    let s = state.get(k).and_then(Option::as_ref);
                    let has = |n: &str| shapes[k].iter().any(|s| s.name == n);
                    let cells = names.iter().map(|&n| match s.and_then(|s| s.get(n)) {
                        Some(a) => format!("{:.4}", a.iter().map(|v| v * v).sum::<f32>().sqrt()),
                        None if has(n) => "0 (reset)".into(),
                        None => "-".into(),
                    });
                    t.rows.push(
                        [k.to_string(), format!("{:?}", l.kind)]
                            .into_iter()
                            .chain(cells)
                            .collect(),
                    );
                }
                Ok(vec![Output::Table(t)])
            }
            StateCommand::Save(name) => {
                let sel = self.model()?;
                let state = sel.model.net.rnn_get_state();
                if state.is_empty() {
                    return Err("the state is zero (nothing fed yet); `step` first".into());
                }
                if state.iter().flatten().any(|s| s.batch() != 1) {
                    return Err("only a one-example stepping state can be saved".into());
                }
                let layers = state
                    .iter()
                    .map(|s| {
                        s.as_ref().map(|s| StateLayer {
                            tensors: s
                                .iter()
                                .map(|(name, t)| StateTensor {
                                    name: name.into(),
                                    values: t.iter().copied().collect(),
                                })
                                .collect(),
                        })
                    })
                    .collect();
                let run = sel.name.clone();
                let states = &mut self.experiment.notebook.states;
                states.retain(|s| s.name != name);
                states.push(NamedState {
                    name: name.clone(),
                    run,
                    layers,
                });
                Ok(vec![text(format!(
                    "state saved as {name:?} (kept with the notebook)"
                ))])
            }
            StateCommand::Load(name) => {
                let saved = self
                    .experiment
                    .notebook
                    .states
                    .iter()
                    .find(|s| s.name == name)
                    .cloned()
                    .ok_or_else(|| {
                        let names: Vec<&str> = self
                            .experiment
                            .notebook
                            .states
                            .iter()
                            .map(|s| s.name.as_str())
                            .collect();
                        format!(
                            "no state {name:?}; saved states: {}",
                            if names.is_empty() {
                                "none".into()
                            } else {
                                names.join(", ")
                            }
                        )
                    })?;
                let sel = self.model()?;
                let shapes = sel.model.net.state_shapes();
                let misfit = || {
                    format!(
                        "state {name:?} was saved from run {} and does not fit run {}'s layers",
                        saved.run, sel.name
                    )
                };
                if saved.layers.len() != shapes.len() {
                    return Err(misfit());
                }
                // each layer's saved tensors must be exactly the ones it lists, by name
                // and width, in its order
                let mut state: NetState<f32> = Vec::with_capacity(shapes.len());
                for (saved, want) in saved.layers.iter().zip(&shapes) {
                    let tensors = saved.as_ref().map_or(&[][..], |l| &l.tensors[..]);
                    let fits = tensors.len() == want.len()
                        && tensors
                            .iter()
                            .zip(want)
                            .all(|(t, w)| t.name == w.name && t.values.len() == w.width);
                    if !fits {
                        return Err(misfit());
                    }
                    state.push(if want.is_empty() {
                        None
                    } else {
                        LayerState::from_tensors(
                            tensors
                                .iter()
                                .zip(want)
                                .map(|(t, w)| {
                                    let a = Array2::from_shape_vec((1, w.width), t.values.clone())
                                        .expect("widths checked");
                                    (w.name, a)
                                })
                                .collect(),
                        )
                    });
                }
                sel.model.net.rnn_set_state(state);
                Ok(vec![text(format!(
                    "state {name:?} loaded into run {}",
                    sel.name
                ))])
            }
        }
    }
}
