/* SPDX-License-Identifier: MIT */
/*
 * plot.h - the one way the dmalink command draws a picture: series of
 * (x, y) points written to a data file with a gnuplot script beside it,
 * turned into an SVG by gnuplot (Debian package gnuplot-nox).  Used by
 * `dmalink bench --plot` and `dmalink replay --plot`.
 */
#ifndef DML_TOOLS_PLOT_H
#define DML_TOOLS_PLOT_H

#include <stdbool.h>

/**
 * struct dml_plot_opts - what the picture shows
 * @title: the title above the plot
 * @xlabel: the x axis label, units included
 * @ylabel: the y axis label, units included
 * @logx: base of a logarithmic x axis, 0: linear
 * @logy: base of a logarithmic y axis, 0: linear
 * @ymin: the y axis's low end, with @ymax
 * @ymax: its high end; @ymin == @ymax: gnuplot chooses the range
 * @yformat: gnuplot format of the y tics ("%.1s%c"); NULL: gnuplot's
 * @with: gnuplot plotting style of every series ("linespoints", "steps")
 */
struct dml_plot_opts {
	const char *title, *xlabel, *ylabel;
	unsigned int logx, logy;
	double ymin, ymax;
	const char *yformat;
	const char *with;
};

struct dml_plot;

/**
 * dml_plot_check - is gnuplot there to draw?
 * @prog: the name messages start with ("dmalink replay")
 *
 * Looks for an executable gnuplot on PATH, so that a command can refuse
 * --plot before its work rather than after.
 * Return: 0; -ENOENT when there is none (a message with the hint
 * "Debian: gnuplot-nox" is printed on stderr).
 */
int dml_plot_check(const char *prog);

/**
 * dml_plot_open - start a plot: a data file in a fresh temporary folder
 * @o: what it shows (copied where needed: only for the call)
 * @out: the plot on success
 *
 * Return: 0; -ENOMEM; -errno of mkdtemp(3) or fopen(3).
 */
int dml_plot_open(const struct dml_plot_opts *o, struct dml_plot **out);

/**
 * dml_plot_series - start the next series; the points after it are its own
 * @p: the plot
 * @title: its name in the key (copied)
 *
 * Out of memory, the plot is marked failed and dml_plot_draw() says so.
 */
void dml_plot_series(struct dml_plot *p, const char *title);

/**
 * dml_plot_point - add the point (@x, @y) to the current series
 * @p: the plot, after dml_plot_series()
 * @x: x value, in the units of the x label
 * @y: y value, in the units of the y label
 */
void dml_plot_point(struct dml_plot *p, double x, double y);

/**
 * dml_plot_draw - write the gnuplot script, run gnuplot into @svg, and free
 *	@p and its temporary files whatever happens
 * @p: the plot
 * @prog: the name messages start with
 * @svg: the SVG file to write
 *
 * Return: 0; -ENOENT no gnuplot on PATH (printed with the hint
 * "Debian: gnuplot-nox"); -EIO gnuplot failed or a file could not be
 * written (printed); -EINVAL a newline in @svg (printed); -ENOMEM a series could not be added (printed);
 * -errno of fork(2).
 */
int dml_plot_draw(struct dml_plot *p, const char *prog, const char *svg);

#endif /* DML_TOOLS_PLOT_H */
