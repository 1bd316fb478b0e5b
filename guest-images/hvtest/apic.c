/*
 * apic=check: the LAPIC a guest expects.
 *
 * apic-id: the boot CPU has APIC ID 0 (CPUID 1 EBX[31:24], CPUID 0xb
 * EDX, the x2APIC ID and LDR registers), as on a machine of its own --
 * whichever core the domain's boot CPU is.
 *
 * xapic: leaving x2APIC mode the way the SDM allows (Vol. 3A 11.12.5:
 * x2APIC -> disabled -> xAPIC; x2APIC -> xAPIC and disabled -> x2APIC
 * raise #GP), then the xAPIC page at 0xfee00000: the ID, the version, the
 * SVR, the timer (one-shot, woken from HLT, EOI through the page), a
 * fixed IPI to itself by physical and by flat logical destination; the
 * exits each timer interrupt costs; and back to x2APIC mode.
 */
#include "guest-images/hvtest/hvtest.h"
#include "guest-images/hvtest/io.h"

#define MSR_APIC_BASE   0x1bu
#define APIC_BASE_BSP   (1u << 8)
#define APIC_BASE_EXTD  (1u << 10)
#define APIC_BASE_EN    (1u << 11)
#define MSR_X2APIC_ID   0x802u
#define MSR_X2APIC_LDR  0x80du
#define CPUID_1_X2APIC  (1u << 21)

#define XAPIC_ID        0x020u
#define XAPIC_VERSION   0x030u
#define XAPIC_TPR       0x080u
#define XAPIC_EOI       0x0b0u
#define XAPIC_LDR       0x0d0u
#define XAPIC_DFR       0x0e0u
#define XAPIC_SVR       0x0f0u
#define XAPIC_ICR_LO    0x300u
#define XAPIC_ICR_HI    0x310u
#define XAPIC_LVT_TIMER 0x320u
#define XAPIC_TMICT     0x380u
#define XAPIC_TDCR      0x3e0u
#define ICR_LOGICAL     (1u << 11)

#define TIMER_VECTOR    0xf1u
#define IPI_VECTOR      0xf0u
#define LOGICAL_VECTOR  0xf2u
#define TIMER_ROUNDS    10u

static volatile uint32_t *xapic_reg(uint32_t off)
{
	return (volatile uint32_t *)(uintptr_t)(0xfee00000u + off);
}

static uint32_t leaf_max(void)
{
	return cpuid(0).eax;
}

static uint32_t leaf_b_edx(void)
{
	uint32_t a = 0xb, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return d;
}

void check_apic_id(void)
{
	uint32_t initial = cpuid(1).ebx >> 24;
	uint64_t base = rdmsr(MSR_APIC_BASE);

	if (initial != 0) {
		fail("CPUID 1 says initial APIC ID %u on the boot CPU", initial);
		return;
	}
	if (!(base & APIC_BASE_BSP)) {
		fail("IA32_APIC_BASE 0x%x: no BSP flag on the boot CPU", (uint32_t)base);
		return;
	}
	if (leaf_max() >= 0xb && leaf_b_edx() != 0) {
		fail("CPUID 0xb says x2APIC ID %u on the boot CPU", leaf_b_edx());
		return;
	}
	if (base & APIC_BASE_EXTD) {
		uint32_t id = (uint32_t)rdmsr(MSR_X2APIC_ID), ldr = (uint32_t)rdmsr(MSR_X2APIC_LDR);
		if (id != 0 || ldr != 1) {
			fail("x2APIC ID %u, LDR 0x%x on the boot CPU (want 0 and 1)", id, ldr);
			return;
		}
	}
	pass("(0 in CPUID 1%s%s)", leaf_max() >= 0xb ? ", CPUID 0xb" : "",
	     (base & APIC_BASE_EXTD) ? ", the x2APIC ID and LDR" : "");
}

/* Write IA32_APIC_BASE; true if it raised #GP. */
static bool apic_base_gp(uint32_t val)
{
	fixup_vector = -1;
	msr_write_fixup(MSR_APIC_BASE, val, 0);
	return fixup_vector == 13;
}

/* x2APIC -> disabled -> xAPIC, with the illegal steps refused. */
static bool leave_x2apic(uint32_t base)
{
	uint32_t addr = base & ~0xfffu, bsp = base & APIC_BASE_BSP;

	if (!apic_base_gp(addr | bsp | APIC_BASE_EN)) {
		fail("x2APIC -> xAPIC through IA32_APIC_BASE did not raise #GP");
		return false;
	}
	if (apic_base_gp(addr | bsp)) {
		fail("x2APIC -> disabled raised #GP");
		return false;
	}
	if ((uint32_t)rdmsr(MSR_APIC_BASE) & (APIC_BASE_EN | APIC_BASE_EXTD)) {
		fail("IA32_APIC_BASE 0x%x after disabling", (uint32_t)rdmsr(MSR_APIC_BASE));
		return false;
	}
	if (!apic_base_gp(addr | bsp | APIC_BASE_EN | APIC_BASE_EXTD)) {
		fail("disabled -> x2APIC did not raise #GP");
		return false;
	}
	if (apic_base_gp(addr | bsp | APIC_BASE_EN)) {
		fail("disabled -> xAPIC raised #GP");
		return false;
	}
	return true;
}

/* The one-shot timer, TIMER_ROUNDS times from HLT; the exits they cost
 * in *exits (0 when not in a domain). */
static bool xapic_timer(uint32_t *exits)
{
	struct exit_meter m;
	bool metered = exits_start(&m);
	uint32_t before = irq_count[TIMER_VECTOR];

	*xapic_reg(XAPIC_TDCR) = 0xb;			/* divide by 1 */
	*xapic_reg(XAPIC_LVT_TIMER) = TIMER_VECTOR;	/* one-shot */
	for (uint32_t i = 0; i < TIMER_ROUNDS; i++) {
		__asm__ volatile("cli");
		*xapic_reg(XAPIC_TMICT) = 20000;
		__asm__ volatile("sti; hlt" ::: "memory");
	}
	__asm__ volatile("cli");
	*exits = 0;
	if (metered && exits_since(&m, exits))
		*exits -= 2;	/* the two LVT writes above */
	*xapic_reg(XAPIC_LVT_TIMER) = 1u << 16;		/* masked */
	if (irq_count[TIMER_VECTOR] - before != TIMER_ROUNDS) {
		fail("%u timer interrupts in xAPIC mode, not %u", irq_count[TIMER_VECTOR] - before,
		     TIMER_ROUNDS);
		return false;
	}
	return true;
}

/* A fixed IPI to itself through the page's ICR: true if it arrived. */
static bool xapic_ipi(uint32_t dest, uint32_t low, uint32_t vector)
{
	uint32_t before = irq_count[vector];

	__asm__ volatile("sti");
	*xapic_reg(XAPIC_ICR_HI) = dest << 24;
	*xapic_reg(XAPIC_ICR_LO) = low | vector;
	for (unsigned i = 0; i < 100000 && irq_count[vector] == before; i++)
		__asm__ volatile("pause");
	__asm__ volatile("cli");
	return irq_count[vector] != before;
}

void check_xapic(void)
{
	uint32_t base = (uint32_t)rdmsr(MSR_APIC_BASE), exits;
	bool x2 = cpuid(1).ecx & CPUID_1_X2APIC;

	if (x2 && (base & APIC_BASE_EXTD) && !leave_x2apic(base))
		return;
	base = (uint32_t)rdmsr(MSR_APIC_BASE);
	if ((base & (APIC_BASE_EN | APIC_BASE_EXTD)) != APIC_BASE_EN) {
		fail("IA32_APIC_BASE 0x%x: not in xAPIC mode", base);
		return;
	}
	fixup_vector = -1;
	(void)msr_read_fixup(MSR_X2APIC_ID);
	if (fixup_vector != 13) {
		fail("the x2APIC ID MSR reads without #GP in xAPIC mode");
		return;
	}
	uint32_t id = *xapic_reg(XAPIC_ID) >> 24, version = *xapic_reg(XAPIC_VERSION) & 0xff;
	if (id != 0 || version < 0x10 || version > 0x15) {
		fail("xAPIC ID %u, version 0x%x", id, version);
		return;
	}
	*xapic_reg(XAPIC_SVR) = 0x1ff;			/* enabled, spurious vector 0xff */
	*xapic_reg(XAPIC_TPR) = 0;
	if ((*xapic_reg(XAPIC_SVR) & 0x1ff) != 0x1ff) {
		fail("xAPIC SVR reads 0x%x after 0x1ff", *xapic_reg(XAPIC_SVR));
		return;
	}
	lapic_eoi_mmio = xapic_reg(XAPIC_EOI);
	bool ok = xapic_timer(&exits);
	if (ok && !xapic_ipi(0, 0, IPI_VECTOR)) {
		fail("a fixed IPI to APIC ID 0 through the xAPIC ICR never arrived");
		ok = false;
	}
	*xapic_reg(XAPIC_DFR) = 0xffffffffu;		/* flat model */
	*xapic_reg(XAPIC_LDR) = 1u << 24;		/* logical ID bit 0 */
	if (ok && !xapic_ipi(1, ICR_LOGICAL, LOGICAL_VECTOR)) {
		fail("a fixed IPI to flat logical destination 1 never arrived");
		ok = false;
	}
	lapic_eoi_mmio = NULL;
	if (!ok)
		return;
	if (x2) {
		if (apic_base_gp((base & ~0xfffu) | (base & APIC_BASE_BSP) | APIC_BASE_EN |
				 APIC_BASE_EXTD)) {
			fail("xAPIC -> x2APIC raised #GP");
			return;
		}
		if ((uint32_t)rdmsr(MSR_X2APIC_ID) != 0) {
			fail("x2APIC ID %u after coming back", (uint32_t)rdmsr(MSR_X2APIC_ID));
			return;
		}
	}
	pass("(%s; %u timer interrupts, %u exits each; fixed IPIs by physical and flat logical ID%s)",
	     x2 ? "x2APIC -> disabled -> xAPIC, the illegal steps #GP" : "xAPIC from the start",
	     TIMER_ROUNDS, exits / TIMER_ROUNDS, x2 ? "; back to x2APIC" : "");
}
