#!/usr/bin/env python3
"""Write the tiny PyTorch checkpoints engine's tests load (engine/testdata/torch).

For each case, the notebook's Net (nn.RNN, nn.LSTM or nn.GRU(28, 4,
batch_first=True), its last hidden state into nn.Linear(4, 10)) is built with
a fixed seed, a few edge values are put into fc.bias, and its state_dict is
converted to half (F16), bfloat16 (BF16) or double (F64) precision and
written as a safetensors file. The tensor bytes are PyTorch's own memory of
those tensors; the header is laid out as the reference safetensors writer
lays it out (tensors sorted by dtype size, then name, back to back; JSON
padded with spaces to a multiple of 8 bytes). The safetensors package is not
in Debian, so this script writes the format itself.

Beside each file it writes NAME.f32.safetensors: a float32 Net after
load_state_dict(converted state_dict), that is, the values PyTorch itself
gets when it loads the reduced-precision file into float32 parameters. The
Go test loads both and wants them equal, bit for bit.

One more file, unexpected-i64.safetensors, holds an RNN's F32 state_dict
plus a BatchNorm's num_batches_tracked (an I64 tensor) as
"bn.num_batches_tracked": mnist-tui must name it as unexpected, not refuse
its dtype.

Run (Debian: apt-get install -y python3-torch libopenblas0-pthread):
  /usr/bin/python3 scripts/torch_fixtures.py engine/testdata/torch
"""

import json
import os
import struct
import sys

import torch
from torch import nn

HIDDEN = 4


class Net(nn.Module):
    """The notebook's model, with any of the three cells."""

    def __init__(self, cell):
        super().__init__()
        rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn(28, HIDDEN, batch_first=True)
        self.fc = nn.Linear(HIDDEN, 10)


DTYPES = {
    torch.float16: ("F16", torch.int16),
    torch.bfloat16: ("BF16", torch.int16),
    torch.float32: ("F32", None),
    torch.float64: ("F64", None),
    torch.int64: ("I64", None),
}


def raw(t):
    """The tensor's bytes, little-endian, row-major, as PyTorch holds them."""
    t = t.detach().contiguous().cpu()
    name, view = DTYPES[t.dtype]
    if view is not None:
        t = t.view(view)  # numpy has no bfloat16: reinterpret the bits
    return name, t.numpy().tobytes()


def write(path, tensors):
    """Writes name -> tensor as a safetensors file."""
    entries = []
    for name, t in tensors.items():
        dtype, data = raw(t)
        entries.append((-t.element_size(), name, dtype, list(t.shape), data))
    entries.sort()
    header, blob, offset = {}, b"", 0
    for _, name, dtype, shape, data in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blob += data
        offset += len(data)
    js = json.dumps(header, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)) + js + blob)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "engine/testdata/torch"
    os.makedirs(out, exist_ok=True)
    cases = [("rnn", torch.float16), ("lstm", torch.bfloat16), ("gru", torch.float64)]
    for i, (cell, dtype) in enumerate(cases):
        torch.manual_seed(i)
        net = Net(cell)
        with torch.no_grad():
            # Edge values: a half subnormal, the largest half, a negative
            # zero, a value that rounds differently in each precision.
            net.fc.bias[:4] = torch.tensor([1e-6, 65504.0, -0.0, 0.1])
        state = {k: v.to(dtype) for k, v in net.state_dict().items()}
        name = f"{cell}-{DTYPES[dtype][0].lower()}"
        write(os.path.join(out, name + ".safetensors"), state)
        ref = Net(cell)
        ref.load_state_dict(state, strict=True)  # converts to float32
        write(os.path.join(out, name + ".f32.safetensors"), ref.state_dict())
    torch.manual_seed(9)
    net = Net("rnn")
    state = dict(net.state_dict())
    state["bn.num_batches_tracked"] = nn.BatchNorm1d(HIDDEN).state_dict()["num_batches_tracked"]
    write(os.path.join(out, "unexpected-i64.safetensors"), state)


if __name__ == "__main__":
    main()
