package runs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseField feeds any text to any field, as the setup form and the
// flags do with what a person types: ParseField never panics; a refusal is
// a *FieldError naming the field and the text, wrapping ErrSpec, and
// leaves the spec as it was; a value it takes formats back (FormatField)
// to a text that parses to the same spec. The seeds are the table of
// testdata/fields.txt.
func FuzzParseField(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "fields.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if p := strings.Split(line, "\t"); len(p) == 3 && !strings.HasPrefix(line, "#") {
			f.Add(p[0], p[1])
		}
	}
	names := Fields()
	f.Fuzz(func(t *testing.T, field, text string) {
		name := field
		if len(field) > 0 {
			name = names[int(field[0])%len(names)] // mostly real fields
		}
		if len(field) > 1 && field[1] == '!' {
			name = field // and sometimes none
		}
		s := DefaultSpec()
		err := ParseField(&s, name, text)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != name || fe.Value != text || !errors.Is(err, ErrSpec) {
				t.Fatalf("ParseField(%q, %q): %v, want a FieldError naming both", name, text, err)
			}
			if s != DefaultSpec() {
				t.Fatalf("ParseField(%q, %q) refused the value but changed the spec", name, text)
			}
			return
		}
		back := FormatField(s, name)
		again := DefaultSpec()
		if err := ParseField(&again, name, back); err != nil || again != s {
			t.Fatalf("ParseField(%q, %q) took it, but its formatted %q parses to %+v (%v), not %+v", name, text, back, again, err, s)
		}
	})
}
