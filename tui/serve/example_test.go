package serve_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/mnist-tui/mnist-tui/engine/runs"
	"github.com/mnist-tui/mnist-tui/tui"
	"github.com/mnist-tui/mnist-tui/tui/serve"
)

// Example shows how main.go wires `mnist-tui serve`: flags, a held list of
// runs, and the TUI for every session, with the session's Access.
func Example() {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	flags := runs.NewFlags(fs, runs.DefaultSpec())
	opts := serve.RegisterFlags(fs)
	if err := fs.Parse([]string{"--authorized-keys", "students.pub", "--admin-keys", "teacher.pub", "--cell", "rnn,lstm"}); err != nil {
		fmt.Println(err)
		return
	}
	specs, err := flags.Specs(context.Background(), runs.DefaultCapacity)
	if err != nil {
		fmt.Println(err)
		return
	}
	list := runs.NewList(runs.Held()) // Serve starts it (or the first viewer, with --wait)
	defer list.Close()
	owner := runs.Access{List: list, Caps: runs.AllCaps(), Actor: runs.Actor{User: "command line"}}
	for _, s := range specs {
		if _, err := owner.Add(s); err != nil {
			fmt.Println(err)
			return
		}
	}
	models := func(s serve.Session) tea.Model {
		return tui.New(tui.Options{Context: s.Context, Renderer: s.Renderer, Access: s.Access, Bursts: s.Bursts(), NoMouse: !s.Mouse})
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve.Run(ctx, *opts, list, models, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mnist-tui serve:", err)
	}
}
