/*
 * PCI enumeration (drivers/pci_enum.c) over a fake configuration space:
 * one 4 KiB space per bus/devfn, each byte with a mask of the bits
 * software may write, so that BAR sizing reads back what hardware would
 * (PCI 3.0 6.2.5.1). Every BAR write is checked against the command
 * register: decoding must be off while a BAR holds all ones.
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

#include "drivers/pci_enum.h"
#include "kernel/errno.h"
#include "tests/unit/host_stubs.h"

struct fake_fn {
	uint8_t cfg[4096];
	uint8_t wmask[4096];	/* bits a write changes; the rest read-only */
};

struct fake_bus {
	struct fake_fn *fn[256][256];	/* bus, devfn; NULL: nothing answers */
	bool no_ext;		/* as mechanism #1: 0x100 and up read all ones */
	unsigned bar_writes;	/* writes to a BAR register */
	unsigned bar_writes_decoding;	/* ... while the command register decoded */
	unsigned reads;
};

static struct fake_bus *current;	/* freed by teardown, if a test fails too */

static struct fake_bus *bus_new(void)
{
	struct fake_bus *b = calloc(1, sizeof(*b));
	assert_non_null(b);
	current = b;
	return b;
}

static void bus_free(struct fake_bus *b)
{
	for (unsigned i = 0; i < 256; i++)
		for (unsigned j = 0; j < 256; j++)
			free(b->fn[i][j]);
	free(b);
	current = NULL;
}

static int teardown(void **state)
{
	(void)state;
	if (current)
		bus_free(current);
	return 0;
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

static bool is_bar(const struct fake_fn *f, unsigned off)
{
	unsigned end = (f->cfg[PCI_HEADER_TYPE] & 0x7f) == 0 ? 0x28 : 0x18;
	return off >= PCI_BAR0 && off < end;
}

static uint32_t fake_read(void *ctx, uint16_t seg, uint8_t bus, uint8_t devfn, unsigned off,
			  unsigned size)
{
	struct fake_bus *b = ctx;
	struct fake_fn *f = b->fn[bus][devfn];

	assert_int_equal(seg, 0);
	assert_true(size == 1 || size == 2 || size == 4);
	assert_int_equal(off & (size - 1), 0);
	assert_true(off < 4096);
	b->reads++;
	if (!f || (b->no_ext && off >= 0x100))
		return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	return get(f->cfg, off, size);
}

static void fake_write(void *ctx, uint16_t seg, uint8_t bus, uint8_t devfn, unsigned off,
		       unsigned size, uint32_t val)
{
	struct fake_bus *b = ctx;
	struct fake_fn *f = b->fn[bus][devfn];

	assert_int_equal(seg, 0);
	assert_true(size == 1 || size == 2 || size == 4);
	assert_int_equal(off & (size - 1), 0);
	if (!f)
		return;
	if (is_bar(f, off & ~3u)) {
		b->bar_writes++;
		if (get(f->cfg, PCI_COMMAND, 2) & (PCI_CMD_IO | PCI_CMD_MEMORY))
			b->bar_writes_decoding++;
	}
	for (unsigned i = 0; i < size; i++) {
		uint8_t m = f->wmask[off + i], v = (uint8_t)(val >> (8 * i));
		f->cfg[off + i] = (uint8_t)((f->cfg[off + i] & ~m) | (v & m));
	}
}

/* A function with its identity; command register writable for the
 * decode and master bits. */
static struct fake_fn *fn_add(struct fake_bus *b, uint8_t bus, uint8_t devfn, uint16_t vendor,
			      uint16_t device, uint32_t class_code, uint8_t header_type)
{
	struct fake_fn *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_null(b->fn[bus][devfn]);
	b->fn[bus][devfn] = f;
	put(f->cfg, PCI_VENDOR_ID, 2, vendor);
	put(f->cfg, 0x02, 2, device);
	put(f->cfg, PCI_CLASS_REV, 4, class_code << 8 | 0x03);
	f->cfg[PCI_HEADER_TYPE] = header_type;
	put(f->wmask, PCI_COMMAND, 2, PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_MASTER | PCI_CMD_INTX_OFF);
	put(f->cfg, PCI_COMMAND, 2, PCI_CMD_MEMORY | PCI_CMD_IO | PCI_CMD_MASTER);
	return f;
}

#define BAR_MEM32  0x0u
#define BAR_MEM64  0x4u
#define BAR_PF     0x8u
#define BAR_IO     0x1u

/* A memory BAR of `size` at `base` in slot i (and i + 1 if 64-bit). */
static void bar_mem(struct fake_fn *f, unsigned i, uint64_t base, uint64_t size, uint32_t flags)
{
	uint64_t mask = ~(size - 1);
	unsigned off = PCI_BAR0 + 4 * i;

	put(f->cfg, off, 4, (uint32_t)base | flags);
	put(f->wmask, off, 4, (uint32_t)mask & ~0xfu);
	if (flags & BAR_MEM64) {
		put(f->cfg, off + 4, 4, (uint32_t)(base >> 32));
		put(f->wmask, off + 4, 4, (uint32_t)(mask >> 32));
	}
}

/* An I/O BAR decoding 16 bits (the upper half hardwired to 0, as PCI
 * 3.0 6.2.5.1 allows). */
static void bar_io(struct fake_fn *f, unsigned i, uint16_t base, uint32_t size)
{
	unsigned off = PCI_BAR0 + 4 * i;

	put(f->cfg, off, 4, base | BAR_IO);
	put(f->wmask, off, 4, ~(size - 1) & 0xfffcu);
}

static void bridge(struct fake_fn *f, uint8_t primary, uint8_t secondary, uint8_t subordinate)
{
	f->cfg[PCI_PRIMARY_BUS] = primary;
	f->cfg[PCI_SECONDARY_BUS] = secondary;
	f->cfg[PCI_SUBORDINATE] = subordinate;
	put(f->wmask, PCI_PRIMARY_BUS, 4, 0x00ffffffu);
}

/* Capability id at off, linked to next; the first one added starts the list. */
static void cap(struct fake_fn *f, uint8_t off, uint8_t id, uint8_t next)
{
	if (!(f->cfg[PCI_STATUS] & PCI_STATUS_CAPS)) {
		f->cfg[PCI_STATUS] |= PCI_STATUS_CAPS;
		f->cfg[PCI_CAP_PTR] = off;
	}
	f->cfg[off] = id;
	f->cfg[off + 1] = next;
}

/* A PCI Express capability of the given port type (PCIe 5.0 7.5.3.2). */
static void cap_pcie(struct fake_fn *f, uint8_t off, uint8_t type, bool flr, uint8_t next)
{
	cap(f, off, PCI_CAP_PCIE, next);
	put(f->cfg, off + 2, 2, (uint32_t)type << 4 | 2);
	put(f->cfg, off + 4, 4, flr ? 1u << 28 : 0);
}

static void ext_cap(struct fake_fn *f, uint16_t off, uint16_t id, uint16_t next)
{
	put(f->cfg, off, 4, (uint32_t)next << 20 | 1u << 16 | id);
}

static int enumerate(struct fake_bus *b, uint8_t start, uint8_t end, struct pci_func *funcs,
		     uint32_t max, uint32_t *n)
{
	const struct pci_cfg_ops ops = { .read = fake_read, .write = fake_write, .ctx = b };
	return pci_enumerate(&ops, 0, start, end, funcs, max, n);
}

static struct pci_func *find(struct pci_func *funcs, uint32_t n, uint8_t bus, uint8_t devfn)
{
	struct pci_func *r = NULL;
	for (uint32_t i = 0; i < n; i++) {
		if (funcs[i].bus == bus && funcs[i].devfn == devfn) {
			assert_null(r);	/* listed once */
			r = &funcs[i];
		}
	}
	assert_non_null(r);
	return r;
}

static struct pci_func funcs[PCI_MAX_FUNCS];

/* ---- BARs ------------------------------------------------------------ */

static void test_endpoint_bars(void **state)
{
	(void)state;
	struct fake_bus *b = bus_new();
	struct fake_fn *f = fn_add(b, 0, PCI_DEVFN(3, 0), 0x8086, 0x10d3, 0x020000, 0);
	bar_mem(f, 0, 0xfebc0000u, 0x20000, BAR_MEM32);
	bar_mem(f, 1, 0x3800000000ull, 0x200000000ull, BAR_MEM64 | BAR_PF);	/* 8 GiB */
	/* slot 3: not implemented (reads 0, nothing writable) */
	bar_io(f, 4, 0xc040, 0x20);
	/* slot 5: not implemented */
	put(f->cfg, 0x2c, 4, 0x00011af4);
	struct fake_fn *g = fn_add(b, 0, PCI_DEVFN(4, 0), 0x1234, 0x11e8, 0x00ff00, 0);
	bar_mem(g, 0, 0x480000000ull, 0x4000, BAR_MEM64);	/* above 4 GiB, small */
	bar_mem(g, 2, 0xfd000000u, 0x1000000, BAR_MEM32 | BAR_PF);
	put(g->cfg, PCI_COMMAND, 2, PCI_CMD_MASTER);	/* decoding already off */

	uint8_t before_f[0x40], before_g[0x40];
	memcpy(before_f, f->cfg, sizeof(before_f));
	memcpy(before_g, g->cfg, sizeof(before_g));

	uint32_t n = 0;
	assert_int_equal(enumerate(b, 0, 255, funcs, PCI_MAX_FUNCS, &n), 0);
	assert_int_equal(n, 2);

	/* Sizing happened, never with decoding on, and left the header as it was. */
	assert_true(b->bar_writes >= 2 * 10);
	assert_int_equal(b->bar_writes_decoding, 0);
	assert_memory_equal(f->cfg, before_f, sizeof(before_f));
	assert_memory_equal(g->cfg, before_g, sizeof(before_g));

	struct pci_func *p = find(funcs, n, 0, PCI_DEVFN(3, 0));
	assert_int_equal(p->seg, 0);
	assert_int_equal(p->vendor, 0x8086);
	assert_int_equal(p->device, 0x10d3);
	assert_int_equal(p->class_code, 0x020000);
	assert_int_equal(p->revision, 0x03);
	assert_int_equal(p->header_type, 0);
	assert_false(p->multifunction);
	assert_int_equal(p->nbars, 6);
	assert_int_equal(p->rid, 0x0018);
	assert_null(p->parent);
	assert_int_equal(p->cap_pm | p->cap_msi | p->cap_msix | p->cap_pcie | p->cap_sriov, 0);
	assert_false(p->flr);

	assert_int_equal(p->bar[0].base, 0xfebc0000u);
	assert_int_equal(p->bar[0].size, 0x20000);
	assert_false(p->bar[0].io);
	assert_false(p->bar[0].is64);
	assert_false(p->bar[0].prefetch);

	assert_int_equal(p->bar[1].base, 0x3800000000ull);
	assert_int_equal(p->bar[1].size, 0x200000000ull);
	assert_true(p->bar[1].is64);
	assert_true(p->bar[1].prefetch);
	assert_false(p->bar[1].io);
	assert_int_equal(p->bar[2].size, 0);	/* upper half */

	assert_int_equal(p->bar[3].size, 0);
	assert_int_equal(p->bar[3].base, 0);

	assert_true(p->bar[4].io);
	assert_int_equal(p->bar[4].base, 0xc040);
	assert_int_equal(p->bar[4].size, 0x20);
	assert_false(p->bar[4].is64);

	assert_int_equal(p->bar[5].size, 0);

	struct pci_func *q = find(funcs, n, 0, PCI_DEVFN(4, 0));
	assert_int_equal(q->vendor, 0x1234);
	assert_int_equal(q->bar[0].base, 0x480000000ull);
	assert_int_equal(q->bar[0].size, 0x4000);
	assert_true(q->bar[0].is64);
	assert_false(q->bar[0].prefetch);
	assert_int_equal(q->bar[1].size, 0);
	assert_int_equal(q->bar[2].base, 0xfd000000u);
	assert_int_equal(q->bar[2].size, 0x1000000);
	assert_true(q->bar[2].prefetch);
	assert_false(q->bar[2].is64);
	for (unsigned i = 3; i < 6; i++)
		assert_int_equal(q->bar[i].size, 0);
	bus_free(b);
}

/* A 64-bit BAR type in the last slot has no upper half: a 32-bit one. */
static void test_bar64_last_slot(void **state)
{
	(void)state;
	struct fake_bus *b = bus_new();
	struct fake_fn *f = fn_add(b, 0, PCI_DEVFN(1, 0), 0x1af4, 0x1000, 0x020000, 0);
	bar_mem(f, 5, 0xfe000000u, 0x1000, BAR_MEM32);
	f->cfg[PCI_BAR0 + 20] |= BAR_MEM64;

	uint32_t n = 0;
	assert_int_equal(enumerate(b, 0, 0, funcs, PCI_MAX_FUNCS, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(funcs[0].bar[5].base, 0xfe000000u);
	assert_int_equal(funcs[0].bar[5].size, 0x1000);
	assert_false(funcs[0].bar[5].is64);
	assert_int_equal(b->bar_writes_decoding, 0);
	bus_free(b);
}

/*
 * BARs whose upper address bits are hardwired to 0 (a device decoding 40
 * address bits, one decoding 24): the size is the lowest writable address
 * bit, as Linux's pci_size() takes it, not ~mask + 1 over all 32/64 bits.
 */
static void test_bar_partial_decode(void **state)
{
	(void)state;
	struct fake_bus *b = bus_new();
	struct fake_fn *f = fn_add(b, 0, PCI_DEVFN(1, 0), 0x10de, 0x1234, 0x030000, 0);
	bar_mem(f, 0, 0x4000000000ull, 0x100000, BAR_MEM64 | BAR_PF);
	put(f->wmask, PCI_BAR0 + 4, 4, 0x000000ffu);		/* address bits 39:32 only */
	bar_mem(f, 2, 0x00f00000u, 0x1000, BAR_MEM32);
	put(f->wmask, PCI_BAR0 + 8, 4, 0x00fff000u);		/* address bits 23:12 only */
	put(f->cfg, PCI_BAR0 + 12, 4, BAR_IO);	/* I/O type, every address bit hardwired */

	uint32_t n = 0;
	assert_int_equal(enumerate(b, 0, 0, funcs, PCI_MAX_FUNCS, &n), 0);
	assert_int_equal(n, 1);
	assert_true(funcs[0].bar[0].is64);
	assert_int_equal(funcs[0].bar[0].base, 0x4000000000ull);
	assert_int_equal(funcs[0].bar[0].size, 0x100000);
	assert_int_equal(funcs[0].bar[2].base, 0x00f00000u);
	assert_int_equal(funcs[0].bar[2].size, 0x1000);
	assert_int_equal(funcs[0].bar[3].size, 0);
	bus_free(b);
}

/* ---- functions and devices ---------------------------------------------- */

static void test_multifunction(void **state)
{
	(void)state;
	struct fake_bus *b = bus_new();
	fn_add(b, 0, PCI_DEVFN(0x1f, 0), 0x8086, 0x2918, 0x060100, 0x80);
	fn_add(b, 0, PCI_DEVFN(0x1f, 2), 0x8086, 0x2922, 0x010601, 0x00);
	fn_add(b, 0, PCI_DEVFN(0x1f, 3), 0x8086, 0x2930, 0x0c0500, 0x00);
	/* A single-function device that answers on every function number
	 * (decodes them all as 0): only function 0 counts. */
	fn_add(b, 0, PCI_DEVFN(2, 0), 0x1234, 0x1111, 0x030000, 0x00);
	fn_add(b, 0, PCI_DEVFN(2, 1), 0x1234, 0x1111, 0x030000, 0x00);
	/* Function 1 present but not function 0: not a device. */
	fn_add(b, 0, PCI_DEVFN(5, 1), 0x1234, 0x2222, 0x030000, 0x80);

	uint32_t n = 0;
	assert_int_equal(enumerate(b, 0, 255, funcs, PCI_MAX_FUNCS, &n), 0);
	assert_int_equal(n, 4);
	/* In scan order: device by device, function by function. */
	assert_int_equal(funcs[0].devfn, PCI_DEVFN(2, 0));
	assert_int_equal(funcs[1].devfn, PCI_DEVFN(0x1f, 0));
	assert_int_equal(funcs[2].devfn, PCI_DEVFN(0x1f, 2));
	assert_int_equal(funcs[3].devfn, PCI_DEVFN(0x1f, 3));
	assert_false(funcs[0].multifunction);
	assert_true(funcs[1].multifunction);
	assert_false(funcs[2].multifunction);
	assert_int_equal(funcs[2].class_code, 0x010601);
	assert_int_equal(funcs[2].device, 0x2922);
	for (unsigned i = 1; i < 4; i++)
		assert_int_equal(funcs[i].rid, PCI_RID(0, funcs[i].devfn));
	bus_free(b);
}

/* A vendor ID of 0 is no function either. */
static void test_vendor_zero(void **state)
{
	(void)state;
	struct fake_bus *b = bus_new();
	fn_add(b, 0, PCI_DEVFN(3, 0), 0x0000, 0x0000, 0, 0);
	fn_add(b, 0, PCI_DEVFN(4, 0), 0x1234, 0x0001, 0, 0);

	uint32_t n = 0;
	assert_int_equal(enumerate(b, 0, 0, funcs, PCI_MAX_FUNCS, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(funcs[0].devfn, PCI_DEVFN(4, 0));
	bus_free(b);
}

/* ---- bridges and requester IDs -------------------------------------- */

static struct fake_fn *root_port(struct fake_bus *b, uint8_t bus, uint8_t devfn, uint8_t sec,
				 uint8_t sub)
{
	struct fake_fn *f = fn_add(b, bus, devfn, 0x8086, 0x7c10, 0x060400, 0x01);
	bridge(f, bus, sec, sub);
	cap_pcie(f, 0x40, PCIE_TYPE_ROOT_PORT, false, 0);
	return f;
}

static void test_root_port(void **state)
{
	(void)state;
	struct fake_bus *b = bus_new();
	struct fake_fn *rp = root_port(b, 0, PCI_DEVFN(0x1c, 0), 1, 1);
	bar_mem(rp, 0, 0xfe100000u, 0x1000, BAR_MEM32);
	struct fake_fn *ep = fn_add(b, 1, PCI_DEVFN(0, 0), 0x8086, 0x10d3, 0x020000, 0);
	cap_pcie(ep, 0xe0, PCIE_TYPE_ENDPOINT, true, 0);
	bar_mem(ep, 0, 0xfe200000u, 0x20000, BAR_MEM32);

	uint32_t n = 0;
	assert_int_equal(enumerate(b, 0, 255, funcs, PCI_MAX_FUNCS, &n), 0);
	assert_int_equal(n, 2);
	struct pci_func *p = find(funcs, n, 0, PCI_DEVFN(0x1c, 0));
	struct pci_func *e = find(funcs, n, 1, PCI_DEVFN(0, 0));
	assert_int_equal(p->header_type, 1);
	assert_int_equal(p->nbars, 2);
	assert_int_equal(p->bar[0].base, 0xfe100000u);
	assert_int_equal(p->bar[0].size, 0x1000);
	assert_int_equal(p->secondary, 1);
	assert_int_equal(p->subordinate, 1);
	assert_int_equal(p->cap_pcie, 0x40);
	assert_int_equal(p->pcie_type, PCIE_TYPE_ROOT_PORT);
	assert_int_equal(p->rid, PCI_RID(0, PCI_DEVFN(0x1c, 0)));
	assert_null(p->parent);

	assert_ptr_equal(e->parent, p);
	assert_int_equal(e->rid, 0x0100);	/* a PCIe port passes IDs through */
	assert_int_equal(e->pcie_type, PCIE_TYPE_ENDPOINT);
	assert_true(e->flr);
	assert_int_equal(e->bar[0].size, 0x20000);
	assert_int_equal(b->bar_writes_decoding, 0);
	bus_free(b);
}

static void test_pcie_to_pci_bridge(void **state)
{
	(void)state;
	struct fake_bus *b = bus_new();
	root_port(b, 0, PCI_DEVFN(0x1c, 0), 1, 2);
	struct fake_fn *br = fn_add(b, 1, PCI_DEVFN(0, 0), 0x1b36, 0x000e, 0x060400, 0x01);
	bridge(br, 1, 2, 2);
	cap_pcie(br, 0x48, PCIE_TYPE_PCIE_TO_PCI, false, 0);
	fn_add(b, 2, PCI_DEVFN(1, 0), 0x8086, 0x100e, 0x020000, 0);
	fn_add(b, 2, PCI_DEVFN(2, 0), 0x1274, 0x5000, 0x040100, 0);

	uint32_t n = 0;
	assert_int_equal(enumerate(b, 0, 255, funcs, PCI_MAX_FUNCS, &n), 0);
	assert_int_equal(n, 4);
	struct pci_func *rp = find(funcs, n, 0, PCI_DEVFN(0x1c, 0));
	struct pci_func *p = find(funcs, n, 1, PCI_DEVFN(0, 0));
	struct pci_func *d1 = find(funcs, n, 2, PCI_DEVFN(1, 0));
	struct pci_func *d2 = find(funcs, n, 2, PCI_DEVFN(2, 0));
	assert_int_equal(p->pcie_type, PCIE_TYPE_PCIE_TO_PCI);
	assert_int_equal(p->rid, 0x0100);	/* the bridge itself: its own ID */
	assert_ptr_equal(p->parent, rp);
	/* Behind it: the bridge's secondary bus, devfn 0, for both (one group). */
	assert_int_equal(d1->rid, 0x0200);
	assert_int_equal(d2->rid, 0x0200);
	assert_ptr_equal(d1->parent, p);
	assert_ptr_equal(d2->parent, p);
	bus_free(b);
}

static void test_conventional_bridge(void **state)
{
	(void)state;
	struct fake_bus *b = bus_new();
	/* A DMI-to-PCI bridge: no PCIe capability. */
	struct fake_fn *br = fn_add(b, 0, PCI_DEVFN(0x1e, 0), 0x8086, 0x244e, 0x060401, 0x01);
	bridge(br, 0, 5, 5);
	fn_add(b, 5, PCI_DEVFN(0, 0), 0x10ec, 0x8139, 0x020000, 0);

	/* Root port -> PCIe-to-PCI bridge -> conventional bridge -> device:
	 * the topmost alias (the PCIe-to-PCI bridge's) is what the IOMMU sees. */
	root_port(b, 0, PCI_DEVFN(0x1c, 0), 1, 3);
	struct fake_fn *x = fn_add(b, 1, PCI_DEVFN(0, 0), 0x1b36, 0x000e, 0x060400, 0x01);
	bridge(x, 1, 2, 3);
	cap_pcie(x, 0x48, PCIE_TYPE_PCIE_TO_PCI, false, 0);
	struct fake_fn *c = fn_add(b, 2, PCI_DEVFN(3, 0), 0x1011, 0x0026, 0x060400, 0x01);
	bridge(c, 2, 3, 3);
	fn_add(b, 3, PCI_DEVFN(4, 0), 0x8086, 0x100e, 0x020000, 0);

	uint32_t n = 0;
	assert_int_equal(enumerate(b, 0, 255, funcs, PCI_MAX_FUNCS, &n), 0);
	assert_int_equal(n, 6);
	struct pci_func *pb = find(funcs, n, 0, PCI_DEVFN(0x1e, 0));
	struct pci_func *d = find(funcs, n, 5, PCI_DEVFN(0, 0));
	assert_int_equal(pb->cap_pcie, 0);
	assert_int_equal(pb->rid, PCI_RID(0, PCI_DEVFN(0x1e, 0)));
	assert_int_equal(d->rid, PCI_RID(0, PCI_DEVFN(0x1e, 0)));
	assert_ptr_equal(d->parent, pb);

	struct pci_func *cb = find(funcs, n, 2, PCI_DEVFN(3, 0));
	struct pci_func *d3 = find(funcs, n, 3, PCI_DEVFN(4, 0));
	assert_int_equal(cb->rid, 0x0200);	/* behind the PCIe-to-PCI bridge */
	assert_int_equal(d3->rid, 0x0200);	/* not the conventional bridge's 0x0218 */
	assert_ptr_equal(d3->parent, cb);
	assert_ptr_equal(cb->parent, find(funcs, n, 1, PCI_DEVFN(0, 0)));
	bus_free(b);
}

/* A PCI-to-PCIe bridge (type 8) takes requests over with its own ID. */
static void test_pci_to_pcie_bridge(void **state)
{
	(void)state;
	struct fake_bus *b = bus_new();
	struct fake_fn *br = fn_add(b, 0, PCI_DEVFN(6, 0), 0x104c, 0x8240, 0x060400, 0x01);
	bridge(br, 0, 1, 1);
	cap_pcie(br, 0x60, PCIE_TYPE_PCI_TO_PCIE, false, 0);
	fn_add(b, 1, PCI_DEVFN(0, 0), 0x8086, 0x10d3, 0x020000, 0);

	uint32_t n = 0;
	assert_int_equal(enumerate(b, 0, 255, funcs, PCI_MAX_FUNCS, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(find(funcs, n, 1, 0)->rid, PCI_RID(0, PCI_DEVFN(6, 0)));
	bus_free(b);
}

/* ---- capabilities ------------------------------------------------------ */

static void test_capabilities(void **state)
{
	(void)state;
	struct fake_bus *b = bus_new();
	struct fake_fn *f = fn_add(b, 0, PCI_DEVFN(3, 0), 0x8086, 0x10c9, 0x020000, 0x80);
	cap(f, 0x40, PCI_CAP_PM, 0x50);
	cap(f, 0x50, PCI_CAP_MSI, 0x70);
	cap_pcie(f, 0x70, PCIE_TYPE_ENDPOINT, true, 0xa0);
	cap(f, 0xa0, 0x09, 0xb0);	/* vendor-specific: skipped */
	cap(f, 0xb0, PCI_CAP_MSIX, 0x00);
	f->cfg[0xb0 + 1] = 0x01;		/* low bits of next are reserved: 0 */
	ext_cap(f, 0x100, 0x0001, 0x140);	/* AER */
	ext_cap(f, 0x140, PCI_EXT_CAP_SRIOV, 0x000);

	/* Function 1: a looped list, and a looped extended list. */
	struct fake_fn *g = fn_add(b, 0, PCI_DEVFN(3, 1), 0x8086, 0x10c9, 0x020000, 0x80);
	cap(g, 0x40, PCI_CAP_PM, 0x50);
	cap_pcie(g, 0x50, PCIE_TYPE_ENDPOINT, false, 0x60);
	cap(g, 0x60, PCI_CAP_MSI, 0x40);
	ext_cap(g, 0x100, 0x0001, 0x100);

	/* Function 2: the status bit says no list (the pointer is then not valid). */
	struct fake_fn *h = fn_add(b, 0, PCI_DEVFN(3, 2), 0x8086, 0x10c9, 0x020000, 0x80);
	cap(h, 0x40, PCI_CAP_PM, 0);
	h->cfg[PCI_STATUS] &= (uint8_t)~PCI_STATUS_CAPS;

	/* Function 3: a list pointing into the header; SR-IOV first in the
	 * extended list. */
	struct fake_fn *k = fn_add(b, 0, PCI_DEVFN(3, 3), 0x8086, 0x10c9, 0x020000, 0x80);
	cap_pcie(k, 0x40, PCIE_TYPE_RC_ENDPOINT, true, 0x10);
	ext_cap(k, 0x100, PCI_EXT_CAP_SRIOV, 0);

	uint32_t n = 0;
	assert_int_equal(enumerate(b, 0, 0, funcs, PCI_MAX_FUNCS, &n), 0);
	assert_int_equal(n, 4);
	struct pci_func *p = &funcs[0];
	assert_int_equal(p->cap_pm, 0x40);
	assert_int_equal(p->cap_msi, 0x50);
	assert_int_equal(p->cap_pcie, 0x70);
	assert_int_equal(p->cap_msix, 0xb0);
	assert_int_equal(p->pcie_type, PCIE_TYPE_ENDPOINT);
	assert_true(p->flr);
	assert_int_equal(p->cap_sriov, 0x140);

	p = &funcs[1];
	assert_int_equal(p->cap_pm, 0x40);
	assert_int_equal(p->cap_pcie, 0x50);
	assert_int_equal(p->cap_msi, 0x60);
	assert_int_equal(p->cap_msix, 0);
	assert_false(p->flr);
	assert_int_equal(p->cap_sriov, 0);

	p = &funcs[2];
	assert_int_equal(p->cap_pm | p->cap_msi | p->cap_msix | p->cap_pcie | p->cap_sriov, 0);

	p = &funcs[3];
	assert_int_equal(p->cap_pcie, 0x40);
	assert_int_equal(p->pcie_type, PCIE_TYPE_RC_ENDPOINT);
	assert_true(p->flr);
	assert_int_equal(p->cap_sriov, 0x100);
	assert_int_equal(p->cap_pm, 0);
	bus_free(b);
}

/* Without ECAM (mechanism #1) 0x100 and up read all ones: no extended
 * capabilities, and no endless walk. */
static void test_no_extended_space(void **state)
{
	(void)state;
	struct fake_bus *b = bus_new();
	struct fake_fn *f = fn_add(b, 0, PCI_DEVFN(3, 0), 0x8086, 0x10c9, 0x020000, 0);
	cap_pcie(f, 0x40, PCIE_TYPE_ENDPOINT, false, 0);
	ext_cap(f, 0x100, PCI_EXT_CAP_SRIOV, 0);
	b->no_ext = true;

	uint32_t n = 0;
	assert_int_equal(enumerate(b, 0, 0, funcs, PCI_MAX_FUNCS, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(funcs[0].cap_pcie, 0x40);
	assert_int_equal(funcs[0].cap_sriov, 0);
	bus_free(b);
}

/* ---- bad bus numbers, limits -------------------------------------------- */

static void test_bad_bus_numbers(void **state)
{
	(void)state;
	struct fake_bus *b = bus_new();
	/* Secondary = own bus: not followed (bus 0 would be scanned again). */
	struct fake_fn *a = fn_add(b, 0, PCI_DEVFN(1, 0), 0x8086, 0x0001, 0x060400, 0x01);
	bridge(a, 0, 0, 0);
	/* Two bridges claiming bus 2: it is scanned once. */
	struct fake_fn *c = fn_add(b, 0, PCI_DEVFN(2, 0), 0x8086, 0x0002, 0x060400, 0x01);
	bridge(c, 0, 2, 3);
	struct fake_fn *d = fn_add(b, 0, PCI_DEVFN(3, 0), 0x8086, 0x0003, 0x060400, 0x01);
	bridge(d, 0, 2, 2);
	fn_add(b, 2, PCI_DEVFN(0, 0), 0x8086, 0x0004, 0x020000, 0);
	/* Bus 2 has a bridge pointing back to bus 1 (< its own bus): not
	 * followed, so bus 1's device is not found through it. */
	struct fake_fn *e = fn_add(b, 2, PCI_DEVFN(1, 0), 0x8086, 0x0005, 0x060400, 0x01);
	bridge(e, 2, 1, 1);
	fn_add(b, 1, PCI_DEVFN(0, 0), 0x8086, 0x0006, 0x020000, 0);
	/* Bus 3 behind bus 2 through a bridge that points forward, and a
	 * bridge on bus 3 back to bus 2 (a loop). */
	struct fake_fn *g = fn_add(b, 2, PCI_DEVFN(2, 0), 0x8086, 0x0007, 0x060400, 0x01);
	bridge(g, 2, 3, 3);
	struct fake_fn *h = fn_add(b, 3, PCI_DEVFN(0, 0), 0x8086, 0x0008, 0x060400, 0x01);
	bridge(h, 3, 2, 3);
	/* Past the end of the window: not followed. */
	struct fake_fn *w = fn_add(b, 0, PCI_DEVFN(4, 0), 0x8086, 0x0009, 0x060400, 0x01);
	bridge(w, 0, 9, 9);
	fn_add(b, 9, PCI_DEVFN(0, 0), 0x8086, 0x000a, 0x020000, 0);

	uint32_t n = 0;
	assert_int_equal(enumerate(b, 0, 8, funcs, PCI_MAX_FUNCS, &n), 0);
	/* bus 0: 4 bridges; bus 2: endpoint and 2 bridges; bus 3: 1 bridge */
	assert_int_equal(n, 8);
	for (uint32_t i = 0; i < n; i++)
		assert_true(funcs[i].bus == 0 || funcs[i].bus == 2 || funcs[i].bus == 3);
	find(funcs, n, 2, PCI_DEVFN(0, 0));	/* once */
	find(funcs, n, 3, PCI_DEVFN(0, 0));
	/* The first bridge to reach bus 2 is its parent. */
	assert_ptr_equal(find(funcs, n, 2, PCI_DEVFN(0, 0))->parent,
			 find(funcs, n, 0, PCI_DEVFN(2, 0)));
	bus_free(b);
}

/* A chain of PCIe switch ports as deep as buses go (IDs pass through). */
static void test_deep_chain(void **state)
{
	(void)state;
	struct fake_bus *b = bus_new();
	for (unsigned bus = 0; bus < 255; bus++) {
		struct fake_fn *f = fn_add(b, (uint8_t)bus, 0, 0x8086, 0x0001, 0x060400, 0x01);
		bridge(f, (uint8_t)bus, (uint8_t)(bus + 1), 255);
		cap_pcie(f, 0x40, bus % 2 ? PCIE_TYPE_DOWNSTREAM : PCIE_TYPE_UPSTREAM, false, 0);
	}
	fn_add(b, 255, 0, 0x8086, 0x0002, 0x020000, 0);

	uint32_t n = 0;
	assert_int_equal(enumerate(b, 0, 255, funcs, PCI_MAX_FUNCS, &n), 0);
	assert_int_equal(n, 256);
	assert_int_equal(funcs[255].bus, 255);
	assert_ptr_equal(funcs[255].parent, &funcs[254]);
	assert_int_equal(funcs[255].rid, PCI_RID(255, 0));
	bus_free(b);
}

static void test_too_many(void **state)
{
	(void)state;
	struct fake_bus *b = bus_new();
	for (unsigned dev = 0; dev < 5; dev++)
		fn_add(b, 0, PCI_DEVFN(dev, 0), 0x8086, (uint16_t)dev, 0x020000, 0);

	struct pci_func small[4];
	memset(small, 0x5a, sizeof(small));
	uint32_t n = 0;
	assert_int_equal(enumerate(b, 0, 0, small, 3, &n), -ENOSPC);
	assert_int_equal(n, 3);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(small[i].device, i);
	assert_int_equal(small[3].vendor, 0x5a5a);	/* not written */

	/* Appending after what an earlier segment found. */
	n = 1;
	assert_int_equal(enumerate(b, 0, 0, small, 4, &n), -ENOSPC);
	assert_int_equal(n, 4);
	assert_int_equal(small[1].device, 0);
	assert_int_equal(small[3].device, 2);

	n = 0;
	assert_int_equal(enumerate(b, 0, 0, funcs, 5, &n), 0);
	assert_int_equal(n, 5);

	n = 0;
	assert_int_equal(enumerate(b, 3, 2, funcs, 5, &n), -EINVAL);
	assert_int_equal(n, 0);
	bus_free(b);
}

/* An empty bus: nothing, no writes. */
static void test_empty(void **state)
{
	(void)state;
	struct fake_bus *b = bus_new();
	uint32_t n = 0;
	assert_int_equal(enumerate(b, 0, 255, funcs, PCI_MAX_FUNCS, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(b->bar_writes, 0);
	bus_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_endpoint_bars, teardown),
		cmocka_unit_test_teardown(test_bar64_last_slot, teardown),
		cmocka_unit_test_teardown(test_bar_partial_decode, teardown),
		cmocka_unit_test_teardown(test_multifunction, teardown),
		cmocka_unit_test_teardown(test_vendor_zero, teardown),
		cmocka_unit_test_teardown(test_root_port, teardown),
		cmocka_unit_test_teardown(test_pcie_to_pci_bridge, teardown),
		cmocka_unit_test_teardown(test_conventional_bridge, teardown),
		cmocka_unit_test_teardown(test_pci_to_pcie_bridge, teardown),
		cmocka_unit_test_teardown(test_capabilities, teardown),
		cmocka_unit_test_teardown(test_no_extended_space, teardown),
		cmocka_unit_test_teardown(test_bad_bus_numbers, teardown),
		cmocka_unit_test_teardown(test_deep_chain, teardown),
		cmocka_unit_test_teardown(test_too_many, teardown),
		cmocka_unit_test_teardown(test_empty, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
