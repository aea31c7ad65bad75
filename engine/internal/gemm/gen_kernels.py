#!/usr/bin/env python3
"""Writes kernel_amd64.s, the AVX2 and AVX-512 micro-kernels (run: go generate)."""

ROWREGS = ["AX", "DI", "R8", "R10", "R11", "R12", "R13", "DX"]


def kernel(name, mr, vecs, reg, vbytes, zero, direct=False, trans=False):
    """One micro-kernel. With direct, A is read in place (row i at a+i*lda)
    instead of from a packed panel; with trans, A is read in place
    transposed (step p's mr values at a+p*lda, as a packed panel holds
    them at a+p*mr); frame of both: k, a, lda, b, c, ldc, alpha, beta."""
    nr_bytes = vecs * vbytes
    if trans:
        direct = False
    if direct or trans:
        off = dict(k=0, a=8, lda=32, b=40, c=64, ldc=88, alpha=96, beta=100, size=104)
    else:
        off = dict(k=0, a=8, b=32, c=56, ldc=80, alpha=88, beta=92, size=96)
    L = []
    o = L.append
    if direct or trans:
        o(f"// func {name}(k int, a []float32, lda int, b, c []float32, ldc int, alpha, beta float32)")
    else:
        o(f"// func {name}(k int, a, b, c []float32, ldc int, alpha, beta float32)")
    o(f"TEXT ·{name}(SB), NOSPLIT, $0-{off['size']}")
    o(f"\tMOVQ k+{off['k']}(FP), CX")
    o(f"\tMOVQ a_base+{off['a']}(FP), AX")
    o(f"\tMOVQ b_base+{off['b']}(FP), BX")
    if direct:
        o(f"\tMOVQ lda+{off['lda']}(FP), R9")
        o("\tSHLQ $2, R9")
        o("\tXORQ SI, SI")
        for i in range(1, mr):
            o(f"\tLEAQ (AX)(R9*1), {ROWREGS[i]}" if i == 1 else f"\tLEAQ ({ROWREGS[i-1]})(R9*1), {ROWREGS[i]}")
    if trans:
        o(f"\tMOVQ lda+{off['lda']}(FP), R9")
        o("\tSHLQ $2, R9")
    acc = lambda i, v: f"{reg}{4 + i*vecs + v}"
    for i in range(mr):
        for v in range(vecs):
            o(f"\t{zero} {acc(i,v)}, {acc(i,v)}, {acc(i,v)}")
    o("\tTESTQ CX, CX")
    o(f"\tJZ {name}_epilogue")
    def step(j):
        """The FMAs of step j (0 or 1) past the pointers."""
        for v in range(vecs):
            o(f"\tVMOVUPS {j*nr_bytes + v*vbytes}(BX), {reg}{v}")
        for i in range(mr):
            br = f"{reg}{2 + (i % 2)}"
            if direct:
                src = f"{4*j}({ROWREGS[i]})(SI*1)" if j else f"({ROWREGS[i]})(SI*1)"
            elif trans:
                src = f"{4*i}(AX)(R9*1)" if j else f"{4*i}(AX)"
            else:
                src = f"{4*(i + j*mr)}(AX)"
            o(f"\tVBROADCASTSS {src}, {br}")
            for v in range(vecs):
                o(f"\tVFMADD231PS {br}, {reg}{v}, {acc(i,v)}")

    def advance(n):
        """Moves the pointers n steps on."""
        if direct:
            o(f"\tADDQ ${4*n}, SI")
        elif trans:
            o("\tADDQ R9, AX" if n == 1 else "\tLEAQ (AX)(R9*2), AX")
        else:
            o(f"\tADDQ ${4*mr*n}, AX")
        o(f"\tADDQ ${nr_bytes*n}, BX")

    # An odd k's first step alone, then two steps an iteration: half the
    # loop's integer instructions, which would take the FMA ports' slots.
    o("\tTESTQ $1, CX")
    o(f"\tJZ {name}_loop")
    step(0)
    advance(1)
    o("\tDECQ CX")
    o(f"\tJZ {name}_epilogue")
    o(f"{name}_loop:")
    step(0)
    step(1)
    advance(2)
    o("\tSUBQ $2, CX")
    o(f"\tJNZ {name}_loop")
    o(f"{name}_epilogue:")
    o(f"\tMOVQ c_base+{off['c']}(FP), DX")
    o(f"\tMOVQ ldc+{off['ldc']}(FP), R8")
    o("\tSHLQ $2, R8")
    # alpha = 1 (every product of the engine) needs no multiply.
    o(f"\tMOVL alpha+{off['alpha']}(FP), R9")
    o("\tCMPL R9, $0x3f800000")
    o(f"\tJEQ {name}_scaled")
    o(f"\tVBROADCASTSS alpha+{off['alpha']}(FP), {reg}2")
    for i in range(mr):
        for v in range(vecs):
            o(f"\tVMULPS {reg}2, {acc(i,v)}, {acc(i,v)}")
    o(f"{name}_scaled:")
    o(f"\tMOVL beta+{off['beta']}(FP), R9")
    o("\tTESTL $0x7fffffff, R9")
    o(f"\tJZ {name}_store")
    o(f"\tVBROADCASTSS beta+{off['beta']}(FP), {reg}3")
    for i in range(mr):
        for v in range(vecs):
            o(f"\tVFMADD231PS {v*vbytes}(DX), {reg}3, {acc(i,v)}")
        for v in range(vecs):
            o(f"\tVMOVUPS {acc(i,v)}, {v*vbytes}(DX)")
        if i < mr - 1:
            o("\tADDQ R8, DX")
    o("\tVZEROUPPER")
    o("\tRET")
    o(f"{name}_store:")
    for i in range(mr):
        for v in range(vecs):
            o(f"\tVMOVUPS {acc(i,v)}, {v*vbytes}(DX)")
        if i < mr - 1:
            o("\tADDQ R8, DX")
    o("\tVZEROUPPER")
    o("\tRET")
    return "\n".join(L) + "\n"


TRANSPOSE = """// func transpose8x8AVX(dst []float32, dstStride int, src []float32, srcStride int, blocks int)
// For q < blocks, r < 8, c < 8: dst[(8q+c)*dstStride + r] = src[r*srcStride + 8q + c].
TEXT ·transpose8x8AVX(SB), NOSPLIT, $0-72
\tMOVQ dst_base+0(FP), DI
\tMOVQ dstStride+24(FP), R9
\tMOVQ src_base+32(FP), SI
\tMOVQ srcStride+56(FP), R8
\tMOVQ blocks+64(FP), CX
\tSHLQ $2, R8
\tSHLQ $2, R9
\tLEAQ (R8)(R8*2), R10
\tLEAQ (SI)(R8*4), R11
\tLEAQ (R9)(R9*2), R12
\tLEAQ (DI)(R9*4), R13
\tMOVQ R9, BX
\tSHLQ $3, BX
\tTESTQ CX, CX
\tJZ transpose8x8AVX_done
transpose8x8AVX_loop:
\tVMOVUPS (SI), Y0
\tVMOVUPS (SI)(R8*1), Y1
\tVMOVUPS (SI)(R8*2), Y2
\tVMOVUPS (SI)(R10*1), Y3
\tVMOVUPS (R11), Y4
\tVMOVUPS (R11)(R8*1), Y5
\tVMOVUPS (R11)(R8*2), Y6
\tVMOVUPS (R11)(R10*1), Y7
\tVUNPCKLPS Y1, Y0, Y8
\tVUNPCKHPS Y1, Y0, Y9
\tVUNPCKLPS Y3, Y2, Y10
\tVUNPCKHPS Y3, Y2, Y11
\tVUNPCKLPS Y5, Y4, Y12
\tVUNPCKHPS Y5, Y4, Y13
\tVUNPCKLPS Y7, Y6, Y14
\tVUNPCKHPS Y7, Y6, Y15
\tVSHUFPS $0x44, Y10, Y8, Y0
\tVSHUFPS $0xEE, Y10, Y8, Y1
\tVSHUFPS $0x44, Y11, Y9, Y2
\tVSHUFPS $0xEE, Y11, Y9, Y3
\tVSHUFPS $0x44, Y14, Y12, Y4
\tVSHUFPS $0xEE, Y14, Y12, Y5
\tVSHUFPS $0x44, Y15, Y13, Y6
\tVSHUFPS $0xEE, Y15, Y13, Y7
\tVPERM2F128 $0x20, Y4, Y0, Y8
\tVPERM2F128 $0x20, Y5, Y1, Y9
\tVPERM2F128 $0x20, Y6, Y2, Y10
\tVPERM2F128 $0x20, Y7, Y3, Y11
\tVPERM2F128 $0x31, Y4, Y0, Y12
\tVPERM2F128 $0x31, Y5, Y1, Y13
\tVPERM2F128 $0x31, Y6, Y2, Y14
\tVPERM2F128 $0x31, Y7, Y3, Y15
\tVMOVUPS Y8, (DI)
\tVMOVUPS Y9, (DI)(R9*1)
\tVMOVUPS Y10, (DI)(R9*2)
\tVMOVUPS Y11, (DI)(R12*1)
\tVMOVUPS Y12, (R13)
\tVMOVUPS Y13, (R13)(R9*1)
\tVMOVUPS Y14, (R13)(R9*2)
\tVMOVUPS Y15, (R13)(R12*1)
\tADDQ $32, SI
\tADDQ $32, R11
\tADDQ BX, DI
\tADDQ BX, R13
\tDECQ CX
\tJNZ transpose8x8AVX_loop
transpose8x8AVX_done:
\tVZEROUPPER
\tRET
"""

COPY = """// func copyBlocksAVX(dst []float32, dstStride int, src []float32, srcStride int, rows, chunks int)
// For r < rows: dst[r*dstStride : r*dstStride+8*chunks] = src[r*srcStride : r*srcStride+8*chunks].
TEXT ·copyBlocksAVX(SB), NOSPLIT, $0-80
\tMOVQ dst_base+0(FP), DI
\tMOVQ dstStride+24(FP), R9
\tMOVQ src_base+32(FP), SI
\tMOVQ srcStride+56(FP), R8
\tMOVQ rows+64(FP), CX
\tMOVQ chunks+72(FP), DX
\tSHLQ $2, R8
\tSHLQ $2, R9
\tTESTQ CX, CX
\tJZ copyBlocksAVX_done
\tTESTQ DX, DX
\tJZ copyBlocksAVX_done
copyBlocksAVX_row:
\tXORQ AX, AX
\tMOVQ DX, BX
copyBlocksAVX_chunk:
\tVMOVUPS (SI)(AX*1), Y0
\tVMOVUPS Y0, (DI)(AX*1)
\tADDQ $32, AX
\tDECQ BX
\tJNZ copyBlocksAVX_chunk
\tADDQ R8, SI
\tADDQ R9, DI
\tDECQ CX
\tJNZ copyBlocksAVX_row
copyBlocksAVX_done:
\tVZEROUPPER
\tRET
"""

out = ["// Code generated by gen_kernels.py; DO NOT EDIT.", "",
       "//go:build amd64 && !purego", "", '#include "textflag.h"', ""]
out.append(kernel("kern6x16AVX2", 6, 2, "Y", 32, "VXORPS"))
out.append("")
out.append(kernel("kern8x32AVX512", 8, 2, "Z", 64, "VPXORD"))
out.append("")
out.append(kernel("kern6x16AVX2Direct", 6, 2, "Y", 32, "VXORPS", direct=True))
out.append("")
out.append(kernel("kern8x32AVX512Direct", 8, 2, "Z", 64, "VPXORD", direct=True))
out.append("")
out.append(kernel("kern6x16AVX2DirectT", 6, 2, "Y", 32, "VXORPS", trans=True))
out.append("")
out.append(kernel("kern8x32AVX512DirectT", 8, 2, "Z", 64, "VPXORD", trans=True))
out.append("")
# Edge kernels: the direct kernels (in place and in place transposed) for
# the last r < mr rows of a block (the 2 rows left of a worker's 32 by the
# AVX2 kernel's 6), so that a partial panel needs neither packing nor a
# full-height tile.
EDGES = [("AVX2", 6, "Y", 32, "VXORPS"), ("AVX512", 8, "Z", 64, "VPXORD")]
decl = ["// Code generated by gen_kernels.py; DO NOT EDIT.", "", "//go:build amd64 && !purego", "", "package gemm", ""]
for isa, mr, reg, vb, zero in EDGES:
    nr = 2 * vb // 4
    for suffix, what, var, trans in [("Direct", "direct", "edge", False), ("DirectT", "transposed direct", "edgeT", True)]:
        names = []
        for r in range(1, mr):
            name = f"kern{r}x{nr}{isa}{suffix}"
            names.append(name)
            out.append(kernel(name, r, 2, reg, vb, zero, direct=not trans, trans=trans))
            out.append("")
            decl.append(f"// {name} is the {r}-row {what} kernel of {isa} (see directKernel).")
            decl.append("//")
            decl.append("//go:noescape")
            decl.append(f"func {name}(k int, a []float32, lda int, b, c []float32, ldc int, alpha, beta float32)")
            decl.append("")
        decl.append(f"// {var}{isa} holds the {isa} {what} kernels for 1..{mr - 1} rows (index: rows).")
        decl.append(f"var {var}{isa} = []directKernel{{nil, {', '.join(names)}}}")
        decl.append("")
open("kernel_edge_amd64.go", "w").write("\n".join(decl))
out.append(TRANSPOSE)
out.append(COPY)
open("kernel_amd64.s", "w").write("\n".join(out))
