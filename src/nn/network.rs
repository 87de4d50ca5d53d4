//! A stack of layers with an output layer: the flat parameter table, forward and
//! backward passes over a segment, and stateful stepping. The stack never matches on a
//! layer's kind: it talks to every hidden layer through [`Layer`].

use std::ops::Range;

use ndarray::{Array2, Array3, ArrayView2, ArrayView3};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::init::{fill_matrix, WeightInit};
use super::kernels::gemv_acc_view;
use super::normalize::{grad_sums, normalize, GradientNormalization};
use super::output::{LossValue, OutputLayer};
use super::params::{lay_out, ParamShape};
use super::updater::{UpdateSums, Updater};
use super::{Float, Loss, OutputMode};

pub use super::config::{
    LayerConfig, LayerKind, NamedTensor, NetworkConfig, NetworkError, OutputConfig, Regularization,
};
pub use super::layer::{Gradients, Layer, LayerState, NetState, StateShape, Window};
pub use super::params::{ParamKind, ParamSpec};

/// Inverted-dropout buffers of one layer input.
struct Dropout<F> {
    keep: Array3<F>,  // (T, B, I) 0 or 1/(1-p)
    input: Array3<F>, // (T, B, I) the dropped input
}

/// One minibatch segment, time-major.
#[derive(Clone, Copy, Debug)]
pub struct Batch<'a, F> {
    /// `(T, B, I)`
    pub features: ArrayView3<'a, F>,
    /// `(T, B, O)`, or `(1, B, O)` for a last-step output layer
    pub labels: ArrayView3<'a, F>,
    /// `(T, B)`; `None` = every step is real
    pub feature_mask: Option<ArrayView2<'a, F>>,
    /// `(T, B)` (or `(1, B)` for last-step); `None` = every position counts
    pub label_mask: Option<ArrayView2<'a, F>>,
}

/// Which steps the layers run on, given a batch's masks (see [`step_mask_into`]).
///
/// With an every-step output a step is padding only when it has neither an input nor
/// a label: a step with a label but no input (one-to-many) runs the recurrence on its
/// input as given (the data pads with 0, so on zero input) and its output counts. With
/// a last-step output only the feature mask decides.
pub fn step_mask<F: Float>(
    feature_mask: Option<ArrayView2<F>>,
    label_mask: Option<ArrayView2<F>>,
    mode: OutputMode,
) -> Option<Array2<F>> {
    let mut buf = Array2::zeros((0, 0));
    step_mask_into(feature_mask, label_mask, mode, &mut buf).map(|m| m.to_owned())
}

/// [`step_mask`] into a reusable buffer: returns the feature mask itself when it alone
/// decides, `None` when every step runs, else the union written into `buf` `(T, B)`.
pub fn step_mask_into<'m, F: Float>(
    feature_mask: Option<ArrayView2<'m, F>>,
    label_mask: Option<ArrayView2<'m, F>>,
    mode: OutputMode,
    buf: &'m mut Array2<F>,
) -> Option<ArrayView2<'m, F>> {
    match (feature_mask, label_mask, mode) {
        (f, _, OutputMode::LastStep) => f,
        (None, _, _) => None,
        // no label mask: every step has a label, so every step runs
        (Some(_), None, _) => None,
        (Some(f), Some(l), OutputMode::EveryStep) => {
            assert_eq!(f.dim(), l.dim(), "feature and label masks are both (T, B)");
            if buf.dim() != f.dim() {
                *buf = Array2::zeros(f.dim());
            }
            ndarray::Zip::from(&mut *buf)
                .and(&f)
                .and(&l)
                .for_each(|m, &a, &b| *m = if a != F::zero() { a } else { b });
            Some(buf.view())
        }
    }
}

/// What a backward pass computes besides parameter gradients.
#[derive(Clone, Copy, Debug, Default)]
pub struct BackpropOptions {
    /// First step of the backward window (truncated BPTT); loss positions before it add
    /// nothing to the gradients. 0 = the whole segment.
    pub from: usize,
    /// Also return d loss / d features.
    pub input_grad: bool,
    /// Apply dropout (training).
    pub train: bool,
}

/// Result of [`Network::forward_backward`].
pub struct Backprop<F> {
    /// Data loss (mean of this over counted positions is the score without penalties).
    pub loss: LossValue,
    /// d loss / d features when asked.
    pub input_grad: Option<Array3<F>>,
    /// d loss / d initial state of every layer (zero when the window was truncated).
    pub state_grad: NetState<F>,
}

/// The network: configuration, flat parameters and gradients, layer workspaces.
pub struct Network<F: Float> {
    config: NetworkConfig,
    specs: Vec<ParamSpec>,
    ranges: Vec<Range<usize>>, // per layer, the output layer last
    params: Vec<F>,
    grads: Vec<F>,
    layers: Vec<Box<dyn Layer<F>>>,
    output: OutputLayer<F>,
    acts: Vec<Array3<F>>,  // (T, B, H_k) outputs of hidden layer k
    dacts: Vec<Array3<F>>, // (T, B, H_k) d loss / d acts[k]
    drops: Vec<Option<Dropout<F>>>,
    dx_input: Array3<F>, // (T, B, I) d loss / d features (or d loss / d output input)
    state_grad: NetState<F>, // d loss / d initial state of the last backward pass
    state: NetState<F>,  // for rnn_time_step
    step_mask: Array2<F>, // (T, B) the steps the layers run on (see `step_mask`)
    rng: StdRng,
}

impl<F: Float> Network<F> {
    /// Builds and initialises a network; `seed` fixes the initial weights and dropout.
    pub fn new(config: NetworkConfig, seed: u64) -> Result<Self, NetworkError> {
        validate(&config)?;
        let mut specs = Vec::new();
        let mut ranges = Vec::new();
        let mut layers: Vec<Box<dyn Layer<F>>> = Vec::new();
        let mut offset = 0;
        let mut width = config.input_size;
        for (k, lc) in config.layers.iter().enumerate() {
            let layer = lc.kind.build(width, lc.size, lc.single_bias);
            ranges.push(lay_out(&mut specs, &mut offset, k, layer.param_shapes()));
            layers.push(layer);
            width = lc.size;
        }
        let oc = &config.output;
        let k_out = config.layers.len();
        let out_shapes = vec![
            ParamShape::new("weight", ParamKind::InputWeight, vec![oc.size, width]),
            ParamShape::new("bias", ParamKind::Bias, vec![oc.size]),
        ];
        ranges.push(lay_out(&mut specs, &mut offset, k_out, out_shapes));
        let output = OutputLayer::new(width, oc.size, oc.loss, oc.mode);

        let n_layers = config.layers.len();
        let mut net = Network {
            specs,
            ranges,
            params: vec![F::zero(); offset],
            grads: vec![F::zero(); offset],
            layers,
            output,
            acts: (0..n_layers).map(|_| Array3::zeros((0, 0, 0))).collect(),
            dacts: (0..n_layers).map(|_| Array3::zeros((0, 0, 0))).collect(),
            drops: (0..=n_layers).map(|_| None).collect(),
            dx_input: Array3::zeros((0, 0, 0)),
            state_grad: Vec::new(),
            state: Vec::new(),
            step_mask: Array2::zeros((0, 0)),
            rng: StdRng::seed_from_u64(seed ^ 0x5eed_d0d0),
            config,
        };
        net.init_params(seed);
        Ok(net)
    }

    /// Re-initialises every parameter from `seed`: weights by their layer's
    /// [`WeightInit`] gate block by gate block; biases and peepholes 0, or with
    /// [`WeightInit::PyTorch`] drawn from the same `U(-k, k)` as the weights; then an
    /// LSTM's forget-gate bias set to `forget_bias` (in `bias_ih`, with `bias_hh`'s
    /// forget block 0, so the sum is `forget_bias`).
    pub fn init_params(&mut self, seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        for spec in self.specs.clone() {
            let (init, gates, bias_fill) = self.init_for(&spec);
            let bound = self.pytorch_bound(&spec);
            let out = &mut self.params[spec.range()];
            if spec.kind.is_bias() || spec.kind == ParamKind::Peephole {
                match init {
                    WeightInit::PyTorch => {
                        let rows = spec.shape[0] / gates;
                        fill_matrix(WeightInit::PyTorch, gates, rows, 1, bound, &mut rng, out)
                    }
                    _ => out.iter_mut().for_each(|v| *v = F::zero()),
                }
                if let Some((range, value)) = bias_fill {
                    out[range].iter_mut().for_each(|v| *v = F::c(value));
                }
            } else {
                let rows = spec.shape[0] / gates;
                fill_matrix(init, gates, rows, spec.shape[1], bound, &mut rng, out);
            }
        }
    }

    /// The bound `k` of PyTorch's default `U(-k, k)` for a tensor of this layer:
    /// `1/sqrt(hidden_size)` for `nn.LSTM`/`GRU`/`RNN` (weights and biases),
    /// `1/sqrt(in_features)` for `nn.Linear` (dense and output layers: the weight's
    /// `kaiming_uniform_(a=sqrt(5))` and the bias both come to that).
    fn pytorch_bound(&self, spec: &ParamSpec) -> f64 {
        let recurrent = self
            .config
            .layers
            .get(spec.layer)
            .is_some_and(|lc| lc.kind.is_recurrent());
        let fan = if recurrent {
            self.config.layers[spec.layer].size
        } else if spec.layer == 0 {
            self.config.input_size
        } else {
            self.config.layers[spec.layer - 1].size
        };
        1.0 / (fan as f64).sqrt()
    }

    /// (initialiser, gate blocks, a bias range to fill with a constant).
    fn init_for(&self, spec: &ParamSpec) -> (WeightInit, usize, Option<(Range<usize>, f64)>) {
        if spec.layer == self.config.layers.len() {
            return (self.config.output.weight_init, 1, None);
        }
        let lc = &self.config.layers[spec.layer];
        let layer = &self.layers[spec.layer];
        let init = if spec.kind == ParamKind::RecurrentWeight {
            lc.recurrent_init
        } else {
            lc.weight_init
        };
        let fill = match spec.kind {
            ParamKind::Bias => layer.bias_fill(spec.name),
            _ => None,
        };
        let gates = if spec.kind == ParamKind::Peephole {
            1
        } else {
            layer.gate_blocks()
        };
        (init, gates, fill)
    }

    /// The architecture the network was built from.
    pub fn config(&self) -> &NetworkConfig {
        &self.config
    }

    /// Where each named tensor sits in the flat buffers, in buffer order.
    pub fn specs(&self) -> &[ParamSpec] {
        &self.specs
    }

    /// Parameter range of each layer, the output layer last.
    pub fn layer_ranges(&self) -> &[Range<usize>] {
        &self.ranges
    }

    /// The flat parameter buffer.
    pub fn params(&self) -> &[F] {
        &self.params
    }

    /// The flat parameter buffer, writable (loading, perturbing in gradient checks).
    pub fn params_mut(&mut self) -> &mut [F] {
        &mut self.params
    }

    /// The flat gradient buffer (same layout as the parameters).
    pub fn grads(&self) -> &[F] {
        &self.grads
    }

    /// Parameters and gradients at once (for updaters).
    pub fn params_and_grads(&mut self) -> (&mut [F], &mut [F]) {
        (&mut self.params, &mut self.grads)
    }

    /// Number of parameters.
    pub fn num_params(&self) -> usize {
        self.params.len()
    }

    /// Sets every gradient to 0 (backward passes accumulate).
    pub fn zero_grads(&mut self) {
        self.grads.iter_mut().for_each(|g| *g = F::zero());
    }

    /// Zero state for `b` examples.
    pub fn zero_state(&self, b: usize) -> NetState<F> {
        self.layers.iter().map(|l| l.zero_state(b)).collect()
    }

    /// Every layer's state tensors (empty for a stateless layer), as the layers list
    /// them ([`Layer::state_shapes`]).
    pub fn state_shapes(&self) -> Vec<Vec<StateShape>> {
        self.layers.iter().map(|l| l.state_shapes()).collect()
    }

    /// Why the network cannot run one step at a time ([`Self::step_one`],
    /// [`Self::rnn_time_step`] with single steps), naming the first layer that cannot
    /// ([`Layer::can_step`]); `None` when every layer can.
    pub fn cannot_step(&self) -> Option<String> {
        let k = self.layers.iter().position(|l| !l.can_step())?;
        Some(format!(
            "layer {k} ({}) needs the whole sequence at once and cannot be stepped; \
             use `predict` on whole sequences instead",
            self.config.layers[k].kind.name()
        ))
    }

    /// Forward through the hidden layers; the top activations end up in `acts`.
    fn forward_hidden(
        &mut self,
        x: ArrayView3<F>,
        mask: Option<ArrayView2<F>>,
        state: &mut NetState<F>,
        train: bool,
    ) {
        let (t_len, b, _) = x.dim();
        assert_eq!(state.len(), self.layers.len(), "one state per layer");
        for k in 0..self.layers.len() {
            let h = self.config.layers[k].size;
            if self.acts[k].dim() != (t_len, b, h) {
                self.acts[k] = Array3::zeros((t_len, b, h));
            }
            let (below, rest) = self.acts.split_at_mut(k);
            let out = &mut rest[0];
            let input = if k == 0 { x } else { below[k - 1].view() };
            let p = self.params[self.ranges[k].clone()].as_ref();
            let input = match dropout_forward(
                &mut self.drops[k],
                self.config.layers[k].dropout,
                train,
                input,
                &mut self.rng,
            ) {
                Some(d) => d.input.view(),
                None => input,
            };
            self.layers[k].forward(p, input, mask, state[k].as_mut(), out);
        }
    }

    /// Input of the output layer after the last forward (dropped when training).
    fn top_input<'a>(
        acts: &'a [Array3<F>],
        drop: &'a Option<Dropout<F>>,
        x: ArrayView3<'a, F>,
        used_drop: bool,
    ) -> ArrayView3<'a, F> {
        match (used_drop, drop) {
            (true, Some(d)) => d.input.view(),
            _ => acts.last().map(|a| a.view()).unwrap_or(x),
        }
    }

    /// Forward, loss and backward over one segment. `state` holds the initial state on
    /// entry and the final state on return. Gradients accumulate (`+=`) into the
    /// gradient buffer; call [`Self::zero_grads`] first.
    pub fn forward_backward(
        &mut self,
        batch: &Batch<F>,
        state: &mut NetState<F>,
        opts: &BackpropOptions,
    ) -> Backprop<F> {
        let loss = self.forward_backward_in_place(batch, state, opts);
        Backprop {
            loss,
            input_grad: opts.input_grad.then(|| self.dx_input.clone()),
            state_grad: self.state_grad.clone(),
        }
    }

    /// [`Self::forward_backward`] keeping d loss / d initial state and d loss / d
    /// features in the network ([`Self::state_grad`], [`Self::input_grad`]) instead of
    /// returning copies: once the buffers have their sizes it allocates nothing.
    pub fn forward_backward_in_place(
        &mut self,
        batch: &Batch<F>,
        state: &mut NetState<F>,
        opts: &BackpropOptions,
    ) -> LossValue {
        let x = batch.features;
        let (t_len, b, i_len) = x.dim();
        let mut step_buf = std::mem::replace(&mut self.step_mask, Array2::zeros((0, 0)));
        let mask = step_mask_into(
            batch.feature_mask,
            batch.label_mask,
            self.config.output.mode,
            &mut step_buf,
        );
        assert!(
            opts.from < t_len || t_len == 0,
            "backward window start inside the segment"
        );
        self.forward_hidden(x, mask, state, opts.train);
        let n_layers = self.layers.len();
        let out_drop = self.config.output.dropout;

        // output layer forward + loss
        let used_drop;
        {
            let top = self.acts.last().map(|a| a.view()).unwrap_or(x);
            used_drop = dropout_forward(
                &mut self.drops[n_layers],
                out_drop,
                opts.train,
                top,
                &mut self.rng,
            )
            .is_some();
        }
        let loss = {
            let top = Self::top_input(&self.acts, &self.drops[n_layers], x, used_drop);
            let p = &self.params[self.ranges[n_layers].clone()];
            self.output.forward(p, top, mask);
            self.output.loss(batch.labels, batch.label_mask)
        };
        if opts.from > 0 {
            assert_eq!(
                self.config.output.mode,
                OutputMode::EveryStep,
                "truncated windows need every-step output"
            );
            self.output.drop_rows_before(opts.from * b);
        }

        // backward: output layer
        let top_width = if n_layers == 0 {
            i_len
        } else {
            self.config.layers[n_layers - 1].size
        };
        let fits = self.state_grad.len() == state.len()
            && self
                .state_grad
                .iter()
                .zip(state.iter())
                .all(|(g, s)| match (g, s) {
                    (Some(g), Some(s)) => g.same_shape(s),
                    (None, None) => true,
                    _ => false,
                });
        if fits {
            self.state_grad
                .iter_mut()
                .flatten()
                .for_each(|g| g.fill_zero());
        } else {
            self.state_grad = state
                .iter()
                .map(|s| s.as_ref().map(LayerState::zeros_like))
                .collect();
        }
        let state_grad = &mut self.state_grad;
        if n_layers == 0 && self.dx_input.dim() != (t_len, b, top_width) {
            self.dx_input = Array3::zeros((t_len, b, top_width));
        }
        for k in 0..n_layers {
            let dim = self.acts[k].dim();
            if self.dacts[k].dim() != dim {
                self.dacts[k] = Array3::zeros(dim);
            }
        }
        {
            let top = Self::top_input(&self.acts, &self.drops[n_layers], x, used_drop);
            let p = &self.params[self.ranges[n_layers].clone()];
            let g = &mut self.grads[self.ranges[n_layers].clone()];
            let d_top = match self.dacts.last_mut() {
                Some(d) => d.view_mut(),
                None => self.dx_input.view_mut(),
            };
            self.output.backward(p, g, top, d_top);
        }
        if used_drop {
            let d_top = match self.dacts.last_mut() {
                Some(d) => d,
                None => &mut self.dx_input,
            };
            dropout_backward(&self.drops[n_layers], d_top);
        }

        // backward: hidden layers, top to bottom
        for k in (0..n_layers).rev() {
            let want_dx = k > 0 || opts.input_grad;
            if k == 0 && want_dx && self.dx_input.dim() != (t_len, b, i_len) {
                self.dx_input = Array3::zeros((t_len, b, i_len));
            }
            let (below, rest) = self.dacts.split_at_mut(k);
            let dout = rest[0].view();
            let dx = if !want_dx {
                None
            } else if k == 0 {
                Some(self.dx_input.view_mut())
            } else {
                Some(below[k - 1].view_mut())
            };
            let used = self.drops[k].is_some() && opts.train && self.config.layers[k].dropout > 0.0;
            let input = match (&self.drops[k], used) {
                (Some(d), true) => d.input.view(),
                _ if k == 0 => x,
                _ => self.acts[k - 1].view(),
            };
            let p = &self.params[self.ranges[k].clone()];
            let g = &mut self.grads[self.ranges[k].clone()];
            let window = Window {
                x: input,
                mask,
                out: self.acts[k].view(),
                dout,
                from: opts.from,
            };
            let grads = Gradients {
                g,
                dx,
                dstate: state_grad[k].as_mut(),
            };
            self.layers[k].backward(p, window, grads);
            if used && want_dx {
                let d = if k == 0 {
                    &mut self.dx_input
                } else {
                    &mut self.dacts[k - 1]
                };
                dropout_backward(&self.drops[k], d);
            }
        }
        self.step_mask = step_buf;
        loss
    }

    /// d loss / d initial state of every layer from the last
    /// [`Self::forward_backward_in_place`].
    pub fn state_grad(&self) -> &NetState<F> {
        &self.state_grad
    }

    /// d loss / d features `(T, B, I)` from the last backward pass that asked for it.
    pub fn input_grad(&self) -> &Array3<F> {
        &self.dx_input
    }

    /// Loss of a batch without gradients (evaluation), from `state` (updated).
    pub fn loss(&mut self, batch: &Batch<F>, state: &mut NetState<F>) -> LossValue {
        let mut step_buf = std::mem::replace(&mut self.step_mask, Array2::zeros((0, 0)));
        let mask = step_mask_into(
            batch.feature_mask,
            batch.label_mask,
            self.config.output.mode,
            &mut step_buf,
        );
        self.forward_hidden(batch.features, mask, state, false);
        let top = self.acts.last().map(|a| a.view()).unwrap_or(batch.features);
        let p = &self.params[self.ranges[self.layers.len()].clone()];
        self.output.forward(p, top, mask);
        let loss = self.output.loss(batch.labels, batch.label_mask);
        self.step_mask = step_buf;
        loss
    }

    /// Loss and activated predictions of a batch in one forward pass (evaluation), from
    /// `state` (updated). No dropout, no gradients.
    pub fn loss_and_predictions(
        &mut self,
        batch: &Batch<F>,
        state: &mut NetState<F>,
    ) -> (LossValue, Array3<F>) {
        let loss = self.loss(batch, state);
        let (t_len, b, _) = batch.features.dim();
        (loss, self.output.predictions3(t_len, b))
    }

    /// Reseeds the dropout masks (the trainer reseeds per iteration so that a resumed
    /// run draws the same masks as an uninterrupted one).
    pub fn set_dropout_seed(&mut self, seed: u64) {
        self.rng = StdRng::seed_from_u64(seed);
    }

    /// Activated predictions `(T, B, O)` (`(1, B, O)` for last-step output) from `state`
    /// (updated to the final state). No dropout.
    pub fn predict(
        &mut self,
        x: ArrayView3<F>,
        mask: Option<ArrayView2<F>>,
        state: &mut NetState<F>,
    ) -> Array3<F> {
        let (t_len, b, _) = x.dim();
        self.forward_hidden(x, mask, state, false);
        let top = self.acts.last().map(|a| a.view()).unwrap_or(x);
        let p = &self.params[self.ranges[self.layers.len()].clone()];
        self.output.forward(p, top, mask);
        self.output.predictions3(t_len, b)
    }

    /// Predictions from a zero state, leaving the stepping state alone.
    pub fn output(&mut self, x: ArrayView3<F>, mask: Option<ArrayView2<F>>) -> Array3<F> {
        let mut st = self.zero_state(x.dim().1);
        self.predict(x, mask, &mut st)
    }

    /// DL4J's `rnnTimeStep`: feeds one or more steps `(T, B, I)` continuing from the kept
    /// state (zero at first, or when the batch size changes) and keeps the final state.
    pub fn rnn_time_step(&mut self, x: ArrayView3<F>, mask: Option<ArrayView2<F>>) -> Array3<F> {
        let b = x.dim().1;
        let fits = self.state.len() == self.layers.len()
            && self.state.iter().flatten().all(|s| s.batch() == b);
        if !fits {
            self.state = self.zero_state(b);
        }
        let mut st = std::mem::take(&mut self.state);
        let y = self.predict(x, mask, &mut st);
        self.state = st;
        y
    }

    /// Forgets the stepping state.
    pub fn rnn_clear_previous_state(&mut self) {
        self.state.clear();
    }

    /// The stepping state of every layer (empty before the first step).
    pub fn rnn_get_state(&self) -> &NetState<F> {
        &self.state
    }

    /// Replaces the whole stepping state.
    pub fn rnn_set_state(&mut self, state: NetState<F>) {
        assert_eq!(state.len(), self.layers.len(), "one state per layer");
        self.state = state;
    }

    /// The hidden layers, bottom first.
    pub fn layers(&self) -> &[Box<dyn Layer<F>>] {
        &self.layers
    }

    /// Normalises the gradients (`grad_sq` receives each tensor's gradient sum of
    /// squares before normalisation), adds the regularisation gradients and applies one
    /// update (`sums` receives the parameter and update sums of squares).
    pub fn normalize_and_update(
        &mut self,
        updater: &mut Updater<F>,
        lr: f64,
        norm: GradientNormalization,
        grad_sq: &mut [f64],
        sums: &mut [UpdateSums],
    ) {
        grad_sums(&self.grads, &self.specs, grad_sq);
        normalize(norm, &mut self.grads, &self.specs, &self.ranges, grad_sq);
        self.add_regularization_grads();
        updater.step(&mut self.params, &self.grads, lr, &self.specs, sums);
    }

    /// Regularisation penalty of the current parameters.
    pub fn regularization_penalty(&self) -> f64 {
        let mut total = 0.0;
        for spec in &self.specs {
            let r = self.regularization_of(spec.layer);
            let (l1, l2) = if spec.kind.is_bias() {
                (r.l1_bias, r.l2_bias)
            } else {
                (r.l1, r.l2)
            };
            if l1 == 0.0 && l2 == 0.0 {
                continue;
            }
            let (mut s1, mut s2) = (0.0, 0.0);
            for &w in &self.params[spec.range()] {
                let w = w.f64();
                s1 += w.abs();
                s2 += w * w;
            }
            total += l1 * s1 + 0.5 * l2 * s2;
        }
        total
    }

    /// Adds the penalty's gradient `l1 * sign(w) + l2 * w` to the gradients.
    pub fn add_regularization_grads(&mut self) {
        for spec in &self.specs {
            let r = self.regularization_of(spec.layer);
            let (l1, l2) = if spec.kind.is_bias() {
                (r.l1_bias, r.l2_bias)
            } else {
                (r.l1, r.l2)
            };
            if l1 == 0.0 && l2 == 0.0 {
                continue;
            }
            let (l1, l2) = (F::c(l1), F::c(l2));
            for (g, &w) in self.grads[spec.range()]
                .iter_mut()
                .zip(&self.params[spec.range()])
            {
                let sign = if w > F::zero() {
                    F::one()
                } else if w < F::zero() {
                    -F::one()
                } else {
                    F::zero()
                };
                *g += l1 * sign + l2 * w;
            }
        }
    }

    fn regularization_of(&self, layer: usize) -> Regularization {
        match self.config.layers.get(layer) {
            Some(lc) => lc.regularization,
            None => self.config.output.regularization,
        }
    }

    /// Every parameter under PyTorch's names and shapes, each tensor as it is. A single
    /// LSTM/RNN `bias` (the `single_bias` layout) is exported as `bias_ih` with a zero
    /// `bias_hh`, which gives PyTorch the same sums.
    pub fn torch_tensors(&self) -> Vec<NamedTensor<F>> {
        self.torch_tensors_of(&self.params)
    }

    /// [`Self::torch_tensors`] for another parameter buffer of this network (e.g. the
    /// best parameters kept by early stopping).
    pub fn torch_tensors_of(&self, params: &[F]) -> Vec<NamedTensor<F>> {
        assert_eq!(
            params.len(),
            self.params.len(),
            "parameter buffer of this network"
        );
        let mut out = Vec::new();
        for spec in &self.specs {
            let data = params[spec.range()].to_vec();
            let prefix = format!("layers.{}.", spec.layer);
            if spec.name == "bias"
                && spec.layer < self.layers.len()
                && self.config.layers[spec.layer].kind.is_recurrent()
            {
                out.push(NamedTensor {
                    name: prefix.clone() + "bias_ih",
                    shape: spec.shape.clone(),
                    data: data.clone(),
                });
                out.push(NamedTensor {
                    name: prefix + "bias_hh",
                    shape: spec.shape.clone(),
                    data: vec![F::zero(); data.len()],
                });
            } else {
                out.push(NamedTensor {
                    name: spec.full_name(),
                    shape: spec.shape.clone(),
                    data,
                });
            }
        }
        out
    }

    /// Loads PyTorch-named tensors, each as it is: seqlab's `layers.{k}.*` names, or a
    /// `state_dict` in PyTorch's own module names ([`super::torch_names`]). Every
    /// parameter must be given (a single LSTM/RNN `bias` is loaded from `bias_ih` +
    /// `bias_hh`, summed). Nothing changes on error.
    pub fn load_torch_tensors(&mut self, tensors: &[NamedTensor<F>]) -> Result<(), NetworkError> {
        // PyTorch's own multi-layer names (`weight_ih_l0`, `head.weight`, ...) as seqlab's
        let renamed = super::torch_names::to_seqlab_names(&self.config, tensors)?;
        let tensors = &renamed[..];
        let mut params = self.params.clone();
        let mut seen = vec![0u8; self.specs.len()];
        for t in tensors {
            let (idx, summed) = self.spec_for_torch_name(&t.name)?;
            let spec = &self.specs[idx];
            if t.shape != spec.shape || t.data.len() != spec.len {
                return Err(NetworkError::Tensor {
                    name: t.name.clone(),
                    problem: format!(
                        "has shape {:?}, the network needs {:?}",
                        t.shape, spec.shape
                    ),
                });
            }
            let dst = &mut params[spec.range()];
            if summed && seen[idx] > 0 {
                dst.iter_mut().zip(&t.data).for_each(|(d, &v)| *d += v);
            } else {
                dst.copy_from_slice(&t.data);
            }
            seen[idx] += 1;
        }
        for (idx, spec) in self.specs.iter().enumerate() {
            let recurrent_bias = spec.name == "bias"
                && spec.layer < self.layers.len()
                && self.config.layers[spec.layer].kind.is_recurrent();
            let need = if recurrent_bias { 2 } else { 1 };
            if seen[idx] != need {
                let name = if recurrent_bias {
                    format!("layers.{}.bias_ih and bias_hh", spec.layer)
                } else {
                    spec.full_name()
                };
                return Err(NetworkError::Tensor {
                    name,
                    problem: "is missing from the weights".into(),
                });
            }
        }
        self.params = params;
        Ok(())
    }

    fn spec_for_torch_name(&self, name: &str) -> Result<(usize, bool), NetworkError> {
        let err = |p: &str| NetworkError::Tensor {
            name: name.to_string(),
            problem: p.to_string(),
        };
        let rest = name
            .strip_prefix("layers.")
            .ok_or_else(|| err("does not start with `layers.`"))?;
        let (k, local) = rest
            .split_once('.')
            .ok_or_else(|| err("has no tensor name after the layer index"))?;
        let k: usize = k.parse().map_err(|_| err("has no layer index"))?;
        // a single LSTM/RNN bias is PyTorch's `bias_ih + bias_hh`
        let recurrent_bias = k < self.layers.len()
            && self.config.layers[k].kind.is_recurrent()
            && !self.config.layers[k].two_biases();
        let (local, summed) = match local {
            "bias_ih" | "bias_hh" if recurrent_bias => ("bias", true),
            other => (other, false),
        };
        self.specs
            .iter()
            .position(|s| s.layer == k && s.name == local)
            .map(|i| (i, summed))
            .ok_or_else(|| err("is not a parameter of this network"))
    }

    /// Single-example stepping buffers for sampling.
    pub fn step_buffers(&self) -> StepBuffers<F> {
        let mut state = Vec::new();
        let mut width = self.config.input_size;
        for l in &self.layers {
            let len = l.state_shapes().iter().map(|s| s.width).sum();
            state.push(vec![F::zero(); len]);
            width = width.max(l.size());
        }
        let scratch = self.layers.iter().map(|l| l.step_scratch()).max();
        StepBuffers {
            state,
            z: vec![F::zero(); scratch.unwrap_or(0).max(1)],
            a: vec![F::zero(); width.max(self.config.output.size)],
            b: vec![F::zero(); width.max(self.config.output.size)],
            out: vec![F::zero(); self.config.output.size],
        }
    }

    /// One step for one example through every layer, allocation-free: `x (I)` in,
    /// activated output in `buf.out`. The state lives in `buf`.
    pub fn step_one(&self, x: &[F], buf: &mut StepBuffers<F>) {
        let mut width = x.len();
        buf.a[..width].copy_from_slice(x);
        for (k, layer) in self.layers.iter().enumerate() {
            let p = &self.params[self.ranges[k].clone()];
            let input = &buf.a[..width];
            let out = &mut buf.b[..layer.size()];
            let z = &mut buf.z[..layer.step_scratch()];
            layer.step_one(p, input, &mut buf.state[k], out, z);
            width = layer.size();
            std::mem::swap(&mut buf.a, &mut buf.b);
        }
        let p = &self.params[self.ranges[self.layers.len()].clone()];
        let o = self.config.output.size;
        let (w, bias) = p.split_at(o * width);
        let w = ArrayView2::from_shape((o, width), w).expect("shape");
        buf.out.copy_from_slice(bias);
        gemv_acc_view(w, &buf.a[..width], &mut buf.out);
        match self.config.output.loss {
            Loss::SoftmaxCrossEntropy => super::output::softmax_in_place(&mut buf.out),
            Loss::Mse => {}
            Loss::SigmoidBinaryCrossEntropy => buf
                .out
                .iter_mut()
                .for_each(|v| *v = super::activation::sigmoid(*v)),
        }
    }
}

/// State and scratch for [`Network::step_one`].
pub struct StepBuffers<F> {
    /// Per layer its state tensors for the example, one after the other in the
    /// layer's [`Layer::state_shapes`] order (empty for a stateless layer).
    pub state: Vec<Vec<F>>,
    z: Vec<F>,
    a: Vec<F>,
    b: Vec<F>,
    /// Activated output of the last step.
    pub out: Vec<F>,
}

impl<F: Float> StepBuffers<F> {
    /// Zeroes the state (a new sequence).
    pub fn reset(&mut self) {
        for s in &mut self.state {
            s.iter_mut().for_each(|v| *v = F::zero());
        }
    }
}

/// Applies inverted dropout to `input` into the layer's buffers when training with
/// `p > 0`; returns the buffers used.
fn dropout_forward<'a, F: Float>(
    slot: &'a mut Option<Dropout<F>>,
    p: f64,
    train: bool,
    input: ArrayView3<F>,
    rng: &mut StdRng,
) -> Option<&'a Dropout<F>> {
    if !train || p <= 0.0 {
        return None;
    }
    let dim = input.dim();
    if slot.as_ref().map(|d| d.keep.dim()) != Some(dim) {
        *slot = Some(Dropout {
            keep: Array3::zeros(dim),
            input: Array3::zeros(dim),
        });
    }
    let d = slot.as_mut().expect("dropout buffers");
    let scale = F::c(1.0 / (1.0 - p));
    d.keep.iter_mut().for_each(|k| {
        *k = if rng.random::<f64>() < p {
            F::zero()
        } else {
            scale
        }
    });
    ndarray::Zip::from(&mut d.input)
        .and(&input)
        .and(&d.keep)
        .for_each(|o, &x, &k| *o = x * k);
    Some(d)
}

fn dropout_backward<F: Float>(slot: &Option<Dropout<F>>, d: &mut Array3<F>) {
    if let Some(dr) = slot {
        ndarray::Zip::from(d)
            .and(&dr.keep)
            .for_each(|g, &k| *g *= k);
    }
}

fn validate(c: &NetworkConfig) -> Result<(), NetworkError> {
    let bad = |field: String, problem: &str| {
        Err(NetworkError::Invalid {
            field,
            problem: problem.to_string(),
        })
    };
    if c.input_size == 0 {
        return bad("input_size".into(), "must be at least 1");
    }
    for (k, l) in c.layers.iter().enumerate() {
        if l.size == 0 {
            return bad(format!("layers[{k}].size"), "must be at least 1");
        }
        if !(0.0..1.0).contains(&l.dropout) {
            return bad(format!("layers[{k}].dropout"), "must be in [0, 1)");
        }
    }
    if c.output.size == 0 {
        return bad("output.size".into(), "must be at least 1");
    }
    if !(0.0..1.0).contains(&c.output.dropout) {
        return bad("output.dropout".into(), "must be in [0, 1)");
    }
    Ok(())
}
