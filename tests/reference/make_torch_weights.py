#!/usr/bin/env python3
"""Generate the safetensors fixture for tests/weights.rs.

A torch.nn.LSTM(3, 4) and a torch.nn.Linear(4, 5) with seeded random weights, saved
under seqlab's names (PyTorch's, with `_l0` dropped and the Linear head as the next
layer), plus torch's softmax outputs for a fixed input:

    tests/fixtures/torch_lstm.safetensors   layers.0.weight_ih (16, 3), layers.0.weight_hh
                                            (16, 4), layers.0.bias_ih (16),
                                            layers.0.bias_hh (16), layers.1.weight (5, 4),
                                            layers.1.bias (5); F32
    tests/fixtures/torch_lstm.json          {"input": [T*B*I], "input_shape": [T, B, I],
                                             "softmax": [T*B*O], "softmax_shape": [T, B, O]}

Time-major input (T=6, B=2, I=3), zero initial state, softmax over the Linear output
at every step. Regenerate (from the crate root):

    /tmp/torchenv/bin/python tests/reference/make_torch_weights.py
"""
import json

import torch
from safetensors.torch import save_file

torch.manual_seed(20240601)
lstm = torch.nn.LSTM(3, 4)
head = torch.nn.Linear(4, 5)

x = torch.linspace(-1.0, 1.0, 6 * 2 * 3).reshape(6, 2, 3).cos()
with torch.no_grad():
    h, _ = lstm(x)
    probs = torch.softmax(head(h), dim=-1)

tensors = {
    "layers.0.weight_ih": lstm.weight_ih_l0,
    "layers.0.weight_hh": lstm.weight_hh_l0,
    "layers.0.bias_ih": lstm.bias_ih_l0,
    "layers.0.bias_hh": lstm.bias_hh_l0,
    "layers.1.weight": head.weight,
    "layers.1.bias": head.bias,
}
save_file({k: v.detach().contiguous().float() for k, v in tensors.items()},
          "tests/fixtures/torch_lstm.safetensors", metadata={"source": "torch"})
with open("tests/fixtures/torch_lstm.json", "w") as f:
    json.dump({
        "input": x.flatten().tolist(),
        "input_shape": list(x.shape),
        "softmax": probs.flatten().tolist(),
        "softmax_shape": list(probs.shape),
    }, f, indent=1)
    f.write("\n")
