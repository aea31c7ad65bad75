package vecf32

import "fmt"

// The gate kernels of the gated cells: one pass over a time step's rows of
// hidden units doing all of its element-wise work. The sigmoids come from
// tanh of half the argument, sigma(x) = 0.5 + 0.5*tanh(x/2). Every kernel
// rounds each product and sum separately, in the order of its generic Go
// form, so all kernels give bit for bit the same results.

// The generic kernels' signatures, one row each (the NEON kernels'
// too).
type (
	lstmCellFunc     func(gi, gf, gg, gout, bi, bf, bg, bo, cprev, c, tc, h []float32)
	lstmCellGradFunc func(zi, zf, zg, zo, dc, gi, gf, gg, gout, tc, cprev, dh []float32)
	gruCellFunc      func(r, z, n, hr, hz, hn, br, bz, bxn, bhn, hprev, h []float32)
	gruCellGradFunc  func(hr, hz, hnr, xn, dh, r, z, n, hn, hprev []float32)
)

// Each kernel below runs on every row of a time step's batch in one call.
// A row of H units of a slice with w blocks is s[b*w*H:(b+1)*w*H], its
// blocks side by side (as one product of a step leaves the gates); prev
// (cprev, hprev) may instead hold H values, every row's (the first step's
// zero state); a bias holds its blocks once, every row's.

// LSTMCell finishes an LSTM step (PyTorch's gate order i, f, g, o) for the
// rows of H units in h. A row of g holds the blocks i, f, g, o of the
// step's products, and bias (4H values, every row's) the gates' biases;
// the two add up to the pre-activations z. It stores the gates i =
// sigma(z_i) = 0.5+0.5*tanh(z_i/2), f, o and g = tanh(z_g) back into g,
// and writes c = f*cprev + i*g, tc = tanh(c) and h = o*tc (one block a row
// each).
func LSTMCell(H int, g, bias, cprev, c, tc, h []float32) { best.LSTMCell(H, g, bias, cprev, c, tc, h) }

// LSTMCell is the package-level LSTMCell run by f's kernel.
func (f funcs) LSTMCell(H int, g, bias, cprev, c, tc, h []float32) {
	n := rows("LSTMCell", H, h, blocks(g, 4), each(bias, 4), prev(cprev), blocks(c, 1), blocks(tc, 1))
	if n == 0 {
		return
	}
	f.gate(lstmCell, H, n, &gateStrides{4 * H, 4 * H, 4 * H, 4 * H, 0, 0, 0, 0, prevStride(cprev, H), H, H, H},
		&gateRows{g, g[H:], g[2*H:], g[3*H:], bias, bias[H:], bias[2*H:], bias[3*H:], cprev, c, tc, h})
}

// LSTMCellGrad is the backward of LSTMCell for the rows of H units in dh,
// given the activated gates g (blocks i, f, g, o), tc = tanh(c), cprev, dh
// = dL/dh and the cell-state gradient dc carried from the next step
// (updated in place to the one for cprev). It writes the pre-activation
// gradients into dz (blocks zi, zf, zg, zo), which may be g itself (the
// gradients then overwrite the gates):
//
//	dc' = dc + dh*o*(1-tc²);  zi = dc'*g*i*(1-i);  zf = dc'*cprev*f*(1-f)
//	zg = dc'*i*(1-g²);  zo = dh*tc*o*(1-o);  dc = dc'*f
func LSTMCellGrad(H int, dz, dc, g, tc, cprev, dh []float32) {
	best.LSTMCellGrad(H, dz, dc, g, tc, cprev, dh)
}

// LSTMCellGrad is the package-level LSTMCellGrad run by f's kernel.
func (f funcs) LSTMCellGrad(H int, dz, dc, g, tc, cprev, dh []float32) {
	n := rows("LSTMCellGrad", H, dh, prev(cprev), blocks(dz, 4), blocks(dc, 1), blocks(g, 4), blocks(tc, 1))
	if n == 0 {
		return
	}
	f.gate(lstmCellGrad, H, n, &gateStrides{4 * H, 4 * H, 4 * H, 4 * H, H, 4 * H, 4 * H, 4 * H, 4 * H, H, prevStride(cprev, H), H},
		&gateRows{dz, dz[H:], dz[2*H:], dz[3*H:], dc, g, g[H:], g[2*H:], g[3*H:], tc, cprev, dh})
}

// GRUCell finishes a GRU step (PyTorch's gate order r, z, n) for the rows
// of H units in h. On entry a row of x holds the input side's products x
// W_ih^T (blocks r, z, n) and one of hid the hidden side's h W_hh^T (hr,
// hz, hn); bias (3H values, every row's) holds the r and z biases, b_ih +
// b_hh, and the input side's n bias b_in, bhn (H values) the hidden side's
// b_hn. It adds b_hn to hn (stored back: the backward pass reads it),
// stores the activated gates r = sigma(r+hr+b_r), z = sigma(z+hz+b_z), n
// = tanh(n+b_in + r*hn) back into x, and writes h = n + z*(hprev - n).
func GRUCell(H int, x, hid, bias, bhn, hprev, h []float32) {
	best.GRUCell(H, x, hid, bias, bhn, hprev, h)
}

// GRUCell is the package-level GRUCell run by f's kernel.
func (f funcs) GRUCell(H int, x, hid, bias, bhn, hprev, h []float32) {
	n := rows("GRUCell", H, h, blocks(x, 3), blocks(hid, 3), each(bias, 3), each(bhn, 1), prev(hprev))
	if n == 0 {
		return
	}
	f.gate(gruCell, H, n, &gateStrides{3 * H, 3 * H, 3 * H, 3 * H, 3 * H, 3 * H, 0, 0, 0, 0, prevStride(hprev, H), H},
		&gateRows{x, x[H:], x[2*H:], hid, hid[H:], hid[2*H:], bias, bias[H:], bias[2*H:], bhn, hprev, h})
}

// GRUCellGrad is the backward of GRUCell for the rows of H units in dh,
// given the activated gates g (blocks r, z, n), hn (a block a row: the
// hidden side's n block as GRUCell left it, W_hn h + b_hn), hprev and dh
// = dL/dh (updated in place to dh*z, the direct part of dL/dhprev). It
// writes the hidden side's pre-activation gradients into dz (blocks hr,
// hz, hnr; dz may be g itself) and the input side's n block into xn (the
// input side's r and z blocks equal hr and hz):
//
//	xn = dh*(1-z)*(1-n²);  hz = dh*(hprev-n)*z*(1-z);  hr = xn*hn*r*(1-r);  hnr = xn*r
func GRUCellGrad(H int, dz, xn, dh, g, hn, hprev []float32) {
	best.GRUCellGrad(H, dz, xn, dh, g, hn, hprev)
}

// GRUCellGrad is the package-level GRUCellGrad run by f's kernel.
func (f funcs) GRUCellGrad(H int, dz, xn, dh, g, hn, hprev []float32) {
	n := rows("GRUCellGrad", H, dh, prev(hprev), blocks(dz, 3), blocks(xn, 1), blocks(g, 3), blocks(hn, 1))
	if n == 0 {
		return
	}
	f.gate(gruCellGrad, H, n, &gateStrides{3 * H, 3 * H, 3 * H, H, H, 3 * H, 3 * H, 3 * H, H, prevStride(hprev, H)},
		&gateRows{dz, dz[H:], dz[2*H:], xn, dh, g, g[H:], g[2*H:], hn, hprev})
}

// gate names a gate kernel.
type gate int

const (
	lstmCell gate = iota
	lstmCellGrad
	gruCell
	gruCellGrad
)

// gateRows are a gate kernel's slices in the order of its row form's
// parameters (the GRU's backward has ten), each from its first row on, and
// gateStrides the elements from one row of each to the next (0 for a slice
// every row shares): row b of slice i is s[i][b*st[i]:][:H]. The amd64
// kernels take the two by pointer and walk the rows themselves (faster
// than a call a row: see gen_kernels.py's gate_kernel).
type (
	gateRows    [12][]float32
	gateStrides [12]int
)

// row returns row b of every slice of s.
func (s *gateRows) row(b, H int, st *gateStrides) (r gateRows) {
	for i, x := range s {
		if x != nil {
			r[i] = x[b*st[i]:][:H]
		}
	}
	return r
}

// prevStride is the stride of a prev slice: 0 if it holds one row, every
// row's.
func prevStride(p []float32, H int) int {
	if len(p) == H {
		return 0
	}
	return H
}

// gate runs gate kernel g over rows >= 1 rows of H units with f's kernel.
func (f funcs) gate(g gate, H, rows int, st *gateStrides, s *gateRows) {
	if !gateAsm(f.kind, g, H, rows, st, s) {
		k := genericRowKernels()
		k.run(g, H, rows, st, s)
	}
}

// rowKernels are gate kernels of one row each: the generic ones, and
// those of an architecture whose kernels run a row a call.
type rowKernels struct {
	lstmCell     lstmCellFunc
	lstmCellGrad lstmCellGradFunc
	gruCell      gruCellFunc
	gruCellGrad  gruCellGradFunc
}

func genericRowKernels() rowKernels {
	return rowKernels{lstmCellGeneric, lstmCellGradGeneric, gruCellGeneric, gruCellGradGeneric}
}

// run runs k's kernel g on each of rows rows.
func (k *rowKernels) run(g gate, H, rows int, st *gateStrides, s *gateRows) {
	for b := range rows {
		r := s.row(b, H, st)
		switch g {
		case lstmCell:
			k.lstmCell(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11])
		case lstmCellGrad:
			k.lstmCellGrad(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11])
		case gruCell:
			k.gruCell(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11])
		case gruCellGrad:
			k.gruCellGrad(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9])
		}
	}
}

// shape is a slice's length and the blocks of H it may hold: perRow a
// row (-1: none), or once for every row (0: not so).
type shape struct{ len, perRow, once int }

func blocks(s []float32, w int) shape { return shape{len(s), w, 0} }
func each(s []float32, w int) shape   { return shape{len(s), -1, w} }
func prev(s []float32) shape          { return shape{len(s), 1, 1} }

// rows returns the number of rows of H units in the slice of one block a
// row, and panics, naming fn, unless H > 0 and every slice's shape fits
// them.
func rows(fn string, H int, one []float32, s ...shape) int {
	n := 0
	if H > 0 {
		n = len(one) / H
	}
	ok := H > 0 && len(one) == n*H
	for _, x := range s {
		ok = ok && (x.perRow >= 0 && x.len == x.perRow*n*H || x.once > 0 && x.len == x.once*H)
	}
	if !ok {
		l := []int{H, len(one)}
		for _, x := range s {
			l = append(l, x.len)
		}
		panic(fmt.Sprintf("vecf32: %s: H and the slices' lengths do not fit rows of H units: %v", fn, l))
	}
	return n
}

// sigmoidOfTanh is 0.5 + 0.5*t, rounded as the kernels do.
func sigmoidOfTanh(t float32) float32 { return float32(t*0.5) + 0.5 }

func lstmCellGeneric(gi, gf, gg, gout, bi, bf, bg, bo, cprev, c, tc, h []float32) {
	n := len(gi)
	gf, gg, gout, cprev, c, tc, h = gf[:n], gg[:n], gout[:n], cprev[:n], c[:n], tc[:n], h[:n]
	bi, bf, bg, bo = bi[:n], bf[:n], bg[:n], bo[:n]
	for j := range gi {
		i, f := sigmoidOfTanh(Tanh32(0.5*(gi[j]+bi[j]))), sigmoidOfTanh(Tanh32(0.5*(gf[j]+bf[j])))
		gi[j], gf[j] = i, f
		g := Tanh32(gg[j] + bg[j])
		gg[j] = g
		cj := float32(f*cprev[j]) + float32(i*g)
		c[j] = cj
		t := Tanh32(cj)
		tc[j] = t
		o := sigmoidOfTanh(Tanh32(0.5 * (gout[j] + bo[j])))
		gout[j] = o
		h[j] = o * t
	}
}

func lstmCellGradGeneric(zi, zf, zg, zo, dc, gi, gf, gg, gout, tc, cprev, dh []float32) {
	n := len(zi)
	zf, zg, zo, dc, gi, gf, gg, gout, tc, cprev, dh = zf[:n], zg[:n], zo[:n], dc[:n], gi[:n], gf[:n], gg[:n], gout[:n], tc[:n], cprev[:n], dh[:n]
	for j := range zi {
		o, t, d := gout[j], tc[j], dh[j]
		dcj := dc[j] + float32(float32(d*o)*(1-float32(t*t)))
		zo[j] = float32(float32(d*t)*o) * (1 - o)
		i, g := gi[j], gg[j]
		zi[j] = float32(float32(dcj*g)*i) * (1 - i)
		zg[j] = float32(dcj*i) * (1 - float32(g*g))
		f := gf[j]
		zf[j] = float32(float32(dcj*cprev[j])*f) * (1 - f)
		dc[j] = dcj * f
	}
}

func gruCellGeneric(r, z, n, hr, hz, hn, br, bz, bxn, bhn, hprev, h []float32) {
	m := len(r)
	z, n, hr, hz, hn, hprev, h = z[:m], n[:m], hr[:m], hz[:m], hn[:m], hprev[:m], h[:m]
	br, bz, bxn, bhn = br[:m], bz[:m], bxn[:m], bhn[:m]
	for j := range r {
		rg := sigmoidOfTanh(Tanh32(0.5 * (r[j] + hr[j] + br[j])))
		r[j] = rg
		q := hn[j] + bhn[j]
		hn[j] = q
		ng := Tanh32(n[j] + bxn[j] + float32(rg*q))
		n[j] = ng
		zg := sigmoidOfTanh(Tanh32(0.5 * (z[j] + hz[j] + bz[j])))
		z[j] = zg
		h[j] = ng + float32(zg*(hprev[j]-ng))
	}
}

func gruCellGradGeneric(hr, hz, hnr, xn, dh, r, z, n, hn, hprev []float32) {
	m := len(hr)
	hz, hnr, xn, dh, r, z, n, hn, hprev = hz[:m], hnr[:m], xn[:m], dh[:m], r[:m], z[:m], n[:m], hn[:m], hprev[:m]
	for j := range hr {
		d, zg, ng := dh[j], z[j], n[j]
		dn := float32(d*(1-zg)) * (1 - float32(ng*ng))
		xn[j] = dn
		hz[j] = float32(float32(d*(hprev[j]-ng))*zg) * (1 - zg)
		dh[j] = d * zg
		rg := r[j]
		hr[j] = float32(float32(dn*hn[j])*rg) * (1 - rg)
		hnr[j] = dn * rg
	}
}
