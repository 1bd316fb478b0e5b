/*
 * The host's PCI functions; see pci.h. Configuration space through ECAM
 * (PCI Firmware 3.2, 4.1: MCFG; PCIe 5.0 7.2.2: bus << 20 | devfn << 12 |
 * register) where a window covers the bus, else through mechanism #1
 * (PCI Local Bus 3.0, 3.2.2.3.2), which only reaches segment 0 and the
 * first 256 bytes.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/tsc.h"
#include "drivers/pci.h"
#include "drivers/pci_enum.h"
#include "kernel/acpi.h"
#include "kernel/pgtable.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"

#define CF8_ADDRESS 0xcf8
#define CF8_DATA    0xcfc
#define CF8_ENABLE  (1u << 31)
#define ECAM_BUS_SIZE (1ull << 20)
#define PCIE_DEVCTL        0x08
#define PCIE_DEVCTL_FLR    (1u << 15)
#define PCIE_DEVSTA        0x0a
#define PCIE_DEVSTA_TRPND  (1u << 5)

static struct pci_func funcs[PCI_MAX_FUNCS];
static uint32_t nfuncs;
static uint32_t necam;
static struct acpi_mcfg ecam[ACPI_MAX_MCFG];
static struct spinlock cf8_lock = SPINLOCK_INIT;

static volatile void *ecam_addr(uint16_t seg, uint8_t bus, uint8_t devfn, unsigned off)
{
	for (uint32_t i = 0; i < necam; i++)
		if (ecam[i].segment == seg && bus >= ecam[i].bus_start && bus <= ecam[i].bus_end)
			return (volatile void *)(uintptr_t)(ecam[i].base +
							    ((uint64_t)(bus - ecam[i].bus_start) << 20) +
							    ((uint64_t)devfn << 12) + off);
	return NULL;
}

static bool access_ok(unsigned off, unsigned size)
{
	return (size == 1 || size == 2 || size == 4) && off < 4096 && (off & (size - 1)) == 0;
}

static uint32_t size_mask(unsigned size)
{
	return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

/* With cf8_lock held: address the register; the data port to use. */
static uint16_t cf8_select(uint8_t bus, uint8_t devfn, unsigned off)
{
	outl(CF8_ADDRESS, CF8_ENABLE | (uint32_t)bus << 16 | (uint32_t)devfn << 8 | (off & 0xfc));
	return (uint16_t)(CF8_DATA + (off & 3));
}

uint32_t pci_read_at(uint16_t seg, uint8_t bus, uint8_t devfn, unsigned off, unsigned size)
{
	if (!access_ok(off, size))
		return 0xffffffffu;
	volatile void *p = ecam_addr(seg, bus, devfn, off);
	if (p)
		return size == 4 ? *(volatile uint32_t *)p :
		       size == 2 ? *(volatile uint16_t *)p : *(volatile uint8_t *)p;
	if (seg != 0 || off >= 256)
		return size_mask(size);
	spin_lock(&cf8_lock);
	uint16_t port = cf8_select(bus, devfn, off);
	uint32_t v = size == 4 ? inl(port) : size == 2 ? inw(port) : inb(port);
	spin_unlock(&cf8_lock);
	return v;
}

void pci_write_at(uint16_t seg, uint8_t bus, uint8_t devfn, unsigned off, unsigned size,
		  uint32_t val)
{
	if (!access_ok(off, size))
		return;
	volatile void *p = ecam_addr(seg, bus, devfn, off);
	if (p) {
		if (size == 4)
			*(volatile uint32_t *)p = val;
		else if (size == 2)
			*(volatile uint16_t *)p = (uint16_t)val;
		else
			*(volatile uint8_t *)p = (uint8_t)val;
		return;
	}
	if (seg != 0 || off >= 256)
		return;
	spin_lock(&cf8_lock);
	uint16_t port = cf8_select(bus, devfn, off);
	if (size == 4)
		outl(port, val);
	else if (size == 2)
		outw(port, (uint16_t)val);
	else
		outb(port, (uint8_t)val);
	spin_unlock(&cf8_lock);
}

uint32_t pci_read(const struct pci_func *f, unsigned off, unsigned size)
{
	return pci_read_at(f->seg, f->bus, f->devfn, off, size);
}

void pci_write(const struct pci_func *f, unsigned off, unsigned size, uint32_t val)
{
	pci_write_at(f->seg, f->bus, f->devfn, off, size, val);
}

static uint32_t hw_read(void *ctx, uint16_t seg, uint8_t bus, uint8_t devfn, unsigned off,
			unsigned size)
{
	(void)ctx;
	return pci_read_at(seg, bus, devfn, off, size);
}

static void hw_write(void *ctx, uint16_t seg, uint8_t bus, uint8_t devfn, unsigned off,
		     unsigned size, uint32_t val)
{
	(void)ctx;
	pci_write_at(seg, bus, devfn, off, size, val);
}

static const struct pci_cfg_ops hw_ops = { .read = hw_read, .write = hw_write };

/* Is mechanism #1 there? (PCI 3.0 3.2.2.3.2: the address register reads
 * back what was written; nothing else does at 0xcf8.) */
static bool cf8_works(void)
{
	spin_lock(&cf8_lock);
	uint32_t old = inl(CF8_ADDRESS);
	outl(CF8_ADDRESS, CF8_ENABLE);
	bool ok = inl(CF8_ADDRESS) == CF8_ENABLE;
	outl(CF8_ADDRESS, old);
	spin_unlock(&cf8_lock);
	return ok;
}

int pci_init(const struct acpi_info *acpi)
{
	int err = 0;

	necam = 0;
	for (uint32_t i = 0; i < acpi->nmcfg && necam < ACPI_MAX_MCFG; i++) {
		const struct acpi_mcfg *m = &acpi->mcfg[i];
		uint64_t size = (uint64_t)(m->bus_end - m->bus_start + 1) * ECAM_BUS_SIZE;
		/* Uncached, whatever the identity map says. */
		if (paging_map((uintptr_t)m->base, m->base, size, PT_READ | PT_WRITE | PT_UC)) {
			pr_warn("pci: cannot map the ECAM window at 0x%llx: not using it\n",
				(unsigned long long)m->base);
			continue;
		}
		ecam[necam++] = *m;
	}
	nfuncs = 0;
	for (uint32_t i = 0; i < necam; i++) {
		int e = pci_enumerate(&hw_ops, ecam[i].segment, ecam[i].bus_start, ecam[i].bus_end,
				      funcs, PCI_MAX_FUNCS, &nfuncs);
		if (e == -ENOSPC)
			pr_warn("pci: more than %u functions: the rest are ignored\n", PCI_MAX_FUNCS);
		if (e)
			err = e;
	}
	if (!necam) {
		if (!cf8_works()) {
			pr_warn("pci: no ECAM (MCFG) and no configuration mechanism #1: no PCI\n");
			return trace_error(-ENODEV);
		}
		err = pci_enumerate(&hw_ops, 0, 0, 255, funcs, PCI_MAX_FUNCS, &nfuncs);
	}
	for (uint32_t i = 0; i < nfuncs; i++) {
		struct pci_func *f = &funcs[i];
		struct acpi_prt_entry e;
		uint8_t pin = f->header_type == 0 ? (uint8_t)pci_read(f, PCI_INTR_LINE + 1, 1) : 0;
		f->intx_pin = pin <= 4 ? pin : 0;
		if (f->intx_pin && !f->parent &&
		    acpi_prt_lookup(&acpi->prt, f->devfn >> 3, (uint8_t)(f->intx_pin - 1), &e)) {
			f->gsi_known = true;
			f->gsi = e.gsi;
			f->gsi_level = e.level;
			f->gsi_low = e.active_low;
		}
	}
	pr_info("pci: %u functions (%s)\n", nfuncs,
		necam ? "ECAM" : "configuration mechanism #1, no MCFG");
	return err == -ENOSPC ? 0 : err;
}

uint32_t pci_count(void) { return nfuncs; }

struct pci_func *pci_func_at(uint32_t i) { return i < nfuncs ? &funcs[i] : NULL; }

struct pci_func *pci_find(uint16_t seg, uint8_t bus, uint8_t devfn)
{
	for (uint32_t i = 0; i < nfuncs; i++)
		if (funcs[i].seg == seg && funcs[i].bus == bus && funcs[i].devfn == devfn)
			return &funcs[i];
	return NULL;
}

struct pci_func *pci_find_rid(uint16_t seg, uint16_t rid)
{
	for (uint32_t i = 0; i < nfuncs; i++)
		if (funcs[i].seg == seg && funcs[i].rid == rid)
			return &funcs[i];
	return NULL;
}

bool pci_ecam_window(uint16_t seg, uint64_t *base, uint8_t *bus_start, uint8_t *bus_end)
{
	for (uint32_t i = 0; i < necam; i++)
		if (ecam[i].segment == seg) {
			*base = ecam[i].base;
			*bus_start = ecam[i].bus_start;
			*bus_end = ecam[i].bus_end;
			return true;
		}
	return false;
}

static const char *size_str(uint64_t size, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	unsigned u = 0;

	if (size < 1024) {
		hv_snprintf(buf, len, "%llu", (unsigned long long)size);
		return buf;
	}
	size >>= 10;
	while (size >= 1024 && !(size & 1023) && u < 3) {
		size >>= 10;
		u++;
	}
	hv_snprintf(buf, len, "%llu%c", (unsigned long long)size, units[u]);
	return buf;
}

/* Its BARs, capabilities and requester ID, for the debug line. */
static void print_details(const struct pci_func *f, const char *bdf)
{
	char line[320], sz[16], rid[16];
	int n = 0;

	line[0] = '\0';
	for (unsigned i = 0; i < f->nbars && n >= 0 && (size_t)n < sizeof(line); i++) {
		const struct pci_bar *b = &f->bar[i];
		if (!b->size)
			continue;
		n += hv_snprintf(line + n, sizeof(line) - (size_t)n, " bar%u %s 0x%llx %s", i,
				 b->io ? "io" : b->is64 ? (b->prefetch ? "mem64-pf" : "mem64")
						       : (b->prefetch ? "mem32-pf" : "mem32"),
				 (unsigned long long)b->base, size_str(b->size, sz, sizeof(sz)));
	}
	if (n >= 0 && (size_t)n < sizeof(line))
		hv_snprintf(line + n, sizeof(line) - (size_t)n, "%s%s%s%s%s%s, rid %s", f->cap_pm ? " pm" : "",
			    f->cap_msi ? " msi" : "", f->cap_msix ? " msix" : "",
			    f->cap_pcie ? " pcie" : "", f->flr ? " flr" : "",
			    f->cap_sriov ? " sriov" : "",
			    pci_bdf_str(f->seg, (uint8_t)(f->rid >> 8), (uint8_t)f->rid, rid));
	pr_debug("pci %s: type %u%s\n", bdf, f->header_type, line);
}

void pci_print_all(void)
{
	for (uint32_t i = 0; i < nfuncs; i++) {
		const struct pci_func *f = &funcs[i];
		char bdf[16];
		pci_bdf_str(f->seg, f->bus, f->devfn, bdf);
		pr_info("pci %s %04x:%04x class %04x -> %s\n", bdf, f->vendor, f->device,
			f->class_code >> 8, f->owner ? f->owner : "none");
		print_details(f, bdf);
	}
}

bool pci_flr(struct pci_func *f)
{
	if (!f->flr)
		return false;
	/* PCIe 5.0 6.6.2: wait (bounded) for outstanding requests, reset,
	 * then 100 ms before the function is touched again. */
	for (unsigned i = 0; i < 100 && (pci_read(f, f->cap_pcie + PCIE_DEVSTA, 2) &
					 PCIE_DEVSTA_TRPND); i++)
		udelay(1000);
	uint16_t ctl = (uint16_t)pci_read(f, f->cap_pcie + PCIE_DEVCTL, 2);
	pci_write(f, f->cap_pcie + PCIE_DEVCTL, 2, ctl | PCIE_DEVCTL_FLR);
	udelay(100000);
	/* The reset cleared the BARs; they stay where they were. */
	for (unsigned i = 0; i < f->nbars; i++) {
		const struct pci_bar *b = &f->bar[i];
		if (!b->size)
			continue;
		pci_write(f, PCI_BAR0 + 4 * i, 4, (uint32_t)b->base | (b->io ? 1u : 0u) |
			  (b->is64 ? 4u : 0u) | (b->prefetch ? 8u : 0u));
		if (b->is64)
			pci_write(f, PCI_BAR0 + 4 * (i + 1), 4, (uint32_t)(b->base >> 32));
	}
	return true;
}

void pci_quiesce(struct pci_func *f)
{
	uint16_t cmd = (uint16_t)pci_read(f, PCI_COMMAND, 2);

	pci_write(f, PCI_COMMAND, 2,
		  (cmd & ~(uint32_t)(PCI_CMD_MASTER | PCI_CMD_MEMORY | PCI_CMD_IO)) | PCI_CMD_INTX_OFF);
	if (pci_flr(f))
		pci_write(f, PCI_COMMAND, 2, PCI_CMD_INTX_OFF);
}
