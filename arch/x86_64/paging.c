/*
 * The hypervisor's own page tables; see paging.h. Built with the shared
 * page-table engine (kernel/pgtable.c) in the x86-64 host format.
 *
 * Memory types: everything is mapped write-back in the PAT sense; the
 * firmware's MTRRs mark MMIO uncacheable, and MTRR UC wins over PAT WB
 * (SDM Vol. 3A 12.5.2.2, table 12-7), so device ranges stay uncached.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpuinfo.h"
#include "arch/x86_64/paging.h"
#include "kernel/errno.h"
#include "kernel/mm.h"
#include "kernel/palloc.h"
#include "kernel/pgtable.h"
#include "kernel/printk.h"

#define GIB (1ull << 30)

static struct pgtable hv_pt;
static bool hv_pt_live;

int paging_map(uintptr_t va, uint64_t pa, size_t size, unsigned flags)
{
	int err = pt_map(&hv_pt, va, pa, size, flags);

	if (!err && hv_pt_live)
		write_cr3(read_cr3());	/* flush: no global pages are used */
	return err;
}

int paging_unmap(uintptr_t va, size_t size)
{
	int err = pt_unmap(&hv_pt, va, size);

	if (!err && hv_pt_live)
		write_cr3(read_cr3());
	return err;
}

int paging_is_mapped(uintptr_t va, size_t size)
{
	uint64_t pa;
	unsigned flags, level;

	if (!hv_pt_live)
		return 1;
	for (uintptr_t p = va & ~(uintptr_t)(PAGE_SIZE - 1); p < va + size; p += PAGE_SIZE)
		if (!pt_lookup(&hv_pt, p, &pa, &flags, &level))
			return 0;
	return 1;
}

static int map_image(void)
{
	const struct {
		char *start, *end;
		unsigned flags;
	} parts[] = {
		{ __text_start, __text_end, PT_READ | PT_EXEC },
		{ __rodata_start, __rodata_end, PT_READ },
		{ __data_start, __data_end, PT_READ | PT_WRITE },
	};

	for (unsigned i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		uintptr_t s = (uintptr_t)parts[i].start, e = (uintptr_t)parts[i].end;
		int err = pt_map(&hv_pt, s, s, e - s, parts[i].flags);
		if (err)
			return err;
	}
	return 0;
}

int paging_init(const struct memmap *m)
{
	struct cpu_info ci;
	int err;

	cpu_identify(&ci);
	if (!ci.nx) {
		pr_err("paging: this CPU has no execute-disable (NX) bit; cannot protect the hypervisor\n");
		return trace_error(-ENOTSUP);
	}
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);

	err = pt_init(&hv_pt, ci.pdpe1gb ? &pt_format_x86_host : &pt_format_x86_host_2m,
		      &hv_pt_mem);
	if (err)
		return err;

	/* The whole physical space up to the top of RAM, at least 4 GiB for
	 * the MMIO below it (LAPIC, IOAPIC, ECAM, UART, firmware). */
	uint64_t top = memmap_top(m);
	if (top < 4 * GIB)
		top = 4 * GIB;
	top = (top + GIB - 1) & ~(GIB - 1);
	err = pt_map(&hv_pt, 0, 0, top, PT_READ | PT_WRITE);
	if (!err)
		err = pt_unmap(&hv_pt, 0, PAGE_SIZE);	/* NULL stays a fault */
	if (!err)
		err = map_image();
	if (err) {
		pr_err("paging: out of memory building the page tables\n");
		return err;
	}

	write_cr3(hv_pt.root);
	write_cr0(read_cr0() | CR0_WP);	/* read-only means read-only for us too */
	hv_pt_live = true;
	pr_debug("paging: identity map of %llu GiB, %s leaves, root at 0x%llx\n",
		 (unsigned long long)(top / GIB), ci.pdpe1gb ? "1 GiB" : "2 MiB",
		 (unsigned long long)hv_pt.root);
	return 0;
}
