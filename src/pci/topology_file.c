/* SPDX-License-Identifier: MIT */
/*
 * topology_file.c - the text description of a PCI topology
 * (docs/topology.md): one statement per line, parsed from a buffer (not
 * a FILE *, so a fuzzer can drive it) into dml_pci_* calls.  Every error
 * names FILE:LINE and stops the parse; nothing is read past the buffer,
 * which need not be NUL-terminated.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pci.h"

#define MAX_LINE	512
#define MAX_TOKENS	16

struct named {
	char name[32];
	struct dml_pci_dev *pdev;
};

struct parser {
	struct dml_platform *p;
	const char *fname;
	unsigned int line;
	char *err;
	size_t errlen;
	struct named *names;
	unsigned int nr, cap;
};

static int fail(struct parser *ps, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *ps, int ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!ps->errlen)
		return ret;
	n = snprintf(ps->err, ps->errlen, "%s:%u: ", ps->fname, ps->line);
	if (n >= 0 && (size_t)n < ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static struct dml_pci_dev *lookup(struct parser *ps, const char *name)
{
	unsigned int i;

	for (i = 0; i < ps->nr; i++)
		if (!strcmp(ps->names[i].name, name))
			return ps->names[i].pdev;
	return NULL;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n > 31)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

static int name_add(struct parser *ps, const char *name, struct dml_pci_dev *pdev)
{
	if (ps->nr == ps->cap) {
		unsigned int cap = ps->cap ? 2 * ps->cap : 16;
		struct named *n = dml__zalloc(cap * sizeof(*n));

		if (!n)
			return fail(ps, -ENOMEM, "out of memory");
		if (ps->nr)
			memcpy(n, ps->names, ps->nr * sizeof(*n));
		dml__free(ps->names);
		ps->names = n;
		ps->cap = cap;
	}
	snprintf(ps->names[ps->nr].name, sizeof(ps->names[0].name), "%s", name);
	ps->names[ps->nr++].pdev = pdev;
	return 0;
}

/* a new name: valid and not yet used */
static int check_new_name(struct parser *ps, const char *name)
{
	if (!valid_name(name))
		return fail(ps, -EINVAL, "bad name '%s' (1-31 of A-Z a-z 0-9 _ - .)", name);
	if (lookup(ps, name))
		return fail(ps, -EINVAL, "name '%s' used twice", name);
	return 0;
}

/* an unsigned number (C syntax) no larger than @max, with an optional K/M/G */
static int parse_u64(const char *s, u64 max, bool suffix, u64 *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	if (suffix && *end) {
		switch (*end++) {
		case 'K': shift = 10; break;
		case 'M': shift = 20; break;
		case 'G': shift = 30; break;
		default: return -EINVAL;
		}
	}
	if (*end || (shift && v > (~0ULL >> shift)) || (v << shift) > max)
		return -EINVAL;
	*out = v << shift;
	return 0;
}

/* "A:B" of two hex numbers, each at most @max_a / @max_b */
static int parse_pair(const char *s, u64 max_a, u64 max_b, u64 *a, u64 *b)
{
	char tmp[32], *colon, *end;
	unsigned long long va, vb;

	if (strlen(s) >= sizeof(tmp))
		return -EINVAL;
	strcpy(tmp, s);
	colon = strchr(tmp, ':');
	if (!colon || colon == tmp || !colon[1])
		return -EINVAL;
	*colon = 0;
	if (strchr(tmp, '-') || strchr(colon + 1, '-') || strchr(tmp, '+') ||
	    strchr(colon + 1, '+') || strchr(tmp, 'x') || strchr(colon + 1, 'x'))
		return -EINVAL;
	errno = 0;
	va = strtoull(tmp, &end, 16);
	if (errno || *end || va > max_a)
		return -EINVAL;
	vb = strtoull(colon + 1, &end, 16);
	if (errno || *end || vb > max_b)
		return -EINVAL;
	*a = va;
	*b = vb;
	return 0;
}

/* "DD.F": device 0-1f (hex), function 0-7 */
static int parse_devfn(const char *s, u8 *devfn)
{
	unsigned long d, f;
	char *end;

	if (!((s[0] >= '0' && s[0] <= '9') || (s[0] >= 'a' && s[0] <= 'f') ||
	      (s[0] >= 'A' && s[0] <= 'F')))
		return -EINVAL;
	d = strtoul(s, &end, 16);
	if (*end != '.' || d > 0x1f || end[1] < '0' || end[1] > '7' || end[2])
		return -EINVAL;
	f = (unsigned long)(end[1] - '0');
	*devfn = (u8)PCI_DEVFN(d, f);
	return 0;
}

static const struct {
	const char *name;
	u16 bit;
} acs_bits[] = {
	{ "sv", PCI_ACS_SV }, { "tb", PCI_ACS_TB }, { "rr", PCI_ACS_RR },
	{ "cr", PCI_ACS_CR }, { "uf", PCI_ACS_UF }, { "ec", PCI_ACS_EC },
	{ "dt", PCI_ACS_DT },
};

/* "none" or a comma list of sv,tb,rr,cr,uf,ec,dt */
static int parse_acs(struct parser *ps, const char *s, u16 *ctrl)
{
	const char *p = s;

	*ctrl = 0;
	if (!strcmp(s, "none"))
		return 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		unsigned int i;

		for (i = 0; i < ARRAY_SIZE(acs_bits); i++)
			if (n == 2 && !strncmp(p, acs_bits[i].name, 2))
				break;
		if (i == ARRAY_SIZE(acs_bits))
			return fail(ps, -EINVAL, "bad ACS flags '%s' (none, or a comma list of sv,tb,rr,cr,uf,ec,dt)", s);
		*ctrl |= acs_bits[i].bit;
		p += n;
		if (*p == ',' && !*++p)
			return fail(ps, -EINVAL, "bad ACS flags '%s' (trailing comma)", s);
	}
	return 0;
}

/* optional key=value arguments after the fixed ones */
struct opts {
	bool has_acs;
	u16 acs;
	bool has_offset;
	u64 offset;
};

static int parse_opts(struct parser *ps, char **tok, int ntok, bool allow_acs,
		      bool allow_offset, struct opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < ntok; i++) {
		if (allow_acs && !strncmp(tok[i], "acs=", 4) && !o->has_acs) {
			o->has_acs = true;
			if (parse_acs(ps, tok[i] + 4, &o->acs))
				return -EINVAL;
		} else if (allow_offset && !strncmp(tok[i], "offset=", 7) &&
			   !o->has_offset) {
			o->has_offset = true;
			if (parse_u64(tok[i] + 7, ~0ULL, false, &o->offset))
				return fail(ps, -EINVAL, "bad bus offset '%s'", tok[i] + 7);
		} else {
			return fail(ps, -EINVAL, "unexpected '%s'", tok[i]);
		}
	}
	return 0;
}

static const char *errname(int ret)
{
	switch (ret) {
	case -EEXIST: return "already exists";
	case -ENOSPC: return "no room left";
	case -ENOMEM: return "out of memory";
	default: return "not allowed here";
	}
}

/* parent NAME of a new function */
static struct dml_pci_dev *parent_of(struct parser *ps, const char *name)
{
	struct dml_pci_dev *pdev = lookup(ps, name);

	if (!pdev)
		fail(ps, -EINVAL, "unknown parent '%s'", name);
	return pdev;
}

static int need(struct parser *ps, int ntok, int min, const char *usage)
{
	if (ntok < min)
		return fail(ps, -EINVAL, "too few fields: %s", usage);
	return 0;
}

static int stmt_cpu(struct parser *ps, char **tok, int ntok)
{
	u64 family;

	if (need(ps, ntok, 3, "cpu intel|amd|other FAMILY") ||
	    (ntok > 3 && fail(ps, -EINVAL, "unexpected '%s'", tok[3])))
		return -EINVAL;
	if (parse_u64(tok[2], 0xffff, false, &family))
		return fail(ps, -EINVAL, "bad CPU family '%s'", tok[2]);
	if (!strcmp(tok[1], "intel"))
		ps->p->cpu_vendor = DML_CPU_INTEL;
	else if (!strcmp(tok[1], "amd"))
		ps->p->cpu_vendor = DML_CPU_AMD;
	else if (!strcmp(tok[1], "other"))
		ps->p->cpu_vendor = DML_CPU_OTHER;
	else
		return fail(ps, -EINVAL, "bad CPU vendor '%s' (intel, amd, other)", tok[1]);
	ps->p->cpu_family = (unsigned int)family;
	return 0;
}

static int stmt_host(struct parser *ps, char **tok, int ntok)
{
	u64 dom, bus, ven, dev;
	struct dml_pci_dev *h;
	int ret;

	if (need(ps, ntok, 4, "host NAME DOMAIN:BUS VENDOR:DEVICE") ||
	    check_new_name(ps, tok[1]) || parse_opts(ps, tok + 4, ntok - 4, false, false, &(struct opts){}))
		return -EINVAL;
	if (parse_pair(tok[2], 0xffff, 0xff, &dom, &bus))
		return fail(ps, -EINVAL, "bad DOMAIN:BUS '%s'", tok[2]);
	if (parse_pair(tok[3], 0xffff, 0xffff, &ven, &dev))
		return fail(ps, -EINVAL, "bad VENDOR:DEVICE '%s'", tok[3]);
	ret = dml_pci_host_bridge_add(ps->p, (u16)dom, (u8)bus, (u16)ven, (u16)dev,
				      tok[1], &h);
	if (ret)
		return fail(ps, ret, "host %s: %s", tok[1], errname(ret));
	return name_add(ps, tok[1], h);
}

/* rootport, endpoint, switch: NAME PARENT DEV.FN VENDOR:DEVICE ... */
static int stmt_function(struct parser *ps, char **tok, int ntok)
{
	bool sw = !strcmp(tok[0], "switch");
	enum dml_pci_type type = !strcmp(tok[0], "rootport") ? DML_PCI_ROOT_PORT :
				 DML_PCI_ENDPOINT;
	struct dml_pci_dev *parent, *pdev, *down[32];
	int fixed = sw ? 6 : 5, ret, i;
	u64 ven, dev, ports = 0;
	struct opts o;
	u8 devfn;

	if (need(ps, ntok, fixed, sw ? "switch NAME PARENT DEV.FN VENDOR:DEVICE PORTS [acs=FLAGS]" :
		 "rootport|endpoint NAME PARENT DEV.FN VENDOR:DEVICE [acs=FLAGS]") ||
	    check_new_name(ps, tok[1]))
		return -EINVAL;
	parent = parent_of(ps, tok[2]);
	if (!parent)
		return -EINVAL;
	if (parse_devfn(tok[3], &devfn))
		return fail(ps, -EINVAL, "bad DEV.FN '%s' (00.0 to 1f.7)", tok[3]);
	if (parse_pair(tok[4], 0xffff, 0xffff, &ven, &dev))
		return fail(ps, -EINVAL, "bad VENDOR:DEVICE '%s'", tok[4]);
	if (sw && (parse_u64(tok[5], 32, false, &ports) || !ports))
		return fail(ps, -EINVAL, "bad PORTS '%s' (1 to 32)", tok[5]);
	if (parse_opts(ps, tok + fixed, ntok - fixed, true, false, &o))
		return -EINVAL;
	if (sw) {
		for (i = 0; i < (int)ports; i++) {
			char dn[40];

			snprintf(dn, sizeof(dn), "%s.d%d", tok[1], i);
			if (check_new_name(ps, dn))
				return -EINVAL;
		}
		ret = dml_pci_switch_add(parent, devfn, (u16)ven, (u16)dev, tok[1],
					 (unsigned int)ports, &pdev, down);
	} else {
		ret = dml_pci_dev_add(parent, type, devfn, (u16)ven, (u16)dev,
				      tok[1], &pdev);
	}
	if (ret)
		return fail(ps, ret, "%s %s below %s: %s", tok[0], tok[1], tok[2],
			    errname(ret));
	ret = name_add(ps, tok[1], pdev);
	for (i = 0; !ret && sw && i < (int)ports; i++) {
		char dn[40];

		snprintf(dn, sizeof(dn), "%s.d%d", tok[1], i);
		ret = name_add(ps, dn, down[i]);
		if (!ret && o.has_acs)
			dml_pci_port_set_acs(down[i], o.acs);
	}
	if (!ret && !sw && o.has_acs)
		dml_pci_port_set_acs(pdev, o.acs);
	return ret;
}

static int stmt_acs(struct parser *ps, char **tok, int ntok)
{
	struct dml_pci_dev *pdev;
	u16 ctrl;

	if (need(ps, ntok, 3, "acs NAME FLAGS") ||
	    (ntok > 3 && fail(ps, -EINVAL, "unexpected '%s'", tok[3])))
		return -EINVAL;
	pdev = lookup(ps, tok[1]);
	if (!pdev)
		return fail(ps, -EINVAL, "unknown function '%s'", tok[1]);
	if (parse_acs(ps, tok[2], &ctrl))
		return -EINVAL;
	if (dml_pci_port_set_acs(pdev, ctrl))
		return fail(ps, -EINVAL, "a host bridge has no ACS capability");
	return 0;
}

static int stmt_bar(struct parser *ps, char **tok, int ntok)
{
	struct dml_pci_dev *pdev;
	u64 idx, phys, size;
	struct opts o;
	int ret;

	if (need(ps, ntok, 5, "bar NAME INDEX PHYS SIZE [offset=BUS_OFFSET]"))
		return -EINVAL;
	pdev = lookup(ps, tok[1]);
	if (!pdev)
		return fail(ps, -EINVAL, "unknown function '%s'", tok[1]);
	if (parse_u64(tok[2], PCI_STD_NUM_BARS - 1, false, &idx))
		return fail(ps, -EINVAL, "bad BAR index '%s' (0 to 5)", tok[2]);
	if (parse_u64(tok[3], ~0ULL, false, &phys))
		return fail(ps, -EINVAL, "bad physical address '%s'", tok[3]);
	if (parse_u64(tok[4], ~0ULL, true, &size) || !size)
		return fail(ps, -EINVAL, "bad size '%s'", tok[4]);
	if (parse_opts(ps, tok + 5, ntok - 5, false, true, &o))
		return -EINVAL;
	ret = dml_pci_bar_add(pdev, (int)idx, phys, size, o.offset, 0);
	if (ret)
		return fail(ps, ret, "BAR %s of %s at %s: %s", tok[2], tok[1], tok[3],
			    ret == -EINVAL ? "misaligned, wrapping, overlapping or on a host bridge" :
			    errname(ret));
	return 0;
}

static int parse_line(struct parser *ps, char *s)
{
	char *tok[MAX_TOKENS];
	int ntok = 0;

	for (;;) {
		s += strspn(s, " \t\r");
		if (!*s || *s == '#')
			break;
		if (ntok == MAX_TOKENS)
			return fail(ps, -EINVAL, "too many fields");
		tok[ntok++] = s;
		s += strcspn(s, " \t\r#");
		if (*s == '#') {
			*s = 0;
			break;
		}
		if (*s)
			*s++ = 0;
	}
	if (!ntok)
		return 0;
	if (!strcmp(tok[0], "cpu"))
		return stmt_cpu(ps, tok, ntok);
	if (!strcmp(tok[0], "host"))
		return stmt_host(ps, tok, ntok);
	if (!strcmp(tok[0], "rootport") || !strcmp(tok[0], "switch") ||
	    !strcmp(tok[0], "endpoint"))
		return stmt_function(ps, tok, ntok);
	if (!strcmp(tok[0], "acs"))
		return stmt_acs(ps, tok, ntok);
	if (!strcmp(tok[0], "bar"))
		return stmt_bar(ps, tok, ntok);
	return fail(ps, -EINVAL, "unknown statement '%s'", tok[0]);
}

int dml_pci_topology_parse(struct dml_platform *p, const char *buf, size_t len,
			   const char *fname, char *err, size_t errlen)
{
	struct parser ps = {
		.p = p, .fname = fname ? fname : "<buffer>",
		.err = err, .errlen = err ? errlen : 0,
	};
	size_t pos = 0;
	int ret = 0;

	if (ps.errlen)
		err[0] = 0;
	if (!p || (!buf && len))
		return fail(&ps, -EINVAL, "no platform or no buffer");
	while (pos < len && !ret) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		char line[MAX_LINE];

		ps.line++;
		if (n >= MAX_LINE)
			ret = fail(&ps, -EINVAL, "line longer than %d bytes", MAX_LINE - 1);
		else if (memchr(buf + pos, 0, n))
			ret = fail(&ps, -EINVAL, "NUL byte in line");
		if (ret)
			break;
		memcpy(line, buf + pos, n);
		line[n] = 0;
		ret = parse_line(&ps, line);
		pos += n + 1;
	}
	dml__free(ps.names);
	return ret;
}
