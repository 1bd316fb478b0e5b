/*
 * Finding the PCI functions: pure logic over a configuration-space
 * accessor, so the host unit tests run it on a fake bus (see pci_enum.h).
 *
 * PCI Local Bus 3.0 6.1-6.2.5 (header, BARs), 6.7 (capability list);
 * PCI-to-PCI Bridge 1.2 3.2 (type 1 header); PCIe 5.0 7.5.3 (PCIe
 * capability), 7.6 (extended capabilities), 2.2.6.2 and the PCIe-to-PCI
 * Bridge spec 1.0 2.3 (requester IDs a bridge takes over).
 */
#include "drivers/pci_enum.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"

#define PCI_BAR_IO       0x1u
#define PCI_BAR_TYPE64   0x4u
#define PCI_BAR_PREFETCH 0x8u
#define PCI_MAX_CAPS     48	/* 192 bytes of capabilities at 4 bytes each, at most */
#define PCI_MAX_EXT_CAPS 960	/* (4096 - 256) / 4 */
#define PCIE_DEVCAP      0x04
#define PCIE_DEVCAP_FLR  (1u << 28)

static uint32_t rd(const struct pci_cfg_ops *ops, uint16_t seg, uint8_t bus, uint8_t devfn,
		   unsigned off, unsigned size)
{
	return ops->read(ops->ctx, seg, bus, devfn, off, size);
}

static void wr(const struct pci_cfg_ops *ops, uint16_t seg, uint8_t bus, uint8_t devfn,
	       unsigned off, unsigned size, uint32_t val)
{
	ops->write(ops->ctx, seg, bus, devfn, off, size, val);
}

/* The lowest set bit of m, 0 if none. */
static uint64_t lowest_bit(uint64_t m)
{
	return m & (~m + 1);
}

/*
 * A BAR's size the standard way (PCI 3.0 6.2.5.1): with decoding off,
 * write all ones, read back the writable bits, restore. The caller has
 * turned decoding off. The size is the lowest writable address bit: the
 * spec's ~mask + 1 assumes every bit above it is writable, which devices
 * that decode fewer address bits (the upper bits hardwired to 0; 16-bit
 * I/O decoders) do not honour. Returns the number of slots used (2 for
 * 64-bit).
 */
static unsigned size_bar(const struct pci_cfg_ops *ops, struct pci_func *f, unsigned i)
{
	unsigned off = PCI_BAR0 + 4 * i;
	uint32_t lo = rd(ops, f->seg, f->bus, f->devfn, off, 4);
	struct pci_bar *b = &f->bar[i];

	wr(ops, f->seg, f->bus, f->devfn, off, 4, 0xffffffffu);
	uint32_t mask = rd(ops, f->seg, f->bus, f->devfn, off, 4);
	wr(ops, f->seg, f->bus, f->devfn, off, 4, lo);
	if (lo & PCI_BAR_IO) {
		b->io = true;
		b->base = lo & ~0x3u;
		b->size = lowest_bit(mask & ~0x3u);
		return 1;
	}
	b->prefetch = lo & PCI_BAR_PREFETCH;
	uint64_t base = lo & ~0xfull, size_mask = mask & ~0xfu;
	if ((lo & 0x6u) == PCI_BAR_TYPE64 && i + 1 < f->nbars) {
		uint32_t hi = rd(ops, f->seg, f->bus, f->devfn, off + 4, 4);
		wr(ops, f->seg, f->bus, f->devfn, off + 4, 4, 0xffffffffu);
		uint32_t hmask = rd(ops, f->seg, f->bus, f->devfn, off + 4, 4);
		wr(ops, f->seg, f->bus, f->devfn, off + 4, 4, hi);
		b->is64 = true;
		base |= (uint64_t)hi << 32;
		size_mask |= (uint64_t)hmask << 32;
	}
	b->base = base;
	b->size = lowest_bit(size_mask);	/* 0: no writable address bit, so no BAR */
	return b->is64 ? 2 : 1;
}

static void read_bars(const struct pci_cfg_ops *ops, struct pci_func *f)
{
	uint16_t cmd = (uint16_t)rd(ops, f->seg, f->bus, f->devfn, PCI_COMMAND, 2);

	/* Decoding off while the BARs hold all ones, so that no access is
	 * claimed by the half-sized BAR meanwhile. */
	wr(ops, f->seg, f->bus, f->devfn, PCI_COMMAND, 2,
	   cmd & ~(uint32_t)(PCI_CMD_IO | PCI_CMD_MEMORY));
	for (unsigned i = 0; i < f->nbars;)
		i += size_bar(ops, f, i);
	wr(ops, f->seg, f->bus, f->devfn, PCI_COMMAND, 2, cmd);
}

static void read_caps(const struct pci_cfg_ops *ops, struct pci_func *f)
{
	if (!(rd(ops, f->seg, f->bus, f->devfn, PCI_STATUS, 2) & PCI_STATUS_CAPS))
		return;
	unsigned off = rd(ops, f->seg, f->bus, f->devfn, PCI_CAP_PTR, 1) & 0xfc;
	for (unsigned n = 0; off >= 0x40 && n < PCI_MAX_CAPS; n++) {
		uint32_t hdr = rd(ops, f->seg, f->bus, f->devfn, off, 2);
		uint8_t id = hdr & 0xff;
		if (f->ncaps < sizeof(f->caps))
			f->caps[f->ncaps++] = (uint8_t)off;
		if (id == PCI_CAP_PM && !f->cap_pm)
			f->cap_pm = (uint8_t)off;
		else if (id == PCI_CAP_MSI && !f->cap_msi)
			f->cap_msi = (uint8_t)off;
		else if (id == PCI_CAP_MSIX && !f->cap_msix)
			f->cap_msix = (uint8_t)off;
		else if (id == PCI_CAP_PCIE && !f->cap_pcie)
			f->cap_pcie = (uint8_t)off;
		off = (hdr >> 8) & 0xfc;
	}
	if (!f->cap_pcie)
		return;
	uint32_t pcie = rd(ops, f->seg, f->bus, f->devfn, f->cap_pcie + 2u, 2);
	f->pcie_type = (pcie >> 4) & 0xf;
	f->flr = rd(ops, f->seg, f->bus, f->devfn, f->cap_pcie + PCIE_DEVCAP, 4) & PCIE_DEVCAP_FLR;
	/* Extended capabilities from 0x100 (PCIe 7.6.2); all ones or zero:
	 * none (or no access above 0x100). */
	off = 0x100;
	for (unsigned n = 0; off >= 0x100 && off < 4096 && n < PCI_MAX_EXT_CAPS; n++) {
		uint32_t hdr = rd(ops, f->seg, f->bus, f->devfn, off, 4);
		if (hdr == 0 || hdr == 0xffffffffu)
			break;
		if ((hdr & 0xffff) == PCI_EXT_CAP_SRIOV && !f->cap_sriov)
			f->cap_sriov = (uint16_t)off;
		off = (hdr >> 20) & 0xffc;
	}
}

/* The alias the bridge b makes for the functions behind it, given the
 * alias (-1: none) it inherited itself: the topmost alias is what reaches
 * the IOMMU. PCIe ports pass IDs through; a PCIe-to-PCI bridge takes
 * over requests as (secondary bus, 00.0); a conventional PCI bridge (and a
 * PCI-to-PCIe one) with its own ID. */
static int bridge_alias(const struct pci_func *b, int inherited)
{
	if (inherited >= 0)
		return inherited;
	if (!b->cap_pcie || b->pcie_type == PCIE_TYPE_PCI_TO_PCIE)
		return PCI_RID(b->bus, b->devfn);
	if (b->pcie_type == PCIE_TYPE_PCIE_TO_PCI)
		return PCI_RID(b->secondary, 0);
	return -1;
}

struct scan {
	const struct pci_cfg_ops *ops;
	struct pci_func *funcs;
	uint32_t max, n;
	bool overflow;
	uint8_t bus_end;
	uint8_t seen[256 / 8];	/* buses scanned, against loops in bad numbering */
};

static void scan_bus(struct scan *s, uint16_t seg, uint8_t bus, const struct pci_func *parent,
		     int alias, unsigned depth);

static void add_function(struct scan *s, uint16_t seg, uint8_t bus, uint8_t devfn,
			 const struct pci_func *parent, int alias, unsigned depth)
{
	uint32_t id = rd(s->ops, seg, bus, devfn, PCI_VENDOR_ID, 4);

	if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
		return;
	if (s->n == s->max) {
		s->overflow = true;
		return;
	}
	struct pci_func *f = &s->funcs[s->n++];
	memset(f, 0, sizeof(*f));
	f->seg = seg;
	f->bus = bus;
	f->devfn = devfn;
	f->vendor = id & 0xffff;
	f->device = id >> 16;
	uint32_t cr = rd(s->ops, seg, bus, devfn, PCI_CLASS_REV, 4);
	f->class_code = cr >> 8;
	f->revision = cr & 0xff;
	uint8_t ht = (uint8_t)rd(s->ops, seg, bus, devfn, PCI_HEADER_TYPE, 1);
	f->header_type = ht & 0x7f;
	f->multifunction = ht & 0x80;
	f->nbars = f->header_type == 0 ? 6 : f->header_type == 1 ? 2 : 0;
	f->parent = parent;
	f->rid = alias >= 0 ? (uint16_t)alias : PCI_RID(bus, devfn);
	read_bars(s->ops, f);
	read_caps(s->ops, f);
	if (f->header_type != 1)
		return;
	f->secondary = (uint8_t)rd(s->ops, seg, bus, devfn, PCI_SECONDARY_BUS, 1);
	f->subordinate = (uint8_t)rd(s->ops, seg, bus, devfn, PCI_SUBORDINATE, 1);
	/* Only buses the firmware numbered below this one and inside the
	 * window; a bus is scanned once whatever the numbering says. */
	if (f->secondary > bus && f->secondary <= s->bus_end)
		scan_bus(s, seg, f->secondary, f, bridge_alias(f, alias), depth + 1);
}

static void scan_bus(struct scan *s, uint16_t seg, uint8_t bus, const struct pci_func *parent,
		     int alias, unsigned depth)
{
	if (depth > 255 || (s->seen[bus / 8] & (1u << (bus % 8))))
		return;
	s->seen[bus / 8] |= (uint8_t)(1u << (bus % 8));
	for (unsigned dev = 0; dev < 32; dev++) {
		uint32_t id = rd(s->ops, seg, bus, PCI_DEVFN(dev, 0), PCI_VENDOR_ID, 4);
		if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
			continue;
		bool multi = rd(s->ops, seg, bus, PCI_DEVFN(dev, 0), PCI_HEADER_TYPE, 1) & 0x80;
		for (unsigned fn = 0; fn < (multi ? 8u : 1u); fn++)
			add_function(s, seg, bus, PCI_DEVFN(dev, fn), parent, alias, depth);
	}
}

int pci_enumerate(const struct pci_cfg_ops *ops, uint16_t seg, uint8_t bus_start, uint8_t bus_end,
		  struct pci_func *funcs, uint32_t max, uint32_t *n)
{
	struct scan s = { .ops = ops, .funcs = funcs, .max = max, .n = *n, .bus_end = bus_end };

	if (bus_start > bus_end)
		return trace_error(-EINVAL);
	scan_bus(&s, seg, bus_start, NULL, -1, 0);
	*n = s.n;
	return s.overflow ? trace_error(-ENOSPC) : 0;
}

const char *pci_bdf_str(uint16_t seg, uint8_t bus, uint8_t devfn, char *buf)
{
	if (seg)
		hv_snprintf(buf, 13, "%04x:%02x:%02x.%u", seg, bus, devfn >> 3, devfn & 7);
	else
		hv_snprintf(buf, 13, "%02x:%02x.%u", bus, devfn >> 3, devfn & 7);
	return buf;
}
