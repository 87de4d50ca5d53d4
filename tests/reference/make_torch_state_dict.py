#!/usr/bin/env python3
"""Generate the PyTorch-named state_dict fixture for tests/torch_names.rs.

A module as people write it, `self.lstm = nn.LSTM(3, 4, num_layers=2)` and
`self.head = nn.Linear(4, 5)`, with seeded random weights, saved exactly as
`model.state_dict()` names it (`lstm.weight_ih_l0`, ..., `head.weight`, `head.bias`),
plus torch's softmax outputs for a fixed input:

    tests/fixtures/torch_state_dict.safetensors   F32, PyTorch's own names
    tests/fixtures/torch_state_dict.json          {"input": [T*B*I], "input_shape": [T, B, I],
                                                   "softmax": [T*B*O], "softmax_shape": [T, B, O]}

Time-major input (T=5, B=2, I=3), zero initial state. Regenerate (from the crate root):

    /tmp/torchenv/bin/python tests/reference/make_torch_state_dict.py
"""
import json

import torch
from safetensors.torch import save_file


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(3, 4, num_layers=2)
        self.head = torch.nn.Linear(4, 5)

    def forward(self, x):
        return torch.softmax(self.head(self.lstm(x)[0]), dim=-1)


torch.manual_seed(20261129)
net = Net()
x = torch.linspace(-1.0, 1.0, 5 * 2 * 3).reshape(5, 2, 3).sin()
with torch.no_grad():
    probs = net(x)
save_file({k: v.detach().contiguous().float() for k, v in net.state_dict().items()},
          "tests/fixtures/torch_state_dict.safetensors")
with open("tests/fixtures/torch_state_dict.json", "w") as f:
    json.dump({
        "names": list(net.state_dict().keys()),
        "input": x.flatten().tolist(),
        "input_shape": list(x.shape),
        "softmax": probs.flatten().tolist(),
        "softmax_shape": list(probs.shape),
    }, f, indent=1)
    f.write("\n")
