/*
 * The domain's LAPICs: modes, IDs, the xAPIC page, the ICR filter and
 * interrupt delivery; see vlapic.h. ICR layout (x2APIC,
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

enum { DM_FIXED = 0, DM_LOWEST = 1, DM_SMI = 2, DM_NMI = 4, DM_INIT = 5, DM_SIPI = 6, DM_EXTINT = 7 };
enum { SH_NONE = 0, SH_SELF = 1, SH_ALL = 2, SH_OTHERS = 3 };

/* The xAPIC page's registers: arch/x86_64/lapic.h's LAPIC_* offsets. */
#define DFR_FLAT       0xfu	/* DFR bits 31:28: flat model; 0: cluster */

void vlapic_reset(struct vcpu *v, uint32_t index)
{
	v->vapic_id = v->vapic_match = index;
	v->apic_mode = lapic_x2apic() ? VLAPIC_X2APIC : VLAPIC_XAPIC;
	v->xapic_ldr = 0;
	v->xapic_dfr = 0xffffffffu;
	v->xapic_icr_hi = v->xapic_icr_lo = 0;
}


/* The mode transitions of SDM Vol. 3A 11.12.5 (Figure 11-27): x2APIC is
 * entered only from xAPIC and left only for disabled; EXTD without EN is
 * invalid. Disabling resets the LAPIC (the real one: timers, LVTs, TPR,
 * what is in service) and leaves it software-disabled, as at power-on;
 * NMIs, which the hypervisor signals with, are still taken. The base
 * stays at 0xfee00000: a moved APIC is refused (#GP). */
bool vlapic_apic_base_write(struct vcpu *v, uint64_t val)
{
	bool en = val & APIC_BASE_ENABLE, extd = val & APIC_BASE_EXTD;
	enum vlapic_mode to = !en ? VLAPIC_DISABLED : extd ? VLAPIC_X2APIC : VLAPIC_XAPIC;

	if ((val & ~(APIC_BASE_BSP | APIC_BASE_EXTD | APIC_BASE_ENABLE)) != VLAPIC_BASE ||
	    (extd && !en) || (to == VLAPIC_X2APIC && !lapic_x2apic()) ||
	    (v->apic_mode == VLAPIC_X2APIC && to == VLAPIC_XAPIC) ||
	    (v->apic_mode == VLAPIC_DISABLED && to == VLAPIC_X2APIC))
		return false;
	if (to == v->apic_mode)
		return true;
	if (to == VLAPIC_DISABLED) {
		lapic_reset_after_guest();
		lapic_reg_write(LAPIC_SVR, 0xff);
		vlapic_reset(v, v->vapic_id);
	}
	v->apic_mode = (uint8_t)to;
	v->vapic_match = to == VLAPIC_DISABLED ? UINT32_MAX - 1 : v->vapic_id;
	return true;
}

uint32_t vlapic_x2apic_ldr(uint32_t id)
{
	return ((id >> 4) << 16) | (1u << (id & 15));
}

void vcpu_kick(const struct vcpu *v)
{
	if (v->cpu != this_cpu()->cpu_id)
		lapic_send_ipi(v->apic_id, ICR_NMI | ICR_ASSERT);
}

/* Does destination `dest` name t? In t's mode: x2APIC (32-bit IDs,
 * cluster logical IDs from the APIC ID) or xAPIC (8-bit IDs, logical IDs
 * from its LDR in the flat or cluster model of its DFR; 0xff is every
 * CPU, SDM Vol. 3A 11.6.2). The IDs are the domain's: 0..n-1. */
__attribute__((noinline)) static bool xapic_dest_matches(const struct vcpu *t, bool logical,
							   uint8_t d8)
{
	uint8_t ldr = (uint8_t)(t->xapic_ldr >> 24);

	if (d8 == 0xff)
		return true;
	if (!logical)
		return d8 == t->vapic_id;
	if ((t->xapic_dfr >> 28) == DFR_FLAT)
		return d8 & ldr;
	return (d8 >> 4) == (ldr >> 4) && (d8 & ldr & 0xf);
}

static bool dest_matches(const struct vcpu *t, bool logical, uint32_t dest)
{
	/* A LAPIC disabled through IA32_APIC_BASE takes nothing: the CPU is
	 * as one without an APIC (SDM Vol. 3A 11.4.3). */
	if (!logical && dest == t->vapic_match)
		return true;	/* in either mode (an xAPIC destination is 8 bits) */
	if (__builtin_expect(t->apic_mode != VLAPIC_X2APIC, 0))
		return t->apic_mode == VLAPIC_XAPIC && xapic_dest_matches(t, logical, (uint8_t)dest);
	if (dest == 0xffffffffu)
		return true;
	if (!logical)
		return false;
	uint32_t ldr = vlapic_x2apic_ldr(t->vapic_id);
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

/* An 8-bit destination (the IOAPIC's, an xAPIC ICR's) with its physical
 * broadcast 0xff widened to x2APIC's 0xffffffff, for the vCPUs in x2APIC
 * mode (an xAPIC-mode one takes 0xff itself). */
static uint32_t dest8_wide(bool logical, uint32_t dest)
{
	return !logical && dest == 0xff ? 0xffffffffu : dest;
}

const struct vcpu *vlapic_first_target(const struct domain *d, bool logical, uint32_t dest)
{
	dest = dest8_wide(logical, dest);
	for (uint32_t i = 0; i < d->nvcpus; i++)
		if (dest_matches(&d->vcpus[i], logical, dest))
			return &d->vcpus[i];
	return NULL;
}

uint32_t vlapic_logical_first(const void *ctx, uint32_t dest)
{
	const struct domain *d = ctx;
	const struct vcpu *t = vlapic_first_target(d, true, dest);

	return t ? (uint32_t)(t - d->vcpus) : UINT32_MAX;
}

void vlapic_deliver(struct domain *d, uint8_t vector, bool logical, uint32_t dest)
{
	dest = dest8_wide(logical, dest);	/* the IOAPIC's 8 bits */
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

/* `icr` as the x2APIC ICR lays it out (an xAPIC ICR's destination byte
 * moved down to bits 39:32, vlapic_mmio). */
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
		/* (a disabled LAPIC takes no shorthand either) */
		bool hit = shorthand == SH_NONE ? dest_matches(t, logical, dest) :
			   t->apic_mode != VLAPIC_DISABLED &&
			   (shorthand == SH_SELF ? t == v : shorthand == SH_ALL || t != v);
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

/* The xAPIC page (SDM Vol. 3A 11.4.1), for a vCPU in xAPIC mode: 32-bit
 * accesses to the 16-byte aligned registers; anything else reads 0 and
 * writes nothing. The registers the real LAPIC holds for the guest
 * (TPR, SVR, ISR/TMR/IRR, ESR, the LVTs, the timer) are read and written
 * there, one exit each; ID, LDR, DFR and the ICR are the domain's. */
void vlapic_mmio(struct vcpu *v, uint32_t off, unsigned size, bool write, uint32_t *val)
{
	uint32_t w = write ? *val : 0, r = 0, maxlvt;

	if (size != 4 || (off & 0xf)) {
		if (!write)
			*val = 0;
		return;
	}
	switch (off) {
	case LAPIC_ID:
		r = v->vapic_id << 24;	/* writes dropped: the ID is fixed */
		break;
	case LAPIC_VERSION:
	case LAPIC_PPR:
	case LAPIC_TMCCT:
		r = lapic_reg_read(off);	/* read-only */
		break;
	case LAPIC_EOI:
		if (write)
			lapic_reg_write(off, 0);	/* x2APIC: only 0 may be written */
		break;
	case LAPIC_LDR:
		if (write)
			v->xapic_ldr = w & 0xff000000u;
		r = v->xapic_ldr;
		break;
	case LAPIC_DFR:
		if (write)
			v->xapic_dfr = w | 0x0fffffffu;
		r = v->xapic_dfr;
		break;
	case LAPIC_ESR:
		if (write)
			lapic_reg_write(off, 0);
		r = lapic_reg_read(off);
		break;
	case LAPIC_ICR_LO:
		if (write) {
			v->xapic_icr_lo = w & ~ICR_PENDING;
			/* (0xff, physical or logical, also reaches a vCPU
			 * already in x2APIC mode) */
			uint32_t dest = dest8_wide(false, v->xapic_icr_hi >> 24);
			vlapic_icr_write(v, (uint64_t)dest << 32 | v->xapic_icr_lo);
		}
		r = v->xapic_icr_lo;
		break;
	case LAPIC_ICR_HI:
		if (write)
			v->xapic_icr_hi = w & 0xff000000u;
		r = v->xapic_icr_hi;
		break;
	case LAPIC_TPR:
	case LAPIC_SVR:
	case LAPIC_LVT_TIMER:
	case LAPIC_LVT_LINT0:
	case LAPIC_LVT_LINT1:
	case LAPIC_LVT_ERROR:
	case LAPIC_TMICT:
	case LAPIC_TDCR:
		if (write)
			lapic_reg_write(off, w);
		r = lapic_reg_read(off);
		break;
	case LAPIC_LVT_PERF:
	case LAPIC_LVT_THERMAL:
	case LAPIC_LVT_CMCI:
		/* Where the LAPIC has them (its version's max LVT entry: 4
		 * with the performance LVT, 5 with thermal, 6 with CMCI). */
		maxlvt = (lapic_reg_read(LAPIC_VERSION) >> 16) & 0xff;
		if (maxlvt < (off == LAPIC_LVT_PERF ? 4u : off == LAPIC_LVT_THERMAL ? 5u : 6u))
			break;
		if (write)
			lapic_reg_write(off, w);
		r = lapic_reg_read(off);
		break;
	default:
		if (off >= LAPIC_ISR0 && off <= LAPIC_IRR7)
			r = lapic_reg_read(off);	/* ISR, TMR, IRR: read-only */
		break;	/* APR, RRD, reserved: 0 */
	}
	if (!write)
		*val = r;
}
