#!/usr/bin/env python3
"""Writes kernel_arm64.s, the NEON (ASIMD) element-wise kernels (run: GOARCH=arm64 go generate).

Every kernel walks its slices in blocks of 4 vectors (16 float32), then one
vector (4) at a time, then finishes the last 1..3 elements by loading them
into the lanes of one zeroed vector and storing those lanes back, so no
scalar code is needed and nothing outside the slices is touched. Lengths are
taken from the first slice; the Go wrappers check that all slices have the
same length.

Registers: a vector's values of role r (an input, a temporary, the result)
live in V(4r+v) for the block's vector v, so one VLD1/VST1 of four
consecutive registers moves a whole block of a slice. The constants sit in
V16 and up, loaded once.

Tanh rounds exactly like the scalar Tanh32: a separate FMUL and FADD for
every step of the polynomials (never FMLA), an IEEE FDIV, FMAX/FMIN for the
clamp (both return NaN for a NaN, as the scalar comparisons leave it), and
FACGT |tiny| > |x| to pick x itself for tiny inputs (false for NaN). The
constants come from gen_kernels.py (the amd64 generator), which spells them
as Tanh32 does.

The Go assembler has no floating-point vector arithmetic, so those
instructions are emitted as WORDs (encodings below, checked with go tool
objdump), each with the instruction in a comment.
"""

import sys

sys.dont_write_bytecode = True
from gen_kernels import CLAMP, P, Q, TINY, f32bits  # noqa: E402

U = 4  # vectors per block


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

# The constant table, 16 bytes (4 lanes) each; constant i is loaded into
# V(16+i) by the kernels that use it.
CONSTS = [("clamp", f32bits(CLAMP)), ("negclamp", f32bits(CLAMP) ^ 0x80000000), ("tiny", f32bits(TINY))]
CONSTS += [(f"p{i}", f32bits(c)) for i, c in enumerate(P)] + [(f"q{i}", f32bits(c)) for i, c in enumerate(Q)]
CONSTS += [("one", f32bits("1"))]
CREG = {name: 16 + i for i, (name, _) in enumerate(CONSTS)}


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


def op_addto(r):
    d, a = r
    return [FADD(d, d, a)], d


def op_add3to(r):
    """dst += a + b, summed as dst + (a + b) like the scalar code."""
    d, a, b = r
    return [FADD(a, a, b), FADD(a, d, a)], a


OPS = [
    # name, params (the first is written), parameters loaded (indices),
    # roles (registers per vector), body, constants used (a run of the table)
    ("tanh", ["dst", "src"], [1], 4, op_tanh, [n for n, _ in CONSTS if n != "one"]),
    ("tanhGrad", ["dz", "g", "h"], [1, 2], 2, op_tanhgrad, ["one"]),
    ("addTo", ["dst", "a"], [0, 1], 2, op_addto, []),
    ("add3To", ["dst", "a", "b"], [0, 1, 2], 3, op_add3to, []),
]

PTRS = ["R0", "R1", "R2", "R3"]


def reglist(regs):
    return "[" + ", ".join(f"V{r}.S4" for r in regs) + "]"


def kernel(spec):
    name, params, loaded, nroles, body, consts = spec
    fn = f"{name}NEON"
    L = []
    o = L.append
    o(f"// func {fn}({', '.join(params)} []float32)")
    o(f"TEXT ·{fn}(SB), NOSPLIT, $0-{24 * len(params)}")
    for i, prm in enumerate(params):
        o(f"\tMOVD {prm}_base+{24 * i}(FP), {PTRS[i]}")
    o(f"\tMOVD {params[0]}_len+8(FP), R4")
    if consts:
        regs = [CREG[c] for c in consts]
        assert regs == list(range(regs[0], regs[0] + len(regs))), "constants must be a run of the table"
        o(f"\tMOVD $vecconst<>+{16 * (regs[0] - 16)}(SB), R5")
        for j in range(0, len(regs), 4):
            o(f"\tVLD1.P {16 * len(regs[j:j + 4])}(R5), {reglist(regs[j:j + 4])}")

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
    with open("kernel_arm64.s", "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
