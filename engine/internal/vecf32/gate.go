package vecf32

// The gate kernels of the gated cells: one pass over a row of hidden units
// doing all of a time step's element-wise work. Every slice has the row's
// length n (they panic otherwise). The sigmoids come from tanh of half the
// argument, sigma(x) = 0.5 + 0.5*tanh(x/2), so the caller's weights carry
// the sigmoid gates' rows halved. Every kernel rounds each product and sum
// separately, in the order of its generic Go form, so all kernels give bit
// for bit the same results.

// LSTMCell finishes an LSTM step (PyTorch's gate order i, f, g, o). On entry
// gi, gf and gout hold half their pre-activations z/2 and gg holds z_g. It
// stores the gates i = sigma(z_i) = 0.5+0.5*tanh(z_i/2), f, o and g =
// tanh(z_g) back into gi, gf, gout and gg, and writes c = f*cprev + i*g,
// tc = tanh(c) and h = o*tc.
func LSTMCell(gi, gf, gg, gout, cprev, c, tc, h []float32) {
	checkLen("LSTMCell", gi, gf, gg, gout, cprev, c, tc, h)
	if !lstmCellAsm(best.kind, gi, gf, gg, gout, cprev, c, tc, h) {
		lstmCellGeneric(gi, gf, gg, gout, cprev, c, tc, h)
	}
}

// LSTMCellGrad is the backward of LSTMCell for the activated gates gi, gf,
// gg, gout, tc = tanh(c) and cprev, given dh = dL/dh and the cell-state
// gradient dc carried from the next step (updated in place to the one for
// cprev). It writes the pre-activation gradients:
//
//	dc' = dc + dh*o*(1-tc²);  zi = dc'*g*i*(1-i);  zf = dc'*cprev*f*(1-f)
//	zg = dc'*i*(1-g²);  zo = dh*tc*o*(1-o);  dc = dc'*f
func LSTMCellGrad(zi, zf, zg, zo, dc, gi, gf, gg, gout, tc, cprev, dh []float32) {
	checkLen("LSTMCellGrad", zi, zf, zg, zo, dc, gi, gf, gg, gout, tc, cprev, dh)
	if !lstmCellGradAsm(best.kind, zi, zf, zg, zo, dc, gi, gf, gg, gout, tc, cprev, dh) {
		lstmCellGradGeneric(zi, zf, zg, zo, dc, gi, gf, gg, gout, tc, cprev, dh)
	}
}

// GRUCell finishes a GRU step (PyTorch's gate order r, z, n). On entry r, z
// and n hold the input side x W_ih^T + b_ih and hr, hz, hn the hidden side
// h W_hh^T + b_hh, the r and z parts halved. It stores the activated gates
// r = sigma(r+hr), z = sigma(z+hz), n = tanh(n + r*hn) back into r, z and n,
// and writes h = n + z*(hprev - n).
func GRUCell(r, z, n, hr, hz, hn, hprev, h []float32) {
	checkLen("GRUCell", r, z, n, hr, hz, hn, hprev, h)
	if !gruCellAsm(best.kind, r, z, n, hr, hz, hn, hprev, h) {
		gruCellGeneric(r, z, n, hr, hz, hn, hprev, h)
	}
}

// GRUCellGrad is the backward of GRUCell for the activated gates r, z, n,
// the hidden-side hn and hprev, given dh = dL/dh (updated in place to
// dh*z, the direct part of dL/dhprev). It writes the hidden-side
// pre-activation gradients hr, hz, hnr and the input side's n part xn (the
// input side's r and z parts equal hr and hz):
//
//	xn = dh*(1-z)*(1-n²);  hz = dh*(hprev-n)*z*(1-z);  hr = xn*hn*r*(1-r);  hnr = xn*r
func GRUCellGrad(hr, hz, hnr, xn, dh, r, z, n, hn, hprev []float32) {
	checkLen("GRUCellGrad", hr, hz, hnr, xn, dh, r, z, n, hn, hprev)
	if !gruCellGradAsm(best.kind, hr, hz, hnr, xn, dh, r, z, n, hn, hprev) {
		gruCellGradGeneric(hr, hz, hnr, xn, dh, r, z, n, hn, hprev)
	}
}

func checkLen(fn string, s ...[]float32) {
	for _, x := range s[1:] {
		if len(x) != len(s[0]) {
			n := make([]int, len(s))
			for i, y := range s {
				n[i] = len(y)
			}
			panicLen(fn, n...)
		}
	}
}

// sigmoidOfTanh is 0.5 + 0.5*t, rounded as the kernels do.
func sigmoidOfTanh(t float32) float32 { return float32(t*0.5) + 0.5 }

func lstmCellGeneric(gi, gf, gg, gout, cprev, c, tc, h []float32) {
	n := len(gi)
	gf, gg, gout, cprev, c, tc, h = gf[:n], gg[:n], gout[:n], cprev[:n], c[:n], tc[:n], h[:n]
	for j := range gi {
		i, f := sigmoidOfTanh(Tanh32(gi[j])), sigmoidOfTanh(Tanh32(gf[j]))
		gi[j], gf[j] = i, f
		g := Tanh32(gg[j])
		gg[j] = g
		cj := float32(f*cprev[j]) + float32(i*g)
		c[j] = cj
		t := Tanh32(cj)
		tc[j] = t
		o := sigmoidOfTanh(Tanh32(gout[j]))
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

func gruCellGeneric(r, z, n, hr, hz, hn, hprev, h []float32) {
	m := len(r)
	z, n, hr, hz, hn, hprev, h = z[:m], n[:m], hr[:m], hz[:m], hn[:m], hprev[:m], h[:m]
	for j := range r {
		rg := sigmoidOfTanh(Tanh32(r[j] + hr[j]))
		r[j] = rg
		ng := Tanh32(n[j] + float32(rg*hn[j]))
		n[j] = ng
		zg := sigmoidOfTanh(Tanh32(z[j] + hz[j]))
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
