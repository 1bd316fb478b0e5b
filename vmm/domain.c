/* Domain construction and stopping; see domain.h. */
#include "kernel/errno.h"
#include "kernel/mm.h"
#include "kernel/palloc.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "vmm/domain.h"
#include "vmm/loader.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)

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

/* Contiguous, zeroed, aligned so the largest leaves fit (1 GiB / 2 MiB). */
static int take_memory(struct domain *d, uint64_t size)
{
	uint64_t align = size >= GIB ? GIB : size >= 2 * MIB ? 2 * MIB : PAGE_SIZE;

	d->mem_hpa = alloc_pages(size / PAGE_SIZE, align, 0);
	if (!d->mem_hpa && align > 2 * MIB)
		d->mem_hpa = alloc_pages(size / PAGE_SIZE, 2 * MIB, 0);
	if (!d->mem_hpa) {
		pr_err("domain %s: cannot take %llu MiB of memory (%llu MiB free)\n", d->name,
		       (unsigned long long)(size / MIB),
		       (unsigned long long)(hv_palloc.free_bytes / MIB));
		return trace_error(-ENOMEM);
	}
	d->mem_size = size;
	return 0;
}

/* RAM at guest-physical 0; nothing else is mapped, so any other access
 * (another domain's memory, the hypervisor's, MMIO) is a violation. */
static int map_memory(struct domain *d)
{
	int err = pt_init(&d->slat, vcpu_ops->slat_format(), &hv_pt_mem);

	if (!err)
		err = pt_map(&d->slat, 0, d->mem_hpa, d->mem_size,
			     PT_READ | PT_WRITE | PT_EXEC | PT_USER);
	if (err)
		pr_err("domain %s: cannot build its %s page tables (error %d)\n", d->name,
		       vcpu_ops->name, err);
	return err;
}

static int load_kernel(struct domain *d, const struct boot_info *bi, struct guest_entry *entry)
{
	const struct boot_module *m = find_module(bi, d->cfg->kernel);

	if (!m) {
		pr_err("domain %s: kernel: no boot module named '%s'\n", d->name, d->cfg->kernel);
		return trace_error(-ENOENT);
	}
	return guest_load(d->name, (const void *)(uintptr_t)m->start, m->end - m->start,
			  domain_ram(d), d->mem_size, d->cfg->cmdline, entry);
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
	vuart_init(&d->uart, d->name);

	err = take_memory(d, cfg->memory);
	if (err)
		return err;
	err = map_memory(d);
	if (!err)
		err = load_kernel(d, bi, &entry);
	if (!err) {
		struct vcpu *v = &d->vcpus[0];
		v->dom = d;
		v->cpu = 0;
		v->regs.rax = entry.eax;
		v->regs.rbx = entry.ebx;
		v->regs.rip = entry.rip;
		v->regs.rflags = 0x2;	/* bit 1 is always set */
		err = vcpu_ops->vcpu_init(v, d->slat.root, id + 1);
		d->nvcpus = 1;
	}
	if (err) {
		/* Nothing of it runs; its RAM goes back. (Its page-table pages
		 * are not reclaimed: a few pages per failed domain, at boot.) */
		palloc_free(&hv_palloc, d->mem_hpa, d->mem_size / PAGE_SIZE);
		pr_err("domain %s: not started\n", d->name);
		return err;
	}
	d->running = true;
	pr_info("domain %s: %llu MiB at host 0x%llx, entry 0x%x, CPU %u\n", d->name,
		(unsigned long long)(d->mem_size / MIB), (unsigned long long)d->mem_hpa,
		entry.rip, d->vcpus[0].cpu);
	return 0;
}

static void print_exits(const struct domain *d)
{
	char buf[384];
	uint64_t total = 0;
	int n;

	for (unsigned r = 0; r < EXIT_REASONS; r++)
		total += d->exits[r];
	n = hv_snprintf(buf, sizeof(buf), "domain %s exits: total=%llu", d->name,
			(unsigned long long)total);
	for (unsigned r = 0; r < EXIT_REASONS && n > 0 && (size_t)n < sizeof(buf); r++)
		if (d->exits[r])
			n += hv_snprintf(buf + n, sizeof(buf) - (size_t)n, " %s=%llu",
					 exit_reason_names[r], (unsigned long long)d->exits[r]);
	pr_info("%s\n", buf);
	if (d->io_refused || d->msr_refused)
		pr_info("domain %s refused: ports=%llu msrs=%llu\n", d->name,
			(unsigned long long)d->io_refused, (unsigned long long)d->msr_refused);
}

void domain_stop(struct domain *d, const char *why)
{
	if (!d->running)
		return;
	d->running = false;
	for (uint32_t i = 0; i < d->nvcpus; i++)
		d->vcpus[i].state = VCPU_STOPPED;
	vuart_flush(&d->uart);
	pr_info("domain %s stopped: %s\n", d->name, why);
	print_exits(d);
}
