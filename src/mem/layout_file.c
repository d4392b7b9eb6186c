/* SPDX-License-Identifier: MIT */
/*
 * layout_file.c - loads captured physical layouts (format in
 * dmalink/dmalink.h).  Owns the parser and the two run arrays it fills; the
 * page allocator (layout.c) replays them.
 *
 * The file is trusted for nothing: every line is checked for shape,
 * every number for range (PFNs within 55 bits, runs of 1 to U32_MAX
 * pages, no PFN range wrapping) and the "# bytes:" header against the sum
 * of the runs, which also catches a file cut short.  Each problem gives
 * one dml__warn() "PATH:LINE: what" and -EINVAL; nothing is half-loaded.
 */
#include "layout_file.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LF_MAX_LINE 1023

struct lf_parser {
	FILE *f;
	const char *path;
	unsigned long long lineno;
	unsigned int cap;		/* room in the run arrays */
	unsigned long long bytes_line;	/* where "# bytes:" was, 0 if not seen */
	u64 bytes;
	char line[LF_MAX_LINE + 2];
};

#define lf_bad(p, fmt, ...) \
	dml__warn("%s:%llu: " fmt, (p)->path, (p)->lineno, ##__VA_ARGS__)

static bool lf_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Read one line into p->line without its newline and trailing white space.
 * Return: 1; 0 at the end of the file; -EINVAL (too long, NUL byte);
 * -ENOENT (read error).
 */
static int lf_get_line(struct lf_parser *p)
{
	bool nul = false;
	size_t n = 0;
	int c;

	while ((c = getc_unlocked(p->f)) != EOF && c != '\n') {
		if (n == LF_MAX_LINE) {
			p->lineno++;
			lf_bad(p, "line longer than %d bytes", LF_MAX_LINE);
			return -EINVAL;
		}
		nul |= c == 0;
		p->line[n++] = (char)c;
	}
	if (c == EOF) {
		if (ferror(p->f)) {
			dml__warn("%s: read error: %s", p->path, strerror(errno));
			return -ENOENT;
		}
		if (!n)
			return 0;
	}
	p->lineno++;
	if (nul) {
		lf_bad(p, "NUL byte in line (binary file?)");
		return -EINVAL;
	}
	while (n && lf_space(p->line[n - 1]))
		n--;
	p->line[n] = 0;
	return 1;
}

/* Strict unsigned number in @base; the whole of @s must be the number. */
static bool lf_number(const char *s, int base, u64 *val)
{
	unsigned long long v;
	const char *c;
	char *end;

	/* digits only: strtoull would also take a sign, spaces and "0x" */
	for (c = s; *c; c++)
		if (base == 16 ? !isxdigit((unsigned char)*c)
			       : !isdigit((unsigned char)*c))
			return false;
	if (c == s)
		return false;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end)
		return false;
	*val = v;
	return true;
}

/* Make room for one more run. */
static int lf_grow(struct lf_parser *p, struct dml_layout_file *lf)
{
	unsigned int cap;
	u32 *npages;
	u64 *pfn;

	if (lf->nr_runs < p->cap)
		return 0;
	if (p->cap > UINT_MAX / 2) {
		lf_bad(p, "more than %u runs", UINT_MAX);
		return -EINVAL;
	}
	cap = p->cap ? 2 * p->cap : 256;
	pfn = dml__zalloc((size_t)cap * sizeof(*pfn));
	npages = dml__zalloc((size_t)cap * sizeof(*npages));
	if (!pfn || !npages) {
		dml__free(pfn);
		dml__free(npages);
		return -ENOMEM;
	}
	if (lf->nr_runs) {
		memcpy(pfn, lf->pfn, lf->nr_runs * sizeof(*pfn));
		memcpy(npages, lf->npages, lf->nr_runs * sizeof(*npages));
	}
	dml__free(lf->pfn);
	dml__free(lf->npages);
	lf->pfn = pfn;
	lf->npages = npages;
	p->cap = cap;
	return 0;
}

/* "0x<hex> <decimal>" */
static int lf_run(struct lf_parser *p, struct dml_layout_file *lf)
{
	const u64 pfn_limit = 1ULL << DML_LAYOUT_PFN_BITS;
	char *s = p->line, *sp;
	u64 pfn, npages;
	int rc;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		goto bad_shape;
	sp = s + 2;
	while (*sp && !lf_space(*sp))
		sp++;
	if (!*sp)
		goto bad_shape;
	*sp++ = 0;
	while (lf_space(*sp))
		sp++;
	if (!lf_number(s + 2, 16, &pfn) || !lf_number(sp, 10, &npages))
		goto bad_shape;

	if (pfn >= pfn_limit) {
		lf_bad(p, "PFN 0x%llx does not fit in %d bits",
		       (unsigned long long)pfn, DML_LAYOUT_PFN_BITS);
		return -EINVAL;
	}
	if (!npages) {
		lf_bad(p, "run of 0 pages");
		return -EINVAL;
	}
	if (npages > UINT32_MAX) {
		lf_bad(p, "run of %llu pages: more than %u",
		       (unsigned long long)npages, UINT32_MAX);
		return -EINVAL;
	}
	if (npages > pfn_limit - pfn) {
		lf_bad(p, "run 0x%llx + %llu pages goes past PFN 0x%llx",
		       (unsigned long long)pfn, (unsigned long long)npages,
		       (unsigned long long)(pfn_limit - 1));
		return -EINVAL;
	}
	rc = lf_grow(p, lf);
	if (rc)
		return rc;
	lf->pfn[lf->nr_runs] = pfn;
	lf->npages[lf->nr_runs] = (u32)npages;
	lf->nr_runs++;
	lf->total_pages += npages;	/* < 2^32 runs of < 2^32 pages */
	lf->max_pfn = max(lf->max_pfn, pfn + npages - 1);
	return 0;

bad_shape:
	lf_bad(p, "expected a run '0x<pfn in hex> <pages in decimal>'");
	return -EINVAL;
}

/* "# key: value" lines after the first; other comments are ignored. */
static int lf_comment(struct lf_parser *p, struct dml_layout_file *lf)
{
	const char *v;

	if (!strncmp(p->line, "# mode:", 7)) {
		for (v = p->line + 7; lf_space(*v); v++)
			;
		if (lf->mode[0]) {
			lf_bad(p, "second '# mode:' line");
			return -EINVAL;
		}
		if (strcmp(v, "4k") && strcmp(v, "thp")) {
			lf_bad(p, "mode must be 4k or thp");
			return -EINVAL;
		}
		memcpy(lf->mode, v, strlen(v) + 1);	/* fits: checked above */
		return 0;
	}
	if (!strncmp(p->line, "# bytes:", 8)) {
		for (v = p->line + 8; lf_space(*v); v++)
			;
		if (p->bytes_line) {
			lf_bad(p, "second '# bytes:' line");
			return -EINVAL;
		}
		if (!lf_number(v, 10, &p->bytes) || !p->bytes ||
		    !IS_ALIGNED(p->bytes, PAGE_SIZE)) {
			lf_bad(p, "bytes must be a decimal multiple of 4096 above 0");
			return -EINVAL;
		}
		p->bytes_line = p->lineno;
		return 0;
	}
	return 0;
}

int dml_layout_file_load(const char *path, struct dml_layout_file *out)
{
	struct lf_parser *p;
	int rc;

	memset(out, 0, sizeof(*out));
	p = dml__zalloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->path = path;
	p->f = fopen(path, "re");
	if (!p->f) {
		dml__warn("%s: cannot open: %s", path, strerror(errno));
		rc = -ENOENT;
		goto out_free;
	}

	rc = lf_get_line(p);
	if (rc < 0)
		goto out_close;
	if (!rc || strcmp(p->line, DML_LAYOUT_FILE_MAGIC)) {
		p->lineno = 1;
		lf_bad(p, "not a dmalink layout: the first line must be '%s'",
		       DML_LAYOUT_FILE_MAGIC);
		rc = -EINVAL;
		goto out_close;
	}
	while ((rc = lf_get_line(p)) > 0) {
		if (!p->line[0])
			continue;
		rc = p->line[0] == '#' ? lf_comment(p, out) : lf_run(p, out);
		if (rc)
			goto out_close;
	}
	if (rc < 0)
		goto out_close;

	rc = -EINVAL;
	if (!out->mode[0]) {
		lf_bad(p, "end of file and no '# mode:' line");
		goto out_close;
	}
	if (!p->bytes_line) {
		lf_bad(p, "end of file and no '# bytes:' line");
		goto out_close;
	}
	if (!out->nr_runs) {
		lf_bad(p, "end of file and no runs");
		goto out_close;
	}
	if (out->total_pages != p->bytes / PAGE_SIZE) {
		p->lineno = p->bytes_line;
		lf_bad(p, "bytes %llu do not match the runs' %llu pages (%llu bytes): file cut short?",
		       (unsigned long long)p->bytes,
		       (unsigned long long)out->total_pages,
		       (unsigned long long)out->total_pages * PAGE_SIZE);
		goto out_close;
	}
	rc = 0;

out_close:
	fclose(p->f);
out_free:
	dml__free(p);
	if (rc)
		dml_layout_file_free(out);
	return rc;
}

void dml_layout_file_free(struct dml_layout_file *lf)
{
	dml__free(lf->pfn);
	dml__free(lf->npages);
	memset(lf, 0, sizeof(*lf));
}
