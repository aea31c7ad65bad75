// Package headless prints a training run as plain text, for scripts, logs
// and CI: the notebook's epoch lines on one writer, an optional throttled
// progress line for a terminal, and optional JSON-lines metrics.
package headless
