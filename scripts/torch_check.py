#!/usr/bin/env python3
"""Load an mnist-tui checkpoint into the notebook's PyTorch Net and test it.

The checkpoint is a safetensors file holding PyTorch's state_dict for the
notebook's model (nn.RNN, nn.LSTM or nn.GRU(28, 128, batch_first=True), its
last hidden state into nn.Linear(128, 10)), plus the optimizer's moments under
"optimizer." names, which the model does not take. The safetensors package is
not in Debian, so this script reads the file itself with json and struct,
checking it the way the reference reader does: header length bounds, JSON
without duplicate keys, dtype F32, shapes, data_offsets contiguous, in range
and non-overlapping, no trailing bytes, finite values.

It then loads the weights with load_state_dict(strict=True), evaluates the
MNIST test set (read from t10k-images-idx3-ubyte.gz and
t10k-labels-idx1-ubyte.gz with gzip and struct, pixels normalised to
(p/255 - 0.5)/0.5 as the notebook does), and prints its accuracy next to the
one mnist-tui stored in the file's metadata. It evaluates the first
test_samples digits, as many as mnist-tui tested (--limit), unless told
otherwise. Exit status: 0 if the two agree to within --tolerance, 1 if not,
2 if the file is unusable.

Run (Debian; python3-torch is packaged):
  /usr/bin/python3 scripts/torch_check.py model.safetensors [--data mnist/data]
"""

import argparse
import gzip
import json
import math
import os
import struct
import sys

MAX_HEADER = 100_000_000  # the reference implementation's limit
MODEL_KEYS = [
    "rnn.weight_ih_l0",
    "rnn.weight_hh_l0",
    "rnn.bias_ih_l0",
    "rnn.bias_hh_l0",
    "fc.weight",
    "fc.bias",
]


class BadFile(Exception):
    """The checkpoint is not a valid safetensors file for the model."""


def _no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise BadFile(f"duplicate key {k!r} in the header")
        d[k] = v
    return d


def read_safetensors(path):
    """Returns (tensors, metadata): name -> (shape, bytes), str -> str."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            raise BadFile(f"{size} bytes, shorter than the 8-byte header length")
        (n,) = struct.unpack("<Q", raw)
        if n == 0 or n > MAX_HEADER or 8 + n > size:
            raise BadFile(f"header length {n} is out of bounds for a {size}-byte file")
        try:
            header = json.loads(f.read(n).decode("utf-8"), object_pairs_hook=_no_duplicates)
        except (UnicodeDecodeError, ValueError) as e:
            raise BadFile(f"header is not valid JSON: {e}") from None
        if not isinstance(header, dict):
            raise BadFile("header is not a JSON object")
        meta = header.pop("__metadata__", None) or {}
        if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
            raise BadFile("__metadata__ is not a map of strings to strings")
        buf_len = size - 8 - n
        entries = []
        for name, e in header.items():
            if not isinstance(e, dict) or set(e) != {"dtype", "shape", "data_offsets"}:
                raise BadFile(f"tensor {name!r}: malformed entry")
            if e["dtype"] != "F32":
                raise BadFile(f"tensor {name!r}: dtype {e['dtype']!r}, only F32 is expected")
            shape, offs = e["shape"], e["data_offsets"]
            if not isinstance(shape, list) or not all(type(v) is int and v >= 0 for v in shape):
                raise BadFile(f"tensor {name!r}: invalid shape {shape!r}")
            if (not isinstance(offs, list) or len(offs) != 2
                    or not all(type(v) is int and v >= 0 for v in offs) or offs[0] > offs[1]):
                raise BadFile(f"tensor {name!r}: invalid data_offsets {offs!r}")
            if offs[1] > buf_len:
                raise BadFile(f"tensor {name!r}: data_offsets {offs} beyond the {buf_len}-byte buffer")
            if offs[1] - offs[0] != 4 * math.prod(shape):
                raise BadFile(f"tensor {name!r}: {offs[1] - offs[0]} bytes for shape {shape}")
            entries.append((offs[0], offs[1], name, shape))
        entries.sort()
        pos = 0
        for b, e, name, _ in entries:
            if b != pos:
                raise BadFile(f"tensor {name!r}: data starts at {b}, want {pos} (gap or overlap)")
            pos = e
        if pos != buf_len:
            raise BadFile(f"{buf_len - pos} trailing bytes after the last tensor")
        data = f.read(buf_len)
        if len(data) != buf_len:
            raise BadFile("file shrank while being read")
    tensors = {name: (shape, data[b:e]) for b, e, name, shape in entries}
    return tensors, meta


def to_tensor(torch, name, shape, raw):
    t = torch.frombuffer(bytearray(raw), dtype=torch.float32)
    if sys.byteorder != "little":
        t = t.view(torch.int32).byteswap().view(torch.float32)  # pragma: no cover
    t = t.reshape(shape)
    if not bool(torch.isfinite(t).all()):
        raise BadFile(f"tensor {name!r} holds NaN or infinite values")
    return t


def read_idx(path, magic, dims):
    with gzip.open(path, "rb") as f:
        data = f.read()
    got = struct.unpack(">I", data[:4])[0]
    if got != magic:
        raise ValueError(f"{path}: magic {got:#x}, want {magic:#x}")
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    body = data[4 + 4 * dims:]
    if len(body) != math.prod(shape):
        raise ValueError(f"{path}: {len(body)} bytes for shape {shape}")
    return shape, body


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--data", default=os.path.join(here, "..", "mnist", "data"),
                    help="directory with t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz")
    ap.add_argument("--limit", type=int, default=0,
                    help="test digits to use (default: the metadata's test_samples, else all)")
    ap.add_argument("--tolerance", type=float, default=0.001)
    args = ap.parse_args()

    try:
        tensors, meta = read_safetensors(args.checkpoint)
    except (OSError, BadFile) as e:
        print(f"torch_check: {args.checkpoint}: {e}", file=sys.stderr)
        return 2

    import torch
    from torch import nn

    torch.set_num_threads(1)
    missing = [k for k in MODEL_KEYS if k not in tensors]
    if missing:
        print(f"torch_check: {args.checkpoint}: no tensor {missing[0]}", file=sys.stderr)
        return 2
    hidden = tensors["rnn.weight_hh_l0"][0][1]
    inputs = tensors["rnn.weight_ih_l0"][0][1]
    classes = tensors["fc.weight"][0][0]
    gates = tensors["rnn.weight_hh_l0"][0][0] // max(hidden, 1)
    cell = meta.get("cell", {1: "rnn", 3: "gru", 4: "lstm"}.get(gates, "?"))
    layers = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
    if cell not in layers:
        print(f"torch_check: {args.checkpoint}: unknown cell {cell!r}", file=sys.stderr)
        return 2

    class Net(nn.Module):
        """The notebook's model, with the recurrent layer of the cell."""

        def __init__(self):
            super().__init__()
            self.rnn = layers[cell](inputs, hidden, batch_first=True)
            self.fc = nn.Linear(hidden, classes)

        def forward(self, x):
            out, _ = self.rnn(x)  # h0 (and c0) default to zeros
            return self.fc(out[:, -1, :])

    model = Net()
    try:
        state = {k: to_tensor(torch, k, *tensors[k]) for k in MODEL_KEYS}
        model.load_state_dict(state, strict=True)
    except (BadFile, RuntimeError) as e:
        print(f"torch_check: {args.checkpoint}: {e}", file=sys.stderr)
        return 2
    model.eval()

    (n_img, rows, cols), pixels = read_idx(os.path.join(args.data, "t10k-images-idx3-ubyte.gz"), 2051, 3)
    (n_lab,), labels = read_idx(os.path.join(args.data, "t10k-labels-idx1-ubyte.gz"), 2049, 1)
    if n_img != n_lab or rows * cols != inputs * int(meta.get("steps", rows)):
        print("torch_check: test images and labels do not fit the model", file=sys.stderr)
        return 2
    n = args.limit or int(meta.get("test_samples", n_img))
    n = min(n, n_img)
    x = torch.frombuffer(bytearray(pixels[: n * rows * cols]), dtype=torch.uint8).to(torch.float32)
    x = ((x / 255 - 0.5) / 0.5).reshape(n, rows * cols // inputs, inputs)
    y = torch.frombuffer(bytearray(labels[:n]), dtype=torch.uint8).to(torch.int64)
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, n, 1000):
            logits = model(x[i:i + 1000])
            loss += float(nn.functional.cross_entropy(logits, y[i:i + 1000], reduction="sum"))
            correct += int((logits.argmax(1) == y[i:i + 1000]).sum())
    acc = correct / n
    print(f"cell {cell}, {n} test digits")
    print(f"pytorch   test Loss: {loss / n:.4f} Acc: {acc:.4f}")
    if "test_acc" not in meta:
        print("mnist-tui test accuracy: not in the file's metadata")
        return 0
    theirs = float(meta["test_acc"])
    print(f"mnist-tui test Loss: {float(meta.get('test_loss', 'nan')):.4f} Acc: {theirs:.4f}")
    diff = abs(acc - theirs)
    ok = diff <= args.tolerance
    print(f"difference {diff:.4f}: {'agree' if ok else 'DISAGREE'} (tolerance {args.tolerance})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
