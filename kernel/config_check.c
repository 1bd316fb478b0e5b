/*
 * The configuration against the machine (config.h, config_check_machine).
 * Pure logic, host-tested (tests/unit/test_config_check.c), fuzzed with
 * the parser (tests/fuzz/fuzz_config.c).
 *
 * config_parse() has already checked the blob on its own terms (CPUs and
 * ranges exclusive between domains, ranges sound); what it cannot know is
 * the machine: which CPUs exist and where its RAM is. Here every problem
 * is reported, one line each, so an operator fixes the configuration in
 * one round, not one boot per mistake.
 *
 * The memory total is a necessary condition, not a sufficient one: the
 * placed domains must also find their memory in few enough pieces, and the
 * hypervisor takes some usable memory for itself (page tables) later; the
 * allocator reports those failures when it places the domains.
 *
 * Lines are assembled in a small buffer (printk adds "hv: " per call, so
 * a line is one call); no hv_snprintf, so that this file builds on the
 * host with only config.c and memmap.c.
 */
#include <stdbool.h>
#include <stdint.h>

#include "kernel/config.h"
#include "kernel/errno.h"
#include "kernel/memmap.h"
#include "kernel/printk.h"
#include "kernel/string.h"

#define CHECK_MiB (1ull << 20)

/* ---- a line buffer -------------------------------------------------------- */

/* Long enough for a range hitting every kind of region (a few hundred
 * bytes); what does not fit is cut, never overrun. */
struct line {
	char buf[400];
	size_t len;
};

static void put_str(struct line *l, const char *s)
{
	while (*s && l->len + 1 < sizeof(l->buf))
		l->buf[l->len++] = *s++;
	l->buf[l->len] = '\0';
}

static void put_num(struct line *l, uint64_t v, unsigned base)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (base == 16)
		put_str(l, "0x");
	char one[2] = { 0, 0 };
	while (n--) {
		one[0] = tmp[n];
		put_str(l, one);
	}
}

static void put_dec(struct line *l, uint64_t v) { put_num(l, v, 10); }
static void put_hex(struct line *l, uint64_t v) { put_num(l, v, 16); }

/* "0x1000-0x2000" (end exclusive, as the TOML file writes ranges). */
static void put_range(struct line *l, uint64_t base, uint64_t end)
{
	put_hex(l, base);
	put_str(l, "-");
	put_hex(l, end);
}

/* A CPU set as "0-3,6,8-9". */
static void put_cpus(struct line *l, uint64_t mask)
{
	bool first = true;

	for (int cpu = 0; cpu < 64;) {
		if (!(mask >> cpu & 1)) {
			cpu++;
			continue;
		}
		int last = cpu;
		while (last < 63 && (mask >> (last + 1) & 1))
			last++;
		if (!first)
			put_str(l, ",");
		put_dec(l, (uint64_t)cpu);
		if (last > cpu) {
			put_str(l, "-");
			put_dec(l, (uint64_t)last);
		}
		first = false;
		cpu = last + 1;
	}
}

/* "CPU 5 is" / "CPUs 4-5 are" / "no CPU is". */
static void put_cpus_verb(struct line *l, uint64_t mask)
{
	if (!mask) {
		put_str(l, "no CPU is");
		return;
	}
	bool one = (mask & (mask - 1)) == 0;
	put_str(l, one ? "CPU " : "CPUs ");
	put_cpus(l, mask);
	put_str(l, one ? " is" : " are");
}

/* Bytes as MiB with at most one decimal: "512 MiB" when exact, else
 * rounded up or down to a tenth (so that "need > have" reads true). */
static void put_mib(struct line *l, uint64_t bytes, bool round_up)
{
	uint64_t rest = bytes % CHECK_MiB;
	uint64_t tenths = bytes / CHECK_MiB * 10 + rest * 10 / CHECK_MiB;

	if (round_up && rest * 10 % CHECK_MiB)
		tenths++;
	put_dec(l, tenths / 10);
	if (rest) {
		put_str(l, ".");
		put_dec(l, tenths % 10);
	}
	put_str(l, " MiB");
}

static uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

/* ---- CPUs ----------------------------------------------------------------- */

static int check_cpus(const struct domain_config *dom, uint64_t present)
{
	uint64_t absent = dom->cpus & ~present;
	struct line l = { .len = 0 };

	if (!absent)
		return 0;
	put_cpus_verb(&l, absent);
	put_str(&l, " not on this machine (");
	put_cpus_verb(&l, present);
	put_str(&l, ")");
	pr_err("config: domain %s: %s\n", dom->name, l.buf);
	return -EINVAL;
}

/* ---- explicit ranges -------------------------------------------------------- */

/* What a range may hit: kind 0 is a hole (no region at all), kinds 1..7
 * the memmap types (unknown types count as reserved, as in memmap.c). */
#define KINDS (MEM_BOOT + 1)

static const char *kind_name(uint32_t kind)
{
	static const char *const names[KINDS] = {
		[0] = "a hole in the memory map",
		[MEM_USABLE] = "usable memory",
		[MEM_RESERVED] = "reserved memory",
		[MEM_ACPI] = "ACPI tables",
		[MEM_NVS] = "ACPI NVS memory",
		[MEM_BAD] = "bad memory",
		[MEM_HV] = "the hypervisor",
		[MEM_BOOT] = "the boot modules",
	};
	return names[kind];
}

struct hits {
	uint32_t n;			/* kinds hit, in address order */
	uint32_t kind[KINDS];
	uint64_t base[KINDS], end[KINDS];	/* the first piece of each */
	bool seen[KINDS];
};

static void hit(struct hits *h, uint32_t kind, uint64_t base, uint64_t end)
{
	if (h->seen[kind])
		return;
	h->seen[kind] = true;
	h->kind[h->n] = kind;
	h->base[h->n] = base;
	h->end[h->n] = end;
	h->n++;
}

/* Everything in [base, end) that is not usable RAM. The map is sorted and
 * disjoint (memmap.h); walking it once covers holes between regions and
 * beyond its top. */
static void range_hits(const struct memmap *m, uint64_t base, uint64_t end, struct hits *h)
{
	uint64_t cursor = base;
	uint32_t count = m->count < MEMMAP_MAX ? m->count : MEMMAP_MAX;

	memset(h, 0, sizeof(*h));
	for (uint32_t i = 0; i < count && cursor < end; i++) {
		const struct mem_region *r = &m->r[i];
		if (r->end <= cursor)
			continue;
		if (r->base >= end)
			break;
		if (r->base > cursor)
			hit(h, 0, cursor, r->base);
		uint64_t from = r->base > cursor ? r->base : cursor;
		uint64_t to = r->end < end ? r->end : end;
		uint32_t type = r->type >= MEM_USABLE && r->type <= MEM_BOOT ? r->type : MEM_RESERVED;
		if (type != MEM_USABLE)
			hit(h, type, from, to);
		cursor = r->end;
	}
	if (cursor < end)
		hit(h, 0, cursor, end);
}

static int check_range(const struct domain_config *dom, const struct config_range *r,
		       const struct memmap *m)
{
	struct hits h;
	struct line l = { .len = 0 };
	uint64_t end = r->base + r->size;

	if (end < r->base)	/* config_parse refuses these; be safe anyway */
		end = UINT64_MAX;
	range_hits(m, r->base, end, &h);
	if (!h.n)
		return 0;
	put_str(&l, "memory ");
	put_range(&l, r->base, end);
	put_str(&l, " overlaps ");
	for (uint32_t k = 0; k < h.n; k++) {
		if (k)
			put_str(&l, k + 1 == h.n ? " and " : ", ");
		put_str(&l, kind_name(h.kind[k]));
		put_str(&l, " (");
		put_range(&l, h.base[k], h.end[k]);
		put_str(&l, ")");
	}
	pr_err("config: domain %s: %s\n", dom->name, l.buf);
	return -EINVAL;
}

/* ---- the whole machine ------------------------------------------------------- */

int config_check_machine(const struct hv_config *cfg, uint64_t cpus_present_mask,
			 const struct memmap *m)
{
	uint32_t n = cfg->ndomains < CONFIG_MAX_DOMAINS ? cfg->ndomains : CONFIG_MAX_DOMAINS;
	uint64_t need = 0;
	int err = 0;

	for (uint32_t i = 0; i < n; i++) {
		const struct domain_config *dom = &cfg->domains[i];
		uint32_t nranges = dom->nranges < CONFIG_MAX_RANGES ? dom->nranges
								    : CONFIG_MAX_RANGES;

		if (check_cpus(dom, cpus_present_mask))
			err = -EINVAL;
		if (!nranges)
			need = add_sat(need, dom->memory);
		for (uint32_t k = 0; k < nranges; k++) {
			need = add_sat(need, dom->ranges[k].size);
			if (check_range(dom, &dom->ranges[k], m))
				err = -EINVAL;
		}
	}
	uint64_t usable = memmap_total(m, MEM_USABLE);
	if (need > usable) {
		struct line l = { .len = 0 };
		put_str(&l, "the domains need ");
		put_mib(&l, need, true);
		put_str(&l, " of memory in all, this machine has ");
		put_mib(&l, usable, false);
		put_str(&l, " usable");
		pr_err("config: %s\n", l.buf);
		err = -EINVAL;
	}
	return err ? trace_error(err) : 0;
}
