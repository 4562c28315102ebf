// Package figure writes gonum plots laid out in a grid to the two files
// the harness's pictures are read from: SVG for the docs, PNG for any viewer.
package figure

import (
	"io"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Dashes is the dash pattern of a dashed series line.
var Dashes = []vg.Length{vg.Points(4), vg.Points(3)}

// Write draws grid (rows of plots, every row as long as the first) on a
// w by h canvas and writes it to base.svg and base.png.
func Write(base string, grid [][]*plot.Plot, w, h vg.Length) error {
	for _, canvas := range []interface {
		vg.CanvasSizer
		io.WriterTo
	}{vgsvg.New(w, h), vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(110))}} {
		tiles := draw.Tiles{Rows: len(grid), Cols: len(grid[0]), PadX: vg.Centimeter, PadY: vg.Centimeter,
			PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 3}
		cells := plot.Align(grid, tiles, draw.New(canvas))
		for r := range grid {
			for c := range grid[r] {
				grid[r][c].Draw(cells[r][c])
			}
		}
		name := base + ".svg"
		if _, ok := canvas.(vgimg.PngCanvas); ok {
			name = base + ".png"
		}
		if err := writeTo(name, canvas); err != nil {
			return err
		}
	}
	return nil
}

// writeTo writes w to a new file at path, reporting a failed close (a full
// disk shows up there) as well as a failed write.
func writeTo(path string, w io.WriterTo) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := w.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
