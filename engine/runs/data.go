package runs

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/mnist"
)

// SplitTrain is the train/validation split rule: of a training file of n
// images, SplitTrain(n) = floor(2n/3) go to training and the rest to
// validation, drawn at random with the run's seed. MNIST's 60,000 split
// 40,000/20,000 as the notebook splits them; a 12,000-image set splits
// 8,000/4,000. --limit then caps each split (and the test set).
func SplitTrain(n int) int { return n * 2 / 3 }

// DataInfo describes a run's data: the set, the split, the sizes.
type DataInfo struct {
	// Name is "embedded MNIST" or the --data directory.
	Name string
	// Source is how many images the training file holds, SplitTrain and
	// SplitVal how many of them the split gives training and validation.
	Source, SplitTrain, SplitVal int
	// Limit is the spec's --limit (0: none).
	Limit int
	// Train, Val and Test are the sizes the run uses (after the limit).
	Train, Val, Test int
}

// Rule says how the split was made, for a header: "60,000 split
// 40,000/20,000 (2/3, seeded)".
func (d DataInfo) Rule() string {
	return fmt.Sprintf("%s split %s/%s (2/3, seeded)", group(d.Source), group(d.SplitTrain), group(d.SplitVal))
}

// group formats n with thousands separators.
func group(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + group(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// sources parses each data set once for a List: the embedded MNIST and
// every --data directory, kept for the List's life (runs split them anew).
type sources struct {
	mu sync.Mutex
	m  map[string]*source
}

// source is one parsed data set; ready is closed once train, test and err
// are set.
type source struct {
	ready       chan struct{}
	train, test *mnist.Set
	err         error
}

// put records parsed sets for dir.
func (ss *sources) put(dir string, train, test *mnist.Set) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.m == nil {
		ss.m = map[string]*source{}
	}
	s := &source{ready: make(chan struct{}), train: train, test: test}
	close(s.ready)
	ss.m[sourceKey(dir)] = s
}

// sourceKey is the cache key of the data set dir.
func sourceKey(dir string) string {
	if dir == "" {
		return ""
	}
	return filepath.Clean(dir)
}

// get returns the training and test sets of dir ("" for the embedded
// MNIST), parsing them on first use; callers asking at once wait for one
// parse. Parsing and waiting give up with ctx's error once it is done (the
// list's context: Close cancels it). A failure is not kept: the next call
// tries again.
func (ss *sources) get(ctx context.Context, dir string) (train, test *mnist.Set, err error) {
	key := sourceKey(dir)
	ss.mu.Lock()
	if ss.m == nil {
		ss.m = map[string]*source{}
	}
	s, ok := ss.m[key]
	if !ok {
		s = &source{ready: make(chan struct{})}
		ss.m[key] = s
		ss.mu.Unlock()
		if dir == "" {
			s.train, s.test, s.err = mnist.EmbeddedContext(ctx)
		} else {
			s.train, s.test, s.err = mnist.LoadDirContext(ctx, dir)
		}
		// mnist refuses empty files; a split needs a digit on each side.
		if s.err == nil && SplitTrain(s.train.Len()) == 0 {
			s.err = fmt.Errorf("runs: the training images (train-images-idx3-ubyte) hold %d digits, too few to split into training and validation sets", s.train.Len())
		}
		close(s.ready)
		if s.err != nil {
			ss.mu.Lock()
			delete(ss.m, key)
			ss.mu.Unlock()
		}
	} else {
		ss.mu.Unlock()
		select {
		case <-s.ready:
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("runs: %w", ctx.Err())
		}
	}
	return s.train, s.test, s.err
}

// prepared is a run's spec with its data set parsed and its checkpoint
// read: what starting it needs.
type prepared struct {
	info        *Info
	train, test *mnist.Set // the whole data set
	ck          *engine.Checkpoint
}

// prepare validates spec, reads its checkpoint and parses its data set,
// and describes the run as id. Every error is one a user can fix: a bad
// field, an unreadable checkpoint, a bad data file; or ctx's, once it is
// done.
func (ss *sources) prepare(ctx context.Context, id ID, spec Spec) (*prepared, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	ck, err := spec.ReadCheckpoint(ctx)
	if err != nil {
		return nil, err
	}
	if ck != nil {
		// The spec must already agree with the file it names.
		if spec, err = spec.WithCheckpoint(ck, func(string) bool { return true }); err != nil {
			return nil, err
		}
	}
	train, test, err := ss.get(ctx, spec.Data)
	if err != nil {
		if spec.Data != "" {
			return nil, fmt.Errorf("--data %s: %w", spec.Data, err)
		}
		return nil, err
	}
	n := train.Len()
	d := DataInfo{Name: spec.DataName(), Source: n, SplitTrain: SplitTrain(n), SplitVal: n - SplitTrain(n), Limit: spec.Limit}
	limited := func(k int) int {
		if spec.Limit > 0 {
			return min(k, spec.Limit)
		}
		return k
	}
	d.Train, d.Val, d.Test = limited(d.SplitTrain), limited(d.SplitVal), limited(test.Len())
	info := &Info{ID: id, Spec: spec, Config: spec.Config(), Data: d, Test: test.Limit(spec.Limit)}
	if ck != nil {
		path, flagName := spec.checkpointPath()
		info.Checkpoint = &CheckpointInfo{Path: path, Resume: flagName == "resume", Epoch: ck.Epoch, Batch: ck.Batch, Val: ck.Val, Test: ck.Test}
	}
	return &prepared{info: info, train: train, test: test, ck: ck}, nil
}

// data splits the data set with the run's seed and applies its limit.
func (p *prepared) data() (engine.Data, error) {
	s := p.info.Spec
	tr, val, err := mnist.Split(p.train, SplitTrain(p.train.Len()), s.Seed)
	if err != nil {
		return engine.Data{}, fmt.Errorf("runs: %w", err)
	}
	return engine.Data{Train: tr.Limit(s.Limit), Val: val.Limit(s.Limit), Test: p.info.Test}, nil
}

// Prepared is what a TrainerFunc builds a trainer from.
type Prepared struct {
	// Info describes the run.
	Info *Info
	// Data are its splits.
	Data engine.Data
	// Checkpoint is the file it loads or resumes, nil if none.
	Checkpoint *engine.Checkpoint
	// Live is the live evaluation the list asks for (see WithLive; the
	// zero value: none).
	Live engine.LiveEval
}

// GradNormsEvery is how often the runs a List trains record their
// gradients through time (engine.WithGradNorms): every GradNormsEvery-th
// training batch of each epoch, its first included. Recording a batch's
// norms is a pass over its B x H gradient at each of the 28 steps; a
// sampled step costs 1.5-2% more than a plain one for the RNN, less for
// the gated cells (BenchmarkGradNormsInterleaved in engine, one worker),
// so sampling every other batch costs under 1% of training
// (BenchmarkGradNormsCost measures the whole trainer with and without),
// well inside the 3% allowed, and gives a default run's gradient heatmap
// 313 samples an epoch.
const GradNormsEvery = 2

// NewTrainer is the default TrainerFunc: an engine.Trainer of p's
// configuration on its data, starting from its checkpoint (weights, or
// weights, Adam state and place in the schedule when resuming), at the
// spec's pace, autosaving to the spec's Save path after every epoch if
// asked, with the live evaluation p.Live asks for (by default, see
// DefaultLive: 2,000 test digits, all of them when the test set holds no
// more, evaluated during training within 8% of its time), its
// predictions in the stream for every viewer, and recording the gradient
// norms through time every GradNormsEvery training batches.
func NewTrainer(p Prepared, report engine.Reporter) (Trainer, error) {
	opts := []engine.Option{engine.WithReporter(report), engine.WithPace(p.Info.Spec.Pace), engine.WithLiveEval(p.Live),
		engine.WithGradNorms(GradNormsEvery)}
	s := p.Info.Spec
	switch {
	case p.Checkpoint != nil && s.Resume != "":
		opts = append(opts, engine.WithResume(p.Checkpoint))
	case p.Checkpoint != nil:
		opts = append(opts, engine.WithParams(p.Checkpoint.Params))
	}
	if s.Autosave {
		opts = append(opts, engine.WithAutosave(s.Save))
	}
	t, err := engine.NewTrainer(p.Info.Config, p.Data, opts...)
	if err != nil {
		return nil, err
	}
	return t, nil
}
