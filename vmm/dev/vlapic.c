/*
 * The ICR filter and interrupt delivery; see vlapic.h. ICR layout (x2APIC,
 * SDM Vol. 3A 11.12.9): vector 7:0, delivery mode 10:8, destination mode
 * 11 (1 = logical), level 14, trigger 15, shorthand 19:18, destination
 * 63:32. Logical x2APIC IDs: cluster (ID >> 4) in 31:16, bit (ID & 15) in
 * 15:0 (11.12.10.2).
 */
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/percpu.h"
#include "kernel/printk.h"
#include "vmm/domain.h"
#include "vmm/dev/vlapic.h"

#define APIC_BASE_BSP    (1ull << 8)
#define APIC_BASE_EXTD   (1ull << 10)
#define APIC_BASE_ENABLE (1ull << 11)

enum { DM_FIXED = 0, DM_LOWEST = 1, DM_SMI = 2, DM_NMI = 4, DM_INIT = 5, DM_SIPI = 6, DM_EXTINT = 7 };
enum { SH_NONE = 0, SH_SELF = 1, SH_ALL = 2, SH_OTHERS = 3 };

uint64_t vlapic_apic_base(const struct vcpu *v)
{
	return VLAPIC_BASE | APIC_BASE_ENABLE | APIC_BASE_EXTD |
	       (v == &v->dom->vcpus[0] ? APIC_BASE_BSP : 0);
}

void vcpu_kick(const struct vcpu *v)
{
	if (v->cpu != this_cpu()->cpu_id)
		lapic_send_ipi(v->apic_id, ICR_NMI | ICR_ASSERT);
}

static bool dest_matches(const struct vcpu *t, bool logical, uint32_t dest)
{
	if (dest == 0xffffffffu)
		return true;
	if (!logical)
		return dest == t->apic_id;
	uint32_t ldr = ((t->apic_id >> 4) << 16) | (1u << (t->apic_id & 15));
	return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
}

/* Vectors 0-15 are illegal for fixed delivery (SDM Vol. 3A 11.5.2): the
 * sending LAPIC -- the hypervisor's -- would flag an error. */
static bool send_fixed(const struct vcpu *t, uint8_t vector)
{
	if (vector < 16)
		return false;
	lapic_send_ipi(t->apic_id, vector | ICR_ASSERT);
	return true;
}

struct vcpu *vlapic_first_target(struct domain *d, bool logical, uint32_t dest)
{
	if (!logical && dest == 0xff)
		dest = 0xffffffffu;
	for (uint32_t i = 0; i < d->nvcpus; i++)
		if (dest_matches(&d->vcpus[i], logical, dest))
			return &d->vcpus[i];
	return NULL;
}

void vlapic_deliver(struct domain *d, uint8_t vector, bool logical, uint32_t dest)
{
	if (!logical && dest == 0xff)
		dest = 0xffffffffu;	/* an 8-bit broadcast (IOAPIC) */
	for (uint32_t i = 0; i < d->nvcpus; i++)
		if (dest_matches(&d->vcpus[i], logical, dest))
			send_fixed(&d->vcpus[i], vector);
}

static void refuse(struct vcpu *v, uint64_t icr, const char *why)
{
	struct domain *d = v->dom;

	if (d->ipi_refused++ < 8)
		pr_debug("domain %s: IPI 0x%llx refused: %s\n", d->name, (unsigned long long)icr, why);
}

/* INIT-SIPI-SIPI (SDM Vol. 3A 9.4.4): a vCPU waiting for its SIPI starts
 * in real mode at vector << 12. INIT to a running vCPU is not supported
 * (nothing restarts a single CPU of a domain yet). */
static void start_ipi(struct vcpu *v, struct vcpu *t, unsigned mode, uint64_t icr)
{
	if (t == v) {
		refuse(v, icr, "INIT/SIPI to itself");
		return;
	}
	if (mode == DM_INIT) {
		if (t->state != VCPU_WAIT_SIPI)
			refuse(v, icr, "INIT to a running vCPU");
		return;
	}
	if (t->state != VCPU_WAIT_SIPI)
		return;		/* the second SIPI of the pair: already started */
	t->sipi_vector = (uint8_t)icr;
	t->real_mode_start = true;
	t->regs = (struct guest_regs){ .rflags = 0x2 };	/* bit 1 is always set */
	/* Only from WAIT_SIPI: the domain may be stopping (STOPPED) at once. */
	enum vcpu_state waiting = VCPU_WAIT_SIPI;
	if (__atomic_compare_exchange_n(&t->state, &waiting, VCPU_RUNNING, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		vcpu_kick(t);	/* its CPU is halted, waiting */
}

void vlapic_icr_write(struct vcpu *v, uint64_t icr)
{
	struct domain *d = v->dom;
	unsigned mode = (icr >> 8) & 7, shorthand = (icr >> 18) & 3;
	bool logical = icr & (1u << 11), assert = icr & ICR_ASSERT;
	uint32_t dest = (uint32_t)(icr >> 32);
	bool any = false;

	if (mode == DM_INIT && !assert)
		return;		/* INIT level de-assert: nothing to do */
	for (uint32_t i = 0; i < d->nvcpus; i++) {
		struct vcpu *t = &d->vcpus[i];
		bool hit = shorthand == SH_SELF ? t == v :
			   shorthand == SH_ALL ? true :
			   shorthand == SH_OTHERS ? t != v : dest_matches(t, logical, dest);
		if (!hit)
			continue;
		any = true;
		switch (mode) {
		case DM_FIXED:
		case DM_LOWEST:
			if (!send_fixed(t, (uint8_t)icr)) {
				refuse(v, icr, "illegal vector");
				return;
			}
			if (mode == DM_LOWEST)
				return;		/* one of them */
			break;
		case DM_INIT:
		case DM_SIPI:
			start_ipi(v, t, mode, icr);
			break;
		default:	/* NMI, SMI, ExtINT: not the guest's to send */
			refuse(v, icr, "delivery mode not allowed");
			return;
		}
	}
	/* A destination with no CPU of the domain in it (a foreign CPU, or
	 * none at all) reaches nobody. Broadcast shorthands reach only the
	 * domain's own CPUs: foreign ones are never signalled. */
	if (!any && shorthand == SH_NONE)
		refuse(v, icr, "no CPU of the domain at that destination");
}
