package runs

import (
	"context"
	"flag"
	"fmt"
	"strings"
)

// Flags are the run flags of a command line (--cell, --hidden, --lr,
// --batch, --epochs, --seed, --limit, --data, --load, --resume, --save,
// --autosave), bound to a flag.FlagSet by NewFlags. The flags only take
// their text; Specs turns it into specs, every value going through
// ParseField and every spec through Validate, so a flag's error is the
// Spec's own message, on one line: `--lr 20: must be in (0, 10]`.
type Flags struct {
	base  Spec
	given map[string]string // raw text of each flag given
	order []string          // flags in the order given
}

// NewFlags defines the run flags on fs, with base's values as their
// defaults (DefaultSpec for the command line).
func NewFlags(fs *flag.FlagSet, base Spec) *Flags {
	f := &Flags{base: base, given: map[string]string{}}
	for _, fd := range fields {
		v := &textFlag{f: f, name: fd.name, def: fd.format(base), bool: fd.name == "autosave"}
		fs.Var(v, fd.name, fd.usage)
	}
	return f
}

// textFlag is one run flag: it stores its text for Specs.
type textFlag struct {
	f    *Flags
	name string
	def  string
	bool bool
}

// String returns the flag's default, for the usage text.
func (t *textFlag) String() string {
	if t == nil || t.def == "0" && !t.bool {
		return ""
	}
	if t.bool && t.def == "false" {
		return ""
	}
	return t.def
}

// Set records the flag's text; Specs judges it.
func (t *textFlag) Set(text string) error {
	if _, ok := t.f.given[t.name]; !ok {
		t.f.order = append(t.f.order, t.name)
	}
	t.f.given[t.name] = text
	return nil
}

// IsBoolFlag lets --autosave stand alone.
func (t *textFlag) IsBoolFlag() bool { return t.bool }

// Given reports whether the flag name was on the command line.
func (f *Flags) Given(name string) bool {
	_, ok := f.given[name]
	return ok
}

// Specs returns the runs the flags ask for. A comma list for --cell,
// --hidden or --lr asks for one run per value, and several lists for
// their cartesian product (cell slowest, then hidden, then lr): at most
// capacity runs, or an error saying how many were asked. With several
// runs, --save FILE saves run n to NumberedPath(FILE, n). A checkpoint
// given with --load or --resume is read and applied to every spec (see
// Spec.WithCheckpoint); reading it gives up with ctx's error once ctx is
// done. Every error is one line naming the flag.
func (f *Flags) Specs(ctx context.Context, capacity int) ([]Spec, error) {
	base := f.base
	var lists [][]string // values of each list flag, in field order
	var listNames []string
	for _, fd := range fields {
		text, ok := f.given[fd.name]
		if !ok {
			continue
		}
		switch {
		case fd.name == "save":
			// Checked for each run below, where several runs number it.
			fd.parse(&base, text)
			continue
		case !fd.list:
			if err := ParseField(&base, fd.name, text); err != nil {
				return nil, err
			}
			continue
		}
		vals := strings.Split(text, ",")
		for i, v := range vals {
			vals[i] = strings.TrimSpace(v)
			if vals[i] == "" {
				return nil, &FieldError{Field: fd.name, Value: text, Reason: "an empty value in the list"}
			}
		}
		lists = append(lists, vals)
		listNames = append(listNames, fd.name)
	}
	n := 1
	for _, l := range lists {
		n *= len(l)
	}
	if n > capacity {
		var asked []string
		for _, name := range listNames {
			asked = append(asked, fmt.Sprintf("--%s %s", name, f.given[name]))
		}
		return nil, fmt.Errorf("%s: %w: %d runs, more than the %d a list of runs holds", strings.Join(asked, " "), ErrSpec, n, capacity)
	}
	specs := []Spec{base}
	for i, vals := range lists {
		var next []Spec
		for _, s := range specs {
			for _, v := range vals {
				t := s
				if err := ParseField(&t, listNames[i], v); err != nil {
					return nil, err
				}
				next = append(next, t)
			}
		}
		specs = next
	}
	if base.Load != "" && base.Resume != "" {
		return nil, base.Validate() // says to use one of the two
	}
	ck, err := base.ReadCheckpoint(ctx) // the same file for every spec
	if err != nil {
		return nil, err
	}
	for i := range specs {
		s := &specs[i]
		if len(specs) > 1 && s.Save != "" {
			s.Save = NumberedPath(s.Save, i+1)
		}
		if err := s.Validate(); err != nil {
			return nil, err
		}
		if ck != nil {
			if *s, err = s.WithCheckpoint(ck, f.Given); err != nil {
				return nil, err
			}
		}
	}
	return specs, nil
}
