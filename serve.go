package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/tui/serve"
)

// savingTrainer is a Trainer whose Run ends by saving to --save (for serve).
type savingTrainer struct {
	*engine.Trainer
	o options
}

// Run trains, then saves as saveRun does.
func (s savingTrainer) Run(ctx context.Context) error {
	err := s.Trainer.Run(ctx)
	if _, serr := saveRun(s.o, s.Trainer, err); serr != nil {
		return serr
	}
	return err
}

// runServe is `mnist-tui serve`: one shared run served to many SSH viewers,
// with a plain log on stderr.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := options{cfg: engine.DefaultConfig()}
	fs := flag.NewFlagSet("mnist-tui serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bindFlags(fs, &o)
	so := serve.RegisterFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: mnist-tui serve [flags]\n\nServes one training run to many viewers over SSH (ssh -p 2222 host).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	data, code, done := prepare(ctx, fs, &o, args, stdout, stderr)
	if done {
		return code
	}
	start := func(report engine.Reporter) (serve.Trainer, error) {
		t, err := engine.NewTrainer(o.cfg, data, append(o.trainerOptions(), engine.WithReporter(report))...)
		if err != nil {
			return nil, err
		}
		return savingTrainer{t, o}, nil
	}
	view := serve.ViewInfo{Config: o.cfg, Sizes: sizes(data), Test: data.Test, ASCII: o.ascii}
	if err := serve.Run(ctx, *so, start, serve.TUI(view), stderr); err != nil {
		fmt.Fprintf(stderr, "mnist-tui: %v\n", err) // serve's errors say "serve: ..."
		if errors.Is(err, serve.ErrNoAuth) || errors.Is(err, serve.ErrAuthorizedKeys) || errors.Is(err, serve.ErrHostKey) {
			return exitUsage
		}
		return 1
	}
	return 0
}
