/*
 * AP start-up (SDM Vol. 3A 9.4.4 "MP initialization protocol" and 11.6.1):
 * INIT, 10 ms, SIPI, 200 us, SIPI; the AP runs arch/x86_64/trampoline.S
 * from a page below 1 MiB, reaches ap_main() and reports in. One AP at a
 * time: the trampoline's parameters are shared.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "kernel/mm.h"
#include "kernel/printk.h"
#include "kernel/string.h"

#define AP_WAIT_US 200000	/* how long an AP may take to report in */

extern const char trampoline_start[], trampoline_end[];
extern const char tr_gdt_desc[], tr_jump64[], tr_cr3_early[], tr_cr3[], tr_stack[];
extern const char tr_entry[], tr_cpu[], tr_long[], tr_gdt[];
extern char early_pml4[];
extern char ap_entry64[];

static int (*ap_virt_enable)(void);

/* A usable page below 1 MiB (real mode can only start there), taken out of
 * the memory map for good. 0 if there is none. */
static uint64_t take_trampoline_page(struct memmap *m)
{
	for (uint32_t i = 0; i < m->count; i++) {
		const struct mem_region *r = &m->r[i];
		uint64_t base = r->base < 0x1000 ? 0x1000 : r->base;
		if (r->type == MEM_USABLE && base + PAGE_SIZE <= r->end && base + PAGE_SIZE <= 0x100000) {
			memmap_reserve(m, base, base + PAGE_SIZE, MEM_HV);
			return base;
		}
	}
	return 0;
}

static void patch(uint8_t *page, const char *field, uint64_t value, unsigned size)
{
	memcpy(page + (field - trampoline_start), &value, size);
}

static void trampoline_setup(uint64_t pa, uint32_t cpu, uintptr_t stack_top)
{
	uint8_t *page = (uint8_t *)(uintptr_t)pa;
	size_t len = (size_t)(trampoline_end - trampoline_start);

	memcpy(page, trampoline_start, len);
	patch(page, tr_gdt_desc + 2, pa + (uint64_t)(tr_gdt - trampoline_start), 4);
	patch(page, tr_jump64, pa + (uint64_t)(tr_long - trampoline_start), 4);
	patch(page, tr_cr3_early, (uintptr_t)early_pml4, 8);
	patch(page, tr_cr3, read_cr3(), 8);
	patch(page, tr_stack, stack_top, 8);
	patch(page, tr_entry, (uintptr_t)ap_entry64, 8);
	patch(page, tr_cpu, cpu, 8);
}

void ap_main(uint32_t cpu);

/* First C code of an AP, on its own stack and the final page tables. */
void ap_main(uint32_t cpu)
{
	struct percpu *c = percpu_of(cpu);

	percpu_load(c);
	lapic_init_ap();
	write_cr0(read_cr0() | CR0_WP);
	int err = ap_virt_enable ? ap_virt_enable() : 0;
	__atomic_store_n(&c->state, err ? CPU_FAILED : CPU_ONLINE, __ATOMIC_RELEASE);
	/* Parked, halted, until smp_run_on posts work and wakes it with an
	 * NMI: a CPU without a domain costs no cycles (and, under an emulator
	 * that counts instructions, adds none to the others' figures). */
	for (;;) {
		void (*fn)(void);
		while (!(fn = __atomic_load_n(&c->work, __ATOMIC_ACQUIRE))) {
			nmi_wait(&c->work_posted, 0);
			nmi_take();	/* a parked CPU has no other use for one */
		}
		c->work = NULL;
		c->work_posted = 0;
		fn();
	}
}

void smp_run_on(uint32_t cpu, void (*fn)(void))
{
	struct percpu *c = percpu_of(cpu);

	__atomic_store_n(&c->work, fn, __ATOMIC_RELEASE);
	__atomic_store_n(&c->work_posted, 1, __ATOMIC_RELEASE);
	lapic_send_ipi(c->apic_id, ICR_NMI | ICR_ASSERT);
}

void smp_park_forever(void)
{
	cpu_halt_forever();
}

static bool wait_online(struct percpu *c)
{
	uint64_t end = rdtsc() + AP_WAIT_US * (tsc_hz() / 1000000);

	while (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) == CPU_STARTING) {
		if (rdtsc() > end)
			return false;
		cpu_relax();	/* PAUSE: also lets an emulator run the AP (QEMU's TCG yields) */
	}
	return true;
}

/* The wait after INIT: 10 ms in the MP protocol (SDM Vol. 3A 9.4.4.1),
 * which only old CPUs need; Intel family 6 (and the families after 0xf)
 * take the SIPI at once (Linux waits nothing for them either), and so
 * does every AMD CPU with AMD-V (family 0xf and later; QEMU's TCG CPU
 * says AMD family 6). 10 us then: with many CPUs the 10 ms add up. */
static uint64_t init_wait_us(const struct cpu_info *ci)
{
	if ((ci->vendor == CPU_VENDOR_INTEL && (ci->family == 6 || ci->family > 0xf)) ||
	    (ci->vendor == CPU_VENDOR_AMD && ci->svm))
		return 10;
	return 10000;
}

static uint64_t init_wait;	/* init_wait_us of the boot CPU, for every AP */

static bool start_ap(uint64_t tramp, uint32_t cpu, uint32_t apic_id)
{
	struct percpu *c = percpu_of(cpu);

	if (percpu_prepare_ap(cpu, apic_id)) {
		pr_err("smp: CPU %u (APIC ID %u): out of memory for its stacks; left out\n", cpu, apic_id);
		return false;
	}
	trampoline_setup(tramp, cpu, c->stack.top);
	c->state = CPU_STARTING;
	lapic_send_ipi(apic_id, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
	udelay(init_wait);
	for (int i = 0; i < 2 && c->state == CPU_STARTING; i++) {
		lapic_send_ipi(apic_id, ICR_STARTUP | (uint32_t)(tramp >> 12));
		udelay(200);
	}
	if (!wait_online(c)) {
		/* It may only be slow: INIT puts it back into wait-for-SIPI, so it
		 * cannot run the trampoline later with the next AP's stack. */
		lapic_send_ipi(apic_id, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
		udelay(10000);
		pr_err("smp: CPU %u (APIC ID %u) did not start; left out\n", cpu, apic_id);
		c->state = CPU_ABSENT;
		return false;
	}
	if (c->state == CPU_FAILED) {
		pr_err("smp: CPU %u (APIC ID %u) started but cannot enable virtualization; left out\n",
		       cpu, apic_id);
		return false;
	}
	return true;
}

/* Number of usable CPUs (enabled MADT entries, at most MAX_CPUS) and the
 * boot CPU's index among them. */
static uint32_t count_cpus(const struct acpi_info *acpi, uint32_t me, uint32_t *boot_index)
{
	uint32_t n = 0;

	*boot_index = 0;
	for (uint32_t i = 0; i < acpi->ncpus && n < MAX_CPUS; i++) {
		if (!acpi->cpus[i].enabled)
			continue;
		if (acpi->cpus[i].apic_id == me)
			*boot_index = n;
		n++;
	}
	return n;
}

uint32_t smp_number_boot_cpu(const struct acpi_info *acpi)
{
	uint32_t me = lapic_id(), boot_index;
	uint32_t n = count_cpus(acpi, me, &boot_index);

	if (n < acpi->ncpus_enabled)
		pr_warn("smp: %u CPUs, only the first %u are used\n", acpi->ncpus_enabled, n);
	percpu_renumber_boot_cpu(boot_index, me);
	return boot_index;
}

uint64_t smp_start(const struct acpi_info *acpi, const struct cpu_info *boot_cpu,
		   struct memmap *m, int (*virt_enable)(void), int boot_virt_ok)
{
	uint32_t boot_index, n = count_cpus(acpi, lapic_id(), &boot_index);
	uint64_t online = boot_virt_ok ? 1ull << boot_index : 0;
	uint64_t tramp;

	ap_virt_enable = virt_enable;
	init_wait = init_wait_us(boot_cpu);
	if (n <= 1)
		return online;
	tramp = take_trampoline_page(m);
	if (!tramp) {
		pr_err("smp: no free page below 1 MiB for the AP trampoline; only the boot CPU runs\n");
		return online;
	}
	uint32_t idx = 0;
	for (uint32_t i = 0; i < acpi->ncpus && idx < n; i++) {
		if (!acpi->cpus[i].enabled)
			continue;
		uint32_t cpu = idx++;
		if (cpu == boot_index)
			continue;
		if (start_ap(tramp, cpu, acpi->cpus[i].apic_id))
			online |= 1ull << cpu;
	}
	return online;
}
