/* SPDX-License-Identifier: MIT */
/*
 * layout.c - `dmalink layout`: capture the physical layout the kernel
 * gives a process buffer, and describe a captured layout.  Owns the
 * capture method of shared/reference/real-inputs.md §1b (mmap, madvise,
 * touch every page, one pread of /proc/self/pagemap) and the writer of
 * the layout file format (dmalink/dmalink.h), whose reader is in the
 * library: dml_layout_file_load().
 *
 *	dmalink layout capture --mode 4k|thp --size MIB [-o FILE]
 *	dmalink layout show FILE
 *
 * Run statistics, the same for both: runs (maximal stretches of pages
 * whose PFNs ascend by one), pages per run, the longest run, and
 * descending pairs: neighbouring pages whose PFN goes *down* by one, the
 * order Linux often hands out 4 KiB pages in, which defeats a forward
 * physical-merge pass.
 *
 * Exit codes (tools.h): 0 done; 1 the capture failed (mmap, madvise,
 * pagemap, writing the file); 2 bad usage or input (a missing or
 * malformed layout file) or missing privilege (PFNs read as 0 without
 * CAP_SYS_ADMIN).
 */
#include <dmalink/dmalink.h>

#include "tools.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define PAGE_SIZE 4096ULL		/* pagemap's frames */
#define SZ_2M 0x200000ULL		/* a THP: the buffer's alignment */
#define PM_PRESENT (1ULL << 63)
#define PM_PFN_MASK ((1ULL << DML_LAYOUT_PFN_BITS) - 1)
#define KPF_HUGE 17
#define KPF_THP 22
#define CAPTURE_MAX_MIB 65536ULL

/* Run-length classes of the statistics, in pages. */
static const struct {
	u64 lo, hi;
	const char *name;
} run_classes[] = {
	{ 1, 1, "1" },
	{ 2, 15, "2-15" },
	{ 16, 511, "16-511" },
	{ 512, UINT64_MAX, "512+" },
};

struct run_stats {
	u64 runs, pages, longest, descending;
	u64 class_runs[ARRAY_SIZE(run_classes)];
	u64 class_pages[ARRAY_SIZE(run_classes)];
};

static void run_stats(const u64 *pfn, const u32 *npages, u64 nr,
		      struct run_stats *st)
{
	u64 i, c;

	memset(st, 0, sizeof(*st));
	st->runs = nr;
	for (i = 0; i < nr; i++) {
		st->pages += npages[i];
		st->longest = max(st->longest, (u64)npages[i]);
		for (c = 0; c < ARRAY_SIZE(run_classes); c++) {
			if (npages[i] >= run_classes[c].lo &&
			    npages[i] <= run_classes[c].hi) {
				st->class_runs[c]++;
				st->class_pages[c] += npages[i];
			}
		}
		/* the next run starts one frame below this one's last page */
		if (i + 1 < nr && pfn[i + 1] + 2 == pfn[i] + npages[i])
			st->descending++;
	}
}

static void print_stats(FILE *f, const struct run_stats *st)
{
	unsigned int c;

	fprintf(f, "runs:        %llu\n", (unsigned long long)st->runs);
	fprintf(f, "pages:       %llu (%llu KiB)\n",
		(unsigned long long)st->pages,
		(unsigned long long)st->pages * 4);
	fprintf(f, "pages/run:   %.1f mean\n",
		st->runs ? (double)st->pages / (double)st->runs : 0.0);
	fprintf(f, "longest run: %llu pages (%llu KiB)\n",
		(unsigned long long)st->longest,
		(unsigned long long)st->longest * 4);
	fprintf(f, "descending:  %llu neighbouring page pairs with PFN - 1\n",
		(unsigned long long)st->descending);
	fprintf(f, "run lengths:");
	for (c = 0; c < ARRAY_SIZE(run_classes); c++)
		fprintf(f, "%s %s: %llu runs, %.1f%% of pages",
			c ? ";" : "", run_classes[c].name,
			(unsigned long long)st->class_runs[c],
			st->pages ? 100.0 * (double)st->class_pages[c] /
					(double)st->pages : 0.0);
	fprintf(f, "\n");
}

/* ---- capture ---- */

/* "Linux 6.1.0 x86_64, <CPU model name>" with no newline in it */
static void machine_line(char *buf, size_t len)
{
	char line[512], *model = NULL, *p;
	struct utsname u;
	FILE *f;

	f = fopen("/proc/cpuinfo", "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "model name", 10) && (p = strchr(line, ':'))) {
			for (model = p + 1; *model == ' ' || *model == '\t'; model++)
				;
			model[strcspn(model, "\n")] = 0;
			break;
		}
	}
	if (uname(&u))
		snprintf(buf, len, "unknown, %s", model ? model : "unknown CPU");
	else
		snprintf(buf, len, "%s %s %s, %s", u.sysname, u.release,
			 u.machine, model ? model : "unknown CPU");
	if (f)
		fclose(f);
	for (p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

/* The first line of a small sysfs file, or "unknown" */
static void read_setting(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	if (!f || !fgets(buf, (int)len, f))
		snprintf(buf, len, "unknown");
	buf[strcspn(buf, "\n")] = 0;
	if (f)
		fclose(f);
}

/* pread all of @len bytes at @off; 0 or -errno (-EIO for a short file) */
static int pread_full(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n;

	while (len) {
		n = pread(fd, buf, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno > 0 ? -errno : -EIO;
		if (!n)
			return -EIO;
		buf = (char *)buf + n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Pages flagged THP (or HUGE) in /proc/kpageflags; -1 if unreadable. */
static long long count_thp(const u64 *pfn, const u32 *npages, u64 nr)
{
	long long thp = 0;
	u64 *flags, i, j;
	int fd;

	fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (i = 0; i < nr && thp >= 0; i++) {
		flags = calloc(npages[i], sizeof(*flags));
		if (!flags ||
		    pread_full(fd, flags, npages[i] * sizeof(*flags),
			       (off_t)(pfn[i] * sizeof(*flags)))) {
			thp = -1;
		} else {
			for (j = 0; j < npages[i]; j++)
				thp += !!(flags[j] & ((1ULL << KPF_THP) |
						      (1ULL << KPF_HUGE)));
		}
		free(flags);
	}
	close(fd);
	return thp;
}

static int write_layout(FILE *f, const char *mode, u64 bytes,
			const u64 *pfn, const u32 *npages, u64 nr)
{
	char machine[512], thp[256], date[16];
	struct tm tm;
	time_t now;
	u64 i;

	machine_line(machine, sizeof(machine));
	read_setting("/sys/kernel/mm/transparent_hugepage/enabled", thp,
		     sizeof(thp));
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);

	fprintf(f, "%s\n", DML_LAYOUT_FILE_MAGIC);
	fprintf(f, "# mode: %s\n", mode);
	fprintf(f, "# bytes: %llu\n", (unsigned long long)bytes);
	fprintf(f, "# machine: %s\n", machine);
	fprintf(f, "# date: %s\n", date);
	fprintf(f, "# transparent_hugepage/enabled: %s\n", thp);
	for (i = 0; i < nr; i++)
		fprintf(f, "0x%llx %u\n", (unsigned long long)pfn[i], npages[i]);
	return ferror(f) ? -EIO : 0;
}

static void capture_usage(FILE *f)
{
	fprintf(f, "usage: dmalink layout capture --mode 4k|thp --size MIB [-o FILE]\n"
		   "  Allocate MIB MiB (2 MiB aligned), touch every page, and write the\n"
		   "  physical runs from /proc/self/pagemap (needs CAP_SYS_ADMIN) to FILE\n"
		   "  or stdout.  4k: MADV_NOHUGEPAGE; thp: MADV_HUGEPAGE.\n");
}

static int capture(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mode = NULL, *out = NULL;
	u64 mib = 0, bytes, n, i, nr = 0, zero = 0;
	u64 *pm = NULL, *pfn = NULL;
	u32 *npages = NULL;
	struct run_stats st;
	long long thp;
	char *map, *buf;
	int c, fd, rc, ret = 1;
	FILE *f;

	optind = 0;
	while ((c = getopt_long(argc, argv, "m:s:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			mode = optarg;
			break;
		case 's':
			if (dml_tool_parse_u64(optarg, 10, &mib) ||
			    !mib || mib > CAPTURE_MAX_MIB) {
				fprintf(stderr, "dmalink layout: --size must be 1 to %llu (MiB), not '%s'\n",
					CAPTURE_MAX_MIB, optarg);
				return 2;
			}
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			capture_usage(stdout);
			return 0;
		default:
			capture_usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !mode || !mib ||
	    (strcmp(mode, "4k") && strcmp(mode, "thp"))) {
		capture_usage(stderr);
		return 2;
	}

	bytes = mib << 20;
	n = bytes / PAGE_SIZE;
	map = mmap(NULL, bytes + SZ_2M, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "dmalink layout: mmap %llu MiB: %s\n",
			(unsigned long long)mib, strerror(errno));
		return 1;
	}
	buf = (char *)(((uintptr_t)map + SZ_2M - 1) & ~(uintptr_t)(SZ_2M - 1));
	if (madvise(buf, bytes, strcmp(mode, "thp") ? MADV_NOHUGEPAGE
						    : MADV_HUGEPAGE)) {
		fprintf(stderr, "dmalink layout: madvise(%s): %s%s\n",
			strcmp(mode, "thp") ? "MADV_NOHUGEPAGE" : "MADV_HUGEPAGE",
			strerror(errno),
			errno == EINVAL ? " (kernel without transparent huge pages?)" : "");
		goto out_unmap;
	}
	for (i = 0; i < bytes; i += PAGE_SIZE)
		((volatile char *)buf)[i] = 1;

	pm = calloc(n, sizeof(*pm));
	pfn = calloc(n, sizeof(*pfn));
	npages = calloc(n, sizeof(*npages));
	if (!pm || !pfn || !npages) {
		fprintf(stderr, "dmalink layout: out of memory\n");
		goto out_free;
	}
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "dmalink layout: /proc/self/pagemap: %s\n",
			strerror(errno));
		goto out_free;
	}
	rc = pread_full(fd, pm, n * sizeof(*pm),
			(off_t)((uintptr_t)buf / PAGE_SIZE * sizeof(*pm)));
	close(fd);
	if (rc) {
		fprintf(stderr, "dmalink layout: reading /proc/self/pagemap: %s\n",
			strerror(-rc));
		goto out_free;
	}

	for (i = 0; i < n; i++) {
		u64 p = pm[i] & PM_PFN_MASK;

		if (!(pm[i] & PM_PRESENT)) {
			fprintf(stderr, "dmalink layout: page %llu of the buffer is not present after touching it (swapped out?)\n",
				(unsigned long long)i);
			goto out_free;
		}
		zero += !p;
		if (nr && p == pfn[nr - 1] + npages[nr - 1]) {
			npages[nr - 1]++;
		} else {
			pfn[nr] = p;
			npages[nr++] = 1;
		}
	}
	if (zero == n) {
		fprintf(stderr, "dmalink layout: PFNs read as 0: need CAP_SYS_ADMIN (run as root)\n");
		ret = 2;
		goto out_free;
	}
	if (zero) {
		fprintf(stderr, "dmalink layout: %llu of %llu PFNs read as 0; refusing to write a layout with them\n",
			(unsigned long long)zero, (unsigned long long)n);
		goto out_free;
	}

	f = out ? fopen(out, "we") : stdout;
	if (!f) {
		fprintf(stderr, "dmalink layout: %s: %s\n", out, strerror(errno));
		goto out_free;
	}
	rc = write_layout(f, mode, bytes, pfn, npages, nr);
	if (out) {
		if (fclose(f))
			rc = -EIO;
	} else if (fflush(f)) {
		rc = -EIO;
	}
	if (rc) {
		fprintf(stderr, "dmalink layout: writing %s failed\n",
			out ? out : "stdout");
		if (out)
			unlink(out);
		goto out_free;
	}

	run_stats(pfn, npages, nr, &st);
	thp = count_thp(pfn, npages, nr);
	fprintf(stderr, "captured %llu MiB, mode %s%s%s\n",
		(unsigned long long)mib, mode, out ? ", to " : "", out ? out : "");
	print_stats(stderr, &st);
	if (thp >= 0)
		fprintf(stderr, "THP/huge:    %lld of %llu pages flagged in /proc/kpageflags\n",
			thp, (unsigned long long)n);
	ret = 0;

out_free:
	free(pm);
	free(pfn);
	free(npages);
out_unmap:
	munmap(map, bytes + SZ_2M);
	return ret;
}

/* ---- show ---- */

static int show(int argc, char **argv)
{
	struct dml_layout_file lf;
	struct run_stats st;
	char line[1100];
	int rc;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: dmalink layout show FILE\n");
		return 2;
	}
	rc = dml_layout_file_load(argv[1], &lf);
	if (rc)
		return 2;	/* the loader said why */

	printf("file:        %s\n", argv[1]);
	/* the header lines as written, after the magic */
	f = fopen(argv[1], "re");
	if (f && fgets(line, sizeof(line), f)) {
		while (fgets(line, sizeof(line), f) && line[0] == '#')
			printf("%s%s", line, strchr(line, '\n') ? "" : "\n");
	}
	if (f)
		fclose(f);
	run_stats(lf.pfn, lf.npages, lf.nr_runs, &st);
	print_stats(stdout, &st);
	printf("highest pfn: 0x%llx\n", (unsigned long long)lf.max_pfn);
	dml_layout_file_free(&lf);
	return 0;
}

static void layout_usage(FILE *f)
{
	fprintf(f, "usage: dmalink layout capture --mode 4k|thp --size MIB [-o FILE]\n"
		   "       dmalink layout show FILE\n");
}

/**
 * dml_cmd_layout - the `dmalink layout` command
 * @argc: number of entries in @argv
 * @argv: argv[0] is the command's own name ("layout"), argv[1] the action
 *	("capture" or "show"), then the action's arguments
 *
 * capture: allocate --size MiB (1 to 65536) 2 MiB aligned, madvise it for
 * --mode (4k: MADV_NOHUGEPAGE, thp: MADV_HUGEPAGE), write one byte to
 * every 4 KiB page, read the PFNs with one pread(2) of /proc/self/pagemap
 * and write the layout (format in dmalink/dmalink.h) to -o FILE or stdout, the
 * statistics to stderr.  show: load FILE, print its header and statistics.
 *
 * Return: the exit status: 0; 1 when the capture fails (mmap, madvise,
 * pagemap, a page not present after touching it, writing the file); 2 for
 * a usage error, a missing or malformed layout file (show), or when every
 * PFN reads as 0 (no CAP_SYS_ADMIN).
 */
int dml_cmd_layout(int argc, char **argv)
{
	if (argc < 2) {
		layout_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "capture"))
		return capture(argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return show(argc - 1, argv + 1);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		layout_usage(stdout);
		return 0;
	}
	layout_usage(stderr);
	return 2;
}
