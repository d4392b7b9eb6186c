/* SPDX-License-Identifier: MIT */
/*
 * plot.c - series of points to an SVG through gnuplot (plot.h): the data
 * file (one gnuplot data block per series, blocks apart by two blank
 * lines) and the script go into a temporary folder, gnuplot runs on the
 * script, and the folder is removed.  gnuplot is looked up on PATH, so a
 * missing one is told apart from one that failed.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plot.h"

#define PLOT_HINT "Debian: gnuplot-nox"

struct dml_plot {
	struct dml_plot_opts o;
	char dir[PATH_MAX];		/* the temporary folder */
	char data[PATH_MAX];		/* dir/plot.dat */
	FILE *f;			/* open on @data */
	char **titles;
	unsigned int nr;		/* series so far */
	int err;			/* sticky: what dml_plot_draw() returns */
};

/* the path of an executable gnuplot on PATH into @out; false: none */
static bool find_gnuplot(char out[PATH_MAX])
{
	const char *path = getenv("PATH"), *end;
	size_t len;

	for (; path && *path; path = *end ? end + 1 : end) {
		end = strchrnul(path, ':');
		len = (size_t)(end - path);
		if (!len || len + sizeof("/gnuplot") > PATH_MAX)
			continue;
		memcpy(out, path, len);
		strcpy(out + len, "/gnuplot");
		if (!access(out, X_OK))
			return true;
	}
	return false;
}

static int no_gnuplot(const char *prog)
{
	fprintf(stderr, "%s: --plot needs gnuplot, which is not on PATH ("
		PLOT_HINT ")\n", prog);
	return -ENOENT;
}

int dml_plot_check(const char *prog)
{
	char path[PATH_MAX];

	return find_gnuplot(path) ? 0 : no_gnuplot(prog);
}

static void plot_free(struct dml_plot *p)
{
	char script[PATH_MAX + 16];
	unsigned int i;

	if (p->f)
		fclose(p->f);
	unlink(p->data);
	snprintf(script, sizeof(script), "%s/plot.gp", p->dir);
	unlink(script);
	rmdir(p->dir);
	for (i = 0; i < p->nr; i++)
		free(p->titles[i]);
	free(p->titles);
	free(p);
}

int dml_plot_open(const struct dml_plot_opts *o, struct dml_plot **out)
{
	const char *tmp = getenv("TMPDIR");
	struct dml_plot *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return -ENOMEM;
	p->o = *o;
	snprintf(p->dir, sizeof(p->dir), "%s/dmalink-plot-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(p->dir)) {
		ret = -errno;
		free(p);
		return ret;
	}
	snprintf(p->data, sizeof(p->data), "%.*s/plot.dat", PATH_MAX - 16, p->dir);
	p->f = fopen(p->data, "w");
	if (!p->f) {
		ret = -errno;
		plot_free(p);
		return ret;
	}
	*out = p;
	return 0;
}

void dml_plot_series(struct dml_plot *p, const char *title)
{
	char **t;

	if (p->err)
		return;
	t = realloc(p->titles, (p->nr + 1) * sizeof(*t));
	if (!t) {
		p->err = -ENOMEM;
		return;
	}
	p->titles = t;
	t[p->nr] = strdup(title);
	if (!t[p->nr]) {
		p->err = -ENOMEM;
		return;
	}
	if (p->nr)
		fprintf(p->f, "\n\n");
	p->nr++;
}

void dml_plot_point(struct dml_plot *p, double x, double y)
{
	fprintf(p->f, "%.6g %.6g\n", x, y);
}

/* @s inside a single-quoted gnuplot string: a quote is doubled */
static void put_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		fputc(*s, f);
	}
	fputc('\'', f);
}

static int write_script(struct dml_plot *p, const char *script, const char *svg)
{
	FILE *f = fopen(script, "w");
	unsigned int i;
	bool bad;

	if (!f)
		return -EIO;
	fprintf(f, "set terminal svg size 900,560 dynamic noenhanced font 'sans,11'\n"
		   "set output ");
	put_quoted(f, svg);
	fprintf(f, "\nset title ");
	put_quoted(f, p->o.title);
	fprintf(f, "\nset xlabel ");
	put_quoted(f, p->o.xlabel);
	fprintf(f, "\nset ylabel ");
	put_quoted(f, p->o.ylabel);
	fprintf(f, "\nset grid\nset key outside right\n");
	if (p->o.logx)
		fprintf(f, "set logscale x %u\n", p->o.logx);
	if (p->o.logy)
		fprintf(f, "set logscale y %u\n", p->o.logy);
	if (p->o.ymin != p->o.ymax)
		fprintf(f, "set yrange [%g:%g]\n", p->o.ymin, p->o.ymax);
	if (p->o.yformat) {
		fprintf(f, "set format y ");
		put_quoted(f, p->o.yformat);
		fprintf(f, "\n");
	}
	fprintf(f, "plot ");
	for (i = 0; i < p->nr; i++) {
		fprintf(f, "%s", i ? ", " : "");
		put_quoted(f, p->data);
		fprintf(f, " index %u using 1:2 with %s title ", i, p->o.with);
		put_quoted(f, p->titles[i]);
	}
	if (!p->nr)
		fprintf(f, "0 notitle");
	fprintf(f, "\n");
	bad = ferror(f);
	return fclose(f) || bad ? -EIO : 0;
}

int dml_plot_draw(struct dml_plot *p, const char *prog, const char *svg)
{
	char gnuplot[PATH_MAX], script[PATH_MAX + 16];
	int ret, st;
	pid_t pid;

	snprintf(script, sizeof(script), "%s/plot.gp", p->dir);
	if (strchr(svg, '\n') && !p->err)
		p->err = -EINVAL;	/* it could not be one gnuplot string */
	ret = fclose(p->f) ? -EIO : 0;
	p->f = NULL;
	if (p->err) {
		ret = p->err;
		fprintf(stderr, "%s: cannot plot: %s\n", prog, strerror(-ret));
		goto out;
	}
	if (!ret)
		ret = write_script(p, script, svg);
	if (ret) {
		fprintf(stderr, "%s: cannot write the plot's files in %s\n", prog, p->dir);
		goto out;
	}
	if (!find_gnuplot(gnuplot)) {
		ret = no_gnuplot(prog);
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		goto out;
	}
	if (!pid) {
		execl(gnuplot, "gnuplot", script, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			ret = -errno;
			goto out;
		}
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "%s: gnuplot failed drawing %s (status %d)\n",
			prog, svg, st);
		ret = -EIO;
	}
out:
	plot_free(p);
	return ret;
}
