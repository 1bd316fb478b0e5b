/*
 * The configuration blob: what `scripts/hvconfig compile` makes of a
 * system.toml, read by the hypervisor at boot (a multiboot2 module whose
 * string is "hv.config", or the default blob linked into the image).
 *
 * Blob layout (all little-endian, version 1), see scripts/hvconfig:
 *   struct hvcfg_header            at 0
 *   struct hvcfg_domain[ndomains]  at header.domains_off
 *   string table                   at header.strings_off (NUL-terminated
 *                                  strings, referenced by offset into it)
 * crc32 (IEEE 802.3, as zlib.crc32) covers the whole blob with the crc32
 * field taken as 0.
 *
 * The hypervisor never trusts the blob: config_parse() checks magic,
 * version, sizes, offsets, the checksum, every string (inside the table,
 * NUL-terminated, length limits), names ([a-z0-9_-], 1..16, unique), CPUs
 * (no CPU in two domains) and memory (non-zero, page multiple), and
 * refuses the whole blob with one clear line on the first mistake.
 */
#ifndef KERNEL_CONFIG_H
#define KERNEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HVCFG_MAGIC       "HVCONFIG"	/* 8 bytes, no NUL */
#define HVCFG_VERSION     1
#define HVCFG_MAX_SIZE    (1u << 20)
#define CONFIG_MAX_DOMAINS 16
#define CONFIG_NAME_MAX   16
#define CONFIG_CMDLINE_MAX 1024
#define CONFIG_MODULE_MAX 64		/* module names: "NAME.kernel" */

/* The multiboot2 module string that marks the configuration blob. */
#define HVCFG_MODULE_NAME "hv.config"

enum hvcfg_on_idle { HVCFG_ON_IDLE_POWEROFF = 0, HVCFG_ON_IDLE_HALT = 1 };

struct hvcfg_header {
	char magic[8];
	uint32_t version;
	uint32_t total_size;	/* of the whole blob */
	uint32_t crc32;
	uint32_t flags;		/* 0 */
	uint32_t on_idle;	/* enum hvcfg_on_idle */
	uint32_t ndomains;
	uint32_t domains_off;
	uint32_t domain_size;	/* sizeof(struct hvcfg_domain) */
	uint32_t strings_off;
	uint32_t strings_size;
};

struct hvcfg_domain {
	uint32_t name;		/* string offsets */
	uint32_t kernel;	/* the module name that holds the kernel image */
	uint32_t cmdline;
	uint32_t flags;		/* 0 */
	uint64_t cpus;		/* bit n: physical CPU n (MADT order) */
	uint64_t memory;	/* bytes, a multiple of 4 KiB */
};

_Static_assert(sizeof(struct hvcfg_header) == 48, "blob header layout");
_Static_assert(sizeof(struct hvcfg_domain) == 32, "blob domain layout");

/* The parsed, validated configuration; strings point into the blob. */
struct domain_config {
	const char *name;
	const char *kernel;
	const char *cmdline;
	uint64_t cpus;
	uint64_t memory;
};

struct hv_config {
	enum hvcfg_on_idle on_idle;
	uint32_t ndomains;
	struct domain_config domains[CONFIG_MAX_DOMAINS];
};

/* 0, or a negative errno after printing "hv: config: <what is wrong>". */
int config_parse(const void *blob, size_t len, struct hv_config *out);

uint32_t crc32_ieee(const void *data, size_t len);

/* The default blob linked into the image (kernel/default_config.S). */
extern const uint8_t default_config_blob[];
extern const uint8_t default_config_blob_end[];

#endif
