/*
 * Exceptions and interrupts. The 32-bit IDT sends vectors 0-31 to
 * entry.S's stubs, which call trap_handler(), and 32-255 to its interrupt
 * stubs, which count them in irq_count[] and EOI. A fault at an instruction listed in .extable (the
 * hypercall instructions, which raise #UD without a hypervisor) resumes
 * at its fixup address; a #DB goes to db_hook when one is set (step.c);
 * any other exception is a FAIL of the running
 * check, then power off. The 64-bit IDT (used only during the long-mode
 * check) sends everything to long_mode.S, which reports and powers off.
 * Gate layouts: Intel SDM Vol. 3A 6.11 (Figure 6-2) and 6.14.1 (Figure 6-8).
 */
#include "guest-images/hvtest/hvtest.h"
#include "guest-images/hvtest/io.h"

#define GATE_INTR_PRESENT 0x8e	/* P=1, DPL=0, interrupt gate (32- or 64-bit by mode) */
#define NVECTORS          32
#define NIDT32            256
#define IRQ_STUB_SIZE     16	/* entry.S: irq_stubs32 + 16 * (vector - 32) */
#define MSR_X2APIC_ID     0x802
#define MSR_X2APIC_TPR    0x808
#define MSR_X2APIC_SVR    0x80f
#define SVR_ENABLE        (1u << 8)
#define SPURIOUS_VECTOR   0xff

struct gate32 {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t zero;
	uint8_t type_attr;
	uint16_t offset_hi;
} __attribute__((packed));

struct gate64 {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

_Static_assert(sizeof(struct gate32) == 8, "SDM Vol. 3A Figure 6-2");
_Static_assert(sizeof(struct gate64) == 16, "SDM Vol. 3A Figure 6-8");

struct extable_entry {
	uint32_t fault_ip, fixup_ip;
};

extern const struct extable_entry __extable_start[], __extable_end[];

static struct gate32 idt32[NIDT32] __attribute__((aligned(8)));
static struct gate64 idt64[NVECTORS] __attribute__((aligned(16)));
struct desc_ptr32 idt32_ptr;
volatile int fixup_vector = -1;
volatile uint32_t irq_count[NIDT32];
volatile uint32_t irq_ack[NIDT32];
volatile uint32_t *volatile lapic_eoi_mmio;

void trap_init(void)
{
	for (unsigned v = 0; v < NIDT32; v++) {
		uint32_t off = v < NVECTORS ? trap_stubs32[v] :
			(uint32_t)(uintptr_t)irq_stubs32 + (v - NVECTORS) * IRQ_STUB_SIZE;
		idt32[v] = (struct gate32){ (uint16_t)off, SEL_CODE32, 0, GATE_INTR_PRESENT,
					    (uint16_t)(off >> 16) };
	}
	idt32_ptr = (struct desc_ptr32){ sizeof(idt32) - 1, (uint32_t)(uintptr_t)idt32 };
	__asm__ volatile("lidt %0" : : "m"(idt32_ptr));
}

void idt64_build(struct desc_ptr64 *ptr)
{
	for (unsigned v = 0; v < NVECTORS; v++) {
		uint32_t off = trap_stubs64[v];
		idt64[v] = (struct gate64){ (uint16_t)off, SEL_CODE64, 0, GATE_INTR_PRESENT,
					    (uint16_t)(off >> 16), 0, 0 };
	}
	*ptr = (struct desc_ptr64){ sizeof(idt64) - 1, (uintptr_t)idt64 };
}

const char *vector_name(uint32_t vector)
{
	static const char *const names[NVECTORS] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
		"#DF", "vector 9", "#TS", "#NP", "#SS", "#GP", "#PF", "vector 15",
		"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "vector 22", "vector 23",
		"vector 24", "vector 25", "vector 26", "vector 27", "#HV", "#VC", "#SX", "vector 31",
	};
	return vector < NVECTORS ? names[vector] : "?";
}

static const struct extable_entry *extable_find(uint32_t ip)
{
	for (const struct extable_entry *e = __extable_start; e < __extable_end; e++)
		if (e->fault_ip == ip)
			return e;
	return NULL;
}

void (*volatile db_hook)(struct trap_frame *f);

void trap_handler(struct trap_frame *f)
{
	static bool reporting;
	const struct extable_entry *fix = extable_find(f->eip);

	if (f->vector == 1 && db_hook) {
		db_hook(f);
		return;
	}

	if (fix) {
		fixup_vector = (int)f->vector;
		f->eip = fix->fixup_ip;
		return;
	}
	if (reporting)		/* faulted while reporting a fault: give up quietly */
		halt_forever();
	reporting = true;
	con_printf("hvtest: FAIL %s: unexpected exception %s (vector %u, error 0x%x) at eip 0x%x\n",
		   current_check[0] ? current_check : "exception", vector_name(f->vector),
		   f->vector, f->error, f->eip);
	power_off();
}

/* The LAPIC (x2APIC mode, the domain's own): software-enabled with a
 * spurious vector, every priority accepted; interrupts on. */
uint32_t lapic_start(void)
{
	wrmsr(MSR_X2APIC_TPR, 0);
	wrmsr(MSR_X2APIC_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
	__asm__ volatile("sti");
	return (uint32_t)rdmsr(MSR_X2APIC_ID);
}

uint32_t irq_total(void)
{
	uint32_t n = 0;

	for (unsigned v = NVECTORS; v < NIDT32; v++)
		n += irq_count[v];
	return n;
}
