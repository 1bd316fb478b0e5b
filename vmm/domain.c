/* Domain construction and stopping; see domain.h. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "kernel/errno.h"
#include "kernel/mm.h"
#include "kernel/palloc.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "vmm/domain.h"
#include "vmm/acpi_guest.h"
#include "vmm/console/output.h"
#include "vmm/load/loader.h"
#include "vmm/msr.h"
#include "vmm/passthrough.h"
#include "vmm/dev/pit_irq.h"
#include "vmm/dev/vlapic.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)
/* The domain's ACPI tables: where a legacy RSDP scan looks (ACPI 6.5
 * 5.2.5.1), below the 1 MiB the kernels load at. */
#define ACPI_GPA  GUEST_ACPI_BASE
#define ACPI_SIZE (GUEST_ACPI_END - GUEST_ACPI_BASE)
#define UART_IRQ  4	/* COM1 on ISA IRQ 4: the virtual IOAPIC's pin 4 */

/* The module whose string's first word is `name`, or NULL. */
static const struct boot_module *find_module(const struct boot_info *bi, const char *name)
{
	size_t n = strlen(name);

	for (uint32_t i = 0; i < bi->nmodules; i++) {
		const char *s = bi->modules[i].string;
		if (!strncmp(s, name, n) && (s[n] == '\0' || s[n] == ' '))
			return &bi->modules[i];
	}
	return NULL;
}

static uint64_t rdtsc_now(void) { return rdtsc(); }

/* The machine's RTC, read for a domain (the legacy model keeps it
 * read-only); index and data must not interleave between CPUs. */
static uint8_t host_cmos_read(uint8_t idx)
{
	static struct spinlock cmos_lock = SPINLOCK_INIT;

	spin_lock(&cmos_lock);
	outb(0x70, idx & 0x7f);		/* bit 7 clear: NMIs stay enabled */
	uint8_t v = inb(0x71);
	spin_unlock(&cmos_lock);
	return v;
}

/* Contiguous, zeroed, aligned so the largest leaves fit (1 GiB / 2 MiB). */
static int take_memory(struct domain *d, uint64_t size)
{
	uint64_t align = size >= GIB ? GIB : size >= 2 * MIB ? 2 * MIB : PAGE_SIZE;
	uint64_t hpa = alloc_pages(size / PAGE_SIZE, align, 0);

	if (!hpa && align > 2 * MIB)
		hpa = alloc_pages(size / PAGE_SIZE, 2 * MIB, 0);
	if (!hpa) {
		pr_err("domain %s: cannot take %llu MiB of memory (%llu MiB free)\n", d->name,
		       (unsigned long long)(size / MIB),
		       (unsigned long long)(hv_palloc.free_bytes / MIB));
		return trace_error(-ENOMEM);
	}
	d->nranges = 1;
	d->ram[0].hpa = hpa;
	d->ram[0].size = size;
	d->ram[0].placed = true;
	return 0;
}

/* Explicit host ranges (config_check_machine() has checked they are free
 * usable RAM); zeroed like placed memory: no stale data reaches a guest. */
static int claim_ranges(struct domain *d)
{
	for (uint32_t i = 0; i < d->cfg->nranges; i++) {
		uint64_t base = d->cfg->ranges[i].base, size = d->cfg->ranges[i].size;
		if (palloc_claim(&hv_palloc, base, size / PAGE_SIZE)) {
			pr_err("domain %s: memory 0x%llx-0x%llx is not free\n", d->name,
			       (unsigned long long)base, (unsigned long long)(base + size));
			return trace_error(-EBUSY);
		}
		memset((void *)(uintptr_t)base, 0, size);
		d->ram[i].hpa = base;
		d->ram[i].size = size;
		d->nranges = i + 1;
	}
	return 0;
}

static void release_memory(struct domain *d)
{
	for (uint32_t i = 0; i < d->nranges; i++)
		palloc_free(&hv_palloc, d->ram[i].hpa, d->ram[i].size / PAGE_SIZE);
	d->nranges = 0;
}

/* RAM from guest-physical 0; nothing else is mapped, so any other access
 * (another domain's memory, the hypervisor's, MMIO) is a violation. */
static int map_memory(struct domain *d)
{
	int err = pt_init(&d->slat, vcpu_ops->slat_format(), &hv_pt_mem);
	uint64_t gpa = 0;

	for (uint32_t i = 0; !err && i < d->nranges; i++) {
		err = pt_map(&d->slat, gpa, d->ram[i].hpa, d->ram[i].size,
			     PT_READ | PT_WRITE | PT_EXEC | PT_USER);
		gpa += d->ram[i].size;
	}
	if (err)
		pr_err("domain %s: cannot build its %s page tables (error %d)\n", d->name,
		       vcpu_ops->name, err);
	return err;
}

/* The boot module named `name` for domain d's `what` ("kernel", "initrd",
 * "module 0"...), or NULL after the line saying it is missing. */
static const struct boot_module *domain_module(const struct domain *d, const struct boot_info *bi,
					       const char *what, const char *name)
{
	const struct boot_module *m = find_module(bi, name);

	if (!m)
		pr_err("domain %s: %s: no boot module named '%s'\n", d->name, what, name);
	return m;
}

/* What the configuration lets through as a command line is what the
 * loader takes from a multiboot kernel's, its file name in front. */
_Static_assert(GUEST_MB_CMDLINE_MAX == CONFIG_CMDLINE_MAX, "one command-line limit");

static int load_kernel(struct domain *d, const struct boot_info *bi, struct guest_entry *entry)
{
	/* Static: up to CONFIG_MAX_MODULES descriptors is too much for a
	 * stack, and domains are created one after the other at boot. */
	static struct guest_module mods[CONFIG_MAX_MODULES];
	const struct domain_config *cfg = d->cfg;
	const struct boot_module *m = domain_module(d, bi, "kernel", cfg->kernel);
	const struct boot_module *initrd = NULL;

	if (!m)
		return trace_error(-ENOENT);
	if (cfg->initrd) {
		initrd = domain_module(d, bi, "initrd", cfg->initrd);
		if (!initrd)
			return trace_error(-ENOENT);
	}
	for (uint32_t k = 0; k < cfg->nmodules; k++) {
		char what[24];
		hv_snprintf(what, sizeof(what), "module %u", k);
		const struct boot_module *bm = domain_module(d, bi, what, cfg->modules[k].name);
		if (!bm)
			return trace_error(-ENOENT);
		mods[k].data = (const void *)(uintptr_t)bm->start;
		mods[k].len = bm->end - bm->start;
		mods[k].string = cfg->modules[k].args;
	}
	/* The ECAM window, if the domain has one, is reserved in its memory
	 * map (Linux checks MMCONFIG against it). */
	const struct guest_mem_range ecam = { d->ecam_gpa, passthrough_ecam_size() };
	/* The image, its boot information, the initrd and the modules go into
	 * the first range; the memory map says all of the domain's RAM. */
	const struct guest_load_args a = {
		.acpi_rsdp = d->acpi_rsdp,
		.name = d->name,
		.image = (const void *)(uintptr_t)m->start,
		.len = m->end - m->start,
		.mem = (uint8_t *)(uintptr_t)d->ram[0].hpa,
		.mem_size = d->ram[0].size,
		.ram_size = d->mem_size,
		.cmdline = cfg->cmdline,
		.kernel_name = cfg->kernel_path,
		.initrd = initrd ? (const void *)(uintptr_t)initrd->start : NULL,
		.initrd_len = initrd ? initrd->end - initrd->start : 0,
		.modules = cfg->nmodules ? mods : NULL,
		.nmodules = cfg->nmodules,
		.reserved = d->ecam_gpa ? &ecam : NULL,
		.nreserved = d->ecam_gpa ? 1 : 0,
	};
	return guest_load_args(&a, entry);
}

static void assign_vcpus(struct domain *d)
{
	uint64_t cpus = d->cfg->cpus;

	d->nvcpus = 0;
	while (cpus && d->nvcpus < DOMAIN_MAX_VCPUS) {
		struct vcpu *v = &d->vcpus[d->nvcpus++];
		v->dom = d;
		v->cpu = (uint32_t)__builtin_ctzll(cpus);
		v->apic_id = percpu_of(v->cpu)->apic_id;
		v->state = VCPU_WAIT_SIPI;
		vlapic_reset(v, d->nvcpus - 1);
		msr_vcpu_reset(v);
		cpus &= cpus - 1;
	}
}

/* Its ACPI tables, for a kernel that reads them (a Linux bzImage gets the
 * RSDP's address; the memory map marks the area). */
static int build_acpi(struct domain *d)
{
	struct acpi_guest_cpu cpus[DOMAIN_MAX_VCPUS];
	struct acpi_guest_pci pci;
	bool has_pci = passthrough_acpi(d, &pci);

	if (d->ram[0].size < ACPI_GPA + ACPI_SIZE)
		return 0;	/* too small for a kernel that wants ACPI anyway */
	for (uint32_t i = 0; i < d->nvcpus; i++)
		cpus[i].apic_id = d->vcpus[i].vapic_id;	/* the domain's IDs */
	d->acpi_rsdp = acpi_guest_build(d->name, (uint8_t *)(uintptr_t)(d->ram[0].hpa + ACPI_GPA),
					ACPI_GPA, ACPI_SIZE, cpus, d->nvcpus,
					has_pci ? &pci : NULL);
	return d->acpi_rsdp ? 0 : trace_error(-ENOSPC);
}

static void start_boot_vcpu(struct domain *d, const struct guest_entry *entry)
{
	struct vcpu *boot = &d->vcpus[0];
	boot->state = VCPU_RUNNING;
	boot->regs.rax = entry->eax;
	boot->regs.rbx = entry->ebx;
	boot->regs.rsi = entry->esi;	/* Linux 32-bit boot protocol: boot_params */
	boot->regs.rip = entry->rip;
	boot->regs.rflags = 0x2;	/* bit 1 is always set */
}

/* Its virtual devices as at power-on. */
static void reset_devices(struct domain *d)
{
	const struct legacy_host host = { .tsc = rdtsc_now, .tsc_hz = tsc_hz(),
					  .cmos_read = host_cmos_read,
					  .pci_cfg = passthrough_cf8_access, .pci_ctx = d };

	vuart_init(&d->uart, d->name);
	d->uart_line = false;
	vioapic_init(&d->ioapic, 0);
	legacy_init(&d->legacy, &host);
	pit_irq_reset(d);
	d->mtrr_def_type = 0xc06;	/* MTRRs enabled, default type write-back */
	d->pm1_enable = 0;
	d->kvmclock_wall_msr = 0;
}

void domain_scrub(struct domain *d)
{
	for (uint32_t i = 0; i < d->nranges; i++)
		memset((void *)(uintptr_t)d->ram[i].hpa, 0, d->ram[i].size);
	d->scrubbed = true;
}

/*
 * On the domain's first CPU, with every vCPU out of the guest: the domain
 * as at boot -- RAM zeroed, devices reset, tables and kernel loaded again
 * from the boot modules (which stay reserved), counters from zero.
 */
int domain_reload(struct domain *d)
{
	struct guest_entry entry;

	if (!d->scrubbed)
		domain_scrub(d);
	d->scrubbed = false;
	reset_devices(d);
	memset(d->exits, 0, sizeof(d->exits));
	d->io_refused = d->msr_refused = d->ipi_refused = d->mmio_refused = 0;
	d->vpci.refused = d->dma_faults = 0;
	for (uint32_t i = 0; i < d->nvcpus; i++) {
		struct vcpu *v = &d->vcpus[i];
		memset(&v->regs, 0, sizeof(v->regs));
		v->real_mode_start = false;
		vlapic_reset(v, i);
		msr_vcpu_reset(v);
	}
	int err = build_acpi(d);
	if (!err)
		err = load_kernel(d, d->bi, &entry);
	if (!err)
		start_boot_vcpu(d, &entry);
	return err;
}

int domain_create(struct domain *d, uint32_t id, const struct domain_config *cfg,
		  const struct boot_info *bi)
{
	struct guest_entry entry;
	int err;

	memset(d, 0, sizeof(*d));
	d->cfg = cfg;
	d->name = cfg->name;
	d->id = id;
	d->bi = bi;
	d->mem_size = cfg->memory;
	reset_devices(d);

	err = cfg->nranges ? claim_ranges(d) : take_memory(d, cfg->memory);
	if (!err)
		err = map_memory(d);
	assign_vcpus(d);	/* before the devices: MSI checks the CPUs */
	if (!err)
		err = passthrough_assign(d);
	for (uint32_t i = 0; i < d->nvcpus; i++)
		d->vcpus[i].io_bitmap = d->iopm;	/* the devices may have opened ports */
	if (!err)
		err = build_acpi(d);
	if (!err)
		err = load_kernel(d, bi, &entry);
	if (err) {
		/* Nothing of it runs; its devices and RAM go back. (Its
		 * page-table pages are not reclaimed: a few pages per failed
		 * domain, at boot.) */
		passthrough_release(d);
		release_memory(d);
		pr_err("domain %s: not started\n", d->name);
		return err;
	}
	err = conout_attach(d);
	if (err) {
		passthrough_release(d);
		release_memory(d);
		pr_err("domain %s: not started\n", d->name);
		return err;
	}
	start_boot_vcpu(d, &entry);
	d->loaded = true;
	/* Its CPUs start it (vmm/lifecycle.c) unless it waits for `start`. */
	d->state = cfg->autostart ? DOMAIN_STARTING : DOMAIN_NOT_STARTED;
	char cpus[96];
	int n = 0;
	for (uint32_t i = 0; i < d->nvcpus && n >= 0 && (size_t)n < sizeof(cpus); i++)
		n += hv_snprintf(cpus + n, sizeof(cpus) - (size_t)n, "%s%u", i ? "," : "",
				 d->vcpus[i].cpu);
	pr_info("domain %s: %llu MiB at host 0x%llx%s, entry 0x%x, CPU%s %s\n", d->name,
		(unsigned long long)(d->mem_size / MIB), (unsigned long long)d->ram[0].hpa,
		d->nranges > 1 ? " (and more ranges)" : "", entry.rip, d->nvcpus > 1 ? "s" : "", cpus);
	return 0;
}

/* With d->lock held: a rising edge of the UART's line is an interrupt on
 * the virtual IOAPIC's pin, sent where the guest routed it. */
void domain_uart_sync(struct domain *d)
{
	bool line = vuart_irq_line(&d->uart);
	struct vioapic_msg m;

	if (line && !d->uart_line && vioapic_route(&d->ioapic, UART_IRQ, &m) &&
	    (m.delivery == 0 || m.delivery == 1))
		vlapic_deliver(d, m.vector, m.logical, m.dest);
	d->uart_line = line;
}

void *domain_gpa_to_hva(const struct domain *d, uint64_t gpa, uint64_t len)
{
	uint64_t base = 0;

	for (uint32_t i = 0; i < d->nranges; i++) {
		uint64_t size = d->ram[i].size;
		if (gpa >= base && gpa - base < size && len <= size - (gpa - base))
			return (void *)(uintptr_t)(d->ram[i].hpa + (gpa - base));
		base += size;
	}
	return NULL;
}

void domain_uart_input(struct domain *d, uint8_t byte)
{
	spin_lock(&d->lock);
	vuart_receive(&d->uart, byte);	/* a full FIFO drops it, as a UART does */
	domain_uart_sync(d);
	spin_unlock(&d->lock);
}

void domain_print_exits(const struct domain *d)
{
	char buf[384];
	uint64_t total = 0;
	int n;

	for (unsigned r = 0; r < EXIT_REASONS; r++)
		total += __atomic_load_n(&d->exits[r], __ATOMIC_RELAXED);
	n = hv_snprintf(buf, sizeof(buf), "domain %s exits: total=%llu", d->name,
			(unsigned long long)total);
	for (unsigned r = 0; r < EXIT_REASONS && n > 0 && (size_t)n < sizeof(buf); r++)
		if (d->exits[r])
			n += hv_snprintf(buf + n, sizeof(buf) - (size_t)n, " %s=%llu",
					 exit_reason_names[r], (unsigned long long)d->exits[r]);
	if (d->vpci.n && n > 0 && (size_t)n < sizeof(buf))
		hv_snprintf(buf + n, sizeof(buf) - (size_t)n, " dma-faults=%llu",
			    (unsigned long long)__atomic_load_n(&d->dma_faults, __ATOMIC_RELAXED));
	pr_info("%s\n", buf);
	if (d->io_refused || d->msr_refused || d->ipi_refused || d->mmio_refused || d->vpci.refused)
		pr_info("domain %s refused: ports=%llu msrs=%llu ipis=%llu mmio=%llu pci=%llu\n",
			d->name, (unsigned long long)d->io_refused, (unsigned long long)d->msr_refused,
			(unsigned long long)d->ipi_refused, (unsigned long long)d->mmio_refused,
			(unsigned long long)d->vpci.refused);
}

