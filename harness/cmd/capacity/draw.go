package main

import (
	"fmt"
	"image/color"
	"math"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"fraudknn/harness/internal/figure"
)

// colors of the configurations in the picture.
var colors = map[string]color.Color{
	"stack": color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	"floor": color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
	"lb":    color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
}

// picture writes the picture to base.svg and base.png: on the left p50 (dashed) and p99 (solid)
// against the offered load, on the right CPU per request (solid: the
// whole stack; dashed: the two APIs), one colour per configuration.
func picture(base string, rows []row, kneeP99 time.Duration) error {
	lat, cpu := plot.New(), plot.New()
	lat.Title.Text = fmt.Sprintf("latency (knee: p99 under %v)", kneeP99)
	lat.Y.Label.Text = "ms (p99 solid, p50 dashed)"
	lat.Y.Scale, lat.Y.Tick.Marker = plot.LogScale{}, oneTwoFive{}
	cpu.Title.Text = "CPU per request"
	cpu.Y.Label.Text = "µs (stack solid, APIs dashed)"
	cpu.Y.Min = 0
	for _, p := range []*plot.Plot{lat, cpu} {
		p.X.Label.Text = "offered load, requests/s"
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, rateTicks(rows)
		p.Add(plotter.NewGrid())
		p.Legend.Top = true
	}
	// The knee's scale, as a line across the latency panel.
	limit := float64(kneeP99) / float64(time.Millisecond)
	if len(rows) > 0 {
		lo, hi := float64(rows[0].Rate), float64(rows[0].Rate)
		for _, r := range rows {
			lo, hi = min(lo, float64(r.Rate)), max(hi, float64(r.Rate))
		}
		l, err := plotter.NewLine(plotter.XYs{{X: lo, Y: limit}, {X: hi, Y: limit}})
		if err != nil {
			return err
		}
		l.Dashes = []vg.Length{vg.Points(1), vg.Points(3)}
		lat.Add(l)
	}
	var configs []string
	by := map[string][]row{}
	for _, r := range rows {
		if by[r.Config] == nil {
			configs = append(configs, r.Config)
		}
		by[r.Config] = append(by[r.Config], r)
	}
	for _, c := range configs {
		rs := by[c]
		pts := func(y func(row) float64) plotter.XYs {
			xy := make(plotter.XYs, len(rs))
			for i, r := range rs {
				// The log axis cannot show 0: a p50 below 1 µs is drawn at 1 µs.
				xy[i].X, xy[i].Y = float64(r.Rate), max(y(r), 0.001)
			}
			return xy
		}
		if err := addLine(lat, c+" p99", pts(func(r row) float64 { return r.P99 }), colors[c], false); err != nil {
			return err
		}
		if err := addLine(lat, "", pts(func(r row) float64 { return r.P50 }), colors[c], true); err != nil {
			return err
		}
		if err := addLine(cpu, c, pts(func(r row) float64 { return r.CPU }), colors[c], false); err != nil {
			return err
		}
		if err := addLine(cpu, "", pts(func(r row) float64 { return r.APIs }), colors[c], true); err != nil {
			return err
		}
	}
	// The same picture as SVG (for the docs) and PNG (for any viewer).
	return figure.Write(base, [][]*plot.Plot{{lat, cpu}}, 26*vg.Centimeter, 11*vg.Centimeter)
}

// addLine adds a line with points, in the legend when name is not empty.
func addLine(p *plot.Plot, name string, xy plotter.XYs, c color.Color, dashed bool) error {
	l, s, err := plotter.NewLinePoints(xy)
	if err != nil {
		return err
	}
	l.Color, s.Color = c, c
	l.Width = vg.Points(1.5)
	if dashed {
		l.Dashes = figure.Dashes
	}
	p.Add(l, s)
	if name != "" {
		p.Legend.Add(name, l, s)
	}
	return nil
}

// rateTicks marks the rates swept on the load axis.
type rateTicks []row

// Ticks returns a labelled tick at every rate of the sweep.
func (t rateTicks) Ticks(lo, hi float64) []plot.Tick {
	seen := map[int]bool{}
	var ticks []plot.Tick
	for _, r := range t {
		if !seen[r.Rate] {
			seen[r.Rate] = true
			ticks = append(ticks, plot.Tick{Value: float64(r.Rate), Label: fmt.Sprint(r.Rate)})
		}
	}
	return ticks
}

// oneTwoFive marks 1, 2 and 5 times every power of ten on a log axis.
type oneTwoFive struct{}

// Ticks returns the 1-2-5 ticks between lo and hi.
func (oneTwoFive) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for p := math.Pow(10, math.Floor(math.Log10(lo))); p <= hi; p *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if v := m * p; v >= lo && v <= hi {
				ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
			}
		}
	}
	return ticks
}
