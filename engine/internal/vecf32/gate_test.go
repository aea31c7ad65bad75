package vecf32

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// gateCase is one gate kernel: its number of slices, the scale of random
// inputs for each, and the kernel of a given implementation.
type gateCase struct {
	name  string
	n     int // number of slices
	scale func(i int) float32
	run   func(f funcs, s [][]float32)
}

func gateCases() []gateCase {
	return []gateCase{
		{"LSTMCell", 12, func(i int) float32 {
			switch {
			case i == 8:
				return 3 // cprev
			case i >= 4 && i < 8:
				return 1 // biases
			}
			return 5 // the products' part of the pre-activations
		}, func(f funcs, s [][]float32) {
			f.gate(lstmCell, len(s[0]), 1, &gateStrides{}, (*gateRows)(s))
		}},
		{"LSTMCellGrad", 12, func(i int) float32 {
			if i == 4 || i == 10 || i == 11 {
				return 2 // dc, cprev, dh
			}
			return 1
		}, func(f funcs, s [][]float32) {
			f.gate(lstmCellGrad, len(s[0]), 1, &gateStrides{}, (*gateRows)(s))
		}},
		{"GRUCell", 12, func(i int) float32 { return 4 }, func(f funcs, s [][]float32) {
			f.gate(gruCell, len(s[0]), 1, &gateStrides{}, (*gateRows)(s))
		}},
		{"GRUCellGrad", 10, func(i int) float32 { return 1.5 }, func(f funcs, s [][]float32) {
			var r gateRows
			copy(r[:], s)
			f.gate(gruCellGrad, len(s[0]), 1, &gateStrides{}, &r)
		}},
		// Not a gate, but element-wise in the same way: w, m, v, g, the
		// second moments made non-negative (every kernel gets the same).
		{"AdamStep", 4, func(i int) float32 { return []float32{1, 0.1, 0.01, 1}[i] }, func(f funcs, s [][]float32) {
			for j, x := range s[2] {
				s[2][j] = float32(math.Abs(float64(x)))
			}
			if c := adamConsts(3); !adamAsm(f.Kernel(), s[0], s[1], s[2], s[3], c) {
				adamGeneric(s[0], s[1], s[2], s[3], c)
			}
		}},
	}
}

// TestGateKernelsBitForBit runs every gate kernel of every implementation
// on random rows of many lengths and offsets: the results must equal the
// generic kernel's bit for bit, and nothing outside the slices is written.
func TestGateKernelsBitForBit(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	fs := allFuncs(t)
	for _, gc := range gateCases() {
		for iter := 0; iter < 150; iter++ {
			n := r.IntN(70)
			if iter == 0 {
				n = 0
			}
			ins := make([][]float32, gc.n)
			for i := range ins {
				ins[i] = make([]float32, n)
				for j := range ins[i] {
					ins[i][j] = gc.scale(i) * (2*r.Float32() - 1)
				}
			}
			var want [][]float32
			for _, f := range fs {
				off := r.IntN(16)
				s := make([][]float32, gc.n)
				bufs := make([][]float32, gc.n)
				for i := range s {
					bufs[i] = make([]float32, off+n+32)
					for j := range bufs[i] {
						bufs[i][j] = sentinel
					}
					s[i] = bufs[i][off : off+n : off+n]
					copy(s[i], ins[i])
				}
				gc.run(f, s)
				name := fmt.Sprintf("%s %v n=%d", gc.name, f.Kernel(), n)
				for i := range s {
					checkGuards(t, name, bufs[i], off, n)
				}
				if want == nil {
					want = s
					continue
				}
				for i := range s {
					for j := range s[i] {
						if math.Float32bits(s[i][j]) != math.Float32bits(want[i][j]) {
							t.Fatalf("%s: slice %d [%d] = %g, generic %g", name, i, j, s[i][j], want[i][j])
						}
					}
				}
			}
		}
	}
}

// TestGateGradsInPlace: the backward gate kernels may write a step's
// pre-activation gradients over its activated gates (the engine's LSTM and
// GRU do): every implementation gives, in place, bit for bit what it gives
// into separate slices. alias pairs each gradient slice with its gate.
func TestGateGradsInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	alias := map[string][][2]int{
		"LSTMCellGrad": {{0, 5}, {1, 6}, {2, 7}, {3, 8}}, // zi zf zg zo over gi gf gg gout
		"GRUCellGrad":  {{0, 5}, {1, 6}, {2, 7}},         // hr hz hnr over r z n
	}
	for _, f := range allFuncs(t) {
		for _, gc := range gateCases() {
			pairs := alias[gc.name]
			if pairs == nil {
				continue
			}
			for _, n := range []int{0, 1, 7, 15, 16, 17, 31, 32, 33, 47, 64, 70} {
				ins := make([][]float32, gc.n)
				for i := range ins {
					ins[i] = make([]float32, n)
					for j := range ins[i] {
						ins[i][j] = gc.scale(i) * (2*r.Float32() - 1)
					}
				}
				apart, inPlace := make([][]float32, gc.n), make([][]float32, gc.n)
				for i := range ins {
					apart[i], inPlace[i] = slices.Clone(ins[i]), slices.Clone(ins[i])
				}
				for _, p := range pairs {
					inPlace[p[0]] = inPlace[p[1]]
				}
				gc.run(f, apart)
				gc.run(f, inPlace)
				for i := range apart {
					if slices.ContainsFunc(pairs, func(p [2]int) bool { return p[1] == i }) {
						continue // a gate: overwritten in place
					}
					for j := range apart[i] {
						if math.Float32bits(apart[i][j]) != math.Float32bits(inPlace[i][j]) {
							t.Fatalf("%s %v n=%d: slice %d [%d] in place %g, apart %g", gc.name, f.Kernel(), n, i, j, inPlace[i][j], apart[i][j])
						}
					}
				}
			}
		}
	}
}

// TestGateKernelsMath holds the generic gate kernels against the cells'
// formulas in float64.
func TestGateKernelsMath(t *testing.T) {
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	close := func(what string, got float32, want float64) {
		t.Helper()
		if math.Abs(float64(got)-want) > 2e-6*(1+math.Abs(want)) {
			t.Fatalf("%s = %g, want %g", what, got, want)
		}
	}
	// LSTM: pre-activations z = product + bias (0.25 and -0.5 are exact).
	zi, zf, zg, zo, cp := 0.3, -1.2, 0.7, 2.1, -0.4
	gi := []float32{float32(zi - 0.25)}
	gf := []float32{float32(zf + 0.5)}
	gg := []float32{float32(zg - 0.25)}
	gout := []float32{float32(zo + 0.5)}
	c, tc, h := make([]float32, 1), make([]float32, 1), make([]float32, 1)
	lstmCellGeneric(gi, gf, gg, gout, []float32{0.25}, []float32{-0.5}, []float32{0.25}, []float32{-0.5},
		[]float32{float32(cp)}, c, tc, h)
	wc := sig(zf)*cp + sig(zi)*math.Tanh(zg)
	close("LSTM c", c[0], wc)
	close("LSTM h", h[0], sig(zo)*math.Tanh(wc))
	close("LSTM i", gi[0], sig(zi))
	close("LSTM g", gg[0], math.Tanh(zg))
	// Its gradient, against the same formulas differentiated by hand.
	dh, dc := 0.8, -0.3
	i, f, g, o, t64 := sig(zi), sig(zf), math.Tanh(zg), sig(zo), math.Tanh(wc)
	dcp := dc + dh*o*(1-t64*t64)
	outs := [][]float32{{0}, {0}, {0}, {0}, {float32(dc)}}
	lstmCellGradGeneric(outs[0], outs[1], outs[2], outs[3], outs[4], gi, gf, gg, gout, tc, []float32{float32(cp)}, []float32{float32(dh)})
	close("LSTM dzi", outs[0][0], dcp*g*i*(1-i))
	close("LSTM dzf", outs[1][0], dcp*cp*f*(1-f))
	close("LSTM dzg", outs[2][0], dcp*i*(1-g*g))
	close("LSTM dzo", outs[3][0], dh*t64*o*(1-o))
	close("LSTM dc", outs[4][0], dcp*f)
	// GRU.
	xr, xz, xn, hr, hz, hn, hp := 0.2, -0.5, 0.9, 0.4, 0.1, -0.6, 0.35
	// The products and the biases (0.25 and 0.5 exact) add up to them.
	rs := []float32{float32(xr - 0.25)}
	zs := []float32{float32(xz + 0.5)}
	ns := []float32{float32(xn - 0.25)}
	hns := []float32{float32(hn + 0.5)}
	hout := make([]float32, 1)
	gruCellGeneric(rs, zs, ns, []float32{float32(hr)}, []float32{float32(hz)}, hns,
		[]float32{0.25}, []float32{-0.5}, []float32{0.25}, []float32{-0.5}, []float32{float32(hp)}, hout)
	close("GRU hn+bhn", hns[0], hn)
	rg, zgg := sig(xr+hr), sig(xz+hz)
	ng := math.Tanh(xn + rg*hn)
	close("GRU r", rs[0], rg)
	close("GRU n", ns[0], ng)
	close("GRU h", hout[0], (1-zgg)*ng+zgg*hp)
	dhs := []float32{float32(dh)}
	g4 := [][]float32{{0}, {0}, {0}, {0}}
	gruCellGradGeneric(g4[0], g4[1], g4[2], g4[3], dhs, rs, zs, ns, []float32{float32(hn)}, []float32{float32(hp)})
	dn := dh * (1 - zgg) * (1 - ng*ng)
	close("GRU xn", g4[3][0], dn)
	close("GRU hz", g4[1][0], dh*(hp-ng)*zgg*(1-zgg))
	close("GRU hr", g4[0][0], dn*hn*rg*(1-rg))
	close("GRU hnr", g4[2][0], dn*rg)
	close("GRU dh", dhs[0], dh*zgg)
}

// TestGateRows holds the gate kernels of every implementation, which run
// every row of a step, against the generic kernel run on each row: bit for
// bit, for every number of rows (0 to 5) and widths of H around the vector
// widths and their blocks, with prev (cprev, hprev) of one row each or
// shared.
func TestGateRows(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	// fill returns n random values followed in their buffer by guards,
	// checked by guarded after each case: nothing past a slice is written.
	var bufs [][]float32
	fill := func(n int) []float32 {
		buf := make([]float32, n+16)
		for i := range buf {
			buf[i] = sentinel
		}
		s := buf[:n:n]
		for i := range s {
			s[i] = 3 * (2*r.Float32() - 1)
		}
		bufs = append(bufs, buf)
		return s
	}
	guarded := func(name string) {
		t.Helper()
		for _, b := range bufs {
			checkGuards(t, name, b, 0, len(b)-16)
		}
		bufs = bufs[:0]
	}
	same := func(name string, got, want []float32) {
		t.Helper()
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s [%d] = %g, row by row %g", name, i, got[i], want[i])
			}
		}
	}
	for _, f := range allFuncs(t) {
		for _, H := range []int{1, 7, 16, 17, 40, 67} {
			for n := 0; n <= 5; n++ {
				for _, shared := range []bool{false, true} {
					name := fmt.Sprintf("%v H=%d n=%d shared=%v", f.Kernel(), H, n, shared)
					pl := n * H
					if shared {
						pl = H
					}
					pr := func(p []float32, b int) []float32 {
						if shared {
							return p
						}
						return p[b*H : (b+1)*H]
					}
					// LSTMCell and LSTMCellGrad.
					g, bias, p, c, tc, h := fill(4*n*H), fill(4*H), fill(pl), fill(n*H), fill(n*H), fill(n*H)
					g2, c2, tc2, h2 := slices.Clone(g), slices.Clone(c), slices.Clone(tc), slices.Clone(h)
					f.LSTMCell(H, g, bias, p, c, tc, h)
					for b := range n {
						gb, o := g2[b*4*H:], b*H
						lstmCellGeneric(gb[:H], gb[H:2*H], gb[2*H:3*H], gb[3*H:4*H], bias[:H], bias[H:2*H], bias[2*H:3*H], bias[3*H:],
							pr(p, b), c2[o:o+H], tc2[o:o+H], h2[o:o+H])
					}
					same(name+" LSTMCell g", g, g2)
					same(name+" LSTMCell c", c, c2)
					same(name+" LSTMCell tc", tc, tc2)
					same(name+" LSTMCell h", h, h2)
					dz, dc, dh := fill(4*n*H), fill(n*H), fill(n*H)
					dz2, dc2, dh2 := slices.Clone(dz), slices.Clone(dc), slices.Clone(dh)
					f.LSTMCellGrad(H, dz, dc, g, tc, p, dh)
					for b := range n {
						zb, gb, o := dz2[b*4*H:], g[b*4*H:], b*H
						lstmCellGradGeneric(zb[:H], zb[H:2*H], zb[2*H:3*H], zb[3*H:4*H], dc2[o:o+H],
							gb[:H], gb[H:2*H], gb[2*H:3*H], gb[3*H:4*H], tc[o:o+H], pr(p, b), dh2[o:o+H])
					}
					same(name+" LSTMCellGrad dz", dz, dz2)
					same(name+" LSTMCellGrad dc", dc, dc2)
					// GRUCell and GRUCellGrad.
					x, q, gb, bhn := fill(3*n*H), fill(3*n*H), fill(3*H), fill(H)
					x2, q2, h3 := slices.Clone(x), slices.Clone(q), slices.Clone(h)
					f.GRUCell(H, x, q, gb, bhn, p, h)
					for b := range n {
						xb, qb, o := x2[b*3*H:], q2[b*3*H:], b*H
						gruCellGeneric(xb[:H], xb[H:2*H], xb[2*H:3*H], qb[:H], qb[H:2*H], qb[2*H:3*H],
							gb[:H], gb[H:2*H], gb[2*H:], bhn, pr(p, b), h3[o:o+H])
					}
					same(name+" GRUCell x", x, x2)
					same(name+" GRUCell hid", q, q2)
					same(name+" GRUCell h", h, h3)
					gz, xn := fill(3*n*H), fill(n*H)
					gz2, xn2, dh3 := slices.Clone(gz), slices.Clone(xn), slices.Clone(dh)
					hn := fill(n * H)
					f.GRUCellGrad(H, gz, xn, dh, x, hn, p)
					for b := range n {
						zb, xb, o := gz2[b*3*H:], x[b*3*H:], b*H
						gruCellGradGeneric(zb[:H], zb[H:2*H], zb[2*H:3*H], xn2[o:o+H], dh3[o:o+H],
							xb[:H], xb[H:2*H], xb[2*H:3*H], hn[o:o+H], pr(p, b))
					}
					same(name+" GRUCellGrad dz", gz, gz2)
					same(name+" GRUCellGrad xn", xn, xn2)
					same(name+" GRUCellGrad dh", dh, dh3)
					guarded(name)
				}
			}
		}
	}
}

// TestGateKernelsLengthPanics: slices that do not fit rows of H units (a
// short row, a gate slice of the wrong width, a bias of other than 4H, a prev of neither one row
// each nor H values, H of 0) panic with the kernel's name.
func TestGateKernelsLengthPanics(t *testing.T) {
	const H = 4
	s := func(n int) []float32 { return make([]float32, n) }
	for name, f := range map[string]func(){
		"short row":        func() { LSTMCell(H, s(8*H), s(4*H), s(2*H), s(2*H), s(2*H), s(2*H-1)) },
		"gate width":       func() { LSTMCell(H, s(6*H), s(4*H), s(2*H), s(2*H), s(2*H), s(2*H)) },
		"bias":             func() { LSTMCell(H, s(8*H), s(2*H), s(2*H), s(2*H), s(2*H), s(2*H)) },
		"prev":             func() { LSTMCellGrad(H, s(8*H), s(2*H), s(8*H), s(2*H), s(3*H), s(2*H)) },
		"gru hidden width": func() { GRUCell(H, s(6*H), s(4*H), s(3*H), s(H), s(H), s(2*H)) },
		"gru bias":         func() { GRUCell(H, s(6*H), s(6*H), s(3*H), s(2*H), s(H), s(2*H)) },
		"gru grad xn":      func() { GRUCellGrad(H, s(6*H), s(H), s(2*H), s(6*H), s(2*H), s(H)) },
		"gru grad hn":      func() { GRUCellGrad(H, s(6*H), s(2*H), s(2*H), s(6*H), s(6*H), s(H)) },
		"H of 0":           func() { GRUCell(0, nil, nil, nil, nil, nil, nil) },
	} {
		func() {
			defer func() {
				if msg, _ := recover().(string); !strings.Contains(msg, "Cell") {
					t.Errorf("%s: recovered %q, want a panic naming the kernel", name, msg)
				}
			}()
			f()
		}()
	}
}

// TestDot holds every Dot kernel against a float64 sum, for many lengths
// and offsets (nothing past the slices may be read into the sum: the
// guards around them are huge).
func TestDot(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for iter := 0; iter < 300; iter++ {
		n := r.IntN(200)
		off := r.IntN(16)
		a, _ := guarded(r, n, off, 1)
		b, _ := guarded(r, n, r.IntN(16), 2)
		var want, mag float64
		for i := range a {
			p := float64(a[i]) * float64(b[i])
			want += p
			mag += math.Abs(p)
		}
		for _, f := range allFuncs(t) {
			got := f.Dot(a, b)
			if d := math.Abs(float64(got) - want); d > 1e-6*(mag+1) {
				t.Fatalf("%v: Dot of %d = %g, want %g", f.Kernel(), n, got, want)
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Dot with mismatched lengths did not panic")
		}
	}()
	Dot(make([]float32, 3), make([]float32, 4))
}

// TestDotTimesZero holds every Dot kernel to what the trainer's non-finite
// check relies on: the dot product of finite values (the largest, the
// smallest) with zeros is exactly zero, and a NaN or an infinity anywhere
// (every position of the unrolled loop, the one-vector loop and the tail)
// makes it NaN.
func TestDotTimesZero(t *testing.T) {
	for _, f := range allFuncs(t) {
		for _, n := range []int{1, 3, 4, 7, 16, 37, 64, 101} {
			zeros := make([]float32, n)
			a := make([]float32, n)
			for i := range a {
				a[i] = []float32{math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 1}[i%4]
			}
			if got := f.Dot(a, zeros); got != 0 {
				t.Fatalf("%v: Dot of %d finite values with zeros = %g, want 0", f.Kernel(), n, got)
			}
			for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
				for at := range a {
					b := append([]float32(nil), a...)
					b[at] = bad
					if got := f.Dot(b, zeros); got == got {
						t.Fatalf("%v: Dot with %g at %d of %d, times zeros = %g, want NaN", f.Kernel(), bad, at, n, got)
					}
				}
			}
		}
	}
}
