// Command mnist-tui trains the PyTorch MNIST RNN recipe with gorgonia inside
// a terminal: a live dashboard while it learns, then a browser of the 10,000
// test predictions. --headless prints what the notebook prints instead.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
	"github.com/mnist-tui/mnist-tui/tui"
	"github.com/mnist-tui/mnist-tui/tui/headless"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit statuses: 0 success, 1 a failure (training, saving, writing), 2 bad
// flags or unusable input (data, checkpoints), and 128 plus the signal's
// number when a signal stopped the program (130 for SIGINT, 143 for
// SIGTERM, 129 for SIGHUP), in the TUI, headless and serve alike.
const (
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	ctx, caught := signalContext(os.Stderr)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if sig := caught(); sig != 0 {
		fmt.Fprintf(os.Stderr, "mnist-tui: stopped by %v\n", sig)
		code = 128 + int(sig)
	}
	os.Exit(code)
}

// signalContext returns a context cancelled by the first SIGINT, SIGTERM or
// SIGHUP, and a function telling which signal that was (0: none). It is the
// program's only signal handler: Bubble Tea's own is turned off (see
// tui.Run), since the two racing to quit the program deadlocked it. A
// second signal ends the process at once. SIGHUP stays ignored when the
// program was started ignoring it (nohup).
func signalContext(stderr io.Writer) (context.Context, func() syscall.Signal) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	handled := []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}
	if signal.Ignored(syscall.SIGHUP) {
		handled = handled[:2] // started with nohup: keep ignoring it
	}
	signal.Notify(sigs, handled...)
	var caught atomic.Int64
	go func() {
		sig := (<-sigs).(syscall.Signal)
		caught.Store(int64(sig))
		cancel()
		sig = (<-sigs).(syscall.Signal)
		fmt.Fprintf(stderr, "mnist-tui: %v again: exiting at once\n", sig)
		os.Exit(128 + int(sig))
	}()
	return ctx, func() syscall.Signal { return syscall.Signal(caught.Load()) }
}

// options are the parsed command-line flags.
type options struct {
	runs     *runs.Flags
	headless bool
	metrics  string
	version  bool
	ascii    bool
	noMouse  bool
	setup    bool
	// labels name the runs asked for (runs.Labels); setupSpec is the
	// spec the setup form starts from (--setup).
	labels    []string
	setupSpec *runs.Spec
}

// commandLine is who acts on the runs the command line asks for.
var commandLine = runs.Actor{User: "command line"}

// bindFlags defines the flags shared by the main command and serve: the
// run flags (runs.NewFlags) and the display ones.
func bindFlags(fs *flag.FlagSet, o *options) {
	o.runs = runs.NewFlags(fs, runs.DefaultSpec())
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.BoolVar(&o.ascii, "ascii", false, "draw charts with plain characters instead of Braille")
}

// newFlagSet returns the main command's flag set, filling o.
func newFlagSet(o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("mnist-tui", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bindFlags(fs, o)
	fs.BoolVar(&o.headless, "headless", false, "print the notebook's lines instead of drawing the dashboard")
	fs.StringVar(&o.metrics, "metrics", "", "write one JSON line per finished phase to `FILE`")
	fs.BoolVar(&o.noMouse, "no-mouse", false, "leave the mouse to the terminal (text selection) instead of clicks and the wheel")
	fs.BoolVar(&o.setup, "setup", false, "open the setup form before anything trains (the other run flags fill it)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: mnist-tui [flags]\n       mnist-tui serve [flags]   (serve the runs to many viewers over SSH; see serve --help)\n\nTrains an RNN on MNIST and shows it learning. Comma lists for --cell, --hidden and --lr\nqueue one run per value (--cell rnn,lstm,gru), trained one after another.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs
}

// prepare parses args on fs into o, turns the run flags into specs
// (checking every flag, the --save files and the memory each run needs
// before anything is read) and queues them in a new held list (reading
// checkpoints and data), built with the options listOpts gives for o
// (nil: none). check (nil: none) is called once the flags are parsed,
// before anything is read: a command's own options fail fast. done says
// the command ends here (--help, --version, a bad flag or unusable input,
// already reported on stderr) with exit code.
// Reading stops when ctx is cancelled (a signal: main gives the exit
// status).
func prepare(ctx context.Context, fs *flag.FlagSet, o *options, args []string, stdout, stderr io.Writer, listOpts func(options) []runs.Option, check func() error) (list *runs.List, code int, done bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, 0, true
		}
		return nil, exitUsage, true // the flag package has said what is wrong
	}
	fail := func(err error) (*runs.List, int, bool) {
		if !stopped(ctx, err) {
			fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		}
		return nil, exitUsage, true
	}
	if fs.NArg() > 0 {
		return fail(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if err := engine.CheckKernels(); err != nil {
		return fail(err)
	}
	if check != nil {
		if err := check(); err != nil {
			return fail(err)
		}
	}
	specs, err := o.runs.Specs(ctx, runs.DefaultCapacity)
	if err != nil {
		return fail(err)
	}
	if o.version {
		fmt.Fprintf(stdout, "mnist-tui %s\n", version)
		return nil, 0, true
	}
	o.labels = runs.Labels(specs)
	lopts := []runs.Option{runs.Held()}
	if listOpts != nil {
		lopts = append(lopts, listOpts(*o)...)
	}
	list = runs.NewList(lopts...)
	// A signal while the data are read closes the list, which stops the
	// reading.
	defer context.AfterFunc(ctx, list.Close)()
	if o.setup {
		// Nothing is queued: the form adds the run when it is submitted.
		switch {
		case len(specs) > 1:
			list.Close()
			return fail(errors.New("--setup: the form sets up one run; comma lists queue several without it"))
		case specs[0].Load != "" || specs[0].Resume != "":
			list.Close()
			return fail(errors.New("--setup: the form starts a run from scratch; --load and --resume start one without it"))
		}
		o.setupSpec = &specs[0]
		return list, 0, false
	}
	owner := runs.Access{List: list, Caps: runs.AllCaps(), Actor: commandLine}
	for _, s := range specs {
		if _, err := owner.Add(s); err != nil {
			list.Close()
			return fail(err)
		}
	}
	return list, 0, false
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "serve" {
		return runServe(ctx, args[1:], stdout, stderr)
	}
	var o options
	rec := &recorder{} // prints once runHeadless or runTUI set its printer
	listOpts := func(o options) []runs.Option {
		opts := []runs.Option{runs.WithTrainerFunc(rec.trainerFunc)}
		if o.headless || !isTerminal(stdout) {
			// Headless, nobody watches the live predictions: none.
			opts = append(opts, runs.WithLive(engine.LiveEval{}))
		}
		return opts
	}
	list, code, done := prepare(ctx, newFlagSet(&o, stderr), &o, args, stdout, stderr, listOpts, nil)
	if done {
		return code
	}
	defer list.Close()
	var err error
	if o.setup && (o.headless || !isTerminal(stdout)) {
		fmt.Fprintln(stderr, "mnist-tui: --setup: the setup form needs the dashboard on a terminal (not --headless)")
		return exitUsage
	}
	if !o.headless && !isTerminal(stdout) {
		fmt.Fprintln(stderr, "mnist-tui: standard output is not a terminal; running headless")
		o.headless = true
	}
	if o.headless {
		err = runHeadless(ctx, o, list, rec, stdout, stderr)
	} else {
		err = runTUI(ctx, o, list, rec, stdin, stdout)
	}
	switch {
	case err == nil:
		return 0
	case stopped(ctx, err):
		return exitFailure // stopped from outside (main says by which signal)
	}
	// The TUI has restored the terminal by now.
	fmt.Fprintf(stderr, "mnist-tui: %v\n", err)
	return exitFailure
}

// stopped reports whether err comes of ctx's cancellation (a signal): the
// cancellation itself, or the list it closed refusing a run.
func stopped(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, runs.ErrClosed))
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// printer returns the headless printer writing the notebook's lines to out
// (progress on stderr when it is a terminal and progress is wanted) and the
// --metrics file, and a function closing that file.
func printer(o options, out, stderr io.Writer, progress bool) (*headless.Printer, func() error, error) {
	popts := []headless.Option{headless.WithRuns(o.labels)}
	if progress && isTerminal(stderr) {
		popts = append(popts, headless.WithProgress(stderr, 100*time.Millisecond))
	}
	closeFn := func() error { return nil }
	if o.metrics != "" {
		f, err := os.Create(o.metrics)
		if err != nil {
			return nil, nil, fmt.Errorf("--metrics: %w", err)
		}
		popts = append(popts, headless.WithMetrics(f))
		closeFn = sync.OnceValue(f.Close)
	}
	return headless.New(out, popts...), closeFn, nil
}

// recorder hands every run's start and reports to a printer on the run's
// own goroutine, as they happen, and its changes of learning rate and pace
// as they are made: a run whose lines or metrics cannot be written fails
// then and there (and is not saved), rather than being reported a success.
type recorder struct {
	mu sync.Mutex
	p  *headless.Printer // nil until set: nothing to print
}

// set makes the recorder print to p.
func (r *recorder) set(p *headless.Printer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.p = p
}

// event hands e to the printer and returns its error, if any.
func (r *recorder) event(e runs.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p == nil {
		return nil
	}
	r.p.Event(e)
	return r.p.Err()
}

// err returns the printer's error, if any.
func (r *recorder) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p == nil {
		return nil
	}
	return r.p.Err()
}

// trainerFunc is the list's runs.TrainerFunc: runs.NewTrainer, its start
// and reports printed, its run stopped by the first write error.
func (r *recorder) trainerFunc(p runs.Prepared, report engine.Reporter) (runs.Trainer, error) {
	if err := r.err(); err != nil {
		return nil, err // an earlier run's output failed: this one's would too
	}
	t := &recordedTrainer{rec: r, id: p.Info.ID, failed: make(chan error, 1), lr: p.Info.Config.LR, pace: p.Info.Spec.Pace}
	inner, err := runs.NewTrainer(p, func(rep engine.Report) {
		report(rep)
		t.record(runs.Event{Kind: runs.KindReport, Report: rep})
	})
	if err != nil {
		return nil, err
	}
	t.Trainer = inner
	if err := r.event(runs.Event{Run: p.Info.ID, Kind: runs.KindStart, Info: p.Info}); err != nil {
		return nil, err
	}
	return t, nil
}

// recordedTrainer is a run's trainer whose reports and changes of
// learning rate and pace are printed (the metrics file records them); it
// stops, failing with the printer's error, once the run's output cannot be
// written.
type recordedTrainer struct {
	runs.Trainer
	rec    *recorder
	id     runs.ID
	failed chan error // the printer's first error

	mu       sync.Mutex // serialises the changes and guards lr and pace
	lr, pace float64    // the run's, as the changes left them
}

// record prints e, an event of the run; the printer's error, if any,
// stops the run.
func (t *recordedTrainer) record(e runs.Event) {
	e.Run = t.id
	if err := t.rec.event(e); err != nil {
		select {
		case t.failed <- err:
		default: // told already
		}
	}
}

// SetLR sets the learning rate, then records the change where it took
// effect.
func (t *recordedTrainer) SetLR(lr float64) (engine.Position, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	at, err := t.Trainer.SetLR(lr)
	if err != nil {
		return at, err
	}
	prev := t.lr
	t.lr = lr
	t.record(runs.Event{Kind: runs.KindAction, Action: &runs.Action{Kind: runs.ActLR, Value: lr, Prev: prev, At: at}})
	return at, nil
}

// SetPace sets the pace, then records the change.
func (t *recordedTrainer) SetPace(pace float64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.Trainer.SetPace(pace); err != nil {
		return err
	}
	prev := t.pace
	t.pace = pace
	t.record(runs.Event{Kind: runs.KindAction, Action: &runs.Action{Kind: runs.ActPace, Value: pace, Prev: prev, At: t.Trainer.Position()}})
	return nil
}

// Run trains until the end, a cancellation or the printer's first error,
// which it returns (the run then failed: it is not saved).
func (t *recordedTrainer) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case err := <-t.failed:
			cancel(err)
		case <-ctx.Done():
		}
	}()
	err := t.Trainer.Run(ctx)
	if perr := t.rec.err(); perr != nil {
		return perr // also when it came with the last report
	}
	return err
}

// finish closes the list once its runs are over (or ctx is done) and says
// what was saved (only files written and renamed into place); it returns
// the failures: the runs' and the printer's, or else the context's.
func finish(ctx context.Context, list *runs.List, rec *recorder, stderr io.Writer) error {
	waitErr := list.Wait(ctx)
	list.Close()
	for _, st := range list.Runs() {
		if st.Saved != "" && stderr != nil {
			fmt.Fprintf(stderr, "mnist-tui: saved %s\n", st.Saved)
		}
	}
	err := list.Err()
	if perr := rec.err(); perr != nil && !errors.Is(err, perr) {
		err = errors.Join(err, perr) // a run it stopped has it already
	}
	if err == nil {
		err = waitErr
	}
	return err
}

func runHeadless(ctx context.Context, o options, list *runs.List, rec *recorder, stdout, stderr io.Writer) error {
	p, closeMetrics, err := printer(o, stdout, stderr, true)
	if err != nil {
		return err
	}
	defer closeMetrics()
	rec.set(p)
	list.Release()
	if err := finish(ctx, list, rec, stderr); err != nil {
		return err
	}
	return closeMetrics()
}

// runTUI trains the list while the dashboard runs on the terminal.
// Quitting the UI stops training and waits for the runs to stop. A run's
// failure (shown in the UI while it runs) is returned, for run to print
// once the terminal is restored; quitting is not a failure, a signal is
// (main reports it).
func runTUI(ctx context.Context, o options, list *runs.List, rec *recorder, stdin io.Reader, stdout io.Writer) error {
	p, closeMetrics, err := printer(o, io.Discard, nil, false)
	if err != nil {
		return err
	}
	defer closeMetrics()
	rec.set(p)
	sub := list.Subscribe()
	defer sub.Close()
	list.Release()
	uiErr := tui.Run(ctx, tui.Options{
		Access:  runs.Access{List: list, Caps: runs.AllCaps(), Actor: runs.Actor{User: "local"}},
		Events:  sub.Events(),
		ASCII:   o.ascii,
		NoMouse: o.noMouse,
		Setup:   o.setupSpec,
	}, stdin, stdout)
	list.Close()
	if err := errors.Join(uiErr, finish(context.Background(), list, rec, nil)); err != nil {
		return err
	}
	if err := closeMetrics(); err != nil {
		return err
	}
	return ctx.Err() // stopped from outside: main reports the signal
}
