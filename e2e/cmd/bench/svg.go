package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Plots are small SVG documents written by hand: a line chart of figures
// against the arrival rate, and a grouped bar chart.

const (
	plotW, plotH                       = 720, 400
	marginL, marginR, marginT, marginB = 70, 170, 40, 50
)

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"}

type series struct {
	name   string
	points [][2]float64 // x, y
	dashed bool
}

// niceTicks are about n round values from 0 to at least hi.
func niceTicks(hi float64, n int) []float64 {
	if hi <= 0 || math.IsNaN(hi) || math.IsInf(hi, 0) {
		hi = 1
	}
	raw := hi / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []float64
	for v := 0.0; v < hi+step*0.999; v += step {
		ticks = append(ticks, v)
	}
	return ticks
}

func fmtTick(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}

type canvas struct {
	b          strings.Builder
	xMax, yMax float64
}

func newCanvas(title, xLabel, yLabel string, xTicks, yTicks []float64, xNames []string) *canvas {
	c := &canvas{xMax: xTicks[len(xTicks)-1], yMax: yTicks[len(yTicks)-1]}
	fmt.Fprintf(&c.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", plotW, plotH, plotW, plotH)
	fmt.Fprintf(&c.b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&c.b, `<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", marginL, html.EscapeString(title))
	for _, t := range yTicks {
		y := c.y(t)
		fmt.Fprintf(&c.b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", marginL, plotW-marginR, y, y)
		fmt.Fprintf(&c.b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", marginL-6, y+4, fmtTick(t))
	}
	for i, t := range xTicks {
		label := fmtTick(t)
		if xNames != nil {
			if i >= len(xNames) {
				break
			}
			label = xNames[i]
		}
		fmt.Fprintf(&c.b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", c.x(t), plotH-marginB+18, html.EscapeString(label))
	}
	fmt.Fprintf(&c.b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="black"/>`+"\n", marginL, plotW-marginR, plotH-marginB, plotH-marginB)
	fmt.Fprintf(&c.b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="black"/>`+"\n", marginL, marginL, marginT, plotH-marginB)
	fmt.Fprintf(&c.b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", marginL+(plotW-marginL-marginR)/2, plotH-10, html.EscapeString(xLabel))
	fmt.Fprintf(&c.b, `<text transform="translate(16,%d) rotate(-90)" text-anchor="middle">%s</text>`+"\n", marginT+(plotH-marginT-marginB)/2, html.EscapeString(yLabel))
	return c
}

func (c *canvas) x(v float64) float64 {
	return marginL + v/c.xMax*float64(plotW-marginL-marginR)
}

func (c *canvas) y(v float64) float64 {
	return float64(plotH-marginB) - v/c.yMax*float64(plotH-marginT-marginB)
}

func (c *canvas) legend(i int, name string) {
	y := marginT + 10 + i*18
	fmt.Fprintf(&c.b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/>`+"\n", plotW-marginR+14, y-10, palette[i%len(palette)])
	fmt.Fprintf(&c.b, `<text x="%d" y="%d">%s</text>`+"\n", plotW-marginR+32, y, html.EscapeString(name))
}

func (c *canvas) done() string {
	c.b.WriteString("</svg>\n")
	return c.b.String()
}

// lineChart plots each series as a line with its points marked.
func lineChart(title, xLabel, yLabel string, ss []series) string {
	var xHi, yHi float64
	for _, s := range ss {
		for _, p := range s.points {
			xHi, yHi = max(xHi, p[0]), max(yHi, p[1])
		}
	}
	c := newCanvas(title, xLabel, yLabel, niceTicks(xHi, 6), niceTicks(yHi*1.05, 5), nil)
	for i, s := range ss {
		color := palette[i%len(palette)]
		var pts []string
		for _, p := range s.points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", c.x(p[0]), c.y(p[1])))
		}
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="6,4"`
		}
		fmt.Fprintf(&c.b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n", color, dash, strings.Join(pts, " "))
		for _, p := range s.points {
			fmt.Fprintf(&c.b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s: %s, %s</title></circle>`+"\n",
				c.x(p[0]), c.y(p[1]), color, html.EscapeString(s.name), fmtTick(p[0]), fmtTick(math.Round(p[1]*100)/100))
		}
		c.legend(i, s.name)
	}
	return c.done()
}

// barChart draws one group of bars per category, one bar per series.
func barChart(title, yLabel string, categories []string, ss []series) string {
	var yHi float64
	for _, s := range ss {
		for _, p := range s.points {
			yHi = max(yHi, p[1])
		}
	}
	ticks := make([]float64, len(categories))
	for i := range ticks {
		ticks[i] = float64(i) + 0.5
	}
	c := newCanvas(title, "", yLabel, append(ticks, float64(len(categories))), niceTicks(yHi*1.05, 5), categories)
	slot := (c.x(1) - c.x(0)) * 0.8 / float64(max(len(ss), 1))
	for i, s := range ss {
		for _, p := range s.points {
			x := c.x(p[0]) - slot*float64(len(ss))/2 + slot*float64(i)
			fmt.Fprintf(&c.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %s</title></rect>`+"\n",
				x, c.y(p[1]), slot*0.9, c.y(0)-c.y(p[1]), palette[i%len(palette)], html.EscapeString(s.name), fmtTick(math.Round(p[1]*100)/100))
		}
		c.legend(i, s.name)
	}
	return c.done()
}
