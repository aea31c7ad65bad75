package runs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/mnist"
)

// Errors of the list's controls, for errors.Is.
var (
	// ErrClosed: the list is closed (shutting down).
	ErrClosed = errors.New("the list of runs is closed")
	// ErrFull: the list holds its capacity of runs.
	ErrFull = errors.New("the list of runs is full")
	// ErrNoRun: no run has that ID.
	ErrNoRun = errors.New("no such run")
	// ErrNotStarted: the run has not started training (it is queued).
	ErrNotStarted = errors.New("training has not started")
	// ErrNotRunning: the run is not training (queued or finished), so it
	// cannot be paused or resumed, paced, stepped or retuned.
	ErrNotRunning = errors.New("the run is not training")
	// ErrNotPaused: a step was asked of a run that is not paused.
	ErrNotPaused = errors.New("the run is not paused")
)

// DefaultCapacity is how many runs a List holds unless told otherwise.
const DefaultCapacity = 16

// removedGen is the Gen the Hub drops every event of a removed run at.
const removedGen = math.MaxInt

// Trainer is what a run trains with; *engine.Trainer is one (see its
// methods for what each does). Run is called once, in the run's own
// goroutine, under a context that Stop, Restart, Replace and the list's
// Close cancel; the other methods may be called from any goroutine at any
// time, including before Run and after it returned.
type Trainer interface {
	Run(ctx context.Context) error
	Pause()
	Resume()
	Paused() bool
	// Step lets one training batch through a pause.
	Step() error
	// SetPace sets the training batches per second (0: full speed).
	SetPace(batchesPerSec float64) error
	// SetLR sets the learning rate and says where it took effect.
	SetLR(lr float64) (engine.Position, error)
	// Position says where training is.
	Position() engine.Position
	Evaluate(ctx context.Context) (*engine.Predictions, error)
	Snapshot() *engine.Model
	Checkpoint() *engine.Checkpoint
	Save(path string) error
}

// TrainerFunc builds the trainer of one attempt of a run, reporting to
// report (which publishes into the stream with the run's ID and Gen). It
// is called on the run's goroutine each time the run starts (again after a
// restart); each call must build a fresh trainer.
type TrainerFunc func(p Prepared, report engine.Reporter) (Trainer, error)

// Option configures a List.
type Option func(*List)

// WithCapacity sets how many runs the list holds (DefaultCapacity).
func WithCapacity(n int) Option { return func(l *List) { l.capacity = max(n, 1) } }

// WithParallel sets how many runs train at once (1: one after another,
// each with both cores).
func WithParallel(n int) Option { return func(l *List) { l.parallel = max(n, 1) } }

// WithTrainerFunc replaces NewTrainer as the builder of every run's
// trainer.
func WithTrainerFunc(f TrainerFunc) Option { return func(l *List) { l.newTrainer = f } }

// WithSource gives the list the parsed training and test sets of the data
// set dir ("" for the embedded MNIST), so that runs on it need no parse: a
// process that has them already (tests, a server with several lists)
// shares them. The sets must not be modified.
func WithSource(dir string, train, test *mnist.Set) Option {
	return func(l *List) { l.data.put(dir, train, test) }
}

// Held makes the list start no run until Release: a server waiting for
// its first viewer, or for the teacher.
func Held() Option { return func(l *List) { l.held = true } }

// DefaultLive is the live evaluation a List's runs have unless WithLive
// says otherwise: engine.DefaultLiveSample test digits within
// engine.DefaultLiveBudget of the training time.
func DefaultLive() engine.LiveEval {
	return engine.LiveEval{Sample: engine.DefaultLiveSample, Budget: engine.DefaultLiveBudget}
}

// WithLive sets the live evaluation the list asks of its runs' trainers
// (Prepared.Live, which NewTrainer applies); the zero LiveEval turns it
// off, for runs nobody watches (headless).
func WithLive(live engine.LiveEval) Option { return func(l *List) { l.live = live } }

// List is the process's runs: an ordered list of at most its capacity, a
// queue that trains them one after another (WithParallel for more at
// once), and one stream of events (see Event) that tells every viewer
// every run's history and every change, in order. Controls go through an
// Access, which carries the viewer's capabilities and identity.
//
// Build it with NewList; Close it when done (it stops every run and ends
// every subscription).
type List struct {
	hub        *Hub
	data       *sources
	newTrainer TrainerFunc
	capacity   int
	parallel   int
	live       engine.LiveEval

	ctx    context.Context // every run's parent; Close cancels it
	cancel context.CancelFunc
	wg     sync.WaitGroup // run goroutines
	closer sync.Once

	mu      sync.Mutex
	runs    []*run // list order
	queue   []*run // starting order
	active  int    // run goroutines under way
	nextID  ID
	held    bool
	closed  bool
	changed chan struct{} // closed and replaced on every state change
}

// run is one run of the list.
type run struct {
	id   ID
	prep *prepared

	// Guarded by List.mu.
	gen     int
	state   State
	err     error
	cur     *attempt           // the attempt under way, nil when none
	started *attempt           // the last attempt started (kept after it ends)
	trainer Trainer            // the current attempt's, once built
	final   *engine.Checkpoint // the last attempt's end state
	saved   string             // where its end was saved
	removed bool
	// pace and lr are the current attempt's, from its spec on.
	pace, lr float64

	reports atomic.Uint64 // reports published, for evaluation reuse
	restart sync.Mutex    // serialises restarts and replacements

	// eval serialises evaluations; last is reused while no report has
	// been published since it ran.
	eval     chan struct{}
	lastEval struct {
		gen     int
		reports uint64
		preds   *engine.Predictions
	}
	evals atomic.Int64 // evaluations actually run
}

// attempt is one start of a run: its goroutine's handle.
type attempt struct {
	gen    int
	cancel context.CancelFunc
	built  chan struct{} // closed once the trainer is built (or failed)
	err    error         // why it failed to build, set before built closes
	done   chan struct{} // closed when the goroutine has ended
}

// NewList returns an empty list.
func NewList(opts ...Option) *List {
	l := &List{hub: NewHub(), data: &sources{}, newTrainer: NewTrainer, capacity: DefaultCapacity, parallel: 1, live: DefaultLive(), changed: make(chan struct{})}
	for _, o := range opts {
		o(l)
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	return l
}

// Hub returns the list's fan-out, for reading its history (Len, Last,
// History); viewers subscribe with Subscribe.
func (l *List) Hub() *Hub { return l.hub }

// Subscribe returns a subscription to the list's stream: first the whole
// history (every run added, started, reported, changed; see Event), then
// every new event, in order; closed after Close. See Hub.Subscribe.
func (l *List) Subscribe() *Subscription { return l.hub.Subscribe() }

// SubscribeEvery is Subscribe in bursts at most once per interval, aligned
// across subscribers of the same interval; see Hub.SubscribeEvery.
func (l *List) SubscribeEvery(interval time.Duration) *Subscription {
	return l.hub.SubscribeEvery(interval)
}

// Capacity reports how many runs the list holds at most.
func (l *List) Capacity() int { return l.capacity }

// Status is a run's state as the list sees it now.
type Status struct {
	ID    ID
	Gen   int
	State State
	// Err is why the run failed (StateFailed).
	Err error
	// Info describes the run.
	Info *Info
	// Saved is where its end was saved (Spec.Save), once it was.
	Saved string
	// Pace and LR are its pace (training batches per second, 0 for full
	// speed) and learning rate now: its spec's until changed.
	Pace, LR float64
}

// Runs returns every run's status, in list order.
func (l *List) Runs() []Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Status, len(l.runs))
	for i, r := range l.runs {
		out[i] = r.statusLocked()
	}
	return out
}

// Run returns one run's status.
func (l *List) Run(id ID) (Status, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, err := l.findLocked(id)
	if err != nil {
		return Status{}, err
	}
	return r.statusLocked(), nil
}

func (r *run) statusLocked() Status {
	return Status{ID: r.id, Gen: r.gen, State: r.state, Err: r.err, Info: r.prep.info, Saved: r.saved, Pace: r.pace, LR: r.lr}
}

// Queue returns the IDs of the queued runs, in starting order.
func (l *List) Queue() []ID {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.queueIDsLocked()
}

func (l *List) queueIDsLocked() []ID {
	ids := make([]ID, len(l.queue))
	for i, r := range l.queue {
		ids[i] = r.id
	}
	return ids
}

// Err returns the failures of the runs that failed, joined (nil if none).
func (l *List) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for _, r := range l.runs {
		if r.state == StateFailed {
			errs = append(errs, r.err)
		}
	}
	return errors.Join(errs...)
}

// Release lets a Held list start its runs.
func (l *List) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held = false
	l.scheduleLocked()
}

// Wait blocks until no run is queued or training (every run has ended, or
// the list is empty), or ctx is done (its error). A Held list waits for
// Release first.
func (l *List) Wait(ctx context.Context) error {
	for {
		l.mu.Lock()
		busy := l.active > 0 || len(l.queue) > 0
		ch := l.changed
		l.mu.Unlock()
		if !busy {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close stops every run (queued runs become stopped, running ones are
// cancelled and waited for), then closes the stream: every subscription
// ends once it has delivered the history. Controls then fail with
// ErrClosed. Close may be called more than once; each call returns once
// everything has stopped.
func (l *List) Close() {
	l.closer.Do(func() {
		l.mu.Lock()
		l.closed = true
		for _, r := range l.queue {
			l.setStateLocked(r, StateStopped, nil)
		}
		l.queue = nil
		l.publishQueueLocked()
		l.mu.Unlock()
		l.cancel()
	})
	l.wg.Wait()
	l.hub.close()
}

// changedLocked wakes Wait.
func (l *List) changedLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// findLocked returns the run id.
func (l *List) findLocked(id ID) (*run, error) {
	for _, r := range l.runs {
		if r.id == id {
			return r, nil
		}
	}
	return nil, fmt.Errorf("runs: %w: run %d", ErrNoRun, id)
}

// setStateLocked changes r's state and publishes it.
func (l *List) setStateLocked(r *run, s State, err error) {
	r.state, r.err = s, err
	l.hub.publish(Event{Run: r.id, Gen: r.gen, Kind: KindState, State: s, Err: err})
	l.changedLocked()
}

func (l *List) publishQueueLocked() {
	l.hub.publish(Event{Kind: KindQueue, Queue: l.queueIDsLocked()})
}

func (l *List) publishActionLocked(r *run, kind ActionKind, by Actor, detail string) {
	l.publishLocked(r, &Action{Kind: kind, Actor: by, Detail: detail})
}

func (l *List) publishLocked(r *run, a *Action) {
	l.hub.publish(Event{Run: r.id, Gen: r.gen, Kind: KindAction, Action: a})
}

// add validates and prepares spec (reading its checkpoint and data set)
// and queues it as a new run at index (-1: at the end of the list), first
// in the queue if front, else last. It returns the new run.
func (l *List) add(spec Spec, by Actor) (ID, error) {
	p, err := l.prepareNext(spec)
	if err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r, err := l.insertLocked(p, len(l.runs), false)
	if err != nil {
		return 0, err
	}
	l.publishActionLocked(r, ActAdd, by, "")
	l.scheduleLocked()
	return r.id, nil
}

// prepareNext prepares spec as the next run (its ID is fixed on insertion).
func (l *List) prepareNext(spec Spec) (*prepared, error) {
	l.mu.Lock()
	closed, full := l.closed, len(l.runs) >= l.capacity
	l.mu.Unlock()
	switch {
	case closed:
		return nil, fmt.Errorf("runs: add: %w", ErrClosed)
	case full:
		return nil, fmt.Errorf("runs: add: %w (%d runs)", ErrFull, l.capacity)
	}
	return l.data.prepare(l.ctx, 0, spec)
}

// insertLocked gives p the next ID and puts it at index of the list and in
// the queue (first if front), publishing it.
func (l *List) insertLocked(p *prepared, index int, front bool) (*run, error) {
	switch {
	case l.closed:
		return nil, fmt.Errorf("runs: add: %w", ErrClosed)
	case len(l.runs) >= l.capacity:
		return nil, fmt.Errorf("runs: add: %w (%d runs)", ErrFull, l.capacity)
	}
	l.nextID++
	info := *p.info
	info.ID = l.nextID
	p.info = &info
	r := &run{id: l.nextID, prep: p, gen: 1, eval: make(chan struct{}, 1), pace: p.info.Spec.Pace, lr: p.info.Spec.LR}
	l.runs = slices.Insert(l.runs, index, r)
	l.hub.publish(Event{Run: r.id, Gen: r.gen, Kind: KindAdded, Info: p.info, Index: index})
	if front {
		l.queue = slices.Insert(l.queue, 0, r)
	} else {
		l.queue = append(l.queue, r)
	}
	l.setStateLocked(r, StateQueued, nil)
	l.publishQueueLocked()
	return r, nil
}

// scheduleLocked starts queued runs while slots are free.
func (l *List) scheduleLocked() {
	if l.closed || l.held {
		return
	}
	for l.active < l.parallel {
		i := slices.IndexFunc(l.queue, func(r *run) bool { return r.cur == nil })
		if i < 0 {
			return
		}
		r := l.queue[i]
		l.queue = slices.Delete(l.queue, i, i+1)
		l.publishQueueLocked()
		l.startLocked(r)
	}
}

// startLocked starts r's current attempt in its own goroutine.
func (l *List) startLocked(r *run) {
	ctx, cancel := context.WithCancel(l.ctx)
	a := &attempt{gen: r.gen, cancel: cancel, built: make(chan struct{}), done: make(chan struct{})}
	r.cur, r.started, r.trainer, r.final, r.saved = a, a, nil, nil, ""
	r.pace, r.lr = r.prep.info.Spec.Pace, r.prep.info.Spec.LR
	l.active++
	l.wg.Add(1)
	l.setStateLocked(r, StateRunning, nil)
	go l.train(ctx, r, a)
}

// current reports whether a is still r's attempt (no restart or removal
// since). l.mu must be held.
func (r *run) currentLocked(a *attempt) bool { return !r.removed && r.gen == a.gen }

// train runs one attempt of r: build the trainer, publish the start, run
// it, save, and publish how it ended.
func (l *List) train(ctx context.Context, r *run, a *attempt) {
	defer l.wg.Done()
	defer close(a.done)
	defer a.cancel()
	report := func(rep engine.Report) {
		if l.hub.publish(Event{Run: r.id, Gen: a.gen, Kind: KindReport, Report: rep}) {
			r.reports.Add(1)
		}
	}
	var tr Trainer
	data, err := r.prep.data()
	if err == nil {
		tr, err = l.newTrainer(Prepared{Info: r.prep.info, Data: data, Checkpoint: r.prep.ck, Live: l.live}, report)
		if err == nil && tr == nil {
			err = errors.New("runs: the TrainerFunc returned no trainer")
		}
	}
	if err != nil {
		err = fmt.Errorf("runs: run %d: start: %w", r.id, err)
		a.err = err
		l.end(r, a, StateFailed, err) // the state is failed once built says so
		close(a.built)
		return
	}
	l.mu.Lock()
	if r.currentLocked(a) {
		r.trainer = tr
	}
	l.hub.publish(Event{Run: r.id, Gen: a.gen, Kind: KindStart, Info: r.prep.info})
	l.mu.Unlock()
	close(a.built)

	err = tr.Run(ctx)
	state := StateDone
	switch {
	case err != nil && ctx.Err() != nil:
		state, err = StateStopped, nil
	case err != nil:
		state = StateFailed
	}
	l.mu.Lock()
	stale := !r.currentLocked(a)
	l.mu.Unlock()
	saved := ""
	if s := r.prep.info.Spec; s.Save != "" && state != StateFailed && !stale {
		if serr := tr.Save(s.Save); serr != nil {
			state, err = StateFailed, fmt.Errorf("--save: %w", serr)
		} else {
			saved = s.Save
		}
	}
	final := tr.Checkpoint()
	l.mu.Lock()
	if r.currentLocked(a) {
		r.final, r.saved, r.trainer = final, saved, nil
	}
	l.mu.Unlock()
	l.end(r, a, state, err)
}

// end records how attempt a of r ended (unless a restart or removal has
// superseded it) and frees its slot.
func (l *List) end(r *run, a *attempt, state State, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.active--
	if r.cur == a {
		r.cur = nil
	}
	if r.currentLocked(a) {
		l.setStateLocked(r, state, err)
	}
	l.changedLocked()
	l.scheduleLocked()
}

// restart starts r's spec over as a new attempt (same ID, Gen one more):
// its events so far leave the history, it goes first in the queue, and
// the attempt under way is stopped. It returns once the new attempt has
// started (nil, or why it failed to), or at once if it waits behind
// another run.
func (l *List) restart(id ID, by Actor) error {
	l.mu.Lock()
	r, err := l.findLocked(id)
	l.mu.Unlock()
	if err != nil {
		return err
	}
	r.restart.Lock()
	defer r.restart.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return fmt.Errorf("runs: restart: %w", ErrClosed)
	}
	if r.removed {
		l.mu.Unlock()
		return fmt.Errorf("runs: restart: %w: run %d", ErrNoRun, id)
	}
	old := r.cur
	r.gen++
	r.trainer = nil
	l.hub.dropRun(r.id, r.gen)
	l.publishActionLocked(r, ActRestart, by, "")
	l.queue = slices.DeleteFunc(l.queue, func(q *run) bool { return q == r })
	l.queue = slices.Insert(l.queue, 0, r)
	l.setStateLocked(r, StateQueued, nil)
	l.publishQueueLocked()
	l.mu.Unlock()
	return l.settle(r, old)
}

// settle stops the superseded attempt old (if any), waits for it, starts
// what the queue allows, and waits for r's new attempt to be built if it
// started.
func (l *List) settle(r *run, old *attempt) error {
	if old != nil {
		old.cancel()
		<-old.done
	}
	l.mu.Lock()
	l.scheduleLocked()
	// The attempt may have started (and even ended) from the old
	// attempt's end, before this lock: look for it by its Gen.
	a := r.started
	gen := r.gen
	l.mu.Unlock()
	if a == nil || a.gen != gen {
		return nil // waiting in the queue
	}
	<-a.built
	return a.err
}

// replace puts a new run of spec in run id's place: the old run is
// stopped and removed (its events leave the history), the new one gets a
// new ID at the same index and the old one's turn (first if the old one
// was training). It returns the new run once it has started (see restart).
func (l *List) replace(id ID, spec Spec, by Actor) (ID, error) {
	l.mu.Lock()
	r, err := l.findLocked(id)
	l.mu.Unlock()
	if err != nil {
		return 0, err
	}
	p, err := l.data.prepare(l.ctx, 0, spec)
	if err != nil {
		return 0, err
	}
	r.restart.Lock()
	defer r.restart.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return 0, fmt.Errorf("runs: replace: %w", ErrClosed)
	}
	index := slices.Index(l.runs, r)
	if index < 0 {
		l.mu.Unlock()
		return 0, fmt.Errorf("runs: replace: %w: run %d", ErrNoRun, id)
	}
	qpos := slices.Index(l.queue, r)
	old := r.cur
	r.removed = true
	l.runs = slices.Delete(l.runs, index, index+1)
	l.queue = slices.DeleteFunc(l.queue, func(q *run) bool { return q == r })
	l.hub.dropRun(r.id, removedGen)
	l.hub.publish(Event{Run: r.id, Kind: KindRemoved})
	n, err := l.insertLocked(p, index, true)
	if err != nil {
		l.mu.Unlock()
		return 0, err
	}
	if qpos > 0 {
		// The old run waited in the queue: the new one takes its turn.
		l.queue = slices.Delete(l.queue, 0, 1)
		l.queue = slices.Insert(l.queue, min(qpos, len(l.queue)), n)
		l.publishQueueLocked()
	}
	l.publishActionLocked(n, ActReplace, by, fmt.Sprintf("run %d", r.id))
	l.changedLocked()
	l.mu.Unlock()
	return n.id, l.settle(n, old)
}

// stop cancels run id: a queued run leaves the queue, a training one is
// stopped within a batch; both end as StateStopped.
func (l *List) stop(id ID, by Actor) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, err := l.findLocked(id)
	if err != nil {
		return err
	}
	l.publishActionLocked(r, ActStop, by, "")
	if i := slices.Index(l.queue, r); i >= 0 {
		l.queue = slices.Delete(l.queue, i, i+1)
		l.publishQueueLocked()
		l.setStateLocked(r, StateStopped, nil)
		return nil
	}
	if r.cur != nil {
		r.cur.cancel()
	}
	return nil
}

// setPaused pauses or resumes run id's trainer.
func (l *List) setPaused(id ID, pause bool, by Actor) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, err := l.findLocked(id)
	if err != nil {
		return err
	}
	if r.trainer == nil || !r.state.Active() {
		return fmt.Errorf("runs: run %d is %s: %w", id, r.state, ErrNotRunning)
	}
	kind, state := ActResume, StateRunning
	if pause {
		kind, state = ActPause, StatePaused
		r.trainer.Pause()
	} else {
		r.trainer.Resume()
	}
	l.publishLocked(r, &Action{Kind: kind, Actor: by, At: r.trainer.Position()})
	if r.state != state {
		l.setStateLocked(r, state, nil)
	}
	return nil
}

// model returns what run id's weights are now: its trainer (while it
// trains) or its final checkpoint, with the attempt's Gen.
func (l *List) model(id ID) (tr Trainer, final *engine.Checkpoint, r *run, gen int, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, err = l.findLocked(id); err != nil {
		return nil, nil, nil, 0, err
	}
	if r.trainer == nil && r.final == nil {
		return nil, nil, r, r.gen, fmt.Errorf("runs: run %d: %w", id, ErrNotStarted)
	}
	return r.trainer, r.final, r, r.gen, nil
}

// evaluate evaluates a snapshot of run id on its test set. Calls take
// turns per run, and a call made while the run has published no report
// since the previous evaluation gets the previous result: many viewers
// asking at once cost one evaluation. The Predictions are shared: do not
// modify them.
func (l *List) evaluate(ctx context.Context, id ID) (*engine.Predictions, error) {
	tr, final, r, gen, err := l.model(id)
	if err != nil {
		return nil, fmt.Errorf("runs: evaluate: %w", err)
	}
	select {
	case r.eval <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-r.eval }()
	seen := r.reports.Load()
	if last := r.lastEval; last.preds != nil && last.gen == gen && last.reports == seen {
		return last.preds, nil
	}
	r.evals.Add(1)
	var p *engine.Predictions
	if tr != nil {
		p, err = tr.Evaluate(ctx)
	} else {
		p, err = final.Model().Evaluate(ctx, r.prep.info.Test, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("runs: evaluate: %w", err)
	}
	r.lastEval.gen, r.lastEval.reports, r.lastEval.preds = gen, seen, p
	l.publishEval(r, gen, p)
	return p, nil
}

// publishEval publishes predictions asked for of attempt gen of r to every
// viewer, as the trainer's live evaluations are: a KindEval report
// labelled with where the weights were.
func (l *List) publishEval(r *run, gen int, p *engine.Predictions) {
	info := r.prep.info
	rep := engine.Report{Kind: engine.KindEval, Phase: p.At.Phase, Epoch: p.At.Epoch, Epochs: info.Config.Epochs,
		RunStep: p.At.RunStep, Trained: p.At.Trained, Samples: p.Len(), Total: info.Test.Len(),
		Loss: p.Loss, Acc: p.Acc, Predictions: p}
	if l.hub.publish(Event{Run: r.id, Gen: gen, Kind: KindReport, Report: rep}) {
		r.reports.Add(1)
		r.lastEval.reports++ // this report does not make the result stale
	}
}

// snapshot returns a copy of run id's current weights.
func (l *List) snapshot(id ID) (*engine.Model, error) {
	tr, final, _, _, err := l.model(id)
	if err != nil {
		return nil, fmt.Errorf("runs: snapshot: %w", err)
	}
	if tr != nil {
		return tr.Snapshot(), nil
	}
	return &engine.Model{Config: final.Config, Params: final.Params.Clone()}, nil
}

// save writes run id's checkpoint to path (its Spec.SavePath when empty)
// and returns the path.
func (l *List) save(id ID, path string, by Actor) (string, error) {
	tr, final, r, _, err := l.model(id)
	if err != nil {
		return "", fmt.Errorf("runs: save: %w", err)
	}
	if path == "" {
		path = r.prep.info.Spec.SavePath()
	}
	switch {
	case tr != nil:
		err = tr.Save(path)
	case final != nil:
		err = final.WriteFile(path)
	}
	if err != nil {
		return "", err
	}
	l.mu.Lock()
	l.publishActionLocked(r, ActSave, by, path)
	l.mu.Unlock()
	return path, nil
}

// trainingLocked returns run id's trainer, or why it has none: the run is
// not training.
func (l *List) trainingLocked(id ID, what string) (*run, error) {
	r, err := l.findLocked(id)
	if err != nil {
		return nil, fmt.Errorf("runs: %s: %w", what, err)
	}
	if r.trainer == nil || !r.state.Active() {
		return nil, fmt.Errorf("runs: %s: run %d is %s: %w", what, id, r.state, ErrNotRunning)
	}
	return r, nil
}

// setPace sets run id's pace to next(the current pace) and publishes it.
func (l *List) setPace(id ID, next func(float64) (float64, error), by Actor) (float64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, err := l.trainingLocked(id, "pace")
	if err != nil {
		return 0, err
	}
	p, err := next(r.pace)
	if err != nil {
		return r.pace, err
	}
	if err := (&Spec{Pace: p}).checkField("pace"); err != nil {
		return r.pace, err
	}
	if err := r.trainer.SetPace(p); err != nil {
		return r.pace, fmt.Errorf("runs: pace: %w", err)
	}
	prev := r.pace
	r.pace = p
	l.publishLocked(r, &Action{Kind: ActPace, Actor: by, Value: p, Prev: prev, At: r.trainer.Position(),
		Detail: "pace " + FormatPace(p)})
	return p, nil
}

// step lets one training batch of paused run id through.
func (l *List) step(id ID, by Actor) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, err := l.trainingLocked(id, "step")
	if err != nil {
		return err
	}
	if r.state != StatePaused {
		return fmt.Errorf("runs: step: run %d: %w (pause it first)", id, ErrNotPaused)
	}
	at := r.trainer.Position()
	if err := r.trainer.Step(); err != nil {
		return fmt.Errorf("runs: step: %w", err)
	}
	l.publishLocked(r, &Action{Kind: ActStep, Actor: by, At: at, Detail: fmt.Sprintf("one batch after batch %d", at.Trained)})
	return nil
}

// setLR sets run id's learning rate to next(the current rate) and
// publishes it, with where it took effect.
func (l *List) setLR(id ID, next func(float64) float64, by Actor) (float64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, err := l.trainingLocked(id, "lr")
	if err != nil {
		return 0, err
	}
	lr := next(r.lr)
	if err := (&Spec{LR: lr}).checkField("lr"); err != nil {
		return r.lr, err
	}
	at, err := r.trainer.SetLR(lr)
	if err != nil {
		return r.lr, fmt.Errorf("runs: lr: %w", err)
	}
	prev := r.lr
	r.lr = lr
	l.publishLocked(r, &Action{Kind: ActLR, Actor: by, Value: lr, Prev: prev, At: at,
		Detail: fmt.Sprintf("lr %s → %s after batch %d", formatFloat(prev), formatFloat(lr), at.Trained)})
	return lr, nil
}
