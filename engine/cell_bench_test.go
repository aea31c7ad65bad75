package engine

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mnist-tui/mnist-tui/engine/internal/gemm"
	"github.com/mnist-tui/mnist-tui/engine/internal/peak"
)

// flopsPerSample counts the floating-point operations of the matrix
// products of one sample through c's network (a multiply-add is two): the
// forward pass, and with train also the backward one.
func flopsPerSample(c Config, train bool) float64 {
	T, I, H, C := float64(c.Steps), float64(c.Inputs), float64(c.Hidden), float64(c.Classes)
	gh := float64(c.gates()) * H
	fwd := 2*T*I*gh + 2*(T-1)*H*gh + 2*H*C
	if !train {
		return fwd
	}
	// dh through the steps, the weight gradients, the head's two products.
	return fwd + 2*(T-1)*gh*H + 2*(T-1)*gh*H + 2*T*gh*I + 4*C*H
}

// benchParams returns the notebook's configuration for cell, zeroed
// parameters and, for training, gradient buffers (nil otherwise).
func benchParams(cell Cell, train bool) (Config, *Params, *Params) {
	c := DefaultConfig()
	c.Cell = cell
	var grads *Params
	if train {
		grads = NewParams(c)
	}
	return c, NewParams(c), grads
}

// randomBatch fills st's inputs and labels with the same seeded random
// batch every time (inputs in [-1, 1], as normalised pixels).
func randomBatch(st *batchState) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range st.x {
		st.x[i] = 2*rng.Float32() - 1
	}
	for i := range st.y {
		st.y[i] = rng.IntN(10)
	}
}

// benchCell is one training step (forward, backward, Adam) or forward pass
// of cell at the notebook's sizes on a batch of 64, on workers() workers
// (set them with -cpu 1,2). It reports samples/s (wall), cpu-samples/s
// (samples per CPU-second of the whole process, which stays meaningful on
// a loaded machine) and peak-frac, the products' GFLOP per CPU-second as a
// fraction of one core's FMA peak measured here (internal/peak).
// peakISA is the FMA loop to compare the products with: the instruction
// set of the GEMM kernel that runs (MNIST_TUI_KERNEL=avx2 on an AVX-512
// machine compares with the AVX2 peak).
func peakISA() peak.ISA {
	if gemm.Best() == gemm.KernelAVX2 {
		return peak.AVX2
	}
	return peak.Best
}

func benchCell(b *testing.B, cell Cell, train, norms bool) {
	c, p, grads := benchParams(cell, train)
	n, err := newNet(c, c.Batch, workers(), p, grads)
	if err != nil {
		b.Fatal(err)
	}
	n.st.lay.wantNorms = norms
	p.CopyFrom(InitParams(c))
	randomBatch(n.st)
	if !train {
		evalPrepared(n, p)
	}
	adam := NewAdam(c)
	pk := peak.PerCore(peakISA(), 50*time.Millisecond)
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	c0 := peak.ProcessCPU()
	for i := 0; i < b.N; i++ {
		if err := n.run(); err != nil {
			b.Fatal(err)
		}
		if train {
			adam.step(p, grads, n.st.lay.relay, true)
		}
	}
	c1 := peak.ProcessCPU()
	b.StopTimer()
	samples := float64(b.N * c.Batch)
	b.ReportMetric(samples/b.Elapsed().Seconds(), "samples/s")
	if c0 >= 0 && c1 > c0 {
		cpuSec := float64(c1-c0) / 1e9
		b.ReportMetric(samples/cpuSec, "cpu-samples/s")
		if pk > 0 {
			b.ReportMetric(samples*flopsPerSample(c, train)/cpuSec/1e9/pk, "peak-frac")
		}
	}
}

func BenchmarkCellTrainStep(b *testing.B) {
	for _, cell := range Cells {
		b.Run(cell.String(), func(b *testing.B) { benchCell(b, cell, true, false) })
	}
}

func BenchmarkCellEvalStep(b *testing.B) {
	for _, cell := range Cells {
		b.Run(cell.String(), func(b *testing.B) { benchCell(b, cell, false, false) })
	}
}

// BenchmarkGradNorms is a training step that also records the norms of
// dL/dh_t at every step (the GradNorms of a sampled batch), beside the same
// step without them: the cost of sampling every batch.
func BenchmarkGradNorms(b *testing.B) {
	for _, cell := range Cells {
		for _, on := range []bool{false, true} {
			name := cell.String() + "/off"
			if on {
				name = cell.String() + "/on"
			}
			b.Run(name, func(b *testing.B) { benchCell(b, cell, true, on) })
		}
	}
}

// evalPrepared prepares n's weights once from p, as an evaluation pass
// over a set does (the weights do not change between its batches).
func evalPrepared(n *net, p *Params) {
	n.st.lay.w.prepare(p)
	n.st.lay.w.fresh = true
}

// BenchmarkGradNormsInterleaved is the cost of a training step that records
// the gradient norms, measured on a loaded machine: one graph alternates
// steps with and without them (forward, backward, Adam), timing each
// step's CPU time (the whole process's: both workers), and reports the
// medians and sampled-cost-%, how much more a sampled step costs. A run
// sampling every k-th batch (runs.GradNormsEvery) pays sampled-cost-%/k.
// -cpu 1 measures it with less noise on a loaded machine.
func BenchmarkGradNormsInterleaved(b *testing.B) {
	if peak.ProcessCPU() < 0 {
		b.Skip("reads the process's CPU time, on Linux only")
	}
	for _, cell := range Cells {
		b.Run(cell.String(), func(b *testing.B) {
			c, p, grads := benchParams(cell, true)
			n, err := newNet(c, c.Batch, workers(), p, grads)
			if err != nil {
				b.Fatal(err)
			}
			p.CopyFrom(InitParams(c))
			randomBatch(n.st)
			adam := NewAdam(c)
			var cpu [2][]float64
			for b.Loop() {
				for k, on := range []bool{false, true} {
					n.st.lay.wantNorms = on
					c0 := peak.ProcessCPU()
					if err := n.run(); err != nil {
						b.Fatal(err)
					}
					adam.step(p, grads, n.st.lay.relay, true)
					cpu[k] = append(cpu[k], float64(peak.ProcessCPU()-c0))
				}
			}
			off, on := median(cpu[0]), median(cpu[1])
			b.ReportMetric(off/1e3, "off-cpu-us")
			b.ReportMetric(on/1e3, "on-cpu-us")
			b.ReportMetric(100*(on/off-1), "sampled-cost-%")
		})
	}
}

// BenchmarkTwoWorkers alternates blocks of steps of one graph on one
// worker and of one on two (the same weights and batch; a training step
// with its Adam update, an evaluation step as in a validation pass),
// timing every step, and reports for each side the median step as
// samples/s, and "speedup", the median over adjacent pairs of blocks of
// the ratio of their median steps. Pairs a fraction of a second apart see
// the same machine, so the ratio holds while the machine's speed drifts
// (on a shared virtual machine the same step's time moves by 40% within a
// minute); medians keep the stalls of a virtual machine (now and then
// both vCPUs stop for milliseconds, one step in a few hundred taking five
// times the median: a step on two cores needs both running) from deciding
// it. 2w-mean-samples/s is the two-worker side's throughput with the
// stalls, and mean-speedup the ratio of the two sides' mean steps, the
// speedup a whole epoch sees (before the relay's callers moved off the
// helper's CPU, one RNN training pass in five or six ran both parts on
// one vCPU: mean-speedup 1.47-1.53 where speedup was 1.58-1.73). Each
// block starts with warmUp of untimed steps: two-worker steps
// run back to back in training and evaluation, but here each block
// follows a one-worker block through which the second vCPU idled, and
// after that its first steps are slow (the helper has exited, and the
// vCPU, presumably, comes back to full speed gradually: an RNN training
// step took 5-10% longer over a block's first 50 steps, about 45 ms, than
// from then on, measured in blocks of 400, while the one-worker steps
// stayed flat). steal-frac (Linux) is the share of the vCPUs' time the
// host gave to other guests meanwhile: a two-worker step needs both vCPUs
// at once, so it loses more to steal than a one-worker step (on the EPYC
// Zen 3, a run with 23% stolen measured 1.47 for the GRU's training step,
// one run shortly before it 0.84 for an evaluation step). It needs
// GOMAXPROCS >= 2.
func BenchmarkTwoWorkers(b *testing.B) {
	if runtime.GOMAXPROCS(0) < 2 {
		b.Skip("needs GOMAXPROCS >= 2")
	}
	const (
		block  = 50
		warmUp = 80 * time.Millisecond
	)
	for _, cell := range Cells {
		for _, train := range []bool{true, false} {
			b.Run(passName(cell, train), func(b *testing.B) {
				c, p, grads := benchParams(cell, train)
				var nets [2]*net
				for w := range nets {
					n, err := newNet(c, c.Batch, w+1, p, grads)
					if err != nil {
						b.Fatal(err)
					}
					nets[w] = n
				}
				p.CopyFrom(InitParams(c))
				adam := NewAdam(c)
				for _, n := range nets {
					randomBatch(n.st)
					if !train {
						evalPrepared(n, p)
					}
				}
				step := func(w int) {
					if err := nets[w].run(); err != nil {
						b.Fatal(err)
					}
					switch {
					case train && w == 0:
						// One worker: Adam on one goroutine too.
						adam.update(p, grads, 1, nil, true)
					case train:
						adam.step(p, grads, nets[w].st.lay.relay, true)
					}
				}
				var med [2][]float64
				var ratios []float64
				var total [2]time.Duration
				steps := make([]float64, 0, block)
				steal0, total0, statOK := peak.CPUTicks()
				b.ResetTimer()
				for i := 0; i < b.N; i += block {
					var m [2]float64
					for w := range nets {
						for t0 := time.Now(); time.Since(t0) < warmUp; {
							step(w)
						}
						steps = steps[:0]
						for range min(block, b.N-i) {
							t0 := time.Now()
							step(w)
							d := time.Since(t0)
							steps = append(steps, d.Seconds())
							total[w] += d
						}
						m[w] = median(steps)
						med[w] = append(med[w], float64(c.Batch)/m[w])
					}
					ratios = append(ratios, m[0]/m[1])
				}
				b.ReportMetric(median(med[0]), "1w-samples/s")
				b.ReportMetric(median(med[1]), "2w-samples/s")
				b.ReportMetric(float64(b.N*c.Batch)/total[1].Seconds(), "2w-mean-samples/s")
				b.ReportMetric(median(ratios), "speedup")
				b.ReportMetric(total[0].Seconds()/total[1].Seconds(), "mean-speedup")
				if steal1, total1, ok := peak.CPUTicks(); ok && statOK {
					if f := peak.StealShare(steal0, total0, steal1, total1); f >= 0 {
						b.ReportMetric(f, "steal-frac")
					}
				}
			})
		}
	}
}

// passName names a benchmark of cell's training or evaluation pass.
func passName(cell Cell, train bool) string {
	if train {
		return cell.String() + "/train"
	}
	return cell.String() + "/eval"
}

// median returns the median of v (reordering it).
func median(v []float64) float64 {
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

// BenchmarkCellFLOPRatio compares the cells' speed per FLOP side by side:
// each of its b.N rounds runs a block of one-worker training steps (with
// Adam) of the RNN, then of the LSTM, then of the GRU, timing each step's
// CPU time, and turns each block's median step into the products' GFLOP
// per CPU-second. It reports each cell's median over the rounds and
// lstm/rnn and gru/rnn, the medians over rounds of the ratio of the gated
// cell's block to the RNN's of the same round: a few hundred milliseconds
// apart, they see the same machine while its speed drifts.
func BenchmarkCellFLOPRatio(b *testing.B) {
	if peak.ProcessCPU() < 0 {
		b.Skip("reads the process's CPU time, on Linux only")
	}
	type side struct {
		c     Config
		n     *net
		p, g  *Params
		adam  *Adam
		steps int
		rate  []float64
	}
	var sides []*side
	for _, cell := range Cells {
		c, p, g := benchParams(cell, true)
		n, err := newNet(c, c.Batch, 1, p, g)
		if err != nil {
			b.Fatal(err)
		}
		p.CopyFrom(InitParams(c))
		randomBatch(n.st)
		// About 50 ms of steps a block for every cell.
		steps := max(4, int(20*flopsPerSample(DefaultConfig(), true)/flopsPerSample(c, true)))
		sides = append(sides, &side{c: c, n: n, p: p, g: g, adam: NewAdam(c), steps: steps})
	}
	ratios := make([][]float64, len(sides))
	cpu := make([]float64, 0, 32)
	for b.Loop() {
		for i, s := range sides {
			cpu = cpu[:0]
			for k := range s.steps + 1 {
				c0 := peak.ProcessCPU()
				if err := s.n.run(); err != nil {
					b.Fatal(err)
				}
				s.adam.update(s.p, s.g, 1, nil, true)
				if k > 0 { // the first step of a block warms the caches
					cpu = append(cpu, float64(peak.ProcessCPU()-c0))
				}
			}
			r := float64(s.c.Batch) * flopsPerSample(s.c, true) / median(cpu) // GFLOP per CPU-s (ns)
			s.rate = append(s.rate, r)
			ratios[i] = append(ratios[i], r/sides[0].rate[len(sides[0].rate)-1])
		}
	}
	for i, s := range sides {
		b.ReportMetric(median(s.rate), s.c.Cell.String()+"-GFLOP/cpu-s")
		if i > 0 {
			b.ReportMetric(median(ratios[i]), s.c.Cell.String()+"/rnn")
		}
	}
}

// BenchmarkSplitBound is what the machine itself allows a two-worker pass
// over a batch of 64, an evaluation pass (forward) or a training pass
// (forward and backward, with the weight gradients; no Adam): each of its
// b.N rounds times, a block of passes each (medians of the block), the
// one-worker pass (1w), one worker on half the batch (half), two
// one-worker nets on the two halves at once, on two goroutines started
// together with no engine in between (halves-together: each core as fast
// as it is while the other works too), and the two-worker pass (2w: the
// split, the hand-off to the helper and the wait for it). In evaluation
// it also times the two-worker forward pass of a training net, whose
// layer keeps its rows in time-major order (2w-time-major; layout-gain is
// it over 2w; the GRU's also keeps the n blocks its backward pass reads).
// It calls the fused ops' passes directly, leaving out gorgonia's machine
// (the same few tens of microseconds a pass on one worker or two).
// bound-speedup is 1w over halves-together, the most two cores of this
// machine gave the pass in that round; speedup is 1w over 2w; engine-frac
// is halves-together over 2w, how much of the bound the engine reaches. A
// machine whose cores slow each other down, or run at different speeds,
// lowers the bound; the engine's own losses lower engine-frac. The halves
// are fixed, so the bound includes the wait for the slower vCPU's half,
// which the engine's balanced split follows: engine-frac can pass 1 (on
// this project's Xeon the cores do not slow each other down; the bound's
// shortfall is that wait: README, Performance).
func BenchmarkSplitBound(b *testing.B) {
	if runtime.GOMAXPROCS(0) < 2 {
		b.Skip("needs GOMAXPROCS >= 2")
	}
	for _, cell := range Cells {
		for _, train := range []bool{false, true} {
			b.Run(passName(cell, train), func(b *testing.B) { splitBound(b, cell, train) })
		}
	}
}

func splitBound(b *testing.B, cell Cell, train bool) {
	c, p, _ := benchParams(cell, false)
	p.CopyFrom(InitParams(c))
	// mk builds a net of batch digits on workers; a training net (with
	// gradients) prepares the weights in every pass, as in training.
	mk := func(batch, workers int, training bool) *net {
		var grads *Params
		if training {
			grads = NewParams(c)
		}
		n, err := newNet(c, batch, workers, p, grads)
		if err != nil {
			b.Fatal(err)
		}
		randomBatch(n.st)
		if !training {
			evalPrepared(n, p)
		}
		return n
	}
	v := [6][]float32{p.Wih, p.Whh, p.Bih, p.Bhh, p.Wfc, p.Bfc}
	step := func(n *net) {
		n.st.forward(v)
		if train {
			n.st.backward(1/float32(c.Batch), p.Wfc)
		}
	}
	half := c.Batch / 2
	one, two, h0, h1 := mk(c.Batch, 1, train), mk(c.Batch, 2, train), mk(half, 1, train), mk(half, 1, train)
	// The other half's goroutine: parked between blocks (so that it
	// takes no CPU from the others), spinning for the next pass within
	// one.
	var gen, served atomic.Int32
	var inBlock atomic.Bool
	blocks, left := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for range blocks {
			for inBlock.Load() {
				if g := gen.Load(); g != served.Load() {
					step(h1)
					served.Store(g)
				}
			}
			left <- struct{}{}
		}
	}()
	defer func() {
		close(blocks)
		wg.Wait()
	}()
	passes := []func(){
		func() { step(one) },
		func() { step(h0) },
		func() {
			g := gen.Add(1)
			step(h0)
			for served.Load() != g {
			}
		},
		func() { step(two) },
	}
	names := []string{"1w-us", "half-us", "halves-together-us", "2w-us"}
	if !train {
		timeMajor := mk(c.Batch, 2, true)
		evalPrepared(timeMajor, p)
		passes = append(passes, func() { timeMajor.st.forward(v) })
		names = append(names, "2w-time-major-us")
	}
	block := 40
	if train {
		block = 20
	}
	med := make([][]float64, len(passes))
	var bound, speedup, frac, layout []float64
	steps := make([]float64, 0, block)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	for b.Loop() {
		m := make([]float64, len(passes))
		for k, pass := range passes {
			if k == 2 {
				inBlock.Store(true)
				blocks <- struct{}{}
			}
			steps = steps[:0]
			for i := range block + 1 {
				t0 := time.Now()
				pass()
				if i > 0 { // the first pass of a block warms the caches
					steps = append(steps, time.Since(t0).Seconds())
				}
			}
			if k == 2 {
				inBlock.Store(false)
				<-left
			}
			m[k] = median(steps)
			med[k] = append(med[k], m[k]*1e6)
		}
		bound = append(bound, m[0]/m[2])
		speedup = append(speedup, m[0]/m[3])
		frac = append(frac, m[2]/m[3])
		if !train {
			layout = append(layout, m[4]/m[3])
		}
	}
	for k, name := range names {
		b.ReportMetric(median(med[k]), name)
	}
	b.ReportMetric(median(bound), "bound-speedup")
	b.ReportMetric(median(speedup), "speedup")
	b.ReportMetric(median(frac), "engine-frac")
	if !train {
		b.ReportMetric(median(layout), "layout-gain")
	}
}
