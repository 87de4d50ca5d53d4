//! LSTM layer (PyTorch's formulation and gate order `i, f, g, o`), with optional
//! peephole connections as in DL4J's GravesLSTM.
//!
//! ```text
//! z_t = x_t W_ih^T + h_{t-1} W_hh^T + b                      (B, 4H)
//! i = gate(z_i + p_i * c_{t-1})   f = gate(z_f + p_f * c_{t-1})   g = act(z_g)
//! c_t = f * c_{t-1} + i * g
//! o = gate(z_o + p_o * c_t)       h_t = o * act(c_t)
//! ```
//! `b` is `b_ih + b_hh` (PyTorch's two biases, each trained) or one bias (Deeplearning4j's
//! layout). At a masked step (input mask 0) the state passes through unchanged and the
//! output is 0.

use std::ops::Range;

use ndarray::{s, Array2, Array3, ArrayView2, ArrayView3, ArrayViewMut3, Axis};

use super::gemm::{self as packed, PackedB};
use super::kernels::{self, gemm};
use super::layer::{Gradients, Layer, LayerState, StateShape, Window};
use super::mask::mask_at;
use super::params::{ParamKind, ParamShape};
use super::pool;
use super::window::{
    accumulate_window, add_transposed, is_sparse, sparse_matmul_into, sparse_row_into, WindowGrads,
};
use super::{Activation, Float};

/// Shapes and activations of one LSTM layer; the parameters live in the network's flat
/// buffer: `weight_ih (4H, I)`, `weight_hh (4H, H)`, `bias_ih (4H)`, `bias_hh (4H)`
/// (PyTorch's two biases; with `two_biases` false one `bias (4H)`, Deeplearning4j's
/// layout), then with peepholes `weight_ci, weight_cf, weight_co (H)`.
pub struct Lstm<F: Float> {
    /// Input width `I`.
    pub input: usize,
    /// Hidden units `H`.
    pub hidden: usize,
    /// DL4J GravesLSTM peepholes `weight_ci, weight_cf, weight_co (H)`.
    pub peephole: bool,
    /// `bias_ih` and `bias_hh` (PyTorch) rather than one `bias`.
    pub two_biases: bool,
    /// Activation of the `i, f, o` gates.
    pub gate: Activation,
    /// Activation of the candidate `g` and of the cell output.
    pub act: Activation,
    /// Initial value of the forget gate's bias sum (see [`Layer::bias_fill`]).
    pub forget_bias: f64,
    /// Run the general cell even when the layer is plain ([`Self::with_general_path`]).
    general_only: bool,
    gates: Array3<F>,  // (T, B, 4H) activated i, f, g, o
    hs: Array3<F>,     // (T+1, B, H) hidden state, hs[0] the initial one
    cs: Array3<F>,     // (T+1, B, H) cell state
    tcs: Array3<F>,    // (T, B, H) act(c_t)
    dgates: Array3<F>, // (T, B, 4H) d loss / d pre-activations
    dh: Array2<F>,     // (B, H) d loss / d h carried backwards
    dc: Array2<F>,     // (B, H)
    fast: Box<FastBuffers<F>>,
}

/// Buffers of the fast paths (boxed: they are not needed by every layer kind's size).
struct FastBuffers<F> {
    /// `f32` only: `W_hh^T (H, 4H)` packed for the forward steps, `W_hh (4H, H)` for
    /// the backward steps (weights do not change within a pass).
    pack_fwd: PackedB,
    pack_bwd: PackedB,
    /// Sparse (one-hot) input: `W_ih^T (I, 4H)` for the forward pass, and the
    /// transposed `W_ih` gradient in the backward pass.
    w_ih_t: Vec<F>,
    sparse_scratch: Vec<F>,
    /// The two halves' [`RowSums`] of the last backward pass.
    parts: Vec<F>,
    /// `bias_ih + bias_hh (4H)` of the current forward pass (two biases).
    bias_sum: Vec<F>,
}

/// The layer's slice of the flat parameter buffer, cut into named views.
struct LstmParams<'a, F> {
    w_ih: ArrayView2<'a, F>,  // (4H, I)
    w_hh: ArrayView2<'a, F>,  // (4H, H)
    bias: &'a [F],            // (4H) bias_ih, or the single bias
    bias_hh: Option<&'a [F]>, // (4H) with two biases
    peep: Option<&'a [F]>,    // (3H) p_i, p_f, p_o
}

impl<F: Float> Lstm<F> {
    /// An LSTM layer `I -> H`; forget-gate bias 1 (see [`Self::with_forget_bias`]).
    pub fn new(
        input: usize,
        hidden: usize,
        peephole: bool,
        gate: Activation,
        act: Activation,
        two_biases: bool,
    ) -> Self {
        let e3 = Array3::zeros((0, 0, 0));
        let e2 = Array2::zeros((0, 0));
        Lstm {
            input,
            hidden,
            peephole,
            two_biases,
            gate,
            act,
            forget_bias: 1.0,
            general_only: false,
            gates: e3.clone(),
            hs: e3.clone(),
            cs: e3.clone(),
            tcs: e3.clone(),
            dgates: e3,
            dh: e2.clone(),
            dc: e2,
            fast: Box::new(FastBuffers {
                pack_fwd: PackedB::new(),
                pack_bwd: PackedB::new(),
                w_ih_t: Vec::new(),
                sparse_scratch: Vec::new(),
                parts: Vec::new(),
                bias_sum: Vec::new(),
            }),
        }
    }

    /// The same layer with the forget gate's bias initialised to `forget_bias`
    /// (default 1).
    pub fn with_forget_bias(mut self, forget_bias: f64) -> Self {
        self.forget_bias = forget_bias;
        self
    }

    /// The same layer always running the general cell, one step at a time over the whole
    /// batch, even when it is plain: the reference the fast path is tested against
    /// (same results within rounding; slower).
    pub fn with_general_path(mut self) -> Self {
        self.general_only = true;
        self
    }

    /// Whether an LSTM with these settings is the plain one (sigmoid gates, tanh
    /// activations, no peepholes: PyTorch's), which has the vectorised recurrence by
    /// example rows that splits a minibatch over two threads.
    pub fn is_plain_kind(peephole: bool, gate: Activation, act: Activation) -> bool {
        gate == Activation::Sigmoid && act == Activation::Tanh && !peephole
    }

    /// Number of parameters in the flat buffer.
    pub fn param_len(input: usize, hidden: usize, peephole: bool, two_biases: bool) -> usize {
        4 * hidden * input
            + 4 * hidden * hidden
            + if two_biases { 8 * hidden } else { 4 * hidden }
            + if peephole { 3 * hidden } else { 0 }
    }

    fn params<'a>(&self, p: &'a [F]) -> LstmParams<'a, F> {
        let (h, i) = (self.hidden, self.input);
        let (w_ih, rest) = p.split_at(4 * h * i);
        let (w_hh, rest) = rest.split_at(4 * h * h);
        let (bias, rest) = rest.split_at(4 * h);
        let (bias_hh, rest) = match self.two_biases {
            true => {
                let (b_hh, rest) = rest.split_at(4 * h);
                (Some(b_hh), rest)
            }
            false => (None, rest),
        };
        LstmParams {
            w_ih: ArrayView2::from_shape((4 * h, i), w_ih).expect("w_ih shape"),
            w_hh: ArrayView2::from_shape((4 * h, h), w_hh).expect("w_hh shape"),
            bias,
            bias_hh,
            peep: self.peephole.then_some(rest),
        }
    }

    fn resize(&mut self, t_len: usize, b: usize) {
        let h = self.hidden;
        if self.gates.dim() != (t_len, b, 4 * h) {
            self.gates = Array3::zeros((t_len, b, 4 * h));
            self.dgates = Array3::zeros((t_len, b, 4 * h));
            self.hs = Array3::zeros((t_len + 1, b, h));
            self.cs = Array3::zeros((t_len + 1, b, h));
            self.tcs = Array3::zeros((t_len, b, h));
        }
        if self.dh.dim() != (b, h) {
            self.dh = Array2::zeros((b, h));
            self.dc = Array2::zeros((b, h));
        }
    }

    /// Sigmoid gates, tanh activations and no peepholes: PyTorch's LSTM, which has a
    /// fused, vectorised cell update.
    fn is_plain(&self) -> bool {
        Self::is_plain_kind(self.peephole, self.gate, self.act)
    }

    /// Whether the passes take the vectorised path by example rows.
    fn takes_fast_path(&self) -> bool {
        self.is_plain() && !self.general_only
    }
    /// The recurrence of [`Self::forward`] for any gate / activation / peepholes, one
    /// step at a time over the whole batch.
    fn forward_general(
        &mut self,
        prm: &LstmParams<F>,
        mask: Option<ArrayView2<F>>,
        t_len: usize,
        b: usize,
        out: &mut Array3<F>,
    ) {
        let h = self.hidden;
        let acts = Acts {
            gate: self.gate,
            act: self.act,
        };
        let w_hh32 = packed::as_f32(prm.w_hh.as_slice().expect("contiguous w_hh"));
        let threads = pool::threads(b, 4 * h, h);
        for t in 0..t_len {
            let (h_prev, mut h_next) = self.hs.multi_slice_mut((s![t, .., ..], s![t + 1, .., ..]));
            let (c_prev, mut c_next) = self.cs.multi_slice_mut((s![t, .., ..], s![t + 1, .., ..]));
            let mut zt = self.gates.index_axis_mut(Axis(0), t);
            // recurrent projection added onto the input projection
            if w_hh32.is_some() {
                let a = packed::as_f32(h_prev.as_slice().expect("contiguous")).expect("f32");
                let c = packed::as_f32_mut(zt.as_slice_mut().expect("contiguous")).expect("f32");
                packed::gemm_acc(a, h, b, &self.fast.pack_fwd, c, 4 * h, threads);
            } else {
                gemm(F::one(), &h_prev, &prm.w_hh.t(), F::one(), &mut zt);
            }

            let zs = zt.as_slice_mut().expect("contiguous");
            let hp = h_prev.as_slice().expect("contiguous");
            let cp = c_prev.as_slice().expect("contiguous");
            let hn = h_next.as_slice_mut().expect("contiguous");
            let cn = c_next.as_slice_mut().expect("contiguous");
            let mut tct = self.tcs.index_axis_mut(Axis(0), t);
            let tc = tct.as_slice_mut().expect("contiguous");
            let mut ot = out.index_axis_mut(Axis(0), t);
            let o_out = ot.as_slice_mut().expect("contiguous");
            for bi in 0..b {
                let z = &mut zs[bi * 4 * h..(bi + 1) * 4 * h];
                let r = bi * h..(bi + 1) * h;
                if mask_at(mask, t, bi) == F::zero() {
                    // masked step: state passes through, output is zero
                    hn[r.clone()].copy_from_slice(&hp[r.clone()]);
                    cn[r.clone()].copy_from_slice(&cp[r.clone()]);
                    o_out[r].iter_mut().for_each(|v| *v = F::zero());
                    continue;
                }
                cell_forward(
                    acts,
                    prm.peep,
                    z,
                    &cp[r.clone()],
                    &mut cn[r.clone()],
                    &mut tc[r.clone()],
                    &mut hn[r.clone()],
                    &mut o_out[r],
                );
            }
        }
    }

    /// The step loop of [`Self::backward`] for any gate / activation / peepholes, one
    /// step at a time over the whole batch.
    fn backward_general(
        &mut self,
        prm: &LstmParams<F>,
        gpeep: &mut [F],
        mask: Option<ArrayView2<F>>,
        from: usize,
        dout: ArrayView3<F>,
    ) {
        let (t_len, b, h) = dout.dim();
        let acts = Acts {
            gate: self.gate,
            act: self.act,
        };
        let w_hh32 = packed::as_f32(prm.w_hh.as_slice().expect("contiguous w_hh"));
        let threads = pool::threads(b, h, 4 * h);
        for t in (from..t_len).rev() {
            let gates_t = self.gates.index_axis(Axis(0), t);
            let zs = gates_t.as_slice().expect("contiguous");
            let mut dz_t = self.dgates.index_axis_mut(Axis(0), t);
            let dzs = dz_t.as_slice_mut().expect("contiguous");
            let cp_t = self.cs.index_axis(Axis(0), t);
            let cp = cp_t.as_slice().expect("contiguous");
            let cn_t = self.cs.index_axis(Axis(0), t + 1);
            let cn = cn_t.as_slice().expect("contiguous");
            let tc_t = self.tcs.index_axis(Axis(0), t);
            let tc = tc_t.as_slice().expect("contiguous");
            let do_t = dout.index_axis(Axis(0), t);
            let dos = do_t.as_standard_layout();
            let dos = dos.as_slice().expect("contiguous");
            let dh = self.dh.as_slice_mut().expect("contiguous");
            let dc = self.dc.as_slice_mut().expect("contiguous");
            for bi in 0..b {
                let dz = &mut dzs[bi * 4 * h..(bi + 1) * 4 * h];
                if mask_at(mask, t, bi) == F::zero() {
                    // masked step: gradients pass straight to the previous state
                    dz.iter_mut().for_each(|v| *v = F::zero());
                    continue;
                }
                let r = bi * h..(bi + 1) * h;
                let peep = prm.peep.map(|pp| Peep {
                    p: pp,
                    c1: &cn[r.clone()],
                    g: &mut *gpeep,
                });
                // the rows' dh are refilled by the recurrent GEMM below
                cell_backward(
                    acts,
                    peep,
                    &zs[bi * 4 * h..(bi + 1) * 4 * h],
                    &cp[r.clone()],
                    &tc[r.clone()],
                    &dos[r.clone()],
                    &mut dh[r.clone()],
                    &mut dc[r],
                    dz,
                );
            }
            // d h_{t-1} = dz_t W_hh; masked rows have dz = 0 and keep the carried gradient
            if w_hh32.is_some() {
                let a = packed::as_f32(dz_t.as_slice().expect("contiguous")).expect("f32");
                let dh = self.dh.as_slice_mut().expect("contiguous");
                let c = packed::as_f32_mut(dh).expect("f32");
                packed::gemm_acc(a, 4 * h, b, &self.fast.pack_bwd, c, h, threads);
            } else {
                gemm(F::one(), &dz_t, &prm.w_hh, F::one(), &mut self.dh);
            }
        }
    }
}

impl<F: Float> Layer<F> for Lstm<F> {
    fn input_size(&self) -> usize {
        self.input
    }

    fn size(&self) -> usize {
        self.hidden
    }

    fn param_shapes(&self) -> Vec<ParamShape> {
        let (h, i) = (self.hidden, self.input);
        let mut v = vec![
            ParamShape::new("weight_ih", ParamKind::InputWeight, vec![4 * h, i]),
            ParamShape::new("weight_hh", ParamKind::RecurrentWeight, vec![4 * h, h]),
        ];
        if self.two_biases {
            v.push(ParamShape::new("bias_ih", ParamKind::Bias, vec![4 * h]));
            v.push(ParamShape::new("bias_hh", ParamKind::Bias, vec![4 * h]));
        } else {
            v.push(ParamShape::new("bias", ParamKind::Bias, vec![4 * h]));
        }
        if self.peephole {
            for name in ["weight_ci", "weight_cf", "weight_co"] {
                v.push(ParamShape::new(name, ParamKind::Peephole, vec![h]));
            }
        }
        v
    }

    /// `i, f, g, o`.
    fn gate_blocks(&self) -> usize {
        4
    }

    /// The forget gate's bias sum: all in `bias` or `bias_ih`, 0 in `bias_hh`.
    fn bias_fill(&self, name: &str) -> Option<(Range<usize>, f64)> {
        let value = if name == "bias_hh" {
            0.0
        } else {
            self.forget_bias
        };
        Some((self.hidden..2 * self.hidden, value))
    }

    /// `h` then the cell `c`, both `(B, H)`.
    fn state_shapes(&self) -> Vec<StateShape> {
        let width = self.hidden;
        vec![
            StateShape { name: "h", width },
            StateShape { name: "c", width },
        ]
    }

    fn splits_batch(&self) -> bool {
        self.takes_fast_path()
    }

    fn step_scratch(&self) -> usize {
        4 * self.hidden
    }

    /// Runs the segment `x (T, B, I)` from `state` (replaced by the final state) into
    /// `out (T, B, H)`, keeping what backward needs.
    fn forward(
        &mut self,
        p: &[F],
        x: ArrayView3<F>,
        mask: Option<ArrayView2<F>>,
        state: Option<&mut LayerState<F>>,
        out: &mut Array3<F>,
    ) {
        let state = state.expect("LSTM state");
        let (t_len, b, i_len) = x.dim();
        let h = self.hidden;
        assert_eq!(i_len, self.input, "LSTM input width");
        self.resize(t_len, b);
        let mut prm = self.params(p);
        let fast = self.takes_fast_path();
        // two biases: their sum, once per pass (taken out of `self` for the pass, no
        // allocation after the first)
        let mut bias_sum = std::mem::take(&mut self.fast.bias_sum);
        if let Some(b_hh) = prm.bias_hh {
            bias_sum.clear();
            bias_sum.extend(prm.bias.iter().zip(b_hh).map(|(&a, &c)| a + c));
            prm.bias = &bias_sum;
            prm.bias_hh = None;
        }

        // plain LSTM: the recurrence runs by example rows (see below), which also adds
        // a one-hot input's weight columns and the bias step by step
        let by_rows = fast && out.is_standard_layout();
        let x2 = x.to_shape((t_len * b, i_len)).expect("contiguous input");
        let sparse_x = x2.as_slice().filter(|xs| is_sparse(xs));
        if sparse_x.is_some() {
            // one-hot input: add the weight columns of the non-zero entries
            self.fast.w_ih_t.resize(i_len * 4 * h, F::zero());
            for (j, col) in self.fast.w_ih_t.chunks_exact_mut(4 * h).enumerate() {
                col.iter_mut()
                    .zip(prm.w_ih.column(j))
                    .for_each(|(d, &w)| *d = w);
            }
        }
        {
            // else the input projection of every step in one GEMM, plus bias
            let mut z2 = self
                .gates
                .view_mut()
                .into_shape_with_order((t_len * b, 4 * h))
                .expect("gates");
            match sparse_x {
                Some(_) if by_rows => {}
                Some(xs) => {
                    let zs = z2.as_slice_mut().expect("contiguous");
                    sparse_matmul_into(xs, i_len, &self.fast.w_ih_t, zs);
                }
                None => pool::par_mat_mul(F::one(), &x2.view(), &prm.w_ih.t(), F::zero(), &mut z2),
            }
            if !by_rows {
                kernels::add_rows(z2.as_slice_mut().expect("contiguous"), prm.bias);
            }
        }
        self.hs.index_axis_mut(Axis(0), 0).assign(state.tensor(0));
        self.cs.index_axis_mut(Axis(0), 0).assign(state.tensor(1));

        // f32: W_hh^T packed once for every step
        let w_hh32 = packed::as_f32(prm.w_hh.as_slice().expect("contiguous w_hh"));
        if let Some(w) = w_hh32 {
            self.fast.pack_fwd.pack_transposed(w, 4 * h, h);
        }
        // plain LSTM: the vectorised recurrence by example rows; with two threads each
        // runs the whole segment for its own examples, so steps need no hand-over
        if by_rows {
            let bufs = StepBufs {
                gates: self.gates.as_mut_ptr(),
                hs: self.hs.as_mut_ptr(),
                cs: self.cs.as_mut_ptr(),
                tcs: self.tcs.as_mut_ptr(),
                out: out.as_mut_ptr(),
                b,
                h,
            };
            let pack = w_hh32.map(|_| &self.fast.pack_fwd);
            let w_hh_t = prm.w_hh.t();
            let input = StepInput {
                bias: prm.bias,
                sparse: sparse_x.map(|xs| (xs, i_len, &self.fast.w_ih_t[..])),
            };
            // SAFETY: `bufs` points at this layer's buffers and `out`, all standard
            // layout with the shapes `forward_rows` expects; the ranges run at the same
            // time are disjoint example rows, and `self` and `out` stay borrowed here.
            let run = |rows| unsafe { forward_rows(bufs, input, w_hh_t, pack, mask, t_len, rows) };
            if w_hh32.is_some() && pool::batch_split(b, 4 * h, h) {
                pool::par_ranges(b, 2, 1, &run);
            } else {
                run(0..b);
            }
        } else {
            self.forward_general(&prm, mask, t_len, b, out);
        }
        self.fast.bias_sum = bias_sum;
        state
            .tensor_mut(0)
            .assign(&self.hs.index_axis(Axis(0), t_len));
        state
            .tensor_mut(1)
            .assign(&self.cs.index_axis(Axis(0), t_len));
    }

    /// Backpropagates through steps `from..T` of the last forward pass. `dout (T, B, H)`
    /// is d loss / d output; `dstate` holds d loss / d final state on entry and receives
    /// d loss / d initial state (zero when `from > 0`). Gradients accumulate into `g`;
    /// `dx (T, B, I)`, when given, is overwritten.
    fn backward(&mut self, p: &[F], window: Window<F>, grads: Gradients<F>) {
        let Window {
            x,
            mask,
            from,
            dout,
            ..
        } = window;
        let Gradients { g, dx, dstate } = grads;
        let dstate = dstate.expect("LSTM state gradient");
        let (t_len, b, i_len) = x.dim();
        let h = self.hidden;
        let prm = self.params(p);
        let fast = self.takes_fast_path();
        let (gw_ih, rest) = g.split_at_mut(4 * h * i_len);
        let (gw_hh, rest) = rest.split_at_mut(4 * h * h);
        let (gbias, rest) = rest.split_at_mut(4 * h);
        // two biases: `bias_hh` gets the same gradient as `bias_ih`
        let (mut gbias_hh, gpeep) = match self.two_biases {
            true => {
                let (g_hh, rest) = rest.split_at_mut(4 * h);
                (Some(g_hh), rest)
            }
            false => (None, rest),
        };

        self.dh.assign(dstate.tensor(0));
        self.dc.assign(dstate.tensor(1));
        // f32: W_hh packed once for every step
        let w_hh32 = packed::as_f32(prm.w_hh.as_slice().expect("contiguous w_hh"));
        if let Some(w) = w_hh32 {
            self.fast.pack_bwd.pack(w, 4 * h, h);
        }
        if fast && dout.is_standard_layout() {
            let bufs = BackBufs {
                gates: self.gates.as_ptr(),
                cs: self.cs.as_ptr(),
                tcs: self.tcs.as_ptr(),
                dout: dout.as_ptr(),
                dgates: self.dgates.as_mut_ptr(),
                dh: self.dh.as_mut_ptr(),
                dc: self.dc.as_mut_ptr(),
                b,
                h,
            };
            // the bias gradient and a one-hot input's W_ih gradient are summed step by
            // step into one partial sum per half of the batch (the halves of the split)
            let x2 = x.to_shape((t_len * b, i_len)).expect("contiguous input");
            let sparse_x = x2.as_slice().filter(|xs| is_sparse(xs));
            let g4 = 4 * h;
            let parts = &mut self.fast.parts;
            parts.clear();
            parts.resize(2 * g4 * (1 + sparse_x.map_or(0, |_| i_len)), F::zero());
            let sums = RowSums {
                parts: pool::SharedMut(parts.as_mut_ptr()),
                sparse: sparse_x.map(|xs| (xs, i_len)),
            };
            let pack = w_hh32.map(|_| &self.fast.pack_bwd);
            let w_hh = prm.w_hh;
            // SAFETY: as in `forward`: disjoint example rows per thread (and their own
            // half of `parts`); `dout` and the forward buffers are only read.
            let run = |rows| unsafe {
                backward_rows(bufs, sums, w_hh, pack, mask, from..t_len, rows);
            };
            if w_hh32.is_some() && pool::batch_split(b, h, 4 * h) {
                pool::par_ranges(b, 2, 1, &run);
            } else {
                // the same two halves one after the other: the same sums
                run(0..b / 2);
                run(b / 2..b);
            }
            let (part0, part1) = self.fast.parts.split_at(self.fast.parts.len() / 2);
            for (k, gb) in gbias.iter_mut().enumerate() {
                *gb += part0[k];
                *gb += part1[k];
            }
            if let Some(g_hh) = gbias_hh.as_deref_mut() {
                for (k, gb) in g_hh.iter_mut().enumerate() {
                    *gb += part0[k];
                    *gb += part1[k];
                }
            }
            if sparse_x.is_some() {
                for part in [part0, part1] {
                    add_transposed(gw_ih, i_len, part[g4..].chunks_exact(g4));
                }
            }
            let grads = WindowGrads {
                gw_ih: sparse_x.is_none().then_some(gw_ih),
                gw_hh,
                gb_ih: None,
                gb_hh: None,
                sparse_scratch: None,
            };
            window_grads(&self.hs, &self.dgates, from, x, prm.w_ih, grads, dx);
        } else {
            self.backward_general(&prm, gpeep, mask, from, dout);
            let grads = WindowGrads {
                gw_ih: Some(gw_ih),
                gw_hh,
                gb_ih: Some(gbias),
                gb_hh: gbias_hh,
                sparse_scratch: Some(&mut self.fast.sparse_scratch),
            };
            window_grads(&self.hs, &self.dgates, from, x, prm.w_ih, grads, dx);
        }
        dstate.tensor_mut(0).assign(&self.dh);
        dstate.tensor_mut(1).assign(&self.dc);
        if from > 0 {
            dstate.fill_zero(); // the truncated window does not reach the initial state
        }
    }

    /// One step for a single example (B = 1) without the segment machinery: used by
    /// sampling. `x (I)`, state `h, c (H)` one after the other, updated in place; the
    /// step's output `h` also into `out (H)`; `z (4H)` is scratch.
    fn step_one(&self, p: &[F], x: &[F], state: &mut [F], out: &mut [F], z: &mut [F]) {
        let hid = self.hidden;
        let (h, c) = state.split_at_mut(hid);
        let prm = self.params(p);
        let rows = 4 * hid;
        let (cols_ih, cols_hh) = (prm.w_ih.ncols(), prm.w_hh.ncols());
        match (prm.w_ih.as_slice(), prm.w_hh.as_slice()) {
            (Some(w_ih), Some(w_hh))
                if pool::own_threads() >= 2 && rows * (cols_ih + cols_hh) >= SPLIT_GEMV_FROM =>
            {
                // the rows of z in two parts, on this thread and the helper
                let zp = SendF(z.as_mut_ptr() as usize);
                // one-hot input rows go through the sparse path of `kernels::gemv_acc`
                let nnz = x.iter().filter(|&&v| v != F::zero()).count();
                let x_dense = nnz * 8 > x.len();
                let hs: &[F] = h;
                pool::par_ranges(rows, 2, 16, &|r| {
                    // SAFETY: disjoint row ranges of `z`, each written by one thread
                    // while `z` is borrowed mutably here.
                    let zr = unsafe {
                        std::slice::from_raw_parts_mut((zp.0 as *mut F).add(r.start), r.len())
                    };
                    zr.copy_from_slice(&prm.bias[r.clone()]);
                    if let Some(b_hh) = prm.bias_hh {
                        zr.iter_mut()
                            .zip(&b_hh[r.clone()])
                            .for_each(|(z, &v)| *z += v);
                    }
                    let wi = &w_ih[r.start * cols_ih..r.end * cols_ih];
                    dense_gemv(wi, x, x_dense, zr);
                    let wh = &w_hh[r.start * cols_hh..r.end * cols_hh];
                    dense_gemv(wh, hs, true, zr);
                });
            }
            _ => {
                z.copy_from_slice(prm.bias);
                if let Some(b_hh) = prm.bias_hh {
                    z.iter_mut().zip(b_hh).for_each(|(z, &v)| *z += v);
                }
                kernels::gemv_acc_view(prm.w_ih, x, z);
                kernels::gemv_acc_view(prm.w_hh, h, z);
            }
        }
        if self.takes_fast_path() {
            // the training forward pass's vectorised cell
            kernels::dispatch(
                #[inline(always)]
                || cell_step(Plain, None, z, c, h),
            );
        } else {
            let acts = Acts {
                gate: self.gate,
                act: self.act,
            };
            cell_step(acts, prm.peep, z, c, h);
        }
        out.copy_from_slice(h);
    }
}

/// The weight gradients of the whole backward window in GEMMs (see
/// [`accumulate_window`]), from the kept `hs` and `dgates`.
fn window_grads<F: Float>(
    hs: &Array3<F>,
    dgates: &Array3<F>,
    from: usize,
    x: ArrayView3<F>,
    w_ih: ArrayView2<F>,
    grads: WindowGrads<F>,
    dx: Option<ArrayViewMut3<F>>,
) {
    let t_len = x.dim().0;
    let hp = hs.slice(s![..t_len, .., ..]);
    accumulate_window(from, x, hp, dgates.view(), dgates.view(), w_ih, grads, dx);
}

/// The sums [`backward_rows`] accumulates step by step, one set per half of the batch
/// (rows `0..B/2` and `B/2..B`): `parts` holds, per half, the bias gradient `(4H)` and,
/// for a sparse input `x (T * B, I)`, the transposed `W_ih` gradient `(I, 4H)`.
#[derive(Clone, Copy)]
struct RowSums<'a, F> {
    parts: pool::SharedMut<F>,
    sparse: Option<(&'a [F], usize)>,
}

/// Raw pointers to the per-step buffers of a forward pass, for [`forward_rows`]:
/// `gates (T, B, 4H)`, `hs, cs (T+1, B, H)`, `tcs, out (T, B, H)`, standard layout.
#[derive(Clone, Copy)]
struct StepBufs<F> {
    gates: *mut F,
    hs: *mut F,
    cs: *mut F,
    tcs: *mut F,
    out: *mut F,
    b: usize,
    h: usize,
}

/// Raw pointers to the buffers of a backward pass, for [`backward_rows`]: the forward
/// pass's `gates`, `cs`, `tcs` and `dout (T, B, H)` (read), `dgates (T, B, 4H)` and the
/// carried `dh, dc (B, H)` (written), standard layout.
#[derive(Clone, Copy)]
struct BackBufs<F> {
    gates: *const F,
    cs: *const F,
    tcs: *const F,
    dout: *const F,
    dgates: *mut F,
    dh: *mut F,
    dc: *mut F,
    b: usize,
    h: usize,
}

// SAFETY: shared only by the threads of one batch-split pass, each of which touches the
// rows of its own examples (see `forward_rows` / `backward_rows`).
unsafe impl<F: Send> Send for StepBufs<F> {}
unsafe impl<F: Sync> Sync for StepBufs<F> {}
unsafe impl<F: Send> Send for BackBufs<F> {}
unsafe impl<F: Sync> Sync for BackBufs<F> {}

/// `C (m, 4H or H) += A (m, K) B` for one step of the rows of a batch split: the packed
/// product (`f32`, single-threaded) when `pack` is given, else BLAS with `w = B`.
fn step_product<F: Float>(
    a: &[F],
    m: usize,
    w: ArrayView2<F>,
    pack: Option<&PackedB>,
    c: &mut [F],
) {
    let (k, n) = w.dim();
    match (pack, packed::as_f32(a)) {
        (Some(pk), Some(a32)) => {
            let c32 = packed::as_f32_mut(c).expect("same float type as a");
            packed::gemm_acc(a32, k, m, pk, c32, n, 1);
        }
        _ => {
            let a = ArrayView2::from_shape((m, k), a).expect("step rows");
            let mut c = ndarray::ArrayViewMut2::from_shape((m, n), c).expect("step rows");
            gemm(F::one(), &a, &w, F::one(), &mut c);
        }
    }
}

/// What [`forward_rows`] adds to `gates` before the recurrent product of each step: a
/// sparse (one-hot) input's projection `x_t W_ih^T` from `W_ih^T (I, 4H)` (for a dense
/// input the window GEMM has already written it), then the bias.
#[derive(Clone, Copy)]
struct StepInput<'a, F> {
    bias: &'a [F],
    /// `x (T * B, I)`, `I`, `W_ih^T`
    sparse: Option<(&'a [F], usize, &'a [F])>,
}

/// The forward recurrence of the plain LSTM for the examples `rows` over steps
/// `0..t_len`: input projection (sparse input) and bias, recurrent product, then the
/// vectorised cell update. `w_hh_t = W_hh^T (H, 4H)`; `pack` is its packed form (`f32`).
///
/// # Safety
/// `bufs` must point at live buffers of the documented shapes (with `hs[0]`, `cs[0]`
/// holding the initial state), and no other thread may access rows `rows` of them
/// during the call.
unsafe fn forward_rows<F: Float>(
    bufs: StepBufs<F>,
    input: StepInput<F>,
    w_hh_t: ArrayView2<F>,
    pack: Option<&PackedB>,
    mask: Option<ArrayView2<F>>,
    t_len: usize,
    rows: Range<usize>,
) {
    use std::slice::{from_raw_parts, from_raw_parts_mut};
    let (b, h) = (bufs.b, bufs.h);
    let (b0, m) = (rows.start, rows.len());
    for t in 0..t_len {
        let (cur, next) = ((t * b + b0) * h, ((t + 1) * b + b0) * h);
        let hp = from_raw_parts(bufs.hs.add(cur), m * h);
        let cp = from_raw_parts(bufs.cs.add(cur), m * h);
        let hn = from_raw_parts_mut(bufs.hs.add(next), m * h);
        let cn = from_raw_parts_mut(bufs.cs.add(next), m * h);
        let zs = from_raw_parts_mut(bufs.gates.add(4 * cur), m * 4 * h);
        let tc = from_raw_parts_mut(bufs.tcs.add(cur), m * h);
        let o_out = from_raw_parts_mut(bufs.out.add(cur), m * h);
        kernels::dispatch(
            #[inline(always)]
            || {
                for (i, z) in zs.chunks_exact_mut(4 * h).enumerate() {
                    if let Some((xs, i_len, w_t)) = input.sparse {
                        let r = (t * b + b0 + i) * i_len;
                        sparse_row_into(&xs[r..r + i_len], w_t, z);
                    }
                    z.iter_mut().zip(input.bias).for_each(|(z, &bb)| *z += bb);
                }
            },
        );
        step_product(hp, m, w_hh_t, pack, zs);
        kernels::dispatch(
            #[inline(always)]
            || {
                for i in 0..m {
                    let r = i * h..(i + 1) * h;
                    if mask_at(mask, t, b0 + i) == F::zero() {
                        // masked step: state passes through, output is zero
                        hn[r.clone()].copy_from_slice(&hp[r.clone()]);
                        cn[r.clone()].copy_from_slice(&cp[r.clone()]);
                        o_out[r].iter_mut().for_each(|v| *v = F::zero());
                        continue;
                    }
                    cell_forward(
                        Plain,
                        None,
                        &mut zs[i * 4 * h..(i + 1) * 4 * h],
                        &cp[r.clone()],
                        &mut cn[r.clone()],
                        &mut tc[r.clone()],
                        &mut hn[r.clone()],
                        &mut o_out[r],
                    );
                }
            },
        );
    }
}

/// The backward recurrence of the plain LSTM for the examples `rows` over `steps` (in
/// reverse): the vectorised cell backward into `dgates`, the step's [`RowSums`], then
/// `dh += dz W_hh` with `w_hh (4H, H)` (`pack` its packed form for `f32`).
///
/// # Safety
/// As [`forward_rows`], for [`BackBufs`].
unsafe fn backward_rows<F: Float>(
    bufs: BackBufs<F>,
    sums: RowSums<F>,
    w_hh: ArrayView2<F>,
    pack: Option<&PackedB>,
    mask: Option<ArrayView2<F>>,
    steps: Range<usize>,
    rows: Range<usize>,
) {
    use std::slice::{from_raw_parts, from_raw_parts_mut};
    let (b, h) = (bufs.b, bufs.h);
    let (b0, m) = (rows.start, rows.len());
    if m == 0 {
        return;
    }
    let dh = from_raw_parts_mut(bufs.dh.add(b0 * h), m * h);
    let dc = from_raw_parts_mut(bufs.dc.add(b0 * h), m * h);
    // this half's sums (the second half starts at B/2 > 0)
    let g4 = 4 * h;
    let part_len = g4 * (1 + sums.sparse.map_or(0, |(_, i_len)| i_len));
    let part = sums.parts.slice(usize::from(b0 > 0) * part_len, part_len);
    let (gbias, gw_t) = part.split_at_mut(g4);
    for t in steps.rev() {
        let cur = (t * b + b0) * h;
        let zs = from_raw_parts(bufs.gates.add(4 * cur), m * 4 * h);
        let cp = from_raw_parts(bufs.cs.add(cur), m * h);
        let tc = from_raw_parts(bufs.tcs.add(cur), m * h);
        let dos = from_raw_parts(bufs.dout.add(cur), m * h);
        let dzs = from_raw_parts_mut(bufs.dgates.add(4 * cur), m * 4 * h);
        kernels::dispatch(
            #[inline(always)]
            || {
                for i in 0..m {
                    let dz = &mut dzs[i * 4 * h..(i + 1) * 4 * h];
                    if mask_at(mask, t, b0 + i) == F::zero() {
                        // masked step: gradients pass straight to the previous state
                        dz.iter_mut().for_each(|v| *v = F::zero());
                        continue;
                    }
                    let r = i * h..(i + 1) * h;
                    cell_backward(
                        Plain,
                        None,
                        &zs[i * 4 * h..(i + 1) * 4 * h],
                        &cp[r.clone()],
                        &tc[r.clone()],
                        &dos[r.clone()],
                        &mut dh[r.clone()],
                        &mut dc[r],
                        dz,
                    );
                }
                for (i, dz) in dzs.chunks_exact(g4).enumerate() {
                    gbias.iter_mut().zip(dz).for_each(|(g, &d)| *g += d);
                    if let Some((xs, i_len)) = sums.sparse {
                        let r = (t * b + b0 + i) * i_len;
                        for (j, &v) in xs[r..r + i_len].iter().enumerate() {
                            if v != F::zero() {
                                let row = &mut gw_t[j * g4..(j + 1) * g4];
                                row.iter_mut().zip(dz).for_each(|(g, &d)| *g += v * d);
                            }
                        }
                    }
                }
            },
        );
        // d h_{t-1} = dz_t W_hh; masked rows have dz = 0 and keep the carried gradient
        step_product(dzs, m, w_hh, pack, dh);
    }
}

/// What varies between LSTM cells: the gate and the cell activations. [`Plain`] is
/// PyTorch's cell (sigmoid gates, tanh), the vectorised fast path; [`Acts`] any pair
/// (hard sigmoid, softsign, ...). The cell below is written once, generic over this.
trait CellActs<F: Float>: Copy {
    /// Gate activation of the i, f, o pre-activations.
    fn gate(self, x: F) -> F;
    /// Its derivative, from its output `y`.
    fn gate_d(self, y: F) -> F;
    /// Activation of the candidate `g` and of the cell output.
    fn act(self, x: F) -> F;
    /// Its derivative, from its output `y`.
    fn act_d(self, y: F) -> F;
}

/// Sigmoid gates and tanh activations through the hot-loop functions
/// ([`Float::fast_sigmoid`], [`Float::fast_tanh`]).
#[derive(Clone, Copy)]
struct Plain;

impl<F: Float> CellActs<F> for Plain {
    #[inline(always)]
    fn gate(self, x: F) -> F {
        x.fast_sigmoid()
    }
    #[inline(always)]
    fn gate_d(self, y: F) -> F {
        y * (F::one() - y)
    }
    #[inline(always)]
    fn act(self, x: F) -> F {
        x.fast_tanh()
    }
    #[inline(always)]
    fn act_d(self, y: F) -> F {
        F::one() - y * y
    }
}

/// Any gate and cell activation ([`Activation::apply`],
/// [`Activation::derivative_from_output`]).
#[derive(Clone, Copy)]
struct Acts {
    gate: Activation,
    act: Activation,
}

impl<F: Float> CellActs<F> for Acts {
    #[inline(always)]
    fn gate(self, x: F) -> F {
        self.gate.apply(x)
    }
    #[inline(always)]
    fn gate_d(self, y: F) -> F {
        self.gate.derivative_from_output(y)
    }
    #[inline(always)]
    fn act(self, x: F) -> F {
        self.act.apply(x)
    }
    #[inline(always)]
    fn act_d(self, y: F) -> F {
        self.act.derivative_from_output(y)
    }
}

/// The LSTM cell for one unit, forward: from the pre-activations `zi, zf, zg, zo`, the
/// previous cell `c0` and the unit's peepholes `[p_i, p_f, p_o]`, returns the activated
/// gates and the new cell and its activation: `[i, f, g, o, c1, act(c1)]`.
///
/// ```text
/// i = gate(zi + p_i c0)   f = gate(zf + p_f c0)   g = act(zg)
/// c1 = f c0 + i g         o = gate(zo + p_o c1)   h = o act(c1)
/// ```
#[inline(always)]
fn cell_unit<F: Float, A: CellActs<F>>(
    a: A,
    [zi, zf, zg, zo]: [F; 4],
    c0: F,
    peep: Option<[F; 3]>,
) -> [F; 6] {
    let (mut ai, mut af, mut ao) = (zi, zf, zo);
    if let Some([pi, pf, _]) = peep {
        ai += pi * c0;
        af += pf * c0;
    }
    let ig = a.gate(ai);
    let fg = a.gate(af);
    let gg = a.act(zg);
    let c1 = fg * c0 + ig * gg;
    if let Some([_, _, po]) = peep {
        ao += po * c1;
    }
    let og = a.gate(ao);
    [ig, fg, gg, og, c1, a.act(c1)]
}

/// The LSTM cell for one unit, backward through [`cell_unit`]: from the activated gates
/// `[i, f, g, o]`, `c0`, `tc = act(c1)`, d loss / d h `dh` and the carried d loss / d c1
/// `dc`, with the peepholes and `c1`. Returns d loss / d pre-activations `[dzi, dzf, dzg,
/// dzo]`, d loss / d c0, and the peephole gradients `[dp_i, dp_f, dp_o]` (0 without).
#[inline(always)]
fn cell_unit_backward<F: Float, A: CellActs<F>>(
    a: A,
    [ig, fg, gg, og]: [F; 4],
    c0: F,
    tc: F,
    dh: F,
    dc: F,
    peep: Option<([F; 3], F)>,
) -> ([F; 4], F, [F; 3]) {
    // backprop through h = o * act(c1)
    let d_o = dh * tc;
    let mut dcn = dc + dh * og * a.act_d(tc);
    let dzo = d_o * a.gate_d(og);
    let mut dp = [F::zero(); 3];
    if let Some(([_, _, po], c1)) = peep {
        dcn += dzo * po;
        dp[2] = dzo * c1;
    }
    // backprop through c1 = f * c0 + i * g
    let dzi = dcn * gg * a.gate_d(ig);
    let dzf = dcn * c0 * a.gate_d(fg);
    let dzg = dcn * ig * a.act_d(gg);
    let mut dcp = dcn * fg;
    if let Some(([pi, pf, _], _)) = peep {
        dcp += dzi * pi + dzf * pf;
        dp[0] = dzi * c0;
        dp[1] = dzf * c0;
    }
    ([dzi, dzf, dzg, dzo], dcp, dp)
}

/// [`cell_unit`] over one example's `H` units. `z (4H)` holds the pre-activations
/// `i, f, g, o` and receives the activated gates; `c0 (H)` is the previous cell; `peep
/// (3H)` the peepholes `p_i, p_f, p_o`. Writes the new cell `c1`, `tc = act(c1)`, and
/// `h = o * tc` into both `h` and `out`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn cell_forward<F: Float, A: CellActs<F>>(
    a: A,
    peep: Option<&[F]>,
    z: &mut [F],
    c0: &[F],
    c1: &mut [F],
    tc: &mut [F],
    h: &mut [F],
    out: &mut [F],
) {
    let n = c0.len();
    let (zi, rest) = z.split_at_mut(n);
    let (zf, rest) = rest.split_at_mut(n);
    let (zg, zo) = rest.split_at_mut(n);
    let (zo, c1, tc, h, out) = (
        &mut zo[..n],
        &mut c1[..n],
        &mut tc[..n],
        &mut h[..n],
        &mut out[..n],
    );
    for j in 0..n {
        let p = peep.map(|pp| [pp[j], pp[n + j], pp[2 * n + j]]);
        let [ig, fg, gg, og, c, tcv] = cell_unit(a, [zi[j], zf[j], zg[j], zo[j]], c0[j], p);
        let hv = og * tcv;
        zi[j] = ig;
        zf[j] = fg;
        zg[j] = gg;
        zo[j] = og;
        c1[j] = c;
        tc[j] = tcv;
        h[j] = hv;
        out[j] = hv;
    }
}

/// [`cell_unit`] for one sampling step: pre-activations `z (4H)`, the cell `c (H)` and
/// hidden state `h (H)` updated in place.
#[inline(always)]
fn cell_step<F: Float, A: CellActs<F>>(
    a: A,
    peep: Option<&[F]>,
    z: &[F],
    c: &mut [F],
    h: &mut [F],
) {
    let n = c.len();
    let (zi, rest) = z.split_at(n);
    let (zf, rest) = rest.split_at(n);
    let (zg, zo) = rest.split_at(n);
    let (zo, h) = (&zo[..n], &mut h[..n]);
    for j in 0..n {
        let p = peep.map(|pp| [pp[j], pp[n + j], pp[2 * n + j]]);
        let [_, _, _, og, cv, tcv] = cell_unit(a, [zi[j], zf[j], zg[j], zo[j]], c[j], p);
        c[j] = cv;
        h[j] = og * tcv;
    }
}

/// One example's peepholes for [`cell_backward`]: the weights `p (3H)`, the new cell
/// `c1 (H)` of the step, and the gradient `g (3H)` accumulated into.
struct Peep<'a, F> {
    p: &'a [F],
    c1: &'a [F],
    g: &'a mut [F],
}

/// Backward through [`cell_forward`] for one example: from the activated gates `z (4H)`,
/// the previous cell `c0`, `tc = act(c_t)` and d loss / d output `dout`, with the
/// carried `dh`, `dc` (H). Writes d loss / d pre-activations into `dz (4H)`, d loss /
/// d c_{t-1} into `dc`, zeroes `dh` (the recurrent GEMM refills it) and adds the
/// peephole gradients.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn cell_backward<F: Float, A: CellActs<F>>(
    a: A,
    mut peep: Option<Peep<F>>,
    z: &[F],
    c0: &[F],
    tc: &[F],
    dout: &[F],
    dh: &mut [F],
    dc: &mut [F],
    dz: &mut [F],
) {
    let n = c0.len();
    let (zi, rest) = z.split_at(n);
    let (zf, rest) = rest.split_at(n);
    let (zg, zo) = rest.split_at(n);
    let (dzi, rest) = dz.split_at_mut(n);
    let (dzf, rest) = rest.split_at_mut(n);
    let (dzg, dzo) = rest.split_at_mut(n);
    let (zo, tc, dout, dh, dc, dzo) = (
        &zo[..n],
        &tc[..n],
        &dout[..n],
        &mut dh[..n],
        &mut dc[..n],
        &mut dzo[..n],
    );
    for j in 0..n {
        let dhn = dout[j] + dh[j];
        dh[j] = F::zero();
        let p = peep
            .as_ref()
            .map(|pp| ([pp.p[j], pp.p[n + j], pp.p[2 * n + j]], pp.c1[j]));
        let gates = [zi[j], zf[j], zg[j], zo[j]];
        let ([di, df, dg, d_o], dcp, dp) =
            cell_unit_backward(a, gates, c0[j], tc[j], dhn, dc[j], p);
        if let Some(pp) = peep.as_mut() {
            pp.g[2 * n + j] += dp[2];
            pp.g[j] += dp[0];
            pp.g[n + j] += dp[1];
        }
        dc[j] = dcp;
        dzi[j] = di;
        dzf[j] = df;
        dzg[j] = dg;
        dzo[j] = d_o;
    }
}

/// Single-example steps whose weight matrices hold at least this many values split
/// their GEMV rows over own threads ([`pool::set_own_threads`]).
const SPLIT_GEMV_FROM: usize = 1 << 17;

#[derive(Clone, Copy)]
struct SendF(usize);

/// `y += W x` for a row-major `w`: the packed AVX-512 GEMV for dense `f32` input, else
/// [`kernels::gemv_acc`].
fn dense_gemv<F: Float>(w: &[F], x: &[F], dense: bool, y: &mut [F]) {
    if dense {
        if let (Some(w32), Some(x32)) = (packed::as_f32(w), packed::as_f32(x)) {
            let y32 = packed::as_f32_mut(y).expect("f32");
            if packed::gemv_acc_f32(w32, x32, y32).is_some() {
                return;
            }
        }
    }
    kernels::gemv_acc(w, x, y);
}
