/*
 * The configuration blob: what `scripts/hvconfig compile` makes of a
 * system.toml, read by the hypervisor at boot (a multiboot2 module whose
 * string is "hv.config", or the default blob linked into the image).
 *
 * Blob layout (all little-endian, version 6), see scripts/hvconfig:
 *   struct hvcfg_header            at 0
 *   struct hvcfg_domain[ndomains]  at header.domains_off
 *   struct hvcfg_range[]           each domain's explicit memory ranges, at
 *                                  its ranges_off (hvconfig puts them all
 *                                  after the domain array, in domain order)
 *   struct hvcfg_module[]          each domain's multiboot modules, at its
 *                                  modules_off (hvconfig puts them all
 *                                  after the ranges, in domain order)
 *   struct hvcfg_device[]          each domain's PCI functions, at its
 *                                  devices_off (hvconfig puts them all
 *                                  after the modules, in domain order,
 *                                  8-aligned)
 *   string table                   at header.strings_off (NUL-terminated
 *                                  strings, referenced by offset into it)
 * Offsets are from the start of the blob (string offsets: from the start
 * of the string table); every 64-bit field is 8-byte aligned within its
 * record, and hvconfig 8-aligns every array. crc32 (IEEE 802.3, as
 * zlib.crc32) covers the whole blob with the crc32 field taken as 0.
 *
 * Version 2 added, per domain: explicit memory ranges (nranges,
 * ranges_off) and on_crash; the record grew from 32 to 48 bytes.
 * Version 3 added, per domain: the initrd (a module name) and multiboot
 * modules (nmodules, modules_off: each a module name and its args); the
 * record grew from 48 to 64 bytes. Version 4 added, per domain: the PCI
 * functions passed through (ndevices, devices_off: each a segment, bus and
 * devfn); the record grew from 64 to 72 bytes. Version 5 gave the
 * reserved word at offset 44 a meaning: kernel_path, the kernel's file
 * name as the TOML wrote it, which a multiboot, multiboot2 or plain ELF
 * kernel gets as the first word of its command line (argv[0], as QEMU's
 * -kernel gives it); the record stays 72 bytes. Version 6 gave flags a
 * meaning: the header's (HVCFG_SHELL_OFF: `shell = false`,
 * HVCFG_TERMINAL_TAGGED: `terminal = "tagged"`) and each domain's
 * (HVCFG_DOMAIN_NO_AUTOSTART: `autostart = false`), any other bit refused;
 * and the reserved word at offset 60: console_log, the size of the
 * domain's console log in bytes (a multiple of 4 KiB, 4 KiB..16 MiB;
 * hvconfig rounds the TOML's value up); the record stays 72 bytes. A
 * version 1, 2, 3, 4 or 5 blob is refused with a line saying to recompile
 * it.
 *
 * The hypervisor never trusts the blob: config_parse() checks magic,
 * version, sizes, offsets, the checksum, the header's and every domain's
 * flags (known bits only), every string (inside the table,
 * NUL-terminated, length limits: the kernel path 1..CONFIG_CMDLINE_MAX-1
 * bytes, as is the cmdline), names ([a-z0-9_-], 1..16, unique), CPUs
 * (no CPU in two domains), memory (non-zero, page multiple, below 2^52)
 * and ranges (inside the blob, at most CONFIG_MAX_RANGES, page aligned,
 * non-empty, below 2^52, no overlap within or across domains, summing to
 * `memory`), console_log (a multiple of 4 KiB in
 * CONFIG_CONSOLE_LOG_MIN..CONFIG_CONSOLE_LOG_MAX), the initrd and modules
 * (names "NAME.initrd" / "NAME.modK" of 1..63 characters, args below 256
 * bytes, at most CONFIG_MAX_MODULES, the array inside the blob), the
 * devices (at most CONFIG_MAX_DEVICES, the array inside the blob and
 * 8-aligned, reserved 0, no function twice in one domain), and refuses
 * the whole blob with one clear line on the first mistake. A function in
 * two domains is not refused here: the boot-time check (vmm/) gives it to
 * the first and refuses only the later domain. config_check_machine() then
 * holds the result against the real machine (CPUs present, ranges in
 * usable RAM, sizes that fit).
 */
#ifndef KERNEL_CONFIG_H
#define KERNEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HVCFG_MAGIC       "HVCONFIG"	/* 8 bytes, no NUL */
#define HVCFG_VERSION     6
#define HVCFG_MAX_SIZE    (1u << 20)
#define CONFIG_MAX_DOMAINS 16
#define CONFIG_NAME_MAX   16
#define CONFIG_CMDLINE_MAX 1024
#define CONFIG_MODULE_MAX 64		/* module names: "NAME.kernel" */
#define CONFIG_MAX_MODULES 16		/* multiboot modules per domain */
#define CONFIG_MODULE_ARGS_MAX 256	/* a module's args, with the NUL */
#define CONFIG_MAX_RANGES 8		/* explicit memory ranges per domain */
#define CONFIG_MAX_DEVICES 16		/* PCI functions per domain */
#define CONFIG_CONSOLE_LOG_MIN (4u << 10)	/* a domain's console log, bytes */
#define CONFIG_CONSOLE_LOG_MAX (16u << 20)
/* No x86_64 CPU has more physical address bits (MAXPHYADDR <= 52): memory
 * sizes and range ends above this are refused, which also keeps every sum
 * of them far from 64-bit overflow. */
#define CONFIG_PHYS_LIMIT (1ull << 52)

/* The multiboot2 module string that marks the configuration blob. */
#define HVCFG_MODULE_NAME "hv.config"

/* hvcfg_header.flags (version 6): a bit set is the non-default choice. */
#define HVCFG_SHELL_OFF		(1u << 0)	/* shell = false: no management shell */
#define HVCFG_TERMINAL_TAGGED	(1u << 1)	/* terminal = "tagged" (default "focus") */
#define HVCFG_HEADER_FLAGS	(HVCFG_SHELL_OFF | HVCFG_TERMINAL_TAGGED)
/* hvcfg_domain.flags (version 6). */
#define HVCFG_DOMAIN_NO_AUTOSTART (1u << 0)	/* autostart = false: waits for `start` */
#define HVCFG_DOMAIN_FLAGS	HVCFG_DOMAIN_NO_AUTOSTART

enum hvcfg_on_idle { HVCFG_ON_IDLE_POWEROFF = 0, HVCFG_ON_IDLE_HALT = 1 };
/* What to do with a domain that crashed (triple fault, memory violation):
 * stop it, or restart it. */
enum hvcfg_on_crash { HVCFG_ON_CRASH_STOP = 0, HVCFG_ON_CRASH_RESTART = 1 };

struct hvcfg_header {
	char magic[8];
	uint32_t version;
	uint32_t total_size;	/* of the whole blob */
	uint32_t crc32;
	uint32_t flags;		/* HVCFG_SHELL_OFF, HVCFG_TERMINAL_TAGGED */
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
	uint32_t flags;		/* HVCFG_DOMAIN_NO_AUTOSTART */
	uint64_t cpus;		/* bit n: physical CPU n (MADT order) */
	uint64_t memory;	/* bytes, a multiple of 4 KiB; with ranges: their total */
	uint32_t nranges;	/* 0: placed by the hypervisor, `memory` bytes */
	uint32_t ranges_off;	/* blob offset of hvcfg_range[nranges]; 0 if none */
	uint32_t on_crash;	/* enum hvcfg_on_crash */
	uint32_t kernel_path;	/* string: the `kernel` path as the TOML wrote it */
	uint32_t initrd;	/* string: the initrd's module name; 0 = none */
	uint32_t nmodules;	/* multiboot modules, 0..CONFIG_MAX_MODULES */
	uint32_t modules_off;	/* blob offset of hvcfg_module[nmodules]; 0 if none */
	uint32_t console_log;	/* bytes, a multiple of 4 KiB, 4 KiB..16 MiB */
	uint32_t ndevices;	/* PCI functions passed through, 0..CONFIG_MAX_DEVICES */
	uint32_t devices_off;	/* blob offset of hvcfg_device[ndevices]; 0 if none */
};

/* One PCI function of a domain, by host address. */
struct hvcfg_device {
	uint16_t segment;
	uint8_t bus;
	uint8_t devfn;		/* device << 3 | function */
	uint32_t reserved;	/* 0 */
};

/* One multiboot module of a domain: string offsets of its boot-module
 * name ("NAME.modK") and of the string the guest sees with it (its args). */
struct hvcfg_module {
	uint32_t name;
	uint32_t args;
};

/* One host-physical range [base, base + size), page aligned. A domain's
 * ranges follow one another in guest-physical order from 0. */
struct hvcfg_range {
	uint64_t base;
	uint64_t size;
};

_Static_assert(sizeof(struct hvcfg_header) == 48, "blob header layout");
_Static_assert(sizeof(struct hvcfg_domain) == 72, "blob domain layout");
_Static_assert(sizeof(struct hvcfg_device) == 8, "blob device layout");
_Static_assert(offsetof(struct hvcfg_header, flags) == 20, "blob header flags");
_Static_assert(offsetof(struct hvcfg_domain, flags) == 12 &&
	       offsetof(struct hvcfg_domain, cpus) == 16 &&
	       offsetof(struct hvcfg_domain, memory) == 24 &&
	       offsetof(struct hvcfg_domain, nranges) == 32 &&
	       offsetof(struct hvcfg_domain, on_crash) == 40 &&
	       offsetof(struct hvcfg_domain, kernel_path) == 44 &&
	       offsetof(struct hvcfg_domain, initrd) == 48 &&
	       offsetof(struct hvcfg_domain, nmodules) == 52 &&
	       offsetof(struct hvcfg_domain, modules_off) == 56 &&
	       offsetof(struct hvcfg_domain, console_log) == 60 &&
	       offsetof(struct hvcfg_domain, ndevices) == 64 &&
	       offsetof(struct hvcfg_domain, devices_off) == 68, "blob domain fields");
_Static_assert(offsetof(struct hvcfg_device, bus) == 2 &&
	       offsetof(struct hvcfg_device, devfn) == 3 &&
	       offsetof(struct hvcfg_device, reserved) == 4, "blob device fields");
_Static_assert(sizeof(struct hvcfg_domain) % 8 == 0, "domain records keep 8-byte alignment");
_Static_assert(sizeof(struct hvcfg_range) == 16, "blob range layout");
_Static_assert(sizeof(struct hvcfg_module) == 8, "blob module layout");

/* The parsed, validated configuration; strings point into the blob. */
struct domain_config {
	const char *name;
	const char *kernel;	/* the boot module's name, "NAME.kernel" */
	/* The `kernel` path as the TOML wrote it: the first word of a
	 * multiboot kernel's command line (vmm/load/loader.h). */
	const char *kernel_path;
	const char *cmdline;	/* as configured, without the path */
	uint64_t cpus;
	uint64_t memory;	/* bytes; with ranges, their total */
	enum hvcfg_on_crash on_crash;
	/* false (autostart = false): built at boot, but it waits for the
	 * operator's `start` command. */
	bool autostart;
	uint32_t console_log;	/* bytes: a multiple of 4 KiB, 4 KiB..16 MiB */
	/* 0: the hypervisor places `memory` bytes where it likes. Else the
	 * domain's RAM is exactly these host ranges, in guest-physical order
	 * from 0 (ranges[0] at GPA 0, ranges[1] right after it, ...). */
	uint32_t nranges;
	struct config_range {
		uint64_t base;	/* host-physical, page aligned */
		uint64_t size;	/* non-zero, page multiple */
	} ranges[CONFIG_MAX_RANGES];
	const char *initrd;	/* its boot module's name, or NULL: none */
	uint32_t nmodules;	/* multiboot modules, in order */
	struct {
		const char *name;	/* boot module name, "NAME.modK" */
		const char *args;	/* its string for the guest ("" if none) */
	} modules[CONFIG_MAX_MODULES];
	uint32_t ndevices;	/* PCI functions passed through, in order */
	struct config_device {
		uint16_t segment;
		uint8_t bus, devfn;
	} devices[CONFIG_MAX_DEVICES];
};

struct hv_config {
	enum hvcfg_on_idle on_idle;
	bool shell;		/* the operator's escape to the management shell is on */
	/* terminal = "tagged": every domain's output tagged and sanitised (for
	 * logging to files); false: "focus", the domain in focus drives the
	 * terminal directly. */
	bool terminal_tagged;
	uint32_t ndomains;
	struct domain_config domains[CONFIG_MAX_DOMAINS];
};

/* 0, or a negative errno after printing "hv: config: <what is wrong>". */
int config_parse(const void *blob, size_t len, struct hv_config *out);

uint32_t crc32_ieee(const void *data, size_t len);

struct memmap;

/*
 * Hold a parsed configuration against the machine it boots on
 * (kernel/config_check.c): every domain's CPUs are present (bit n of
 * cpus_present_mask: CPU n in MADT order), every explicit range lies
 * wholly inside MEM_USABLE regions of `m` (not the hypervisor, the boot
 * modules, firmware regions or holes), and the memory all domains need
 * (placed sizes plus explicit ranges) is at most the usable memory.
 * Returns 0, or -EINVAL after printing one "hv: config: ..." line per
 * problem (all of them, not only the first).
 */
int config_check_machine(const struct hv_config *cfg, uint64_t cpus_present_mask,
			 const struct memmap *m);

/* The default blob linked into the image (kernel/default_config.S). */
extern const uint8_t default_config_blob[];
extern const uint8_t default_config_blob_end[];

#endif
