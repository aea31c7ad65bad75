package engine

import (
	"github.com/mnist-tui/mnist-tui/engine/gemm"
	"github.com/mnist-tui/mnist-tui/engine/vecf32"
)

// gruForward runs PyTorch's GRU (gate order r, z, n) over x:
//
//	[xr xz xn] = x_t Wih^T + bih;  [hr hz hn] = h_{t-1} Whh^T + bhh
//	r = sigma(xr + hr);  z = sigma(xz + hz);  n = tanh(xn + r*hn)
//	h_t = (1-z)*n + z*h_{t-1};  h_{-1} = 0
//
// The weights come with the r and z rows halved (see gatedBufs), so the
// products give (xr+hr)/2 and (xz+hz)/2 directly. whhT is that Whh^T packed
// (H x 3H). It keeps the activated gates r, z, n
// (T*B x 3H), hn (T*B x H) and the hidden states hs for the backward pass;
// hp (B x 3H) is scratch.
func gruForward(d dims, workers int, x, wih []float32, whhT *gemm.PackedB, bih, bhh, gates, hns, hp, hs []float32) {
	H, gh := d.H, 3*d.H
	inputProjection(d, workers, gh, x, wih, bih, nil, gates)
	split(d.B, workers, func(b0, b1 int) {
		n := b1 - b0
		hpb := hp[b0*gh : b1*gh]
		for t := 0; t < d.T; t++ {
			off := t*d.B + b0
			for b := 0; b < n; b++ {
				copy(hpb[b*gh:(b+1)*gh], bhh)
			}
			if t > 0 {
				gemm.SgemmPacked(false, n, 1, hs[(off-d.B)*H:], H, whhT, 1, hpb, gh)
			}
			for b := 0; b < n; b++ {
				r := off + b
				row := gates[r*gh : (r+1)*gh]
				hrow := hpb[b*gh : (b+1)*gh]
				rz := row[:2*H]
				vecf32.AddTo(rz, hrow[:2*H])
				tanhTo(rz, rz)
				rs, xn, hn := row[:H], row[2*H:], hrow[2*H:]
				for j, v := range rs {
					rg := 0.5 + 0.5*v
					rs[j] = rg
					xn[j] += rg * hn[j]
				}
				tanhTo(xn, xn)
				copy(hns[r*H:(r+1)*H], hn)
				zs, h := row[H:2*H], hs[r*H:(r+1)*H]
				if t > 0 {
					hprev := hs[(r-d.B)*H : (r-d.B+1)*H]
					for j, v := range zs {
						zg := 0.5 + 0.5*v
						zs[j] = zg
						h[j] = xn[j] + zg*(hprev[j]-xn[j])
					}
				} else {
					for j, v := range zs {
						zg := 0.5 + 0.5*v
						zs[j] = zg
						h[j] = (1 - zg) * xn[j]
					}
				}
			}
		}
	})
}

// gruBackward back-propagates dLast (B x H) through the steps gruForward
// saved. It writes the gradients at the input-side pre-activations into dx
// and at the hidden-side ones into dhid (both T*B x 3H; they differ only in
// the n block, where the hidden side is scaled by r). whh is Whh packed
// (3H x H); dh is B x H scratch:
//
//	dn = dh*(1-z)*(1-n^2);  dzz = dh*(h_{t-1}-n)*z(1-z);  dr = dn*hn*r(1-r)
//	dx = [dr dzz dn];  dhid = [dr dzz dn*r];  dh_{t-1} = dh*z + dhid Whh
func gruBackward(d dims, workers int, whh *gemm.PackedB, gates, hns, hs, dLast, dx, dhid, dh []float32) {
	H, gh := d.H, 3*d.H
	split(d.B, workers, func(b0, b1 int) {
		n := b1 - b0
		g := dh[b0*H : b1*H]
		copy(g, dLast[b0*H:b1*H])
		for t := d.T - 1; t >= 0; t-- {
			off := t*d.B + b0
			for b := 0; b < n; b++ {
				r := off + b
				row := gates[r*gh : (r+1)*gh]
				rs, zs, ns := row[:H], row[H:2*H], row[2*H:]
				xo, ho := dx[r*gh:(r+1)*gh], dhid[r*gh:(r+1)*gh]
				hn := hns[r*H : (r+1)*H]
				var hprev []float32
				if t > 0 {
					hprev = hs[(r-d.B)*H : (r-d.B+1)*H]
				}
				gb := g[b*H : (b+1)*H]
				for j, dhj := range gb {
					rg, zg, ng := rs[j], zs[j], ns[j]
					var hp float32
					if hprev != nil {
						hp = hprev[j]
					}
					dn := dhj * (1 - zg) * (1 - ng*ng)
					dzz := dhj * (hp - ng) * zg * (1 - zg)
					dr := dn * hn[j] * rg * (1 - rg)
					xo[j], xo[H+j], xo[2*H+j] = dr, dzz, dn
					ho[j], ho[H+j], ho[2*H+j] = dr, dzz, dn*rg
					gb[j] = dhj * zg
				}
			}
			if t > 0 {
				gemm.SgemmPacked(false, n, 1, dhid[off*gh:], gh, whh, 1, g, H)
			}
		}
	})
}
