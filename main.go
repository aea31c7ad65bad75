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
	"syscall"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/mnist-tui/mnist-tui/engine/runs"
	"github.com/mnist-tui/mnist-tui/tui"
	"github.com/mnist-tui/mnist-tui/tui/headless"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// exitUsage is the exit status for bad flags or unusable input.
const exitUsage = 2

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the parsed command-line flags.
type options struct {
	runs     *runs.Flags
	headless bool
	metrics  string
	version  bool
	ascii    bool
	noMouse  bool
	// labels name the runs asked for (runs.Labels).
	labels []string
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
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: mnist-tui [flags]\n       mnist-tui serve [flags]   (serve the runs to many viewers over SSH; see serve --help)\n\nTrains an RNN on MNIST and shows it learning. Comma lists for --cell, --hidden and --lr\nqueue one run per value (--cell rnn,lstm,gru), trained one after another.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs
}

// prepare parses args on fs into o, turns the run flags into specs and
// queues them in a new held list (reading checkpoints and data). done says
// the command ends here (--help, --version, a bad flag or unusable input,
// already reported on stderr) with exit code.
func prepare(fs *flag.FlagSet, o *options, args []string, stdout, stderr io.Writer) (list *runs.List, code int, done bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, 0, true
		}
		return nil, exitUsage, true // the flag package has said what is wrong
	}
	fail := func(err error) (*runs.List, int, bool) {
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		return nil, exitUsage, true
	}
	if fs.NArg() > 0 {
		return fail(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	specs, err := o.runs.Specs(runs.DefaultCapacity)
	if err != nil {
		return fail(err)
	}
	if o.version {
		fmt.Fprintf(stdout, "mnist-tui %s\n", version)
		return nil, 0, true
	}
	o.labels = runs.Labels(specs)
	list = runs.NewList(runs.Held())
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
	list, code, done := prepare(newFlagSet(&o, stderr), &o, args, stdout, stderr)
	if done {
		return code
	}
	defer list.Close()
	var err error
	if !o.headless && !isTerminal(stdout) {
		fmt.Fprintln(stderr, "mnist-tui: standard output is not a terminal; running headless")
		o.headless = true
	}
	if o.headless {
		err = runHeadless(ctx, o, list, stdout, stderr)
	} else {
		err = runTUI(ctx, o, list, stdin, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "mnist-tui: %v\n", err)
		return 1
	}
	return 0
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
		closeFn = f.Close
	}
	return headless.New(out, popts...), closeFn, nil
}

// follow feeds every event of the list to p on its own goroutine; the
// returned function waits until the list is closed and every event
// printed.
func follow(list *runs.List, p *headless.Printer) (wait func()) {
	sub := list.Subscribe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range sub.Events() {
			p.Event(e)
		}
	}()
	return func() {
		<-done
		sub.Close()
	}
}

// finish closes the list once its runs are over (or ctx is done), waits
// for the printer, and says what was saved; it returns the first failure:
// the context's, a run's, the printer's.
func finish(ctx context.Context, list *runs.List, wait func(), p *headless.Printer, stderr io.Writer) error {
	waitErr := list.Wait(ctx)
	list.Close()
	wait()
	for _, st := range list.Runs() {
		if st.Saved != "" && stderr != nil {
			fmt.Fprintf(stderr, "mnist-tui: saved %s\n", st.Saved)
		}
	}
	if err := list.Err(); err != nil {
		return err
	}
	if waitErr != nil {
		return waitErr
	}
	return p.Err()
}

func runHeadless(ctx context.Context, o options, list *runs.List, stdout, stderr io.Writer) error {
	p, closeMetrics, err := printer(o, stdout, stderr, true)
	if err != nil {
		return err
	}
	defer closeMetrics()
	wait := follow(list, p)
	list.Release()
	if err := finish(ctx, list, wait, p, stderr); err != nil {
		return err
	}
	return closeMetrics()
}

// runTUI trains the list while the dashboard runs on the terminal.
// Quitting the UI stops training and waits for the runs to stop.
func runTUI(ctx context.Context, o options, list *runs.List, stdin io.Reader, stdout io.Writer) error {
	p, closeMetrics, err := printer(o, io.Discard, nil, false)
	if err != nil {
		return err
	}
	defer closeMetrics()
	wait := follow(list, p)
	sub := list.Subscribe()
	defer sub.Close()
	list.Release()
	uiErr := tui.Run(ctx, tui.Options{
		Access:  runs.Access{List: list, Caps: runs.AllCaps(), Actor: runs.Actor{User: "local"}},
		Events:  sub.Events(),
		ASCII:   o.ascii,
		NoMouse: o.noMouse,
	}, stdin, stdout)
	list.Close()
	if err := finish(context.Background(), list, wait, p, nil); err != nil && uiErr == nil {
		uiErr = err
	}
	if uiErr != nil {
		return uiErr
	}
	return closeMetrics()
}
