package engine

import "github.com/mnist-tui/mnist-tui/engine/gemm"

// lstmForward runs PyTorch's LSTM (gate order i, f, g, o) over x:
//
//	[zi zf zg zo] = x_t Wih^T + bih + h_{t-1} Whh^T + bhh
//	i, f, o = sigma(zi), sigma(zf), sigma(zo);  g = tanh(zg)
//	c_t = f*c_{t-1} + i*g;  h_t = o*tanh(c_t);  h_{-1} = c_{-1} = 0
//
// It keeps the activated gates (T*B x 4H), the cell states cs and the hidden
// states hs (T*B x H) for the backward pass.
func lstmForward(d dims, workers int, x, wih, whh, bih, bhh, gates, cs, hs []float32) {
	H, gh := d.H, 4*d.H
	inputProjection(d, workers, gh, x, wih, bih, bhh, gates)
	split(d.B, workers, func(b0, b1 int) {
		n := b1 - b0
		for t := 0; t < d.T; t++ {
			off := t*d.B + b0
			if t > 0 {
				prev := hs[((t-1)*d.B+b0)*H:]
				gemm.Sgemm(false, true, n, gh, H, 1, prev, H, whh, H, 1, gates[off*gh:], gh)
			}
			for b := 0; b < n; b++ {
				r := off + b
				row := gates[r*gh : (r+1)*gh]
				gi, gf, gg, go_ := row[:H], row[H:2*H], row[2*H:3*H], row[3*H:]
				c, h := cs[r*H:(r+1)*H], hs[r*H:(r+1)*H]
				var cprev []float32
				if t > 0 {
					cprev = cs[(r-d.B)*H : (r-d.B+1)*H]
				}
				for j := range c {
					i, f, g, o := sigmoid32(gi[j]), sigmoid32(gf[j]), tanh32(gg[j]), sigmoid32(go_[j])
					cj := i * g
					if cprev != nil {
						cj += f * cprev[j]
					}
					gi[j], gf[j], gg[j], go_[j] = i, f, g, o
					c[j] = cj
					h[j] = o * tanh32(cj)
				}
			}
		}
	})
}

// lstmBackward back-propagates dLast (B x H) through the steps lstmForward
// saved, writing the pre-activation gradients of every step into dz
// (T*B x 4H). dh and dc are B x H scratch for the hidden- and cell-state
// gradients carried backwards:
//
//	dc   += dh*o*(1-tanh(c)^2)
//	dzi = dc*g*i(1-i),  dzf = dc*c_{t-1}*f(1-f),  dzg = dc*i*(1-g^2),  dzo = dh*tanh(c)*o(1-o)
//	dh_{t-1} = dz_t Whh;  dc_{t-1} = dc*f
func lstmBackward(d dims, workers int, whh, gates, cs, dLast, dz, dh, dc []float32) {
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
				c := cs[r*H : (r+1)*H]
				var cprev []float32
				if t > 0 {
					cprev = cs[(r-d.B)*H : (r-d.B+1)*H]
				}
				gb, cb := g[b*H:(b+1)*H], cc[b*H:(b+1)*H]
				for j, cj := range c {
					i, f, gv, o := gi[j], gf[j], gg[j], go_[j]
					tc := tanh32(cj)
					dhj := gb[j]
					dcj := cb[j] + dhj*o*(1-tc*tc)
					var cp float32
					if cprev != nil {
						cp = cprev[j]
					}
					zi[j] = dcj * gv * i * (1 - i)
					zf[j] = dcj * cp * f * (1 - f)
					zg[j] = dcj * i * (1 - gv*gv)
					zo[j] = dhj * tc * o * (1 - o)
					cb[j] = dcj * f
				}
			}
			if t > 0 {
				gemm.Sgemm(false, false, n, H, gh, 1, dz[off*gh:], gh, whh, H, 0, g, H)
			}
		}
	})
}
