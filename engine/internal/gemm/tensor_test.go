package gemm

import "gorgonia.org/tensor"

func tensorOf(v []float32, r, c int) *tensor.Dense {
	return tensor.New(tensor.WithShape(r, c), tensor.WithBacking(v))
}
