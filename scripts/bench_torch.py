#!/usr/bin/env python3
"""Throughput of the notebook's MNIST RNN in PyTorch on the CPU.

The model is the reference recipe: nn.RNN(28, 128, batch_first=True) (tanh,
one layer; --cell lstm or gru for nn.LSTM / nn.GRU), its last hidden state
into nn.Linear(128, 10), cross-entropy, Adam with lr 1e-3, batch 64.
--threads sets torch's intra-op threads, --blas-threads OpenBLAS's own pool
(default: the same number). Data are random (shape and scale of normalised MNIST),
so only compute is measured: no DataLoader, no transforms.

Prints one JSON line per measurement:
  {"what": "train", "samples_per_s": ...}  forward + backward + Adam step
  {"what": "eval", "samples_per_s": ...}   forward only, under torch.no_grad()
Each figure is the median of --runs timed runs of --steps batches, after
--warmup untimed batches. samples_per_s uses wall time; cpu_samples_per_s
uses the process's CPU time, which stays meaningful on a machine shared with
other jobs (with one thread the two agree on an idle machine).

Install and run (Debian):
  apt-get install -y python3-torch python3-torchvision libopenblas0-pthread
  /usr/bin/python3 scripts/bench_torch.py
"""

import argparse
import json
import os
import statistics
import time


def make_model(nn, cell="rnn", input_size=28, hidden=128, classes=10):
    layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]

    class RNNModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = layer(input_size, hidden, batch_first=True)
            self.fc = nn.Linear(hidden, classes)

        def forward(self, x):
            out, _ = self.rnn(x)  # h0 defaults to zeros
            return self.fc(out[:, -1, :])

    return RNNModel()


def timed_runs(step, steps, runs, warmup, batch):
    for _ in range(warmup):
        step()
    rates, cpu_rates = [], []
    for _ in range(runs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        dt = time.perf_counter() - t0
        dc = time.process_time() - c0
        rates.append(steps * batch / dt)
        cpu_rates.append(steps * batch / dc)
    return statistics.median(rates), rates, statistics.median(cpu_rates)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=50, help="batches per timed run")
    ap.add_argument("--runs", type=int, default=7, help="timed runs (median reported)")
    ap.add_argument("--warmup", type=int, default=20, help="untimed batches first")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    ap.add_argument("--blas-threads", type=int, default=0, help="OPENBLAS_NUM_THREADS (0: as --threads)")
    ap.add_argument("--cell", choices=["rnn", "lstm", "gru"], default="rnn")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    # OpenBLAS keeps its own thread pool: pin it too (before torch loads it)
    # so that "one thread" holds for every kernel.
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.blas_threads or args.threads)
    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = make_model(nn, args.cell)
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    # Normalised MNIST pixels lie in [-1, 1].
    x = torch.rand(args.batch, 28, 28) * 2 - 1
    y = torch.randint(0, 10, (args.batch,))

    def train_step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    def eval_step():
        with torch.no_grad():
            model(x)

    common = {
        "batch": args.batch,
        "threads": args.threads,
        "blas_threads": args.blas_threads or args.threads,
        "cell": args.cell,
        "torch": torch.__version__,
    }
    model.train()
    med, rates, cpu = timed_runs(train_step, args.steps, args.runs, args.warmup, args.batch)
    print(json.dumps({"what": "train", "samples_per_s": round(med), "cpu_samples_per_s": round(cpu), "runs": [round(r) for r in rates], **common}), flush=True)
    model.eval()
    med, rates, cpu = timed_runs(eval_step, args.steps, args.runs, args.warmup, args.batch)
    print(json.dumps({"what": "eval", "samples_per_s": round(med), "cpu_samples_per_s": round(cpu), "runs": [round(r) for r in rates], **common}), flush=True)


if __name__ == "__main__":
    main()
