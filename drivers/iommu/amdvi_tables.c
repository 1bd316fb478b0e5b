/* AMD-Vi in-memory encodings; see amdvi_tables.h. Section numbers: 48882. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/iommu/amdvi_tables.h"
#include "kernel/acpi.h"

unsigned amdvi_efr_max_levels(uint64_t efr)
{
	unsigned hats = (unsigned)(efr >> AMDVI_EFR_HATS_SHIFT) & 3;

	return hats == 3 ? 4 : 4 + hats;	/* 3.4.5: HATS */
}

uint64_t amdvi_reg_devtab(uint64_t phys, unsigned pages)
{
	/* 3.4.1: Size is the table length in 4 KiB units minus one. */
	return (phys & AMDVI_DTE_ROOT) | ((uint64_t)(pages - 1) & 0x1ff);
}

uint64_t amdvi_reg_ring(uint64_t phys, unsigned len_log2)
{
	/* 3.4.2 / 3.4.4: ComLen / EventLen, 1000b (256 entries) .. 1111b. */
	return (phys & AMDVI_PTE_ADDR) | ((uint64_t)(len_log2 & 0xf) << 56);
}

/* ---- I/O page tables ------------------------------------------------------ */

/* 2.2.3, table "I/O page table entry": FC (bit 60) makes the IOMMU mark a
 * device's accesses coherent even when it asked for no-snoop: domain RAM
 * is mapped write-back in its EPT/NPT, so its DMA must snoop too. */
#define AMDVI_PTE_FC	(1ull << 60)

static bool amdvi_pte_present(uint64_t pte)
{
	return pte & AMDVI_PTE_PR;
}

/* NextLevel 0: a page at the size of this level (4 KiB, 2 MiB, 1 GiB);
 * 7: a page whose size the address bits encode (2.2.3.2). The engine only
 * ever writes 0, but 7 is a leaf to the hardware all the same. */
static bool amdvi_pte_is_leaf(uint64_t pte, unsigned level)
{
	uint64_t next = (pte & AMDVI_PTE_NEXT_MASK) >> AMDVI_PTE_NEXT_SHIFT;

	(void)level;
	return next == 0 || next == 7;
}

/* A table entry records the level of the table it points to. The IOMMU
 * ANDs IR/IW down the walk, so table entries grant both and the leaf
 * decides. */
static uint64_t amdvi_pte_make_table(uint64_t phys, unsigned level)
{
	return (phys & AMDVI_PTE_ADDR) | AMDVI_PTE_PR | AMDVI_PTE_IR | AMDVI_PTE_IW |
	       ((uint64_t)(level - 1) << AMDVI_PTE_NEXT_SHIFT);
}

static uint64_t amdvi_pte_make_leaf(uint64_t phys, unsigned level, unsigned flags)
{
	uint64_t pte = (phys & AMDVI_PTE_ADDR) | AMDVI_PTE_PR | AMDVI_PTE_FC;

	(void)level;
	if (flags & PT_READ)
		pte |= AMDVI_PTE_IR;
	if (flags & PT_WRITE)
		pte |= AMDVI_PTE_IW;
	return pte;	/* no execute, user, global or UC: the walker refuses those */
}

static unsigned amdvi_pte_leaf_flags(uint64_t pte, unsigned level)
{
	(void)level;
	return (pte & AMDVI_PTE_IR ? PT_READ : 0) | (pte & AMDVI_PTE_IW ? PT_WRITE : 0);
}

const struct pt_format amdvi_pt_format = {
	.name = "AMD-Vi I/O 4-level",
	.levels = 4,
	.max_leaf_level = 3,
	.addr_mask = AMDVI_PTE_ADDR,
	.present = amdvi_pte_present,
	.is_leaf = amdvi_pte_is_leaf,
	.make_table = amdvi_pte_make_table,
	.make_leaf = amdvi_pte_make_leaf,
	.leaf_flags = amdvi_pte_leaf_flags,
};

/* ---- Device table --------------------------------------------------------- */

struct amdvi_dte amdvi_dte_blocked(uint64_t empty_root, unsigned levels)
{
	struct amdvi_dte d = { { 0, 0, 0, 0 } };

	d.q[0] = AMDVI_DTE_V | AMDVI_DTE_TV | ((uint64_t)levels << AMDVI_DTE_MODE_SHIFT) |
		 (empty_root & AMDVI_DTE_ROOT);
	return d;
}

struct amdvi_dte amdvi_dte_translated(uint64_t root, unsigned levels, uint16_t domid)
{
	struct amdvi_dte d = { { 0, 0, 0, 0 } };

	d.q[0] = AMDVI_DTE_V | AMDVI_DTE_TV | ((uint64_t)levels << AMDVI_DTE_MODE_SHIFT) |
		 (root & AMDVI_DTE_ROOT) | AMDVI_DTE_IR | AMDVI_DTE_IW;
	d.q[1] = domid;
	return d;
}

uint64_t amdvi_dte_irq(uint64_t table, unsigned len_log2, unsigned intctl, bool nmi_pass)
{
	return AMDVI_DTE2_IV | (uint64_t)(len_log2 & 0xf) << 1 | (table & AMDVI_DTE2_IRT_ROOT) |
	       (nmi_pass ? AMDVI_DTE2_NMI_PASS : 0) | (uint64_t)(intctl & 3) << 60;
}

uint32_t amdvi_irte32(uint8_t dest, uint8_t vector, bool logical, bool lowest)
{
	return 1u | (lowest ? 1u << 2 : 0) | (logical ? 1u << 6 : 0) | (uint32_t)dest << 8 |
	       (uint32_t)vector << 16;
}

struct amdvi_irte128 amdvi_irte128(uint32_t dest, uint8_t vector, bool logical, bool lowest)
{
	struct amdvi_irte128 e;

	e.lo = 1u | (lowest ? 1u << 2 : 0) | (logical ? 1u << 6 : 0) |
	       (uint64_t)(dest & 0xffffff) << 8;
	e.hi = vector | (uint64_t)(dest >> 24) << 56;
	return e;
}

/* ---- Commands ------------------------------------------------------------- */

#define AMDVI_CMD_OP(op) ((uint64_t)(op) << 60)	/* dword 1, bits 31:28 */

struct amdvi_cmd amdvi_cmd_completion_wait(uint64_t store_phys, uint64_t data)
{
	/* 2.4.1: dword 0 bit 0 S (store), bits 31:3 and dword 1 bits 19:0
	 * the store address 51:3; dwords 2-3 the data. */
	struct amdvi_cmd c = { { 0, 0 } };

	c.q[0] = (store_phys & 0x000ffffffffffff8ull) | 1u | AMDVI_CMD_OP(AMDVI_CMD_COMPLETION_WAIT);
	c.q[1] = data;
	return c;
}

struct amdvi_cmd amdvi_cmd_inv_devtab_entry(uint16_t devid)
{
	struct amdvi_cmd c = { { 0, 0 } };

	c.q[0] = devid | AMDVI_CMD_OP(AMDVI_CMD_INV_DEVTAB_ENTRY);	/* 2.4.2 */
	return c;
}

struct amdvi_cmd amdvi_cmd_inv_int_table(uint16_t devid)
{
	struct amdvi_cmd c = { { 0, 0 } };

	c.q[0] = devid | AMDVI_CMD_OP(AMDVI_CMD_INV_INT_TABLE);	/* 2.4.5 */
	return c;
}

struct amdvi_cmd amdvi_cmd_inv_domain(uint16_t domid)
{
	/* 2.4.3: DomainID in dword 1 bits 15:0; dword 2 bit 0 S, bit 1 PDE;
	 * with S=1 the lowest zero address bit gives the size: all of
	 * 12..62 set means the whole address space. */
	struct amdvi_cmd c = { { 0, 0 } };

	c.q[0] = ((uint64_t)domid << 32) | AMDVI_CMD_OP(AMDVI_CMD_INV_IOMMU_PAGES);
	c.q[1] = 0x7ffffffffffff000ull | 2u | 1u;
	return c;
}

struct amdvi_cmd amdvi_cmd_inv_all(void)
{
	struct amdvi_cmd c = { { AMDVI_CMD_OP(AMDVI_CMD_INV_IOMMU_ALL), 0 } };	/* 2.4.9 */

	return c;
}

/* ---- Event log ------------------------------------------------------------ */

struct amdvi_event amdvi_event_decode(const uint64_t e[2])
{
	/* 2.5: dword 0 bits 15:0 DeviceID; dword 1 bits 15:0 DomainID (or
	 * PASID), 27:16 flags, 31:28 EventCode; dwords 2-3 the address. */
	struct amdvi_event ev;

	ev.devid = (uint16_t)e[0];
	ev.domid = (uint16_t)(e[0] >> 32);
	ev.flags = (unsigned)(e[0] >> 48) & 0xfff;
	ev.code = (unsigned)(e[0] >> 60) & 0xf;
	ev.addr = e[1];
	return ev;
}

static const char *const amdvi_event_names[] = {
	[AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY] = "ILLEGAL_DEV_TABLE_ENTRY",
	[AMDVI_EVT_IO_PAGE_FAULT] = "IO_PAGE_FAULT",
	[AMDVI_EVT_DEV_TAB_HW_ERROR] = "DEV_TAB_HARDWARE_ERROR",
	[AMDVI_EVT_PAGE_TAB_HW_ERROR] = "PAGE_TAB_HARDWARE_ERROR",
	[AMDVI_EVT_ILLEGAL_COMMAND] = "ILLEGAL_COMMAND_ERROR",
	[AMDVI_EVT_COMMAND_HW_ERROR] = "COMMAND_HARDWARE_ERROR",
	[AMDVI_EVT_IOTLB_INV_TIMEOUT] = "IOTLB_INV_TIMEOUT",
	[AMDVI_EVT_INVALID_DEV_REQUEST] = "INVALID_DEVICE_REQUEST",
};

const char *amdvi_event_name(unsigned code)
{
	if (code < sizeof(amdvi_event_names) / sizeof(amdvi_event_names[0]) &&
	    amdvi_event_names[code])
		return amdvi_event_names[code];
	return "event";
}

bool amdvi_event_has_device(unsigned code)
{
	switch (code) {
	case AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY:
	case AMDVI_EVT_IO_PAGE_FAULT:
	case AMDVI_EVT_DEV_TAB_HW_ERROR:
	case AMDVI_EVT_PAGE_TAB_HW_ERROR:
	case AMDVI_EVT_IOTLB_INV_TIMEOUT:
	case AMDVI_EVT_INVALID_DEV_REQUEST:
		return true;
	default:
		return false;	/* command errors name a command, not a device */
	}
}

const char *amdvi_event_what(const struct amdvi_event *ev)
{
	if (ev->code != AMDVI_EVT_IO_PAGE_FAULT)
		return amdvi_event_name(ev->code);
	if (ev->flags & AMDVI_EVF_I)
		return "interrupt";
	return ev->flags & AMDVI_EVF_RW ? "write" : "read";
}

unsigned amdvi_evtlog_drain(uint64_t *log, uint32_t bytes, uint32_t *head, uint32_t tail,
			    void (*fn)(void *ctx, const struct amdvi_event *ev), void *ctx)
{
	uint32_t h = *head;
	unsigned n = 0, max = bytes / AMDVI_EVT_SIZE;

	if (!max)
		return 0;
	h = (h % bytes) & ~(AMDVI_EVT_SIZE - 1);
	tail = (tail % bytes) & ~(AMDVI_EVT_SIZE - 1);
	while (h != tail && n < max) {
		volatile uint64_t *e = log + h / sizeof(uint64_t);
		uint64_t raw[2] = { e[0], e[1] };
		struct amdvi_event ev = amdvi_event_decode(raw);

		e[0] = 0;
		e[1] = 0;
		fn(ctx, &ev);
		n++;
		h = (h + AMDVI_EVT_SIZE) % bytes;
	}
	*head = h;
	return n;
}

/* ---- IVRS ----------------------------------------------------------------- */

bool amdvi_ivhd_covers(const struct acpi_ivhd *h, uint16_t devid)
{
	for (uint32_t i = 0; i < h->nranges && i < ACPI_MAX_SCOPES; i++)
		if (devid >= h->ranges[i].first && devid <= h->ranges[i].last)
			return true;
	return false;
}

bool amdvi_ivhd_alias(const struct acpi_ivhd *h, uint16_t devid, uint16_t *alias)
{
	for (uint32_t i = 0; i < h->nranges && i < ACPI_MAX_SCOPES; i++) {
		const struct acpi_ivhd_range *r = &h->ranges[i];

		if (r->has_alias && devid >= r->first && devid <= r->last) {
			*alias = r->alias;
			return true;
		}
	}
	return false;
}

bool amdvi_ivmd_applies(const struct acpi_ivmd *m, uint16_t devid)
{
	/* 5.2.2.3: an exclusion range is memory the device reaches
	 * untranslated; this driver never programs the exclusion registers,
	 * so it is kept reachable the unity way instead. */
	if (!(m->flags & (ACPI_IVMD_UNITY | ACPI_IVMD_EXCL)) || m->end <= m->base)
		return false;
	if (m->type == 0x20)
		return true;
	return devid >= m->first && devid <= m->last;
}
