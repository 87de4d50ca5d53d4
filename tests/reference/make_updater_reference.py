"""PyTorch reference for seqlab's updaters: three steps from fixed parameters with fixed
gradients, printed as Rust literals for tests/updaters.rs.
usage: python tests/reference/make_updater_reference.py"""
import torch

# optimizer scalars (step, NAdam mu_product) follow the default dtype: keep them in float64
torch.set_default_dtype(torch.float64)

P0 = [1.0, -2.0, 0.5, 0.0]
GRADS = [[0.5, -0.3, 0.1, 0.0], [0.2, 0.4, -0.6, 1e-3], [-0.7, 0.05, 0.3, -0.2]]
OPTS = [
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.1)),
    ("momentum", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    ("nesterov", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    ("adam", lambda p: torch.optim.Adam(p, lr=0.01)),
    ("adamw", lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1)),
    ("amsgrad", lambda p: torch.optim.Adam(p, lr=0.01, amsgrad=True)),
    ("adamax", lambda p: torch.optim.Adamax(p, lr=0.01)),
    ("nadam", lambda p: torch.optim.NAdam(p, lr=0.01)),
    ("rmsprop", lambda p: torch.optim.RMSprop(p, lr=0.01)),
    ("adagrad", lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.01)),
    ("adadelta", lambda p: torch.optim.Adadelta(p, lr=1.0)),
]
print(f"// torch {torch.__version__}")
for name, make in OPTS:
    p = torch.tensor(P0, dtype=torch.float64, requires_grad=True)
    opt = make([p])
    steps = []
    for g in GRADS:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        steps.append([repr(v) for v in p.detach().tolist()])
    rows = ", ".join("[" + ", ".join(s) + "]" for s in steps)
    print(f'("{name}", [{rows}]),')
