/*
 * The vendor-neutral half of the IOMMU; see iommu.h. The unit driver is
 * picked from the ACPI tables alone: a DMAR means VT-d, an IVRS AMD-Vi,
 * whatever the CPU is (QEMU gives any pairing).
 */
#include "drivers/iommu/iommu.h"
#include "drivers/pci.h"
#include "kernel/acpi.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"

/* Fault lines per function before they are only counted; after that one
 * line at every power of two. */
#define FAULT_LINES 8

static const struct iommu_ops *ops;
static uint32_t fault_apic_id;	/* the boot CPU's, which serves the console */
static struct spinlock poll_lock = SPINLOCK_INIT;

int iommu_init(const struct acpi_info *acpi, uint32_t nmi_apic_id)
{
	const struct iommu_ops *o = acpi->dmar.present ? &vtd_ops :
				    acpi->ivrs.present ? &amdvi_ops : NULL;

	ops = NULL;	/* until a unit is up */
	if (acpi->dmar.present && acpi->ivrs.present)
		pr_warn("iommu: both DMAR and IVRS tables: using the DMAR (VT-d)\n");
	if (!o) {
		pr_info("iommu: none found (no DMAR/IVRS): no device can be passed through\n");
		return 0;
	}
	fault_apic_id = nmi_apic_id;
	int err = o->init(acpi);
	if (err) {
		pr_err("iommu: %s could not be set up (error %d): no device can be passed through\n",
		       o->name, err);
		return err;
	}
	ops = o;
	pr_info("iommu: %s on: every device's DMA blocked until a domain takes it\n", o->name);
	return 0;
}

bool iommu_present(void) { return ops != NULL; }
const char *iommu_name(void) { return ops ? ops->name : "none"; }
bool iommu_covers(const struct pci_func *f) { return ops && ops->covers(f); }
bool iommu_is_unit(const struct pci_func *f) { return ops && ops->is_unit(f); }

int iommu_domain_init(struct iommu_domain *d, uint16_t id)
{
	if (!ops || !id)
		return trace_error(-ENODEV);
	int err = pt_init(&d->pt, ops->pt_format(), ops->pt_mem());
	if (err)
		return err;
	d->id = id;
	d->ready = true;
	return 0;
}

int iommu_map(struct iommu_domain *d, uint64_t iova, uint64_t hpa, uint64_t size)
{
	if (!d->ready)
		return trace_error(-ENODEV);
	int err = pt_map(&d->pt, iova, hpa, size, PT_READ | PT_WRITE);
	if (!err)
		ops->flush(d);
	return err;
}

int iommu_attach(struct iommu_domain *d, const struct pci_func *f)
{
	if (!d->ready)
		return trace_error(-ENODEV);
	return ops->attach(d, f);	/* -ENODEV where no unit covers f */
}

void iommu_detach(struct iommu_domain *d, const struct pci_func *f)
{
	if (d->ready && ops)
		ops->detach(d, f);
}

unsigned iommu_reserved_ranges(const struct pci_func *f,
			       void (*fn)(void *ctx, uint64_t base, uint64_t end), void *ctx)
{
	return ops ? ops->reserved(f, fn, ctx) : 0;
}

void iommu_poll_faults(void)
{
	if (!ops || !spin_trylock(&poll_lock))
		return;
	ops->poll_faults();
	spin_unlock(&poll_lock);
}

bool iommu_ir_on(void) { return ops && ops->ir_on && ops->ir_on(); }
bool iommu_ir_x2apic(void) { return iommu_ir_on() && ops->ir_x2apic(); }

int iommu_irq_alloc(uint16_t seg, uint16_t rid, unsigned n)
{
	if (!iommu_ir_on())
		return trace_error(-ENODEV);
	if (!n || n > 32 || (n & (n - 1)))
		return trace_error(-EINVAL);
	return ops->irq_alloc(seg, rid, n);
}

void iommu_irq_free(uint16_t seg, uint16_t rid, unsigned index, unsigned n)
{
	if (iommu_ir_on())
		ops->irq_free(seg, rid, index, n);
}

int iommu_irq_set(uint16_t seg, uint16_t rid, unsigned index, const struct iommu_irq *irq)
{
	if (!iommu_ir_on())
		return trace_error(-ENODEV);
	return ops->irq_set(seg, rid, index, irq);
}

void iommu_irq_msi(uint16_t seg, uint16_t rid, unsigned index, struct iommu_msi *msg)
{
	if (iommu_ir_on())
		ops->irq_msi(seg, rid, index, msg);
	else
		*msg = (struct iommu_msi){ 0, 0 };
}

int iommu_ioapic_route(uint32_t ioapic_id, unsigned pin, const struct iommu_irq *irq,
		       uint64_t *rte)
{
	if (!iommu_ir_on())
		return -ENODEV;
	return ops->ioapic_route(ioapic_id, pin, irq, rte);
}

/* Faults from requester IDs that belong to no known function. */
static uint64_t stray_faults;

/* Every fault, and the last few as lines, for the console's `iommu`. */
#define LAST_FAULTS 4
static uint64_t dma_fault_total, irq_fault_total;
static char last_faults[LAST_FAULTS][112];
static uint32_t last_fault_next;

static char *remember_fault(uint64_t *total)
{
	uint32_t i = __atomic_fetch_add(&last_fault_next, 1, __ATOMIC_RELAXED) % LAST_FAULTS;

	__atomic_add_fetch(total, 1, __ATOMIC_RELAXED);
	return last_faults[i];
}

void iommu_fault_totals(uint64_t *dma, uint64_t *irq)
{
	*dma = __atomic_load_n(&dma_fault_total, __ATOMIC_RELAXED);
	*irq = __atomic_load_n(&irq_fault_total, __ATOMIC_RELAXED);
}

const char *iommu_last_fault(uint32_t back)
{
	uint32_t n = __atomic_load_n(&last_fault_next, __ATOMIC_RELAXED);

	if (back >= LAST_FAULTS || back >= n)
		return NULL;
	return last_faults[(n - 1 - back) % LAST_FAULTS];
}

/* Count one fault of rid's function; the count so far, and its owner. */
static uint64_t count_fault(uint16_t seg, uint16_t rid, char *bdf, const char **owner)
{
	const struct pci_func *f = pci_find_rid(seg, rid);

	pci_bdf_str(seg, (uint8_t)(rid >> 8), (uint8_t)rid, bdf);
	*owner = f && f->owner ? f->owner : "no domain";
	if (f && f->dma_faults)
		return __atomic_add_fetch(f->dma_faults, 1, __ATOMIC_RELAXED);
	return ++stray_faults;
}

void iommu_report_fault(uint16_t seg, uint16_t rid, uint64_t addr, const char *what)
{
	const char *owner;
	char bdf[16];
	uint64_t n = count_fault(seg, rid, bdf, &owner);

	hv_snprintf(remember_fault(&dma_fault_total), sizeof(last_faults[0]),
		    "device %s (%s) %s at 0x%llx", bdf, owner, what, (unsigned long long)addr);
	if (n <= FAULT_LINES)
		pr_warn("iommu: fault: device %s (%s) %s at 0x%llx blocked\n", bdf, owner, what,
			(unsigned long long)addr);
	else if (!(n & (n - 1)))
		pr_warn("iommu: fault: device %s (%s): %llu faults so far, all blocked\n", bdf,
			owner, (unsigned long long)n);
}

void iommu_report_irq_fault(uint16_t seg, uint16_t rid, const char *what)
{
	const char *owner;
	char bdf[16];
	uint64_t n = count_fault(seg, rid, bdf, &owner);

	hv_snprintf(remember_fault(&irq_fault_total), sizeof(last_faults[0]),
		    "device %s (%s) interrupt %s", bdf, owner, what);
	if (n <= FAULT_LINES)
		pr_warn("iommu: interrupt fault: device %s (%s) %s: blocked\n", bdf, owner, what);
	else if (!(n & (n - 1)))
		pr_warn("iommu: interrupt fault: device %s (%s): %llu faults so far, all blocked\n",
			bdf, owner, (unsigned long long)n);
}

void iommu_fault_msi(uint32_t *addr, uint32_t *data)
{
	/* MSI address: 0xfee, destination ID in bits 19:12, physical mode;
	 * data: delivery mode NMI (100b in bits 10:8), edge (SDM Vol. 3A
	 * 11.11.1-11.11.2). The vector is ignored for NMIs. An APIC ID above
	 * 255 cannot be named without interrupt remapping: faults are then
	 * found only by polling (domain stop, exit counters). */
	*addr = 0xfee00000u | (fault_apic_id & 0xffu) << 12;
	*data = 4u << 8;
}
