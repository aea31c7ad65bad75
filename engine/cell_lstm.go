package engine

import "github.com/mnist-tui/mnist-tui/engine/gemm"

// lstmForward runs PyTorch's LSTM (gate order i, f, g, o) over x:
//
//	[zi zf zg zo] = x_t Wih^T + bih + h_{t-1} Whh^T + bhh
//	i, f, o = sigma(zi), sigma(zf), sigma(zo);  g = tanh(zg)
//	c_t = f*c_{t-1} + i*g;  h_t = o*tanh(c_t);  h_{-1} = c_{-1} = 0
//
// The weights come with the sigmoid gates' rows halved (see gatedBufs), so
// the gate pre-activations are zi/2, zf/2, zg, zo/2. whhT is that Whh^T
// packed (H x 4H). It keeps the activated gates (T*B x 4H),
// the cell states cs, tanh(c) in tcs and the hidden states hs (T*B x H) for
// the backward pass.
func lstmForward(d dims, workers int, x, wih []float32, whhT *gemm.PackedB, bih, bhh, gates, cs, tcs, hs []float32) {
	H, gh := d.H, 4*d.H
	inputProjection(d, workers, gh, x, wih, bih, bhh, gates)
	split(d.B, workers, func(b0, b1 int) {
		n := b1 - b0
		for t := 0; t < d.T; t++ {
			off := t*d.B + b0
			blk := gates[off*gh : (off+n)*gh]
			if t > 0 {
				gemm.SgemmPacked(false, n, 1, hs[(off-d.B)*H:], H, whhT, 1, blk, gh)
			}
			tanhTo(blk, blk)
			for b := 0; b < n; b++ {
				r := off + b
				row := blk[b*gh : (b+1)*gh]
				gi, gf, gg, go_ := row[:H], row[H:2*H], row[2*H:3*H], row[3*H:]
				c := cs[r*H : (r+1)*H]
				if t > 0 {
					cprev := cs[(r-d.B)*H : (r-d.B+1)*H]
					for j := range c {
						i, f := 0.5+0.5*gi[j], 0.5+0.5*gf[j]
						gi[j], gf[j], go_[j] = i, f, 0.5+0.5*go_[j]
						c[j] = f*cprev[j] + i*gg[j]
					}
				} else {
					for j := range c {
						i := 0.5 + 0.5*gi[j]
						gi[j], gf[j], go_[j] = i, 0.5+0.5*gf[j], 0.5+0.5*go_[j]
						c[j] = i * gg[j]
					}
				}
			}
			tanhTo(tcs[off*H:(off+n)*H], cs[off*H:(off+n)*H])
			for b := 0; b < n; b++ {
				r := off + b
				go_ := blk[b*gh+3*H : (b+1)*gh]
				tc, h := tcs[r*H:(r+1)*H], hs[r*H:(r+1)*H]
				for j, o := range go_ {
					h[j] = o * tc[j]
				}
			}
		}
	})
}

// lstmBackward back-propagates dLast (B x H) through the steps lstmForward
// saved, writing the pre-activation gradients of every step into dz
// (T*B x 4H). whh is Whh packed (4H x H); dh and dc are B x H scratch for
// the hidden- and cell-state gradients carried backwards:
//
//	dc  += dh*o*(1-tanh(c)^2)
//	dzi = dc*g*i(1-i),  dzf = dc*c_{t-1}*f(1-f),  dzg = dc*i*(1-g^2),  dzo = dh*tanh(c)*o(1-o)
//	dh_{t-1} = dz_t Whh;  dc_{t-1} = dc*f
func lstmBackward(d dims, workers int, whh *gemm.PackedB, gates, cs, tcs, dLast, dz, dh, dc []float32) {
	H, gh := d.H, 4*d.H
	split(d.B, workers, func(b0, b1 int) {
		n := b1 - b0
		g := dh[b0*H : b1*H]
		copy(g, dLast[b0*H:b1*H])
		cc := dc[b0*H : b1*H]
		clear(cc)
		for t := d.T - 1; t >= 0; t-- {
			off := t*d.B + b0
			for b := 0; b < n; b++ {
				r := off + b
				row := gates[r*gh : (r+1)*gh]
				gi, gf, gg, go_ := row[:H], row[H:2*H], row[2*H:3*H], row[3*H:]
				z := dz[r*gh : (r+1)*gh]
				zi, zf, zg, zo := z[:H], z[H:2*H], z[2*H:3*H], z[3*H:]
				tc := tcs[r*H : (r+1)*H]
				var cprev []float32
				if t > 0 {
					cprev = cs[(r-d.B)*H : (r-d.B+1)*H]
				}
				gb, cb := g[b*H:(b+1)*H], cc[b*H:(b+1)*H]
				for j, tcj := range tc {
					i, f, gv, o := gi[j], gf[j], gg[j], go_[j]
					dhj := gb[j]
					dcj := cb[j] + dhj*o*(1-tcj*tcj)
					var cp float32
					if cprev != nil {
						cp = cprev[j]
					}
					zi[j] = dcj * gv * i * (1 - i)
					zf[j] = dcj * cp * f * (1 - f)
					zg[j] = dcj * i * (1 - gv*gv)
					zo[j] = dhj * tcj * o * (1 - o)
					cb[j] = dcj * f
				}
			}
			if t > 0 {
				gemm.SgemmPacked(false, n, 1, dz[off*gh:], gh, whh, 0, g, H)
			}
		}
	})
}
