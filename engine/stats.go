package engine

import "time"

// waitFunc blocks while a run is paused, reporting how long it blocked, or
// fails when the run is cancelled.
type waitFunc func() (time.Duration, error)

// phaseStats accumulates one phase's per-sample averages and its running
// time with paused time left out.
type phaseStats struct {
	phase         Phase
	steps, total  int
	step, samples int
	lossSum       float64
	correct       int
	start         time.Time
	paused        time.Duration
}

func newPhaseStats(ph Phase, steps, total int) *phaseStats {
	return &phaseStats{phase: ph, steps: steps, total: total, start: time.Now()}
}

// wait calls w (if any) and books the time it blocked as paused.
func (s *phaseStats) wait(w waitFunc) error {
	if w == nil {
		return nil
	}
	d, err := w()
	s.paused += d
	return err
}

// add books one batch of n samples with its summed loss and correct count
// and returns the batch report (without run-wide fields).
func (s *phaseStats) add(n int, lossSum float64, correct int) Report {
	s.step++
	s.samples += n
	s.lossSum += lossSum
	s.correct += correct
	r := s.report(KindBatch)
	r.BatchLoss = lossSum / float64(n)
	r.BatchAcc = float64(correct) / float64(n)
	return r
}

func (s *phaseStats) loss() float64 { return s.lossSum / float64(max(s.samples, 1)) }
func (s *phaseStats) acc() float64  { return float64(s.correct) / float64(max(s.samples, 1)) }
func (s *phaseStats) elapsed() time.Duration {
	return time.Since(s.start) - s.paused
}

// report describes the phase so far.
func (s *phaseStats) report(k Kind) Report {
	el := s.elapsed()
	r := Report{
		Kind: k, Phase: s.phase,
		Step: s.step, Steps: s.steps, Samples: s.samples, Total: s.total,
		Loss: s.loss(), Acc: s.acc(), Elapsed: el,
	}
	if el > 0 {
		r.SamplesPerSec = float64(s.samples) / el.Seconds()
	}
	return r
}
