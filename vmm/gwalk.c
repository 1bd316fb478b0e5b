/*
 * The guest page-table walker; see gwalk.h. One loop walks every mode: a
 * mode is a table of levels (SDM Vol. 3A 4.3 to 4.5), from the root down.
 * Linear-address bits above the top level's index (31 in 32-bit and PAE
 * paging, 47 or 56 in 4- and 5-level) are never looked at.
 */
#include "kernel/errno.h"
#include "vmm/gwalk.h"

#define CR0_PG		(1ull << 31)
#define CR4_PSE		(1ull << 4)
#define CR4_PAE		(1ull << 5)
#define CR4_LA57	(1ull << 12)
#define EFER_LMA	(1ull << 10)

#define PTE_P		(1ull << 0)
#define PTE_PS		(1ull << 7)
#define PAGE_SIZE	4096ull
#define ADDR_MASK_52	0x000ffffffffff000ull	/* bits 51:12 */
#define ADDR_MASK_32	0x00000000fffff000ull

struct gw_level {
	uint8_t shift;		/* lowest linear-address bit indexing this table */
	uint8_t bits;		/* index width */
	bool large;		/* PS=1 maps a page here */
	bool pse36;		/* 32-bit paging 4 MiB page: bits 20:13 are address bits 39:32 */
	uint64_t rsvd;		/* must-be-zero bits of a present entry */
	uint64_t large_rsvd;	/* ... of a present large-page entry */
};

struct gw_mode {
	uint8_t entry_size;	/* 4 or 8 */
	uint8_t nlevels;
	uint64_t root_mask;	/* CR3 bits that locate the root */
	uint64_t addr_mask;	/* entry bits that locate the next table or page */
	const struct gw_level *levels;
};

/* 4.3: 32-bit paging. Without CR4.PSE, PDE.PS is ignored. */
static const struct gw_level levels_32[] = {
	{ 22, 10, false, false, 0, 0 },
	{ 12, 10, false, false, 0, 0 },
};
static const struct gw_level levels_32_pse[] = {
	{ 22, 10, true, true, 0, 1ull << 21 },	/* table 4-4 note: bit 21 reserved */
	{ 12, 10, false, false, 0, 0 },
};
/* 4.4: PAE. PDPTE bits 2:1, 8:5 and 63:52 are reserved (table 4-8). */
static const struct gw_level levels_pae[] = {
	{ 30, 2, false, false, 0xfff00000000001e6ull, 0 },
	{ 21, 9, true, false, 0, 0x1fe000ull },	/* 2 MiB: bits 20:13 */
	{ 12, 9, false, false, 0, 0 },
};
/* 4.5: 4- and 5-level paging. PS is reserved in PML5E/PML4E. */
static const struct gw_level levels_5[] = {
	{ 48, 9, false, false, PTE_PS, 0 },
	{ 39, 9, false, false, PTE_PS, 0 },
	{ 30, 9, true, false, 0, 0x3fffe000ull },	/* 1 GiB: bits 29:13 */
	{ 21, 9, true, false, 0, 0x1fe000ull },	/* 2 MiB: bits 20:13 */
	{ 12, 9, false, false, 0, 0 },
};

static const struct gw_mode mode_32 = { 4, 2, ADDR_MASK_32, ADDR_MASK_32, levels_32 };
static const struct gw_mode mode_32_pse = { 4, 2, ADDR_MASK_32, ADDR_MASK_32, levels_32_pse };
/* CR3 bits 31:5 locate the four PDPTEs (4.4.1). */
static const struct gw_mode mode_pae = { 8, 3, 0xffffffe0ull, ADDR_MASK_52, levels_pae };
static const struct gw_mode mode_4 = { 8, 4, ADDR_MASK_52, ADDR_MASK_52, levels_5 + 1 };
static const struct gw_mode mode_5 = { 8, 5, ADDR_MASK_52, ADDR_MASK_52, levels_5 };

/* The mode the guest's control registers select (4.1.1, table 4-1). */
static const struct gw_mode *gw_mode_of(const struct gwalk *w)
{
	if (!(w->cr4 & CR4_PAE))
		return w->cr4 & CR4_PSE ? &mode_32_pse : &mode_32;
	if (!(w->efer & EFER_LMA))
		return &mode_pae;	/* CR4.LA57 only counts in IA-32e mode */
	return w->cr4 & CR4_LA57 ? &mode_5 : &mode_4;
}

int gwalk_translate(const struct gwalk *w, uint64_t linear, uint64_t *gpa)
{
	if (!(w->cr0 & CR0_PG)) {
		if (w->efer & EFER_LMA)
			return trace_error(-ENOTSUP);
		*gpa = linear & 0xffffffffull;	/* no paging: no long mode either */
		return 0;
	}
	if ((w->efer & EFER_LMA) && !(w->cr4 & CR4_PAE))
		return trace_error(-ENOTSUP);	/* cannot be entered (SDM 10.8.5) */

	const struct gw_mode *m = gw_mode_of(w);
	uint64_t table = w->cr3 & m->root_mask;

	for (unsigned i = 0; i < m->nlevels; i++) {
		const struct gw_level *l = &m->levels[i];
		uint64_t index = (linear >> l->shift) & ((1ull << l->bits) - 1);
		uint64_t e = 0;

		if (!w->read_gpa(w->opaque, table + index * m->entry_size, &e, m->entry_size))
			return trace_error(-EFAULT);
		if (!(e & PTE_P) || (e & l->rsvd))
			return trace_error(-EFAULT);
		bool leaf = i == m->nlevels - 1u;
		if (l->large && (e & PTE_PS)) {
			if (e & l->large_rsvd)
				return trace_error(-EFAULT);
			leaf = true;
		}
		if (leaf) {
			uint64_t offset = (1ull << l->shift) - 1;
			uint64_t pa = e & m->addr_mask & ~offset;
			if (l->pse36)
				pa |= ((e >> 13) & 0xff) << 32;
			*gpa = pa | (linear & offset);
			return 0;
		}
		table = e & m->addr_mask;
	}
	return trace_error(-EFAULT);	/* not reached: the last level is a leaf */
}

int gwalk_read(const struct gwalk *w, uint64_t la, void *buf, size_t n)
{
	uint8_t *out = buf;

	while (n) {
		uint64_t gpa;
		size_t chunk = PAGE_SIZE - (la & (PAGE_SIZE - 1));
		if (chunk > n)
			chunk = n;
		int rc = gwalk_translate(w, la, &gpa);
		if (rc)
			return rc;
		if (!w->read_gpa(w->opaque, gpa, out, chunk))
			return trace_error(-EFAULT);
		la += chunk;
		out += chunk;
		n -= chunk;
	}
	return 0;
}
