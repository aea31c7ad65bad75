package engine

import "testing"

// BenchmarkTrainStep is one training step of the seed model on a batch of
// 64: forward, backward through time and the Adam update. Compare with
// scripts/bench_torch.py's "train" figure (scripts/bench_compare.sh).
func BenchmarkTrainStep(b *testing.B) { benchCell(b, RNN, true, false) }

// BenchmarkEvalStep is one forward pass of the seed model on a batch of 64.
// Compare with scripts/bench_torch.py's "eval" figure.
func BenchmarkEvalStep(b *testing.B) { benchCell(b, RNN, false, false) }
