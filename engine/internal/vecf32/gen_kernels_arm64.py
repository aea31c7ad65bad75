#!/usr/bin/env python3
"""Writes kernel_arm64.s, the NEON (ASIMD) kernels (run: GOARCH=arm64 go generate).

The element-wise kernels (Tanh, TanhGrad, Add, AddTo) walk their slices in
blocks of 4 vectors (16 float32), then one vector (4) at a time, then finish
the last 1..3 elements by loading them into the lanes of one zeroed vector
and storing those lanes back, so no scalar code is needed and nothing outside
the slices is touched. Lengths are taken from the first slice; the Go
wrappers check that all slices have the same length.

Registers of the element-wise kernels: a vector's values of role r (an
input, a temporary, the result) live in V(4r+v) for the block's vector v, so
one VLD1/VST1 of four consecutive registers moves a whole block of a slice.
The constants sit in V16 and up, loaded once.

The gate kernels (LSTMCell, LSTMCellGrad, GRUCell, GRUCellGrad) do a time
step's whole element-wise work in one pass, with the tanh inlined: two
vectors (8 float32) per iteration, whose instruction streams are interleaved
(vector 0 in V0..V7, vector 1 in V8..V15, so the two dependency chains of
the long tanh overlap even on an in-order core), then one vector, then the
last 1..3 elements one at a time in lane 0 (FMOVS loads zero the other
lanes). All 16 constants (tanh's, 1 and 0.5) live in V16..V31. Every
product and sum is its own rounded instruction, in the order of the Go
reference code (gate.go): the bodies are gen_kernels.py's (gate_lstm and
the others, shared with the amd64 kernels), run on this file's Gate.

Tanh rounds exactly like the scalar Tanh32: a separate FMUL and FADD for
every step of the polynomials (never FMLA), an IEEE FDIV, FMAX/FMIN for the
clamp (both return NaN for a NaN, as the scalar comparisons leave it), and
FACGT |tiny| > |x| to pick x itself for tiny inputs (false for NaN). The
constants come from gen_kernels.py (the amd64 generator), which spells them
as Tanh32 does.

Dot is a reduction: four accumulators of FMLAs over blocks of 16, then one
vector at a time, then lane 0 for the last 1..3, summed pairwise at the end
(its rounding is its own, as the amd64 kernels').

The Go assembler lacks most floating-point vector instructions (FADD, FMUL,
FDIV, FMAX, FACGT, ...), so they are all emitted as WORDs (encodings below,
checked with go tool objdump), each with the instruction in a comment.
"""

import sys

sys.dont_write_bytecode = True
from gen_kernels import CLAMP, GATES, P, Q, TINY, f32bits  # noqa: E402

U = 4  # vectors per block of the element-wise kernels


def fp3(name, u, hi, opc):
    """Encoder of a three-register single-precision vector instruction
    Vd.4S = Vn.4S op Vm.4S (Advanced SIMD three same)."""
    def enc(d, n, m):
        word = (1 << 30) | (u << 29) | (0b01110 << 24) | (hi << 23) | (1 << 21) | (m << 16) | (opc << 11) | (1 << 10) | (n << 5) | d
        return f"\tWORD $0x{word:08x} // {name} V{d}.4S, V{n}.4S, V{m}.4S"
    return enc


FADD = fp3("FADD", 0, 0, 0b11010)
FSUB = fp3("FSUB", 0, 1, 0b11010)
FMUL = fp3("FMUL", 1, 0, 0b11011)
FDIV = fp3("FDIV", 1, 0, 0b11111)
FMAX = fp3("FMAX", 0, 0, 0b11110)
FMIN = fp3("FMIN", 0, 1, 0b11110)
FACGT = fp3("FACGT", 1, 1, 0b11101)  # |Vn| > |Vm|
FMLA = fp3("FMLA", 0, 0, 0b11001)  # Vd += Vn*Vm, fused (Dot only)
FADDP = fp3("FADDP", 1, 0, 0b11010)  # pairwise: [n0+n1, n2+n3, m0+m1, m2+m3]


def faddp_scalar(d, n):
    """FADDP Sd, Vn.2S: Sd = Vn.S[0] + Vn.S[1]."""
    word = 0x7E30D800 | (n << 5) | d
    return f"\tWORD $0x{word:08x} // FADDP S{d}, V{n}.2S"


# The constant table, 16 bytes (4 lanes) each; constant i is loaded into
# V(16+i) by the kernels that use it.
CONSTS = [("clamp", f32bits(CLAMP)), ("negclamp", f32bits(CLAMP) ^ 0x80000000), ("tiny", f32bits(TINY))]
CONSTS += [(f"p{i}", f32bits(c)) for i, c in enumerate(P)] + [(f"q{i}", f32bits(c)) for i, c in enumerate(Q)]
CONSTS += [("one", f32bits("1")), ("half", f32bits("0.5"))]
CREG = {name: 16 + i for i, (name, _) in enumerate(CONSTS)}
assert len(CONSTS) == 16


def op_tanh(r):
    """r: x (input), s, p, q. Result in p."""
    x, s, p, q = r
    c = CREG
    L = [FMAX(x, x, c["negclamp"]), FMIN(x, x, c["clamp"]), FMUL(s, x, x)]
    for i in range(1, 7):
        L.append(FMUL(p, c["p0"] if i == 1 else p, s))
        if i < 4:
            L.append(FMUL(q, c["q0"] if i == 1 else q, s))
        L.append(FADD(p, p, c[f"p{i}"]))  # p = p*x2 + P[i]
        if i < 4:
            L.append(FADD(q, q, c[f"q{i}"]))  # q = q*x2 + Q[i]
    L += [FMUL(p, p, x), FDIV(p, p, q)]
    L.append(FACGT(s, c["tiny"], x))  # |x| < tiny
    L.append(f"\tVBIT V{s}.B16, V{x}.B16, V{p}.B16")  # tiny lanes return x itself
    return L, p


def op_tanhgrad(r):
    """dz = g * (1 - h*h), rounded like the scalar code (no FMA)."""
    g, h = r
    return [FMUL(h, h, h), FSUB(h, CREG["one"], h), FMUL(h, g, h)], h


def op_add(r):
    """dst += a."""
    d, a = r
    return [FADD(d, d, a)], d


def op_addto(r):
    """dst = a + b."""
    a, b = r
    return [FADD(a, a, b)], a


OPS = [
    # name, params (the first is written), parameters loaded (indices),
    # roles (registers per vector), body, constants used (a run of the table)
    ("tanh", ["dst", "src"], [1], 4, op_tanh, [n for n, _ in CONSTS if n not in ("one", "half")]),
    ("tanhGrad", ["dz", "g", "h"], [1, 2], 2, op_tanhgrad, ["one"]),
    ("add", ["dst", "a"], [0, 1], 2, op_add, []),
    ("addTo", ["dst", "a", "b"], [1, 2], 2, op_addto, []),
]

PTRS = ["R0", "R1", "R2", "R3"]


def reglist(regs):
    return "[" + ", ".join(f"V{r}.S4" for r in regs) + "]"


def load_consts(o, consts, tmp="R5"):
    """Loads the constants named (a run of the table) into their registers."""
    regs = [CREG[c] for c in consts]
    assert regs == list(range(regs[0], regs[0] + len(regs))), "constants must be a run of the table"
    o(f"\tMOVD $vecconst<>+{16 * (regs[0] - 16)}(SB), {tmp}")
    for j in range(0, len(regs), 4):
        o(f"\tVLD1.P {16 * len(regs[j:j + 4])}({tmp}), {reglist(regs[j:j + 4])}")


def prologue(o, fn, params, ptrs, length):
    """The TEXT line of fn(params ...[]float32), loading each slice's base
    into ptrs[i] and the first one's length into length."""
    o(f"// func {fn}({', '.join(params)} []float32)")
    o(f"TEXT ·{fn}(SB), NOSPLIT, $0-{24 * len(params)}")
    for i, prm in enumerate(params):
        o(f"\tMOVD {prm}_base+{24 * i}(FP), {ptrs[i]}")
    o(f"\tMOVD {params[0]}_len+8(FP), {length}")


def kernel(spec):
    name, params, loaded, nroles, body, consts = spec
    fn = f"{name}NEON"
    L = []
    o = L.append
    prologue(o, fn, params, PTRS, "R4")
    if consts:
        load_consts(o, consts)

    def roles(v):
        return [U * role + v for role in range(nroles)]

    def compute(nvec):
        bodies = [body(roles(v)) for v in range(nvec)]
        for ops in zip(*(b[0] for b in bodies)):  # interleave the vectors
            for line in ops:
                o(line)
        return [b[1] for b in bodies]

    def block(nvec, width):
        for role, pi in enumerate(loaded):
            regs = [U * role + v for v in range(nvec)]
            if pi == 0:  # read and written: advanced by the store
                o(f"\tVLD1 (R0), {reglist(regs)}")
            else:
                o(f"\tVLD1.P {16 * nvec}({PTRS[pi]}), {reglist(regs)}")
        outs = compute(nvec)
        o(f"\tVST1.P {reglist(outs)}, {16 * nvec}(R0)")
        o(f"\tSUB ${width}, R4, R4")

    o(f"{fn}_loop:")
    o(f"\tCMP ${4 * U}, R4")
    o(f"\tBLT {fn}_one")
    block(U, 4 * U)
    o(f"\tJMP {fn}_loop")
    o(f"{fn}_one:")
    o("\tCMP $4, R4")
    o(f"\tBLT {fn}_tail")
    block(1, 4)
    o(f"\tJMP {fn}_one")
    # The last 1..3 elements, lane by lane into one zeroed vector.
    o(f"{fn}_tail:")
    o(f"\tCBZ R4, {fn}_done")
    src = {pi: PTRS[pi] for pi in loaded}
    if 0 in loaded:
        o("\tMOVD R0, R6")
        src[0] = "R6"
    for role in range(len(loaded)):
        r = U * role
        o(f"\tVEOR V{r}.B16, V{r}.B16, V{r}.B16")

    def lanes(lane):
        for role, pi in enumerate(loaded):
            o(f"\tVLD1.P 4({src[pi]}), V{U * role}.S[{lane}]")

    lanes(0)
    o("\tCMP $2, R4")
    o(f"\tBLT {fn}_tailop")
    lanes(1)
    o(f"\tBEQ {fn}_tailop")
    lanes(2)
    o(f"{fn}_tailop:")
    out = compute(1)[0]
    o(f"\tVST1.P V{out}.S[0], 4(R0)")
    o("\tCMP $2, R4")
    o(f"\tBLT {fn}_done")
    o(f"\tVST1.P V{out}.S[1], 4(R0)")
    o(f"\tBEQ {fn}_done")
    o(f"\tVST1.P V{out}.S[2], 4(R0)")
    o(f"{fn}_done:")
    o("\tRET")
    return L


# The gate kernels: one pointer register per slice, the length in R13.
GATE_PTRS = [f"R{i}" for i in range(12)]
GATE_LEN = "R13"


class Gate:
    """Writes one vector's (or one lane's) part of a gate kernel's body into
    its own instruction list, with its own pool of 8 registers. width is the
    number of float32 moved per slice: 4 (FMOVQ at byte offset off) or 1
    (FMOVS, lane 0; the other lanes are zeroed)."""

    def __init__(self, params, first, off, width):
        self.params, self.off, self.width = params, off, width
        self.pool = list(range(first, first + 8))
        self.regs = set(self.pool)
        self.L = []
        self.one, self.half = CREG["one"], CREG["half"]

    def mem(self, name):
        ptr = GATE_PTRS[self.params.index(name)]
        return f"{self.off}({ptr})" if self.off else f"({ptr})"

    def alloc(self):
        assert self.pool, "gate body needs more than 8 registers"
        return self.pool.pop(0)

    def free(self, *regs):
        for r in regs:
            if r in self.regs and r not in self.pool:
                self.pool.insert(0, r)

    def ld(self, name):
        r = self.alloc()
        mov = "FMOVQ" if self.width == 4 else "FMOVS"
        self.L.append(f"\t{mov} {self.mem(name)}, F{r}")
        return r

    def st(self, r, name):
        mov = "FMOVQ" if self.width == 4 else "FMOVS"
        self.L.append(f"\t{mov} F{r}, {self.mem(name)}")

    def op(self, enc, a, b, keep=()):
        """a op b into a new register; a and b are freed unless in keep."""
        d = self.alloc()
        self.L.append(enc(d, a, b))
        self.free(*(r for r in (a, b) if r not in keep))
        return d

    def mul(self, a, b, keep=()):
        return self.op(FMUL, a, b, keep)

    def add(self, a, b, keep=()):
        return self.op(FADD, a, b, keep)

    def sub(self, a, b, keep=()):
        return self.op(FSUB, a, b, keep)

    def rsub(self, c, a, keep=()):
        """c - a for a constant register c (never freed)."""
        return self.op(FSUB, c, a, keep)

    def store(self, r, name):
        """Stores r into the slice name and frees it."""
        self.st(r, name)
        self.free(r)

    def halved(self, x):
        """x*0.5 (a sigmoid's argument to tanh); frees x."""
        return self.mul(x, self.half)

    def sigmoid(self, t):
        """0.5 + 0.5*t, rounded as sigmoidOfTanh: t*0.5, then + 0.5."""
        m = self.mul(t, self.half)
        return self.add(m, self.half)

    def tanh(self, x):
        """tanh(x) with Tanh32's rounding; frees x."""
        s_, p, q = self.alloc(), self.alloc(), self.alloc()
        lines, r = op_tanh([x, s_, p, q])
        self.L += lines
        self.free(x, s_, q)
        return r


def gate_kernel(spec):
    name, params, body = spec
    fn = f"{name}NEON"
    L = []
    o = L.append
    prologue(o, fn, params, GATE_PTRS, GATE_LEN)
    load_consts(o, [n for n, _ in CONSTS], tmp="R14")

    def part(nvec, width, label, nxt):
        """A loop doing nvec vectors (width lanes each) per iteration while
        at least nvec*width elements are left, then going to nxt."""
        step = nvec * width
        o(f"{label}:")
        if width == 1:
            o(f"\tCBZ {GATE_LEN}, {nxt}")
        else:
            o(f"\tCMP ${step}, {GATE_LEN}")
            o(f"\tBLT {nxt}")
        gates = [Gate(params, 8 * v, 16 * v, width) for v in range(nvec)]
        for g in gates:
            body(g)
            assert len(g.pool) == 8, f"{fn}: registers left allocated"
        for lines in zip(*(g.L for g in gates)):  # interleave the vectors
            for line in lines:
                o(line)
        for p in GATE_PTRS[:len(params)]:
            o(f"\tADD ${4 * step}, {p}, {p}")
        o(f"\tSUB ${step}, {GATE_LEN}, {GATE_LEN}")
        o(f"\tJMP {label}")

    part(2, 4, f"{fn}_loop2", f"{fn}_one")
    part(1, 4, f"{fn}_one", f"{fn}_lane")
    part(1, 1, f"{fn}_lane", f"{fn}_done")
    o(f"{fn}_done:")
    o("\tRET")
    return L


def dot_kernel():
    fn = "dotNEON"
    L = []
    o = L.append
    o(f"// func {fn}(a, b []float32) float32")
    o(f"TEXT ·{fn}(SB), NOSPLIT, $0-52")
    o("\tMOVD a_base+0(FP), R0")
    o("\tMOVD b_base+24(FP), R1")
    o("\tMOVD a_len+8(FP), R2")
    acc = [16, 17, 18, 19]
    for r in acc:
        o(f"\tVEOR V{r}.B16, V{r}.B16, V{r}.B16")
    o(f"{fn}_loop4:")
    o("\tCMP $16, R2")
    o(f"\tBLT {fn}_loop1")
    o("\tVLD1.P 64(R0), [V0.S4, V1.S4, V2.S4, V3.S4]")
    o("\tVLD1.P 64(R1), [V4.S4, V5.S4, V6.S4, V7.S4]")
    for i, r in enumerate(acc):
        o(FMLA(r, i, 4 + i))
    o("\tSUB $16, R2, R2")
    o(f"\tJMP {fn}_loop4")
    o(f"{fn}_loop1:")
    o("\tCMP $4, R2")
    o(f"\tBLT {fn}_lane")
    o("\tVLD1.P 16(R0), [V0.S4]")
    o("\tVLD1.P 16(R1), [V4.S4]")
    o(FMLA(acc[1], 0, 4))
    o("\tSUB $4, R2, R2")
    o(f"\tJMP {fn}_loop1")
    # The last 1..3 products in lane 0 (FMOVS zeroes the other lanes).
    o(f"{fn}_lane:")
    o(f"\tCBZ R2, {fn}_sum")
    o("\tFMOVS.P 4(R0), F0")
    o("\tFMOVS.P 4(R1), F4")
    o(FMLA(acc[2], 0, 4))
    o("\tSUB $1, R2, R2")
    o(f"\tJMP {fn}_lane")
    o(f"{fn}_sum:")
    o(FADD(16, 16, 17))
    o(FADD(18, 18, 19))
    o(FADD(16, 16, 18))
    o(FADDP(16, 16, 16))
    o(faddp_scalar(0, 16))
    o("\tFMOVS F0, ret+48(FP)")
    o("\tRET")
    return L


def main():
    out = [
        "// Code generated by gen_kernels_arm64.py; DO NOT EDIT.",
        "",
        "//go:build arm64 && !purego",
        "",
        '#include "textflag.h"',
        "",
        "// vecconst holds each constant replicated over 4 lanes (16 bytes).",
    ]
    for i, (name, bits) in enumerate(CONSTS):
        out.append(f"// {name}")
        for lane in range(4):
            out.append(f"DATA vecconst<>+{16 * i + 4 * lane}(SB)/4, $0x{bits:08x}")
    out.append(f"GLOBL vecconst<>(SB), RODATA|NOPTR, ${16 * len(CONSTS)}")
    for spec in OPS:
        out.append("")
        out.extend(kernel(spec))
    for spec in GATES:
        out.append("")
        out.extend(gate_kernel(spec))
    out.append("")
    out.extend(dot_kernel())
    with open("kernel_arm64.s", "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
