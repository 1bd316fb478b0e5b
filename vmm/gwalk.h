/*
 * Guest linear -> guest-physical translation through the guest's own page
 * tables, for fetching the instruction behind an MMIO exit. Every x86
 * paging mode (SDM Vol. 3A ch. 4): none (CR0.PG=0), 32-bit (with CR4.PSE
 * 4 MiB pages and PSE-36), PAE, 4-level and 5-level (CR4.LA57) with 2 MiB
 * and 1 GiB pages. Present bits and the reserved bits that do not depend
 * on MAXPHYADDR are checked; permissions are not (the CPU has just
 * executed or accessed the address). Accessed/dirty bits are not set.
 */
#ifndef VMM_GWALK_H
#define VMM_GWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gwalk {
	uint64_t cr0, cr3, cr4, efer;	/* as the guest sees them */
	/* Copy len bytes of guest-physical memory at gpa into buf; false if
	 * that is not guest RAM. */
	bool (*read_gpa)(void *opaque, uint64_t gpa, void *buf, size_t len);
	void *opaque;
};

/* 0 and *gpa, or -EFAULT (not present / not RAM / reserved bits), or
 * -ENOTSUP (a paging mode we do not walk: EFER.LMA without CR4.PAE). */
int gwalk_translate(const struct gwalk *w, uint64_t linear, uint64_t *gpa);

/* Read n bytes at linear address la (across a page boundary if needed):
 * 0 or an error as above (buf may then be partly written). */
int gwalk_read(const struct gwalk *w, uint64_t la, void *buf, size_t n);

#endif
