/* A domain's virtual PCI configuration spaces; see vpci.h. */
#include "kernel/string.h"
#include "vmm/dev/legacy.h"
#include "vmm/dev/vpci.h"

#define CMD_PASSED (PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_MASTER | 0x0040u /* parity */ | \
		    0x0100u /* SERR */ | PCI_CMD_INTX_OFF)
#define STATUS_RW1C 0xf900u	/* the error bits (PCI 3.0 6.2.3) */
#define PM_LEN      8
#define PM_CTRL     4		/* PMCSR */
#define PCIE_LEN    0x3c	/* through Slot Status 2 (PCIe 5.0 7.5.3) */
#define PCIE_DEVCTL 8
#define PCIE_DEVCTL_FLR (1u << 15)
#define MSIX_LEN    12

static uint8_t next_visible(const struct vpci_func *vf, unsigned after);

static uint8_t free_slot(const struct vpci *b, struct pci_func *const *hosts, uint32_t n)
{
	for (uint8_t dev = 31; dev > 0; dev--) {
		bool used = false;
		for (uint32_t i = 0; i < n && !used; i++)
			used = (!hosts[i]->seg && !hosts[i]->bus && hosts[i]->devfn >> 3 == dev);
		for (uint32_t i = 0; i < b->n && !used; i++)
			used = b->funcs[i].devfn >> 3 == dev;
		if (!used)
			return dev;
	}
	return 0;
}

void vpci_init(struct vpci *b, struct pci_func *const *hosts, uint32_t n)
{
	memset(b, 0, sizeof(*b));
	for (uint32_t i = 0; i < n && i < CONFIG_MAX_DEVICES; i++) {
		struct pci_func *h = hosts[i];
		struct vpci_func *vf = &b->funcs[b->n];
		uint8_t dev = h->devfn >> 3;

		if (h->seg || h->bus) {
			/* The slot its host device already got, else a free one. */
			dev = 0;
			for (uint32_t k = 0; k < b->n && !dev; k++) {
				const struct pci_func *o = b->funcs[k].host;
				if (o->seg == h->seg && o->bus == h->bus && o->devfn >> 3 == h->devfn >> 3)
					dev = b->funcs[k].devfn >> 3;
			}
			if (!dev)
				dev = free_slot(b, hosts, n);
		}
		vf->host = h;
		vf->devfn = PCI_DEVFN(dev, h->devfn & 7);
		vmsi_init(&vf->msi, h, false, false, NULL, NULL, 0, 0);
		b->n++;
		vf->first_cap = next_visible(vf, 0);
	}
}

void vpci_init_irqs(struct vpci *b, uint32_t i, bool msi, bool msix, struct vmsix_entry *ent,
		    const uint32_t *cpus, uint32_t ncpus, intptr_t io_delta)
{
	struct vpci_func *vf = &b->funcs[i];

	vmsi_init(&vf->msi, vf->host, msi, msix, ent, cpus, ncpus, io_delta);
	vf->first_cap = next_visible(vf, 0);
}

struct vpci_func *vpci_find(struct vpci *b, uint8_t bus, uint8_t devfn)
{
	if (bus)
		return NULL;
	for (uint32_t i = 0; i < b->n; i++)
		if (b->funcs[i].devfn == devfn)
			return &b->funcs[i];
	return NULL;
}

/*
 * Where the capability at o ends: at most len bytes, but never past the
 * next capability the host lists (PCI 3.0 6.7 only links them; a PCIe
 * 1.x capability is 0x14 bytes for an endpoint, not the 0x3c of 2.0, and
 * a hidden capability can follow right after it) nor past 0x100.
 */
static unsigned cap_end(const struct pci_func *h, unsigned o, unsigned len)
{
	const unsigned others[] = { h->cap_pm, h->cap_msi, h->cap_msix, h->cap_pcie };
	unsigned end = o + len < 0x100 ? o + len : 0x100;

	for (unsigned i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (others[i] > o && others[i] < end)
			end = others[i];
	for (unsigned i = 0; i < h->ncaps; i++)	/* vendor-specific and the rest */
		if (h->caps[i] > o && h->caps[i] < end)
			end = h->caps[i];
	return end;
}

#define NVISIBLE 4

/* The capabilities the guest sees: offset and the most bytes each has. */
static unsigned visible_caps(const struct vpci_func *vf, unsigned off[NVISIBLE],
			     unsigned len[NVISIBLE])
{
	const struct pci_func *h = vf->host;
	const unsigned o[NVISIBLE] = { h->cap_pm, h->cap_pcie, vf->msi.msi, vf->msi.msix };
	const unsigned l[NVISIBLE] = { PM_LEN, PCIE_LEN, vmsi_msi_len(&vf->msi), MSIX_LEN };
	unsigned n = 0;

	for (unsigned i = 0; i < NVISIBLE; i++)
		if (o[i]) {
			off[n] = o[i];
			len[n++] = l[i];
		}
	return n;
}

/* The lowest visible capability above offset `after`, or 0. */
static uint8_t next_visible(const struct vpci_func *vf, unsigned after)
{
	unsigned off[NVISIBLE], len[NVISIBLE], best = 0;
	unsigned n = visible_caps(vf, off, len);

	for (unsigned i = 0; i < n; i++)
		if (off[i] > after && (!best || off[i] < best))
			best = off[i];
	return (uint8_t)best;
}

/* The visible capability that holds config byte `reg`: its offset and
 * the next visible one; false if reg is in no visible capability. */
static bool visible_cap(const struct vpci_func *vf, unsigned reg, unsigned *at, unsigned *next)
{
	unsigned off[NVISIBLE], len[NVISIBLE];
	unsigned n = visible_caps(vf, off, len);

	for (unsigned i = 0; i < n; i++) {
		if (reg < off[i] || reg >= cap_end(vf->host, off[i], len[i]))
			continue;
		*at = off[i];
		*next = next_visible(vf, off[i]);
		return true;
	}
	return false;
}

/* Is slot i the upper half of a 64-bit BAR? */
static bool upper_half(const struct pci_func *h, unsigned i)
{
	return i > 0 && h->bar[i - 1].is64 && !h->bar[i].size;
}

/* The value BAR slot i reads. */
static uint32_t bar_read(const struct vpci_func *vf, unsigned i)
{
	const struct pci_func *h = vf->host;
	bool sizing = vf->sizing & (1u << i);

	if (i >= h->nbars)
		return 0;
	if (upper_half(h, i)) {
		const struct pci_bar *lo = &h->bar[i - 1];
		return (uint32_t)((sizing ? ~(lo->size - 1) : lo->base) >> 32);
	}
	const struct pci_bar *bar = &h->bar[i];
	if (!bar->size)
		return 0;
	uint32_t flags = bar->io ? 1u : (bar->is64 ? 4u : 0u) | (bar->prefetch ? 8u : 0u);
	uint32_t v = sizing ? (uint32_t)~(bar->size - 1) : (uint32_t)bar->base;
	return (v & (bar->io ? ~3u : ~0xfu)) | flags;
}

static uint32_t dword_read(const struct vpci_func *vf, unsigned reg)
{
	const struct pci_func *h = vf->host;
	unsigned off, next;

	if (reg >= 0x100)
		return 0;	/* no extended capabilities */
	if (reg >= 0x40) {
		if (!visible_cap(vf, reg, &off, &next))
			return 0;
		bool irq = off == vf->msi.msi || off == vf->msi.msix;
		uint32_t v = irq ? vmsi_cfg_read(&vf->msi, reg) : pci_read(h, reg, 4);
		if (reg == off)	/* the dword with the next pointer in byte 1 */
			v = (v & 0xffff00ffu) | next << 8;
		return v;
	}
	switch (reg) {
	case PCI_COMMAND: {
		uint32_t v = pci_read(h, reg, 4) & ~((uint32_t)PCI_STATUS_CAPS << 16);
		return v | (vf->first_cap ? (uint32_t)PCI_STATUS_CAPS << 16 : 0);
	}
	case 0x10: case 0x14: case 0x18: case 0x1c: case 0x20: case 0x24:
		return h->header_type == 0 ? bar_read(vf, (reg - PCI_BAR0) / 4) : 0;
	case 0x28: case PCI_ROM_TYPE0: case 0x38:
		return 0;
	case PCI_CAP_PTR:
		return vf->first_cap;
	case PCI_INTR_LINE:
		return (pci_read(h, reg, 4) & 0xffff0000u) | vf->intr_line |
		       (vf->intx ? (uint32_t)h->intx_pin << 8 : 0);
	default:
		return pci_read(h, reg, 4);	/* identity, class, header, subsystem */
	}
}

/* May the guest write config byte reg straight to the device? */
static bool byte_passed(const struct vpci_func *vf, unsigned reg)
{
	const struct pci_func *h = vf->host;
	unsigned off, next;

	if (reg == 0x0c || reg == 0x0d)	/* cache line size, latency timer */
		return true;
	if (reg < 0x40 || reg >= 0x100 || !visible_cap(vf, reg, &off, &next))
		return false;
	if (off == vf->msi.msi || off == vf->msi.msix)
		return false;	/* vmsi's */
	if (off == h->cap_pm)
		return reg - off == PM_CTRL || reg - off == PM_CTRL + 1;
	return reg - off >= PCIE_DEVCTL && reg - off < PCIE_DEVCTL + 4;	/* control, status */
}

static void bar_write(struct vpci_func *vf, unsigned i, uint32_t v)
{
	const struct pci_func *h = vf->host;
	uint32_t writable;	/* the address bits the device implements in this slot */

	if (i >= h->nbars)
		return;
	if (upper_half(h, i))
		writable = (uint32_t)(~(h->bar[i - 1].size - 1) >> 32);
	else if (h->bar[i].size)
		writable = (uint32_t)~(h->bar[i].size - 1) & (h->bar[i].io ? ~3u : ~0xfu);
	else
		return;
	if (!writable)
		return;	/* the low half of a BAR of 4 GiB or more: reads the same */
	/* Every implemented address bit set, as by all ones (PCI 3.0
	 * 6.2.5.1), or by halves: the guest sizes the BAR. Anything else is
	 * a move, and BARs do not move: dropped. */
	if ((v & writable) == writable)
		vf->sizing |= (uint8_t)(1u << i);
	else
		vf->sizing &= (uint8_t)~(1u << i);
}

static void dword_write(struct vpci_func *vf, unsigned reg, uint32_t v, uint32_t lanes)
{
	struct pci_func *h = vf->host;

	if (reg == PCI_COMMAND) {
		uint32_t mask = lanes & CMD_PASSED;
		if (mask) {
			uint32_t cmd = pci_read(h, PCI_COMMAND, 2);
			pci_write(h, PCI_COMMAND, 2, (cmd & ~mask) | (v & mask));
		}
		uint32_t clear = (v >> 16) & (lanes >> 16) & STATUS_RW1C;
		if (clear)
			pci_write(h, PCI_STATUS, 2, clear);
		return;
	}
	if (reg >= PCI_BAR0 && reg < PCI_BAR0 + 24 && h->header_type == 0) {
		unsigned i = (reg - PCI_BAR0) / 4;
		bar_write(vf, i, (bar_read(vf, i) & ~lanes) | (v & lanes));
		return;
	}
	if (reg == PCI_INTR_LINE) {
		if (lanes & 0xff)
			vf->intr_line = (uint8_t)v;
		return;
	}
	if (vmsi_cfg_owns(&vf->msi, reg) || vmsi_cfg_owns(&vf->msi, reg + 2)) {
		vmsi_cfg_write(&vf->msi, reg, v, lanes);
		return;
	}
	bool flr = false;
	for (unsigned k = 0; k < 4; k++) {
		if (!(lanes & (0xffu << (8 * k))) || !byte_passed(vf, reg + k))
			continue;
		uint8_t byte = (uint8_t)(v >> (8 * k));
		if (h->cap_pcie && reg + k == h->cap_pcie + PCIE_DEVCTL + 1u &&
		    (byte & (PCIE_DEVCTL_FLR >> 8))) {
			flr = true;	/* done by the hypervisor, below */
			byte &= (uint8_t)~(PCIE_DEVCTL_FLR >> 8);
		}
		pci_write(h, reg + k, 1, byte);
	}
	if (flr && pci_flr(h))
		vf->sizing = 0;
}

void vpci_access(struct vpci *b, uint8_t bus, uint8_t devfn, unsigned reg, unsigned size,
		 bool write, uint32_t *val)
{
	struct vpci_func *vf = vpci_find(b, bus, devfn);
	bool bridge = !bus && !devfn;
	bool ok = (size == 1 || size == 2 || size == 4) && !(reg & (size - 1)) && reg < 4096;

	if (!ok || (!vf && !bridge)) {
		b->refused++;
		if (!write)
			*val = ok && size < 4 ? (1u << (8 * size)) - 1 : 0xffffffffu;
		return;
	}
	unsigned shift = 8 * (reg & 3);
	uint32_t mask = size == 4 ? 0xffffffffu : ((1u << (8 * size)) - 1) << shift;
	if (bridge) {	/* read-only, as through 0xcf8 */
		if (!write)
			*val = (reg < 0x100 ? legacy_pci_bridge_read((uint8_t)(reg & 0xfc)) : 0) >> shift &
			       (mask >> shift);
		return;
	}
	if (write)
		dword_write(vf, reg & ~3u, *val << shift, mask);
	else
		*val = (dword_read(vf, reg & ~3u) & mask) >> shift;
}
