/* The hypervisor's use of its LAPIC; see lapic.h. Registers: SDM Vol. 3A
 * 11.4 (xAPIC MMIO), 11.12 (x2APIC MSRs 0x800 + offset / 16). */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "kernel/printk.h"

#define MSR_APIC_BASE     0x1bu
#define APIC_BASE_ENABLE  (1ull << 11)
#define APIC_BASE_EXTD    (1ull << 10)
#define X2APIC_ID         0x802u
#define X2APIC_ICR        0x830u

static bool x2apic;
static volatile uint32_t *xapic;

static uint32_t xapic_read(uint32_t reg) { return xapic[reg / 4]; }
static void xapic_write(uint32_t reg, uint32_t v) { xapic[reg / 4] = v; }

void lapic_init(uint64_t mmio_base, bool want_x2apic)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);
	bool have_x2apic = cpuid(1).ecx & (1u << 21);

	if (!(base & APIC_BASE_EXTD) && want_x2apic && have_x2apic) {
		/* xAPIC -> x2APIC is the one legal direction (SDM Vol. 3A 11.12.5) */
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE | APIC_BASE_EXTD);
		base = rdmsr(MSR_APIC_BASE);
	}
	x2apic = base & APIC_BASE_EXTD;
	xapic = (volatile uint32_t *)(uintptr_t)(mmio_base ? mmio_base : (base & ~0xfffull));
	pr_debug("lapic: %s mode\n", x2apic ? "x2APIC" : "xAPIC");
}

void lapic_init_ap(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	if (x2apic && !(base & APIC_BASE_EXTD))
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE | APIC_BASE_EXTD);
}

bool lapic_x2apic(void) { return x2apic; }

uint32_t lapic_id(void)
{
	return x2apic ? (uint32_t)rdmsr(X2APIC_ID) : xapic_read(LAPIC_ID) >> 24;
}

void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low)
{
	if (x2apic) {
		wrmsr(X2APIC_ICR, ((uint64_t)apic_id << 32) | icr_low);
		return;
	}
	xapic_write(LAPIC_ICR_HI, apic_id << 24);
	xapic_write(LAPIC_ICR_LO, icr_low);
	for (unsigned spin = 0; spin < 1000000 && (xapic_read(LAPIC_ICR_LO) & ICR_PENDING); spin++)
		cpu_relax();
}


uint32_t lapic_reg_read(uint32_t off)
{
	return x2apic ? (uint32_t)rdmsr(0x800u + off / 16) : xapic_read(off);
}

void lapic_reg_write(uint32_t off, uint32_t val)
{
	if (x2apic)
		wrmsr(0x800u + off / 16, val);
	else
		xapic_write(off, val);
}

#define MSR_TSC_DEADLINE 0x6e0u
#define LVT_MASKED      (1u << 16)
#define SVR_ENABLE      (1u << 8)

void lapic_reset_after_guest(void)
{
	lapic_reg_write(LAPIC_TMICT, 0);
	if (cpuid(1).ecx & (1u << 24))
		wrmsr(MSR_TSC_DEADLINE, 0);
	/* The LVT entries every LAPIC has: timer, LINT0, LINT1, error (the
	 * thermal, performance and CMCI ones may be absent: #GP). */
	static const uint32_t lvts[] = { LAPIC_LVT_TIMER, LAPIC_LVT_LINT0, LAPIC_LVT_LINT1,
					 LAPIC_LVT_ERROR };
	for (unsigned i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++)
		lapic_reg_write(lvts[i], LVT_MASKED);
	lapic_reg_write(LAPIC_TPR, 0);
	lapic_reg_write(LAPIC_SVR, (lapic_reg_read(LAPIC_SVR) & 0xff) | SVR_ENABLE);
	/* One EOI retires the highest in-service vector; at most 256. */
	for (unsigned n = 0; n < 256; n++) {
		bool any = false;
		for (uint32_t r = 0; r < 8 && !any; r++)
			any = lapic_reg_read(LAPIC_ISR0 + r * 16) != 0;
		if (!any)
			break;
		lapic_reg_write(LAPIC_EOI, 0);
	}
}
