/* A domain's PCI functions; see passthrough.h. */
#include "drivers/iommu/iommu.h"
#include "drivers/pci.h"
#include "kernel/console.h"
#include "kernel/errno.h"
#include "kernel/palloc.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "drivers/uart16550.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/paging.h"
#include "vmm/acpi_guest.h"
#include "vmm/domain.h"
#include "vmm/passthrough.h"
#include "vmm/dev/vlapic.h"

#define ECAM_SIZE      (256ull << 20)	/* 256 buses of 1 MiB */
#define ECAM_FALLBACK  0xe0000000ull	/* without a host MCFG */
#define IOPM_PAGES     3		/* SVM's 12 KiB; VMX uses the first 8 */
#define LEGACY_IO_END  0x1000		/* ports below: the domain's emulated platform */
#define CLASS_HOST_BRIDGE 0x0600
#define CLASS_PCI_BRIDGE  0x0604

static uint64_t page_down(uint64_t a) { return a & ~(PAGE_SIZE - 1); }
static uint64_t page_up(uint64_t a) { return (a + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); }

static bool overlaps(uint64_t a, uint64_t asize, uint64_t b, uint64_t bsize)
{
	return a < b + bsize && b < a + asize;
}

/* Is (seg, bus, devfn) in the domain's configuration? */
static bool configured(const struct domain *d, const struct pci_func *f)
{
	for (uint32_t i = 0; i < d->cfg->ndevices; i++) {
		const struct config_device *c = &d->cfg->devices[i];
		if (c->segment == f->seg && c->bus == f->bus && c->devfn == f->devfn)
			return true;
	}
	return false;
}

static const char *bdf(const struct pci_func *f, char *buf)
{
	return pci_bdf_str(f->seg, f->bus, f->devfn, buf);
}

/* Does the hypervisor's console live in one of f's BARs? */
static bool drives_console(const struct pci_func *f)
{
	const struct uart *u = console_uart();

	for (unsigned i = 0; i < f->nbars; i++) {
		const struct pci_bar *b = &f->bar[i];
		if (b->size && b->io == !u->mmio && u->base >= b->base && u->base - b->base < b->size)
			return true;
	}
	return false;
}

struct rmrr_check {
	const struct domain *d;
	uint64_t base, end;	/* the first collision, if any */
	bool collides;
};

static void rmrr_collides(void *ctx, uint64_t base, uint64_t end)
{
	struct rmrr_check *c = ctx;

	if (!c->collides && base < c->d->mem_size) {
		c->collides = true;
		c->base = base;
		c->end = end;
	}
}

/* Its BARs, held against the domain's RAM and every BAR of functions it
 * does not get; a reason for the refusal in why, or false. */
static bool bars_refused(const struct domain *d, const struct pci_func *f, char *why, size_t len)
{
	for (unsigned i = 0; i < f->nbars; i++) {
		const struct pci_bar *b = &f->bar[i];
		if (!b->size)
			continue;
		if (b->io) {
			if (b->base < LEGACY_IO_END || b->base + b->size > 0x10000) {
				hv_snprintf(why, len, "has I/O BAR %u at 0x%llx, among the legacy ports a domain's platform emulates",
					    i, (unsigned long long)b->base);
				return true;
			}
			continue;
		}
		if (!b->base) {
			hv_snprintf(why, len, "has BAR %u unassigned (the firmware left it at 0)", i);
			return true;
		}
		if (b->base < d->mem_size) {
			hv_snprintf(why, len, "has BAR %u at 0x%llx, inside the domain's RAM (0-0x%llx): give the domain less memory",
				    i, (unsigned long long)b->base, (unsigned long long)d->mem_size);
			return true;
		}
		if (b->base + b->size < b->base || b->base + b->size > CONFIG_PHYS_LIMIT) {
			hv_snprintf(why, len, "has BAR %u beyond the physical address space", i);
			return true;
		}
		/* A BAR smaller than a page shares its page with whatever else
		 * the firmware put there: only the domain's own may be. */
		uint64_t lo = page_down(b->base), hi = page_up(b->base + b->size);
		for (uint32_t k = 0; k < pci_count(); k++) {
			const struct pci_func *g = pci_func_at(k);
			if (g == f || configured(d, g))
				continue;
			for (unsigned j = 0; j < g->nbars; j++) {
				const struct pci_bar *o = &g->bar[j];
				char other[16];
				if (o->size && !o->io && o->base && overlaps(lo, hi - lo, o->base, o->size)) {
					hv_snprintf(why, len, "has BAR %u in the same 4 KiB page as BAR %u of %s, which the domain does not get",
						    i, j, bdf(g, other));
					return true;
				}
			}
		}
	}
	return false;
}

/* Why the function at c cannot go to d (into why), or NULL if it can. */
static struct pci_func *check_device(const struct domain *d, const struct config_device *c,
				     char *why, size_t len)
{
	struct pci_func *f = pci_find(c->segment, c->bus, c->devfn);
	char other[16];

	if (!f) {
		hv_snprintf(why, len, "does not exist on this machine");
		return NULL;
	}
	if (f->class_code >> 8 == CLASS_HOST_BRIDGE) {
		hv_snprintf(why, len, "is a host bridge");
		return NULL;
	}
	if (f->header_type != 0 || f->class_code >> 8 == CLASS_PCI_BRIDGE) {
		hv_snprintf(why, len, "is a bridge (header type %u): pass the functions behind it instead",
			    f->header_type);
		return NULL;
	}
	if (iommu_is_unit(f)) {
		hv_snprintf(why, len, "is the IOMMU");
		return NULL;
	}
	if (drives_console(f)) {
		hv_snprintf(why, len, "drives the hypervisor's console");
		return NULL;
	}
	if (f->owner) {
		hv_snprintf(why, len, "already belongs to domain %s", f->owner);
		return NULL;
	}
	for (uint32_t k = 0; k < pci_count(); k++) {
		const struct pci_func *g = pci_func_at(k);
		if (g != f && g->seg == f->seg && g->rid == f->rid && !configured(d, g)) {
			hv_snprintf(why, len, "shares its requester ID with %s, which the domain does not get: give it both",
				    bdf(g, other));
			return NULL;
		}
	}
	if (bars_refused(d, f, why, len))
		return NULL;
	for (uint32_t k = 0; f->intx_pin && f->gsi_known && k < pci_count(); k++) {
		const struct pci_func *g = pci_func_at(k);
		if (g != f && g->owner && g->intx_pin && g->gsi_known && g->gsi == f->gsi) {
			hv_snprintf(why, len, "shares its INTx line (GSI %u) with %s of domain %s: give both to one domain",
				    f->gsi, bdf(g, other), g->owner);
			return NULL;
		}
	}
	if (!iommu_present()) {
		hv_snprintf(why, len, "needs an IOMMU, none found (no DMAR/IVRS)");
		return NULL;
	}
	if (!iommu_covers(f)) {
		hv_snprintf(why, len, "is behind no %s unit (not in the ACPI tables' scopes)", iommu_name());
		return NULL;
	}
	struct rmrr_check rc = { .d = d };
	iommu_reserved_ranges(f, rmrr_collides, &rc);
	if (rc.collides) {
		hv_snprintf(why, len, "has firmware-reserved DMA memory 0x%llx-0x%llx inside the domain's RAM: give the domain less memory",
			    (unsigned long long)rc.base, (unsigned long long)rc.end);
		return NULL;
	}
	return f;
}

/* The guest's ECAM window: the host's address (so it collides with no
 * BAR the firmware placed), above the domain's RAM; 0 if there is no
 * room. */
static uint64_t ecam_place(const struct domain *d, struct pci_func *const *hosts, uint32_t n)
{
	uint64_t base = ECAM_FALLBACK;
	uint8_t first, last;

	if (pci_ecam_window(0, &base, &first, &last))
		base -= (uint64_t)first << 20;
	if (base < d->mem_size || base + ECAM_SIZE > 0xfec00000ull)
		return 0;
	for (uint32_t i = 0; i < n; i++)
		for (unsigned k = 0; k < hosts[i]->nbars; k++) {
			const struct pci_bar *b = &hosts[i]->bar[k];
			if (b->size && !b->io && overlaps(base, ECAM_SIZE, b->base, b->size))
				return 0;
		}
	return base;
}

static void unity_map(void *ctx, uint64_t base, uint64_t end)
{
	struct domain *d = ctx;

	if (iommu_map(&d->iommu, base, base, end - base))
		pr_warn("domain %s: cannot map firmware-reserved DMA memory 0x%llx-0x%llx\n",
			d->name, (unsigned long long)base, (unsigned long long)end);
}

/* The domain's I/O address space: its RAM at its guest-physical
 * addresses, and the firmware-reserved ranges of its devices 1:1. */
static int build_iommu(struct domain *d, struct pci_func *const *hosts, uint32_t n)
{
	int err = iommu_domain_init(&d->iommu, (uint16_t)(d->id + 1));
	uint64_t gpa = 0;

	for (uint32_t i = 0; !err && i < d->nranges; i++) {
		err = iommu_map(&d->iommu, gpa, d->ram[i].hpa, d->ram[i].size);
		gpa += d->ram[i].size;
	}
	for (uint32_t i = 0; !err && i < n; i++)
		iommu_reserved_ranges(hosts[i], unity_map, d);
	if (err)
		pr_err("domain %s: cannot build its %s tables (error %d)\n", d->name, iommu_name(), err);
	return err;
}

/* [lo, hi) of a memory BAR into the domain's EPT/NPT (uncached), but for
 * the pages vmsi traps (its MSI-X table and PBA). */
static int map_bar_pages(struct domain *d, const struct vmsi *m, uint64_t lo, uint64_t hi)
{
	for (uint64_t p = lo; p < hi;) {
		uint64_t end = p;
		while (end < hi && !vmsi_msix_contains(m, end))
			end += PAGE_SIZE;
		if (end > p) {
			int err = pt_map(&d->slat, p, p, end - p, PT_READ | PT_WRITE | PT_USER | PT_UC);
			if (err)
				return err;
		}
		p = end + PAGE_SIZE;	/* past the trapped page, if any */
	}
	return 0;
}

/* BARs into the domain's EPT/NPT (uncached) and I/O bitmap. */
static int map_bars(struct domain *d, const struct vpci_func *vf)
{
	const struct pci_func *f = vf->host;

	for (unsigned i = 0; i < f->nbars; i++) {
		const struct pci_bar *b = &f->bar[i];
		if (!b->size)
			continue;
		if (b->io) {
			if (!d->iopm) {
				d->iopm = alloc_pages(IOPM_PAGES, PAGE_SIZE, 0);
				if (!d->iopm)
					return trace_error(-ENOMEM);
				memset((void *)(uintptr_t)d->iopm, 0xff, IOPM_PAGES * PAGE_SIZE);
			}
			uint8_t *bm = (uint8_t *)(uintptr_t)d->iopm;
			for (uint64_t p = b->base; p < b->base + b->size; p++)
				bm[p / 8] &= (uint8_t)~(1u << (p % 8));
			continue;
		}
		int err = map_bar_pages(d, &vf->msi, page_down(b->base), page_up(b->base + b->size));
		if (err)
			return err;
	}
	return 0;
}

#define RTE_ACTIVE_LOW (1ull << 13)
#define RTE_LEVEL      (1ull << 15)

/* May the domain's IOAPIC entry for a device pin be sent? Its remapping
 * entry then (fixed or lowest priority, to a CPU of the domain by its
 * APIC ID there, or the first its logical destination names; vector
 * 16-255; trigger and polarity are the host's). */
static bool intx_irq(const struct domain *d, const struct pci_func *f, unsigned gsi,
		     struct iommu_irq *irq)
{
	struct vioapic_msg m;

	if (!vioapic_route(&d->ioapic, gsi, &m) || m.delivery > 1 || m.vector < 16)
		return false;
	uint32_t to = m.logical ? vlapic_logical_first(d, m.dest) : m.dest;
	if (to >= d->nvcpus)
		return false;	/* the domain's APIC IDs are 0..n-1 */
	*irq = (struct iommu_irq){ .dest = d->vcpus[to].apic_id, .vector = m.vector,
				   .lowest = m.delivery == 1, .level = f->gsi_level };
	return true;
}

/* The real pin as the domain's IOAPIC entry for it says (masked unless
 * it may be sent). */
static void intx_apply(struct domain *d, struct vpci_func *vf)
{
	const struct pci_func *f = vf->host;
	struct ioapic_pin at;
	struct iommu_irq irq;
	/* Masked, the pin keeps the host's trigger mode: a level line that
	 * rises while masked is delivered when the domain unmasks it. */
	const uint64_t masked = IOAPIC_RTE_MASKED | (f->gsi_level ? RTE_LEVEL : 0) |
				(f->gsi_low ? RTE_ACTIVE_LOW : 0);
	uint64_t rte = masked;
	char name[16];

	if (!ioapic_find_gsi(f->gsi, &at))
		return;
	if (intx_irq(d, f, f->gsi, &irq)) {
		if (iommu_ioapic_route(at.id, at.pin, &irq, &rte) == 0)
			rte |= f->gsi_low ? RTE_ACTIVE_LOW : 0;
		else
			rte = masked;
	} else if (!(d->ioapic.rte[f->gsi] & IOAPIC_RTE_MASKED) && d->vpci.refused++ < 8) {
		pr_info("domain %s: device %s INTx (GSI %u): IOAPIC entry 0x%llx is not a fixed interrupt to a CPU of the domain: masked\n",
			d->name, bdf(f, name), f->gsi, (unsigned long long)d->ioapic.rte[f->gsi]);
	}
	ioapic_set_rte(at.addr, at.pin, rte);
}

void passthrough_intx_sync(struct domain *d)
{
	for (uint32_t i = 0; i < d->vpci.n; i++) {
		struct vpci_func *vf = &d->vpci.funcs[i];
		if (!vf->intx || d->ioapic.rte[vf->host->gsi] == vf->intx_seen)
			continue;
		vf->intx_seen = d->ioapic.rte[vf->host->gsi];
		intx_apply(d, vf);
	}
}

/* Mask the real pin and clear its remote IRR (a level interrupt the
 * domain never acknowledged): an edge-triggered entry has none. */
static void intx_off(struct vpci_func *vf)
{
	struct ioapic_pin at;

	if (!vf->intx || !ioapic_find_gsi(vf->host->gsi, &at))
		return;
	ioapic_set_rte(at.addr, at.pin, IOAPIC_RTE_MASKED);
	if (vf->host->gsi_level)
		ioapic_set_rte(at.addr, at.pin, IOAPIC_RTE_MASKED | RTE_LEVEL);
	vf->intx_seen = ~0ull;
}

/*
 * Function i's INTx for the domain: the host's GSI (from its _PRT), on
 * the domain's IOAPIC pin of the same number, delivered by the real
 * IOAPIC through a remapping entry to the CPU and vector the domain
 * programs. Without remapping, a known GSI, a unit that remaps IOAPIC
 * pins, the pin reads 0 and a line says why.
 */
static void setup_intx(struct domain *d, struct vpci_func *vf)
{
	const struct pci_func *f = vf->host;
	const struct iommu_irq probe = { .dest = d->vcpus[0].apic_id, .vector = 0x20,
					 .level = f->gsi_level };
	struct ioapic_pin at;
	uint64_t rte;
	char name[16], unit[64];
	const char *why = NULL;
	int err = 0;

	if (!f->intx_pin)
		return;
	if (!iommu_ir_on())
		why = "no interrupt remapping";
	else if (!f->gsi_known)
		why = "the host's ACPI routing (_PRT) does not say its GSI";
	else if (f->gsi >= VIOAPIC_PINS)
		why = "its GSI is beyond the domain's IOAPIC";
	else if (!ioapic_find_gsi(f->gsi, &at))
		why = "no IOAPIC has its GSI";
	else if ((err = iommu_ioapic_route(at.id, at.pin, &probe, &rte)) != 0) {
		hv_snprintf(unit, sizeof(unit), "IOAPIC lines are not routed through %s remapping",
			    iommu_name());
		why = err == -ENOTSUP ? unit : err == -ENODEV ? "no IOMMU unit lists its IOAPIC" :
		      "no remapping entry for its IOAPIC pin";
	}
	if (why) {
		pr_info("domain %s: device %s: INTx not passed through (%s): it has MSI/MSI-X only\n",
			d->name, bdf(f, name), why);
		return;
	}
	vf->intx = true;
	intx_off(vf);
	pr_info("domain %s: device %s INTx at GSI %u (%s, active %s), through %s remapping\n",
		d->name, bdf(f, name), f->gsi, f->gsi_level ? "level" : "edge",
		f->gsi_low ? "low" : "high", iommu_name());
}

/*
 * Function i's MSI and MSI-X for the domain: shown only with interrupt
 * remapping (without it a guest could aim the device's messages at any
 * CPU); the MSI-X table's pages are reached by the hypervisor (uncached)
 * and trapped for the guest.
 */
static int setup_irqs(struct domain *d, uint32_t i)
{
	struct vpci_func *vf = &d->vpci.funcs[i];
	const struct pci_func *f = vf->host;
	uint32_t cpus[DOMAIN_MAX_VCPUS];
	char name[16];

	setup_intx(d, vf);
	if (!f->cap_msi && !f->cap_msix)
		return 0;
	if (!iommu_ir_on()) {
		pr_warn("domain %s: device %s: no interrupt remapping (%s): its MSI and MSI-X are not shown, so it has no interrupts\n",
			d->name, bdf(f, name), iommu_present() ? iommu_name() : "no IOMMU");
		return 0;
	}
	unsigned n = vmsi_msix_size(f);
	struct vmsix_entry *ent = NULL;
	if (n) {
		size_t bytes = n * sizeof(*ent);
		uint64_t pa = alloc_pages((bytes + PAGE_SIZE - 1) / PAGE_SIZE, PAGE_SIZE, 0);
		if (!pa)
			return trace_error(-ENOMEM);
		ent = (struct vmsix_entry *)(uintptr_t)pa;
	}
	for (uint32_t k = 0; k < d->nvcpus; k++)
		cpus[k] = d->vcpus[k].apic_id;
	vpci_init_irqs(&d->vpci, i, true, n != 0, ent, cpus, d->nvcpus, 0);
	vf->msi.logical = vlapic_logical_first;
	vf->msi.logical_ctx = d;
	for (unsigned k = 0; n && k < 2; k++) {
		uint64_t lo = vf->msi.trap_lo[k], hi = vf->msi.trap_hi[k];
		if (hi > 0x100000000ull) {
			int err = paging_map((uintptr_t)lo, lo, hi - lo, PT_READ | PT_WRITE | PT_UC);
			if (err)
				return err;
		}
	}
	return 0;
}

void passthrough_release(struct domain *d)
{
	for (uint32_t i = 0; i < d->vpci.n; i++) {
		struct pci_func *f = d->vpci.funcs[i].host;
		vmsi_release(&d->vpci.funcs[i].msi);
		intx_off(&d->vpci.funcs[i]);
		pci_quiesce(f);
		iommu_detach(&d->iommu, f);
		f->owner = NULL;
		f->dma_faults = NULL;
	}
	d->vpci.n = 0;
	/* The I/O tables and the bitmap stay allocated: a few pages per
	 * failed domain, at boot. */
}

int passthrough_assign(struct domain *d)
{
	struct pci_func *hosts[CONFIG_MAX_DEVICES];
	uint32_t n = 0;
	char why[160], name[16];

	d->vpci.n = 0;
	for (uint32_t i = 0; i < d->cfg->ndevices; i++) {
		const struct config_device *c = &d->cfg->devices[i];
		struct pci_func *f = check_device(d, c, why, sizeof(why));
		if (!f) {
			pr_err("domain %s: device %s %s\n", d->name,
			       pci_bdf_str(c->segment, c->bus, c->devfn, name), why);
			return trace_error(-EINVAL);
		}
		hosts[n++] = f;
	}
	if (!n)
		return 0;
	d->ecam_gpa = ecam_place(d, hosts, n);
	if (!d->ecam_gpa) {
		pr_err("domain %s: its RAM (0-0x%llx) reaches the PCI configuration window its devices need: give the domain less memory\n",
		       d->name, (unsigned long long)d->mem_size);
		return trace_error(-EINVAL);
	}
	int err = build_iommu(d, hosts, n);
	vpci_init(&d->vpci, hosts, n);	/* from here on, release undoes it */
	for (uint32_t i = 0; !err && i < n; i++) {
		err = setup_irqs(d, i);
		if (!err)
			err = map_bars(d, &d->vpci.funcs[i]);
		if (!err)
			err = iommu_attach(&d->iommu, hosts[i]);
		if (err)
			pr_err("domain %s: device %s cannot be set up (error %d)\n", d->name,
			       bdf(hosts[i], name), err);
		hosts[i]->owner = d->name;
		hosts[i]->dma_faults = &d->dma_faults;
	}
	if (err) {
		passthrough_release(d);
		return err;
	}
	for (uint32_t i = 0; i < n; i++) {
		char as[16];
		pr_info("domain %s: device %s (%04x:%04x) as %s, DMA fenced by %s\n", d->name,
			bdf(hosts[i], name), hosts[i]->vendor, hosts[i]->device,
			pci_bdf_str(0, 0, d->vpci.funcs[i].devfn, as), iommu_name());
	}
	return 0;
}

void passthrough_quiesce(struct domain *d)
{
	for (uint32_t i = 0; i < d->vpci.n; i++) {
		vmsi_reset(&d->vpci.funcs[i].msi);	/* its vectors blocked first */
		intx_off(&d->vpci.funcs[i]);
		pci_quiesce(d->vpci.funcs[i].host);
		d->vpci.funcs[i].sizing = 0;
		d->vpci.funcs[i].intr_line = 0;
	}
}

bool passthrough_acpi(const struct domain *d, struct acpi_guest_pci *out)
{
	if (!d->vpci.n)
		return false;
	memset(out, 0, sizeof(*out));
	out->ecam_base = d->ecam_gpa;
	out->segment = 0;
	out->bus_start = 0;
	out->bus_end = 255;
	for (uint32_t i = 0; i < d->vpci.n; i++) {
		const struct vpci_func *vf = &d->vpci.funcs[i];
		const struct pci_func *f = vf->host;
		if (vf->intx && out->nprt < ACPI_GUEST_PCI_PRT) {
			out->prt[out->nprt].slot = (uint8_t)(vf->devfn >> 3);
			out->prt[out->nprt].pin = (uint8_t)(f->intx_pin - 1);
			out->prt[out->nprt].gsi = f->gsi;
			out->nprt++;
		}
		for (unsigned k = 0; k < f->nbars && out->nwindows < ACPI_GUEST_PCI_WINDOWS; k++) {
			const struct pci_bar *b = &f->bar[k];
			if (!b->size)
				continue;
			out->windows[out->nwindows].base = b->io ? b->base : page_down(b->base);
			out->windows[out->nwindows].size =
				b->io ? b->size : page_up(b->base + b->size) - page_down(b->base);
			out->windows[out->nwindows].kind = b->io ? ACPI_WIN_IO :
							   b->prefetch ? ACPI_WIN_MEM_PREF : ACPI_WIN_MEM;
			out->nwindows++;
		}
	}
	return true;
}

uint64_t passthrough_ecam_size(void) { return ECAM_SIZE; }

bool passthrough_ecam_contains(const struct domain *d, uint64_t gpa)
{
	return d->ecam_gpa && gpa >= d->ecam_gpa && gpa - d->ecam_gpa < ECAM_SIZE;
}

void passthrough_ecam_access(struct domain *d, uint64_t gpa, unsigned size, bool write,
			     uint32_t *val)
{
	uint64_t off = gpa - d->ecam_gpa;

	if (size > 4 || (write && !d->running)) {
		if (!write)
			*val = 0xffffffffu;
		d->vpci.refused++;
		return;
	}
	vpci_access(&d->vpci, (uint8_t)(off >> 20), (uint8_t)(off >> 12), (unsigned)(off & 0xfff),
		    size, write, val);
}

struct vmsi *passthrough_msix_find(struct domain *d, uint64_t gpa)
{
	for (uint32_t i = 0; i < d->vpci.n; i++)
		if (vmsi_msix_contains(&d->vpci.funcs[i].msi, gpa))
			return &d->vpci.funcs[i].msi;
	return NULL;
}

void passthrough_cf8_access(void *domain, uint8_t bus, uint8_t devfn, unsigned reg,
			    unsigned size, bool in, uint32_t *val)
{
	struct domain *d = domain;

	if (!in && !d->running)
		return;		/* stopping: its devices stay quiet */
	vpci_access(&d->vpci, bus, devfn, reg, size, !in, val);
}
