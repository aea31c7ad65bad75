package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/mnist-tui/mnist-tui/tui"
	"github.com/mnist-tui/mnist-tui/tui/serve"
)

// runServe is `mnist-tui serve`: the runs of the flags served to many SSH
// viewers, with a plain log on stderr.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("mnist-tui serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bindFlags(fs, &o)
	so := serve.RegisterFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: mnist-tui serve [flags]\n\nServes the runs to many viewers over SSH (ssh -p 2222 host).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	list, code, done := prepare(ctx, fs, &o, args, stdout, stderr, nil, func() error { return so.Validate() }) // after parsing, before the data are read
	if done {
		return code
	}
	defer list.Close()
	if err := serve.Run(ctx, *so, list, sessionModels(o.ascii), stderr); err != nil {
		fmt.Fprintf(stderr, "mnist-tui: %v\n", err) // serve's errors say "serve: ..."
		if errors.Is(err, serve.ErrNoAuth) || errors.Is(err, serve.ErrAuthorizedKeys) || errors.Is(err, serve.ErrHostKey) || errors.Is(err, serve.ErrOptions) {
			return exitUsage
		}
		return exitFailure
	}
	return 0
}

// sessionModels gives every session its own tui.Model, drawn with the
// session's renderer, fed by its own subscription in bursts, and
// controlled with the session's Access. The models share one tui.Cache:
// every session is handed the same bursts at the same moments, so a
// dashboard drawn for one viewer serves every viewer with the same
// terminal size and colour profile.
func sessionModels(ascii bool) serve.ModelFunc {
	cache := tui.NewCache(0)
	return func(s serve.Session) tea.Model {
		return tui.New(tui.Options{
			Context:  s.Context,
			Renderer: s.Renderer,
			Access:   s.Access,
			Bursts:   s.Bursts(),
			Cache:    cache,
			ASCII:    ascii,
			NoMouse:  !s.Mouse,
			Class:    s.Class,
			Follow:   s.Follow,
		})
	}
}
