package runs

import (
	"context"
	"errors"
	"testing"
)

// TestLoadingStopsWithTheContext: parsing a data set gives up with the
// context's error once it is done, both for the caller parsing and for
// one waiting on another's parse, and the failure is not kept.
func TestLoadingStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ss := &sources{}
	if _, _, err := ss.get(ctx, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("parsing under a cancelled context: %v, want context.Canceled", err)
	}
	if len(ss.m) != 0 {
		t.Error("a cancelled parse was kept")
	}
	// A parse under way (never finishing): the waiting caller gives up.
	ss.m = map[string]*source{"": {ready: make(chan struct{})}}
	if _, _, err := ss.get(ctx, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("waiting for a parse under a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := (&sources{}).prepare(ctx, 1, DefaultSpec()); !errors.Is(err, context.Canceled) {
		t.Fatalf("prepare under a cancelled context: %v, want context.Canceled", err)
	}
}

// TestCloseWhileAdding: a list closed while a run's data are being read
// refuses the run (the read stopped, or the list is closed) rather than
// queueing it.
func TestCloseWhileAdding(t *testing.T) {
	l := NewList(Held())
	errc := make(chan error, 1)
	go func() {
		_, err := (Access{List: l, Caps: AllCaps()}).Add(DefaultSpec()) // the embedded MNIST, not given with WithSource
		errc <- err
	}()
	waitFor(t, "the parse starts", func() bool {
		l.data.mu.Lock()
		defer l.data.mu.Unlock()
		return len(l.data.m) > 0
	})
	l.Close()
	if err := <-errc; !errors.Is(err, context.Canceled) && !errors.Is(err, ErrClosed) {
		t.Fatalf("Add during Close: %v, want context.Canceled or ErrClosed", err)
	}
	if n := len(l.Runs()); n != 0 {
		t.Errorf("%d runs queued in a closed list", n)
	}
}
