/*
 * Intel VT-d DMA remapping, legacy (non-scalable) mode, behind struct
 * iommu_ops (drivers/iommu/iommu.h).
 *
 * Every DRHD unit gets the same tables: one root table per PCI segment
 * with a context table for every bus, all context entries not present, so
 * a request from any source-id faults (VT-d spec 3.4.3, fault reason 2)
 * until attach() points that source-id at a domain's second-level tables.
 * Units on one segment share the tables: a unit only ever looks up the
 * source-ids of the devices behind it, and a change is invalidated on the
 * unit that covers the device.
 *
 * Invalidation goes through the invalidation queue (6.5.2) where ECAP.QI
 * says there is one, else through the context-command and IOTLB registers
 * (6.5.1). Every wait is bounded by a TSC timeout; a unit that times out is
 * marked dead, said so once, and skipped afterwards.
 *
 * Interrupt remapping (chapter 5) is turned on where every unit has it
 * (ECAP.IR, with the queue it needs for its invalidations): one interrupt
 * remapping table for all units, every entry not present until irq_set()
 * fills it for one source-id (SVT 01), compatibility-format interrupts
 * blocked (GCMD.CFI clear), x2APIC destinations (EIME) where every unit
 * has ECAP.EIM.
 *
 * The hypervisor identity-maps RAM, so table memory and the queue's
 * status dword are given to the hardware by their virtual addresses.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/paging.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#include "drivers/iommu/iommu.h"
#include "drivers/iommu/vtd_hw.h"
#include "drivers/pci.h"
#include "kernel/acpi.h"
#include "kernel/errno.h"
#include "kernel/memmap.h"
#include "kernel/palloc.h"
#include "kernel/pgtable.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"

/* Hardware answers in microseconds; a second means it never will. */
#define VTD_TIMEOUT_US 1000000ull
#define VTD_CTX_TABLES 256u		/* one per bus */
#define VTD_4GIB (1ull << 32)
#define VTD_IRT_ORDER 12		/* 4096 interrupt remapping entries */
#define VTD_IRT_ENTRIES (1u << VTD_IRT_ORDER)
#define VTD_IR_PINS 32			/* IOAPIC pins routed through an entry */

struct vtd_unit {
	unsigned idx;
	const struct acpi_drhd *drhd;
	uintptr_t regs;
	uint64_t cap, ecap;
	uint32_t ver;
	unsigned iotlb;		/* offset of the IOTLB register (ECAP.IRO + 8) */
	unsigned fro, nfr;	/* fault recording registers: offset, count */
	bool qi;		/* invalidation queue in use */
	bool touched;		/* init wrote its registers: undo on failure */
	bool dead;		/* a wait timed out: leave it alone */
	struct vtd_entry *iq;	/* the queue page, VTD_IQ_ENTRIES descriptors */
	unsigned iq_tail;
	uint32_t qi_seq;
	uint32_t qi_status __attribute__((aligned(4)));	/* written by the wait descriptor */
};

struct vtd_segment {
	uint16_t seg;
	struct vtd_entry *root;		/* 1 page; then VTD_CTX_TABLES context tables */
};

static struct {
	bool ready;
	unsigned nunits, nsegs;
	struct vtd_unit unit[ACPI_MAX_IOMMUS];
	struct vtd_segment segs[ACPI_MAX_IOMMUS];
	struct acpi_dmar dmar;		/* a copy: scopes and RMRRs are asked later */
	unsigned levels;		/* second-level depth: 3 or 4 */
	unsigned max_domains;		/* domain IDs every unit has */
	bool coherent;			/* every unit snoops its table walks (ECAP.C) */
	struct pt_format fmt;
	struct pt_mem mem;
	/* Interrupt remapping: one table for every unit; who owns each entry. */
	bool ir, eim;
	struct vtd_entry *irt;
	uint8_t irt_used[VTD_IRT_ENTRIES / 8];
	struct {
		uint16_t seg, rid;
	} irt_owner[VTD_IRT_ENTRIES];
	struct {
		uint32_t ioapic_id;
		unsigned pin, index;
	} pins[VTD_IR_PINS];
	unsigned npins;
	/* Tables and queues: attach/detach/flush/irq_* may come from several
	 * CPUs. */
	struct spinlock lock;
} vtd;

/* ---- memory ---------------------------------------------------------------- */

/* A unit without ECAP.C reads tables from memory, not from the CPU caches
 * (6.1, 9.8 note): every write is pushed out with clflush. Lines are at
 * least 64 bytes on every x86-64 CPU, so a 64-byte stride misses none;
 * the fence orders the flushes before the MMIO write that follows. */
static void vtd_clflush(const void *p, uint64_t len)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)63, end = (uintptr_t)p + len;

	__asm__ volatile("mfence" ::: "memory");
	for (; a < end; a += 64)
		__asm__ volatile("clflush %0" ::"m"(*(const volatile char *)a) : "memory");
	__asm__ volatile("mfence" ::: "memory");
}

static void vtd_sync(const void *p, uint64_t len)
{
	if (!vtd.coherent)
		vtd_clflush(p, len);
}

static uint64_t vtd_pt_alloc(void *ctx)
{
	(void)ctx;
	return alloc_page();
}

static void *vtd_pt_virt(void *ctx, uint64_t phys)
{
	(void)ctx;
	return (void *)(uintptr_t)phys;
}

static void vtd_pt_sync(void *ctx, const void *virt, uint64_t len)
{
	(void)ctx;
	vtd_clflush(virt, len);
}

/* ---- waiting ----------------------------------------------------------------- */

static int vtd_timed_out(struct vtd_unit *u, const char *what)
{
	if (!u->dead)
		pr_err("iommu: VT-d unit %u at 0x%llx: timed out waiting for %s; unit left alone from now on\n",
		       u->idx, (unsigned long long)u->drhd->base, what);
	u->dead = true;
	return trace_error(-EIO);
}

/* Wait until (reg & mask) == want. */
static int vtd_wait32(struct vtd_unit *u, unsigned off, uint32_t mask, uint32_t want,
		      const char *what)
{
	uint64_t end = tsc_deadline_us(VTD_TIMEOUT_US);

	for (;;) {
		if ((vtd_read32(u->regs, off) & mask) == want)
			return 0;
		if (rdtsc() > end)
			return vtd_timed_out(u, what);
		cpu_relax();
	}
}

static int vtd_wait64_clear(struct vtd_unit *u, unsigned off, uint64_t bit, uint64_t *last,
			    const char *what)
{
	uint64_t end = tsc_deadline_us(VTD_TIMEOUT_US);

	for (;;) {
		uint64_t v = vtd_read64(u->regs, off);
		if (!(v & bit)) {
			*last = v;
			return 0;
		}
		if (rdtsc() > end)
			return vtd_timed_out(u, what);
		cpu_relax();
	}
}

/*
 * GCMD takes one command at a time (10.4.4): write back the persistent
 * commands GSTS reports (never the one-shot ones), with `bit` changed,
 * then wait for GSTS to follow. For a one-shot command (SRTP, WBF) the
 * caller waits for its own status bit.
 */
static void vtd_gcmd_write(struct vtd_unit *u, uint32_t bit, bool on)
{
	uint32_t sts = vtd_read32(u->regs, VTD_GSTS) & VTD_GSTS_PERSIST;

	vtd_write32(u->regs, VTD_GCMD, on ? sts | bit : sts & ~bit);
}

static int vtd_gcmd(struct vtd_unit *u, uint32_t bit, bool on, const char *what)
{
	vtd_gcmd_write(u, bit, on);
	return vtd_wait32(u, VTD_GSTS, bit, on ? bit : 0, what);
}

/* Set Root Table Pointer: GSTS.RTPS is cleared by the write and set when
 * the unit latched RTADDR (10.4.5). */
static int vtd_set_root(struct vtd_unit *u, uint64_t root)
{
	vtd_write64(u->regs, VTD_RTADDR, root & VTD_ADDR_4K);	/* TTM 00: legacy */
	vtd_gcmd_write(u, VTD_GCMD_SRTP, true);
	return vtd_wait32(u, VTD_GSTS, VTD_GCMD_SRTP, VTD_GCMD_SRTP, "the root table pointer");
}

/* Units with CAP.RWBF buffer table writes internally: flush them before
 * an invalidation (6.8). WBFS reads 1 until the flush is done. */
static int vtd_flush_write_buffer(struct vtd_unit *u)
{
	if (!(u->cap & VTD_CAP_RWBF))
		return 0;
	vtd_gcmd_write(u, VTD_GCMD_WBF, true);
	return vtd_wait32(u, VTD_GSTS, VTD_GCMD_WBF, 0, "the write-buffer flush");
}

/* ---- invalidation ------------------------------------------------------------- */

static void vtd_qi_put(struct vtd_unit *u, struct vtd_entry d)
{
	struct vtd_entry *slot = &u->iq[u->iq_tail];

	slot->lo = d.lo;
	slot->hi = d.hi;
	vtd_sync(slot, sizeof(*slot));
	u->iq_tail = (u->iq_tail + 1) % VTD_IQ_ENTRIES;
}

/*
 * Queue the descriptors and a wait descriptor that writes a fresh sequence
 * number to qi_status, move the tail (10.4.22) and poll the status (6.5.2.8).
 * One batch at a time (the caller holds vtd.lock), so the queue never holds
 * more than a few descriptors and never fills.
 */
static int vtd_qi_run(struct vtd_unit *u, const struct vtd_entry *d, unsigned n)
{
	uint32_t seq = ++u->qi_seq;
	uint64_t end;

	__atomic_store_n(&u->qi_status, 0, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < n; i++)
		vtd_qi_put(u, d[i]);
	vtd_qi_put(u, vtd_qi_wait((uintptr_t)&u->qi_status, seq));
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vtd_write64(u->regs, VTD_IQT, (uint64_t)u->iq_tail << 4);

	end = tsc_deadline_us(VTD_TIMEOUT_US);
	for (;;) {
		if (__atomic_load_n(&u->qi_status, __ATOMIC_ACQUIRE) == seq)
			return 0;
		uint32_t fsts = vtd_read32(u->regs, VTD_FSTS);
		if (fsts & (VTD_FSTS_IQE | VTD_FSTS_ITE | VTD_FSTS_ICE)) {
			/* The unit stopped at a descriptor it refused (6.5.2.10):
			 * nothing after it runs, so the unit is of no more use. */
			pr_err("iommu: VT-d unit %u: invalidation queue error (FSTS 0x%x, head 0x%llx)\n",
			       u->idx, fsts, (unsigned long long)vtd_read64(u->regs, VTD_IQH));
			u->dead = true;
			return trace_error(-EIO);
		}
		if (rdtsc() > end)
			return vtd_timed_out(u, "an invalidation wait descriptor");
		cpu_relax();
	}
}

/* Register-based context-cache invalidation (10.4.7): ICC clears when done;
 * CAIG 0 would mean the request was not performed. */
static int vtd_reg_context(struct vtd_unit *u, unsigned g, uint16_t did, uint16_t sid)
{
	uint64_t v = 0;

	vtd_write64(u->regs, VTD_CCMD, VTD_CCMD_ICC | (uint64_t)g << 61 | (uint64_t)sid << 16 | did);
	int err = vtd_wait64_clear(u, VTD_CCMD, VTD_CCMD_ICC, &v, "a context-cache invalidation");
	if (!err && !VTD_CCMD_CAIG(v)) {
		pr_err("iommu: VT-d unit %u: context-cache invalidation refused (CCMD 0x%llx)\n",
		       u->idx, (unsigned long long)v);
		return trace_error(-EIO);
	}
	return err;
}

/* Register-based IOTLB invalidation (10.4.8.1): IVT clears when done; IAIG
 * 0 means not performed. Drain reads/writes where the unit can (6.5.4). */
static int vtd_reg_iotlb(struct vtd_unit *u, unsigned g, uint16_t did)
{
	uint64_t cmd = VTD_IOTLB_IVT | (uint64_t)g << 60 | (uint64_t)did << 32, v = 0;

	if (u->cap & VTD_CAP_DRD)
		cmd |= VTD_IOTLB_DR;
	if (u->cap & VTD_CAP_DWD)
		cmd |= VTD_IOTLB_DW;
	vtd_write64(u->regs, u->iotlb, cmd);
	int err = vtd_wait64_clear(u, u->iotlb, VTD_IOTLB_IVT, &v, "an IOTLB invalidation");
	if (!err && !VTD_IOTLB_IAIG(v)) {
		pr_err("iommu: VT-d unit %u: IOTLB invalidation refused (IOTLB 0x%llx)\n", u->idx,
		       (unsigned long long)v);
		return trace_error(-EIO);
	}
	return err;
}

/*
 * Invalidate the context cache (ctx_g: 0 = not at all) and then the IOTLB
 * (tlb_g) of one unit, and wait: the order 6.5.3.3 asks for after a
 * context entry changed. Caller holds vtd.lock (or runs alone at init).
 */
static int vtd_invalidate(struct vtd_unit *u, unsigned ctx_g, uint16_t ctx_did, uint16_t sid,
			  unsigned tlb_g, uint16_t tlb_did)
{
	bool dr = u->cap & VTD_CAP_DRD, dw = u->cap & VTD_CAP_DWD;
	int err;

	if (u->dead)
		return trace_error(-EIO);
	err = vtd_flush_write_buffer(u);
	if (err)
		return err;
	if (u->qi) {
		struct vtd_entry d[2];
		unsigned n = 0;
		if (ctx_g)
			d[n++] = vtd_qi_context(ctx_g, ctx_did, sid);
		d[n++] = vtd_qi_iotlb(tlb_g, tlb_did, dr, dw);
		return vtd_qi_run(u, d, n);
	}
	if (ctx_g) {
		err = vtd_reg_context(u, ctx_g, ctx_did, sid);
		if (err)
			return err;
	}
	return vtd_reg_iotlb(u, tlb_g, tlb_did);
}

/* ---- faults -------------------------------------------------------------------- */

/* One blocked interrupt request (7.1.2): reason fr, entry index. */
static void vtd_irq_fault(struct vtd_unit *u, uint16_t sid, unsigned fr, unsigned index)
{
	char what[64];

	switch (fr) {
	case VTD_FR_IR_COMPAT:
		hv_snprintf(what, sizeof(what), "compatibility-format message");
		break;
	case VTD_FR_IR_NP:
		hv_snprintf(what, sizeof(what), "entry %u not present", index);
		break;
	case VTD_FR_IR_SID:
		hv_snprintf(what, sizeof(what), "entry %u of another device", index);
		break;
	case VTD_FR_IR_INDEX:
		hv_snprintf(what, sizeof(what), "entry %u beyond the table", index);
		break;
	default:
		hv_snprintf(what, sizeof(what), "entry %u refused (VT-d reason 0x%02x)", index, fr);
		break;
	}
	iommu_report_irq_fault(u->drhd->segment, sid, what);
}

/* Read and clear every primary fault record (7.2.1, 10.4.14): from FSTS.FRI
 * round the NFR records once; F is write-1-to-clear (bit 127). */
static void vtd_unit_faults(struct vtd_unit *u, bool report)
{
	uint32_t fsts = vtd_read32(u->regs, VTD_FSTS);

	if (fsts == 0xffffffffu)
		return;		/* unit gone */
	if (fsts & VTD_FSTS_PPF) {
		unsigned i = VTD_FSTS_FRI(fsts) % u->nfr;
		for (unsigned n = 0; n < u->nfr; n++, i = (i + 1) % u->nfr) {
			unsigned off = u->fro + i * 16;
			uint64_t hi = vtd_read64(u->regs, off + 8);
			if (!(hi & VTD_FRCD_F) || hi == ~0ull)
				continue;
			uint64_t lo = vtd_read64(u->regs, off);
			vtd_write32(u->regs, off + 12, (uint32_t)(VTD_FRCD_F >> 32));
			if (!report)
				continue;
			pr_debug("iommu: VT-d unit %u: fault record %u: source-id 0x%04x reason 0x%02x\n",
				 u->idx, i, VTD_FRCD_SID(hi), VTD_FRCD_FR(hi));
			unsigned fr = VTD_FRCD_FR(hi);
			if (fr >= VTD_FR_IR_FIRST && fr <= VTD_FR_IR_LAST) {
				vtd_irq_fault(u, VTD_FRCD_SID(hi), fr, (unsigned)(lo >> 48));
				continue;
			}
			iommu_report_fault(u->drhd->segment, VTD_FRCD_SID(hi), lo & VTD_ADDR_4K,
					   (hi & VTD_FRCD_T) ? "read" : "write");
		}
	}
	if (fsts & VTD_FSTS_PFO) {
		if (report)
			pr_warn("iommu: VT-d unit %u: fault records overflowed; some faults were not recorded\n",
				u->idx);
	}
	/* PFO and the advanced-fault bits; the queue errors stay for the
	 * invalidation that is waiting on them (except at init). */
	uint32_t clear = fsts & (VTD_FSTS_PFO | VTD_FSTS_AFO | VTD_FSTS_APF);
	if (!report)
		clear = fsts & VTD_FSTS_W1C;
	if (clear)
		vtd_write32(u->regs, VTD_FSTS, clear);
}

static void vtd_poll_faults(void)
{
	for (unsigned i = 0; i < vtd.nunits; i++)
		if (vtd.unit[i].touched)
			vtd_unit_faults(&vtd.unit[i], true);
}

/* ---- device scopes ------------------------------------------------------------- */

static int vtd_secondary_bus(uint16_t seg, uint8_t bus, uint8_t devfn)
{
	if (pci_read_at(seg, bus, devfn, PCI_VENDOR_ID, 2) == 0xffff)
		return -1;
	return (int)pci_read_at(seg, bus, devfn, PCI_SECONDARY_BUS, 1);
}

/* Does a DMAR device scope (8.3.1) name f: the endpoint itself, or a
 * bridge that is f or has f's bus below it? */
static bool vtd_scope_names(const struct acpi_dmar_scope *s, uint16_t seg,
			    const struct pci_func *f)
{
	uint8_t bus, devfn;

	if (s->type != ACPI_SCOPE_ENDPOINT && s->type != ACPI_SCOPE_BRIDGE)
		return false;
	if (!acpi_dmar_scope_resolve(s, seg, vtd_secondary_bus, &bus, &devfn))
		return false;
	if (bus == f->bus && devfn == f->devfn)
		return true;
	if (s->type != ACPI_SCOPE_BRIDGE || pci_read_at(seg, bus, devfn, PCI_VENDOR_ID, 2) == 0xffff)
		return false;
	uint8_t sec = (uint8_t)pci_read_at(seg, bus, devfn, PCI_SECONDARY_BUS, 1);
	uint8_t sub = (uint8_t)pci_read_at(seg, bus, devfn, PCI_SUBORDINATE, 1);
	return sec && f->bus >= sec && f->bus <= sub;
}

/* The unit that remaps f: one whose scopes name it, else the segment's
 * INCLUDE_PCI_ALL unit (8.3: it takes what no other unit lists). */
static struct vtd_unit *vtd_unit_of(const struct pci_func *f)
{
	struct vtd_unit *all = NULL;

	for (unsigned i = 0; i < vtd.nunits; i++) {
		struct vtd_unit *u = &vtd.unit[i];
		const struct acpi_drhd *h = u->drhd;
		if (h->segment != f->seg)
			continue;
		if (h->flags & ACPI_DRHD_INCLUDE_PCI_ALL) {
			all = u;
			continue;
		}
		for (uint32_t s = 0; s < h->nscopes && s < ACPI_MAX_SCOPES; s++)
			if (vtd_scope_names(&h->scopes[s], h->segment, f))
				return u;
	}
	return all;
}

static bool vtd_covers(const struct pci_func *f)
{
	return vtd.ready && vtd_unit_of(f) != NULL;
}

static bool vtd_is_unit(const struct pci_func *f)
{
	(void)f;
	return false;	/* VT-d units are not PCI functions */
}

static unsigned vtd_reserved(const struct pci_func *f,
			     void (*fn)(void *ctx, uint64_t base, uint64_t end), void *ctx)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < vtd.dmar.nrmrr && i < ACPI_MAX_RESV; i++) {
		const struct acpi_rmrr *r = &vtd.dmar.rmrr[i];
		if (r->segment != f->seg)
			continue;
		for (uint32_t s = 0; s < r->nscopes && s < ACPI_MAX_SCOPES; s++) {
			if (vtd_scope_names(&r->scopes[s], r->segment, f)) {
				fn(ctx, r->base, r->end);
				n++;
				break;
			}
		}
	}
	return n;
}

/* ---- context entries -------------------------------------------------------- */

static struct vtd_segment *vtd_segment(uint16_t seg)
{
	for (unsigned i = 0; i < vtd.nsegs; i++)
		if (vtd.segs[i].seg == seg)
			return &vtd.segs[i];
	return NULL;
}

static struct vtd_entry *vtd_context(uint16_t seg, uint16_t rid)
{
	struct vtd_segment *s = vtd_segment(seg);

	if (!s)
		return NULL;
	struct vtd_entry *ctx = (struct vtd_entry *)(uintptr_t)(s->root[rid >> 8].lo & VTD_ADDR_4K);
	return &ctx[rid & 0xff];
}

/* The unit reads an entry as 128 bits, maybe in two halves (9.3 note):
 * P lives in the low half, so it is written last when making an entry
 * present and first when clearing one. */
static void vtd_context_write(struct vtd_entry *e, struct vtd_entry v)
{
	if (v.lo & VTD_CTX_P) {
		__atomic_store_n(&e->hi, v.hi, __ATOMIC_RELAXED);
		__atomic_store_n(&e->lo, v.lo, __ATOMIC_RELEASE);
	} else {
		__atomic_store_n(&e->lo, v.lo, __ATOMIC_RELAXED);
		__atomic_store_n(&e->hi, v.hi, __ATOMIC_RELEASE);
	}
	vtd_sync(e, sizeof(*e));
}

static uint16_t vtd_context_did(const struct vtd_entry *e)
{
	return (uint16_t)(e->hi >> 8);
}

/* Present -> not present: clear, then invalidate the context-cache entry
 * with the domain ID it had and that domain's IOTLB (6.5.3.3). */
static int vtd_context_clear(struct vtd_unit *u, struct vtd_entry *e, uint16_t rid)
{
	uint16_t old = vtd_context_did(e);

	vtd_context_write(e, (struct vtd_entry){ 0, 0 });
	return vtd_invalidate(u, VTD_INV_DEVICE, old, rid, VTD_INV_DOMAIN, old);
}

static int vtd_attach(struct iommu_domain *d, const struct pci_func *f)
{
	struct vtd_unit *u;
	struct vtd_entry *e;
	int err = 0;

	if (!vtd.ready)
		return trace_error(-ENODEV);
	if (!d->id || d->id >= vtd.max_domains || !d->pt.root || d->pt.fmt != &vtd.fmt) {
		pr_err("iommu: VT-d: domain %u unusable (IDs 1..%u, tables in the VT-d format)\n",
		       d->id, vtd.max_domains - 1);
		return trace_error(-EINVAL);
	}
	u = vtd_unit_of(f);
	e = vtd_context(f->seg, f->rid);
	if (!u || !e)
		return trace_error(-ENODEV);

	struct vtd_entry want = vtd_context_entry(d->pt.root, vtd_agaw(vtd.levels), d->id);
	spin_lock(&vtd.lock);
	if (e->lo == want.lo && e->hi == want.hi)
		goto out;
	if (e->lo & VTD_CTX_P) {
		err = vtd_context_clear(u, e, f->rid);
		if (err)
			goto out;
	}
	vtd_context_write(e, want);
	/* Not present -> present: with CAP.CM the unit may have cached the
	 * not-present entry, tagged with domain 0 (6.1); invalidate that
	 * source-id anyway, then the domain's IOTLB. */
	err = vtd_invalidate(u, VTD_INV_DEVICE, (u->cap & VTD_CAP_CM) ? 0 : d->id, f->rid,
			     VTD_INV_DOMAIN, d->id);
	if (err)	/* the unit may or may not use the entry: take it back */
		vtd_context_write(e, (struct vtd_entry){ 0, 0 });
out:
	spin_unlock(&vtd.lock);
	return err;
}

static void vtd_detach(struct iommu_domain *d, const struct pci_func *f)
{
	struct vtd_unit *u = vtd.ready ? vtd_unit_of(f) : NULL;
	struct vtd_entry *e = vtd.ready ? vtd_context(f->seg, f->rid) : NULL;

	if (!u || !e)
		return;
	spin_lock(&vtd.lock);
	if (e->lo & VTD_CTX_P) {
		if (vtd_context_did(e) != d->id)
			pr_warn("iommu: VT-d: detaching source-id 0x%04x from domain %u, but it was in domain %u\n",
				f->rid, d->id, vtd_context_did(e));
		vtd_context_clear(u, e, f->rid);
	}
	spin_unlock(&vtd.lock);
}

static void vtd_flush(struct iommu_domain *d)
{
	spin_lock(&vtd.lock);
	for (unsigned i = 0; i < vtd.nunits; i++)
		if (!vtd.unit[i].dead)
			vtd_invalidate(&vtd.unit[i], 0, 0, 0, VTD_INV_DOMAIN, d->id);
	spin_unlock(&vtd.lock);
}

/* ---- interrupt remapping ------------------------------------------------------ */

/* Invalidate the interrupt entry cache for [index, index + 2^im) (or all)
 * on every unit and wait. Caller holds vtd.lock (or runs alone at init). */
static int vtd_iec(bool global, unsigned index, unsigned im)
{
	struct vtd_entry d = vtd_qi_iec(global, index, im);
	int err = 0;

	for (unsigned i = 0; i < vtd.nunits; i++) {
		struct vtd_unit *u = &vtd.unit[i];
		if (u->dead)
			err = trace_error(-EIO);
		else if (vtd_qi_run(u, &d, 1))
			err = trace_error(-EIO);
	}
	return err;
}

/* Entries are read as 128 bits, perhaps in halves: P (low half) written
 * last when making an entry present, first when clearing it (9.10). */
static void vtd_irte_write(unsigned index, struct vtd_entry v)
{
	struct vtd_entry *e = &vtd.irt[index];

	if (v.lo & 1) {
		if ((e->lo & 1) && e->hi != v.hi) {
			__atomic_store_n(&e->lo, 0, __ATOMIC_RELEASE);
			vtd_sync(e, sizeof(*e));
			vtd_iec(false, index, 0);
		}
		__atomic_store_n(&e->hi, v.hi, __ATOMIC_RELAXED);
		__atomic_store_n(&e->lo, v.lo, __ATOMIC_RELEASE);
	} else {
		__atomic_store_n(&e->lo, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&e->hi, 0, __ATOMIC_RELEASE);
	}
	vtd_sync(e, sizeof(*e));
}

static bool vtd_ir_on(void)
{
	return vtd.ready && vtd.ir;
}

static bool vtd_ir_x2apic(void)
{
	return vtd_ir_on() && vtd.eim;
}

static bool vtd_irt_owned(uint16_t seg, uint16_t rid, unsigned index)
{
	return index < VTD_IRT_ENTRIES && (vtd.irt_used[index / 8] & (1u << (index % 8))) &&
	       vtd.irt_owner[index].seg == seg && vtd.irt_owner[index].rid == rid;
}

/* n entries for rid, the first aligned to n; caller holds vtd.lock. */
static int vtd_irt_take(uint16_t seg, uint16_t rid, unsigned n)
{
	int first = iommu_take_aligned(vtd.irt_used, VTD_IRT_ENTRIES, n);

	if (first < 0) {
		pr_err("iommu: VT-d: interrupt remapping table full (%u entries)\n", VTD_IRT_ENTRIES);
		return trace_error(-ENOSPC);
	}
	for (unsigned k = 0; k < n; k++) {
		vtd.irt_owner[first + k].seg = seg;
		vtd.irt_owner[first + k].rid = rid;
	}
	return first;
}

static int vtd_irq_alloc(uint16_t seg, uint16_t rid, unsigned n)
{
	if (!vtd_ir_on())
		return trace_error(-ENODEV);
	if (!n || n > 32 || (n & (n - 1)))
		return trace_error(-EINVAL);
	spin_lock(&vtd.lock);
	int first = vtd_irt_take(seg, rid, n);
	spin_unlock(&vtd.lock);
	return first;
}

/* Fill (or clear) one entry; caller holds vtd.lock and checked ownership. */
static int vtd_irte_set(unsigned index, uint16_t sid, const struct iommu_irq *irq)
{
	struct vtd_entry v = { 0, 0 };

	if (irq) {
		if (irq->dest > 0xff && !vtd.eim)
			return trace_error(-ERANGE);
		v = vtd_irte(irq->dest, irq->vector, irq->logical, irq->lowest, irq->level, irq->nmi,
			     sid, vtd.eim);
	}
	if (vtd.irt[index].lo == v.lo && vtd.irt[index].hi == v.hi)
		return 0;
	vtd_irte_write(index, v);
	return vtd_iec(false, index, 0);
}

static void vtd_irq_free(uint16_t seg, uint16_t rid, unsigned index, unsigned n)
{
	if (!vtd_ir_on())
		return;
	spin_lock(&vtd.lock);
	for (unsigned i = index; i < index + n && i < VTD_IRT_ENTRIES; i++) {
		if (!vtd_irt_owned(seg, rid, i))
			continue;
		vtd_irte_set(i, 0, NULL);
		vtd.irt_used[i / 8] &= (uint8_t)~(1u << (i % 8));
	}
	spin_unlock(&vtd.lock);
}

static int vtd_irq_set(uint16_t seg, uint16_t rid, unsigned index, const struct iommu_irq *irq)
{
	int err;

	if (!vtd_ir_on())
		return trace_error(-ENODEV);
	spin_lock(&vtd.lock);
	if (!vtd_irt_owned(seg, rid, index))
		err = trace_error(-EINVAL);
	else
		err = vtd_irte_set(index, rid, irq);
	spin_unlock(&vtd.lock);
	return err;
}

static void vtd_irq_msi(uint16_t seg, uint16_t rid, unsigned index, struct iommu_msi *msg)
{
	(void)seg;
	(void)rid;
	vtd_irte_msi(index, &msg->addr, &msg->data);
}

/* The source-id of the IOAPIC with APIC ID id: its DMAR device scope. */
static bool vtd_ioapic_sid(uint32_t id, uint16_t *seg, uint16_t *sid)
{
	for (unsigned i = 0; i < vtd.nunits; i++) {
		const struct acpi_drhd *h = vtd.unit[i].drhd;
		for (uint32_t k = 0; k < h->nscopes && k < ACPI_MAX_SCOPES; k++) {
			const struct acpi_dmar_scope *sc = &h->scopes[k];
			uint8_t bus, devfn;
			if (sc->type != ACPI_SCOPE_IOAPIC || sc->enum_id != id)
				continue;
			if (!acpi_dmar_scope_resolve(sc, h->segment, vtd_secondary_bus, &bus, &devfn))
				return false;
			*seg = h->segment;
			*sid = (uint16_t)(bus << 8 | devfn);
			return true;
		}
	}
	return false;
}

static int vtd_ioapic_route(uint32_t ioapic_id, unsigned pin, const struct iommu_irq *irq,
			    uint64_t *rte)
{
	uint16_t seg, sid;
	int index = -1, err = 0;

	if (!vtd_ir_on())
		return trace_error(-ENODEV);
	if (!vtd_ioapic_sid(ioapic_id, &seg, &sid))
		return -ENODEV;
	spin_lock(&vtd.lock);	/* the pin's entry: found or taken, then set, at once */
	for (unsigned i = 0; i < vtd.npins && index < 0; i++)
		if (vtd.pins[i].ioapic_id == ioapic_id && vtd.pins[i].pin == pin)
			index = (int)vtd.pins[i].index;
	if (index < 0) {
		if (vtd.npins == VTD_IR_PINS)
			err = trace_error(-ENOSPC);
		else if ((index = vtd_irt_take(seg, sid, 1)) < 0)
			err = index;
		else {
			vtd.pins[vtd.npins].ioapic_id = ioapic_id;
			vtd.pins[vtd.npins].pin = pin;
			vtd.pins[vtd.npins++].index = (unsigned)index;
		}
	}
	if (!err)
		err = vtd_irte_set((unsigned)index, sid, irq);
	spin_unlock(&vtd.lock);
	if (err)
		return err;
	*rte = vtd_irte_ioapic_rte((unsigned)index, irq->nmi ? 0 : irq->vector,
				   irq->level && !irq->nmi);
	return 0;
}

/* Point one unit at the table, invalidate its entry cache, then turn
 * remapping on with compatibility format blocked (5.1.3, 10.4.4). */
static int vtd_ir_start(struct vtd_unit *u)
{
	struct vtd_entry d = vtd_qi_iec(true, 0, 0);
	int err;

	if (vtd_read32(u->regs, VTD_GSTS) & VTD_GCMD_IRE) {
		err = vtd_gcmd(u, VTD_GCMD_IRE, false, "interrupt remapping to turn off");
		if (err)
			return err;
	}
	vtd_write64(u->regs, VTD_IRTA, (uintptr_t)vtd.irt | (vtd.eim ? VTD_IRTA_EIME : 0) |
					      (VTD_IRT_ORDER - 1));
	vtd_gcmd_write(u, VTD_GCMD_SIRTP, true);
	err = vtd_wait32(u, VTD_GSTS, VTD_GCMD_SIRTP, VTD_GCMD_SIRTP,
			 "the interrupt remapping table pointer");
	if (!err)
		err = vtd_qi_run(u, &d, 1);
	if (!err && (vtd_read32(u->regs, VTD_GSTS) & VTD_GCMD_CFI))
		err = vtd_gcmd(u, VTD_GCMD_CFI, false, "compatibility-format interrupts to be blocked");
	if (!err)
		err = vtd_gcmd(u, VTD_GCMD_IRE, true, "interrupt remapping to turn on");
	return err;
}

/* Remapping on every unit, or on none (a line says why). */
static void vtd_ir_init(void)
{
	const char *why = NULL;
	unsigned i;

	vtd.eim = true;
	for (i = 0; i < vtd.nunits; i++) {
		if (!(vtd.unit[i].ecap & VTD_ECAP_IR) || !vtd.unit[i].qi)
			why = "a unit has no interrupt remapping";
		if (!(vtd.unit[i].ecap & VTD_ECAP_EIM))
			vtd.eim = false;
	}
	if (!why) {
		uint64_t pa = alloc_pages(VTD_IRT_ENTRIES * sizeof(struct vtd_entry) / PAGE_SIZE,
					  PAGE_SIZE, 0);
		if (!pa)
			why = "out of memory for its table";
		vtd.irt = (struct vtd_entry *)(uintptr_t)pa;
	}
	if (!why) {
		memset(vtd.irt, 0, VTD_IRT_ENTRIES * sizeof(struct vtd_entry));
		vtd_sync(vtd.irt, VTD_IRT_ENTRIES * sizeof(struct vtd_entry));
		for (i = 0; i < vtd.nunits && !why; i++)
			if (vtd_ir_start(&vtd.unit[i]))
				why = "a unit did not take it";
	}
	if (why) {
		for (unsigned k = 0; k < vtd.nunits; k++)
			if (!vtd.unit[k].dead && (vtd_read32(vtd.unit[k].regs, VTD_GSTS) & VTD_GCMD_IRE))
				vtd_gcmd(&vtd.unit[k], VTD_GCMD_IRE, false, "interrupt remapping to turn off");
		pr_warn("iommu: VT-d: interrupt remapping off (%s): devices get no MSI or INTx\n", why);
		vtd.eim = false;
		return;
	}
	vtd.ir = true;
	pr_info("iommu: VT-d: interrupt remapping on, %u entries, compatibility format blocked, "
		"%s destinations\n",
		VTD_IRT_ENTRIES, vtd.eim ? "x2APIC" : "8-bit APIC ID");
}

/* ---- init ----------------------------------------------------------------------- */

/* Reach the registers, read what the unit can do, print its line. */
static int vtd_probe(struct vtd_unit *u, const struct acpi_drhd *h, unsigned idx)
{
	/* DMAR rev. 2+: the register set is 2^size pages (8.3); 0 = one page. */
	uint64_t len = PAGE_SIZE << (h->size < 8 ? h->size : 8);

	u->idx = idx;
	u->drhd = h;
	if (!h->base || h->base % PAGE_SIZE) {
		pr_err("iommu: VT-d unit %u: bad register base 0x%llx\n", idx,
		       (unsigned long long)h->base);
		return trace_error(-EINVAL);
	}
	if (h->base + len > VTD_4GIB) {
		/* Above 4 GiB only RAM is identity-mapped: map the registers uncached. */
		int err = paging_map((uintptr_t)h->base, h->base, len, PT_READ | PT_WRITE | PT_UC);
		if (err) {
			pr_err("iommu: VT-d unit %u: cannot map its registers at 0x%llx\n", idx,
			       (unsigned long long)h->base);
			return err;
		}
	}
	u->regs = (uintptr_t)h->base;
	u->ver = vtd_read32(u->regs, VTD_VER);
	u->cap = vtd_read64(u->regs, VTD_CAP);
	u->ecap = vtd_read64(u->regs, VTD_ECAP);
	if (u->ver == 0xffffffffu || u->cap == ~0ull || !u->cap) {
		pr_err("iommu: VT-d unit %u at 0x%llx does not answer\n", idx,
		       (unsigned long long)h->base);
		return trace_error(-ENODEV);
	}
	u->iotlb = VTD_ECAP_IRO(u->ecap) + VTD_IOTLB_REG_OFF;
	u->fro = VTD_CAP_FRO(u->cap);
	u->nfr = VTD_CAP_NFR(u->cap);
	u->qi = u->ecap & VTD_ECAP_QI;

	pr_info("iommu: VT-d unit %u at 0x%llx (segment %u%s): version %u.%u, SAGAW 0x%x, MGAW %u, "
		"QI %s, coherent %s, IR %s, EIM %s\n",
		idx, (unsigned long long)h->base, h->segment,
		(h->flags & ACPI_DRHD_INCLUDE_PCI_ALL) ? ", all devices" : "",
		(u->ver >> 4) & 0xf, u->ver & 0xf, VTD_CAP_SAGAW(u->cap), VTD_CAP_MGAW(u->cap),
		u->qi ? "yes" : "no", (u->ecap & VTD_ECAP_C) ? "yes" : "no",
		(u->ecap & VTD_ECAP_IR) ? "yes" : "no", (u->ecap & VTD_ECAP_EIM) ? "yes" : "no");

	if (u->iotlb + 8 > len || u->fro + u->nfr * 16 > len) {
		pr_err("iommu: VT-d unit %u: registers (IOTLB at 0x%x, faults at 0x%x) outside its %llu KiB\n",
		       idx, u->iotlb, u->fro, (unsigned long long)(len / 1024));
		return trace_error(-EINVAL);
	}
	return 0;
}

/* A root table for the segment and a context table per bus, every context
 * entry not present. */
static int vtd_build_segment(uint16_t seg)
{
	if (vtd_segment(seg))
		return 0;
	uint64_t pa = alloc_pages(1 + VTD_CTX_TABLES, PAGE_SIZE, 0);
	if (!pa) {
		pr_err("iommu: VT-d: out of memory for the root and context tables\n");
		return trace_error(-ENOMEM);
	}
	struct vtd_entry *root = (struct vtd_entry *)(uintptr_t)pa;
	for (unsigned bus = 0; bus < VTD_CTX_TABLES; bus++)
		root[bus] = vtd_root_entry(pa + (1 + bus) * PAGE_SIZE);
	vtd_sync(root, (1 + VTD_CTX_TABLES) * PAGE_SIZE);
	vtd.segs[vtd.nsegs++] = (struct vtd_segment){ .seg = seg, .root = root };
	return 0;
}

/*
 * Bring one unit up (10.4): faults masked and stale records cleared, the
 * root table latched, the invalidation queue on, everything cached
 * invalidated, fault events aimed at the boot CPU, then translation on,
 * then the protected memory regions off (they are no longer needed once
 * every request is remapped, 3.15).
 */
static int vtd_start(struct vtd_unit *u)
{
	uint32_t gsts = vtd_read32(u->regs, VTD_GSTS);
	uint32_t msi_addr, msi_data;
	int err;

	u->touched = true;
	if (gsts & VTD_GCMD_TE)
		pr_info("iommu: VT-d unit %u: the firmware left translation on; replacing its tables\n",
			u->idx);
	vtd_write32(u->regs, VTD_FECTL, VTD_FECTL_IM);
	vtd_unit_faults(u, false);

	/* IQA may be written only with the queue off (10.4.23). */
	if (gsts & VTD_GCMD_QIE) {
		err = vtd_gcmd(u, VTD_GCMD_QIE, false, "the invalidation queue to stop");
		if (err)
			return err;
	}

	err = vtd_set_root(u, (uintptr_t)vtd_segment(u->drhd->segment)->root);
	if (err)
		return err;

	if (u->qi) {
		u->iq_tail = 0;
		vtd_write64(u->regs, VTD_IQT, 0);
		vtd_write64(u->regs, VTD_IQA, (uintptr_t)u->iq);	/* QS 0: 256 entries */
		err = vtd_gcmd(u, VTD_GCMD_QIE, true, "the invalidation queue to start");
		if (err)
			return err;
	}

	/* A new root table: global context-cache, then global IOTLB (10.4.6). */
	err = vtd_invalidate(u, VTD_INV_GLOBAL, 0, 0, VTD_INV_GLOBAL, 0);
	if (err)
		return err;

	iommu_fault_msi(&msi_addr, &msi_data);
	vtd_write32(u->regs, VTD_FEDATA, msi_data);
	vtd_write32(u->regs, VTD_FEADDR, msi_addr);
	vtd_write32(u->regs, VTD_FEUADDR, 0);
	vtd_write32(u->regs, VTD_FECTL, 0);

	if (!(gsts & VTD_GCMD_TE)) {
		err = vtd_gcmd(u, VTD_GCMD_TE, true, "translation to turn on");
		if (err)
			return err;
	}

	if ((u->cap & (VTD_CAP_PLMR | VTD_CAP_PHMR)) &&
	    (vtd_read32(u->regs, VTD_PMEN) & VTD_PMEN_EPM)) {
		vtd_write32(u->regs, VTD_PMEN, 0);
		err = vtd_wait32(u, VTD_PMEN, VTD_PMEN_PRS, 0, "the protected memory regions to turn off");
		if (err)
			return err;
	}
	return 0;
}

/* Undo vtd_start as far as the unit lets us: translation, queue and
 * fault events off. */
static void vtd_stop(struct vtd_unit *u)
{
	if (u->dead && vtd_read32(u->regs, VTD_GSTS) == 0xffffffffu)
		return;
	u->dead = false;	/* try anyway: each wait is bounded */
	vtd_write32(u->regs, VTD_FECTL, VTD_FECTL_IM);
	if (vtd_read32(u->regs, VTD_GSTS) & VTD_GCMD_IRE)
		vtd_gcmd(u, VTD_GCMD_IRE, false, "interrupt remapping to turn off");
	if (vtd_read32(u->regs, VTD_GSTS) & VTD_GCMD_TE)
		vtd_gcmd(u, VTD_GCMD_TE, false, "translation to turn off");
	if (vtd_read32(u->regs, VTD_GSTS) & VTD_GCMD_QIE)
		vtd_gcmd(u, VTD_GCMD_QIE, false, "the invalidation queue to stop");
	u->touched = false;
}

static int vtd_init(const struct acpi_info *acpi)
{
	unsigned sagaw = 0x1f, sllps = 0xf, mgaw = 64, nd = 7;
	int err;

	memset(&vtd, 0, sizeof(vtd));
	if (!acpi->dmar.present || !acpi->dmar.ndrhd)
		return trace_error(-ENODEV);
	vtd.dmar = acpi->dmar;
	vtd.nunits = vtd.dmar.ndrhd < ACPI_MAX_IOMMUS ? vtd.dmar.ndrhd : ACPI_MAX_IOMMUS;
	vtd.coherent = true;

	for (unsigned i = 0; i < vtd.nunits; i++) {
		struct vtd_unit *u = &vtd.unit[i];
		err = vtd_probe(u, &vtd.dmar.drhd[i], i);
		if (err)
			goto fail;
		sagaw &= VTD_CAP_SAGAW(u->cap);
		sllps &= VTD_CAP_SLLPS(u->cap);
		if (VTD_CAP_MGAW(u->cap) < mgaw)
			mgaw = VTD_CAP_MGAW(u->cap);
		if (VTD_CAP_ND(u->cap) < nd)
			nd = VTD_CAP_ND(u->cap);
		if (!(u->ecap & VTD_ECAP_C))
			vtd.coherent = false;
	}

	vtd.levels = vtd_pick_levels(sagaw);
	if (!vtd.levels) {
		pr_err("iommu: VT-d: no second-level table depth (3 or 4 levels) every unit supports (SAGAW 0x%x)\n",
		       sagaw);
		err = trace_error(-ENOTSUP);
		goto fail;
	}
	/* Output addresses: below the host address width (DMAR) and MGAW. */
	unsigned addr_bits = mgaw;
	if (vtd.dmar.haw && vtd.dmar.haw < addr_bits)
		addr_bits = vtd.dmar.haw;
	unsigned max_leaf = (sllps & 1) ? ((sllps & 2) ? 3 : 2) : 1;
	vtd_sl_format_init(&vtd.fmt, vtd.levels, max_leaf, addr_bits);
	/* Table pages the engine frees could still be in a unit's paging-
	 * structure caches until the flush after pt_map/pt_unmap: leak them. */
	vtd.mem = (struct pt_mem){
		.alloc_page = vtd_pt_alloc,
		.phys_to_virt = vtd_pt_virt,
		.sync = vtd.coherent ? NULL : vtd_pt_sync,
	};
	vtd.max_domains = 1u << (4 + 2 * nd);
	if (vtd.max_domains > 0x10000)
		vtd.max_domains = 0x10000;

	for (unsigned i = 0; i < vtd.nunits; i++) {
		struct vtd_unit *u = &vtd.unit[i];
		err = vtd_build_segment(u->drhd->segment);
		if (err)
			goto fail;
		if (u->qi) {
			uint64_t q = alloc_page();
			if (!q) {
				pr_err("iommu: VT-d: out of memory for an invalidation queue\n");
				err = trace_error(-ENOMEM);
				goto fail;
			}
			u->iq = (struct vtd_entry *)(uintptr_t)q;
		}
	}

	for (unsigned i = 0; i < vtd.nunits; i++) {
		err = vtd_start(&vtd.unit[i]);
		if (err)
			goto fail;
	}

	vtd.ready = true;
	pr_info("iommu: VT-d: %u unit%s translating, every device blocked; %u-level tables, "
		"%s leaves, %u-bit addresses, %u domain IDs%s\n",
		vtd.nunits, vtd.nunits == 1 ? "" : "s", vtd.levels,
		max_leaf == 3 ? "1 GiB" : max_leaf == 2 ? "2 MiB" : "4 KiB", addr_bits,
		vtd.max_domains, vtd.coherent ? "" : ", tables flushed from the caches");
	vtd_ir_init();
	return 0;

fail:
	for (unsigned i = 0; i < vtd.nunits; i++)
		if (vtd.unit[i].touched)
			vtd_stop(&vtd.unit[i]);
	pr_err("iommu: VT-d: not enabled (%d); translation left off on every unit\n", err);
	vtd.nunits = 0;
	return err;
}

static const struct pt_format *vtd_pt_format(void)
{
	return vtd.ready ? &vtd.fmt : NULL;
}

static const struct pt_mem *vtd_pt_mem(void)
{
	return vtd.ready ? &vtd.mem : NULL;
}

const struct iommu_ops vtd_ops = {
	.name = "VT-d",
	.init = vtd_init,
	.pt_format = vtd_pt_format,
	.pt_mem = vtd_pt_mem,
	.covers = vtd_covers,
	.is_unit = vtd_is_unit,
	.attach = vtd_attach,
	.detach = vtd_detach,
	.flush = vtd_flush,
	.reserved = vtd_reserved,
	.poll_faults = vtd_poll_faults,
	.ir_on = vtd_ir_on,
	.ir_x2apic = vtd_ir_x2apic,
	.irq_alloc = vtd_irq_alloc,
	.irq_free = vtd_irq_free,
	.irq_set = vtd_irq_set,
	.irq_msi = vtd_irq_msi,
	.ioapic_route = vtd_ioapic_route,
};
