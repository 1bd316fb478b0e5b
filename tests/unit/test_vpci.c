/*
 * A domain's virtual PCI bus (vmm/dev/vpci.c) over fake host functions: the
 * test provides drivers/pci.h's pci_read, pci_write and pci_flr on a
 * fake configuration space per function (each byte with its writable and
 * write-1-to-clear bits), and checks what the guest sees against vpci.h's
 * description, register by register, and what reaches the host.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/host_stubs.h"
#include "drivers/iommu/iommu.h"
#include "vmm/dev/legacy.h"
#include "vmm/dev/vpci.h"

/* ---- fake host functions -------------------------------------------- */

struct host {
	struct pci_func f;	/* first: pci_read's argument is its address */
	uint8_t cfg[4096];
	uint8_t wmask[4096];	/* read-write bits */
	uint8_t w1c[4096];	/* write-1-to-clear bits */
	unsigned writes;	/* pci_write calls */
	unsigned bar_writes;	/* ... to a BAR or the ROM BAR */
	unsigned flrs;		/* pci_flr calls */
	unsigned last_off, last_size;
	uint32_t last_val;
};

#define MAX_HOSTS 8
static struct host *hosts[MAX_HOSTS];
static unsigned nhosts;

static struct host *host_of(const struct pci_func *f)
{
	for (unsigned i = 0; i < nhosts; i++)
		if (&hosts[i]->f == f)
			return hosts[i];
	fail_msg("access to a function that is not a fake host");
	return NULL;
}

static uint32_t get(const uint8_t *p, unsigned off, unsigned size)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)p[off + i] << (8 * i);
	return v;
}

static void put(uint8_t *p, unsigned off, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

uint32_t pci_read(const struct pci_func *f, unsigned off, unsigned size)
{
	struct host *h = host_of(f);
	assert_true(size == 1 || size == 2 || size == 4);
	assert_int_equal(off & (size - 1), 0);
	assert_true(off < 4096);
	return get(h->cfg, off, size);
}

void pci_write(const struct pci_func *f, unsigned off, unsigned size, uint32_t val)
{
	struct host *h = host_of(f);
	assert_true(size == 1 || size == 2 || size == 4);
	assert_int_equal(off & (size - 1), 0);
	assert_true(off < 4096);
	h->writes++;
	h->last_off = off;
	h->last_size = size;
	h->last_val = val;
	if ((off >= PCI_BAR0 && off < 0x28) || (off >= PCI_ROM_TYPE0 && off < PCI_ROM_TYPE0 + 4))
		h->bar_writes++;
	for (unsigned i = 0; i < size; i++) {
		uint8_t v = (uint8_t)(val >> (8 * i)), *c = &h->cfg[off + i];
		*c = (uint8_t)((*c & ~h->wmask[off + i]) | (v & h->wmask[off + i]));
		*c = (uint8_t)(*c & ~(v & h->w1c[off + i]));
	}
}

/* As drivers/pci.c: the reset leaves decoding off, the BARs put back. */
bool pci_flr(struct pci_func *f)
{
	struct host *h = host_of(f);
	h->flrs++;
	if (!f->flr)
		return false;
	put(h->cfg, PCI_COMMAND, 2, 0);
	return true;
}

/* vmsi.c's remapping calls: these tests show no MSI, so none is made. */
int iommu_irq_alloc(uint16_t seg, uint16_t rid, unsigned n)
{
	(void)seg, (void)rid, (void)n;
	fail_msg("remapping entry taken with MSI hidden");
	return -1;
}

void iommu_irq_free(uint16_t seg, uint16_t rid, unsigned index, unsigned n)
{
	(void)seg, (void)rid, (void)index, (void)n;
}

int iommu_irq_set(uint16_t seg, uint16_t rid, unsigned index, const struct iommu_irq *irq)
{
	(void)seg, (void)rid, (void)index, (void)irq;
	return 0;
}

void iommu_irq_msi(uint16_t seg, uint16_t rid, unsigned index, struct iommu_msi *msg)
{
	(void)seg, (void)rid, (void)index;
	*msg = (struct iommu_msi){ 0, 0 };
}

static struct host *host_new(uint8_t bus, uint8_t devfn)
{
	assert_true(nhosts < MAX_HOSTS);
	struct host *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	hosts[nhosts++] = h;
	h->f.bus = bus;
	h->f.devfn = devfn;
	return h;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < nhosts; i++)
		free(hosts[i]);
	nhosts = 0;
	return 0;
}

/* Identity, as pci_enum would have found it. */
static void host_id(struct host *h, uint16_t vendor, uint16_t device, uint32_t class_code)
{
	h->f.vendor = vendor;
	h->f.device = device;
	h->f.class_code = class_code;
	h->f.revision = 0x05;
	h->f.nbars = 6;
	put(h->cfg, PCI_VENDOR_ID, 2, vendor);
	put(h->cfg, 0x02, 2, device);
	put(h->cfg, PCI_CLASS_REV, 4, class_code << 8 | 0x05);
	put(h->cfg, 0x0c, 4, 0x00800010);	/* BIST 0, header 0x80, latency 0, line size 0x10 */
	put(h->wmask, 0x0c, 2, 0xffff);
	put(h->cfg, 0x2c, 4, 0x11223344);	/* subsystem */
	put(h->cfg, PCI_COMMAND, 4, 0x00100006);
	put(h->wmask, PCI_COMMAND, 2, 0xffff);	/* the filtering is vpci's job */
	put(h->w1c, PCI_STATUS, 2, 0xf900);
	put(h->cfg, PCI_INTR_LINE, 4, 0x0000010b);	/* pin INTA, line 11 */
	put(h->wmask, PCI_INTR_LINE, 1, 0xff);
	put(h->cfg, PCI_ROM_TYPE0, 4, 0xfeb00001);
	put(h->wmask, PCI_ROM_TYPE0, 4, 0xffff0001);
}

static void host_bar(struct host *h, unsigned i, uint64_t base, uint64_t size, bool io, bool is64,
		     bool prefetch)
{
	struct pci_bar *b = &h->f.bar[i];
	b->base = base;
	b->size = size;
	b->io = io;
	b->is64 = is64;
	b->prefetch = prefetch;
	uint32_t flags = io ? 1u : (is64 ? 4u : 0u) | (prefetch ? 8u : 0u);
	uint64_t mask = ~(size - 1);
	put(h->cfg, PCI_BAR0 + 4 * i, 4, (uint32_t)base | flags);
	put(h->wmask, PCI_BAR0 + 4 * i, 4, (uint32_t)mask & (io ? ~3u : ~0xfu));
	if (is64) {
		put(h->cfg, PCI_BAR0 + 4 * i + 4, 4, (uint32_t)(base >> 32));
		put(h->wmask, PCI_BAR0 + 4 * i + 4, 4, (uint32_t)(mask >> 32));
	}
}

static void host_cap(struct host *h, uint8_t off, uint8_t id, uint8_t next)
{
	if (!(h->cfg[PCI_STATUS] & PCI_STATUS_CAPS)) {
		h->cfg[PCI_STATUS] |= PCI_STATUS_CAPS;
		h->cfg[PCI_CAP_PTR] = off;
	}
	h->cfg[off] = id;
	h->cfg[off + 1] = next;
}

/*
 * Function A, 00:03.0 on the host: 32-bit BAR0, 64-bit prefetchable
 * BAR1-2, nothing at BAR3, an I/O BAR4, nothing at BAR5; capabilities
 * PM 0x40 -> MSI 0x50 -> PCIe 0x70 (v2, FLR) -> MSI-X 0xb0, SR-IOV at 0x100.
 */
#define A_BAR0 0xfebc0000u
#define A_BAR1 0x3800000000ull
#define A_IO   0xc040u

static struct host *host_a(void)
{
	struct host *h = host_new(0, PCI_DEVFN(3, 0));
	host_id(h, 0x8086, 0x10d3, 0x020000);
	host_bar(h, 0, A_BAR0, 0x20000, false, false, false);
	host_bar(h, 1, A_BAR1, 0x1000000, false, true, true);
	host_bar(h, 4, A_IO, 0x20, true, false, false);

	host_cap(h, 0x40, PCI_CAP_PM, 0x50);
	put(h->cfg, 0x42, 2, 0xc823);		/* PMC */
	put(h->cfg, 0x44, 2, 0x0008);		/* PMCSR: no soft reset, D0 */
	put(h->wmask, 0x44, 2, 0x0103);		/* PME enable, power state */
	put(h->w1c, 0x44, 2, 0x8000);		/* PME status */
	h->f.cap_pm = 0x40;

	host_cap(h, 0x50, PCI_CAP_MSI, 0x70);
	put(h->cfg, 0x52, 2, 0x0080);		/* 64-bit, disabled */
	put(h->wmask, 0x52, 2, 0x0071);
	put(h->cfg, 0x54, 4, 0xfee00000);
	put(h->wmask, 0x54, 4, 0xfffffffc);
	put(h->cfg, 0x5c, 2, 0x4041);
	h->f.cap_msi = 0x50;

	host_cap(h, 0x70, PCI_CAP_PCIE, 0xb0);
	put(h->cfg, 0x72, 2, 0x0002);		/* v2, endpoint */
	put(h->cfg, 0x74, 4, 1u << 28 | 0x8c0);	/* DevCap: FLR */
	put(h->cfg, 0x78, 2, 0x2810);		/* DevCtl */
	put(h->wmask, 0x78, 2, 0xffff);		/* FLR included: vpci must strip it */
	put(h->cfg, 0x7a, 2, 0x0005);		/* DevSta: correctable + unsupported req */
	put(h->w1c, 0x7a, 2, 0x000f);
	put(h->cfg, 0x7c, 4, 0x00437c11);	/* LinkCap */
	put(h->wmask, 0x80, 2, 0x0fff);		/* LinkCtl (link disable: bit 4) */
	put(h->cfg, 0x94, 4, 0x00000817);	/* DevCap2 */
	h->f.cap_pcie = 0x70;
	h->f.pcie_type = PCIE_TYPE_ENDPOINT;
	h->f.flr = true;

	host_cap(h, 0xb0, PCI_CAP_MSIX, 0x00);
	put(h->cfg, 0xb2, 2, 0x0004);
	put(h->wmask, 0xb2, 2, 0xc000);
	put(h->cfg, 0xb4, 4, 0x00000003);
	put(h->cfg, 0xb8, 4, 0x00002003);
	h->f.cap_msix = 0xb0;

	put(h->cfg, 0x100, 4, 0x00010010u | 0x140u << 20);	/* SR-IOV */
	put(h->cfg, 0x104, 4, 0xdeadbeef);
	put(h->wmask, 0x108, 2, 0xffff);
	h->f.cap_sriov = 0x100;
	return h;
}

static struct vpci bus;

/* The domain's bus with the given host functions. */
static void bus_init(unsigned n)
{
	struct pci_func *p[MAX_HOSTS];
	for (unsigned i = 0; i < n; i++)
		p[i] = &hosts[i]->f;
	vpci_init(&bus, p, n);
	assert_int_equal(bus.n, n);
}

static uint32_t rd_at(uint8_t b, uint8_t devfn, unsigned reg, unsigned size)
{
	uint32_t v = 0x5a5a5a5a;
	vpci_access(&bus, b, devfn, reg, size, false, &v);
	if (size < 4)
		assert_true(v < 1u << (8 * size));
	return v;
}

static void wr_at(uint8_t b, uint8_t devfn, unsigned reg, unsigned size, uint32_t v)
{
	vpci_access(&bus, b, devfn, reg, size, true, &v);
}

#define DEVFN_A PCI_DEVFN(3, 0)
static uint32_t rd(unsigned reg, unsigned size) { return rd_at(0, DEVFN_A, reg, size); }
static void wr(unsigned reg, unsigned size, uint32_t v) { wr_at(0, DEVFN_A, reg, size, v); }

/* ---- identity, BARs -------------------------------------------------- */

static void test_identity(void **state)
{
	(void)state;
	struct host *h = host_a();
	bus_init(1);
	assert_int_equal(rd(0x00, 4), 0x10d38086);
	assert_int_equal(rd(0x00, 2), 0x8086);
	assert_int_equal(rd(0x02, 2), 0x10d3);
	assert_int_equal(rd(0x01, 1), 0x80);
	assert_int_equal(rd(0x08, 4), 0x02000005);
	assert_int_equal(rd(0x0b, 1), 0x02);
	assert_int_equal(rd(0x0e, 1), 0x80);
	assert_int_equal(rd(0x0c, 4), 0x00800010);
	assert_int_equal(rd(0x2c, 4), 0x11223344);
	assert_int_equal(rd(0x2e, 2), 0x1122);
	/* Cache line size and latency timer are written through. */
	wr(0x0c, 1, 0x08);
	assert_int_equal(h->cfg[0x0c], 0x08);
	assert_int_equal(rd(0x0c, 1), 0x08);
	/* Identity is read-only (and the fake would take the write). */
	put(h->wmask, 0x00, 4, 0xffffffff);
	wr(0x00, 4, 0);
	wr(0x08, 4, 0);
	wr(0x2c, 4, 0);
	wr(0x0e, 1, 0);
	assert_int_equal(rd(0x00, 4), 0x10d38086);
	assert_int_equal(get(h->cfg, 0x2c, 4), 0x11223344);
	assert_int_equal(h->cfg[0x0e], 0x80);
	assert_int_equal(bus.refused, 0);
}

static void test_bar_read(void **state)
{
	(void)state;
	host_a();
	bus_init(1);
	assert_int_equal(rd(0x10, 4), A_BAR0);
	assert_int_equal(rd(0x14, 4), (uint32_t)A_BAR1 | 0xc);
	assert_int_equal(rd(0x18, 4), A_BAR1 >> 32);
	assert_int_equal(rd(0x1c, 4), 0);
	assert_int_equal(rd(0x20, 4), A_IO | 1);
	assert_int_equal(rd(0x24, 4), 0);
	assert_int_equal(rd(0x12, 2), A_BAR0 >> 16);
	assert_int_equal(rd(0x14, 1), 0x0c);
	assert_int_equal(rd(0x20, 2), A_IO | 1);
}

static void test_bar_sizing(void **state)
{
	(void)state;
	struct host *h = host_a();
	uint8_t before[0x40];
	memcpy(before, h->cfg, sizeof(before));
	bus_init(1);

	/* 32-bit memory */
	wr(0x10, 4, 0xffffffff);
	assert_int_equal(rd(0x10, 4), 0xfffe0000u);
	wr(0x10, 4, A_BAR0);
	assert_int_equal(rd(0x10, 4), A_BAR0);

	/* 64-bit prefetchable: both halves, as Linux does */
	wr(0x14, 4, 0xffffffff);
	wr(0x18, 4, 0xffffffff);
	assert_int_equal(rd(0x14, 4), 0xff00000cu);
	assert_int_equal(rd(0x18, 4), 0xffffffffu);
	wr(0x14, 4, (uint32_t)A_BAR1);
	assert_int_equal(rd(0x14, 4), (uint32_t)A_BAR1 | 0xc);
	assert_int_equal(rd(0x18, 4), 0xffffffffu);	/* still sizing */
	wr(0x18, 4, A_BAR1 >> 32);
	assert_int_equal(rd(0x18, 4), A_BAR1 >> 32);

	/* the upper half alone */
	wr(0x18, 4, 0xffffffff);
	assert_int_equal(rd(0x14, 4), (uint32_t)A_BAR1 | 0xc);
	assert_int_equal(rd(0x18, 4), 0xffffffffu);
	wr(0x18, 4, A_BAR1 >> 32);
	assert_int_equal(rd(0x18, 4), A_BAR1 >> 32);

	/* I/O */
	wr(0x20, 4, 0xffffffff);
	assert_int_equal(rd(0x20, 4), 0xffffffe1u);
	assert_int_equal(rd(0x20, 2), 0xffe1u);
	wr(0x20, 4, A_IO);
	assert_int_equal(rd(0x20, 4), A_IO | 1);

	/* not implemented: 0 whatever is written */
	wr(0x1c, 4, 0xffffffff);
	assert_int_equal(rd(0x1c, 4), 0);
	wr(0x24, 4, 0xffffffff);
	assert_int_equal(rd(0x24, 4), 0);

	/* flags bits left out of the all-ones pattern still size */
	wr(0x10, 4, 0xfffffff0);
	assert_int_equal(rd(0x10, 4), 0xfffe0000u);
	wr(0x10, 4, A_BAR0);

	/* Word writes, low half then high half. */
	wr(0x10, 2, 0xffff);
	assert_int_equal(rd(0x10, 4), A_BAR0);		/* only half of it: not sizing */
	wr(0x12, 2, 0xffff);
	assert_int_equal(rd(0x10, 4), 0xfffe0000u);
	wr(0x10, 4, A_BAR0);

	/* The host's BARs never moved, and the guest never wrote them. */
	assert_int_equal(h->bar_writes, 0);
	assert_memory_equal(h->cfg, before, sizeof(before));
}

/* A 64-bit BAR of 8 GiB: the low half has no address bit to size. */
static void test_bar_sizing_large(void **state)
{
	(void)state;
	struct host *h = host_new(0, PCI_DEVFN(7, 0));
	host_id(h, 0x10de, 0x2230, 0x030000);
	host_bar(h, 0, 0x4000000000ull, 0x200000000ull, false, true, true);
	bus_init(1);
	uint8_t d = PCI_DEVFN(7, 0);
	assert_int_equal(rd_at(0, d, 0x10, 4), 0x0000000c);
	assert_int_equal(rd_at(0, d, 0x14, 4), 0x40);
	wr_at(0, d, 0x10, 4, 0xffffffff);
	wr_at(0, d, 0x14, 4, 0xffffffff);
	assert_int_equal(rd_at(0, d, 0x10, 4), 0x0000000c);
	assert_int_equal(rd_at(0, d, 0x14, 4), 0xfffffffe);
	wr_at(0, d, 0x10, 4, 0);
	wr_at(0, d, 0x14, 4, 0x40);
	assert_int_equal(rd_at(0, d, 0x10, 4), 0x0000000c);
	assert_int_equal(rd_at(0, d, 0x14, 4), 0x40);
	assert_int_equal(h->bar_writes, 0);
}

static void test_bar_move_dropped(void **state)
{
	(void)state;
	struct host *h = host_a();
	bus_init(1);
	wr(0x10, 4, 0x80000000u);
	assert_int_equal(rd(0x10, 4), A_BAR0);
	wr(0x14, 4, 0xe0000000u);
	wr(0x18, 4, 0);
	assert_int_equal(rd(0x14, 4), (uint32_t)A_BAR1 | 0xc);
	assert_int_equal(rd(0x18, 4), A_BAR1 >> 32);
	wr(0x20, 4, 0x1000);
	assert_int_equal(rd(0x20, 4), A_IO | 1);
	/* sizing, then a different address: the base again */
	wr(0x10, 4, 0xffffffff);
	wr(0x10, 4, 0x12340000u);
	assert_int_equal(rd(0x10, 4), A_BAR0);
	assert_int_equal(h->bar_writes, 0);
	assert_int_equal(get(h->cfg, 0x10, 4), A_BAR0);
}

/* ---- command, status, ROM, interrupt ------------------------------------ */

#define CMD_PASSED 0x0547u

static void test_command(void **state)
{
	(void)state;
	struct host *h = host_a();
	bus_init(1);
	put(h->cfg, PCI_COMMAND, 2, 0x0018);	/* special cycles, MWI: the guest's not to touch */
	wr(PCI_COMMAND, 2, 0xffff);
	assert_int_equal(get(h->cfg, PCI_COMMAND, 2), 0x0018 | CMD_PASSED);
	assert_int_equal(rd(PCI_COMMAND, 2), 0x0018 | CMD_PASSED);
	wr(PCI_COMMAND, 2, 0);
	assert_int_equal(get(h->cfg, PCI_COMMAND, 2), 0x0018);
	wr(PCI_COMMAND, 2, PCI_CMD_MEMORY | PCI_CMD_MASTER | 0x0200 /* fast b2b */);
	assert_int_equal(get(h->cfg, PCI_COMMAND, 2), 0x0018 | PCI_CMD_MEMORY | PCI_CMD_MASTER);
	/* the high byte alone: INTx disable and SERR */
	wr(0x05, 1, 0xff);
	assert_int_equal(get(h->cfg, PCI_COMMAND, 2),
			 0x0018 | PCI_CMD_MEMORY | PCI_CMD_MASTER | 0x0500);
	wr(0x04, 1, 0x00);
	assert_int_equal(get(h->cfg, PCI_COMMAND, 2), 0x0018 | 0x0500);
	/* never a write to the status register with it */
	assert_true(h->last_off == PCI_COMMAND && h->last_size == 2);
}

static void test_status(void **state)
{
	(void)state;
	struct host *h = host_a();
	bus_init(1);
	put(h->cfg, PCI_STATUS, 2, 0x6010 | 0x0100);	/* master abort, SERR, caps, parity */
	assert_int_equal(rd(PCI_STATUS, 2), 0x6110);
	wr(PCI_STATUS, 2, 0x4000);
	assert_int_equal(get(h->cfg, PCI_STATUS, 2), 0x2110);
	/* Only the RW1C bits go to the host. */
	wr(PCI_STATUS, 2, 0xffff);
	assert_int_equal(get(h->cfg, PCI_STATUS, 2), 0x0010);
	assert_int_equal(h->last_off, PCI_STATUS);
	assert_int_equal(h->last_val & ~0xf900u, 0);
	/* A dword write: command and status at once. */
	put(h->cfg, PCI_STATUS, 2, 0x2010);
	wr(PCI_COMMAND, 4, 0x20000006);
	assert_int_equal(get(h->cfg, PCI_STATUS, 2), 0x0010);
	assert_int_equal(get(h->cfg, PCI_COMMAND, 2), 0x0006);
	/* The byte with the error bits. */
	put(h->cfg, PCI_STATUS, 2, 0x8010);
	wr(0x07, 1, 0x80);
	assert_int_equal(get(h->cfg, PCI_STATUS, 2), 0x0010);
	/* A command write leaves pending status bits alone. */
	put(h->cfg, PCI_STATUS, 2, 0x2010);
	wr(PCI_COMMAND, 2, 0x0006);
	assert_int_equal(get(h->cfg, PCI_STATUS, 2), 0x2010);
	/* The capabilities bit is the domain's list, not the host's. */
	put(h->cfg, PCI_STATUS, 2, 0x0000);
	assert_int_equal(rd(PCI_STATUS, 2), 0x0010);
}

static void test_rom_and_interrupt(void **state)
{
	(void)state;
	struct host *h = host_a();
	bus_init(1);
	assert_int_equal(rd(PCI_ROM_TYPE0, 4), 0);
	wr(PCI_ROM_TYPE0, 4, 0xffffffff);
	assert_int_equal(rd(PCI_ROM_TYPE0, 4), 0);
	wr(PCI_ROM_TYPE0, 4, 0xfeb00001);
	assert_int_equal(h->bar_writes, 0);
	assert_int_equal(get(h->cfg, PCI_ROM_TYPE0, 4), 0xfeb00001);
	assert_int_equal(rd(0x28, 4), 0);	/* CardBus CIS */

	assert_int_equal(rd(PCI_INTR_PIN, 1), 0);
	assert_int_equal(rd(PCI_INTR_LINE, 1), 0);
	wr(PCI_INTR_LINE, 1, 0x0a);
	assert_int_equal(rd(PCI_INTR_LINE, 1), 0x0a);
	assert_int_equal(rd(PCI_INTR_LINE, 2), 0x000a);
	wr(PCI_INTR_PIN, 1, 0x01);
	assert_int_equal(rd(PCI_INTR_PIN, 1), 0);
	assert_int_equal(rd(PCI_INTR_LINE, 1), 0x0a);
	wr(PCI_INTR_LINE, 4, 0xffffff05);
	assert_int_equal(rd(PCI_INTR_LINE, 4), 0x00000005);
	assert_int_equal(get(h->cfg, PCI_INTR_LINE, 2), 0x010b);	/* host untouched */
}

/* ---- capabilities -------------------------------------------------------- */

static void test_capability_list(void **state)
{
	(void)state;
	struct host *h = host_a();
	bus_init(1);
	assert_true(rd(PCI_STATUS, 2) & PCI_STATUS_CAPS);
	assert_int_equal(rd(PCI_CAP_PTR, 1), 0x40);
	assert_int_equal(rd(PCI_CAP_PTR, 4), 0x40);
	/* PM, then PCIe, past the hidden MSI */
	assert_int_equal(rd(0x40, 1), PCI_CAP_PM);
	assert_int_equal(rd(0x41, 1), 0x70);
	assert_int_equal(rd(0x40, 2), 0x7001);
	assert_int_equal(rd(0x40, 4), 0xc8237001);
	assert_int_equal(rd(0x42, 2), 0xc823);
	assert_int_equal(rd(0x44, 2), 0x0008);
	/* PCIe, the last: past the hidden MSI-X */
	assert_int_equal(rd(0x70, 1), PCI_CAP_PCIE);
	assert_int_equal(rd(0x71, 1), 0x00);
	assert_int_equal(rd(0x70, 4), 0x00020010);
	assert_int_equal(rd(0x74, 4), get(h->cfg, 0x74, 4));
	assert_int_equal(rd(0x78, 2), 0x2810);
	assert_int_equal(rd(0x7a, 2), 0x0005);
	assert_int_equal(rd(0x7c, 4), 0x00437c11);
	assert_int_equal(rd(0x94, 4), 0x00000817);

	/* Every byte of the hidden capabilities reads 0, in every size. */
	for (unsigned reg = 0x50; reg < 0x60; reg++)
		assert_int_equal(rd(reg, 1), 0);
	for (unsigned reg = 0xb0; reg < 0xbc; reg += 2)
		assert_int_equal(rd(reg, 2), 0);
	for (unsigned reg = 0xb0; reg < 0x100; reg += 4)
		assert_int_equal(rd(reg, 4), 0);
	for (unsigned reg = 0x48; reg < 0x70; reg += 4)
		assert_int_equal(rd(reg, 4), 0);
	/* Extended configuration space: nothing. */
	for (unsigned reg = 0x100; reg < 0x1000; reg += 4)
		assert_int_equal(rd(reg, 4), 0);
	assert_int_equal(rd(0x100, 2), 0);
	assert_int_equal(rd(0xfff, 1), 0);
	assert_int_equal(bus.refused, 0);
}

/*
 * Function B: a PCIe 1.x capability (20 bytes for an endpoint with a
 * link) at 0x60 followed right away by MSI at 0x74, then PM at 0x80. The
 * list starts with PCIe; the MSI bytes inside PCIe's 0x3c-byte v2 extent
 * still read 0.
 */
static void test_capability_order_and_short_pcie(void **state)
{
	(void)state;
	struct host *h = host_new(0, PCI_DEVFN(5, 0));
	host_id(h, 0x8086, 0x105e, 0x020000);
	host_cap(h, 0x60, PCI_CAP_PCIE, 0x74);
	put(h->cfg, 0x62, 2, 0x0001);		/* v1 */
	put(h->cfg, 0x68, 2, 0x2810);
	h->f.cap_pcie = 0x60;
	host_cap(h, 0x74, PCI_CAP_MSI, 0x80);
	put(h->cfg, 0x76, 2, 0x0080);
	put(h->cfg, 0x78, 4, 0xfee00000);
	put(h->cfg, 0x7c, 4, 0x12345678);
	h->f.cap_msi = 0x74;
	host_cap(h, 0x80, PCI_CAP_PM, 0x00);
	put(h->cfg, 0x82, 2, 0x0003);
	h->f.cap_pm = 0x80;
	bus_init(1);

	uint8_t d = PCI_DEVFN(5, 0);
	assert_int_equal(rd_at(0, d, PCI_CAP_PTR, 1), 0x60);
	assert_int_equal(rd_at(0, d, 0x60, 2), 0x8010);
	assert_int_equal(rd_at(0, d, 0x68, 2), 0x2810);
	assert_int_equal(rd_at(0, d, 0x80, 4), 0x00030001);
	for (unsigned reg = 0x74; reg < 0x80; reg++)
		assert_int_equal(rd_at(0, d, reg, 1), 0);
	for (unsigned reg = 0x88; reg < 0x100; reg += 4)
		assert_int_equal(rd_at(0, d, reg, 4), 0);
	/* Writes there stay off the host too. */
	put(h->wmask, 0x76, 2, 0xffff);
	wr_at(0, d, 0x74, 4, 0xffffffff);
	assert_int_equal(get(h->cfg, 0x76, 2), 0x0080);
}

/* A vendor-specific capability right after a short PCIe one: recorded in
 * the function's list, it ends the PCIe capability and stays hidden. */
static void test_vendor_cap_hidden(void **state)
{
	(void)state;
	struct host *h = host_new(0, PCI_DEVFN(7, 0));
	host_id(h, 0x8086, 0x105e, 0x020000);
	host_cap(h, 0x40, PCI_CAP_PCIE, 0x54);
	h->f.cap_pcie = 0x40;
	host_cap(h, 0x54, 0x09, 0x00);		/* vendor-specific */
	put(h->cfg, 0x58, 4, 0xdeadbeef);
	h->f.ncaps = 2;
	h->f.caps[0] = 0x40;
	h->f.caps[1] = 0x54;
	bus_init(1);
	uint8_t d = PCI_DEVFN(7, 0);
	assert_int_equal(rd_at(0, d, 0x40, 2), 0x0010);	/* next pointer: none visible */
	for (unsigned reg = 0x54; reg < 0x60; reg += 4)
		assert_int_equal(rd_at(0, d, reg, 4), 0);
}

/* No visible capability: the status bit is clear and the pointer 0. */
static void test_no_visible_capability(void **state)
{
	(void)state;
	struct host *h = host_new(0, PCI_DEVFN(6, 0));
	host_id(h, 0x1234, 0x11e8, 0x00ff00);
	host_cap(h, 0x40, PCI_CAP_MSI, 0);
	h->f.cap_msi = 0x40;
	bus_init(1);
	uint8_t d = PCI_DEVFN(6, 0);
	assert_false(rd_at(0, d, PCI_STATUS, 2) & PCI_STATUS_CAPS);
	assert_int_equal(rd_at(0, d, PCI_CAP_PTR, 1), 0);
	assert_int_equal(rd_at(0, d, 0x40, 4), 0);
}

static void test_pm_write(void **state)
{
	(void)state;
	struct host *h = host_a();
	bus_init(1);
	wr(0x44, 2, 0x0103);
	assert_int_equal(get(h->cfg, 0x44, 2), 0x010b);
	assert_int_equal(rd(0x44, 2), 0x010b);
	wr(0x44, 1, 0x00);
	assert_int_equal(get(h->cfg, 0x44, 2), 0x0108);
	/* PME status is RW1C on the host: passed. */
	put(h->cfg, 0x44, 2, 0x8108);
	wr(0x44, 2, 0x8000);
	assert_int_equal(get(h->cfg, 0x44, 2), 0x0008);
	/* The header and PMC are not written. */
	put(h->wmask, 0x40, 4, 0xffffffff);
	wr(0x40, 4, 0);
	assert_int_equal(get(h->cfg, 0x40, 4), 0xc8235001);
	/* The bridge extension/data bytes neither. */
	put(h->wmask, 0x46, 2, 0xffff);
	wr(0x46, 2, 0xffff);
	assert_int_equal(get(h->cfg, 0x46, 2), 0);
}

static void test_pcie_devctl_and_flr(void **state)
{
	(void)state;
	struct host *h = host_a();
	bus_init(1);
	wr(0x78, 2, 0x2830);
	assert_int_equal(get(h->cfg, 0x78, 2), 0x2830);
	assert_int_equal(h->flrs, 0);
	/* DevSta RW1C bits pass. */
	wr(0x7a, 2, 0x0001);
	assert_int_equal(get(h->cfg, 0x7a, 2), 0x0004);
	/* LinkCtl does not (it could take the link down). */
	wr(0x80, 2, 0x0010);
	assert_int_equal(get(h->cfg, 0x80, 2), 0);
	/* DevCap read-only. */
	put(h->wmask, 0x74, 4, 0xffffffff);
	wr(0x74, 4, 0);
	assert_int_equal(get(h->cfg, 0x74, 4), 1u << 28 | 0x8c0);

	/* Initiate FLR: the hypervisor does it; the bit never reaches the
	 * device; the BARs come back from sizing. */
	wr(0x10, 4, 0xffffffff);
	assert_int_equal(rd(0x10, 4), 0xfffe0000u);
	wr(0x78, 2, 0x8000 | 0x2810);
	assert_int_equal(h->flrs, 1);
	assert_int_equal(get(h->cfg, 0x78, 2), 0x2810);
	assert_int_equal(rd(0x10, 4), A_BAR0);
	assert_int_equal(get(h->cfg, PCI_COMMAND, 2), 0);	/* as the reset left it */
	/* The high byte alone, and a dword write with DevSta. */
	wr(0x79, 1, 0x80);
	assert_int_equal(h->flrs, 2);
	assert_int_equal(get(h->cfg, 0x78, 2), 0x0010);
	put(h->cfg, 0x7a, 2, 0x0004);
	wr(0x78, 4, 0x00048000 | 0x2810);
	assert_int_equal(h->flrs, 3);
	assert_int_equal(get(h->cfg, 0x78, 2), 0x2810);
	assert_int_equal(get(h->cfg, 0x7a, 2), 0x0000);
	/* Bit 7 of the low byte (Extended Tag Field Enable) is no FLR. */
	wr(0x78, 1, 0x80);
	assert_int_equal(h->flrs, 3);
}

/* A function without FLR: the bit is still stripped; pci_flr says no. */
static void test_flr_unsupported(void **state)
{
	(void)state;
	struct host *h = host_a();
	h->f.flr = false;
	put(h->cfg, 0x74, 4, 0x8c0);
	bus_init(1);
	wr(0x10, 4, 0xffffffff);
	wr(0x78, 2, 0x8000 | 0x2810);
	assert_int_equal(get(h->cfg, 0x78, 2), 0x2810);
	assert_true(h->flrs <= 1);
	assert_int_equal(get(h->cfg, PCI_COMMAND, 2), 0x0006);
	assert_int_equal(rd(0x10, 4), 0xfffe0000u);	/* nothing was reset */
}

static void test_hidden_writes_dropped(void **state)
{
	(void)state;
	struct host *h = host_a();
	bus_init(1);
	uint8_t before[4096];
	memcpy(before, h->cfg, sizeof(before));
	wr(0x52, 2, 0x0001);		/* MSI enable */
	wr(0x54, 4, 0xfee01000);
	wr(0xb2, 2, 0x8000);		/* MSI-X enable */
	wr(0x108, 2, 0x0009);		/* SR-IOV control: VF enable */
	wr(0x34, 1, 0x50);
	wr(0xfc, 4, 0xffffffff);
	assert_memory_equal(h->cfg, before, sizeof(before));
	assert_int_equal(h->writes, 0);
	assert_int_equal(bus.refused, 0);
}

/* ---- what is not the domain's ------------------------------------------ */

static void test_refused(void **state)
{
	(void)state;
	struct host *h = host_a();
	bus_init(1);
	uint64_t n = bus.refused;

	assert_int_equal(rd_at(0, PCI_DEVFN(4, 0), 0x00, 4), 0xffffffffu);
	assert_int_equal(rd_at(0, PCI_DEVFN(4, 0), 0x00, 2), 0xffffu);
	assert_int_equal(rd_at(0, PCI_DEVFN(4, 0), 0x0e, 1), 0xffu);
	assert_int_equal(rd_at(0, PCI_DEVFN(3, 1), 0x00, 4), 0xffffffffu);
	assert_int_equal(bus.refused, n + 4);
	/* Bus 1: nothing, even at the devfn the function has on bus 0. */
	assert_int_equal(rd_at(1, DEVFN_A, 0x00, 4), 0xffffffffu);
	assert_int_equal(rd_at(1, 0, 0x00, 2), 0xffffu);
	assert_int_equal(rd_at(0xff, DEVFN_A, 0x00, 1), 0xffu);
	assert_int_equal(bus.refused, n + 7);
	wr_at(0, PCI_DEVFN(4, 0), PCI_COMMAND, 2, 0x0006);
	wr_at(1, DEVFN_A, PCI_COMMAND, 2, 0x0000);
	assert_int_equal(bus.refused, n + 9);
	assert_int_equal(h->writes, 0);
	assert_null(vpci_find(&bus, 1, DEVFN_A));
	assert_null(vpci_find(&bus, 0, PCI_DEVFN(4, 0)));
	assert_ptr_equal(vpci_find(&bus, 0, DEVFN_A)->host, &h->f);
}

static void test_misaligned(void **state)
{
	(void)state;
	struct host *h = host_a();
	bus_init(1);
	static const struct { unsigned reg, size; } bad[] = {
		{ 0x01, 2 }, { 0x03, 2 }, { 0x02, 4 }, { 0x01, 4 }, { 0x00, 3 }, { 0x00, 8 },
		{ 0x00, 0 }, { 0x1000, 4 }, { 0xfff, 2 },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t n = bus.refused;
		uint32_t v = 0;
		vpci_access(&bus, 0, DEVFN_A, bad[i].reg, bad[i].size, false, &v);
		assert_int_equal(bus.refused, n + 1);
		if (bad[i].size && bad[i].size < 4)
			assert_int_equal(v & ((1u << (8 * bad[i].size)) - 1),
					 (1u << (8 * bad[i].size)) - 1);
		else
			assert_int_equal(v, 0xffffffffu);
		v = 0xffffffff;
		vpci_access(&bus, 0, DEVFN_A, bad[i].reg, bad[i].size, true, &v);
		assert_int_equal(bus.refused, n + 2);
	}
	assert_int_equal(h->writes, 0);
}

static void test_host_bridge(void **state)
{
	(void)state;
	host_a();
	bus_init(1);
	for (unsigned reg = 0; reg < 0x100; reg += 4)
		assert_int_equal(rd_at(0, 0, reg, 4), legacy_pci_bridge_read((uint8_t)reg));
	assert_int_equal(rd_at(0, 0, 0x00, 4), 0x00081b36);
	assert_int_equal(rd_at(0, 0, 0x02, 2), 0x0008);
	assert_int_equal(rd_at(0, 0, 0x0b, 1), 0x06);
	assert_int_equal(rd_at(0, 0, 0x0a, 2), 0x0600);
	assert_int_equal(rd_at(0, 0, 0x100, 4), 0);
	assert_int_equal(rd_at(0, 0, 0xffc, 4), 0);
	/* read-only */
	wr_at(0, 0, PCI_COMMAND, 2, 0x0007);
	wr_at(0, 0, 0x00, 4, 0);
	wr_at(0, 0, 0x10, 4, 0xffffffff);
	assert_int_equal(rd_at(0, 0, 0x00, 4), 0x00081b36);
	assert_int_equal(rd_at(0, 0, PCI_COMMAND, 2), legacy_pci_bridge_read(PCI_COMMAND) & 0xffff);
	assert_int_equal(rd_at(0, 0, 0x10, 4), legacy_pci_bridge_read(0x10));
	assert_int_equal(bus.refused, 0);
	/* Its other functions are nobody's. */
	assert_int_equal(rd_at(0, 1, 0x00, 4), 0xffffffffu);
	assert_int_equal(bus.refused, 1);
}

/* ---- numbering -------------------------------------------------------- */

static void test_numbering(void **state)
{
	(void)state;
	/* In the order of the configuration: one behind a bridge first. */
	struct host *b0 = host_new(1, PCI_DEVFN(0, 0));	/* root port's endpoint */
	struct host *a = host_new(0, PCI_DEVFN(0x1f, 3));	/* keeps 1f.3: slot 31 taken */
	struct host *b1 = host_new(1, PCI_DEVFN(0, 1));	/* the same device as b0 */
	struct host *c = host_new(2, PCI_DEVFN(0, 0));
	struct host *e = host_new(0, PCI_DEVFN(2, 0));
	struct host *g = host_new(3, PCI_DEVFN(4, 2));
	struct host *all[] = { b0, a, b1, c, e, g };
	for (unsigned i = 0; i < 6; i++)
		host_id(all[i], 0x8086, (uint16_t)i, 0x020000);
	bus_init(6);

	assert_int_equal(bus.funcs[0].devfn, PCI_DEVFN(30, 0));
	assert_int_equal(bus.funcs[1].devfn, PCI_DEVFN(31, 3));
	assert_int_equal(bus.funcs[2].devfn, PCI_DEVFN(30, 1));
	assert_int_equal(bus.funcs[3].devfn, PCI_DEVFN(29, 0));
	assert_int_equal(bus.funcs[4].devfn, PCI_DEVFN(2, 0));
	assert_int_equal(bus.funcs[5].devfn, PCI_DEVFN(28, 2));
	for (unsigned i = 0; i < 6; i++) {
		assert_ptr_equal(bus.funcs[i].host, &all[i]->f);
		assert_ptr_equal(vpci_find(&bus, 0, bus.funcs[i].devfn), &bus.funcs[i]);
	}
	/* Seen through the bus by the guest. */
	assert_int_equal(rd_at(0, PCI_DEVFN(30, 1), 0x02, 2), 2);
	assert_int_equal(rd_at(0, PCI_DEVFN(28, 2), 0x02, 2), 5);
	assert_int_equal(rd_at(0, PCI_DEVFN(0, 0), 0x00, 4), 0x00081b36);
	assert_int_equal(bus.refused, 0);
}

/* A function on bus 0 of another segment is renumbered too. */
static void test_numbering_segment(void **state)
{
	(void)state;
	struct host *a = host_new(0, PCI_DEVFN(31, 0));
	a->f.seg = 1;
	struct host *b = host_new(0, PCI_DEVFN(31, 0));
	host_id(a, 0x8086, 1, 0x020000);
	host_id(b, 0x8086, 2, 0x020000);
	bus_init(2);
	assert_int_equal(bus.funcs[0].devfn, PCI_DEVFN(30, 0));
	assert_int_equal(bus.funcs[1].devfn, PCI_DEVFN(31, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_identity, teardown),
		cmocka_unit_test_teardown(test_bar_read, teardown),
		cmocka_unit_test_teardown(test_bar_sizing, teardown),
		cmocka_unit_test_teardown(test_bar_sizing_large, teardown),
		cmocka_unit_test_teardown(test_bar_move_dropped, teardown),
		cmocka_unit_test_teardown(test_command, teardown),
		cmocka_unit_test_teardown(test_status, teardown),
		cmocka_unit_test_teardown(test_rom_and_interrupt, teardown),
		cmocka_unit_test_teardown(test_capability_list, teardown),
		cmocka_unit_test_teardown(test_capability_order_and_short_pcie, teardown),
		cmocka_unit_test_teardown(test_vendor_cap_hidden, teardown),
		cmocka_unit_test_teardown(test_no_visible_capability, teardown),
		cmocka_unit_test_teardown(test_pm_write, teardown),
		cmocka_unit_test_teardown(test_pcie_devctl_and_flr, teardown),
		cmocka_unit_test_teardown(test_flr_unsupported, teardown),
		cmocka_unit_test_teardown(test_hidden_writes_dropped, teardown),
		cmocka_unit_test_teardown(test_refused, teardown),
		cmocka_unit_test_teardown(test_misaligned, teardown),
		cmocka_unit_test_teardown(test_host_bridge, teardown),
		cmocka_unit_test_teardown(test_numbering, teardown),
		cmocka_unit_test_teardown(test_numbering_segment, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
