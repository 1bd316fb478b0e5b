/*
 * AMD-Vi: the AMD I/O Virtualization Technology units the IVRS describes
 * (AMD IOMMU Specification 48882, chapters 2 and 3). Encodings live in
 * amdvi_tables.c; this file reaches the hardware.
 *
 * Every unit gets the device table of its PCI segment (one table per
 * segment, shared by the units on it, as the table is indexed by device
 * ID alone), a 256-entry command buffer, a 512-entry event log and a
 * completion-wait word. The device table covers all 64K device IDs
 * (2 MiB, DevTblSize 1FFh): a requester ID no IVHD lists -- a phantom
 * function, a hot-plugged bridge, a bogus ID -- still finds an entry this
 * driver wrote, one that blocks, instead of an out-of-range lookup whose
 * outcome the spec leaves to the implementation.
 *
 * Every entry starts blocking (amdvi_dte_blocked); attach points a
 * device ID at a domain's tables, detach puts the blocking entry back.
 * Every change is followed by its invalidations and a COMPLETION_WAIT
 * whose store the CPU polls for (2.4.1), with a TSC deadline.
 *
 * Interrupt remapping is on when every IVHD names the IOAPICs behind its
 * unit (special device entries, 5.2.2.5: without them the unit cannot tell
 * an IOAPIC's messages from a device's): every DTE then has IV=1 with
 * IntCtl "abort", so a device's interrupt is blocked until irq_alloc()
 * gives its device ID a 256-entry table (IntCtl "remap") and irq_set()
 * fills an entry. NMIs pass only for the units' own device IDs (their
 * fault interrupt) and the IOAPICs' (the console's pin); an IOAPIC's
 * other pins are not routed (a level-triggered line would need its EOI
 * matched to the entry index). The entries are the 128-bit GA format
 * with 32-bit destinations (XTEn) where every unit has GASup and XTSup,
 * else the 32-bit format with 8-bit destinations. Without the special
 * entries, IV=0 everywhere: interrupts pass as they are.
 *
 * Under QEMU 10.0 the model translates only with `-device amd-iommu,pt=off`
 * (with the default pt=on every device's DMA bypasses it); its source marks DTE
 * bit 72 (DomainID bit 8) reserved, so domain IDs below 256 are safest there;
 * it blocks the faulting accesses but writes no event-log entry for them,
 * nor for the interrupts it blocks; the messages that carry no requester
 * ID (its IOAPIC's, and DMA into the interrupt window) are looked up as
 * the IOAPIC's device ID (00:14.0); the IRTE index is taken from MSI data
 * 10:0 after bits 10:8 chose the delivery mode, hence 256 entries.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/tsc.h"
#include "drivers/iommu/amdvi_tables.h"
#include "drivers/iommu/iommu.h"
#include "drivers/pci.h"
#include "kernel/acpi.h"
#include "kernel/errno.h"
#include "kernel/mm.h"
#include "kernel/palloc.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"

#define AMDVI_PAGE		4096ull
#define AMDVI_CMD_LOG2		8	/* 256 commands: one page */
#define AMDVI_CMD_BYTES		((1u << AMDVI_CMD_LOG2) * AMDVI_CMD_SIZE)
#define AMDVI_EVT_LOG2		9	/* 512 events: two pages */
#define AMDVI_EVT_BYTES		((1u << AMDVI_EVT_LOG2) * AMDVI_EVT_SIZE)
#define AMDVI_LEVELS		4	/* DTE Mode 4: 48-bit IOVA, what the engine builds */
#define AMDVI_WAIT_US		100000	/* a command, a run bit: 100 ms is ages */
#define AMDVI_UNIT_EVENTS_SHOWN	8	/* unit-level events printed per unit */

struct amdvi_unit {
	struct acpi_ivhd ivhd;		/* a copy: the ACPI info may not live on */
	volatile uint8_t *mmio;
	uint64_t efr;
	struct amdvi_dte *dt;		/* the segment's device table */
	uint64_t dt_phys;
	uint8_t *cmd;			/* command buffer */
	uint64_t cmd_phys;
	uint32_t cmd_tail;
	uint64_t *evt;			/* event log */
	uint64_t evt_phys;
	volatile uint64_t *sem;		/* COMPLETION_WAIT store target */
	uint64_t sem_phys;
	uint64_t sem_seq;
	bool enabled;
	bool dead;			/* a command timed out: nothing more is sent */
	char bdf[16];			/* its own function, for the lines */
	unsigned unit_events;
};

static struct amdvi_unit units[ACPI_MAX_IOMMUS];
static unsigned nunits;
static struct acpi_ivmd ivmds[ACPI_MAX_RESV];
static unsigned nivmds;
static uint64_t empty_root;		/* the zeroed table every blocking DTE names */
static struct spinlock cmd_lock = SPINLOCK_INIT;	/* command buffers, DTEs, IRTs */

#define AMDVI_IR_TABLES		64	/* devices with interrupts */
#define AMDVI_IRT_ENTRIES	(1u << AMDVI_IRT_LOG2)

/* One device ID's interrupt remapping table. */
struct amdvi_irt {
	uint16_t seg, rid;
	void *table;			/* a page: 256 entries of 4 or 16 bytes */
	uint8_t used[AMDVI_IRT_ENTRIES / 8];
};

static struct {
	bool on;			/* every IVHD names its IOAPICs */
	bool ga, xt;			/* 128-bit entries; 32-bit destinations */
	struct amdvi_irt irt[AMDVI_IR_TABLES];
	unsigned nirt;
} ir;

/* ---- registers ------------------------------------------------------------ */

static uint64_t reg_read(const struct amdvi_unit *u, unsigned off)
{
	return *(volatile const uint64_t *)(u->mmio + off);
}

static void reg_write(struct amdvi_unit *u, unsigned off, uint64_t val)
{
	*(volatile uint64_t *)(u->mmio + off) = val;
}

static unsigned unit_index(const struct amdvi_unit *u)
{
	return (unsigned)(u - units);
}

/* Control register off, then wait until the command buffer and event log
 * stopped (3.4.10 CmdBufRun, EventLogRun). */
static void unit_disable(struct amdvi_unit *u)
{
	uint64_t end;

	if (!u->mmio)
		return;
	reg_write(u, AMDVI_REG_CONTROL, 0);
	end = tsc_deadline_us(AMDVI_WAIT_US);
	while (reg_read(u, AMDVI_REG_STATUS) & (AMDVI_STS_CMD_RUN | AMDVI_STS_EVT_RUN)) {
		if (rdtsc() > end) {
			pr_err("amdvi: unit %u: still running 100 ms after disable\n",
			       unit_index(u));
			break;
		}
		cpu_relax();
	}
	u->enabled = false;
}

/* ---- commands ------------------------------------------------------------- */

/* Queue one command. Caller holds cmd_lock. */
static int cmd_queue(struct amdvi_unit *u, struct amdvi_cmd c)
{
	uint32_t next = (u->cmd_tail + AMDVI_CMD_SIZE) % AMDVI_CMD_BYTES;
	uint64_t end = tsc_deadline_us(AMDVI_WAIT_US);

	if (u->dead)
		return -EIO;
	/* Full when the next tail would meet the head (2.4). */
	while ((reg_read(u, AMDVI_REG_CMD_HEAD) & AMDVI_RING_PTR_MASK) == next) {
		if (rdtsc() > end) {
			pr_err("amdvi: unit %u: command buffer stuck full (head 0x%llx)\n",
			       unit_index(u),
			       (unsigned long long)reg_read(u, AMDVI_REG_CMD_HEAD));
			u->dead = true;
			return trace_error(-EIO);
		}
		cpu_relax();
	}
	volatile uint64_t *slot = (volatile uint64_t *)(u->cmd + u->cmd_tail);
	slot[0] = c.q[0];
	slot[1] = c.q[1];
	/* x86 keeps stores in order; the compiler must too, before the
	 * doorbell write makes the entry the IOMMU's. */
	__asm__ __volatile__("" ::: "memory");
	u->cmd_tail = next;
	reg_write(u, AMDVI_REG_CMD_TAIL, next);
	return 0;
}

/* COMPLETION_WAIT with a store, and poll the store. Caller holds cmd_lock. */
static int cmd_wait(struct amdvi_unit *u)
{
	uint64_t seq = ++u->sem_seq, end;
	int err = cmd_queue(u, amdvi_cmd_completion_wait(u->sem_phys, seq));

	if (err)
		return err;
	end = tsc_deadline_us(AMDVI_WAIT_US);
	while (*u->sem != seq) {
		if (rdtsc() > end) {
			pr_err("amdvi: unit %u: COMPLETION_WAIT not done after 100 ms "
			       "(head 0x%llx tail 0x%x status 0x%llx)\n", unit_index(u),
			       (unsigned long long)reg_read(u, AMDVI_REG_CMD_HEAD), u->cmd_tail,
			       (unsigned long long)reg_read(u, AMDVI_REG_STATUS));
			u->dead = true;
			return trace_error(-EIO);
		}
		cpu_relax();
	}
	return 0;
}

/* ---- IVRS look-ups -------------------------------------------------------- */

static bool unit_is_live(const struct amdvi_unit *u)
{
	return u->enabled && !u->dead;
}

static uint16_t func_bdf(const struct pci_func *f)
{
	return PCI_RID(f->bus, f->devfn);
}

/* The device IDs f's DMA may carry: its requester ID as the PCI code
 * worked it out (f->rid), its own BDF (in case no bridge rewrites it),
 * and whatever alias an IVHD of its segment names for either. */
static unsigned func_devids(const struct pci_func *f, uint16_t ids[4])
{
	unsigned n = 0;
	uint16_t cand[2] = { f->rid, func_bdf(f) };

	for (unsigned c = 0; c < 2; c++) {
		uint16_t alias;

		for (unsigned k = 0; k <= nunits; k++) {
			uint16_t id = cand[c];
			bool dup = false;

			if (k < nunits) {
				if (units[k].ivhd.segment != f->seg ||
				    !amdvi_ivhd_alias(&units[k].ivhd, cand[c], &alias))
					continue;
				id = alias;
			}
			for (unsigned i = 0; i < n; i++)
				dup |= ids[i] == id;
			if (!dup && n < 4)
				ids[n++] = id;
		}
	}
	return n;
}

/* ---- init ----------------------------------------------------------------- */

/* The MSI capability of the unit's own function (PCI 3.0 6.8.1), reached
 * by address: the unit need not be in the PCI table. 0 if none. */
static unsigned unit_find_msi(uint16_t seg, uint8_t bus, uint8_t devfn)
{
	unsigned off;

	if (!(pci_read_at(seg, bus, devfn, PCI_STATUS, 2) & PCI_STATUS_CAPS))
		return 0;
	off = pci_read_at(seg, bus, devfn, PCI_CAP_PTR, 1) & 0xfc;
	for (unsigned hops = 0; off >= 0x40 && hops < 48; hops++) {
		if ((pci_read_at(seg, bus, devfn, off, 1) & 0xff) == PCI_CAP_MSI)
			return off;
		off = pci_read_at(seg, bus, devfn, off + 1, 1) & 0xfc;
	}
	return 0;
}

/* Aim the event-log interrupt (the unit's single MSI vector) at the boot
 * CPU as an NMI. false when the unit has no MSI capability. */
static bool unit_program_msi(const struct amdvi_unit *u)
{
	uint16_t seg = u->ivhd.segment;
	uint8_t bus = (uint8_t)(u->ivhd.devid >> 8), devfn = (uint8_t)u->ivhd.devid;
	unsigned cap = unit_find_msi(seg, bus, devfn);
	uint32_t addr, data, ctl;

	if (!cap)
		return false;
	iommu_fault_msi(&addr, &data);
	ctl = pci_read_at(seg, bus, devfn, cap + 2, 2);
	pci_write_at(seg, bus, devfn, cap + 2, 2, ctl & ~0x71u);	/* off, one vector */
	pci_write_at(seg, bus, devfn, cap + 4, 4, addr);
	if (ctl & 0x80) {	/* 64-bit address capable */
		pci_write_at(seg, bus, devfn, cap + 8, 4, 0);
		pci_write_at(seg, bus, devfn, cap + 12, 2, data);
	} else {
		pci_write_at(seg, bus, devfn, cap + 8, 2, data);
	}
	pci_write_at(seg, bus, devfn, cap + 2, 2, (ctl & ~0x70u) | 1u);
	return true;
}

/* Does the IVHD name an IOAPIC (special device entry, 5.2.2.5): the one
 * with APIC ID id, or any when id < 0? */
static bool ivhd_names_ioapic(const struct acpi_ivhd *h, int id)
{
	for (uint32_t r = 0; r < h->nranges && r < ACPI_MAX_SCOPES; r++)
		if (h->ranges[r].special == ACPI_IVHD_IOAPIC && (id < 0 || h->ranges[r].handle == id))
			return true;
	return false;
}

/* The device table of segment seg: shared if a unit already has it. */
static int unit_get_devtab(struct amdvi_unit *u)
{
	for (unsigned i = 0; i < unit_index(u); i++) {
		if (units[i].dt && units[i].ivhd.segment == u->ivhd.segment) {
			u->dt = units[i].dt;
			u->dt_phys = units[i].dt_phys;
			return 0;
		}
	}
	u->dt_phys = alloc_pages(AMDVI_DT_PAGES, AMDVI_PAGE, 0);
	if (!u->dt_phys)
		return trace_error(-ENOMEM);
	u->dt = (struct amdvi_dte *)(uintptr_t)u->dt_phys;
	struct amdvi_dte blocked = amdvi_dte_blocked(empty_root, AMDVI_LEVELS);
	if (ir.on)
		blocked.q[2] = amdvi_dte_irq(0, 0, AMDVI_INTCTL_ABORT, false);
	for (uint32_t id = 0; id < AMDVI_DEVIDS; id++)
		u->dt[id] = blocked;
	/* NMIs from the units themselves (their fault interrupt) and from
	 * the IOAPICs (the console's pin) pass. */
	for (unsigned k = 0; ir.on && k < nunits; k++) {
		const struct acpi_ivhd *h = &units[k].ivhd;
		if (h->segment != u->ivhd.segment)
			continue;
		u->dt[h->devid].q[2] |= AMDVI_DTE2_NMI_PASS;
		for (uint32_t r = 0; r < h->nranges && r < ACPI_MAX_SCOPES; r++)
			if (h->ranges[r].special == ACPI_IVHD_IOAPIC)
				u->dt[h->ranges[r].first].q[2] |= AMDVI_DTE2_NMI_PASS;
	}
	return 0;
}

static const char *yn(uint64_t efr, uint64_t bit)
{
	return efr & bit ? "+" : "-";
}

/* Reach the registers, stop whatever the firmware left running, read the
 * EFR: what the decisions for all units need before any is enabled. */
static int unit_probe(struct amdvi_unit *u, bool *efr_reg)
{
	const struct acpi_ivhd *h = &u->ivhd;
	unsigned i = unit_index(u);
	uint8_t bus = (uint8_t)(h->devid >> 8), devfn = (uint8_t)h->devid;
	int err;

	pci_bdf_str(h->segment, bus, devfn, u->bdf);
	if (!h->base || h->base % AMDVI_MMIO_SIZE) {
		pr_err("amdvi: unit %u (%s): register base 0x%llx unusable\n", i, u->bdf,
		       (unsigned long long)h->base);
		return trace_error(-EINVAL);
	}
	/* Below 4 GiB the identity map covers it (the firmware's MTRRs make
	 * it UC); above, map it ourselves, uncached. */
	if (h->base + AMDVI_MMIO_SIZE > (1ull << 32)) {
		err = paging_map((uintptr_t)h->base, h->base, AMDVI_MMIO_SIZE,
				 PT_READ | PT_WRITE | PT_UC);
		if (err) {
			pr_err("amdvi: unit %u: cannot map registers at 0x%llx\n", i,
			       (unsigned long long)h->base);
			return err;
		}
	}
	u->mmio = (volatile uint8_t *)(uintptr_t)h->base;
	if (reg_read(u, AMDVI_REG_CONTROL) == ~0ull) {
		pr_err("amdvi: unit %u: nothing answers at 0x%llx\n", i,
		       (unsigned long long)h->base);
		u->mmio = NULL;
		return trace_error(-ENODEV);
	}
	unit_disable(u);	/* whatever the firmware left running */

	/* 3.2.1: the capability header's EFRSup says whether the register
	 * exists; else the IVHD's copy (types 11h/40h, 5.2.2.2). */
	uint32_t cap_hdr = pci_read_at(h->segment, bus, devfn, h->cap_offset, 4);
	*efr_reg = cap_hdr != ~0u && (cap_hdr & AMDVI_CAP_EFR_SUP);
	u->efr = *efr_reg ? reg_read(u, AMDVI_REG_EFR) : h->efr;
	return 0;
}

static int unit_init(struct amdvi_unit *u, bool efr_reg)
{
	const struct acpi_ivhd *h = &u->ivhd;
	unsigned i = unit_index(u);
	int err;

	if ((err = unit_get_devtab(u)))
		return err;
	u->cmd_phys = alloc_pages(AMDVI_CMD_BYTES / AMDVI_PAGE, AMDVI_PAGE, 0);
	u->evt_phys = alloc_pages(AMDVI_EVT_BYTES / AMDVI_PAGE, AMDVI_PAGE, 0);
	u->sem_phys = alloc_page();
	if (!u->cmd_phys || !u->evt_phys || !u->sem_phys)
		return trace_error(-ENOMEM);
	u->cmd = (uint8_t *)(uintptr_t)u->cmd_phys;
	u->evt = (uint64_t *)(uintptr_t)u->evt_phys;
	u->sem = (volatile uint64_t *)(uintptr_t)u->sem_phys;
	u->cmd_tail = 0;

	/* 3.3: tables, then the rings with their pointers at 0, exclusion
	 * range off, stale status cleared. */
	reg_write(u, AMDVI_REG_DEVTAB, amdvi_reg_devtab(u->dt_phys, AMDVI_DT_PAGES));
	reg_write(u, AMDVI_REG_CMDBUF, amdvi_reg_ring(u->cmd_phys, AMDVI_CMD_LOG2));
	reg_write(u, AMDVI_REG_CMD_HEAD, 0);
	reg_write(u, AMDVI_REG_CMD_TAIL, 0);
	reg_write(u, AMDVI_REG_EVTLOG, amdvi_reg_ring(u->evt_phys, AMDVI_EVT_LOG2));
	reg_write(u, AMDVI_REG_EVT_HEAD, 0);
	reg_write(u, AMDVI_REG_EVT_TAIL, 0);
	reg_write(u, AMDVI_REG_EXCL_BASE, 0);
	reg_write(u, AMDVI_REG_EXCL_LIMIT, 0);
	reg_write(u, AMDVI_REG_STATUS,
		  AMDVI_STS_EVT_OVERFLOW | AMDVI_STS_EVT_INT | AMDVI_STS_COMWAIT_INT);

	bool msi = unit_program_msi(u);

	/* The IVHD flags tell how the platform wants the control bits that
	 * describe the fabric (5.2.2.2: HtTunEn, PassPW, ResPassPW, Isoc,
	 * Coherent); InvTimeOut 1 s (101b). */
	uint64_t ctl = AMDVI_CTL_EVTLOG_EN | AMDVI_CTL_EVTINT_EN | AMDVI_CTL_CMDBUF_EN |
		       (5ull << AMDVI_CTL_INV_TO_SHIFT);
	if (h->flags & 0x01)
		ctl |= AMDVI_CTL_HT_TUN_EN;
	if (h->flags & 0x02)
		ctl |= AMDVI_CTL_PASS_PW;
	if (h->flags & 0x04)
		ctl |= AMDVI_CTL_RES_PASS_PW;
	if (h->flags & 0x08)
		ctl |= AMDVI_CTL_ISOC;
	if (h->flags & 0x20)
		ctl |= AMDVI_CTL_COHERENT;
	if (ir.ga)
		ctl |= AMDVI_CTL_GA_EN;
	if (ir.xt)
		ctl |= AMDVI_CTL_XT_EN;
	reg_write(u, AMDVI_REG_CONTROL, ctl);
	reg_write(u, AMDVI_REG_CONTROL, ctl | AMDVI_CTL_IOMMU_EN);
	u->enabled = true;

	/* Nothing the unit cached before (firmware use) may survive. */
	spin_lock(&cmd_lock);
	if (u->efr & AMDVI_EFR_IA) {
		err = cmd_queue(u, amdvi_cmd_inv_all());
	} else {
		err = 0;
		for (uint32_t id = 0; id < AMDVI_DEVIDS && !err; id++)
			if (amdvi_ivhd_covers(h, (uint16_t)id))
				err = cmd_queue(u, amdvi_cmd_inv_devtab_entry((uint16_t)id));
	}
	if (!err)
		err = cmd_wait(u);
	spin_unlock(&cmd_lock);
	if (err) {
		pr_err("amdvi: unit %u: the first invalidation did not complete\n", i);
		return err;
	}

	pr_info("amdvi: unit %u at 0x%llx devid %s seg %u: efr 0x%llx (%s) XT%s NX%s GT%s "
		"IA%s GA%s HATS %u levels, %u ranges, fault MSI %s\n",
		i, (unsigned long long)h->base, u->bdf, h->segment, (unsigned long long)u->efr,
		efr_reg ? "register" : "IVHD", yn(u->efr, AMDVI_EFR_XT),
		yn(u->efr, AMDVI_EFR_NX), yn(u->efr, AMDVI_EFR_GT), yn(u->efr, AMDVI_EFR_IA),
		yn(u->efr, AMDVI_EFR_GA), amdvi_efr_max_levels(u->efr), h->nranges,
		msi ? "on" : "none (faults seen only when polled)");
	return 0;
}

static int amdvi_init(const struct acpi_info *acpi)
{
	const struct acpi_ivrs *ivrs = &acpi->ivrs;
	int err = 0;

	if (!ivrs->present || !ivrs->nivhd)
		return trace_error(-ENODEV);
	nunits = ivrs->nivhd < ACPI_MAX_IOMMUS ? ivrs->nivhd : ACPI_MAX_IOMMUS;
	nivmds = ivrs->nivmd < ACPI_MAX_RESV ? ivrs->nivmd : ACPI_MAX_RESV;
	for (unsigned i = 0; i < nivmds; i++)
		ivmds[i] = ivrs->ivmd[i];
	empty_root = alloc_page();
	if (!empty_root) {
		err = trace_error(-ENOMEM);
		goto fail;
	}
	for (unsigned i = 0; i < nunits; i++) {
		memset(&units[i], 0, sizeof(units[i]));
		units[i].ivhd = ivrs->ivhd[i];
	}
	bool efr_reg[ACPI_MAX_IOMMUS];
	memset(&ir, 0, sizeof(ir));
	ir.on = ir.ga = ir.xt = true;
	for (unsigned i = 0; i < nunits; i++) {
		if ((err = unit_probe(&units[i], &efr_reg[i])))
			goto fail;
		ir.on &= ivhd_names_ioapic(&units[i].ivhd, -1);
		ir.ga &= !!(units[i].efr & AMDVI_EFR_GA);
		ir.xt &= !!(units[i].efr & AMDVI_EFR_XT);
	}
	ir.ga &= ir.on;
	ir.xt &= ir.ga;
	for (unsigned i = 0; i < nunits; i++) {
		/* 4 levels is the least any HATS value allows (3.4.5), so
		 * every unit walks the same tables. */
		if ((err = unit_init(&units[i], efr_reg[i])))
			goto fail;
	}
	if (ir.on)
		pr_info("amdvi: interrupt remapping on, %u entries per device (%s), every other "
			"interrupt aborted\n", AMDVI_IRT_ENTRIES,
			ir.xt ? "128-bit, x2APIC destinations" :
			ir.ga ? "128-bit, 8-bit APIC IDs" : "32-bit, 8-bit APIC IDs");
	else
		pr_warn("amdvi: interrupt remapping off (an IVHD names no IOAPIC): devices get no MSI or INTx\n");
	return 0;

fail:
	for (unsigned i = 0; i < nunits; i++)
		unit_disable(&units[i]);
	pr_err("amdvi: init failed (%d): every unit left disabled\n", err);
	nunits = 0;
	ir.on = false;
	return err;
}

/* ---- the ops -------------------------------------------------------------- */

static const struct pt_format *amdvi_format(void)
{
	return &amdvi_pt_format;
}

/* The IOMMU snoops its table walks (the Coherent control bit covers the
 * device table; I/O page-table reads are coherent, 2.2.3): no sync. */
static const struct pt_mem *amdvi_mem(void)
{
	return &hv_pt_mem;
}

static bool amdvi_covers(const struct pci_func *f)
{
	for (unsigned k = 0; k < nunits; k++) {
		const struct acpi_ivhd *h = &units[k].ivhd;

		if (unit_is_live(&units[k]) && h->segment == f->seg &&
		    (amdvi_ivhd_covers(h, f->rid) || amdvi_ivhd_covers(h, func_bdf(f))))
			return true;
	}
	return false;
}

static bool amdvi_is_unit(const struct pci_func *f)
{
	for (unsigned k = 0; k < nunits; k++)
		if (units[k].ivhd.segment == f->seg && units[k].ivhd.devid == func_bdf(f))
			return true;
	return false;
}

/*
 * Write one DTE while the IOMMU may read it. The two quadwords that
 * change are written so that any mix of old and new either blocks or is
 * the old translation: attaching, the DomainID goes first (the old
 * quadword 0 still has IR=IW=0); detaching, quadword 0 (IR=IW=0) first.
 */
static void dte_write(struct amdvi_dte *slot, struct amdvi_dte v, bool q0_first)
{
	volatile uint64_t *q = slot->q;

	q[2] = v.q[2];
	q[3] = v.q[3];
	if (q0_first) {
		q[0] = v.q[0];
		q[1] = v.q[1];
	} else {
		q[1] = v.q[1];
		q[0] = v.q[0];
	}
	__asm__ __volatile__("" ::: "memory");
}

/* What a flush invalidates for each of its device IDs, besides the wait. */
#define FLUSH_DTE	1u	/* the device table entry */
#define FLUSH_IRT	2u	/* its interrupt table */

/* Invalidate `ids` (what `what` says), then domain `domid` unless it is 0,
 * on every live unit of `seg` (they share the device table), and wait.
 * Caller holds cmd_lock. */
static int flush_ids(uint16_t seg, const uint16_t *ids, unsigned nids, unsigned what,
		     uint16_t domid)
{
	int ret = 0;

	for (unsigned k = 0; k < nunits; k++) {
		struct amdvi_unit *u = &units[k];
		int err = 0;

		if (!unit_is_live(u) || u->ivhd.segment != seg)
			continue;
		for (unsigned i = 0; i < nids && !err; i++) {
			if (what & FLUSH_DTE)
				err = cmd_queue(u, amdvi_cmd_inv_devtab_entry(ids[i]));
			if (!err && (what & FLUSH_IRT))
				err = cmd_queue(u, amdvi_cmd_inv_int_table(ids[i]));
		}
		if (!err && domid)
			err = cmd_queue(u, amdvi_cmd_inv_domain(domid));
		if (!err)
			err = cmd_wait(u);
		if (err && !ret)
			ret = err;
	}
	return ret;
}

static struct amdvi_dte *seg_devtab(uint16_t seg)
{
	for (unsigned k = 0; k < nunits; k++)
		if (unit_is_live(&units[k]) && units[k].ivhd.segment == seg)
			return units[k].dt;
	return NULL;
}

static int amdvi_attach(struct iommu_domain *d, const struct pci_func *f)
{
	uint16_t ids[4];
	unsigned n = func_devids(f, ids);
	struct amdvi_dte *dt = seg_devtab(f->seg);
	int err;

	if (!dt || !amdvi_covers(f))
		return trace_error(-ENODEV);
	if (!d->id || !d->pt.root || d->pt.fmt != &amdvi_pt_format)
		return trace_error(-EINVAL);
	struct amdvi_dte v = amdvi_dte_translated(d->pt.root, AMDVI_LEVELS, d->id);
	spin_lock(&cmd_lock);
	for (unsigned i = 0; i < n; i++) {
		v.q[2] = dt[ids[i]].q[2];	/* its interrupts stay as they are */
		dte_write(&dt[ids[i]], v, false);
	}
	err = flush_ids(f->seg, ids, n, FLUSH_DTE, d->id);
	spin_unlock(&cmd_lock);
	return err;
}

static void amdvi_detach(struct iommu_domain *d, const struct pci_func *f)
{
	uint16_t ids[4];
	unsigned n = func_devids(f, ids);
	struct amdvi_dte *dt = seg_devtab(f->seg);

	if (!dt)
		return;
	struct amdvi_dte v = amdvi_dte_blocked(empty_root, AMDVI_LEVELS);
	spin_lock(&cmd_lock);
	for (unsigned i = 0; i < n; i++) {
		v.q[2] = dt[ids[i]].q[2];
		dte_write(&dt[ids[i]], v, true);
	}
	if (flush_ids(f->seg, ids, n, FLUSH_DTE, d->id))
		pr_err("amdvi: detach of device %04x: invalidation did not complete\n",
		       f->rid);
	spin_unlock(&cmd_lock);
}

static void amdvi_flush(struct iommu_domain *d)
{
	spin_lock(&cmd_lock);
	for (unsigned k = 0; k < nunits; k++) {
		struct amdvi_unit *u = &units[k];

		if (!unit_is_live(u))
			continue;
		if (!cmd_queue(u, amdvi_cmd_inv_domain(d->id)))
			(void)cmd_wait(u);
	}
	spin_unlock(&cmd_lock);
}

static unsigned amdvi_reserved(const struct pci_func *f,
			       void (*fn)(void *ctx, uint64_t base, uint64_t end), void *ctx)
{
	unsigned n = 0;

	/* IVMDs carry no segment (5.2.2.3): a match on the device ID is
	 * enough, erring towards keeping firmware memory mapped. */
	for (unsigned i = 0; i < nivmds; i++) {
		const struct acpi_ivmd *m = &ivmds[i];

		if (!amdvi_ivmd_applies(m, f->rid) && !amdvi_ivmd_applies(m, func_bdf(f)))
			continue;
		fn(ctx, m->base & ~(AMDVI_PAGE - 1), (m->end + AMDVI_PAGE - 1) & ~(AMDVI_PAGE - 1));
		n++;
	}
	return n;
}

/* ---- interrupt remapping -------------------------------------------------- */

static bool amdvi_ir_on(void)
{
	return ir.on && nunits;
}

static bool amdvi_ir_x2apic(void)
{
	return amdvi_ir_on() && ir.xt;
}

static struct amdvi_irt *irt_find(uint16_t seg, uint16_t rid)
{
	for (unsigned i = 0; i < ir.nirt; i++)
		if (ir.irt[i].seg == seg && ir.irt[i].rid == rid)
			return &ir.irt[i];
	return NULL;
}

/* The device IDs rid's messages may carry (its aliases too). */
static unsigned rid_devids(uint16_t seg, uint16_t rid, uint16_t ids[4])
{
	const struct pci_func *f = pci_find_rid(seg, rid);

	if (f)
		return func_devids(f, ids);
	ids[0] = rid;
	return 1;
}

/* The interrupt table of rid's device IDs changed (or their DTEs did):
 * invalidate on every live unit of the segment and wait. Caller holds
 * cmd_lock. */
static int irt_flush(uint16_t seg, uint16_t rid, bool dte)
{
	uint16_t ids[4];
	unsigned n = rid_devids(seg, rid, ids);

	return flush_ids(seg, ids, n, FLUSH_IRT | (dte ? FLUSH_DTE : 0), 0);
}

/* rid's table, made (and its DTEs pointed at it) on first use. Caller
 * holds cmd_lock. */
static struct amdvi_irt *irt_get(uint16_t seg, uint16_t rid)
{
	struct amdvi_irt *t = irt_find(seg, rid);
	struct amdvi_dte *dt = seg_devtab(seg);
	uint16_t ids[4];

	if (t || !dt || ir.nirt == AMDVI_IR_TABLES)
		return t;
	uint64_t pa = alloc_page();
	if (!pa)
		return NULL;
	memset((void *)(uintptr_t)pa, 0, AMDVI_PAGE);
	t = &ir.irt[ir.nirt++];
	*t = (struct amdvi_irt){ .seg = seg, .rid = rid, .table = (void *)(uintptr_t)pa };
	unsigned n = rid_devids(seg, rid, ids);
	for (unsigned i = 0; i < n; i++) {
		uint64_t q2 = dt[ids[i]].q[2];
		dt[ids[i]].q[2] = amdvi_dte_irq(pa, AMDVI_IRT_LOG2, AMDVI_INTCTL_REMAP,
						q2 & AMDVI_DTE2_NMI_PASS);
	}
	__asm__ __volatile__("" ::: "memory");
	if (irt_flush(seg, rid, true))
		pr_err("amdvi: device %04x: interrupt table invalidation did not complete\n", rid);
	return t;
}

static bool irt_used(const struct amdvi_irt *t, unsigned i)
{
	return t->used[i / 8] & (1u << (i % 8));
}

static int amdvi_irq_alloc(uint16_t seg, uint16_t rid, unsigned n)
{
	if (!amdvi_ir_on())
		return trace_error(-ENODEV);
	if (!n || n > 32 || (n & (n - 1)))
		return trace_error(-EINVAL);
	spin_lock(&cmd_lock);
	struct amdvi_irt *t = irt_get(seg, rid);
	int first = t ? iommu_take_aligned(t->used, AMDVI_IRT_ENTRIES, n) : -1;
	spin_unlock(&cmd_lock);
	if (!t) {
		pr_err("amdvi: device %04x: no interrupt remapping table (%u in use, or no memory)\n",
		       rid, ir.nirt);
		return trace_error(-ENOMEM);
	}
	return first < 0 ? trace_error(-ENOSPC) : first;
}

/* Write entry i of t: RemapEn last when making it valid, first when not. */
static void irte_write(struct amdvi_irt *t, unsigned i, const struct iommu_irq *irq)
{
	if (ir.ga) {
		volatile uint64_t *e = (volatile uint64_t *)t->table + 2 * i;
		if (irq) {
			struct amdvi_irte128 v = amdvi_irte128(irq->dest, irq->vector, irq->logical,
							       irq->lowest);
			e[0] = 0;
			__asm__ __volatile__("" ::: "memory");
			e[1] = v.hi;
			__asm__ __volatile__("" ::: "memory");
			e[0] = v.lo;
		} else {
			e[0] = 0;
			__asm__ __volatile__("" ::: "memory");
			e[1] = 0;
		}
	} else {
		volatile uint32_t *e = (volatile uint32_t *)t->table + i;
		*e = irq ? amdvi_irte32((uint8_t)irq->dest, irq->vector, irq->logical, irq->lowest) : 0;
	}
	__asm__ __volatile__("" ::: "memory");
}

static void amdvi_irq_free(uint16_t seg, uint16_t rid, unsigned index, unsigned n)
{
	if (!amdvi_ir_on())
		return;
	spin_lock(&cmd_lock);
	struct amdvi_irt *t = irt_find(seg, rid);
	for (unsigned i = index; t && i < index + n && i < AMDVI_IRT_ENTRIES; i++) {
		irte_write(t, i, NULL);
		t->used[i / 8] &= (uint8_t)~(1u << (i % 8));
	}
	if (t)
		irt_flush(seg, rid, false);
	spin_unlock(&cmd_lock);
}

static int amdvi_irq_set(uint16_t seg, uint16_t rid, unsigned index, const struct iommu_irq *irq)
{
	int err;

	if (!amdvi_ir_on())
		return trace_error(-ENODEV);
	if (irq && (irq->nmi || irq->level))
		return trace_error(-ENOTSUP);
	if (irq && irq->dest > 0xff && !ir.xt)
		return trace_error(-ERANGE);
	spin_lock(&cmd_lock);
	struct amdvi_irt *t = irt_find(seg, rid);
	if (!t || index >= AMDVI_IRT_ENTRIES || !irt_used(t, index)) {
		err = trace_error(-EINVAL);
	} else {
		irte_write(t, index, irq);
		err = irt_flush(seg, rid, false);
	}
	spin_unlock(&cmd_lock);
	return err;
}

/* MSI data 10:0 index the table (2.2.5.1); the address carries nothing. */
static void amdvi_irq_msi(uint16_t seg, uint16_t rid, unsigned index, struct iommu_msi *msg)
{
	(void)seg;
	(void)rid;
	msg->addr = 0xfee00000ull;
	msg->data = index & (AMDVI_IRT_ENTRIES - 1);
}

/* The console's NMI: the IOAPIC's DTE passes NMIs (set at init), so its
 * redirection entry is the plain one, delivery mode NMI. */
static int amdvi_ioapic_route(uint32_t ioapic_id, unsigned pin, const struct iommu_irq *irq,
			      uint64_t *rte)
{
	bool known = false;

	(void)pin;
	if (!amdvi_ir_on())
		return trace_error(-ENODEV);
	for (unsigned k = 0; k < nunits && !known; k++)
		known = ivhd_names_ioapic(&units[k].ivhd, (int)ioapic_id);
	if (!known)
		return -ENODEV;
	if (!irq->nmi)
		return -ENOTSUP;
	if (irq->dest > 0xff)
		return trace_error(-ERANGE);
	*rte = (uint64_t)irq->dest << 56 | 4u << 8;
	return 0;
}

/* ---- faults --------------------------------------------------------------- */

static void report_event(void *ctx, const struct amdvi_event *ev)
{
	struct amdvi_unit *u = ctx;

	if (ev->code == AMDVI_EVT_IO_PAGE_FAULT && (ev->flags & AMDVI_EVF_I)) {
		char what[40];
		hv_snprintf(what, sizeof(what), "message to 0x%llx", (unsigned long long)ev->addr);
		iommu_report_irq_fault(u->ivhd.segment, ev->devid, what);
		return;
	}
	if (amdvi_event_has_device(ev->code)) {
		iommu_report_fault(u->ivhd.segment, ev->devid, ev->addr, amdvi_event_what(ev));
		return;
	}
	if (u->unit_events++ < AMDVI_UNIT_EVENTS_SHOWN)
		pr_err("amdvi: unit %u: %s (code %u) at 0x%llx\n", unit_index(u),
		       amdvi_event_name(ev->code), ev->code, (unsigned long long)ev->addr);
}

static void amdvi_poll_faults(void)
{
	for (unsigned k = 0; k < nunits; k++) {
		struct amdvi_unit *u = &units[k];

		if (!u->enabled)
			continue;
		uint64_t sts = reg_read(u, AMDVI_REG_STATUS);
		/* Clear the interrupt first: an event logged after the drain
		 * raises it again. */
		reg_write(u, AMDVI_REG_STATUS, sts & (AMDVI_STS_EVT_INT | AMDVI_STS_COMWAIT_INT));
		uint32_t head = (uint32_t)(reg_read(u, AMDVI_REG_EVT_HEAD) & AMDVI_RING_PTR_MASK);
		uint32_t tail = (uint32_t)(reg_read(u, AMDVI_REG_EVT_TAIL) & AMDVI_RING_PTR_MASK);
		if (amdvi_evtlog_drain(u->evt, AMDVI_EVT_BYTES, &head, tail, report_event, u))
			reg_write(u, AMDVI_REG_EVT_HEAD, head);
		if (sts & AMDVI_STS_EVT_OVERFLOW) {
			/* 3.4.10: logging stopped; restart it with the log
			 * drained (EventLogEn off, clear, on). */
			uint64_t ctl = reg_read(u, AMDVI_REG_CONTROL);
			pr_err("amdvi: unit %u: event log overflowed: events were lost\n", k);
			reg_write(u, AMDVI_REG_CONTROL, ctl & ~AMDVI_CTL_EVTLOG_EN);
			uint64_t end = tsc_deadline_us(AMDVI_WAIT_US);
			while ((reg_read(u, AMDVI_REG_STATUS) & AMDVI_STS_EVT_RUN) && rdtsc() < end)
				cpu_relax();
			reg_write(u, AMDVI_REG_STATUS, AMDVI_STS_EVT_OVERFLOW);
			reg_write(u, AMDVI_REG_CONTROL, ctl | AMDVI_CTL_EVTLOG_EN);
		}
	}
}

const struct iommu_ops amdvi_ops = {
	.name = "AMD-Vi",
	.init = amdvi_init,
	.pt_format = amdvi_format,
	.pt_mem = amdvi_mem,
	.covers = amdvi_covers,
	.is_unit = amdvi_is_unit,
	.attach = amdvi_attach,
	.detach = amdvi_detach,
	.flush = amdvi_flush,
	.reserved = amdvi_reserved,
	.poll_faults = amdvi_poll_faults,
	.ir_on = amdvi_ir_on,
	.ir_x2apic = amdvi_ir_x2apic,
	.irq_alloc = amdvi_irq_alloc,
	.irq_free = amdvi_irq_free,
	.irq_set = amdvi_irq_set,
	.irq_msi = amdvi_irq_msi,
	.ioapic_route = amdvi_ioapic_route,
};
