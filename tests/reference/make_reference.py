#!/usr/bin/env python3
"""Generate PyTorch reference values for seqlab's recurrent layers.

Writes tests/reference/data.rs (plain Rust, no dependencies), meant to be
included from a Rust test with

    #[rustfmt::skip]
    #[path = "reference/data.rs"]
    mod data;

Everything is deterministic: there is no randomness anywhere. Every weight,
input, initial state, probe and target comes from a closed-form formula over
`arange` (see `fill`), with a different phase per tensor. All computation is
float64 on the CPU.

Regenerate (from the crate root):

    /tmp/torchenv/bin/python tests/reference/make_reference.py

Conventions (PyTorch's own):
  * tensors are time-major: input (T, B, I), output (T, B, H or O),
    h0/c0/h_n/c_n (num_layers, B, H); all data is row-major flattened.
  * parameters are written exactly as torch stores them (LSTM gates i,f,g,o;
    GRU gates r,z,n; weight_ih (G*H, in), weight_hh (G*H, H), bias_ih, bias_hh),
    renamed `weight_ih_l{k}` -> `layers.{k}.weight_ih` etc.; the Linear head of
    the *_linear_* cases is `layers.{num_layers}.weight` (O, H) / `.bias` (O).
  * plain layer cases: loss = sum(output*R) + sum(h_n*Rh) [+ sum(c_n*Rc)].
  * head cases: Linear applied at every time step to the top layer's output,
    zero initial state, mean-reduced CrossEntropyLoss (over all T*B positions),
    MSELoss or BCEWithLogitsLoss.
"""

import math
import os
import sys

import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data.rs")

_phase_counter = [0]


def fill(shape, scale=0.5, freq=0.37, offset=0.0):
    """scale*cos(freq*k + c) + offset over k = arange(numel), reshaped.

    The phase c is different for every tensor created (a global counter,
    advanced deterministically in creation order)."""
    n = math.prod(shape)
    c = 0.3 + 1.7 * _phase_counter[0]
    _phase_counter[0] += 1
    k = torch.arange(n, dtype=torch.float64)
    return (scale * torch.cos(freq * k + c) + offset).reshape(shape)


# ---------------------------------------------------------------- formatting


def lit(x):
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"non-finite value {x!r}")
    s = repr(x)  # shortest string that round-trips exactly to the same f64
    if "e" in s:
        mant, exp = s.split("e")
        if "." not in mant:
            mant += ".0"
        s = mant + "e" + exp
    elif "." not in s:
        s += ".0"
    # sanity: must round-trip
    assert float(s) == x, (s, x)
    return s


PER_LINE = 6


def tensor_rs(name, t, indent):
    t = t.detach().to(torch.float64).contiguous()
    shape = ", ".join(str(d) for d in t.shape)
    vals = [lit(v) for v in t.reshape(-1).tolist()]
    pad = " " * (indent + 4)
    lines = []
    for i in range(0, len(vals), PER_LINE):
        lines.append(pad + ", ".join(vals[i:i + PER_LINE]) + ",")
    body = "\n".join(lines)
    close = " " * indent
    return (f'Tensor {{ name: "{name}", shape: &[{shape}], data: &[\n'
            f"{body}\n{close}] }}")


def opt_tensor_rs(name, t, indent):
    if t is None:
        return "None"
    return "Some(" + tensor_rs(name, t, indent) + ")"


def tensor_list_rs(items, indent):
    pad = " " * (indent + 4)
    parts = [pad + tensor_rs(n, t, indent + 4) + ",\n" for n, t in items]
    return "&[\n" + "".join(parts) + " " * indent + "]"


# ---------------------------------------------------------------- models


def our_name(torch_name, num_layers):
    """weight_ih_l0 -> layers.0.weight_ih; head weight -> layers.{L}.weight."""
    if torch_name.startswith("head."):
        return f"layers.{num_layers}.{torch_name[len('head.'):]}"
    assert torch_name.startswith("rnn."), torch_name
    base = torch_name[len("rnn."):]
    stem, layer = base.rsplit("_l", 1)
    assert layer.isdigit(), torch_name
    return f"layers.{layer}.{stem}"


def init_params(module, scale):
    """Overwrite every parameter deterministically, in named_parameters order."""
    with torch.no_grad():
        for _, p in module.named_parameters():
            p.copy_(fill(tuple(p.shape), scale=scale))


def make_recurrent(kind, I, H, L):
    if kind == "lstm":
        return nn.LSTM(I, H, num_layers=L)
    if kind == "gru":
        return nn.GRU(I, H, num_layers=L)
    if kind == "rnn_tanh":
        return nn.RNN(I, H, num_layers=L, nonlinearity="tanh")
    if kind == "rnn_relu":
        return nn.RNN(I, H, num_layers=L, nonlinearity="relu")
    raise ValueError(kind)


def relu_min_abs_preactivation(rnn, x, h0):
    """Smallest |W_ih x + b_ih + W_hh h + b_hh| over the whole single-layer sequence."""
    assert rnn.num_layers == 1
    W, U = rnn.weight_ih_l0, rnn.weight_hh_l0
    b = rnn.bias_ih_l0 + rnn.bias_hh_l0
    h = h0[0]
    m = float("inf")
    with torch.no_grad():
        for t in range(x.shape[0]):
            a = x[t] @ W.T + h @ U.T + b
            m = min(m, float(a.abs().min()))
            h = torch.relu(a)
    return m


class Case:
    pass


def plain_case(kind, I, H, T, B, name=None, wscale=0.5):
    L = 1
    rnn = make_recurrent(kind, I, H, L)
    init_params(rnn, wscale)
    is_lstm = kind == "lstm"

    x = fill((T, B, I), scale=1.0, freq=0.53).requires_grad_(True)
    h0 = fill((L, B, H), scale=0.4, freq=0.71).requires_grad_(True)
    c0 = fill((L, B, H), scale=0.6, freq=0.29).requires_grad_(True) if is_lstm else None

    if kind == "rnn_relu":
        m = relu_min_abs_preactivation(rnn, x.detach(), h0.detach())
        print(f"  {kind}: min |pre-activation| = {m:.4f}", file=sys.stderr)
        assert m > 0.02, "relu pre-activation too close to 0; change the phases"

    if is_lstm:
        out, (h_n, c_n) = rnn(x, (h0, c0))
    else:
        out, h_n = rnn(x, h0)
        c_n = None

    R = fill(tuple(out.shape), scale=1.0, freq=0.43)
    Rh = fill(tuple(h_n.shape), scale=1.0, freq=0.61)
    Rc = fill(tuple(c_n.shape), scale=1.0, freq=0.19) if is_lstm else None
    loss = (out * R).sum() + (h_n * Rh).sum()
    if is_lstm:
        loss = loss + (c_n * Rc).sum()

    names = [n for n, _ in rnn.named_parameters()]
    params = [p for _, p in rnn.named_parameters()]
    leaves = params + [x, h0] + ([c0] if is_lstm else [])
    g = torch.autograd.grad(loss, leaves)

    cs = Case()
    cs.name = name or f"{kind}_i{I}_h{H}_t{T}_b{B}"
    cs.kind = kind
    cs.I, cs.H, cs.L, cs.O, cs.T, cs.B = I, H, L, 0, T, B
    cs.params = [(our_name("rnn." + n, L), p) for n, p in zip(names, params)]
    cs.input = x
    cs.h0, cs.c0 = h0, c0
    cs.output, cs.h_n, cs.c_n = out, h_n, c_n
    cs.targets = None
    cs.probe, cs.probe_h, cs.probe_c = R, Rh, Rc
    cs.loss = float(loss.detach())
    cs.grads = [(our_name("rnn." + n, L), gg) for n, gg in zip(names, g[:len(params)])]
    cs.grad_input = g[len(params)]
    cs.grad_h0 = g[len(params) + 1]
    cs.grad_c0 = g[len(params) + 2] if is_lstm else None
    return cs


class RnnHead(nn.Module):
    def __init__(self, I, H, O, L):
        super().__init__()
        self.rnn = nn.LSTM(I, H, num_layers=L)
        self.head = nn.Linear(H, O)

    def forward(self, x):
        out, (h_n, c_n) = self.rnn(x)  # zero initial state
        return self.head(out), h_n, c_n


def bce_targets(T, B, O):
    pattern = [0.0, 1.0, 1.0, 0.0, 0.7, 1.0, 0.0, 0.0, 1.0, 0.3, 0.0, 1.0, 0.3]
    n = T * B * O
    vals = [pattern[(5 * k + k // 7) % len(pattern)] for k in range(n)]
    return torch.tensor(vals, dtype=torch.float64).reshape(T, B, O)


def head_case(kind, I, H, O, T, B, L=1):
    model = RnnHead(I, H, O, L)
    init_params(model, 0.5)
    x = fill((T, B, I), scale=1.0, freq=0.53).requires_grad_(True)
    logits, h_n, c_n = model(x)

    if kind in ("lstm_linear_ce", "lstm2_linear_ce"):
        cls = torch.tensor([(3 * t + 2 * b + t * b + 1) % O
                            for t in range(T) for b in range(B)], dtype=torch.long)
        loss = nn.CrossEntropyLoss()(logits.reshape(T * B, O), cls)
        targets = cls.to(torch.float64).reshape(T, B)
    elif kind == "lstm_linear_mse":
        targets = fill((T, B, O), scale=0.8, freq=0.47)
        loss = nn.MSELoss()(logits, targets)
    elif kind == "lstm_linear_bce":
        targets = bce_targets(T, B, O)
        loss = nn.BCEWithLogitsLoss()(logits, targets)
    else:
        raise ValueError(kind)

    names = [n for n, _ in model.named_parameters()]
    params = [p for _, p in model.named_parameters()]
    g = torch.autograd.grad(loss, params + [x])

    cs = Case()
    cs.name = f"{kind}_i{I}_h{H}_o{O}_t{T}_b{B}"
    cs.kind = kind
    cs.I, cs.H, cs.L, cs.O, cs.T, cs.B = I, H, L, O, T, B
    cs.params = [(our_name(n, L), p) for n, p in zip(names, params)]
    cs.input = x
    cs.h0 = cs.c0 = None
    cs.output, cs.h_n, cs.c_n = logits, h_n, c_n
    cs.targets = targets
    cs.probe = cs.probe_h = cs.probe_c = None
    cs.loss = float(loss.detach())
    cs.grads = [(our_name(n, L), gg) for n, gg in zip(names, g[:len(params)])]
    cs.grad_input = g[len(params)]
    cs.grad_h0 = cs.grad_c0 = None
    return cs


# ---------------------------------------------------------------- output


HEADER_TYPES = """\
pub struct Tensor { pub name: &'static str, pub shape: &'static [usize], pub data: &'static [f64] }
pub struct Case {
    pub name: &'static str,
    pub kind: &'static str,
    pub input_size: usize, pub hidden_size: usize, pub num_layers: usize, pub output_size: usize,
    pub steps: usize, pub batch: usize,
    pub params: &'static [Tensor],
    pub input: Tensor,
    pub h0: Option<Tensor>,
    pub c0: Option<Tensor>,
    pub output: Tensor,
    pub h_n: Option<Tensor>, pub c_n: Option<Tensor>,
    pub targets: Option<Tensor>,
    pub probe: Option<Tensor>,
    pub probe_h: Option<Tensor>, pub probe_c: Option<Tensor>,
    pub loss: f64,
    pub grads: &'static [Tensor],
    pub grad_input: Tensor,
    pub grad_h0: Option<Tensor>, pub grad_c0: Option<Tensor>,
}
"""


def case_rs(cs):
    i = 8
    f = []
    f.append(f'        name: "{cs.name}",')
    f.append(f'        kind: "{cs.kind}",')
    f.append(f"        input_size: {cs.I}, hidden_size: {cs.H}, num_layers: {cs.L}, "
             f"output_size: {cs.O},")
    f.append(f"        steps: {cs.T}, batch: {cs.B},")
    f.append(f"        params: {tensor_list_rs(cs.params, i)},")
    f.append(f"        input: {tensor_rs('input', cs.input, i)},")
    f.append(f"        h0: {opt_tensor_rs('h0', cs.h0, i)},")
    f.append(f"        c0: {opt_tensor_rs('c0', cs.c0, i)},")
    f.append(f"        output: {tensor_rs('output', cs.output, i)},")
    f.append(f"        h_n: {opt_tensor_rs('h_n', cs.h_n, i)},")
    f.append(f"        c_n: {opt_tensor_rs('c_n', cs.c_n, i)},")
    f.append(f"        targets: {opt_tensor_rs('targets', cs.targets, i)},")
    f.append(f"        probe: {opt_tensor_rs('probe', cs.probe, i)},")
    f.append(f"        probe_h: {opt_tensor_rs('probe_h', cs.probe_h, i)},")
    f.append(f"        probe_c: {opt_tensor_rs('probe_c', cs.probe_c, i)},")
    f.append(f"        loss: {lit(cs.loss)},")
    f.append(f"        grads: {tensor_list_rs(cs.grads, i)},")
    f.append(f"        grad_input: {tensor_rs('grad_input', cs.grad_input, i)},")
    f.append(f"        grad_h0: {opt_tensor_rs('grad_h0', cs.grad_h0, i)},")
    f.append(f"        grad_c0: {opt_tensor_rs('grad_c0', cs.grad_c0, i)},")
    return "    Case {\n" + "\n".join(f) + "\n    },\n"


def main():
    torch.set_grad_enabled(True)
    I, H, O, T, B = 3, 4, 5, 5, 2
    cases = [
        plain_case("lstm", I, H, T, B),
        plain_case("gru", I, H, T, B),
        plain_case("rnn_tanh", I, H, T, B),
        plain_case("rnn_relu", I, H, T, B),
        head_case("lstm_linear_ce", I, H, O, T, B),
        head_case("lstm_linear_mse", I, H, O, T, B),
        head_case("lstm_linear_bce", I, H, O, T, B),
        head_case("lstm2_linear_ce", I, H, O, T, B, L=2),
        # larger case to catch layout bugs (H=13: not a multiple of 4, I != H)
        plain_case("lstm", 7, 13, 12, 3, wscale=0.3),
    ]
    names = [c.name for c in cases]
    assert len(set(names)) == len(names), names

    ver = torch.__version__
    base_ver = ver.split("+")[0]
    out = []
    out.append(f"// @generated by tests/reference/make_reference.py (torch {base_ver}) -- do not edit\n")
    out.append(f"// torch {ver}, python {sys.version.split()[0]}, float64 CPU.\n")
    out.append("// Regenerate from the crate root: "
               "/tmp/torchenv/bin/python tests/reference/make_reference.py\n")
    out.append("// Layout: PyTorch's own (LSTM gates i,f,g,o; GRU r,z,n); tensors time-major, "
               "row-major flattened.\n")
    out.append("#![allow(dead_code)]\n")
    out.append("#![allow(clippy::all)]\n\n")
    out.append(HEADER_TYPES)
    out.append("\npub const CASES: &[Case] = &[\n")
    for cs in cases:
        out.append(case_rs(cs))
    out.append("];\n")
    text = "".join(out)
    with open(OUT, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    print(f"wrote {OUT}: {len(cases)} cases, {len(text.encode())} bytes", file=sys.stderr)
    for cs in cases:
        print(f"  {cs.name:40s} loss={cs.loss!r}", file=sys.stderr)


if __name__ == "__main__":
    main()
