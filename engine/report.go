package engine

import (
	"slices"
	"time"
)

// Phase names one pass over a data split.
type Phase string

// The phases of the notebook's schedule.
const (
	PhaseTrain Phase = "train"
	PhaseVal   Phase = "val"
	PhaseTest  Phase = "test"
)

// Kind tells which moment of a run a Report describes.
type Kind int

const (
	// KindBatch is sent after every batch of every phase.
	KindBatch Kind = iota
	// KindPhaseEnd is sent once a phase has seen all its samples; Loss and Acc
	// are then the phase's per-sample averages, as the notebook prints them.
	KindPhaseEnd
	// KindDone is sent once, after the test phase; Predictions is set.
	KindDone
	// KindEval carries an evaluation of the test set (or of a sample of
	// it) made during training: Predictions is set (Predictions.At says on
	// which weights), Loss and Acc are its averages, Samples how many
	// digits it covered out of Total in the test set, Elapsed what it
	// took. Phase, Step and Steps are those of the phase under way. The
	// trainer's live evaluation sends them (WithLiveEval), and so may the
	// run's owner for evaluations asked for (runs.Access.Evaluate).
	KindEval
)

// Report is one piece of training progress. It is a plain value: nothing in it
// points into buffers the trainer keeps using (Predictions is freshly
// allocated and never written after it is sent).
type Report struct {
	Kind  Kind
	Phase Phase
	// Epoch is the 1-based epoch of the schedule (0 for the test phase);
	// Epochs is the schedule's length.
	Epoch, Epochs int
	// Step counts the batches done in this phase, out of Steps.
	Step, Steps int
	// Samples counts the samples done in this phase, out of Total.
	Samples, Total int
	// RunStep counts the batches done in the whole schedule (every phase,
	// test included), out of RunSteps: the overall progress.
	RunStep, RunSteps int
	// Trained counts the training batches done in this Run so far: where
	// the report sits on the per-batch charts.
	Trained int
	// Loss and Acc are the running per-sample averages over the phase so far.
	Loss, Acc float64
	// BatchLoss and BatchAcc are this batch's mean loss and accuracy.
	BatchLoss, BatchAcc float64
	// SamplesPerSec is the phase's throughput so far (paused time excluded).
	SamplesPerSec float64
	// Elapsed is the phase's running time so far (paused time excluded).
	Elapsed time.Duration
	// Predictions holds the test set's predictions with KindDone and
	// KindEval.
	Predictions *Predictions
	// GradNorms are the gradients through time of a training batch sampled
	// by WithGradNorms (nil on every other report): GradNorms[t], for
	// t = 0..Steps-1 (t+1 is the digit's row), is the norm of the loss
	// gradient at the hidden state h_t averaged over the batch, the mean
	// over its digits b of |dl_b/dh_t| for each digit's own cross-entropy
	// l_b, taken before the batch's update. Values shrinking toward the
	// first rows are the plain RNN's vanishing gradient. The slice is the
	// report's own.
	GradNorms []float32
}

// Predictions are a model's outputs on the digits of a set: every digit in
// set order, or the digits Index names.
type Predictions struct {
	// Labels are the true labels, Pred the predicted ones (argmax of Probs).
	Labels, Pred []uint8
	// Probs are the softmax probabilities of the 10 classes.
	Probs [][10]float32
	// Loss and Acc are the per-sample averages over the digits covered.
	Loss, Acc float64
	// Index, when not nil, holds the set index of each entry, ascending:
	// the predictions cover that sample of the set (a live evaluation's).
	// Nil: entry i is digit i of the set.
	Index []int
	// At is where the weights evaluated were in their run (the zero
	// Position for weights outside one, such as a loaded checkpoint's).
	At Position
}

// Len reports how many digits p covers.
func (p *Predictions) Len() int { return len(p.Labels) }

// SetIndex returns the set index of entry i.
func (p *Predictions) SetIndex(i int) int {
	if p.Index != nil {
		return p.Index[i]
	}
	return i
}

// Entry returns the entry of set index i, if p covers that digit.
func (p *Predictions) Entry(i int) (int, bool) {
	if p.Index == nil {
		return i, i >= 0 && i < p.Len()
	}
	k, ok := slices.BinarySearch(p.Index, i)
	return k, ok
}

// Reporter receives reports. It is called from the training goroutine, in
// order, and must not block: hand the report to a channel with a select on
// a context, or drop it.
type Reporter func(Report)
