#!/usr/bin/env python3
"""Writes kernel_arm64.s and kernel_edge_arm64.go, the NEON (ASIMD) micro-kernels (run: GOARCH=arm64 go generate).

Register blocking of the 8x8 micro-kernel (32 vector registers of 4 float32):

    V16..V31  the 8x8 tile of C: row i is V(16+2i) (columns 0-3) and
              V(17+2i) (columns 4-7)
    V0..V3    packed form: one k step of A (rows 0-3, 4-7) and B
              (columns 0-3, 4-7); V4..V7 the next k step, loaded while
              the FMAs of this one run
    V0..V7    direct form: 4 k steps of each of the 8 rows of A (row i in
              Vi, read in place); V8..V15 the 4 matching k steps of B

The edge kernels (kern1x8NEONDirect .. kern7x8NEONDirect, declared in
kernel_edge_arm64.go) are the direct form for the first r rows only, for a
block's last partial panel of rows: rows r..7 are neither read nor
written, and the tile's 2r accumulators are V16..V(15+2r).

Each k step is 16 FMLAs by element (C row i += B * A.S[i%4]): in the packed
form 4 vector loads feed 16 FMAs (4 FMAs per load, 8 flops per loaded
float), in the direct form 16 loads feed 4 k steps, 64 FMAs (also 4 per
load). 16 independent accumulators cover an FMA latency of 4 cycles on up
to 4 FMA pipes.

The Go assembler has no FMLA/FMUL by element, so those are emitted as WORDs
(encodings below, checked with go tool objdump), each with the instruction
in a comment.
"""

ACC = 16  # first accumulator register


def acc(i, v):
    return ACC + 2 * i + v


def by_element(opcode, d, n, m, idx):
    """FMLA (opcode 0b0001) or FMUL (0b1001) Vd.4S, Vn.4S, Vm.S[idx]."""
    h, lo = idx >> 1, idx & 1
    word = (1 << 30) | (0b01111 << 24) | (1 << 23) | (lo << 21) | (m << 16) | (opcode << 12) | (h << 11) | (n << 5) | d
    name = "FMLA" if opcode == 0b0001 else "FMUL"
    return f"\tWORD $0x{word:08x} // {name} V{d}.4S, V{n}.4S, V{m}.S[{idx}]"


def fmla(d, n, m, idx):
    return by_element(0b0001, d, n, m, idx)


def fmul(d, n, m, idx):
    return by_element(0b1001, d, n, m, idx)


def step_packed(o, a, b):
    """One k step: C += B (V{b}, V{b+1}) times A (V{a}: rows 0-3, V{a+1}: rows 4-7)."""
    for i in range(8):
        for v in range(2):
            o(fmla(acc(i, v), b + v, a + i // 4, i % 4))


def epilogue(o, name, c, ldc, alpha, beta, rows=8):
    """C = alpha*acc + beta*C for the first rows rows of the tile (beta == 0:
    C is only written)."""
    o(f"{name}_epilogue:")
    o(f"\tMOVD c_base+{c}(FP), R5")
    o(f"\tMOVD ldc+{ldc}(FP), R3")
    o("\tLSL $2, R3, R3")
    o(f"\tFMOVS alpha+{alpha}(FP), F8")
    for i in range(rows):
        for v in range(2):
            o(fmul(acc(i, v), acc(i, v), 8, 0))
    o(f"\tMOVWU beta+{beta}(FP), R4")
    o("\tANDW $0x7fffffff, R4, R4")
    o(f"\tCBZW R4, {name}_store")
    # C = alpha*AB + beta*C, the beta product fused like the amd64 kernels.
    o(f"\tFMOVS beta+{beta}(FP), F9")
    o("\tMOVD R5, R6")
    for i in range(rows):
        o("\tFLDPQ (R6), (F0, F1)")
        if i < rows - 1:
            o("\tADD R3, R6, R6")
        o(fmla(acc(i, 0), 0, 9, 0))
        o(fmla(acc(i, 1), 1, 9, 0))
    o(f"{name}_store:")
    for i in range(rows):
        o(f"\tFSTPQ (F{acc(i, 0)}, F{acc(i, 1)}), (R5)")
        if i < rows - 1:
            o("\tADD R3, R5, R5")
    o("\tRET")


def zero_acc(o, rows=8):
    for i in range(rows):
        for v in range(2):
            r = acc(i, v)
            o(f"\tVEOR V{r}.B16, V{r}.B16, V{r}.B16")


def packed(name):
    """C = alpha*A*B + beta*C for packed 8-row A and 8-column B panels."""
    L = []
    o = L.append
    o(f"// func {name}(k int, a, b, c []float32, ldc int, alpha, beta float32)")
    o(f"TEXT ·{name}(SB), NOSPLIT, $0-96")
    o("\tMOVD k+0(FP), R0")
    o("\tMOVD a_base+8(FP), R1")
    o("\tMOVD b_base+32(FP), R2")
    zero_acc(o)
    o(f"\tCBZ R0, {name}_epilogue")
    # Software pipelined: the loads of step p+1 are issued before the FMAs
    # of step p, alternating between V0..V3 and V4..V7; nothing is read
    # past the k-th step.
    o("\tVLD1.P 32(R1), [V0.S4, V1.S4]")
    o("\tVLD1.P 32(R2), [V2.S4, V3.S4]")
    o("\tSUB $1, R0, R0")
    o(f"{name}_loop:")
    o(f"\tCBZ R0, {name}_last0")
    o("\tVLD1.P 32(R1), [V4.S4, V5.S4]")
    o("\tVLD1.P 32(R2), [V6.S4, V7.S4]")
    o("\tSUB $1, R0, R0")
    step_packed(o, 0, 2)
    o(f"\tCBZ R0, {name}_last1")
    o("\tVLD1.P 32(R1), [V0.S4, V1.S4]")
    o("\tVLD1.P 32(R2), [V2.S4, V3.S4]")
    o("\tSUB $1, R0, R0")
    step_packed(o, 4, 6)
    o(f"\tJMP {name}_loop")
    o(f"{name}_last0:")
    step_packed(o, 0, 2)
    o(f"\tJMP {name}_epilogue")
    o(f"{name}_last1:")
    step_packed(o, 4, 6)
    epilogue(o, name, c=56, ldc=80, alpha=88, beta=92)
    return L


ROWS = ["R6", "R7", "R8", "R10", "R11", "R12", "R13", "R14"]


def direct(name, rows=8):
    """The packed kernel reading A in place (row i at a + i*lda), for the
    first rows rows of the 8x8 tile: rows 8 is the main direct kernel, 1..7
    the edge kernels for a block's last partial panel of rows."""
    L = []
    o = L.append
    o(f"// func {name}(k int, a []float32, lda int, b, c []float32, ldc int, alpha, beta float32)")
    o(f"TEXT ·{name}(SB), NOSPLIT, $0-104")
    o("\tMOVD k+0(FP), R0")
    o(f"\tMOVD a_base+8(FP), {ROWS[0]}")
    if rows > 1:
        o("\tMOVD lda+32(FP), R9")
        o("\tLSL $2, R9, R9")
    for i in range(1, rows):
        o(f"\tADD R9, {ROWS[i-1]}, {ROWS[i]}")
    o("\tMOVD b_base+40(FP), R2")
    zero_acc(o, rows)
    o(f"{name}_loop4:")
    o("\tCMP $4, R0")
    o(f"\tBLT {name}_tail")
    for i in range(rows):
        o(f"\tVLD1.P 16({ROWS[i]}), [V{i}.S4]")
    o("\tVLD1.P 64(R2), [V8.S4, V9.S4, V10.S4, V11.S4]")
    o("\tVLD1.P 64(R2), [V12.S4, V13.S4, V14.S4, V15.S4]")
    for q in range(4):
        for i in range(rows):
            for v in range(2):
                o(fmla(acc(i, v), 8 + 2 * q + v, i, q))
    o("\tSUB $4, R0, R0")
    o(f"\tJMP {name}_loop4")
    o(f"{name}_tail:")
    o(f"\tCBZ R0, {name}_epilogue")
    o(f"{name}_tail1:")
    for i in range(rows):
        o(f"\tVLD1.P 4({ROWS[i]}), V{i}.S[0]")
    o("\tVLD1.P 32(R2), [V8.S4, V9.S4]")
    for i in range(rows):
        for v in range(2):
            o(fmla(acc(i, v), 8 + v, i, 0))
    o("\tSUBS $1, R0, R0")
    o(f"\tBNE {name}_tail1")
    epilogue(o, name, c=64, ldc=88, alpha=96, beta=100, rows=rows)
    return L


def tr4(o, rows, tmp):
    """Transposes the 4x4 block held in the registers rows (one row each),
    in place, with the 4 scratch registers tmp."""
    a0, a1, a2, a3 = rows
    t0, t1, t2, t3 = tmp
    o(f"\tVTRN1 V{a1}.S4, V{a0}.S4, V{t0}.S4")
    o(f"\tVTRN2 V{a1}.S4, V{a0}.S4, V{t1}.S4")
    o(f"\tVTRN1 V{a3}.S4, V{a2}.S4, V{t2}.S4")
    o(f"\tVTRN2 V{a3}.S4, V{a2}.S4, V{t3}.S4")
    o(f"\tVTRN1 V{t2}.D2, V{t0}.D2, V{a0}.D2")
    o(f"\tVTRN1 V{t3}.D2, V{t1}.D2, V{a1}.D2")
    o(f"\tVTRN2 V{t2}.D2, V{t0}.D2, V{a2}.D2")
    o(f"\tVTRN2 V{t3}.D2, V{t1}.D2, V{a3}.D2")


def strided_args(o):
    """Loads dst, dstStride, src, srcStride (strides in bytes) into R0..R3."""
    o("\tMOVD dst_base+0(FP), R0")
    o("\tMOVD dstStride+24(FP), R1")
    o("\tLSL $2, R1, R1")
    o("\tMOVD src_base+32(FP), R2")
    o("\tMOVD srcStride+56(FP), R3")
    o("\tLSL $2, R3, R3")


def transpose():
    name = "transpose8x8NEON"
    L = []
    o = L.append
    o(f"// func {name}(dst []float32, dstStride int, src []float32, srcStride int, blocks int)")
    o("// For q < blocks, r < 8, c < 8: dst[(8q+c)*dstStride + r] = src[r*srcStride + 8q + c].")
    o(f"TEXT ·{name}(SB), NOSPLIT, $0-72")
    strided_args(o)
    o("\tMOVD blocks+64(FP), R4")
    o("\tLSL $3, R1, R7")  # 8 destination rows
    o(f"\tCBZ R4, {name}_done")
    o(f"{name}_loop:")
    # Row r of the 8x8 block: columns 0-3 in V(2r), 4-7 in V(2r+1).
    o("\tMOVD R2, R5")
    for r in range(8):
        o(f"\tVLD1.P (R5)(R3), [V{2*r}.S4, V{2*r+1}.S4]")
    quads = [[0, 2, 4, 6], [8, 10, 12, 14], [1, 3, 5, 7], [9, 11, 13, 15]]  # TL, BL, TR, BR
    for n, rows in enumerate(quads):
        tr4(o, rows, [16 + 4 * n + j for j in range(4)])
    # Destination row c holds column c: rows 0-3 then rows 4-7.
    o("\tMOVD R0, R6")
    for c in range(8):
        top, bot = (quads[0], quads[1]) if c < 4 else (quads[2], quads[3])
        o(f"\tFSTPQ (F{top[c % 4]}, F{bot[c % 4]}), (R6)")
        if c < 7:
            o("\tADD R1, R6, R6")
    o("\tADD $32, R2, R2")
    o("\tADD R7, R0, R0")
    o("\tSUBS $1, R4, R4")
    o(f"\tBNE {name}_loop")
    o(f"{name}_done:")
    o("\tRET")
    return L


def copy_blocks():
    name = "copyBlocksNEON"
    L = []
    o = L.append
    o(f"// func {name}(dst []float32, dstStride int, src []float32, srcStride int, rows, chunks int)")
    o("// For r < rows: dst[r*dstStride : r*dstStride+8*chunks] = src[r*srcStride : r*srcStride+8*chunks].")
    o(f"TEXT ·{name}(SB), NOSPLIT, $0-80")
    strided_args(o)
    o("\tMOVD rows+64(FP), R4")
    o("\tMOVD chunks+72(FP), R5")
    o(f"\tCBZ R4, {name}_done")
    o(f"\tCBZ R5, {name}_done")
    o(f"{name}_row:")
    o("\tMOVD R0, R6")
    o("\tMOVD R2, R7")
    o("\tMOVD R5, R8")
    o(f"{name}_chunk:")
    o("\tVLD1.P 32(R7), [V0.S4, V1.S4]")
    o("\tVST1.P [V0.S4, V1.S4], 32(R6)")
    o("\tSUBS $1, R8, R8")
    o(f"\tBNE {name}_chunk")
    o("\tADD R1, R0, R0")
    o("\tADD R3, R2, R2")
    o("\tSUBS $1, R4, R4")
    o(f"\tBNE {name}_row")
    o(f"{name}_done:")
    o("\tRET")
    return L


def edge_name(rows):
    return f"kern{rows}x8NEONDirect"


def main():
    out = ["// Code generated by gen_kernels_arm64.py; DO NOT EDIT.", "",
           "//go:build arm64 && !purego", "", '#include "textflag.h"']
    parts = [packed("kern8x8NEON"), direct("kern8x8NEONDirect")]
    parts += [direct(edge_name(r), r) for r in range(1, 8)]
    for part in parts + [transpose(), copy_blocks()]:
        out.append("")
        out.extend(part)
    with open("kernel_arm64.s", "w") as f:
        f.write("\n".join(out) + "\n")
    decl = ["// Code generated by gen_kernels_arm64.py; DO NOT EDIT.", "",
            "//go:build arm64 && !purego", "", "package gemm", ""]
    for r in range(1, 8):
        decl += [f"// {edge_name(r)} is the {r}-row direct kernel of NEON (see directKernel).", "//",
                 "//go:noescape",
                 f"func {edge_name(r)}(k int, a []float32, lda int, b, c []float32, ldc int, alpha, beta float32)", ""]
    names = ", ".join(edge_name(r) for r in range(1, 8))
    decl.append("// edgeNEON holds the NEON direct kernels for 1..7 rows (index: rows).")
    decl.append(f"var edgeNEON = []directKernel{{nil, {names}}}")
    with open("kernel_edge_arm64.go", "w") as f:
        f.write("\n".join(decl) + "\n")


if __name__ == "__main__":
    main()
