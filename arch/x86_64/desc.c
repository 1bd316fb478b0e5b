/*
 * GDT, TSS and IDT. One GDT and TSS per CPU (in its percpu block); one
 * IDT shared by all. NMI, #DF and #MC run on their own IST stacks so a
 * corrupt or overflowed stack still gets a report (SDM Vol. 3A 6.14.5).
 */
#include "arch/x86_64/desc.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/trap.h"
#include "kernel/errno.h"
#include "kernel/palloc.h"
#include "kernel/string.h"

#define PAGE 4096

static struct idt_gate idt[256] __attribute__((aligned(16)));

/* IST stacks of the boot CPU, each with a guard page below. */
struct boot_ist_stacks {
	struct {
		uint8_t guard[PAGE];
		uint8_t stack[PAGE];
	} slot[IST_COUNT];
};
static struct boot_ist_stacks boot_ist __attribute__((aligned(PAGE)));
extern uint8_t boot_stack_guard[];

static struct percpu cpus[MAX_CPUS];

struct percpu *percpu_of(uint32_t cpu) { return cpu < MAX_CPUS ? &cpus[cpu] : NULL; }

static uint64_t tss_desc_lo(uintptr_t base, uint32_t limit)
{
	/* 64-bit available TSS, type 9, present (SDM Vol. 3A 8.2.3). */
	return (limit & 0xffffull) | ((base & 0xffffffull) << 16) | (0x89ull << 40) |
	       (((uint64_t)limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xffull) << 56);
}

static void gdt_load(struct percpu *c)
{
	struct desc_ptr p = { .limit = sizeof(c->gdt) - 1, .base = (uintptr_t)c->gdt };
	uintptr_t tss = (uintptr_t)&c->tss;

	c->gdt[GDT_NULL] = 0;
	c->gdt[GDT_CODE64] = 0x00af9a000000ffffull;
	c->gdt[GDT_DATA] = 0x00cf92000000ffffull;
	c->gdt[GDT_TSS] = tss_desc_lo(tss, sizeof(c->tss) - 1);
	c->gdt[GDT_TSS + 1] = tss >> 32;

	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movl %2, %%eax\n\t"
			 "movl %%eax, %%ds\n\t"
			 "movl %%eax, %%es\n\t"
			 "movl %%eax, %%ss\n\t"
			 "movl %%eax, %%fs\n\t"
			 "movl %%eax, %%gs\n\t"
			 "ltr %w3"
			 :
			 : "m"(p), "i"((uint64_t)SEL_CODE64), "i"(SEL_DATA), "r"((uint16_t)SEL_TSS)
			 : "rax", "memory");
}

static void idt_set(unsigned vec, uintptr_t handler, unsigned ist)
{
	idt[vec] = (struct idt_gate){
		.offset_lo = (uint16_t)handler,
		.selector = SEL_CODE64,
		.ist = (uint8_t)ist,
		.type_attr = 0x8e,	/* present, DPL 0, 64-bit interrupt gate */
		.offset_mid = (uint16_t)(handler >> 16),
		.offset_hi = (uint32_t)(handler >> 32),
	};
}

void idt_init(void)
{
	for (unsigned v = 0; v < ISR_VECTORS; v++) {
		unsigned ist = v == 2 ? IST_NMI : v == 8 ? IST_DF : v == 18 ? IST_MC : 0;
		idt_set(v, (uintptr_t)isr_stubs + v * ISR_STUB_SIZE, ist);
	}
}

void idt_load(void)
{
	struct desc_ptr p = { .limit = sizeof(idt) - 1, .base = (uintptr_t)idt };
	__asm__ volatile("lidt %0" ::"m"(p));
}

/* On the CPU itself: its GDT and TSS, GS base, the shared IDT. */
void percpu_load(struct percpu *c)
{
	gdt_load(c);
	wrmsr(MSR_GS_BASE, (uintptr_t)c);
	idt_load();
}

static void percpu_fill(struct percpu *c, uint32_t cpu, uintptr_t stack_bottom,
			uintptr_t stack_top)
{
	memset(c, 0, sizeof(*c));
	c->self = c;
	c->cpu_id = cpu;
	c->stack = (struct stack_range){ stack_bottom, stack_top };
	c->tss.iomap_base = sizeof(c->tss);	/* no I/O bitmap */
}

static void percpu_set_ist(struct percpu *c, unsigned i, uintptr_t bottom)
{
	c->ist[i] = (struct stack_range){ bottom, bottom + PAGE };
	c->tss.ist[i - 1] = bottom + PAGE;
}

void percpu_init_boot_cpu(uintptr_t stack_bottom, uintptr_t stack_top)
{
	struct percpu *c = &cpus[0];

	percpu_fill(c, 0, stack_bottom, stack_top);
	for (unsigned i = 1; i <= IST_COUNT; i++)
		percpu_set_ist(c, i, (uintptr_t)boot_ist.slot[i - 1].stack);
	idt_init();
	percpu_load(c);
}

/*
 * Stacks for an application processor, each with an unmapped guard page
 * below it: the main stack (AP_STACK_PAGES) and one page per IST slot.
 * Called on the boot CPU before the AP starts. 0 or -ENOMEM.
 */
#define AP_STACK_PAGES 4

static uintptr_t guarded_stack(unsigned pages)
{
	uint64_t pa = alloc_pages(pages + 1, PAGE, 0);

	if (!pa || paging_unmap((uintptr_t)pa, PAGE))
		return 0;
	return (uintptr_t)pa + PAGE;
}

int percpu_prepare_ap(uint32_t cpu, uint32_t apic_id)
{
	struct percpu *c = percpu_of(cpu);
	uintptr_t stack = guarded_stack(AP_STACK_PAGES);

	if (!c || !stack)
		return -ENOMEM;
	percpu_fill(c, cpu, stack, stack + AP_STACK_PAGES * PAGE);
	c->apic_id = apic_id;
	for (unsigned i = 1; i <= IST_COUNT; i++) {
		uintptr_t ist = guarded_stack(1);
		if (!ist)
			return -ENOMEM;
		percpu_set_ist(c, i, ist);
	}
	return 0;
}

/* The boot CPU is not MADT entry 0: move its block to its index. */
void percpu_renumber_boot_cpu(uint32_t cpu, uint32_t apic_id)
{
	struct percpu *c = percpu_of(cpu);

	if (!c)
		return;		/* beyond MAX_CPUS: smp.c never asks */
	if (cpu != 0) {
		*c = cpus[0];
		c->self = c;
	}
	c->cpu_id = cpu;
	c->apic_id = apic_id;
	/* Load the new block (GDT with a fresh, not-busy TSS descriptor)
	 * before the old one goes: an NMI in between still finds a TSS. */
	percpu_load(c);
	if (cpu != 0)
		memset(&cpus[0], 0, sizeof(cpus[0]));
}

void percpu_protect_stacks(void)
{
	paging_unmap((uintptr_t)boot_stack_guard, PAGE);
	for (unsigned i = 0; i < IST_COUNT; i++)
		paging_unmap((uintptr_t)boot_ist.slot[i].guard, PAGE);
}
