package headless

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mnist-tui/mnist-tui/engine"
	"github.com/mnist-tui/mnist-tui/engine/runs"
)

// Printer turns engine reports into text. Its Report method is an
// engine.Reporter: it is called from the training goroutine and only writes
// to its writers, so it must be given writers that do not block for long
// (files, pipes, terminals). Event takes a list's events instead, for
// several runs (see WithRuns).
type Printer struct {
	out      io.Writer // the notebook's lines
	progress io.Writer // a terminal for the progress line, or nil
	metrics  io.Writer // JSON lines, or nil
	every    time.Duration
	now      func() time.Time

	epoch   int
	last    time.Time
	progLen int
	err     error

	// With several runs: their labels by ID, the run printing now, and
	// whether its first metrics line (which records its settings) is out.
	labels   []string
	run      runs.ID
	settings *Settings
}

// Option configures a Printer.
type Option func(*Printer)

// WithProgress draws a one-line progress indicator on w (meant for a
// terminal's stderr), redrawn at most every interval.
func WithProgress(w io.Writer, interval time.Duration) Option {
	return func(p *Printer) { p.progress, p.every = w, interval }
}

// WithMetrics writes one JSON object per finished phase to w.
func WithMetrics(w io.Writer) Option { return func(p *Printer) { p.metrics = w } }

// WithRuns prints several runs, run i (its ID, from 1) named labels[i-1]
// (see runs.Labels): each run's lines come under a heading "Run 2/3: LSTM",
// and each metrics line gains "run" (the ID), its first one the run's
// "settings". With fewer than two labels the output is a single run's,
// unchanged.
func WithRuns(labels []string) Option {
	return func(p *Printer) {
		if len(labels) > 1 {
			p.labels = labels
		}
	}
}

// New returns a Printer writing the notebook's lines to out.
func New(out io.Writer, opts ...Option) *Printer {
	p := &Printer{out: out, now: time.Now}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Err returns the first write or encoding error, if any. The metrics file
// never gets an empty or partial line for a phase that cannot be encoded
// (a NaN loss, say): the line is left out and Err says why.
func (p *Printer) Err() error { return p.err }

// Metric is one line of the metrics file: a finished phase.
type Metric struct {
	// Run is the run's ID, from 1, when there are several runs.
	Run         runs.ID `json:"run,omitempty"`
	Epoch       int     `json:"epoch,omitempty"`
	Phase       string  `json:"phase"`
	Loss        float64 `json:"loss"`
	Acc         float64 `json:"acc"`
	Seconds     float64 `json:"seconds"`
	SamplesPerS float64 `json:"samples_per_s"`
	// Settings records the run's settings on its first line, when there
	// are several runs.
	Settings *Settings `json:"settings,omitempty"`
}

// Settings are a run's settings as its first metrics line records them.
type Settings struct {
	Cell   string  `json:"cell"`
	Hidden int     `json:"hidden"`
	LR     float64 `json:"lr"`
	Batch  int     `json:"batch"`
	Epochs int     `json:"epochs"`
	Seed   uint64  `json:"seed"`
	Limit  int     `json:"limit"`
	Data   string  `json:"data"`
	Load   string  `json:"load,omitempty"`
	Resume string  `json:"resume,omitempty"`
	Pace   float64 `json:"pace,omitempty"`
}

// settingsOf returns the settings of the run info describes.
func settingsOf(info *runs.Info) *Settings {
	s := info.Spec
	return &Settings{Cell: s.Cell.String(), Hidden: s.Hidden, LR: s.LR, Batch: s.Batch, Epochs: s.Epochs,
		Seed: s.Seed, Limit: s.Limit, Data: s.DataName(), Load: s.Load, Resume: s.Resume, Pace: s.Pace}
}

// Event handles one event of a list of runs: a run's start begins its
// lines (under a heading with several runs), its reports are printed as
// Report prints them, its changes of learning rate and pace (runs.ActLR,
// runs.ActPace) are metrics lines of their own (LRChange, PaceChange);
// other events print nothing.
func (p *Printer) Event(e runs.Event) {
	switch e.Kind {
	case runs.KindStart:
		p.clearProgress()
		p.epoch = 0
		if p.labels == nil {
			return
		}
		if p.run != 0 {
			p.printf("\n")
		}
		p.run = e.Run
		p.settings = settingsOf(e.Info)
		title := fmt.Sprintf("Run %d/%d: %s", e.Run, len(p.labels), p.label(e.Run))
		p.printf("%s\n%s\n\n", title, strings.Repeat("=", len([]rune(title))))
	case runs.KindReport:
		if p.labels == nil || e.Run == p.run {
			p.Report(e.Report)
		}
	case runs.KindAction:
		if p.labels != nil && e.Run != p.run {
			return
		}
		switch a := e.Action; a.Kind {
		case runs.ActLR:
			p.writeChange(LRChange{Run: p.runID(), Event: "lr", Epoch: a.At.Epoch, Step: a.At.Trained, LR: a.Value, Previous: a.Prev, By: a.Actor.User})
		case runs.ActPace:
			p.writeChange(PaceChange{Run: p.runID(), Event: "pace", Epoch: a.At.Epoch, Step: a.At.Trained, Pace: a.Value, Previous: a.Prev, By: a.Actor.User})
		}
	}
}

// LRChange is the metrics line of a learning-rate change during training
// (runs.ActLR): Event is "lr", Step the training batches done before it
// (the first to use the new rate is Step+1), Epoch the epoch they were in.
type LRChange struct {
	Run      runs.ID `json:"run,omitempty"`
	Event    string  `json:"event"`
	Epoch    int     `json:"epoch"`
	Step     int     `json:"step"`
	LR       float64 `json:"lr"`
	Previous float64 `json:"previous"`
	By       string  `json:"by,omitempty"`
}

// PaceChange is the metrics line of a pace change during training
// (runs.ActPace): Event is "pace", Pace the training batches a second from
// then on (0: full speed), Previous the pace before; Step and Epoch are
// as in LRChange.
type PaceChange struct {
	Run      runs.ID `json:"run,omitempty"`
	Event    string  `json:"event"`
	Epoch    int     `json:"epoch"`
	Step     int     `json:"step"`
	Pace     float64 `json:"pace"`
	Previous float64 `json:"previous"`
	By       string  `json:"by,omitempty"`
}

// writeChange writes the metrics line of a change: an LRChange or a
// PaceChange.
func (p *Printer) writeChange(m any) {
	if p.metrics == nil {
		return
	}
	b, _ := json.Marshal(m) // numbers and strings always marshal
	if _, err := p.metrics.Write(append(b, '\n')); err != nil && p.err == nil {
		p.err = fmt.Errorf("headless: writing metrics: %w", err)
	}
}

// runID is the "run" of a metrics line: the run printing, with several
// runs; 0 (left out) with one.
func (p *Printer) runID() runs.ID {
	if p.labels == nil {
		return 0
	}
	return p.run
}

// label names run id.
func (p *Printer) label(id runs.ID) string {
	if i := int(id) - 1; i >= 0 && i < len(p.labels) {
		return p.labels[i]
	}
	return fmt.Sprint("run ", id)
}

// Report handles one report; see engine.Reporter.
func (p *Printer) Report(r engine.Report) {
	switch r.Kind {
	case engine.KindBatch:
		p.drawProgress(r)
	case engine.KindPhaseEnd:
		p.clearProgress()
		if r.Phase != engine.PhaseTest && r.Epoch != p.epoch {
			p.epoch = r.Epoch
			p.printf("Epoch %d/%d\n%s\n", r.Epoch, r.Epochs, strings.Repeat("-", 10))
		}
		p.printf("%s Loss: %.4f Acc: %.4f\n", r.Phase, r.Loss, r.Acc)
		if r.Phase == engine.PhaseVal {
			p.printf("\n")
		}
		p.writeMetric(r)
	}
}

func (p *Printer) printf(format string, a ...any) {
	if _, err := fmt.Fprintf(p.out, format, a...); err != nil && p.err == nil {
		p.err = fmt.Errorf("headless: writing output: %w", err)
	}
}

func (p *Printer) writeMetric(r engine.Report) {
	if p.metrics == nil {
		return
	}
	m := Metric{Phase: string(r.Phase), Loss: round(r.Loss, 4), Acc: round(r.Acc, 4),
		Seconds: round(r.Elapsed.Seconds(), 2), SamplesPerS: math.Round(r.SamplesPerSec)}
	if r.Phase != engine.PhaseTest {
		m.Epoch = r.Epoch
	}
	if p.labels != nil {
		m.Run, m.Settings = p.run, p.settings
		p.settings = nil
	}
	b, err := json.Marshal(m) // fails on NaN and infinities: no line then
	if err != nil {
		if p.err == nil {
			p.err = fmt.Errorf("headless: metrics of epoch %d %s: %w", r.Epoch, r.Phase, err)
		}
		return
	}
	if _, err := p.metrics.Write(append(b, '\n')); err != nil && p.err == nil {
		p.err = fmt.Errorf("headless: writing metrics: %w", err)
	}
}

// round returns v rounded to digits decimals the way the printed lines
// round it (%.4f rounds the exact binary value, so 0.91275, stored a hair
// under, prints 0.9127), so that a metrics line and the line printed for
// the same phase never disagree; math.Round(v*1e4) would give 0.9128.
func round(v float64, digits int) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', digits, 64), 64)
	return r
}

func (p *Printer) drawProgress(r engine.Report) {
	if p.progress == nil {
		return
	}
	now := p.now()
	if r.Step != r.Steps && now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	const width = 30
	filled := width * r.Step / max(r.Steps, 1)
	line := fmt.Sprintf("%-5s [%s%s] %d/%d  loss %.4f  acc %.4f  %.0f samples/s",
		r.Phase, strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		r.Step, r.Steps, r.Loss, r.Acc, r.SamplesPerSec)
	pad := max(p.progLen-len(line), 0)
	fmt.Fprintf(p.progress, "\r%s%s", line, strings.Repeat(" ", pad))
	p.progLen = len(line)
}

func (p *Printer) clearProgress() {
	if p.progress == nil || p.progLen == 0 {
		return
	}
	fmt.Fprintf(p.progress, "\r%s\r", strings.Repeat(" ", p.progLen))
	p.progLen = 0
}
