/*
 * Per-CPU data, reached through GS base (the first field points to itself
 * so `this_cpu()` is one load). Only the boot CPU exists until the SMP
 * issue; the layout is ready for the others.
 */
#ifndef ARCH_X86_64_PERCPU_H
#define ARCH_X86_64_PERCPU_H

#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/desc.h"

#define MAX_CPUS 64

enum ist_slot { IST_NMI = 1, IST_DF = 2, IST_MC = 3, IST_COUNT = 3 };

struct stack_range {
	uintptr_t bottom;	/* lowest usable byte; a guard page lies below */
	uintptr_t top;		/* exclusive */
};

struct percpu {
	struct percpu *self;
	uint32_t cpu_id;	/* index in MADT order */
	uint32_t apic_id;
	volatile uint32_t state;	/* enum cpu_state */
	void (*volatile work)(void);	/* what a parked AP runs next */
	volatile uint32_t work_posted;	/* 1 once work is set (the AP halts on it) */
	struct stack_range stack;
	struct stack_range ist[IST_COUNT + 1];	/* [1..3] used */
	struct tss64 tss;
	uint64_t gdt[GDT_ENTRIES];
} __attribute__((aligned(64)));

_Static_assert(offsetof(struct percpu, self) == 0, "this_cpu() reads %gs:0");

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;
	__asm__ volatile("movq %%gs:0, %0" : "=r"(p));
	return p;
}

enum cpu_state {
	CPU_ABSENT,		/* not started, or failed to */
	CPU_STARTING,		/* SIPI sent */
	CPU_ONLINE,		/* running hypervisor code, virtualization on */
	CPU_FAILED,		/* came up, but virtualization could not be enabled */
};

/* Set up the boot CPU: per-CPU block, GDT, TSS with IST stacks, IDT. */
void percpu_init_boot_cpu(uintptr_t stack_bottom, uintptr_t stack_top);
/* Load a CPU's GDT, TSS, GS base and the IDT, on that CPU. */
void percpu_load(struct percpu *c);
/* Allocate an AP's stacks (with guard pages) and fill its block. */
int percpu_prepare_ap(uint32_t cpu, uint32_t apic_id);
/* Move the boot CPU's block to index `cpu` (its MADT position). */
void percpu_renumber_boot_cpu(uint32_t cpu, uint32_t apic_id);
/* Unmap the guard pages below every stack of the boot CPU. */
void percpu_protect_stacks(void);
/* The percpu block of `cpu`, or NULL. */
struct percpu *percpu_of(uint32_t cpu);

#endif
