package tui

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/muesli/termenv"

	"github.com/mnist-tui/mnist-tui/engine/runs"
)

func TestRunQuitsOnQ(t *testing.T) {
	ch := make(chan runs.Event)
	defer close(ch)
	o := Options{Renderer: renderer(termenv.Ascii), Events: ch}
	done := make(chan error, 1)
	go func() { done <- Run(context.Background(), o, strings.NewReader("q"), io.Discard) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after q: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after q")
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	ch := make(chan runs.Event)
	defer close(ch)
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	o := Options{Renderer: renderer(termenv.Ascii), Events: ch, Access: newTestList(t, &testTrainer{}, runs.AllCaps(), "").access}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o, pr, io.Discard) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
