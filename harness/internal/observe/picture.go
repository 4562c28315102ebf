package observe

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"fraudknn/harness/internal/figure"
)

// A panel of the run's picture: its queries, each drawn as one line per
// series, named by legend (the series' labels fill it in).
type panel struct {
	title, unit string
	lines       []line
}

type line struct {
	expr   string
	legend func(labels map[string]string) string
	scale  float64 // the value times scale is drawn
	dashed bool
}

func byService(l map[string]string) string { return l["service"] }

// rate is what the picture's rates are taken over: five scrapes, enough
// to smooth one late scrape, short enough to show a two-minute ramp.
const rate = "5s"

// panels are the picture's four panels: what bin/score's run looked like
// to the service itself.
var panels = []panel{
	{title: "requests answered per second", unit: "requests/s", lines: []line{
		{expr: `sum by (service) (rate(fraudknn_requests_total{job="api"}[` + rate + `]))`, legend: byService, scale: 1},
	}},
	{title: "time in the handler, both instances", unit: "ms (p99 solid, p50 dashed)", lines: []line{
		{expr: `histogram_quantile(0.99, sum by (le) (rate(fraudknn_request_duration_seconds_bucket{job="api"}[` + rate + `])))`,
			legend: func(map[string]string) string { return "p99" }, scale: 1e3},
		{expr: `histogram_quantile(0.5, sum by (le) (rate(fraudknn_request_duration_seconds_bucket{job="api"}[` + rate + `])))`,
			legend: func(map[string]string) string { return "p50" }, scale: 1e3, dashed: true},
	}},
	{title: "declined share of scored transactions", unit: "%", lines: []line{
		{expr: `sum(rate(fraudknn_decisions_total{job="api",approved="false"}[` + rate + `])) / sum(rate(fraudknn_decisions_total{job="api"}[` + rate + `]))`,
			legend: func(map[string]string) string { return "declined" }, scale: 100},
	}},
	{title: "CPU per process", unit: "CPUs", lines: []line{
		{expr: `rate(process_cpu_seconds_total[` + rate + `])`, legend: byService, scale: 1},
	}},
}

var palette = map[string]color.Color{
	"api1":     color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	"api2":     color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	"lb":       color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
	"p99":      color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	"p50":      color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	"declined": color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
}

// Draw asks Prometheus at c for the run's series from start to end, one
// point a second, and writes the picture to base.png and base.svg. It
// returns the panels that had no data (an old API without the metric,
// or a run too short to rate), which it draws empty and names.
func Draw(c Client, start, end time.Time, base string) (empty []string, err error) {
	plots := make([]*plot.Plot, len(panels))
	for i, pn := range panels {
		p := plot.New()
		p.Title.Text = pn.title
		p.X.Label.Text = fmt.Sprintf("seconds since %s", start.Format("15:04:05"))
		p.Y.Label.Text = pn.unit
		p.Y.Min = 0
		p.X.Min, p.X.Max = 0, end.Sub(start).Seconds()
		p.Add(plotter.NewGrid())
		p.Legend.Top, p.Legend.Left = true, true
		n := 0
		for _, ln := range pn.lines {
			series, err := c.QueryRange(ln.expr, start, end, time.Second)
			if err != nil {
				return nil, err
			}
			sort.Slice(series, func(a, b int) bool { return ln.legend(series[a].Labels) < ln.legend(series[b].Labels) })
			for _, s := range series {
				xy := points(s, start, ln.scale)
				if len(xy) < 2 {
					continue
				}
				name := ln.legend(s.Labels)
				if name == "" {
					name = s.Labels["job"]
				}
				if err := addLine(p, name, xy, palette[name], ln.dashed); err != nil {
					return nil, err
				}
				n++
			}
		}
		if n == 0 {
			p.Title.Text += " (no data)"
			empty = append(empty, pn.title)
		} else {
			p.Y.Max *= 1.3 // room for the legend above the lines
			if pn.unit == "%" {
				p.Y.Max = min(p.Y.Max, 100)
			}
		}
		plots[i] = p
	}
	grid := [][]*plot.Plot{{plots[0], plots[1]}, {plots[2], plots[3]}}
	if err := figure.Write(base, grid, 26*vg.Centimeter, 18*vg.Centimeter); err != nil {
		return nil, err
	}
	return empty, nil
}

// points are s's samples as seconds since start and scaled values,
// without the NaNs a quantile of no traffic gives.
func points(s Series, start time.Time, scale float64) plotter.XYs {
	xy := make(plotter.XYs, 0, len(s.Points))
	for _, p := range s.Points {
		if math.IsNaN(p.V) || math.IsInf(p.V, 0) {
			continue
		}
		xy = append(xy, plotter.XY{X: p.T.Sub(start).Seconds(), Y: p.V * scale})
	}
	return xy
}

func addLine(p *plot.Plot, name string, xy plotter.XYs, c color.Color, dashed bool) error {
	l, err := plotter.NewLine(xy)
	if err != nil {
		return err
	}
	if c != nil {
		l.Color = c
	}
	l.Width = vg.Points(1.2)
	if dashed {
		l.Dashes = figure.Dashes
	}
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}
