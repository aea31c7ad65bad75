#!/usr/bin/env python3
"""Writes kernel_amd64.s, the AVX2+FMA and AVX-512F element-wise kernels (run: go generate).

Every kernel walks its slices in blocks of UNROLL vectors, then one vector at
a time, then finishes the last 1..W-1 elements with masked loads and stores
(VMASKMOVPS for AVX2, opmask K1 for AVX-512), so no scalar tail is needed and
nothing outside the slices is touched. Lengths are taken from the first slice;
the Go wrappers check that all slices have the same length.
"""

from fractions import Fraction
import struct

# tanh32's constants, spelled exactly as in engine/kernels.go.
CLAMP = "7.90531110763549805"
TINY = "0.0004"
P = [  # highest degree first: p = P[0]; p = p*x2 + P[i]
    "-2.76076847742355e-16",
    "2.00018790482477e-13",
    "-8.60467152213735e-11",
    "5.12229709037114e-08",
    "1.48572235717979e-05",
    "6.37261928875436e-04",
    "4.89352455891786e-03",
]
Q = [
    "1.19825839466702e-06",
    "1.18534705686654e-04",
    "2.26843463243900e-03",
    "4.89352518554385e-03",
]


def f32bits(dec):
    """Bits of the float32 nearest to the decimal dec (ties to even), as Go's
    float32(untyped constant) conversion rounds: directly, not via float64."""
    exact = Fraction(dec)
    guess = struct.unpack("<I", struct.pack("<f", float(exact)))[0]
    best = None
    for b in (guess - 1, guess, guess + 1):
        v = Fraction(struct.unpack("<f", struct.pack("<I", b & 0xFFFFFFFF))[0])
        d = abs(v - exact)
        if best is None or d < best[0] or (d == best[0] and b % 2 == 0):
            best = (d, b)
    return best[1] & 0xFFFFFFFF


def neg(bits):
    return bits ^ 0x80000000


CONSTS = [
    ("clamp", f32bits(CLAMP)),
    ("negclamp", neg(f32bits(CLAMP))),
    ("absmask", 0x7FFFFFFF),
    ("tiny", f32bits(TINY)),
    ("one", f32bits("1")),
    ("half", f32bits("0.5")),
] + [(f"p{i}", f32bits(c)) for i, c in enumerate(P)] + [(f"q{i}", f32bits(c)) for i, c in enumerate(Q)]
COFF = {name: 32 * i for i, (name, _) in enumerate(CONSTS)}


def cref(name):
    return f"vecconst<>+{COFF[name]}(SB)"


class ISA:
    def __init__(self, avx512):
        self.avx512 = avx512
        self.suffix = "AVX512" if avx512 else "AVX2"
        self.w = 16 if avx512 else 8  # float32 lanes per vector
        self.vb = 4 * self.w  # bytes per vector
        self.r = "Z" if avx512 else "Y"

    def reg(self, i):
        return f"{self.r}{i}"


# Each op: Go parameter names (first one is written), inputs (parameter
# names loaded per vector), unroll, registers per vector, and a body writer.
# Pointer registers per parameter, in order.
PTRS = ["DI", "SI", "DX", "R8"]


def op_tanh(isa, o, regs, mask, absm_tiny=None, gate=False):
    """regs: x (input, loaded), a, s, p, q. Result in p. absm_tiny, if given,
    are the operands of the absolute-value mask and of tiny (AVX2's gate
    kernels read them from memory, leaving their registers to a second
    vector). AVX-512's gate kernels (gate) keep only the clamps in registers
    and read the other constants from memory, broadcast (see bcst), leaving
    the registers to four vectors."""
    x, a, s, p, q = regs
    if isa.avx512 and gate:
        c, nc = GATE512_CONSTS["clamp"], GATE512_CONSTS["negclamp"]
        absm, tiny = cref("absmask"), cref("tiny")
        pc = [cref(f"p{i}") for i in range(7)]
        qc = [cref(f"q{i}") for i in range(4)]
    elif isa.avx512:
        c, nc, absm, tiny = "Z16", "Z17", "Z18", "Z19"
        pc = [f"Z{20 + i}" for i in range(7)]
        qc = [f"Z{27 + i}" for i in range(4)]
    else:
        c, nc, absm, tiny = "Y10", "Y11", "Y12", "Y13"
        if absm_tiny:
            absm, tiny = absm_tiny
        pc = [cref(f"p{i}") for i in range(7)]
        qc = [cref(f"q{i}") for i in range(4)]
    # Clamp to [-clamp, clamp]; x is the second (Intel) source, so a NaN in x
    # is passed through by both VMAXPS and VMINPS.
    o(f"\tVMAXPS {x}, {nc}, {x}")
    o(f"\tVMINPS {x}, {c}, {x}")
    if isa.avx512:
        o(f"\tVPANDD {absm}, {x}, {a}")  # absm may be memory: Go's first operand
        o(f"\tVCMPPS $1, {tiny}, {a}, {mask}")  # |x| < tiny (false for NaN)
    else:
        o(f"\tVANDPS {absm}, {x}, {a}")  # absm may be memory: Intel's last source
        o(f"\tVCMPPS $1, {tiny}, {a}, {a}")
    o(f"\tVMULPS {x}, {x}, {s}")
    # Separate multiplies and adds (no FMA), each rounded like the scalar
    # code, so the result is bit for bit Tanh32's. The first product is
    # P[0]*x2 (Q[0]*x2) straight from the constant.
    for i in range(1, 7):
        o(f"\tVMULPS {pc[0] if i == 1 else p}, {s}, {p}")
        if i < 4:
            o(f"\tVMULPS {qc[0] if i == 1 else q}, {s}, {q}")
        o(f"\tVADDPS {pc[i]}, {p}, {p}")  # p = p*x2 + P[i]
        if i < 4:
            o(f"\tVADDPS {qc[i]}, {q}, {q}")  # q = q*x2 + Q[i]
    o(f"\tVMULPS {x}, {p}, {p}")
    o(f"\tVDIVPS {q}, {p}, {p}")  # p = p / q
    if isa.avx512:
        o(f"\tVMOVAPS {x}, {mask}, {p}")  # tiny lanes return x itself
    else:
        o(f"\tVBLENDVPS {a}, {x}, {p}, {p}")
    return p


def op_tanhgrad(isa, o, regs, mask):
    """dz = g * (1 - h*h), rounded like the scalar code (no FMA)."""
    g, h = regs
    one = "Z31" if isa.avx512 else "Y13"
    o(f"\tVMULPS {h}, {h}, {h}")
    o(f"\tVSUBPS {h}, {one}, {h}")
    o(f"\tVMULPS {h}, {g}, {h}")
    return h


def op_add(isa, o, regs, mask):
    """dst += a."""
    d, a = regs
    o(f"\tVADDPS {a}, {d}, {d}")
    return d


def op_addto(isa, o, regs, mask):
    """dst = a + b."""
    a, b = regs
    o(f"\tVADDPS {b}, {a}, {a}")
    return a


OPS = [
    # name, params, loaded params (indices), regs per vector, unroll, body
    ("tanh", ["dst", "src"], [1], 5, 2, op_tanh),
    ("tanhGrad", ["dz", "g", "h"], [1, 2], 2, 4, op_tanhgrad),
    ("add", ["dst", "a"], [0, 1], 2, 4, op_add),
    ("addTo", ["dst", "a", "b"], [1, 2], 2, 4, op_addto),
]


def setup_consts(isa, name, o):
    if name == "tanh":
        if isa.avx512:
            regs = ["clamp", "negclamp", "absmask", "tiny"] + [f"p{i}" for i in range(7)] + [f"q{i}" for i in range(4)]
            for i, c in enumerate(regs):
                o(f"\tVBROADCASTSS {cref(c)}, Z{16 + i}")
        else:
            for i, c in enumerate(["clamp", "negclamp", "absmask", "tiny"]):
                o(f"\tVMOVUPS {cref(c)}, Y{10 + i}")
    elif name == "tanhGrad":
        if isa.avx512:
            o(f"\tVBROADCASTSS {cref('one')}, Z31")
        else:
            o(f"\tVMOVUPS {cref('one')}, Y13")


def vload(isa, o, src, r, tail):
    """Loads a vector from src into r; in the tail, the masked lanes only
    (K1 or Y15, see tail_mask), the others zero."""
    if not tail:
        o(f"\tVMOVUPS {src}, {r}")
    elif isa.avx512:
        o(f"\tVMOVUPS.Z {src}, K1, {r}")
    else:
        o(f"\tVMASKMOVPS {src}, Y15, {r}")


def vstore(isa, o, r, dst, tail):
    """Stores r at dst; in the tail, the masked lanes only."""
    if not tail:
        o(f"\tVMOVUPS {r}, {dst}")
    elif isa.avx512:
        o(f"\tVMOVUPS {r}, K1, {dst}")
    else:
        o(f"\tVMASKMOVPS {r}, Y15, {dst}")


def tail_mask(isa, fn, o):
    """The tail: nothing left jumps to done, else the mask of the last CX
    lanes (K1 for AVX-512, Y15 for AVX2)."""
    o(f"{fn}_tail:")
    o("\tTESTQ CX, CX")
    o(f"\tJZ {fn}_done")
    if isa.avx512:
        o("\tMOVL $1, AX")
        o("\tSHLL CX, AX")
        o("\tDECL AX")
        o("\tKMOVW AX, K1")
    else:
        # tailmask<>+32-4*CX holds CX all-ones lanes followed by zero lanes.
        o("\tLEAQ tailmask<>+32(SB), AX")
        o("\tSHLQ $2, CX")
        o("\tSUBQ CX, AX")
        o("\tVMOVDQU (AX), Y15")


def kernel(isa, spec):
    name, params, loaded, nregs, unroll, body = spec
    fn = f"{name}{isa.suffix}"
    L = []
    o = L.append
    size = 24 * len(params)
    o(f"// func {fn}({', '.join(params)} []float32)")
    o(f"TEXT ·{fn}(SB), NOSPLIT, $0-{size}")
    for i, prm in enumerate(params):
        o(f"\tMOVQ {prm}_base+{24 * i}(FP), {PTRS[i]}")
    o(f"\tMOVQ {params[0]}_len+8(FP), CX")
    setup_consts(isa, name, o)

    def block(nvec, tail):
        maskreg = "K1" if isa.avx512 else "Y15"
        vregs = [[isa.reg(v * nregs + j) for j in range(nregs)] for v in range(nvec)]
        for v in range(nvec):
            for j, pi in enumerate(loaded):
                src = f"{v * isa.vb}({PTRS[pi]})"
                dst = vregs[v][j]
                if not tail:
                    o(f"\tVMOVUPS {src}, {dst}")
                elif isa.avx512:
                    o(f"\tVMOVUPS.Z {src}, K1, {dst}")
                else:
                    o(f"\tVMASKMOVPS {src}, {maskreg}, {dst}")
        outs = []
        for v in range(nvec):
            kmask = f"K{2 + v}"
            outs.append(body(isa, o, vregs[v], kmask))
        for v in range(nvec):
            dst = f"{v * isa.vb}({PTRS[0]})"
            if not tail:
                o(f"\tVMOVUPS {outs[v]}, {dst}")
            elif isa.avx512:
                o(f"\tVMOVUPS {outs[v]}, K1, {dst}")
            else:
                o(f"\tVMASKMOVPS {outs[v]}, {maskreg}, {dst}")

    def advance(nvec):
        for i in range(len(params)):
            o(f"\tADDQ ${nvec * isa.vb}, {PTRS[i]}")
        o(f"\tSUBQ ${nvec * isa.w}, CX")

    loops(isa, fn, o, unroll, block, advance)
    return L


def loops(isa, fn, o, unroll, block, advance):
    """The loops of an element-wise kernel: blocks of unroll vectors, then
    one vector at a time, then the masked tail; block(nvec, tail) writes a
    block's body, advance(nvec) steps the pointers and CX."""
    o(f"{fn}_loop:")
    o(f"\tCMPQ CX, ${unroll * isa.w}")
    o(f"\tJLT {fn}_one")
    block(unroll, False)
    advance(unroll)
    o(f"\tJMP {fn}_loop")
    o(f"{fn}_one:")
    o(f"\tCMPQ CX, ${isa.w}")
    o(f"\tJLT {fn}_tail")
    block(1, False)
    advance(1)
    o(f"\tJMP {fn}_one")
    tail_mask(isa, fn, o)
    block(1, True)
    o(f"{fn}_done:")
    o("\tVZEROUPPER")
    o("\tRET")


# The gate kernels of the LSTM and GRU: four vectors per iteration on
# AVX-512 and two on AVX2 (then one, then the masked tail), several
# outputs, the tanh inlined. Each vector's instructions are written into a
# list of their own, with registers of their own, and the lists are
# interleaved instruction by instruction:
# one vector's body is a single chain of dependent tanh evaluations (c
# needs tanh(g), tanh(c) needs c), too long for the out-of-order window to
# overlap with the next iteration's, so one vector an iteration ran at about
# a seventh of Tanh's speed per tanh. Every product and sum is a
# separate, rounded instruction in the order of the Go reference code
# (gate.go), so the results are bit for bit the same. The bodies (gate_lstm
# and the others) are written against a Gate's methods (ld, st, store, mul,
# add, sub, rsub, sigmoid, tanh, free, one), which gen_kernels_arm64.py's
# Gate has too: both architectures run the very same sequence of
# operations. Each body frees every register it allocates (keep names the
# operands an operation leaves allocated); none needs more than 7, so two
# fit AVX2's 16 registers beside tanh's clamp constants (its absolute-value
# mask and tiny are read from memory there) and NEON's 8 a vector.
#
# Within a body the independent tanh come before the dependent ones: the
# LSTM's o before tanh(c) (which needs i, f and g), the GRU's z before n
# (which needs r). Placed after them, as the formulas read, the cores
# overlapped them less: the forward kernels ran 7-14% slower
# (BenchmarkGateCells, five alternated runs, AVX2 and AVX-512).
#
# AVX-512 interleaves four vectors: with two, the GRU's kernel (whose n
# needs r's tanh, and h n's) took 60% more time than its three tanh alone,
# the LSTM's 35% more than its five; four run them 17% and 6% faster
# (BenchmarkGateCells, best of 20 alternated runs). Their 28 registers
# leave four for constants (one, half and the clamps, whose register
# operand is what passes a NaN through VMAXPS and VMINPS); the tanh's other
# constants are read from memory, broadcast from 4 bytes (the .BCST forms,
# see bcst), on the load ports, which the arithmetic leaves idle.
GATE_PTRS = ["DI", "SI", "DX", "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15", "BX"]
GATE512_CONSTS = {"one": "Z28", "half": "Z29", "clamp": "Z30", "negclamp": "Z31"}


def gate_pools(isa):
    """The registers of each of a block's vectors (four for AVX-512, two for
    AVX2), and their tanh's opmask (AVX-512). The tail's single vector
    takes the first: AVX2's Y15 holds the tail's mask there."""
    if isa.avx512:
        return [[f"Z{i}" for i in range(7 * v, 7 * v + 7)] for v in range(4)], ["K2", "K3", "K4", "K5"]
    return [[f"Y{i}" for i in range(7)], [f"Y{i}" for i in (7, 8, 9, 12, 13, 14, 15)]], [None, None]


def bcst(line):
    """line with its mnemonic given the .BCST suffix when its first operand
    after any immediate (Go order: Intel's last source) is a constant in
    memory: AVX-512 then broadcasts that constant's first 4 bytes to every
    lane."""
    ins, _, ops = line.strip().partition(" ")
    args = ops.split(", ")
    src = args[1] if args[0].startswith("$") else args[0]
    if src.startswith("vecconst<>"):
        return f"\t{ins}.BCST {ops}"
    return line


class Gate:
    """Writes one vector's part of a gate kernel's body into its own
    instruction list L, from its own pool of registers, at byte offset off
    from the slices' pointers."""

    def __init__(self, isa, params, tail, pool, mask, off=0):
        self.isa, self.params, self.tail, self.mask, self.off = isa, params, tail, mask, off
        self.L = []
        self.o = self.L.append
        self.pool = list(pool)
        if isa.avx512:
            self.one, self.half = GATE512_CONSTS["one"], GATE512_CONSTS["half"]
        else:
            self.one, self.half = cref("one"), cref("half")
        self.regs = set(self.pool)

    def ptr(self, name):
        return f"{self.off or ''}({GATE_PTRS[self.params.index(name)]})"

    def alloc(self):
        return self.pool.pop(0)

    def free(self, *regs):
        for r in regs:
            if r in self.regs and r not in self.pool:
                self.pool.insert(0, r)

    def ld(self, name):
        r = self.alloc()
        vload(self.isa, self.o, self.ptr(name), r, self.tail)
        return r

    def st(self, r, name):
        vstore(self.isa, self.o, r, self.ptr(name), self.tail)

    def op(self, ins, a, b, keep=()):
        """a ins b into a new register (Go operand order: b, a, dst); a and b
        are freed unless in keep."""
        d = self.alloc()
        self.o(f"\t{ins} {b}, {a}, {d}")
        self.free(*(r for r in (a, b) if r not in keep))
        return d

    def mul(self, a, b, keep=()):
        return self.op("VMULPS", a, b, keep)

    def add(self, a, b, keep=()):
        return self.op("VADDPS", a, b, keep)

    def sub(self, a, b, keep=()):
        return self.op("VSUBPS", a, b, keep)

    def rsub(self, c, a, keep=()):
        """c - a for a constant operand c; a is freed unless in keep."""
        d = self.alloc()
        self.o(f"\tVMOVUPS {c}, {d}")
        self.o(f"\tVSUBPS {a}, {d}, {d}")
        if a not in keep:
            self.free(a)
        return d

    def store(self, r, name):
        """Stores r into the slice name and frees it."""
        self.st(r, name)
        self.free(r)

    def halved(self, x):
        """x*0.5 (a sigmoid's argument to tanh); frees x."""
        return self.mul(x, self.half)

    def sigmoid(self, t):
        """0.5 + 0.5*t (sigma from tanh of half the argument); frees t."""
        m = self.mul(t, self.half)
        return self.add(m, self.half)

    def tanh(self, x):
        """tanh(x) (Tanh32's rounding); frees x."""
        a, s_, p, q = self.alloc(), self.alloc(), self.alloc(), self.alloc()
        absm_tiny = None if self.isa.avx512 else (cref("absmask"), cref("tiny"))
        r = op_tanh(self.isa, self.o, [x, a, s_, p, q], self.mask, absm_tiny, gate=True)
        self.free(x, a, s_, q)
        return r


def gate_lstm(g):
    """gi, gf, gg, go hold their products' part of the pre-activations, bi,
    bf, bg, bo the biases. i, f, o = sigmoids of the sums (from tanh of half
    of each) and g = tanh (stored back), c = f*cprev + i*g, tc = tanh(c),
    h = o*tc."""
    i = g.sigmoid(g.tanh(g.halved(g.add(g.ld("gi"), g.ld("bi")))))
    g.st(i, "gi")
    f = g.sigmoid(g.tanh(g.halved(g.add(g.ld("gf"), g.ld("bf")))))
    g.st(f, "gf")
    fc = g.mul(f, g.ld("cprev"))
    gg = g.tanh(g.add(g.ld("gg"), g.ld("bg")))
    g.st(gg, "gg")
    ig = g.mul(i, gg)
    c = g.add(fc, ig)
    g.st(c, "c")
    o = g.sigmoid(g.tanh(g.halved(g.add(g.ld("gout"), g.ld("bo")))))
    g.st(o, "gout")
    t = g.tanh(c)
    g.st(t, "tc")
    g.store(g.mul(o, t), "h")


def gate_lstm_grad(g):
    """dc' = dc + dh*o*(1-tc^2); zi = dc'*g*i*(1-i); zf = dc'*cprev*f*(1-f);
    zg = dc'*i*(1-g^2); zo = dh*tc*o*(1-o); dc = dc'*f."""
    o, tc, dh = g.ld("gout"), g.ld("tc"), g.ld("dh")
    a2 = g.rsub(g.one, g.mul(tc, tc, keep=(tc,)))
    a4 = g.mul(g.mul(dh, o, keep=(dh, o)), a2)
    dc = g.add(g.ld("dc"), a4)
    dto = g.mul(g.mul(dh, tc), o, keep=(o,))
    g.store(g.mul(dto, g.rsub(g.one, o)), "zo")
    i, gg = g.ld("gi"), g.ld("gg")
    dgi = g.mul(g.mul(dc, gg, keep=(dc, gg)), i, keep=(i,))
    g.store(g.mul(dgi, g.rsub(g.one, i, keep=(i,))), "zi")
    di = g.mul(dc, i, keep=(dc,))
    g.store(g.mul(di, g.rsub(g.one, g.mul(gg, gg))), "zg")
    f = g.ld("gf")
    dcf = g.mul(g.mul(dc, g.ld("cprev"), keep=(dc,)), f, keep=(f,))
    g.store(g.mul(dcf, g.rsub(g.one, f, keep=(f,))), "zf")
    g.store(g.mul(dc, f), "dc")


def gate_gru(g):
    """r, z, n hold the input side's products x W^T, hr, hz, hn the hidden
    side's h W^T, br, bz the r and z biases (both sides' summed), bxn and
    bhn the n biases: hn += bhn (stored back), r = sigma(xr+hr+br) (from
    tanh of half the sum), z = sigma(xz+hz+bz), n = tanh(xn+bxn + r*hn),
    h = n + z*(hprev - n); r, z, n are stored back activated."""
    r = g.sigmoid(g.tanh(g.halved(g.add(g.add(g.ld("r"), g.ld("hr")), g.ld("br")))))
    g.st(r, "r")
    z = g.sigmoid(g.tanh(g.halved(g.add(g.add(g.ld("z"), g.ld("hz")), g.ld("bz")))))
    g.st(z, "z")
    hn = g.add(g.ld("hn"), g.ld("bhn"))
    g.st(hn, "hn")
    n = g.tanh(g.add(g.add(g.ld("n"), g.ld("bxn")), g.mul(r, hn)))
    g.st(n, "n")
    g.store(g.add(n, g.mul(z, g.sub(g.ld("hprev"), n, keep=(n,)))), "h")


def gate_gru_grad(g):
    """dn = dh*(1-z)*(1-n^2); dz = dh*(hprev-n)*z*(1-z); dr = dn*hn*r*(1-r);
    hr, hz, hnr = dr, dz, dn*r (hidden side); xn = dn; dh = dh*z."""
    dh, z, n = g.ld("dh"), g.ld("z"), g.ld("n")
    dzm = g.mul(dh, g.rsub(g.one, z, keep=(z,)), keep=(dh,))
    dn = g.mul(dzm, g.rsub(g.one, g.mul(n, n, keep=(n,))))
    g.st(dn, "xn")
    dhz = g.mul(g.mul(dh, g.sub(g.ld("hprev"), n), keep=(dh,)), z, keep=(z,))
    g.store(g.mul(dhz, g.rsub(g.one, z, keep=(z,))), "hz")
    g.store(g.mul(dh, z), "dh")
    r = g.ld("r")
    dnr = g.mul(g.mul(dn, g.ld("hn"), keep=(dn,)), r, keep=(r,))
    g.store(g.mul(dnr, g.rsub(g.one, r, keep=(r,))), "hr")
    g.store(g.mul(dn, r), "hnr")


GATES = [
    ("lstmCell", ["gi", "gf", "gg", "gout", "bi", "bf", "bg", "bo", "cprev", "c", "tc", "h"], gate_lstm),
    ("lstmCellGrad", ["zi", "zf", "zg", "zo", "dc", "gi", "gf", "gg", "gout", "tc", "cprev", "dh"], gate_lstm_grad),
    ("gruCell", ["r", "z", "n", "hr", "hz", "hn", "br", "bz", "bxn", "bhn", "hprev", "h"], gate_gru),
    ("gruCellGrad", ["hr", "hz", "hnr", "xn", "dh", "r", "z", "n", "hn", "hprev"], gate_gru_grad),
]


def gate_kernel(isa, spec):
    """A gate kernel over every row of a step in one call (Go signature
    func(H, rows int, st *gateStrides, s *gateRows)): row b of slice i
    starts st[i] elements after row b-1's. The rows' pointers live in the
    frame (8*i(SP), the rows left at 96(SP)): each row loads them into the
    body's registers, runs its H units (blocks, one vector, the masked
    tail), then, unless it was the last, adds the strides to them. Against a
    call a row from Go, which sliced every row's twelve slices, the kernels
    run 15% faster forward (the GRU's and the LSTM's) and 5-26% backward at
    128 units and 64 rows (BenchmarkGateCells, medians of six alternated
    runs; AVX2 4-9% and 21-26%)."""
    name, params, body = spec
    fn = f"{name}{isa.suffix}"
    L = []
    o = L.append
    npar = len(params)
    o(f"// func {fn}(H, rows int, st *gateStrides, s *gateRows): the slices {', '.join(params)}")
    o(f"TEXT ·{fn}(SB), NOSPLIT, $104-32")
    o("\tMOVQ rows+8(FP), CX")
    o("\tTESTQ CX, CX")
    o(f"\tJZ {fn}_end")
    o("\tMOVQ CX, 96(SP)")
    o("\tMOVQ s+24(FP), AX")
    for i in range(npar):
        o(f"\tMOVQ {24 * i}(AX), CX")
        o(f"\tMOVQ CX, {8 * i}(SP)")
    if isa.avx512:
        for c, r in GATE512_CONSTS.items():
            o(f"\tVBROADCASTSS {cref(c)}, {r}")
    else:
        for i, c in enumerate(["clamp", "negclamp"]):
            o(f"\tVMOVUPS {cref(c)}, Y{10 + i}")
    o(f"{fn}_row:")
    for i in range(npar):
        o(f"\tMOVQ {8 * i}(SP), {GATE_PTRS[i]}")
    o("\tMOVQ H+0(FP), CX")
    pools, masks = gate_pools(isa)

    def part(nvec, label, nxt, tail=False):
        """nvec vectors an iteration while that many are left (the tail: the
        masked rest), then nxt."""
        if not tail:
            o(f"{label}:")
            o(f"\tCMPQ CX, ${nvec * isa.w}")
            o(f"\tJLT {nxt}")
        gates = [Gate(isa, params, tail, pools[v], masks[v], v * isa.vb) for v in range(nvec)]
        for g in gates:
            body(g)
            assert len(g.pool) == len(pools[0]), f"{fn}: registers left allocated"
        for lines in zip(*(g.L for g in gates)):  # interleave the vectors
            for line in lines:
                o(bcst(line) if isa.avx512 else line)
        if tail:
            return
        for i in range(npar):
            o(f"\tADDQ ${nvec * isa.vb}, {GATE_PTRS[i]}")
        o(f"\tSUBQ ${nvec * isa.w}, CX")
        o(f"\tJMP {label}")

    part(len(pools), f"{fn}_loop", f"{fn}_one")
    part(1, f"{fn}_one", f"{fn}_tail")
    tail_mask(isa, fn, o)
    part(1, None, None, tail=True)
    o(f"{fn}_done:")  # the row's end
    o("\tDECQ 96(SP)")
    o(f"\tJZ {fn}_last")
    o("\tMOVQ st+16(FP), AX")
    for i in range(npar):
        o(f"\tMOVQ {8 * i}(AX), CX")
        o("\tSHLQ $2, CX")
        o(f"\tADDQ CX, {8 * i}(SP)")
    o(f"\tJMP {fn}_row")
    o(f"{fn}_last:")
    o("\tVZEROUPPER")
    o(f"{fn}_end:")
    o("\tRET")
    return L


def dot_kernel(isa):
    """dot(a, b): 4 accumulators of FMAs over blocks of 4 vectors, then one
    vector at a time, a masked tail, and a horizontal sum. Unlike the other
    kernels its rounding follows its own order (FMAs, per-lane partial sums)."""
    fn = f"dot{isa.suffix}"
    r = isa.reg
    L = []
    o = L.append
    o(f"// func {fn}(a, b []float32) float32")
    o(f"TEXT ·{fn}(SB), NOSPLIT, $0-52")
    o("\tMOVQ a_base+0(FP), SI")
    o("\tMOVQ b_base+24(FP), DI")
    o("\tMOVQ a_len+8(FP), CX")
    for i in range(4):
        o(f"\tVXORPS {r(i)}, {r(i)}, {r(i)}" if not isa.avx512 else f"\tVPXORD {r(i)}, {r(i)}, {r(i)}")
    o(f"{fn}_loop4:")
    o(f"\tCMPQ CX, ${4 * isa.w}")
    o(f"\tJLT {fn}_loop1")
    for i in range(4):
        o(f"\tVMOVUPS {i * isa.vb}(SI), {r(4 + i)}")
        o(f"\tVFMADD231PS {i * isa.vb}(DI), {r(4 + i)}, {r(i)}")
    o(f"\tADDQ ${4 * isa.vb}, SI")
    o(f"\tADDQ ${4 * isa.vb}, DI")
    o(f"\tSUBQ ${4 * isa.w}, CX")
    o(f"\tJMP {fn}_loop4")
    o(f"{fn}_loop1:")
    o(f"\tCMPQ CX, ${isa.w}")
    o(f"\tJLT {fn}_tail")
    o(f"\tVMOVUPS (SI), {r(4)}")
    o(f"\tVFMADD231PS (DI), {r(4)}, {r(1)}")
    o(f"\tADDQ ${isa.vb}, SI")
    o(f"\tADDQ ${isa.vb}, DI")
    o(f"\tSUBQ ${isa.w}, CX")
    o(f"\tJMP {fn}_loop1")
    tail_mask(isa, fn, o)
    if isa.avx512:
        o(f"\tVMOVUPS.Z (SI), K1, {r(4)}")
        o(f"\tVMOVUPS.Z (DI), K1, {r(5)}")
    else:
        o(f"\tVMASKMOVPS (SI), Y15, {r(4)}")
        o(f"\tVMASKMOVPS (DI), Y15, {r(5)}")
    o(f"\tVFMADD231PS {r(5)}, {r(4)}, {r(2)}")
    o(f"{fn}_done:")
    o(f"\tVADDPS {r(1)}, {r(0)}, {r(0)}")
    o(f"\tVADDPS {r(3)}, {r(2)}, {r(2)}")
    o(f"\tVADDPS {r(2)}, {r(0)}, {r(0)}")
    if isa.avx512:
        o("\tVEXTRACTF32X8 $1, Z0, Y1")
        o("\tVADDPS Y1, Y0, Y0")
    o("\tVEXTRACTF128 $1, Y0, X1")
    o("\tVADDPS X1, X0, X0")
    o("\tVHADDPS X0, X0, X0")
    o("\tVHADDPS X0, X0, X0")
    o("\tVMOVSS X0, ret+48(FP)")
    o("\tVZEROUPPER")
    o("\tRET")
    return L


def adam_kernel(isa):
    """AdamStep(w, m, v, g, c): per vector m = b1*m + c1*g, v = b2*v +
    (c2*g)*g, w -= (step*m) / (sqrt(v)*inv + eps), each operation rounded
    on its own in the order of adamGeneric; c's seven scalars broadcast
    into registers 8..14. Two vectors an iteration, then one, then a
    masked tail."""
    fn = f"adam{isa.suffix}"
    L = []
    o = L.append
    o(f"// func {fn}(w, m, v, g []float32, c *AdamConsts)")
    o(f"TEXT ·{fn}(SB), NOSPLIT, $0-104")
    ptrs = {"w": "DI", "m": "SI", "v": "DX", "g": "R8"}
    for i, prm in enumerate(["w", "m", "v", "g"]):
        o(f"\tMOVQ {prm}_base+{24 * i}(FP), {ptrs[prm]}")
    o("\tMOVQ c+96(FP), R9")
    o("\tMOVQ w_len+8(FP), CX")
    b1, c1, b2, c2, step, inv, eps = (isa.reg(8 + i) for i in range(7))
    for i in range(7):
        o(f"\tVBROADCASTSS {4 * i}(R9), {isa.reg(8 + i)}")

    def ld(off, name, r, tail):
        vload(isa, o, f"{off}({ptrs[name]})", r, tail)

    def st(r, off, name, tail):
        vstore(isa, o, r, f"{off}({ptrs[name]})", tail)

    def block(nvec, tail):
        for k in range(nvec):
            off = k * isa.vb
            M, G, T, V = (isa.reg(4 * k + i) for i in range(4))
            ld(off, "m", M, tail)
            ld(off, "g", G, tail)
            o(f"\tVMULPS {b1}, {M}, {M}")
            o(f"\tVMULPS {c1}, {G}, {T}")
            o(f"\tVADDPS {T}, {M}, {M}")
            st(M, off, "m", tail)
            ld(off, "v", V, tail)
            o(f"\tVMULPS {b2}, {V}, {V}")
            o(f"\tVMULPS {c2}, {G}, {T}")
            o(f"\tVMULPS {G}, {T}, {T}")
            o(f"\tVADDPS {T}, {V}, {V}")
            st(V, off, "v", tail)
            o(f"\tVSQRTPS {V}, {V}")
            o(f"\tVMULPS {inv}, {V}, {V}")
            o(f"\tVADDPS {eps}, {V}, {V}")
            o(f"\tVMULPS {step}, {M}, {M}")
            o(f"\tVDIVPS {V}, {M}, {M}")
            ld(off, "w", G, tail)
            o(f"\tVSUBPS {M}, {G}, {G}")
            st(G, off, "w", tail)

    def advance(nvec):
        for r in ptrs.values():
            o(f"\tADDQ ${nvec * isa.vb}, {r}")
        o(f"\tSUBQ ${nvec * isa.w}, CX")

    loops(isa, fn, o, 2, block, advance)
    return L


def main():
    out = [
        "// Code generated by gen_kernels.py; DO NOT EDIT.",
        "",
        "//go:build amd64 && !purego",
        "",
        '#include "textflag.h"',
        "",
        "// vecconst holds each constant replicated over 8 lanes (32 bytes).",
    ]
    for name, bits in CONSTS:
        out.append(f"// {name}")
        for lane in range(8):
            out.append(f"DATA vecconst<>+{COFF[name] + 4 * lane}(SB)/4, $0x{bits:08x}")
    out.append(f"GLOBL vecconst<>(SB), RODATA|NOPTR, ${32 * len(CONSTS)}")
    out.append("")
    out.append("// tailmask is 8 all-ones lanes followed by 8 zero lanes.")
    for lane in range(16):
        out.append(f"DATA tailmask<>+{4 * lane}(SB)/4, $0x{0xFFFFFFFF if lane < 8 else 0:08x}")
    out.append("GLOBL tailmask<>(SB), RODATA|NOPTR, $64")
    for avx512 in (False, True):
        isa = ISA(avx512)
        for spec in OPS:
            out.append("")
            out.extend(kernel(isa, spec))
        for spec in GATES:
            out.append("")
            out.extend(gate_kernel(isa, spec))
        out.append("")
        out.extend(dot_kernel(isa))
        out.append("")
        out.extend(adam_kernel(isa))
    open("kernel_amd64.s", "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
