//! `seqlab export --torch`: a network as a PyTorch `state_dict` in PyTorch's own module
//! names (safetensors) plus a small runnable Python module that builds the same network
//! and loads it.
//!
//! The module file needs only `torch` (it reads the safetensors file itself); its
//! `SeqlabNet` takes time-major input `(T, B, I)` and returns seqlab's predictions
//! (softmax / identity / sigmoid of the output layer; only the last step for a
//! last-step output layer), for unpadded input.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::error::ExperimentError;
use super::io::write_atomic;
use super::weights::{save_weights, Metadata};
use crate::nn::network::{NamedTensor, Network};
use crate::nn::torch_names::{torch_module, torch_name, TorchModule};
use crate::nn::{Loss, OutputMode};

/// The file names written into the export folder.
pub const STATE_DICT: &str = "state_dict.safetensors";
pub const MODULE: &str = "model.py";

/// Writes `dir/state_dict.safetensors` (PyTorch names, `metadata` kept) and
/// `dir/model.py` for `net`; returns the two paths. `source` (the run folder) is quoted
/// in the module's docstring. Errors: a network PyTorch has no modules for (peepholes,
/// hard-sigmoid gates), or a file that cannot be written.
pub fn export_torch(
    net: &Network<f32>,
    metadata: &Metadata,
    source: &Path,
    dir: &Path,
) -> Result<(PathBuf, PathBuf), ExperimentError> {
    let config = net.config();
    let module = torch_module(config).map_err(|problem| {
        ExperimentError::weights(
            source,
            None,
            format!(
                "cannot be exported for PyTorch: {problem} (the run's weights.safetensors \
                 keeps every tensor under seqlab's names)"
            ),
        )
    })?;
    let n_hidden = config.layers.len();
    let tensors: Vec<NamedTensor<f32>> = net
        .torch_tensors()
        .into_iter()
        .map(|t| NamedTensor {
            name: torch_name(&module, n_hidden, &t.name),
            ..t
        })
        .collect();
    std::fs::create_dir_all(dir).map_err(|e| ExperimentError::io("create", dir, e))?;
    let state = dir.join(STATE_DICT);
    save_weights(&state, &tensors, metadata)?;
    let py = dir.join(MODULE);
    write_atomic(&py, module_source(net, &module, source).as_bytes())?;
    Ok((state, py))
}

/// The Python source of `model.py`.
fn module_source(net: &Network<f32>, module: &TorchModule, source: &Path) -> String {
    let c = net.config();
    let top = c.layers.last().map_or(c.input_size, |l| l.size);
    let o = c.output.size;
    let mut init = String::new();
    let mut forward = String::new();
    match module {
        TorchModule::Stack {
            class,
            nonlinearity,
            hidden,
            layers,
        } => {
            let nl = nonlinearity
                .map(|n| format!(", nonlinearity=\"{n}\""))
                .unwrap_or_default();
            let _ = writeln!(
                init,
                "        self.rnn = nn.{class}({}, {hidden}, num_layers={layers}{nl})",
                c.input_size
            );
            let _ = writeln!(forward, "        x, _ = self.rnn(x)");
        }
        TorchModule::List(list) => {
            let _ = writeln!(init, "        self.layers = nn.ModuleList([");
            for l in list {
                let args = match (l.class, l.activation.as_str()) {
                    ("RNN", a) => format!("{}, {}, nonlinearity=\"{a}\"", l.input, l.size),
                    _ => format!("{}, {}", l.input, l.size),
                };
                let _ = writeln!(init, "            nn.{}({args}),", l.class);
            }
            let _ = writeln!(init, "        ])");
            for (k, l) in list.iter().enumerate() {
                if l.class == "Linear" {
                    let _ = writeln!(
                        forward,
                        "        x = activation(self.layers[{k}](x), \"{}\")",
                        l.activation
                    );
                } else {
                    let _ = writeln!(forward, "        x, _ = self.layers[{k}](x)");
                }
            }
        }
    }
    let _ = writeln!(init, "        self.head = nn.Linear({top}, {o})");
    let _ = writeln!(forward, "        x = self.head(x)");
    if c.output.mode == OutputMode::LastStep {
        let _ = writeln!(forward, "        x = x[-1:]  # last-step output: (1, B, O)");
    }
    let out = match c.output.loss {
        Loss::SoftmaxCrossEntropy => "torch.softmax(x, dim=-1)",
        Loss::Mse => "x",
        Loss::SigmoidBinaryCrossEntropy => "torch.sigmoid(x)",
    };
    let _ = writeln!(forward, "        return {out}");
    format!(
        r#""""PyTorch module of the seqlab run {source}, written by `seqlab export --torch`.

`SeqlabNet` builds the same network with PyTorch's own modules; `load()` reads
{state} (this folder) into it. Input is time-major (T, B, {input}) float32, as seqlab
feeds it (one-hot characters for text models; CSV features after the run's
normalisation, kept in the file's metadata); the output is seqlab's predictions
({out_doc}).

    python {module}                      # builds, loads and runs one zero input
    from model import load; net = load(); y = net(x)
"""
import json
import os
import struct
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))


def read_safetensors(path):
    """(tensors, metadata) of a safetensors file of F32 tensors, with torch alone."""
    with open(path, "rb") as fh:
        n = struct.unpack("<Q", fh.read(8))[0]
        header = json.loads(fh.read(n))
        data = fh.read()
    tensors = {{}}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", (name, info["dtype"])
        a, b = info["data_offsets"]
        if a == b:
            tensors[name] = torch.zeros(info["shape"])
        else:
            flat = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32)
            tensors[name] = flat.reshape(info["shape"])
    return tensors, header.get("__metadata__", {{}})


def activation(x, name):
    if name == "identity":
        return x
    if name == "tanh":
        return torch.tanh(x)
    if name == "sigmoid":
        return torch.sigmoid(x)
    if name == "hard_sigmoid":
        return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)
    if name == "relu":
        return torch.relu(x)
    if name == "softsign":
        return x / (1 + x.abs())
    if name.startswith("leaky_relu:"):
        return torch.nn.functional.leaky_relu(x, float(name.split(":")[1]))
    raise ValueError(name)


class SeqlabNet(nn.Module):
    def __init__(self):
        super().__init__()
{init}
    def forward(self, x):
{forward}

def load(path=os.path.join(HERE, "{state}")):
    net = SeqlabNet()
    tensors, _ = read_safetensors(path)
    net.load_state_dict(tensors)  # strict: every name and shape must match
    return net.eval()


if __name__ == "__main__":
    net = load()
    with torch.no_grad():
        y = net(torch.zeros(1, 1, {input}))
    print(f"SeqlabNet loaded from {state}: {{sum(p.numel() for p in net.parameters())}} parameters; output {{tuple(y.shape)}}")
"#,
        source = source.display(),
        state = STATE_DICT,
        module = MODULE,
        input = c.input_size,
        out_doc = match c.output.loss {
            Loss::SoftmaxCrossEntropy => "softmax probabilities",
            Loss::Mse => "the identity output",
            Loss::SigmoidBinaryCrossEntropy => "sigmoid probabilities",
        },
    )
}
