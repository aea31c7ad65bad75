//go:build tools

package main

import (
	_ "github.com/NimbleMarkets/ntcharts/linechart/timeserieslinechart"
	_ "github.com/charmbracelet/bubbles/progress"
	_ "github.com/charmbracelet/bubbletea"
	_ "github.com/charmbracelet/lipgloss"
	_ "github.com/charmbracelet/wish"
	_ "github.com/charmbracelet/wish/bubbletea"
	_ "github.com/charmbracelet/x/exp/teatest"
	_ "github.com/creack/pty"
	_ "go.uber.org/goleak"
	_ "gorgonia.org/gorgonia"
	_ "gorgonia.org/tensor"
	_ "golang.org/x/crypto/ssh"
	_ "github.com/viterin/vek"
)
