#!/usr/bin/env python3
"""The reference PyTorch notebook's MNIST RNN pipeline, printed like mnist-tui --headless.

This is the notebook's recipe, kept faithful so that its output can be put
side by side with `mnist-tui --headless`:

  data      torchvision.datasets.MNIST with
            transforms.Compose([ToTensor(), Normalize((0.5,), (0.5,))]),
            the 60,000 training images split 40,000/20,000 by random_split
            with torch.Generator().manual_seed(seed), the 10,000 test images
            kept apart; DataLoader batch 64 (train shuffled, val/test not)
  model     nn.RNN(28, 128, batch_first=True) (tanh, one layer, h0 = 0), its
            last hidden state into nn.Linear(128, 10); input [B, 28, 28]
  training  CrossEntropyLoss, Adam lr 0.001, torch.manual_seed(seed),
            torch.set_num_threads(1) unless --threads says otherwise (and
            OPENBLAS_NUM_THREADS the same, unless already set)
  schedule  epoch 1 only validates the untrained net; each later epoch
            trains, then validates; then the test set

Epoch loss and accuracy are per-sample averages: the sum of loss * batch size
over the phase divided by its number of samples, and correct / samples.

Output (stdout) has the same lines as mnist-tui --headless:

  Epoch 1/3
  ----------
  val Loss: 2.3192 Acc: 0.1300

  Epoch 2/3
  ----------
  train Loss: ... Acc: ...
  val Loss: ... Acc: ...

  test Loss: ... Acc: ...

and --metrics FILE writes the same JSON lines as mnist-tui's --metrics, one
per finished phase, with the phase's wall time and throughput (the whole
pipeline: DataLoader, transforms, model):

  {"epoch":2,"phase":"train","loss":0.93,"acc":0.69,"seconds":13.9,"samples_per_s":2886}
  {"phase":"test","loss":...,"acc":...,"seconds":...,"samples_per_s":...}

The data are the repository's own gzipped IDX files (mnist/data, found next
to this script; --data to point elsewhere), so nothing is downloaded:
torchvision 0.14's MNIST looks for the decompressed files in <root>/MNIST/raw,
so they are checked against torchvision's MD5 sums and decompressed with
torchvision's extract_archive into a temporary root, then loaded with
download=False. Without torchvision, a small Dataset reads the IDX files with
gzip and numpy and applies the same two transforms by hand.

Install and run (Debian):
  apt-get install -y python3-torch python3-torchvision libopenblas0-pthread
  /usr/bin/python3 scripts/notebook.py [--epochs 3] [--seed 0] [--limit N]
      [--threads 1] [--metrics FILE]
"""

import argparse
import gzip
import math
import os
import sys
import tempfile
import time


def _pin_openblas():
    """Sets OPENBLAS_NUM_THREADS to --threads unless the environment sets it.

    OpenBLAS keeps its own thread pool, which torch.set_num_threads does not
    size; it reads the variable when torch loads it, so before the import.
    """
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--threads", default="1")
    args, _ = p.parse_known_args()
    if args.threads.isdigit() and int(args.threads) >= 1:  # main's parser reports bad values
        os.environ.setdefault("OPENBLAS_NUM_THREADS", args.threads)


if __name__ == "__main__":
    _pin_openblas()

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, Dataset, Subset, random_split  # noqa: E402

BATCH = 64
TRAIN_SIZE = 40_000  # of MNIST's 60,000 training images; the rest validate
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
DEFAULT_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "mnist", "data")


class DataError(Exception):
    """The MNIST files are missing or unusable."""


class Net(nn.Module):
    """The notebook's model: an RNN reading 28 rows of 28 pixels, then a linear layer."""

    def __init__(self, input_size=28, hidden=128, classes=10):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x):
        out, _ = self.rnn(x)  # h0 defaults to zeros
        return self.fc(out[:, -1, :])


# --- data -------------------------------------------------------------------


def check_files(data_dir):
    for names in FILES.values():
        for name in names:
            path = os.path.join(data_dir, name)
            if not os.path.isfile(path):
                raise DataError(f"{path}: not found (--data names the directory holding the four MNIST .gz files)")


def torchvision_sets(data_dir, root):
    """MNIST train and test sets through torchvision, offline.

    torchvision 0.14's MNIST(download=False) only checks that <root>/MNIST/raw
    holds the four decompressed IDX files, then parses them into memory, so
    root may be deleted once both sets are built.
    """
    from torchvision import datasets, transforms
    from torchvision.datasets.utils import check_integrity, extract_archive

    raw = os.path.join(root, "MNIST", "raw")
    os.makedirs(raw)
    md5 = dict(datasets.MNIST.resources)
    for names in FILES.values():
        for name in names:
            src = os.path.abspath(os.path.join(data_dir, name))
            if name in md5 and not check_integrity(src, md5[name]):
                raise DataError(f"{src}: MD5 differs from torchvision's {md5[name]}")
            link = os.path.join(raw, name)
            os.symlink(src, link)
            extract_archive(link, raw)
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    train = datasets.MNIST(root, train=True, download=False, transform=tf)
    test = datasets.MNIST(root, train=False, download=False, transform=tf)
    return train, test


def read_idx(path, magic, dims):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    header = 4 * (1 + len(dims))
    if len(raw) < header:
        raise DataError(f"{path}: {len(raw)} bytes, shorter than the IDX header")
    fields = np.frombuffer(raw, dtype=">u4", count=1 + len(dims))
    if fields[0] != magic:
        raise DataError(f"{path}: magic {fields[0]:#x}, want {magic:#x}")
    shape = [int(n) for n in fields[1:]]
    if shape[1:] != dims[1:]:
        raise DataError(f"{path}: shape {shape}, want [N, {', '.join(map(str, dims[1:]))}]")
    want = header + int(np.prod(shape))
    if len(raw) != want:
        raise DataError(f"{path}: {len(raw)} bytes, want {want}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


class IDXSet(Dataset):
    """MNIST read with gzip and numpy; ToTensor and Normalize((0.5,), (0.5,)) by hand."""

    def __init__(self, images_path, labels_path):
        self.data = torch.from_numpy(read_idx(images_path, 0x803, [0, 28, 28]).copy())
        self.targets = torch.from_numpy(read_idx(labels_path, 0x801, [0]).astype(np.int64))
        if len(self.data) != len(self.targets):
            raise DataError(f"{images_path}: {len(self.data)} images but {len(self.targets)} labels")

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        # The same operations as ToTensor (byte -> float / 255, [1, 28, 28])
        # followed by Normalize (sub mean, div std).
        img = self.data[i].unsqueeze(0).float().div(255).sub(0.5).div(0.5)
        return img, int(self.targets[i])


def load_sets(data_dir):
    check_files(data_dir)
    try:
        import torchvision  # noqa: F401
    except ImportError:
        print("notebook: torchvision not installed (apt-get install -y python3-torchvision); "
              "reading the IDX files directly", file=sys.stderr)
        return tuple(IDXSet(*(os.path.join(data_dir, n) for n in FILES[k])) for k in ("train", "test"))
    with tempfile.TemporaryDirectory(prefix="notebook-mnist-") as root:
        return torchvision_sets(data_dir, root)


def limited(ds, n):
    """At most n samples of ds, the first ones (as mnist-tui's --limit)."""
    if n <= 0 or n >= len(ds):
        return ds
    return Subset(ds, range(n))


# --- output -----------------------------------------------------------------


def go_round(v, digits):
    """Rounds like Go's math.Round(v*10^d)/10^d (half away from zero), as mnist-tui does."""
    s = 10.0**digits
    x = v * s
    return math.copysign(math.floor(abs(x) + 0.5), x) / s


def json_number(v):
    """A float as Go's encoding/json writes it: no trailing ".0"."""
    if not math.isfinite(v):
        return "null"  # Go would fail; mnist-tui never reports NaN phases
    if v == int(v) and abs(v) < 1e21:
        return str(int(v))
    return repr(v)


def metric_line(epoch, phase, loss, acc, seconds, rate):
    fields = []
    if epoch:
        fields.append(f'"epoch":{epoch}')
    fields += [
        f'"phase":"{phase}"',
        f'"loss":{json_number(go_round(loss, 4))}',
        f'"acc":{json_number(go_round(acc, 4))}',
        f'"seconds":{json_number(go_round(seconds, 2))}',
        f'"samples_per_s":{json_number(go_round(rate, 0))}',
    ]
    return "{" + ",".join(fields) + "}\n"


# --- training ---------------------------------------------------------------


def run_phase(model, loader, loss_fn, opt=None):
    """One pass over loader; trains if opt is given. Returns (loss, acc, n, seconds)."""
    train = opt is not None
    model.train(train)
    total_loss, correct, n = 0.0, 0, 0
    t0 = time.perf_counter()
    with torch.set_grad_enabled(train):
        for images, labels in loader:
            x = images.reshape(-1, 28, 28)
            if train:
                opt.zero_grad()
            out = model(x)
            loss = loss_fn(out, labels)
            if train:
                loss.backward()
                opt.step()
            total_loss += loss.item() * x.size(0)
            correct += (out.argmax(1) == labels).sum().item()
            n += x.size(0)
    seconds = time.perf_counter() - t0
    if n == 0:
        return float("nan"), float("nan"), 0, seconds
    return total_loss / n, correct / n, n, seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0, help="seed of the split, the init and the shuffles")
    ap.add_argument("--epochs", type=int, default=3, help="epochs of the schedule (epoch 1 only validates; 0 only tests)")
    ap.add_argument("--limit", type=int, default=0, metavar="N",
                    help="use at most N digits of each of train, validation and test (0: all)")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    ap.add_argument("--metrics", metavar="FILE", help="write one JSON line per finished phase to FILE")
    ap.add_argument("--data", default=DEFAULT_DATA, help="directory of the four MNIST .gz files")
    args = ap.parse_args()
    if args.epochs < 0:
        ap.error(f"--epochs {args.epochs}: must be 0 or more")
    if args.limit < 0:
        ap.error(f"--limit {args.limit}: must be 0 (all) or positive")
    if 0 < args.limit < BATCH:
        ap.error(f"--limit {args.limit}: smaller than one batch ({BATCH})")
    if args.threads < 1:
        ap.error(f"--threads {args.threads}: must be 1 or more")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    try:
        metrics = open(args.metrics, "w") if args.metrics else None
    except OSError as e:
        print(f"notebook: --metrics: {e}", file=sys.stderr)
        return 2

    try:
        full_train, test_set = load_sets(os.path.normpath(args.data))
    except (DataError, OSError, RuntimeError) as e:
        print(f"notebook: data: {e}", file=sys.stderr)
        if metrics:
            metrics.close()
        return 2
    n_train = len(full_train) * 2 // 3  # 40,000 of 60,000
    train_set, val_set = random_split(full_train, [n_train, len(full_train) - n_train],
                                      generator=torch.Generator().manual_seed(args.seed))
    loaders = {
        "train": DataLoader(limited(train_set, args.limit), batch_size=BATCH, shuffle=True),
        "val": DataLoader(limited(val_set, args.limit), batch_size=BATCH, shuffle=False),
        "test": DataLoader(limited(test_set, args.limit), batch_size=BATCH, shuffle=False),
    }

    model = Net()
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=0.001)

    try:
        def phase(epoch, name):
            loss, acc, n, seconds = run_phase(model, loaders[name], loss_fn, opt if name == "train" else None)
            print(f"{name} Loss: {loss:.4f} Acc: {acc:.4f}", flush=True)
            if metrics:
                rate = n / seconds if seconds > 0 else 0.0
                metrics.write(metric_line(epoch, name, loss, acc, seconds, rate))
                metrics.flush()

        for epoch in range(1, args.epochs + 1):
            print(f"Epoch {epoch}/{args.epochs}\n{'-' * 10}", flush=True)
            if epoch > 1:
                phase(epoch, "train")
            phase(epoch, "val")
            print(flush=True)
        phase(0, "test")
    finally:
        if metrics:
            metrics.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
