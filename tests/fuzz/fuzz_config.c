/*
 * libFuzzer harness for the configuration blob: arbitrary bytes to
 * config_parse (kernel/config.c) and, when it accepts them, the result to
 * config_check_machine (kernel/config_check.c) against a fixed fake
 * machine. The blob is an exact-size heap copy, so ASan reports any read
 * outside it; every outcome is checked against the contract: a refusal is
 * exactly one "hv: config: " line and a zeroed result, an acceptance is
 * silent and yields a configuration that keeps every promise of config.h
 * (strings inside the blob, names valid and unique, CPUs and ranges
 * exclusive, sizes sound, initrd and module strings inside the blob and
 * of allowed lengths, at most CONFIG_MAX_DEVICES PCI functions per domain
 * and none twice in one), and the machine check either passes silently
 * or prints "hv: config: " lines.
 *
 * The first input byte is a control byte, the rest is the blob:
 *   bit 0  fix up total_size and crc32 before parsing (a fuzzer rarely
 *          guesses a checksum, and without it never gets past the
 *          envelope);
 *   bit 1  also write the magic and the current version;
 *   bits 2-7  the machine's CPUs: n > 0 means CPUs 0..n-1, 0 means all 64.
 *
 *   make build/fuzz/fuzz_config       (or, by hand:)
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. kernel/config.c \
 *       kernel/config_check.c kernel/memmap.c tests/fuzz/fuzz_config.c \
 *       tests/unit/host_stubs.c -o build/fuzz/fuzz_config
 *   build/fuzz/fuzz_config -max_total_time=600 CORPUS_DIR
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/config.h"
#include "kernel/memmap.h"
#include "tests/unit/host_stubs.h"

#define MiB (1ull << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise: say which, with the log, and crash for libFuzzer. */
#define check(ok) do {								\
		if (!(ok)) {							\
			fprintf(stderr, "fuzz_config.c:%d: check failed: %s\nlog:\n%s",	\
				__LINE__, #ok, test_log());			\
			abort();						\
		}								\
	} while (0)

/* A small PC: low RAM, the hypervisor and its modules at 1 MiB, RAM to
 * 126 MiB, ACPI, a hole, 256 MiB of RAM from 4 GiB with a bad page. */
static const struct memmap *machine(void)
{
	static struct memmap m;
	static int ready;

	if (!ready) {
		memmap_init(&m);
		check(!memmap_add(&m, 0, 0x9f000, MEM_USABLE));
		check(!memmap_add(&m, 0x9f000, 0x61000, MEM_RESERVED));
		check(!memmap_add(&m, MiB, 125 * MiB, MEM_USABLE));
		check(!memmap_reserve(&m, MiB, 3 * MiB, MEM_HV));
		check(!memmap_reserve(&m, 3 * MiB, 4 * MiB, MEM_BOOT));
		check(!memmap_add(&m, 126 * MiB, 2 * MiB, MEM_ACPI));
		check(!memmap_add(&m, 4096 * MiB, 256 * MiB, MEM_USABLE));
		check(!memmap_add(&m, 4200 * MiB, 4096, MEM_BAD));
		ready = 1;
	}
	return &m;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, sizeof(v)); }

static int inside(const uint8_t *blob, size_t size, const char *s)
{
	const uint8_t *p = (const uint8_t *)s;
	return p >= blob && p < blob + size && memchr(p, 0, (size_t)(blob + size - p)) != NULL;
}

static int ranges_overlap(const struct config_range *a, const struct config_range *b)
{
	return a->base < b->base + b->size && b->base < a->base + a->size;
}

/* Every promise config_parse makes about an accepted blob. */
static void check_accepted(const uint8_t *blob, size_t size, const struct hv_config *cfg)
{
	uint64_t cpus = 0;

	check(cfg->ndomains >= 1 && cfg->ndomains <= CONFIG_MAX_DOMAINS);
	check(cfg->on_idle == HVCFG_ON_IDLE_POWEROFF || cfg->on_idle == HVCFG_ON_IDLE_HALT);
	for (uint32_t i = 0; i < cfg->ndomains; i++) {
		const struct domain_config *d = &cfg->domains[i];
		check(inside(blob, size, d->name) && inside(blob, size, d->kernel) &&
		      inside(blob, size, d->kernel_path) && inside(blob, size, d->cmdline));
		size_t n = strlen(d->name);
		check(n >= 1 && n <= CONFIG_NAME_MAX);
		check(strspn(d->name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n);
		check(strlen(d->kernel) >= 1 && strlen(d->kernel) < CONFIG_MODULE_MAX);
		check(strlen(d->cmdline) < CONFIG_CMDLINE_MAX);
		check(strlen(d->kernel_path) >= 1 && strlen(d->kernel_path) < CONFIG_CMDLINE_MAX);
		check(d->cpus && !(d->cpus & cpus));
		cpus |= d->cpus;
		check(d->memory && d->memory % 4096 == 0 && d->memory <= CONFIG_PHYS_LIMIT);
		check(d->on_crash == HVCFG_ON_CRASH_STOP || d->on_crash == HVCFG_ON_CRASH_RESTART);
		check(d->nranges <= CONFIG_MAX_RANGES);
		uint64_t total = 0;
		for (uint32_t k = 0; k < d->nranges; k++) {
			const struct config_range *r = &d->ranges[k];
			check(r->size && (r->base | r->size) % 4096 == 0);
			check(r->size <= CONFIG_PHYS_LIMIT && r->base <= CONFIG_PHYS_LIMIT - r->size);
			total += r->size;
			for (uint32_t j = 0; j <= i; j++)
				for (uint32_t q = 0; q < (j == i ? k : cfg->domains[j].nranges); q++)
					check(!ranges_overlap(r, &cfg->domains[j].ranges[q]));
		}
		check(!d->nranges || total == d->memory);
		check(!d->initrd || (inside(blob, size, d->initrd) && strlen(d->initrd) >= 1 &&
				     strlen(d->initrd) < CONFIG_MODULE_MAX));
		check(d->nmodules <= CONFIG_MAX_MODULES);
		for (uint32_t k = 0; k < d->nmodules; k++) {
			check(inside(blob, size, d->modules[k].name) &&
			      inside(blob, size, d->modules[k].args));
			check(strlen(d->modules[k].name) >= 1 &&
			      strlen(d->modules[k].name) < CONFIG_MODULE_MAX);
			check(strlen(d->modules[k].args) < CONFIG_MODULE_ARGS_MAX);
		}
		check(d->ndevices <= CONFIG_MAX_DEVICES);
		for (uint32_t k = 0; k < d->ndevices; k++)
			for (uint32_t j = 0; j < k; j++)
				check(d->devices[j].segment != d->devices[k].segment ||
				      d->devices[j].bus != d->devices[k].bus ||
				      d->devices[j].devfn != d->devices[k].devfn);
		for (uint32_t k = d->ndevices; k < CONFIG_MAX_DEVICES; k++)
			check(!d->devices[k].segment && !d->devices[k].bus && !d->devices[k].devfn);
		for (uint32_t j = 0; j < i; j++)
			check(strcmp(d->name, cfg->domains[j].name) != 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hv_config cfg;
	static const struct hv_config zero;

	if (size == 0)
		return 0;
	uint8_t control = data[0];
	data++;
	size--;
	uint8_t *blob = malloc(size ? size : 1);
	check(blob != NULL);
	memcpy(blob, data, size);
	if ((control & 2) && size >= 12) {
		memcpy(blob, HVCFG_MAGIC, 8);
		put32(blob + 8, HVCFG_VERSION);
	}
	if ((control & 1) && size >= sizeof(struct hvcfg_header)) {
		put32(blob + offsetof(struct hvcfg_header, total_size), (uint32_t)size);
		put32(blob + offsetof(struct hvcfg_header, crc32), 0);
		put32(blob + offsetof(struct hvcfg_header, crc32), crc32_ieee(blob, size));
	}

	test_log_clear();
	int err = config_parse(blob, size, &cfg);
	const char *log = test_log();
	if (err) {
		/* Refused: one line, nothing left of the configuration. */
		check(err < 0);
		check(strncmp(log, "hv: config: ", 12) == 0);
		const char *nl = strchr(log, '\n');
		check(nl && nl[1] == '\0');
		check(memcmp(&cfg, &zero, sizeof(cfg)) == 0);
	} else {
		check(log[0] == '\0');
		check_accepted(blob, size, &cfg);
		unsigned ncpus = control >> 2;
		uint64_t present = ncpus ? (1ull << ncpus) - 1 : UINT64_MAX;
		err = config_check_machine(&cfg, present, machine());
		log = test_log();
		if (err) {
			check(err == -22);
			check(strncmp(log, "hv: config: ", 12) == 0);
			check(log[strlen(log) - 1] == '\n');
		} else {
			check(log[0] == '\0');
		}
	}
	free(blob);
	return 0;
}
