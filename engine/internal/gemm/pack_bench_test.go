package gemm

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkPack(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	src := randSlice(rng, 1792*128)
	dst := make([]float32, mcMax*kcMax+ncMax*kcMax)
	for _, ctx := range allKernels(b) {
		tr, cp, name := ctx.k.tr, ctx.k.cp, ctx.Kernel().String()
		b.Run("A_N_64x128_mr8/"+name, func(b *testing.B) {
			for b.Loop() {
				packA(tr, cp, 8, false, src, 128, 0, 64, 0, 128, dst)
			}
		})
		b.Run("A_T_64x128_mr8/"+name, func(b *testing.B) {
			for b.Loop() {
				packA(tr, cp, 8, true, src, 64, 0, 64, 0, 128, dst)
			}
		})
		b.Run("B_T_128x128_nr32/"+name, func(b *testing.B) {
			for b.Loop() {
				packB(tr, cp, 32, true, src, 128, 0, 128, 0, 128, dst)
			}
		})
		b.Run("B_N_128x128_nr32/"+name, func(b *testing.B) {
			for b.Loop() {
				packB(tr, cp, 32, false, src, 128, 0, 128, 0, 128, dst)
			}
		})
	}
}
