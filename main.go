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
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/mnist"
	"github.com/mnist-tui/mnist-tui/tui"
	"github.com/mnist-tui/mnist-tui/tui/headless"
	"github.com/mnist-tui/mnist-tui/tui/serve"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit statuses: 0 success, 1 a failure (training, saving, writing), 2 bad
// flags or unusable input (data, checkpoints), and 128 plus the signal's
// number when a signal stopped the program (130 for SIGINT, 143 for
// SIGTERM, 129 for SIGHUP), in the TUI and headless alike.
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
	cfg      engine.Config
	data     string
	limit    int
	headless bool
	metrics  string
	version  bool
	ascii    bool

	// Checkpoints: --save, --autosave, --load, --resume, and the checkpoint
	// read for --load or --resume.
	save, load, resume string
	autosave           bool
	ck                 *engine.Checkpoint
}

// usageError is a bad flag value, reported with exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// bindFlags defines the training flags shared by the main command and serve.
func bindFlags(fs *flag.FlagSet, o *options) {
	fs.IntVar(&o.cfg.Epochs, "epochs", o.cfg.Epochs, "epochs of the schedule (epoch 1 only validates; 0 only tests)")
	fs.IntVar(&o.cfg.Batch, "batch", o.cfg.Batch, "mini-batch size")
	fs.Float64Var(&o.cfg.LR, "lr", o.cfg.LR, "Adam learning rate")
	fs.IntVar(&o.cfg.Hidden, "hidden", o.cfg.Hidden, "hidden units of the RNN")
	fs.Uint64Var(&o.cfg.Seed, "seed", o.cfg.Seed, "seed of the weights, the split and the shuffling")
	fs.StringVar(&o.data, "data", "", "load the four MNIST-format IDX files (raw or .gz) from `DIR` instead of the embedded MNIST")
	fs.IntVar(&o.limit, "limit", 0, "use at most `N` digits of each of train, validation and test (0: all)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.BoolVar(&o.ascii, "ascii", false, "draw charts with plain characters instead of Braille")
	fs.StringVar(&o.cfg.Cell, "cell", o.cfg.Cell, "recurrent cell: rnn, lstm or gru")
	fs.StringVar(&o.save, "save", "", "save the model (safetensors, PyTorch's state_dict names) to `FILE` when training ends")
	fs.BoolVar(&o.autosave, "autosave", false, "also save to the --save file after every epoch")
	fs.StringVar(&o.load, "load", "", "start from the weights saved in `FILE` (with --epochs 0: only test them)")
	fs.StringVar(&o.resume, "resume", "", "continue the run saved in `FILE`, optimizer state and schedule included")
}

// newFlagSet returns the main command's flag set, filling o.
func newFlagSet(o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("mnist-tui", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bindFlags(fs, o)
	fs.BoolVar(&o.headless, "headless", false, "print the notebook's lines instead of drawing the dashboard")
	fs.StringVar(&o.metrics, "metrics", "", "write one JSON line per finished phase to `FILE`")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: mnist-tui [flags]\n       mnist-tui serve [flags]   (serve one run to many viewers over SSH; see serve --help)\n\nTrains an RNN on MNIST and shows it learning.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs
}

// prepare parses args on fs into o, checks them and reads the checkpoint
// and the data. done says the command ends here (--help, --version, a bad
// flag or unusable input, already reported on stderr) with exit code.
// Reading stops, with a usage error, when ctx is cancelled.
func prepare(ctx context.Context, fs *flag.FlagSet, o *options, args []string, stdout, stderr io.Writer) (data engine.Data, code int, done bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return data, 0, true
		}
		return data, exitUsage, true // the flag package has said what is wrong
	}
	fail := func(err error) (engine.Data, int, bool) {
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		return data, exitUsage, true
	}
	if err := checkFlags(fs, *o); err != nil {
		return fail(err)
	}
	if err := loadCheckpoint(ctx, fs, o); err != nil {
		return fail(err)
	}
	if o.version {
		fmt.Fprintf(stdout, "mnist-tui %s\n", version)
		return data, 0, true
	}
	if err := checkConfig(o.cfg); err != nil {
		return fail(err)
	}
	data, err := loadData(ctx, *o)
	if err != nil {
		return fail(err)
	}
	return data, 0, false
}

// loadCheckpoint reads the --load or --resume file and takes the model's
// shape (and, resuming, the seed, batch size and learning rate unless given
// as flags) from it. A bad file is a usage error naming it.
func loadCheckpoint(ctx context.Context, fs *flag.FlagSet, o *options) error {
	path, flagName := o.load, "--load"
	if o.resume != "" {
		path, flagName = o.resume, "--resume"
	}
	if path == "" {
		return nil
	}
	ck, err := engine.LoadCheckpointContext(ctx, path)
	if err != nil {
		return usageError{fmt.Sprintf("%s: %v", flagName, err)}
	}
	if ck.Config.Inputs*ck.Config.Steps != mnist.Pixels || ck.Config.Classes != mnist.Classes {
		return usageError{fmt.Sprintf("%s %s: a %dx%d model with %d classes does not read MNIST digits", flagName, path, ck.Config.Steps, ck.Config.Inputs, ck.Config.Classes)}
	}
	if o.resume != "" && ck.Adam == nil {
		return usageError{fmt.Sprintf("--resume %s: no optimizer state in the file (use --load)", path)}
	}
	var set []string
	fs.Visit(func(f *flag.Flag) { set = append(set, f.Name) })
	if o.cfg, err = ck.Apply(o.cfg, o.resume != "", set...); err != nil {
		return usageError{fmt.Sprintf("%s %s: %v", flagName, path, err)}
	}
	o.ck = ck
	return nil
}

// trainerOptions are the engine options the checkpoint flags ask for.
func (o options) trainerOptions() []engine.Option {
	var opts []engine.Option
	switch {
	case o.resume != "":
		opts = append(opts, engine.WithResume(o.ck))
	case o.load != "":
		opts = append(opts, engine.WithParams(o.ck.Params))
	}
	if o.autosave {
		opts = append(opts, engine.WithAutosave(o.save))
	}
	return opts
}

// saveRun saves the run to --save once it has ended or was cancelled (not
// when it failed with runErr). saved reports whether the file was written
// and renamed into place.
func saveRun(o options, t *engine.Trainer, runErr error) (saved bool, err error) {
	if o.save == "" || (runErr != nil && !errors.Is(runErr, context.Canceled)) {
		return false, nil
	}
	if err := t.Save(o.save); err != nil {
		return false, fmt.Errorf("--save: %w", err)
	}
	return true, nil
}

// checkFlags refuses bad values with a one-line message.
func checkFlags(fs *flag.FlagSet, o options) error {
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	switch {
	case o.cfg.Epochs < 0:
		return usageError{fmt.Sprintf("--epochs %d: must be 0 or more", o.cfg.Epochs)}
	case o.cfg.Batch <= 0:
		return usageError{fmt.Sprintf("--batch %d: must be positive", o.cfg.Batch)}
	case o.cfg.Hidden <= 0:
		return usageError{fmt.Sprintf("--hidden %d: must be positive", o.cfg.Hidden)}
	case !(o.cfg.LR > 0) || o.cfg.LR > 10:
		return usageError{fmt.Sprintf("--lr %g: must be in (0, 10]", o.cfg.LR)}
	case o.limit < 0:
		return usageError{fmt.Sprintf("--limit %d: must be 0 (all) or positive", o.limit)}
	case o.limit > 0 && o.limit < o.cfg.Batch:
		return usageError{fmt.Sprintf("--limit %d: smaller than one batch (%d)", o.limit, o.cfg.Batch)}
	case o.cfg.Cell != "rnn" && o.cfg.Cell != "lstm" && o.cfg.Cell != "gru":
		return usageError{fmt.Sprintf("--cell %q: must be rnn, lstm or gru", o.cfg.Cell)}
	case o.autosave && o.save == "":
		return usageError{"--autosave: needs --save FILE"}
	case o.load != "" && o.resume != "":
		return usageError{"--load and --resume: use one or the other"}
	}
	if o.save != "" {
		// Found out now, not after training.
		if err := engine.CheckSave(o.save); err != nil {
			return usageError{fmt.Sprintf("--save: %v", errors.Unwrap(err))} // "safetensors: write FILE: why"
		}
	}
	if o.data != "" {
		if st, err := os.Stat(o.data); err != nil {
			return usageError{fmt.Sprintf("--data %s: %v", o.data, errors.Unwrap(err))}
		} else if !st.IsDir() {
			return usageError{fmt.Sprintf("--data %s: not a directory", o.data)}
		}
	}
	return nil
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "serve" {
		return runServe(ctx, args[1:], stdout, stderr)
	}
	o := options{cfg: engine.DefaultConfig()}
	data, code, done := prepare(ctx, newFlagSet(&o, stderr), &o, args, stdout, stderr)
	if done {
		return code
	}
	var err error
	if !o.headless && !isTerminal(stdout) {
		fmt.Fprintln(stderr, "mnist-tui: standard output is not a terminal; running headless")
		o.headless = true
	}
	if o.headless {
		err = runHeadless(ctx, o, data, stdout, stderr)
	} else {
		err = runTUI(ctx, o, data, stdin, stdout, stderr)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return exitFailure // stopped from outside (main says by which signal)
	}
	// The TUI has restored the terminal by now.
	fmt.Fprintf(stderr, "mnist-tui: %v\n", err)
	return exitFailure
}

// checkConfig applies the engine's rules for a run's sizes (the limits a
// checkpoint records, the machine's memory) and names the flag to blame.
func checkConfig(c engine.Config) error {
	err := c.Validate()
	if err == nil {
		err = c.CheckMemory(engine.MachineMemory())
	}
	var fe *engine.FieldError
	if errors.As(err, &fe) {
		return usageError{fmt.Sprintf("--%s %v: %s", fe.Field, fe.Value, fe.Reason)}
	}
	return err
}

// loadData reads the data (embedded or --data), splits the training images
// 40,000/20,000 with the seed and applies --limit. A split the schedule
// needs that comes out empty is a data error naming the file.
func loadData(ctx context.Context, o options) (engine.Data, error) {
	var train, test *mnist.Set
	var err error
	if o.data != "" {
		train, test, err = mnist.LoadDirContext(ctx, o.data)
	} else {
		train, test, err = mnist.EmbeddedContext(ctx)
	}
	if err != nil {
		return engine.Data{}, err
	}
	nTrain := train.Len() * 2 / 3 // 40,000 of MNIST's 60,000
	tr, val, err := mnist.Split(train, nTrain, o.cfg.Seed)
	if err != nil {
		return engine.Data{}, err
	}
	if (o.cfg.Epochs > 1 && tr.Len() == 0) || (o.cfg.Epochs > 0 && val.Len() == 0) {
		return engine.Data{}, fmt.Errorf("--data %s: the training images (train-images-idx3-ubyte) hold %d digits, too few to split into training and validation sets", o.data, train.Len())
	}
	return engine.Data{Train: tr.Limit(o.limit), Val: val.Limit(o.limit), Test: test.Limit(o.limit)}, nil
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
	var popts []headless.Option
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
		closeFn = f.Close
	}
	return headless.New(out, popts...), closeFn, nil
}

func runHeadless(ctx context.Context, o options, data engine.Data, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	p, closeMetrics, err := printer(o, stdout, stderr, true)
	if err != nil {
		return err
	}
	defer closeMetrics()
	t, err := engine.NewTrainer(o.cfg, data, append(o.trainerOptions(), engine.WithReporter(failOnWriteError(p, cancel)))...)
	if err != nil {
		return err
	}
	runErr := runCause(ctx, t.Run(ctx))
	saved, err := saveRun(o, t, runErr)
	if saved {
		fmt.Fprintf(stderr, "mnist-tui: saved %s\n", o.save)
	}
	return distinct(runErr, err, p.Err(), closeMetrics())
}

// failOnWriteError returns a reporter handing reports to p that stops the
// run (cancel, with the error as cause) once p fails to write its output
// or the metrics file: a run whose results cannot be recorded is a
// failure, and stopping it at once loses nothing more.
func failOnWriteError(p *headless.Printer, cancel context.CancelCauseFunc) engine.Reporter {
	return func(r engine.Report) {
		p.Report(r)
		if err := p.Err(); err != nil {
			cancel(err)
		}
	}
}

// runCause returns the error a run ended with, or the cause of its
// cancellation when the run was stopped by a write error (see
// failOnWriteError) rather than from outside.
func runCause(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); errors.Is(err, context.Canceled) && cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return err
}

// runTUI trains in a goroutine while the dashboard runs on the terminal.
// Quitting the UI cancels training and waits for the trainer to stop. The
// run's failure (shown in the UI while it runs) is returned, for main to
// print once the terminal is restored; quitting is not a failure.
func runTUI(outer context.Context, o options, data engine.Data, stdin io.Reader, stdout, stderr io.Writer) error {
	uiCtx, quit := context.WithCancel(outer)
	defer quit()
	ctx, cancel := context.WithCancelCause(uiCtx) // the trainer's
	defer cancel(nil)
	p, closeMetrics, err := printer(o, io.Discard, nil, false)
	if err != nil {
		return err
	}
	defer closeMetrics()
	hub := serve.NewHub()
	sub := hub.Subscribe()
	defer sub.Close()
	report := failOnWriteError(p, cancel)
	t, err := engine.NewTrainer(o.cfg, data, append(o.trainerOptions(), engine.WithReporter(func(r engine.Report) {
		report(r)
		hub.Publish(r)
	}))...)
	if err != nil {
		return err
	}
	errs := make(chan error, 1)
	trained := make(chan struct{})
	var runErr, saveErr error // written before trained is closed
	var saved bool
	go func() {
		defer close(trained)
		err := runCause(ctx, t.Run(ctx))
		saved, saveErr = saveRun(o, t, err)
		hub.Close()
		if err == nil {
			err = saveErr
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			runErr = err
			errs <- err // shown in the dashboard, which stays open
		}
	}()
	uiErr := tui.Run(uiCtx, tui.Options{
		Config: o.cfg, Sizes: sizes(data), Test: data.Test,
		Reports: sub.Reports(), Control: t, Errs: errs, ASCII: o.ascii,
		SavePath: o.savePath(),
	}, stdin, stdout)
	quit()
	<-trained
	if saved {
		fmt.Fprintf(stderr, "mnist-tui: saved %s\n", o.save)
	}
	if err := distinct(uiErr, runErr, saveErr, p.Err(), closeMetrics()); err != nil {
		return err
	}
	return outer.Err() // stopped from outside: main reports the signal
}

// distinct joins the non-nil errors, each once.
func distinct(errs ...error) error {
	var out []error
	for _, err := range errs {
		if err != nil && !slices.Contains(out, err) {
			out = append(out, err)
		}
	}
	return errors.Join(out...)
}

// savePath is where the TUI's save key writes: --save, or a file named for
// the cell in the working directory.
func (o options) savePath() string {
	if o.save != "" {
		return o.save
	}
	return "mnist-tui-" + o.cfg.Cell + ".safetensors"
}

// sizes are the train, validation and test set sizes.
func sizes(d engine.Data) [3]int {
	n := func(s *mnist.Set) int {
		if s == nil {
			return 0
		}
		return s.Len()
	}
	return [3]int{n(d.Train), n(d.Val), n(d.Test)}
}
