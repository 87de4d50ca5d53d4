//! The model group: `add`, `remove`, `move` and `analyze`; the layer table with sizes,
//! parameter counts and the training memory estimate.

use super::row::{mismatch, CommandRow, Edit, Handler};
use super::*;
use crate::repl::command::{Call, Complete};

/// The model group's rows.
pub(super) const ROWS: &[CommandRow] = &[
    CommandRow {
        name: "add",
        aliases: &[],
        usage: "add lstm|gru|rnn|dense SIZE [at N]",
        summary: "add a hidden layer at the end or at position N (from 0)",
        window: "the Layers section's Add",
        complete: Complete::LayerKinds,
        parse: parse_add,
        run: Handler::Edit(add),
    },
    CommandRow {
        name: "remove",
        aliases: &[],
        usage: "remove N",
        summary: "remove hidden layer N (from 0)",
        window: "the Layers section's ✖",
        complete: Complete::Nothing,
        parse: parse_remove,
        run: Handler::Edit(remove),
    },
    CommandRow {
        name: "move",
        aliases: &[],
        usage: "move N M",
        summary: "move hidden layer N to position M",
        window: "the Layers section's ⬆/⬇",
        complete: Complete::Nothing,
        parse: parse_move,
        run: Handler::Edit(move_layer),
    },
    CommandRow {
        name: "analyze",
        aliases: &["analyse"],
        usage: "analyze",
        summary: "per-layer input/output sizes, parameter counts and the estimated training memory for the batch and sequence length",
        window: "the Layers section",
        complete: Complete::Nothing,
        parse: |call| call.none(Command::Analyze),
        run: Handler::Edit(|s, _| s.analyze()),
    },
];

fn parse_add(call: &Call) -> Result<Command, String> {
    let usage = || call.usage();
    let a = call.args()?;
    let (kind, size, at) = match a.as_slice() {
        [k, s] => (k, s, None),
        [k, s, at_word, n] if at_word == "at" => (k, s, Some(call.number(n, "the position")?)),
        _ => {
            return Err(format!(
                "give a kind and a size, e.g. add lstm 128; {}",
                usage()
            ))
        }
    };
    let kind = match LayerType::from_name(kind) {
        Some(k) => k,
        None => {
            return Err(format!(
                "{kind:?} is not a layer kind ({}); {}",
                LayerType::names(),
                usage()
            ))
        }
    };
    let size = call.number(size, "the size")?;
    if size == 0 {
        return Err(format!("a layer needs at least 1 unit; {}", usage()));
    }
    let most = crate::experiment::validate::MAX_UNITS;
    if size > most {
        return Err(format!(
            "a layer has at most {most} units (its weights would not fit in memory); {}",
            usage()
        ));
    }
    Ok(Command::Add { kind, size, at })
}

fn add(s: &mut Edit<'_>, cmd: Command) -> Result<Vec<Output>, String> {
    let Command::Add { kind, size, at } = cmd else {
        mismatch("add")
    };
    let layers = &mut s.experiment.model.layers;
    let at = at.unwrap_or(layers.len());
    if at > layers.len() {
        return Err(format!(
            "there are {} layers; add at 0..={}",
            layers.len(),
            layers.len()
        ));
    }
    layers.insert(
        at,
        LayerSpec {
            kind,
            size,
            ..LayerSpec::default()
        },
    );
    s.after_model_change(format!("added {kind:?}({size}) as layer {at}"))
}

fn parse_remove(call: &Call) -> Result<Command, String> {
    match call.args()?.as_slice() {
        [n] => Ok(Command::Remove(call.number(n, "the layer")?)),
        _ => Err(format!("give the layer's position; {}", call.usage())),
    }
}

fn remove(s: &mut Edit<'_>, cmd: Command) -> Result<Vec<Output>, String> {
    let Command::Remove(n) = cmd else {
        mismatch("remove")
    };
    let layers = &mut s.experiment.model.layers;
    if n >= layers.len() {
        return Err(format!(
            "there are {} layers (0..{}); `show model` lists them",
            layers.len(),
            layers.len()
        ));
    }
    if layers.len() == 1 {
        return Err("a model needs at least one hidden layer; add another first".into());
    }
    let l = layers.remove(n);
    s.after_model_change(format!("removed layer {n} ({:?}({}))", l.kind, l.size))
}

fn parse_move(call: &Call) -> Result<Command, String> {
    match call.args()?.as_slice() {
        [n, m] => Ok(Command::Move {
            from: call.number(n, "the layer")?,
            to: call.number(m, "the new position")?,
        }),
        _ => Err(format!("give two positions; {}", call.usage())),
    }
}

fn move_layer(s: &mut Edit<'_>, cmd: Command) -> Result<Vec<Output>, String> {
    let Command::Move { from, to } = cmd else {
        mismatch("move")
    };
    let layers = &mut s.experiment.model.layers;
    if from >= layers.len() || to >= layers.len() {
        return Err(format!(
            "there are {} layers (0..{}); `show model` lists them",
            layers.len(),
            layers.len()
        ));
    }
    let l = layers.remove(from);
    layers.insert(to, l);
    s.after_model_change(format!("moved layer {from} to {to}"))
}

impl Edit<'_> {
    pub(super) fn after_model_change(&mut self, what: String) -> Result<Vec<Output>, String> {
        let mut out = vec![text(what)];
        out.push(self.model_table(None)?);
        Ok(out)
    }
    /// `memory` carries (batch, steps).
    pub(super) fn model_table(&mut self, memory: Option<(usize, usize)>) -> Result<Output, String> {
        let exp = self.experiment.clone();
        let shape = self.data().map(|d| (d.shape(), d.default_loss()));
        let (input, output, loss, note) = match &shape {
            Ok((s, l)) => (
                s.input,
                s.output,
                exp.model.output.loss.unwrap_or(*l),
                String::new(),
            ),
            Err(e) => (
                0,
                0,
                exp.model
                    .output
                    .loss
                    .unwrap_or(crate::experiment::schema::LossSpec::CrossEntropy),
                format!(" (sizes need the data: {e})"),
            ),
        };
        let mut t = Table {
            title: format!("model{note}"),
            columns: vec![
                "layer".into(),
                "kind".into(),
                "input".into(),
                "output".into(),
                "parameters".into(),
            ],
            rows: Vec::new(),
        };
        if shape.is_err() {
            for (i, l) in exp.model.layers.iter().enumerate() {
                t.rows.push(vec![
                    i.to_string(),
                    format!("{:?}", l.kind),
                    "?".into(),
                    l.size.to_string(),
                    "?".into(),
                ]);
            }
            return Ok(Output::Table(t));
        }
        let config = exp.model.to_nn(input, output, loss);
        let sizes = layer_sizes(&config);
        for (i, (l, spec)) in sizes.iter().zip(&exp.model.layers).enumerate() {
            t.rows.push(vec![
                i.to_string(),
                format!("{:?}", spec.kind),
                l.input.to_string(),
                l.output.to_string(),
                l.parameters.to_string(),
            ]);
        }
        let out = sizes.last().expect("the output layer");
        t.rows.push(vec![
            "output".into(),
            format!("{loss:?}, {:?}", config.output.mode),
            out.input.to_string(),
            out.output.to_string(),
            out.parameters.to_string(),
        ]);
        let total: usize = sizes.iter().map(|l| l.parameters).sum();
        t.rows.push(vec![
            "total".into(),
            String::new(),
            String::new(),
            String::new(),
            total.to_string(),
        ]);
        if let Some((batch, steps)) = memory {
            let estimate = crate::train::memory::estimate(&config, batch, steps);
            t.rows.push(vec![
                "training memory (estimate)".into(),
                format!("batch {batch} × {steps} steps"),
                String::new(),
                String::new(),
                crate::train::memory::human_bytes(estimate.total()),
            ]);
        }
        Ok(Output::Table(t))
    }

    pub(super) fn analyze(&mut self) -> Result<Vec<Output>, String> {
        let t = self.experiment.training.clone();
        let shape = match self.data() {
            Ok(data) => crate::train::memory::minibatch_shape(&t, data.longest_sequence()),
            // the table says why the sizes are missing
            Err(_) => (
                t.batch_size,
                t.tbptt.map_or(t.sequence_length, |tb| tb.forward),
            ),
        };
        Ok(vec![self.model_table(Some(shape))?])
    }
}
