package runs

import (
	"fmt"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/mnist"
)

// ID identifies a run in its List: 1 for the first run added, counting up;
// never reused, not even after a run is removed. A restarted run keeps its
// ID (see Event.Gen).
type ID uint64

// Kind tells what an Event is about.
type Kind int

// The kinds of events.
const (
	// KindAdded: a run joined the list (Info is set); Index is its place.
	KindAdded Kind = iota + 1
	// KindRemoved: a run left the list (replaced by another).
	KindRemoved
	// KindQueue: the queue changed; Queue lists the waiting runs in the
	// order they will start.
	KindQueue
	// KindState: a run's State changed (Err is set for StateFailed).
	KindState
	// KindStart: a run's attempt begins: its trainer is built and its first
	// report follows. Info describes the run (spec, configuration, data,
	// checkpoint). Viewers start the run's charts over here; nothing else
	// tells a restart.
	KindStart
	// KindReport: a report of the run's trainer (Report is set). Reports
	// of kind engine.KindEval carry test predictions: the trainer's live
	// evaluations and the evaluations viewers ask for (Access.Evaluate),
	// for every viewer. The history keeps the predictions of each run's
	// newest report that has some (see Hub); older ones keep their
	// numbers (Loss, Acc, Trained, ...) but lose Report.Predictions.
	KindReport
	// KindAction: a viewer acted on a run (Action says who and what).
	KindAction
)

var kindNames = [...]string{KindAdded: "added", KindRemoved: "removed", KindQueue: "queue", KindState: "state", KindStart: "start", KindReport: "report", KindAction: "action"}

// String names the kind.
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// listLevel reports whether events of this kind belong to the list rather
// than to one attempt of a run (the Hub never refuses them as stale).
func (k Kind) listLevel() bool { return k == KindAdded || k == KindRemoved || k == KindQueue }

// Event is one entry of a List's stream: a report of a run, or a change of
// a run or of the list. It is a plain value; the pointers it holds (Info,
// Action, Report.Predictions, Info.Test) point to data nobody modifies.
//
// A viewer keeps, per run ID, what it has seen, and applies these rules:
// an event whose Gen is greater than the Gen seen so far for its run
// starts the run over (forget its reports and predictions); an event whose
// Gen is smaller is stale and ignored (the stream never sends one, but a
// viewer's own evaluations may be); KindStart describes the attempt.
type Event struct {
	// Run is the run the event is about (0 for KindQueue).
	Run ID
	// Gen counts the run's attempts: 1 from its KindAdded on, one more for
	// every restart. Events of one attempt all carry its Gen.
	Gen int
	// Kind says which of the fields below are set.
	Kind Kind
	// Info describes the run (KindAdded, KindStart).
	Info *Info
	// Index is the run's place in the list, from 0 (KindAdded).
	Index int
	// State is the run's new state (KindState), Err why it failed.
	State State
	Err   error
	// Queue lists the queued runs in starting order (KindQueue).
	Queue []ID
	// Report is the trainer's report (KindReport).
	Report engine.Report
	// Action is what a viewer did (KindAction).
	Action *Action
}

// isBatch reports whether e is a batch report, which the Hub may thin.
func (e Event) isBatch() bool { return e.Kind == KindReport && e.Report.Kind == engine.KindBatch }

// State is where a run is in its life.
type State int

// The states of a run.
const (
	// StateQueued: waiting for its turn (or for the list's Release).
	StateQueued State = iota + 1
	// StateRunning: training (its trainer being built, or running).
	StateRunning
	// StatePaused: its trainer holds before its next batch.
	StatePaused
	// StateDone: the schedule and the test set finished.
	StateDone
	// StateFailed: it stopped on an error (Event.Err, Status.Err).
	StateFailed
	// StateStopped: cancelled (Stop, the list's Close) before the end.
	StateStopped
)

var stateNames = [...]string{StateQueued: "queued", StateRunning: "running", StatePaused: "paused", StateDone: "done", StateFailed: "failed", StateStopped: "stopped"}

// String names the state: "queued", "running", "paused", "done", "failed"
// or "stopped".
func (s State) String() string {
	if s > 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Active reports whether the run holds a training slot (running or paused).
func (s State) Active() bool { return s == StateRunning || s == StatePaused }

// Finished reports whether the run has ended (done, failed or stopped).
func (s State) Finished() bool { return s == StateDone || s == StateFailed || s == StateStopped }

// Info is the one description of a run that every view uses: what was
// asked (Spec), what trains (Config: the spec with a checkpoint's shape
// applied), on which data, from which checkpoint. It is fixed when the run
// is added and never modified.
type Info struct {
	// ID is the run's ID.
	ID ID
	// Spec is the run's spec, validated.
	Spec Spec
	// Config is the trainer's configuration.
	Config engine.Config
	// Data describes the data set and its split.
	Data DataInfo
	// Checkpoint describes the file the run starts from, nil if none.
	Checkpoint *CheckpointInfo
	// Test holds the test digits (read-only, shared); predictions index it.
	Test *mnist.Set
}

// CheckpointInfo describes the checkpoint a run starts from.
type CheckpointInfo struct {
	// Path is the file, Resume whether training continues it (--resume)
	// rather than starting from its weights (--load).
	Path   string
	Resume bool
	// Epoch counts the epochs the file had completed, Batch the training
	// batches done in the next one.
	Epoch, Batch int
	// Val and Test are the scores saved in the file, nil if none.
	Val, Test *engine.Score
}

// ActionKind names a control action.
type ActionKind int

// The control actions; each new kind gets its capability in Caps.allows.
const (
	// ActPause and ActResume pause and resume a run (Caps.Pause).
	ActPause ActionKind = iota + 1
	ActResume
	// ActSave writes a checkpoint of a run (Caps.Save); Detail is the path.
	ActSave
	// ActRestart starts a run's spec over (Caps.StartRuns).
	ActRestart
	// ActAdd queues a new run (Caps.StartRuns).
	ActAdd
	// ActReplace puts a new run in another's place (Caps.StartRuns);
	// Detail names the replaced run.
	ActReplace
	// ActStop cancels a run (Caps.StartRuns).
	ActStop
	// ActEvaluate evaluates a snapshot of a run on the test set (anyone;
	// not published as an action: its predictions are, as a report).
	ActEvaluate
	// ActPace sets a run's pace (Caps.Pause): Value is the new pace in
	// training batches per second (0: full speed), Prev the old one.
	ActPace
	// ActStep lets one training batch of a paused run through
	// (Caps.Pause): At is where training was, the batch is At.Trained+1.
	ActStep
	// ActLR sets a run's learning rate (Caps.Pause): Value is the new
	// rate, Prev the old one, At where it took effect (training batches
	// up to At.Trained used the old rate).
	ActLR
)

var actionNames = [...]string{ActPause: "pause", ActResume: "resume", ActSave: "save", ActRestart: "restart", ActAdd: "add", ActReplace: "replace", ActStop: "stop", ActEvaluate: "evaluate", ActPace: "pace", ActStep: "step", ActLR: "lr"}

// String names the action, as the server's log writes it ("pause",
// "restart", ...).
func (k ActionKind) String() string {
	if k > 0 && int(k) < len(actionNames) {
		return actionNames[k]
	}
	return fmt.Sprintf("action(%d)", int(k))
}

// Action is a control action someone took, as published in the stream.
type Action struct {
	Kind  ActionKind
	Actor Actor
	// Detail adds what the action needs said, as text for a log or a
	// notice: the saved file, the replaced run, "pace 10 batches/s",
	// "lr 0.001 → 0.002 after batch 37".
	Detail string
	// Value and Prev are the setting after and before the action: the
	// pace (ActPace) or the learning rate (ActLR).
	Value, Prev float64
	// At is where the run's training was when the action took effect
	// (ActPause, ActResume, ActStep, ActLR; zero for the others and for a
	// run not training).
	At engine.Position
}

// Actor is who acts on runs: the person at the local terminal, or an SSH
// user with their key.
type Actor struct {
	// User is the user name ("local" for the local terminal).
	User string
	// Key is the SHA256 fingerprint of the user's key, Addr their address
	// (both empty locally).
	Key, Addr string
}

// String describes the actor for logs: `user="ann" key=SHA256:... addr=...`,
// or just the user when there is no key.
func (a Actor) String() string {
	if a.Key == "" && a.Addr == "" {
		return fmt.Sprintf("user=%q", a.User)
	}
	return fmt.Sprintf("user=%q key=%s addr=%s", a.User, a.Key, a.Addr)
}
