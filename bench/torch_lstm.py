"""PyTorch CPU reference for seqlab's four reference LSTM workloads.

The workloads are the ones `seqlab bench` trains (`src/bench.rs`, `WORKLOADS`; the table
is in docs/performance.md): character-level next-step prediction on random one-hot
input, an LSTM stack and a linear head, the same definitions on both sides.
`seqlab bench --compare` runs this script with 1 and 2 threads, alternating with seqlab,
and prints the ratios against PyTorch's better setting.

usage: python bench/torch_lstm.py CONFIG [--iters N] [--threads K] [--samples M]
CONFIG: tiny | small | medium | large
Needs torch (e.g. python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch).

Prints one JSON line:
  {"config":..., "threads":..., "train_tokens_per_s":..., "sample_chars_per_s":...}

Training step = forward over (seq, batch) one-hot input, softmax cross-entropy (mean over
all steps), backward, global-norm clip 5.0, Adam(lr=2e-3). Sampling = stateful one step at
a time, batch 1, multinomial draw from the softmax.
"""
import argparse, json, time

import torch
import torch.nn as nn

# name: (vocab, layers, hidden, seq_len, batch); keep in step with src/bench.rs WORKLOADS
CONFIGS = {
    "tiny": (23, 3, 100, 101, 1),     # the 3x100 LSTM on one 101-char sentence, one example per step
    "small": (65, 2, 128, 64, 32),
    "medium": (65, 2, 256, 100, 32),
    "large": (65, 1, 512, 100, 64),
}


class CharLstm(nn.Module):
    def __init__(self, vocab, layers, hidden):
        super().__init__()
        self.lstm = nn.LSTM(vocab, hidden, num_layers=layers)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        h, state = self.lstm(x, state)
        return self.out(h), state


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("config", choices=sorted(CONFIGS))
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--samples", type=int, default=2000)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    vocab, layers, hidden, seq, batch = CONFIGS[args.config]
    torch.manual_seed(0)
    model = CharLstm(vocab, layers, hidden)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    idx = torch.randint(0, vocab, (seq + 1, batch))
    x = nn.functional.one_hot(idx[:-1], vocab).float()
    y = idx[1:]

    def step():
        opt.zero_grad()
        logits, _ = model(x)
        loss = loss_fn(logits.reshape(-1, vocab), y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()

    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(args.iters):
        step()
    train_tps = args.iters * seq * batch / (time.perf_counter() - t0)

    with torch.no_grad():
        inp = torch.zeros(1, 1, vocab)
        inp[0, 0, 0] = 1
        state = None
        t0 = time.perf_counter()
        for _ in range(args.samples):
            logits, state = model(inp, state)
            c = torch.multinomial(torch.softmax(logits[0, 0], -1), 1).item()
            inp = torch.zeros(1, 1, vocab)
            inp[0, 0, c] = 1
        sample_cps = args.samples / (time.perf_counter() - t0)

    print(json.dumps({"config": args.config, "threads": args.threads,
                      "train_tokens_per_s": round(train_tps), "sample_chars_per_s": round(sample_cps)}))


if __name__ == "__main__":
    main()
