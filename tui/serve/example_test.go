package serve_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/mnist"
	"github.com/mnist-tui/mnist-tui/tui/serve"
)

// Example shows how main.go wires `mnist-tui serve`: flags, data, a
// StartFunc that builds the trainer with the hub's reporter, and the TUI
// for every session.
func Example() {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	opts := serve.RegisterFlags(fs)
	if err := fs.Parse([]string{"--authorized-keys", "students.pub", "--admin-keys", "teacher.pub"}); err != nil {
		fmt.Println(err)
		return
	}

	train, test, err := mnist.Embedded()
	if err != nil {
		fmt.Println(err)
		return
	}
	tr, val, err := mnist.Split(train, 40000, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := engine.DefaultConfig()
	data := engine.Data{Train: tr, Val: val, Test: test}

	start := func(report engine.Reporter) (serve.Trainer, error) {
		t, err := engine.NewTrainer(cfg, data, engine.WithReporter(report))
		if err != nil {
			return nil, err // not a nil *engine.Trainer in an interface
		}
		return t, nil
	}
	view := serve.ViewInfo{Config: cfg, Sizes: [3]int{tr.Len(), val.Len(), test.Len()}, Test: test}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve.Run(ctx, *opts, start, serve.TUI(view), os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mnist-tui serve:", err)
	}
}
