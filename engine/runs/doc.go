// Package runs makes a training run a value: a Spec (cell, sizes, learning
// rate, schedule, seed, data, checkpoints) validated in one place, a List
// of runs that trains them one after another from a queue, one stream of
// events per List that tells every viewer every run's history (a late
// joiner sees all charts from the start) and every change, and the runs'
// controls behind an Access that carries the viewer's capabilities and
// identity.
//
// It sits between the engine and the user interfaces (main -> tui/serve ->
// tui -> runs -> engine -> mnist) and imports no terminal or SSH library:
// the local dashboard, the headless printer and every SSH session are all
// just subscribers with an Access.
//
// # Validation and loading
//
// Spec.Validate is the one check of a run's settings, for flags, form
// fields and checkpoint metadata alike: each field's range (sizes within
// what a checkpoint records), a --save file that can be written (each
// numbered one, for several runs), and the memory the run needs against
// the machine's. A bad value is an engine.FieldError (FieldError here),
// whose message names the field as its flag: `--batch 5000: must be at
// most 4096`. Adding a run reads its checkpoint and data set under the
// List's context, so Close stops a read under way.
//
// # The stream
//
// A List publishes Events: KindAdded (a run joined, with its Info),
// KindQueue (the queue's order), KindState (queued, running, paused, done,
// failed, stopped), KindStart (an attempt begins: the explicit start, with
// the Info viewers need), KindReport (the engine's reports), KindAction
// (who paused, saved, restarted, ...), KindRemoved. Every event names its
// run (ID) and attempt (Gen). Subscribe replays the history, then streams;
// SubscribeEvery hands bursts aligned across viewers of one interval.
//
// # Controls
//
// An Access checks the viewer's Caps, acts and publishes a KindAction
// naming the actor: pause and resume, pace (SetPace, ShiftPace along
// Ladder), single steps (Step, while paused) and the learning rate
// (SetLR, ScaleLR) need Caps.Pause; saving Caps.Save; adding, replacing,
// restarting and stopping Caps.StartRuns. Pace and learning rate start
// from the spec with each attempt; an Action carries the new and old
// value (Value, Prev) and where training was (At). Evaluate needs no
// capability and publishes its predictions to every viewer.
//
// # Live predictions and memory
//
// The default trainer (NewTrainer) evaluates a sample of the test set
// during training (engine.WithLiveEval) and every viewer gets the
// predictions in the stream. The history keeps the predictions of each
// run's newest report that has some; older ones keep their accuracy (see
// Hub), so a long run's history grows by a small report per evaluation,
// not by a set of predictions.
//
// # Restart
//
// Restarting a run keeps its ID and starts its spec over as the next
// attempt (Gen + 1): the old attempt's events leave the history, and a
// viewer seeing a greater Gen forgets the run's data. Replacing a run
// gives the new spec a new ID in the old one's place.
package runs
