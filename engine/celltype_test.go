package engine

import (
	"errors"
	"testing"
)

func TestCellNames(t *testing.T) {
	for _, tc := range []struct {
		c           Cell
		name, title string
		gates       int
	}{{RNN, "rnn", "RNN", 1}, {LSTM, "lstm", "LSTM", 4}, {GRU, "gru", "GRU", 3}} {
		if tc.c.String() != tc.name || tc.c.Title() != tc.title || tc.c.Gates() != tc.gates || !tc.c.Valid() {
			t.Errorf("%d: %q %q %d, want %q %q %d", tc.c, tc.c.String(), tc.c.Title(), tc.c.Gates(), tc.name, tc.title, tc.gates)
		}
		for _, s := range []string{tc.name, tc.title} {
			got, err := ParseCell(s)
			if err != nil || got != tc.c {
				t.Errorf("ParseCell(%q) = %v, %v", s, got, err)
			}
		}
		var u Cell
		b, err := tc.c.MarshalText()
		if err != nil || u.UnmarshalText(b) != nil || u != tc.c {
			t.Errorf("%v: text round trip gave %v (%v)", tc.c, u, err)
		}
	}
	for _, s := range []string{"", "rnn2", "transformer", " lstm"} {
		if _, err := ParseCell(s); !errors.Is(err, ErrCell) {
			t.Errorf("ParseCell(%q): %v, want ErrCell", s, err)
		}
	}
	var zero Cell
	if zero.Valid() || zero.String() != "cell(0)" {
		t.Errorf("zero Cell: valid %v, %q", zero.Valid(), zero.String())
	}
	if _, err := zero.MarshalText(); !errors.Is(err, ErrCell) {
		t.Errorf("zero Cell marshals: %v", err)
	}
	c := DefaultConfig()
	c.Cell = 0
	if err := c.Validate(); !errors.Is(err, ErrConfig) {
		t.Errorf("Config with the zero Cell validates: %v", err)
	}
}
