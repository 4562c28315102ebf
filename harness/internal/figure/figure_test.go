package figure

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// TestWriteBothFiles draws a one-row grid of two plots and checks that
// base.svg is an SVG and base.png a PNG of the asked size at 110 dpi.
func TestWriteBothFiles(t *testing.T) {
	a, b := plot.New(), plot.New()
	l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		t.Fatal(err)
	}
	l.Dashes = Dashes
	a.Add(l)
	b.Add(plotter.NewGrid())
	base := filepath.Join(t.TempDir(), "pic")
	if err := Write(base, [][]*plot.Plot{{a, b}}, 10*vg.Centimeter, 5*vg.Centimeter); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(base + ".svg")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(svg, []byte("<svg")) {
		t.Errorf("%s.svg has no <svg element: %.80q", base, svg)
	}
	f, err := os.Open(base + ".png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("%s.png is not a PNG: %v", base, err)
	}
	// 10 cm at 110 dpi is 433 pixels, 5 cm 216.
	if cfg.Width < 430 || cfg.Width > 436 || cfg.Height < 214 || cfg.Height > 218 {
		t.Errorf("%s.png is %dx%d pixels, want about 433x216", base, cfg.Width, cfg.Height)
	}
}

// TestWriteReportsUnwritableFolder checks that a base in a missing folder
// is an error, not a silent no-op.
func TestWriteReportsUnwritableFolder(t *testing.T) {
	base := filepath.Join(t.TempDir(), "missing", "pic")
	if err := Write(base, [][]*plot.Plot{{plot.New()}}, vg.Centimeter, vg.Centimeter); err == nil {
		t.Errorf("Write to %s: no error", base)
	}
}
