/*
 * Configuration blob parser: valid blobs, then one corruption per check,
 * each refused with its message. Blobs are built here (blob_new/seal);
 * tests/hvconfig_test.py covers the TOML side and, with
 * HVCFG_SAMPLE_OUT=F, writes a compiled sample that this test parses when
 * run with HVCFG_SAMPLE_BLOB=F (both sides must agree on the layout).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/config.h"
#include "tests/unit/host_stubs.h"

#define MiB (1ull << 20)
#define BLOB_CAP 8192

struct test_domain {
	const char *name, *kernel, *cmdline;
	uint64_t cpus, memory;
};

#define DEFAULT_PATH "guests/kernel.elf"
/* What blob_build gives a domain without an explicit console_log: what
 * hvconfig writes without the key. */
#define DEFAULT_CONSOLE_LOG (64u << 10)


/* Version 2 to 6 additions of a domain, for blob_build: the kernel path
 * (the `kernel` value as the TOML wrote it), on_crash and
 * explicit ranges (n may exceed CONFIG_MAX_RANGES, to test the limit);
 * the initrd's module name (NULL: none) and modules (nmods may exceed
 * CONFIG_MAX_MODULES); PCI functions (ndevs may exceed CONFIG_MAX_DEVICES);
 * the domain's flags and console_log (version 6). */
struct test_extra {
	const char *path;	/* kernel_path (version 5); NULL: DEFAULT_PATH */
	uint32_t flags;		/* HVCFG_DOMAIN_* (version 6) */
	uint32_t console_log;	/* version 6; 0: DEFAULT_CONSOLE_LOG */
	uint32_t on_crash;
	uint32_t n;
	struct hvcfg_range r[CONFIG_MAX_RANGES + 2];
	const char *initrd;
	uint32_t nmods;
	struct { const char *name, *args; } mods[CONFIG_MAX_MODULES + 2];
	uint32_t ndevs;
	struct hvcfg_device devs[CONFIG_MAX_DEVICES + 2];
};

struct blob {
	uint8_t *data;
	size_t len;
};

/* ---- a small blob builder ------------------------------------------------ */

static uint32_t put_string(uint8_t *table, uint32_t *size, const char *s)
{
	uint32_t off = *size;
	size_t n = strlen(s) + 1;

	memcpy(table + off, s, n);
	*size += (uint32_t)n;
	return off;
}

static struct hvcfg_header get_hdr(const struct blob *b)
{
	struct hvcfg_header h;
	memcpy(&h, b->data, sizeof(h));
	return h;
}

static void put_hdr(struct blob *b, const struct hvcfg_header *h)
{
	memcpy(b->data, h, sizeof(*h));
}

static struct hvcfg_domain get_dom(const struct blob *b, unsigned i)
{
	struct hvcfg_domain d;
	struct hvcfg_header h = get_hdr(b);
	memcpy(&d, b->data + h.domains_off + i * sizeof(d), sizeof(d));
	return d;
}

static void put_dom(struct blob *b, unsigned i, const struct hvcfg_domain *d)
{
	struct hvcfg_header h = get_hdr(b);
	memcpy(b->data + h.domains_off + i * sizeof(*d), d, sizeof(*d));
}

/* Recompute the checksum after a deliberate corruption, so that the check
 * under test, not the crc, is what refuses the blob. */
static void seal(struct blob *b)
{
	struct hvcfg_header h = get_hdr(b);
	h.crc32 = 0;
	put_hdr(b, &h);
	h.crc32 = crc32_ieee(b->data, b->len);
	put_hdr(b, &h);
}

/*
 * A valid blob laid out much like scripts/hvconfig does: header, domains,
 * each domain's ranges, modules and devices (by domain, not by kind: the
 * parser must not care), string table (8-aligned, "" at offset 0).
 * `extra` (may be NULL) gives each domain's on_crash, ranges, initrd,
 * modules, devices, flags and console_log; a domain with ranges and memory
 * 0 gets their total as its memory, one without a console_log
 * DEFAULT_CONSOLE_LOG.
 */
static struct blob blob_build(const struct test_domain *doms, unsigned n, uint32_t on_idle,
			      const struct test_extra *extra)
{
	struct blob b = { calloc(1, BLOB_CAP), 0 };
	uint8_t table[BLOB_CAP / 2];
	uint32_t tsize = 0;
	struct hvcfg_header h = {
		.magic = HVCFG_MAGIC, .version = HVCFG_VERSION, .on_idle = on_idle,
		.ndomains = n, .domains_off = sizeof(h), .domain_size = sizeof(struct hvcfg_domain),
	};
	uint32_t ranges_at = (uint32_t)(sizeof(h) + n * sizeof(struct hvcfg_domain));

	assert_non_null(b.data);
	put_string(table, &tsize, "");
	for (unsigned i = 0; i < n; i++) {
		/* In this order in the table (an initializer's are not
		 * sequenced): the cmdline last, the kernel path before it. */
		uint32_t name = put_string(table, &tsize, doms[i].name);
		uint32_t kernel = put_string(table, &tsize, doms[i].kernel);
		uint32_t path = put_string(table, &tsize,
					   extra && extra[i].path ? extra[i].path : DEFAULT_PATH);
		uint32_t cmdline = put_string(table, &tsize, doms[i].cmdline);
		struct hvcfg_domain d = {
			.name = name, .kernel = kernel, .kernel_path = path, .cmdline = cmdline,
			.cpus = doms[i].cpus, .memory = doms[i].memory,
			.console_log = DEFAULT_CONSOLE_LOG,
		};
		if (extra) {
			uint64_t total = 0;
			d.on_crash = extra[i].on_crash;
			d.flags = extra[i].flags;
			if (extra[i].console_log)
				d.console_log = extra[i].console_log;
			d.nranges = extra[i].n;
			d.ranges_off = extra[i].n ? ranges_at : 0;
			for (unsigned k = 0; k < extra[i].n; k++) {
				memcpy(b.data + ranges_at, &extra[i].r[k], sizeof(extra[i].r[k]));
				ranges_at += sizeof(extra[i].r[k]);
				total += extra[i].r[k].size;
			}
			if (extra[i].n && !d.memory)
				d.memory = total;
			if (extra[i].initrd)
				d.initrd = put_string(table, &tsize, extra[i].initrd);
			d.nmodules = extra[i].nmods;
			d.modules_off = extra[i].nmods ? ranges_at : 0;
			for (unsigned k = 0; k < extra[i].nmods; k++) {
				struct hvcfg_module m = {
					.name = put_string(table, &tsize, extra[i].mods[k].name),
					.args = put_string(table, &tsize, extra[i].mods[k].args),
				};
				memcpy(b.data + ranges_at, &m, sizeof(m));
				ranges_at += sizeof(m);
			}
			d.ndevices = extra[i].ndevs;
			d.devices_off = extra[i].ndevs ? ranges_at : 0;
			for (unsigned k = 0; k < extra[i].ndevs; k++) {
				memcpy(b.data + ranges_at, &extra[i].devs[k], sizeof(extra[i].devs[k]));
				ranges_at += sizeof(extra[i].devs[k]);
			}
		}
		memcpy(b.data + sizeof(h) + i * sizeof(d), &d, sizeof(d));
	}
	h.strings_off = (ranges_at + 7) & ~7u;
	h.strings_size = tsize;
	h.total_size = h.strings_off + tsize;
	assert_true(h.total_size <= BLOB_CAP);
	memcpy(b.data + h.strings_off, table, tsize);
	b.len = h.total_size;
	put_hdr(&b, &h);
	seal(&b);
	return b;
}

static struct blob blob_new(const struct test_domain *doms, unsigned n, uint32_t on_idle)
{
	return blob_build(doms, n, on_idle, NULL);
}

static const struct test_domain one[] = {
	{ "test0", "test0.kernel", "expect-mem=32M", 0x1, 32 * MiB },
};

static const struct test_domain three[] = {
	{ "linux0", "linux0.kernel", "console=ttyS0", 0x6, 256 * MiB },
	{ "db", "db.kernel", "", 0x8, 1024 * MiB },
	{ "web", "web.kernel", "quiet", 0x8000000000000001ull, 1 * MiB },
};

/* Parse, expect a refusal with `msg` in the log and a zeroed result. */
static void expect_reject(const struct blob *b, const char *msg)
{
	struct hv_config cfg;
	static const struct hv_config zero;

	test_log_clear();
	memset(&cfg, 0xa5, sizeof(cfg));
	int rc = config_parse(b->data, b->len, &cfg);
	if (rc >= 0 || !test_log_has(msg))
		fprintf(stderr, "rc %d, wanted \"%s\", log:\n%s", rc, msg, test_log());
	assert_true(rc < 0);
	assert_true(test_log_has(msg));
	assert_memory_equal(&cfg, &zero, sizeof(cfg));
}

static void expect_accept(const struct blob *b, struct hv_config *cfg)
{
	test_log_clear();
	int rc = config_parse(b->data, b->len, cfg);
	if (rc)
		fprintf(stderr, "rc %d, log:\n%s", rc, test_log());
	assert_int_equal(rc, 0);
	assert_string_equal(test_log(), "");
}

/* ---- valid blobs ------------------------------------------------------------ */

static void test_crc32_vectors(void **state)
{
	(void)state;
	assert_int_equal(crc32_ieee("", 0), 0);
	assert_int_equal(crc32_ieee("123456789", 9), 0xcbf43926u);
	assert_int_equal(crc32_ieee("The quick brown fox jumps over the lazy dog", 43), 0x414fa339u);
}

static void test_one_domain(void **state)
{
	struct hv_config cfg;
	struct blob b = blob_new(one, 1, HVCFG_ON_IDLE_POWEROFF);
	(void)state;

	expect_accept(&b, &cfg);
	assert_int_equal(cfg.on_idle, HVCFG_ON_IDLE_POWEROFF);
	assert_int_equal(cfg.ndomains, 1);
	assert_string_equal(cfg.domains[0].name, "test0");
	assert_string_equal(cfg.domains[0].kernel, "test0.kernel");
	assert_string_equal(cfg.domains[0].kernel_path, DEFAULT_PATH);
	assert_string_equal(cfg.domains[0].cmdline, "expect-mem=32M");
	assert_int_equal(cfg.domains[0].cpus, 1);
	assert_int_equal(cfg.domains[0].memory, 32 * MiB);
	assert_int_equal(cfg.domains[0].nranges, 0);
	assert_int_equal(cfg.domains[0].on_crash, HVCFG_ON_CRASH_STOP);
	/* Flags 0: the shell on, terminal "focus", the domain started at boot. */
	assert_true(cfg.shell);
	assert_false(cfg.terminal_tagged);
	assert_true(cfg.domains[0].autostart);
	assert_int_equal(cfg.domains[0].console_log, DEFAULT_CONSOLE_LOG);
	/* The strings point into the blob, not into a copy. */
	assert_true((const uint8_t *)cfg.domains[0].name > b.data &&
		    (const uint8_t *)cfg.domains[0].name < b.data + b.len);
	free(b.data);
}

static void test_three_domains(void **state)
{
	struct hv_config cfg;
	struct blob b = blob_new(three, 3, HVCFG_ON_IDLE_HALT);
	(void)state;

	expect_accept(&b, &cfg);
	assert_int_equal(cfg.on_idle, HVCFG_ON_IDLE_HALT);
	assert_int_equal(cfg.ndomains, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_string_equal(cfg.domains[i].name, three[i].name);
		assert_string_equal(cfg.domains[i].kernel, three[i].kernel);
		assert_string_equal(cfg.domains[i].cmdline, three[i].cmdline);
		assert_true(cfg.domains[i].cpus == three[i].cpus);
		assert_true(cfg.domains[i].memory == three[i].memory);
	}
	free(b.data);
}

/* A boot module need not be aligned: UBSan would flag a misaligned read. */
static void test_unaligned_blob(void **state)
{
	struct hv_config cfg;
	struct blob b = blob_new(three, 3, HVCFG_ON_IDLE_POWEROFF);
	uint8_t *odd = malloc(b.len + 1);
	(void)state;

	assert_non_null(odd);
	memcpy(odd + 1, b.data, b.len);
	test_log_clear();
	assert_int_equal(config_parse(odd + 1, b.len, &cfg), 0);
	assert_string_equal(cfg.domains[2].name, "web");
	free(odd);
	free(b.data);
}

/* Limits that are just allowed: 16 domains, 16-char names, 63-char module
 * names, 1023-byte command lines and kernel paths, CPU 63. */
static void test_limits_accepted(void **state)
{
	static char names[CONFIG_MAX_DOMAINS][8];
	char kernel[CONFIG_MODULE_MAX], cmdline[CONFIG_CMDLINE_MAX];
	struct test_domain doms[CONFIG_MAX_DOMAINS];
	struct hv_config cfg;
	(void)state;

	memset(kernel, 'k', sizeof(kernel) - 1);
	kernel[sizeof(kernel) - 1] = '\0';
	memset(cmdline, 'c', sizeof(cmdline) - 1);
	cmdline[sizeof(cmdline) - 1] = '\0';
	for (unsigned i = 0; i < CONFIG_MAX_DOMAINS; i++) {
		snprintf(names[i], sizeof(names[i]), "d%u", i);
		doms[i] = (struct test_domain){ names[i], "k", "", 1ull << (i + 48), MiB };
	}
	doms[0].name = "abcdefghijklmn_-";
	doms[0].kernel = kernel;
	doms[1].cmdline = cmdline;
	static struct test_extra ex[CONFIG_MAX_DOMAINS];
	ex[2].path = cmdline;
	ex[3].path = "k";
	struct blob b = blob_build(doms, CONFIG_MAX_DOMAINS, 0, ex);
	expect_accept(&b, &cfg);
	assert_int_equal(cfg.ndomains, CONFIG_MAX_DOMAINS);
	assert_int_equal(strlen(cfg.domains[2].kernel_path), CONFIG_CMDLINE_MAX - 1);
	assert_string_equal(cfg.domains[3].kernel_path, "k");
	assert_true(cfg.domains[15].cpus == 1ull << 63);
	free(b.data);
}

/* The blob that tests/hvconfig_test.py compiled from its sample TOML. */
static void test_sample_from_hvconfig(void **state)
{
	const char *path = getenv("HVCFG_SAMPLE_BLOB");
	struct hv_config cfg;
	struct blob b;
	(void)state;

	if (!path || !*path)
		skip();
	b.data = test_read_file(path, &b.len);
	expect_accept(&b, &cfg);
	/* Must match SAMPLE in tests/hvconfig_test.py. */
	assert_int_equal(cfg.on_idle, HVCFG_ON_IDLE_HALT);
	assert_true(cfg.shell);
	assert_true(cfg.terminal_tagged);
	assert_int_equal(cfg.ndomains, 4);
	assert_string_equal(cfg.domains[0].name, "linux0");
	assert_string_equal(cfg.domains[0].kernel, "linux0.kernel");
	assert_string_equal(cfg.domains[0].kernel_path, "guests/bzImage");
	assert_string_equal(cfg.domains[0].cmdline, "console=ttyS0");
	assert_true(cfg.domains[0].cpus == 0x6);
	assert_true(cfg.domains[0].memory == 256 * MiB);
	assert_int_equal(cfg.domains[0].on_crash, HVCFG_ON_CRASH_RESTART);
	assert_int_equal(cfg.domains[0].nranges, 0);
	assert_string_equal(cfg.domains[1].name, "rt-1");
	assert_string_equal(cfg.domains[1].kernel, "rt-1.kernel");
	assert_string_equal(cfg.domains[1].kernel_path, "guests/rt.elf");
	assert_string_equal(cfg.domains[1].cmdline, "");
	assert_true(cfg.domains[1].cpus == 0x8000000000000008ull);
	assert_true(cfg.domains[1].memory == 1024 * MiB);
	assert_string_equal(cfg.domains[2].name, "x_y");
	assert_string_equal(cfg.domains[2].cmdline, "a=\"b c\"");
	assert_true(cfg.domains[2].cpus == 0x1);
	assert_true(cfg.domains[2].memory == 12345 * 4096ull);
	assert_int_equal(cfg.domains[2].on_crash, HVCFG_ON_CRASH_STOP);
	assert_string_equal(cfg.domains[3].name, "fixed");
	assert_true(cfg.domains[3].cpus == 0x30);
	assert_true(cfg.domains[3].memory == 3 * MiB);
	assert_int_equal(cfg.domains[3].nranges, 2);
	assert_true(cfg.domains[3].ranges[0].base == 0x40000000);
	assert_true(cfg.domains[3].ranges[0].size == 2 * MiB);
	assert_true(cfg.domains[3].ranges[1].base == 0x10000000);
	assert_true(cfg.domains[3].ranges[1].size == 1 * MiB);
	assert_string_equal(cfg.domains[0].initrd, "linux0.initrd");
	assert_int_equal(cfg.domains[0].nmodules, 0);
	assert_null(cfg.domains[1].initrd);
	assert_int_equal(cfg.domains[1].nmodules, 2);
	assert_string_equal(cfg.domains[1].modules[0].name, "rt-1.mod0");
	assert_string_equal(cfg.domains[1].modules[0].args, "rt args");
	assert_string_equal(cfg.domains[1].modules[1].name, "rt-1.mod1");
	assert_string_equal(cfg.domains[1].modules[1].args, "");
	assert_null(cfg.domains[3].initrd);
	assert_int_equal(cfg.domains[3].nmodules, 0);
	assert_int_equal(cfg.domains[0].ndevices, 2);
	assert_int_equal(cfg.domains[0].devices[0].segment, 0);
	assert_int_equal(cfg.domains[0].devices[0].bus, 0);
	assert_int_equal(cfg.domains[0].devices[0].devfn, 3 << 3);
	assert_int_equal(cfg.domains[0].devices[1].segment, 1);
	assert_int_equal(cfg.domains[0].devices[1].bus, 0xff);
	assert_int_equal(cfg.domains[0].devices[1].devfn, 0x1f << 3 | 7);
	assert_int_equal(cfg.domains[1].ndevices, 0);
	assert_int_equal(cfg.domains[2].ndevices, 0);
	assert_int_equal(cfg.domains[3].ndevices, 1);
	assert_int_equal(cfg.domains[3].devices[0].devfn, 5 << 3);
	assert_true(cfg.domains[0].autostart);
	assert_false(cfg.domains[1].autostart);
	assert_true(cfg.domains[2].autostart);
	assert_true(cfg.domains[3].autostart);
	assert_int_equal(cfg.domains[0].console_log, 64 << 10);
	assert_int_equal(cfg.domains[1].console_log, 1 << 20);
	assert_int_equal(cfg.domains[2].console_log, 8192);	/* 5000, rounded up */
	assert_int_equal(cfg.domains[3].console_log, 64 << 10);
	free(b.data);
}

/* ---- the envelope: size, magic, version, checksum ---------------------------- */

static void test_short_and_null(void **state)
{
	struct hv_config cfg;
	struct blob b = blob_new(one, 1, 0);
	(void)state;

	b.len = sizeof(struct hvcfg_header) - 1;
	expect_reject(&b, "hv: config: blob too short (47 bytes, the header alone is 48)\n");
	test_log_clear();
	assert_int_equal(config_parse(NULL, 0, &cfg), -22);
	assert_true(test_log_has("config: blob too short (0 bytes"));
	free(b.data);
}

static void test_bad_magic(void **state)
{
	struct blob b = blob_new(one, 1, 0);
	(void)state;

	b.data[0] = 'X';
	seal(&b);
	expect_reject(&b, "hv: config: bad magic (not a configuration blob)\n");
	free(b.data);
}

static void test_bad_version(void **state)
{
	struct blob b = blob_new(one, 1, 0);
	struct hvcfg_header h = get_hdr(&b);
	(void)state;

	h.version = 7;
	put_hdr(&b, &h);
	seal(&b);
	expect_reject(&b, "hv: config: unsupported version 7 (this hypervisor reads version 6)\n");
	h.version = 0;
	put_hdr(&b, &h);
	seal(&b);
	expect_reject(&b, "hv: config: unsupported version 0 (this hypervisor reads version 6)\n");
	free(b.data);
}

/* A real version 1 blob (32-byte domain records, as the old hvconfig
 * wrote it) gets the line that says what to do. */
static void test_version_1_refused(void **state)
{
	static const char strings[] = "\0test0\0test0.kernel\0";
	uint8_t v1[48 + 32 + sizeof(strings)];
	uint32_t hdr[10] = { 1, sizeof(v1), 0, 0, 0, 1, 48, 32, 48 + 32, sizeof(strings) };
	struct { uint32_t name, kernel, cmdline, flags; uint64_t cpus, memory; } dom = {
		1, 7, 0, 0, 1, 32 * MiB };
	struct blob b = { v1, sizeof(v1) };
	(void)state;

	memcpy(v1, HVCFG_MAGIC, 8);
	memcpy(v1 + 8, hdr, sizeof(hdr));
	memcpy(v1 + 48, &dom, sizeof(dom));
	memcpy(v1 + 80, strings, sizeof(strings));
	hdr[2] = crc32_ieee(v1, sizeof(v1));
	memcpy(v1 + 8, hdr, sizeof(hdr));
	expect_reject(&b, "hv: config: blob version 1, this hypervisor reads version 6: "
		      "recompile it with scripts/hvconfig\n");
	assert_null(strchr(strchr(test_log(), '\n') + 1, '\n'));
}

/* A version 2 blob (48-byte domain records, no initrd or modules) too. */
static void test_version_2_refused(void **state)
{
	static const char strings[] = "\0test0\0test0.kernel\0";
	uint8_t v2[48 + 48 + sizeof(strings)];
	uint32_t hdr[10] = { 2, sizeof(v2), 0, 0, 0, 1, 48, 48, 48 + 48, sizeof(strings) };
	struct { uint32_t name, kernel, cmdline, flags; uint64_t cpus, memory;
		 uint32_t nranges, ranges_off, on_crash, reserved; } dom = {
		1, 7, 0, 0, 1, 32 * MiB, 0, 0, 0, 0 };
	struct blob b = { v2, sizeof(v2) };
	(void)state;

	memcpy(v2, HVCFG_MAGIC, 8);
	memcpy(v2 + 8, hdr, sizeof(hdr));
	memcpy(v2 + 48, &dom, sizeof(dom));
	memcpy(v2 + 96, strings, sizeof(strings));
	hdr[2] = crc32_ieee(v2, sizeof(v2));
	memcpy(v2 + 8, hdr, sizeof(hdr));
	expect_reject(&b, "hv: config: blob version 2, this hypervisor reads version 6: "
		      "recompile it with scripts/hvconfig\n");
	assert_null(strchr(strchr(test_log(), '\n') + 1, '\n'));
}

/* A version 3 blob (64-byte domain records, no devices), as the hvconfig
 * before passthrough wrote it: a domain with one module. */
static void test_version_3_refused(void **state)
{
	static const char strings[] = "\0test0\0test0.kernel\0test0.mod0\0";
	uint8_t v3[48 + 64 + 8 + sizeof(strings)];
	uint32_t hdr[10] = { 3, sizeof(v3), 0, 0, 0, 1, 48, 64, 48 + 64 + 8, sizeof(strings) };
	struct { uint32_t name, kernel, cmdline, flags; uint64_t cpus, memory;
		 uint32_t nranges, ranges_off, on_crash, reserved;
		 uint32_t initrd, nmodules, modules_off, reserved2; } dom = {
		1, 7, 0, 0, 1, 32 * MiB, 0, 0, 0, 0, 0, 1, 48 + 64, 0 };
	const uint32_t mod[2] = { 20, 0 };
	struct blob b = { v3, sizeof(v3) };
	(void)state;

	_Static_assert(sizeof(dom) == 64, "the version 3 record");
	memcpy(v3, HVCFG_MAGIC, 8);
	memcpy(v3 + 8, hdr, sizeof(hdr));
	memcpy(v3 + 48, &dom, sizeof(dom));
	memcpy(v3 + 112, mod, sizeof(mod));
	memcpy(v3 + 120, strings, sizeof(strings));
	hdr[2] = crc32_ieee(v3, sizeof(v3));
	memcpy(v3 + 8, hdr, sizeof(hdr));
	expect_reject(&b, "hv: config: blob version 3, this hypervisor reads version 6: "
		      "recompile it with scripts/hvconfig\n");
	assert_null(strchr(strchr(test_log(), '\n') + 1, '\n'));
}

/* A version 4 blob (the same 72-byte records, the word at 44 reserved and
 * 0: no kernel path), as the hvconfig before argv[0] wrote it. */
static void test_version_4_refused(void **state)
{
	struct blob b = blob_new(one, 1, 0);
	struct hvcfg_header h = get_hdr(&b);
	struct hvcfg_domain d = get_dom(&b, 0);
	(void)state;

	h.version = 4;
	put_hdr(&b, &h);
	d.kernel_path = 0;
	put_dom(&b, 0, &d);
	seal(&b);
	expect_reject(&b, "hv: config: blob version 4, this hypervisor reads version 6: "
		      "recompile it with scripts/hvconfig\n");
	assert_null(strchr(strchr(test_log(), '\n') + 1, '\n'));
	free(b.data);
}

/* A version 5 blob: the same 72-byte records, flags 0 and the word at 60
 * reserved and 0 (no console_log), as the hvconfig before the shell keys
 * wrote it. */
static void test_version_5_refused(void **state)
{
	struct blob b = blob_new(one, 1, 0);
	struct hvcfg_header h = get_hdr(&b);
	struct hvcfg_domain d = get_dom(&b, 0);
	(void)state;

	h.version = 5;
	put_hdr(&b, &h);
	d.console_log = 0;
	put_dom(&b, 0, &d);
	seal(&b);
	expect_reject(&b, "hv: config: blob version 5, this hypervisor reads version 6: "
		      "recompile it with scripts/hvconfig\n");
	assert_null(strchr(strchr(test_log(), '\n') + 1, '\n'));
	free(b.data);
}

static void test_size_mismatch(void **state)
{
	struct blob b = blob_new(one, 1, 0);
	size_t len = b.len;
	(void)state;

	b.len = len - 1;	/* a truncated module */
	seal(&b);
	expect_reject(&b, "config: size mismatch (header says ");
	b.len = len + 8;	/* a module padded by the loader */
	seal(&b);
	expect_reject(&b, "config: size mismatch (header says ");
	free(b.data);
}

static void test_too_large(void **state)
{
	struct blob b = blob_new(one, 1, 0);
	struct hvcfg_header h = get_hdr(&b);
	size_t big = HVCFG_MAX_SIZE + 8;
	(void)state;

	b.data = realloc(b.data, big);
	assert_non_null(b.data);
	memset(b.data + b.len, 0, big - b.len);
	b.len = big;
	h.total_size = (uint32_t)big;
	put_hdr(&b, &h);
	seal(&b);
	expect_reject(&b, "hv: config: blob too large (1048584 bytes, at most 1048576)\n");
	free(b.data);
}

static void test_bad_crc(void **state)
{
	struct blob b = blob_new(one, 1, 0);
	struct hvcfg_header h = get_hdr(&b);
	uint32_t sealed = h.crc32;
	char msg[96];
	(void)state;

	b.data[b.len - 2] ^= 1;	/* a flipped bit in the string table */
	h.crc32 = 0;
	put_hdr(&b, &h);
	uint32_t computed = crc32_ieee(b.data, b.len);
	h.crc32 = sealed;
	put_hdr(&b, &h);
	snprintf(msg, sizeof(msg), "hv: config: bad checksum (blob 0x%08x, computed 0x%08x)\n",
		 sealed, computed);
	expect_reject(&b, msg);
	free(b.data);
}

/* ---- the header's fields -------------------------------------------------- */

/* Apply `edit` to the header of a valid 3-domain blob, reseal, expect `msg`. */
static void reject_header_edit(void (*edit)(struct hvcfg_header *, size_t), const char *msg)
{
	struct blob b = blob_new(three, 3, 0);
	struct hvcfg_header h = get_hdr(&b);

	edit(&h, b.len);
	put_hdr(&b, &h);
	seal(&b);
	expect_reject(&b, msg);
	free(b.data);
}

static void set_flags(struct hvcfg_header *h, size_t len) { (void)len; h->flags = 4; }
static void set_flags_high(struct hvcfg_header *h, size_t len) { (void)len; h->flags = 0x80000003u; }
static void set_on_idle(struct hvcfg_header *h, size_t len) { (void)len; h->on_idle = 7; }
static void set_ndomains_0(struct hvcfg_header *h, size_t len) { (void)len; h->ndomains = 0; }
static void set_ndomains_17(struct hvcfg_header *h, size_t len) { (void)len; h->ndomains = 17; }
static void set_domain_size(struct hvcfg_header *h, size_t len) { (void)len; h->domain_size = 24; }
static void set_domains_end(struct hvcfg_header *h, size_t len) { h->domains_off = (uint32_t)len - 72; }
static void set_domains_wrap(struct hvcfg_header *h, size_t len) { (void)len; h->domains_off = 0xffffffe0u; }
static void set_domains_hdr(struct hvcfg_header *h, size_t len) { (void)len; h->domains_off = 16; }
static void set_strings_long(struct hvcfg_header *h, size_t len) { (void)len; h->strings_size += 1; }
static void set_strings_wrap(struct hvcfg_header *h, size_t len) { (void)len; h->strings_off = 0xfffffff0u; }
static void set_strings_hdr(struct hvcfg_header *h, size_t len) { (void)len; h->strings_off = 0; }

static void test_header_fields(void **state)
{
	(void)state;
	reject_header_edit(set_flags, "hv: config: header flags 0x4: bits 0x4 not supported "
			   "(0x1 shell off, 0x2 terminal tagged)\n");
	reject_header_edit(set_flags_high, "hv: config: header flags 0x80000003: bits 0x80000000 "
			   "not supported (0x1 shell off, 0x2 terminal tagged)\n");
	reject_header_edit(set_on_idle, "hv: config: on_idle 7 out of range (0 poweroff, 1 halt)\n");
	reject_header_edit(set_ndomains_0, "hv: config: 0 domains (must be 1..16)\n");
	reject_header_edit(set_ndomains_17, "hv: config: 17 domains (must be 1..16)\n");
	reject_header_edit(set_domain_size,
			   "hv: config: domain record size 24 (this hypervisor reads 72)\n");
	reject_header_edit(set_domains_end, "config: domain array (3 x 72 bytes at 0x");
	reject_header_edit(set_domains_wrap,
			   "config: domain array (3 x 72 bytes at 0xffffffe0) outside the ");
	reject_header_edit(set_domains_hdr, "config: domain array (3 x 72 bytes at 0x10) outside");
	reject_header_edit(set_strings_long, "config: string table (");
	reject_header_edit(set_strings_wrap, "at 0xfffffff0) outside the ");
	reject_header_edit(set_strings_hdr, "bytes at 0x0) outside the ");
}

/* ---- strings ------------------------------------------------------------------ */

static void test_string_offsets(void **state)
{
	struct blob b = blob_new(one, 1, 0);
	struct hvcfg_header h = get_hdr(&b);
	struct hvcfg_domain d = get_dom(&b, 0), bad = d;
	(void)state;

	bad.name = h.strings_size;
	put_dom(&b, 0, &bad);
	seal(&b);
	expect_reject(&b, "hv: config: domain 0: name offset 0x");
	assert_true(test_log_has("outside the "));

	bad = d;
	bad.kernel = 0xffffffffu;
	put_dom(&b, 0, &bad);
	seal(&b);
	expect_reject(&b, "config: domain 0: kernel offset 0xffffffff outside the ");

	/* Both bad (found by fuzz_config): still one line, the first. */
	bad.cmdline = 0xfffffff0u;
	put_dom(&b, 0, &bad);
	seal(&b);
	expect_reject(&b, "config: domain 0: kernel offset 0xffffffff outside the ");
	assert_null(strchr(strchr(test_log(), '\n') + 1, '\n'));

	bad = d;
	bad.kernel_path = h.strings_size;
	put_dom(&b, 0, &bad);
	seal(&b);
	expect_reject(&b, "hv: config: domain 0: kernel path offset 0x");
	assert_true(test_log_has("outside the "));
	free(b.data);
}

static void test_string_not_terminated(void **state)
{
	/* The last string in the table is the cmdline: overwrite its NUL. */
	struct blob b = blob_new(one, 1, 0);
	(void)state;

	assert_int_equal(b.data[b.len - 1], '\0');
	b.data[b.len - 1] = 'x';
	seal(&b);
	expect_reject(&b, "config: domain 0: cmdline at 0x");
	assert_true(test_log_has("is not NUL-terminated inside the string table\n"));
	free(b.data);
}

static void reject_domain_path(const char *name, const char *kernel, const char *cmdline,
			       const char *path, const char *msg)
{
	struct test_domain d[2] = { three[0], { name, kernel, cmdline, 0x1, MiB } };
	static struct test_extra ex[2];
	ex[1].path = path;
	struct blob b = blob_build(d, 2, 0, ex);

	expect_reject(&b, msg);
	free(b.data);
}

static void reject_domain(const char *name, const char *kernel, const char *cmdline,
			  const char *msg)
{
	reject_domain_path(name, kernel, cmdline, NULL, msg);
}

static void test_names(void **state)
{
	(void)state;
	reject_domain("Web", "k", "", "hv: config: domain 1: name has character 0x57 at 0 "
		      "(allowed: a-z 0-9 _ -)\n");
	reject_domain("a b", "k", "", "config: domain 1: name has character 0x20 at 1");
	reject_domain("a\n", "k", "", "config: domain 1: name has character 0x0a at 1");
	reject_domain("abcdefghijklmnopq", "k", "",
		      "hv: config: domain 1: name is 17 characters (must be 1..16)\n");
	reject_domain("", "k", "", "hv: config: domain 1: name is 0 characters (must be 1..16)\n");
	reject_domain("linux0", "k", "",
		      "hv: config: domain 1 (\"linux0\"): name already used by domain 0\n");
}

static void test_kernel_and_cmdline_lengths(void **state)
{
	char kernel[CONFIG_MODULE_MAX + 1], cmdline[CONFIG_CMDLINE_MAX + 1];
	(void)state;

	memset(kernel, 'k', CONFIG_MODULE_MAX);
	kernel[CONFIG_MODULE_MAX] = '\0';
	memset(cmdline, 'c', CONFIG_CMDLINE_MAX);
	cmdline[CONFIG_CMDLINE_MAX] = '\0';
	reject_domain("a", "", "", "hv: config: domain 1 (\"a\"): kernel module name is 0 "
		      "characters (must be 1..63)\n");
	reject_domain("a", kernel, "", "hv: config: domain 1 (\"a\"): kernel module name is 64 "
		      "characters (must be 1..63)\n");
	reject_domain("a", "k", cmdline,
		      "hv: config: domain 1 (\"a\"): cmdline is 1024 bytes (at most 1023)\n");
	/* The kernel path: 1..1023 bytes, whatever the image (only a multiboot
	 * kernel gets it, and the loader checks it then: one word, and fits a
	 * command line together with the cmdline). */
	reject_domain_path("a", "k", "", "", "hv: config: domain 1 (\"a\"): kernel path is 0 "
			   "bytes (must be 1..1023)\n");
	reject_domain_path("a", "k", "", cmdline, "hv: config: domain 1 (\"a\"): kernel path is "
			   "1024 bytes (must be 1..1023)\n");
}

/* The kernel path is the third string of one[]'s table: its NUL gone, it
 * runs into the cmdline and on to the table's end. */
static void test_kernel_path_not_terminated(void **state)
{
	struct blob b = blob_new(one, 1, 0);
	struct hvcfg_header h = get_hdr(&b);
	struct hvcfg_domain d = get_dom(&b, 0);
	uint8_t *table = b.data + h.strings_off;
	(void)state;

	assert_string_equal((const char *)table + d.kernel_path, DEFAULT_PATH);
	table[d.kernel_path + strlen(DEFAULT_PATH)] = ' ';
	b.data[b.len - 1] = 'x';
	seal(&b);
	expect_reject(&b, "config: domain 0: kernel path at 0x");
	assert_true(test_log_has("is not NUL-terminated inside the string table\n"));
	free(b.data);
}

/* ---- resources ------------------------------------------------------------------ */

static void test_cpu_overlap(void **state)
{
	/* The brief's example: domain 2 ("web") shares CPU 3 with "db". */
	struct test_domain d[3] = { three[0], three[1], three[2] };
	(void)state;

	d[2].cpus = 0x18;
	struct blob b = blob_new(d, 3, 0);
	expect_reject(&b, "hv: config: domain 2 (\"web\"): CPU 3 is also in domain \"db\"\n");
	free(b.data);

	d[2].cpus = 0xf0;	/* CPU 1, 2 are linux0's; the lowest is named */
	d[0].cpus = 0x60;
	b = blob_new(d, 3, 0);
	expect_reject(&b, "hv: config: domain 2 (\"web\"): CPU 5 is also in domain \"linux0\"\n");
	free(b.data);
}

static void reject_domain_edit(unsigned i, uint64_t cpus, uint64_t memory, uint32_t flags,
			       const char *msg)
{
	struct blob b = blob_new(three, 3, 0);
	struct hvcfg_domain d = get_dom(&b, i);

	d.cpus = cpus;
	d.memory = memory;
	d.flags = flags;
	put_dom(&b, i, &d);
	seal(&b);
	expect_reject(&b, msg);
	free(b.data);
}

static void test_resources(void **state)
{
	(void)state;
	reject_domain_edit(1, 0, MiB, 0, "hv: config: domain 1 (\"db\"): no CPUs\n");
	reject_domain_edit(1, 8, 0, 0, "hv: config: domain 1 (\"db\"): memory 0x0 is not a "
			   "non-zero multiple of 4 KiB\n");
	reject_domain_edit(2, 1, MiB + 2048, 0, "hv: config: domain 2 (\"web\"): memory 0x100800 "
			   "is not a non-zero multiple of 4 KiB\n");
	reject_domain_edit(0, 6, MiB, 2, "hv: config: domain 0 (\"linux0\"): flags 0x2: bits 0x2 "
			   "not supported (0x1 no autostart)\n");
	reject_domain_edit(2, 1, MiB, 0xffffffffu, "hv: config: domain 2 (\"web\"): flags "
			   "0xffffffff: bits 0xfffffffe not supported (0x1 no autostart)\n");
}

/* ---- version 6: flags and console_log -------------------------------------------- */

/* The header's flags, each combination, and a domain's: decoded. */
static void test_flags_decoded(void **state)
{
	static const struct { uint32_t flags; bool shell, tagged; } cases[] = {
		{ 0, true, false },
		{ HVCFG_SHELL_OFF, false, false },
		{ HVCFG_TERMINAL_TAGGED, true, true },
		{ HVCFG_SHELL_OFF | HVCFG_TERMINAL_TAGGED, false, true },
	};
	struct test_extra x[3] = { [1] = { .flags = HVCFG_DOMAIN_NO_AUTOSTART } };
	struct hv_config cfg;
	(void)state;

	_Static_assert(HVCFG_SHELL_OFF == 1 && HVCFG_TERMINAL_TAGGED == 2 &&
		       HVCFG_DOMAIN_NO_AUTOSTART == 1, "the bits hvconfig writes");
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct blob b = blob_build(three, 3, 0, x);
		struct hvcfg_header h = get_hdr(&b);

		h.flags = cases[k].flags;
		put_hdr(&b, &h);
		seal(&b);
		expect_accept(&b, &cfg);
		assert_int_equal(cfg.shell, cases[k].shell);
		assert_int_equal(cfg.terminal_tagged, cases[k].tagged);
		assert_true(cfg.domains[0].autostart);
		assert_false(cfg.domains[1].autostart);
		assert_true(cfg.domains[2].autostart);
		free(b.data);
	}
	/* Every domain waiting for `start` is a valid blob (the shell is the
	 * hvconfig check's business, not the parser's). */
	for (unsigned i = 0; i < 3; i++)
		x[i].flags = HVCFG_DOMAIN_NO_AUTOSTART;
	struct blob b = blob_build(three, 3, 0, x);
	expect_accept(&b, &cfg);
	for (unsigned i = 0; i < 3; i++)
		assert_false(cfg.domains[i].autostart);
	free(b.data);
}

/* console_log: a multiple of 4 KiB in 4 KiB..16 MiB, else refused on one line. */
static void test_console_log(void **state)
{
	static const uint32_t bad[] = {
		0, 1, 3, 4095, 4097, 6144, CONFIG_CONSOLE_LOG_MAX + 4096,
		CONFIG_CONSOLE_LOG_MAX - 1, 32u << 20, 0xfffff000u, 0xffffffffu,
	};
	static const uint32_t good[] = { 4096, 8192, 64u << 10, 1u << 20, 16u << 20 };
	struct test_domain d[2] = { three[0], three[1] };
	struct test_extra x[2];
	struct hv_config cfg;
	char msg[128];
	(void)state;

	_Static_assert(CONFIG_CONSOLE_LOG_MIN == 4096 && CONFIG_CONSOLE_LOG_MAX == 16u << 20,
		       "the range hvconfig checks");
	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		struct blob b = blob_build(d, 2, 0, NULL);
		struct hvcfg_domain dom = get_dom(&b, 1);

		dom.console_log = bad[k];
		put_dom(&b, 1, &dom);
		seal(&b);
		snprintf(msg, sizeof(msg), "hv: config: domain 1 (\"db\"): console_log %u bytes "
			 "invalid (4 KiB..16 MiB, a multiple of 4 KiB)\n", bad[k]);
		expect_reject(&b, msg);
		assert_null(strchr(strchr(test_log(), '\n') + 1, '\n'));
		free(b.data);
	}
	for (unsigned k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
		memset(x, 0, sizeof(x));
		x[0].console_log = good[k];
		struct blob b = blob_build(d, 2, 0, x);
		expect_accept(&b, &cfg);
		assert_int_equal(cfg.domains[0].console_log, good[k]);
		assert_int_equal(cfg.domains[1].console_log, DEFAULT_CONSOLE_LOG);
		free(b.data);
	}
}

static void test_on_crash_and_huge_memory(void **state)
{
	struct blob b = blob_new(three, 3, 0);
	struct hvcfg_domain d = get_dom(&b, 1), bad;
	struct hv_config cfg;
	(void)state;

	bad = d;
	bad.on_crash = 2;
	put_dom(&b, 1, &bad);
	seal(&b);
	expect_reject(&b, "hv: config: domain 1 (\"db\"): on_crash 2 out of range "
		      "(0 stop, 1 restart)\n");

	bad = d;
	bad.memory = (1ull << 52) + 4096;
	put_dom(&b, 1, &bad);
	seal(&b);
	expect_reject(&b, "hv: config: domain 1 (\"db\"): memory 0x10000000001000 is larger than "
		      "the 52-bit physical address space\n");

	bad = d;
	bad.memory = 1ull << 52;
	bad.on_crash = HVCFG_ON_CRASH_RESTART;
	put_dom(&b, 1, &bad);
	seal(&b);
	expect_accept(&b, &cfg);
	assert_true(cfg.domains[1].memory == 1ull << 52);
	assert_int_equal(cfg.domains[1].on_crash, HVCFG_ON_CRASH_RESTART);
	assert_int_equal(cfg.domains[0].on_crash, HVCFG_ON_CRASH_STOP);
	free(b.data);
}

/* ---- explicit memory ranges ------------------------------------------------------ */

#define R(base, size) { (base), (size) }

static void test_ranges_accepted(void **state)
{
	struct test_domain d[3] = { three[0], three[1], three[2] };
	struct test_extra x[3] = {
		{ .on_crash = 1, .n = 3, .r = { R(0x40000000, 2 * MiB), R(0x10000000, MiB),
						R(0x100000000ull, 4096) } },
		{ .n = 0 },
		/* Touching linux0's first range is not overlapping it. */
		{ .n = 1, .r = { R(0x40200000, 8 * MiB) } },
	};
	struct hv_config cfg;
	(void)state;

	d[0].memory = 0;	/* blob_build: the ranges' total */
	d[2].memory = 0;
	struct blob b = blob_build(d, 3, 0, x);
	expect_accept(&b, &cfg);
	assert_int_equal(cfg.domains[0].nranges, 3);
	assert_true(cfg.domains[0].memory == 3 * MiB + 4096);
	assert_int_equal(cfg.domains[0].on_crash, HVCFG_ON_CRASH_RESTART);
	/* In blob order: guest-physical order, not sorted by host address. */
	assert_true(cfg.domains[0].ranges[0].base == 0x40000000);
	assert_true(cfg.domains[0].ranges[0].size == 2 * MiB);
	assert_true(cfg.domains[0].ranges[1].base == 0x10000000);
	assert_true(cfg.domains[0].ranges[2].base == 0x100000000ull);
	assert_true(cfg.domains[0].ranges[2].size == 4096);
	assert_int_equal(cfg.domains[1].nranges, 0);
	assert_true(cfg.domains[1].memory == 1024 * MiB);
	assert_int_equal(cfg.domains[2].nranges, 1);
	assert_true(cfg.domains[2].memory == 8 * MiB);

	/* Read with memcpy: the ranges may sit at any alignment. */
	uint8_t *odd = malloc(b.len + 3);
	assert_non_null(odd);
	memcpy(odd + 3, b.data, b.len);
	assert_int_equal(config_parse(odd + 3, b.len, &cfg), 0);
	assert_true(cfg.domains[0].ranges[1].size == MiB);
	free(odd);
	free(b.data);
}

/* 8 ranges per domain, up to the 52-bit limit, are allowed. */
static void test_ranges_limits(void **state)
{
	struct test_domain d[1] = { one[0] };
	struct test_extra x[1] = { { .n = CONFIG_MAX_RANGES } };
	struct hv_config cfg;
	(void)state;

	for (unsigned k = 0; k < CONFIG_MAX_RANGES; k++)
		x[0].r[k] = (struct hvcfg_range)R((1ull << 52) - (k + 1) * MiB, MiB);
	d[0].memory = 0;
	struct blob b = blob_build(d, 1, 0, x);
	expect_accept(&b, &cfg);
	assert_int_equal(cfg.domains[0].nranges, CONFIG_MAX_RANGES);
	assert_true(cfg.domains[0].memory == CONFIG_MAX_RANGES * MiB);
	assert_true(cfg.domains[0].ranges[0].base + cfg.domains[0].ranges[0].size == 1ull << 52);
	free(b.data);
}

/* Domain 0 ("linux0") with these ranges and `memory` (0: their total),
 * domain 1 placed; expect `msg`. */
static void reject_ranges(const struct hvcfg_range *r, uint32_t n, uint64_t memory,
			  const char *msg)
{
	struct test_domain d[2] = { three[0], three[1] };
	struct test_extra x[2] = { { .n = n }, { .n = 0 } };

	memcpy(x[0].r, r, n * sizeof(*r));
	d[0].memory = memory;
	struct blob b = blob_build(d, 2, 0, x);
	expect_reject(&b, msg);
	free(b.data);
}

static void test_range_values(void **state)
{
	(void)state;
	const struct hvcfg_range empty[] = { R(0x1000000, MiB), R(0x3000000, 0) };
	reject_ranges(empty, 2, 0, "hv: config: domain 0 (\"linux0\"): memory range 1 at "
		      "0x3000000 is empty\n");
	const struct hvcfg_range base[] = { R(0x1000800, MiB) };
	reject_ranges(base, 1, 0, "hv: config: domain 0 (\"linux0\"): memory range 0 "
		      "(0x1000800+0x100000) is not 4 KiB aligned\n");
	const struct hvcfg_range size[] = { R(0x1000000, MiB + 512) };
	reject_ranges(size, 1, MiB + 4096, "hv: config: domain 0 (\"linux0\"): memory range 0 "
		      "(0x1000000+0x100200) is not 4 KiB aligned\n");
	const struct hvcfg_range wrap[] = { R(0xfffffffffff00000ull, 0x200000) };
	reject_ranges(wrap, 1, 0x200000, "hv: config: domain 0 (\"linux0\"): memory range 0 "
		      "(0xfffffffffff00000+0x200000) ends above the 52-bit physical address space\n");
	const struct hvcfg_range high[] = { R(MiB, MiB), R((1ull << 52) - MiB, 2 * MiB) };
	reject_ranges(high, 2, 3 * MiB, "config: domain 0 (\"linux0\"): memory range 1 "
		      "(0xffffffff00000+0x200000) ends above the 52-bit");
	const struct hvcfg_range huge[] = { R(0, 0xfffffffffffff000ull) };
	reject_ranges(huge, 1, 1ull << 52, "memory range 0 (0x0+0xfffffffffffff000) ends above");
	const struct hvcfg_range over[] = { R(0x1000000, 2 * MiB), R(0x5000000, MiB),
					    R(0x1100000, 4096) };
	reject_ranges(over, 3, 0, "hv: config: domain 0 (\"linux0\"): memory ranges 0 "
		      "(0x1000000-0x1200000) and 2 (0x1100000-0x1101000) overlap\n");
	const struct hvcfg_range same[] = { R(0x1000000, MiB), R(0x1000000, MiB) };
	reject_ranges(same, 2, 0, "memory ranges 0 (0x1000000-0x1100000) and 1 "
		      "(0x1000000-0x1100000) overlap\n");
	const struct hvcfg_range two[] = { R(0x1000000, MiB), R(0x3000000, MiB) };
	reject_ranges(two, 2, 3 * MiB, "hv: config: domain 0 (\"linux0\"): memory 0x300000 is "
		      "not the total of its ranges (0x200000)\n");
	struct hvcfg_range nine[CONFIG_MAX_RANGES + 1];
	for (unsigned k = 0; k < CONFIG_MAX_RANGES + 1; k++)
		nine[k] = (struct hvcfg_range)R(k * MiB, MiB);
	reject_ranges(nine, CONFIG_MAX_RANGES + 1, 0, "hv: config: domain 0 (\"linux0\"): "
		      "9 memory ranges (at most 8)\n");
}

/* In a valid blob whose domain 0 has two ranges (the array at 0xc0, after
 * 2 records), set domain `i`'s nranges and ranges_off (END16: 16 bytes
 * before the end); expect `msg`. */
#define END16 (UINT32_MAX - 1)

static void reject_ranges_edit(unsigned i, uint32_t nranges, uint32_t off, const char *msg)
{
	struct test_domain d[2] = { three[0], three[1] };
	struct test_extra x[2] = { { .n = 2, .r = { R(0x1000000, MiB), R(0x3000000, MiB) } } };

	d[0].memory = 0;
	struct blob b = blob_build(d, 2, 0, x);
	struct hvcfg_domain dom = get_dom(&b, i);
	dom.nranges = nranges;
	dom.ranges_off = off == END16 ? (uint32_t)b.len - 16 : off;
	put_dom(&b, i, &dom);
	seal(&b);
	expect_reject(&b, msg);
	free(b.data);
}

static void test_range_array(void **state)
{
	(void)state;
	reject_ranges_edit(0, 2, 0xfffffff8u, "hv: config: domain 0 (\"linux0\"): memory range "
			   "array (2 x 16 bytes at 0xfffffff8) outside the ");
	reject_ranges_edit(0, 2, END16, "config: domain 0 (\"linux0\"): memory range "
			   "array (2 x 16 bytes at 0x");
	reject_ranges_edit(0, 2, 0, "memory range array (2 x 16 bytes at 0x0) outside the ");
	reject_ranges_edit(0, 2, 40, "memory range array (2 x 16 bytes at 0x28) outside the ");
	reject_ranges_edit(0, 0, 0xc0, "hv: config: domain 0 (\"linux0\"): ranges offset 0xc0 "
			   "without ranges (must be 0)\n");
	/* nranges says 1: the total no longer matches. */
	reject_ranges_edit(0, 1, 0xc0, "memory 0x200000 is not the total of its ranges (0x100000)");
	reject_ranges_edit(0, 0xffffffffu, 0xc0, "4294967295 memory ranges (at most 8)\n");
	/* Another domain pointing at linux0's array: its memory is not their
	 * total; were it, the ranges would overlap linux0's. */
	reject_ranges_edit(1, 1, 0xd0, "hv: config: domain 1 (\"db\"): memory 0x40000000 is "
			   "not the total of its ranges (0x100000)\n");
}

static void test_ranges_shared_by_two_domains(void **state)
{
	struct test_domain d[2] = { three[0], three[1] };
	struct test_extra x[2] = { { .n = 2, .r = { R(0x1000000, MiB), R(0x3000000, MiB) } } };
	(void)state;

	d[0].memory = 0;
	d[1].memory = MiB;
	struct blob b = blob_build(d, 2, 0, x);
	struct hvcfg_domain dom = get_dom(&b, 1);
	dom.nranges = 1;
	dom.ranges_off = 0xd0;
	put_dom(&b, 1, &dom);
	seal(&b);
	expect_reject(&b, "hv: config: domain 1 (\"db\"): memory range 0 (0x3000000-0x3100000) "
		      "overlaps domain \"linux0\"'s 0x3000000-0x3100000\n");
	free(b.data);
}

static void test_ranges_across_domains(void **state)
{
	struct test_domain d[3] = { three[0], three[1], three[2] };
	struct test_extra x[3] = {
		{ .n = 2, .r = { R(0x1000000, MiB), R(0x8000000, 16 * MiB) } },
		{ .n = 1, .r = { R(0x20000000, MiB) } },
		{ .n = 2, .r = { R(0x30000000, MiB), R(0x8fff000, 2 * 4096) } },
	};
	struct hv_config cfg;
	(void)state;

	for (unsigned i = 0; i < 3; i++)
		d[i].memory = 0;
	struct blob b = blob_build(d, 3, 0, x);
	expect_reject(&b, "hv: config: domain 2 (\"web\"): memory range 1 (0x8fff000-0x9001000) "
		      "overlaps domain \"linux0\"'s 0x8000000-0x9000000\n");
	free(b.data);

	x[2].r[1] = (struct hvcfg_range)R(0x20000000 - 4096, 2 * 4096);
	b = blob_build(d, 3, 0, x);
	expect_reject(&b, "hv: config: domain 2 (\"web\"): memory range 1 (0x1ffff000-0x20001000) "
		      "overlaps domain \"db\"'s 0x20000000-0x20100000\n");
	free(b.data);

	/* A placed domain has no ranges to overlap. */
	x[1].n = 0;
	d[1].memory = 0x20000000;
	b = blob_build(d, 3, 0, x);
	expect_accept(&b, &cfg);
	free(b.data);
}

/* ---- initrd and modules ---------------------------------------------------------- */

static void test_initrd_and_modules_accepted(void **state)
{
	struct test_domain d[3] = { three[0], three[1], three[2] };
	struct test_extra x[3] = {
		{ .initrd = "linux0.initrd" },
		{ .nmods = 3, .mods = { { "db.mod0", "alpha one" }, { "db.mod1", "" },
					{ "db.mod2", "beta" } } },
		/* Ranges and modules together; 16 modules are allowed. */
		{ .n = 1, .r = { R(0x40000000, MiB) }, .nmods = CONFIG_MAX_MODULES },
	};
	struct hv_config cfg;
	char names[CONFIG_MAX_MODULES][16];
	(void)state;

	for (unsigned k = 0; k < CONFIG_MAX_MODULES; k++) {
		snprintf(names[k], sizeof(names[k]), "web.mod%u", k);
		x[2].mods[k].name = names[k];
		x[2].mods[k].args = k == 15 ? "last" : "";
	}
	d[2].memory = 0;
	struct blob b = blob_build(d, 3, 0, x);
	expect_accept(&b, &cfg);
	assert_string_equal(cfg.domains[0].initrd, "linux0.initrd");
	assert_int_equal(cfg.domains[0].nmodules, 0);
	assert_null(cfg.domains[1].initrd);
	assert_int_equal(cfg.domains[1].nmodules, 3);
	assert_string_equal(cfg.domains[1].modules[0].name, "db.mod0");
	assert_string_equal(cfg.domains[1].modules[0].args, "alpha one");
	assert_string_equal(cfg.domains[1].modules[1].args, "");
	assert_string_equal(cfg.domains[1].modules[2].name, "db.mod2");
	assert_string_equal(cfg.domains[1].modules[2].args, "beta");
	assert_int_equal(cfg.domains[2].nmodules, CONFIG_MAX_MODULES);
	assert_int_equal(cfg.domains[2].nranges, 1);
	assert_string_equal(cfg.domains[2].modules[15].name, "web.mod15");
	assert_string_equal(cfg.domains[2].modules[15].args, "last");
	free(b.data);
}

/* Domain 0 ("linux0") with an initrd and two modules, domain 1 plain:
 * apply `edit` to domain `i`'s record, reseal, expect `msg`. The module
 * array is at 0xc0 (after 2 records), its last string is mod1's args. */
static void reject_modules_edit(unsigned i, void (*edit)(struct hvcfg_domain *, size_t),
				const char *msg)
{
	struct test_domain d[2] = { three[0], three[1] };
	struct test_extra x[2] = {
		{ .initrd = "linux0.initrd", .nmods = 2,
		  .mods = { { "linux0.mod0", "a" }, { "linux0.mod1", "bb" } } } };
	struct blob b = blob_build(d, 2, 0, x);
	struct hvcfg_domain dom = get_dom(&b, i);

	edit(&dom, b.len);
	put_dom(&b, i, &dom);
	seal(&b);
	expect_reject(&b, msg);
	assert_null(strchr(strchr(test_log(), '\n') + 1, '\n'));
	free(b.data);
}

static void mod_initrd_out(struct hvcfg_domain *d, size_t len) { (void)len; d->initrd = 0xfffffff0u; }
static void mod_count_17(struct hvcfg_domain *d, size_t len) { (void)len; d->nmodules = 17; }
static void mod_count_huge(struct hvcfg_domain *d, size_t len) { (void)len; d->nmodules = 0xffffffffu; }
static void mod_off_without(struct hvcfg_domain *d, size_t len) { (void)len; d->nmodules = 0; }
static void mod_off_wrap(struct hvcfg_domain *d, size_t len) { (void)len; d->modules_off = 0xfffffffcu; }
static void mod_off_end(struct hvcfg_domain *d, size_t len) { d->modules_off = (uint32_t)len - 8; }
static void mod_off_zero(struct hvcfg_domain *d, size_t len) { (void)len; d->modules_off = 0; }
static void mod_off_hdr(struct hvcfg_domain *d, size_t len) { (void)len; d->modules_off = 40; }
static void mod_other(struct hvcfg_domain *d, size_t len) { (void)len; d->nmodules = 1; d->modules_off = 0xc0; }

static void test_module_array(void **state)
{
	(void)state;
	reject_modules_edit(0, mod_initrd_out, "hv: config: domain 0: initrd offset 0xfffffff0 "
			    "outside the ");
	reject_modules_edit(0, mod_count_17, "hv: config: domain 0 (\"linux0\"): 17 modules "
			    "(at most 16)\n");
	reject_modules_edit(0, mod_count_huge, "): 4294967295 modules (at most 16)\n");
	reject_modules_edit(0, mod_off_without, "hv: config: domain 0 (\"linux0\"): modules "
			    "offset 0xc0 without modules (must be 0)\n");
	reject_modules_edit(0, mod_off_wrap, "hv: config: domain 0 (\"linux0\"): module array "
			    "(2 x 8 bytes at 0xfffffffc) outside the ");
	reject_modules_edit(0, mod_off_end, "config: domain 0 (\"linux0\"): module array "
			    "(2 x 8 bytes at 0x");
	reject_modules_edit(0, mod_off_zero, "module array (2 x 8 bytes at 0x0) outside the ");
	reject_modules_edit(0, mod_off_hdr, "module array (2 x 8 bytes at 0x28) outside the ");
	/* Another domain may name the same modules: the blob is still sound. */
	struct test_domain d[2] = { three[0], three[1] };
	struct test_extra x[2] = { { .nmods = 1, .mods = { { "m", "" } } } };
	struct hv_config cfg;
	struct blob b = blob_build(d, 2, 0, x);
	struct hvcfg_domain dom = get_dom(&b, 1);
	mod_other(&dom, b.len);
	put_dom(&b, 1, &dom);
	seal(&b);
	expect_accept(&b, &cfg);
	assert_string_equal(cfg.domains[1].modules[0].name, "m");
	free(b.data);
}

static void test_module_strings(void **state)
{
	struct test_domain d[1] = { one[0] };
	struct test_extra x[1] = { { .initrd = "test0.initrd", .nmods = 2,
				     .mods = { { "test0.mod0", "a" }, { "test0.mod1", "bb" } } } };
	struct hvcfg_module m;
	(void)state;

	/* Module 1's name offset outside the table. */
	struct blob b = blob_build(d, 1, 0, x);
	struct hvcfg_domain dom = get_dom(&b, 0);
	uint32_t at = dom.modules_off + sizeof(m);
	memcpy(&m, b.data + at, sizeof(m));
	m.name = 0x7fffffffu;
	memcpy(b.data + at, &m, sizeof(m));
	seal(&b);
	expect_reject(&b, "hv: config: domain 0 (\"test0\"): module 1: name offset 0x7fffffff "
		      "outside the ");
	free(b.data);

	/* Module 1's args are the last string: drop its NUL. */
	b = blob_build(d, 1, 0, x);
	assert_int_equal(b.data[b.len - 1], '\0');
	b.data[b.len - 1] = 'x';
	seal(&b);
	expect_reject(&b, "hv: config: domain 0 (\"test0\"): module 1: args at 0x");
	assert_true(test_log_has("is not NUL-terminated inside the string table\n"));
	free(b.data);

	/* An empty module name; an initrd name of 64 characters; args of 256. */
	x[0].mods[0].name = "";
	b = blob_build(d, 1, 0, x);
	expect_reject(&b, "hv: config: domain 0 (\"test0\"): module 0: name is 0 characters "
		      "(must be 1..63)\n");
	free(b.data);
	x[0].mods[0].name = "test0.mod0";
	char longname[65], longargs[257];
	memset(longname, 'i', 64);
	longname[64] = '\0';
	memset(longargs, 'y', 256);
	longargs[256] = '\0';
	x[0].initrd = longname;
	b = blob_build(d, 1, 0, x);
	expect_reject(&b, "hv: config: domain 0 (\"test0\"): initrd module name is 64 characters "
		      "(must be 1..63)\n");
	free(b.data);
	x[0].initrd = NULL;
	x[0].mods[1].args = longargs;
	b = blob_build(d, 1, 0, x);
	expect_reject(&b, "hv: config: domain 0 (\"test0\"): module 1: args are 256 bytes "
		      "(at most 255)\n");
	free(b.data);
	longargs[255] = '\0';
	struct hv_config cfg;
	b = blob_build(d, 1, 0, x);
	expect_accept(&b, &cfg);
	assert_int_equal(strlen(cfg.domains[0].modules[1].args), 255);
	assert_null(cfg.domains[0].initrd);
	free(b.data);
}

/* ---- PCI devices ------------------------------------------------------------------ */

#define DEV(seg, bus, dev, fn) { (seg), (bus), (uint8_t)((dev) << 3 | (fn)), 0 }

static void test_devices_accepted(void **state)
{
	struct test_domain d[3] = { three[0], three[1], three[2] };
	struct test_extra x[3] = {
		{ .ndevs = 2, .devs = { DEV(0, 0, 3, 0), DEV(0xabcd, 0xff, 0x1f, 7) } },
		/* 16 are allowed; with ranges and modules before them. */
		{ .n = 1, .r = { R(0x40000000, MiB) }, .nmods = 1, .mods = { { "db.mod0", "" } },
		  .ndevs = CONFIG_MAX_DEVICES },
		/* A function domain 0 has too: for the boot-time check, not the parser. */
		{ .ndevs = 1, .devs = { DEV(0, 0, 3, 0) } },
	};
	struct hv_config cfg;
	(void)state;

	for (unsigned k = 0; k < CONFIG_MAX_DEVICES; k++)
		x[1].devs[k] = (struct hvcfg_device)DEV(0, 1, k, k & 7);
	d[1].memory = 0;
	struct blob b = blob_build(d, 3, 0, x);
	expect_accept(&b, &cfg);
	assert_int_equal(cfg.domains[0].ndevices, 2);
	assert_int_equal(cfg.domains[0].devices[0].segment, 0);
	assert_int_equal(cfg.domains[0].devices[0].bus, 0);
	assert_int_equal(cfg.domains[0].devices[0].devfn, 0x18);
	assert_int_equal(cfg.domains[0].devices[1].segment, 0xabcd);
	assert_int_equal(cfg.domains[0].devices[1].bus, 0xff);
	assert_int_equal(cfg.domains[0].devices[1].devfn, 0xff);
	assert_int_equal(cfg.domains[1].ndevices, CONFIG_MAX_DEVICES);
	assert_int_equal(cfg.domains[1].nmodules, 1);
	assert_int_equal(cfg.domains[1].nranges, 1);
	for (unsigned k = 0; k < CONFIG_MAX_DEVICES; k++) {
		assert_int_equal(cfg.domains[1].devices[k].bus, 1);
		assert_int_equal(cfg.domains[1].devices[k].devfn, k << 3 | (k & 7));
	}
	assert_int_equal(cfg.domains[2].ndevices, 1);
	assert_int_equal(cfg.domains[2].devices[0].devfn, 0x18);
	/* Read with memcpy: a module at an odd address is fine. */
	uint8_t *odd = malloc(b.len + 1);
	assert_non_null(odd);
	memcpy(odd + 1, b.data, b.len);
	assert_int_equal(config_parse(odd + 1, b.len, &cfg), 0);
	assert_int_equal(cfg.domains[0].devices[1].segment, 0xabcd);
	free(odd);
	free(b.data);

	/* No devices: none in the result either. */
	b = blob_new(one, 1, 0);
	expect_accept(&b, &cfg);
	assert_int_equal(cfg.domains[0].ndevices, 0);
	free(b.data);
}

/* Domain 0 ("linux0") with two modules and three devices, domain 1 plain:
 * the module array at 0xc0 (after 2 records), the device array after it
 * at 0xd0. Apply `edit` to domain `i`'s record or (edit_dev) to device k
 * of domain 0, reseal, expect `msg` on one line. */
#define DEVICES_AT 0xd0u

static struct blob devices_blob(void)
{
	struct test_domain d[2] = { three[0], three[1] };
	struct test_extra x[2] = {
		{ .nmods = 2, .mods = { { "linux0.mod0", "a" }, { "linux0.mod1", "" } },
		  .ndevs = 3, .devs = { DEV(0, 0, 5, 0), DEV(0, 2, 0, 1), DEV(1, 0, 5, 0) } } };
	struct blob b = blob_build(d, 2, 0, x);

	assert_int_equal(get_dom(&b, 0).devices_off, DEVICES_AT);
	return b;
}

static void reject_devices_edit(unsigned i, void (*edit)(struct hvcfg_domain *, size_t),
				const char *msg)
{
	struct blob b = devices_blob();
	struct hvcfg_domain dom = get_dom(&b, i);

	edit(&dom, b.len);
	put_dom(&b, i, &dom);
	seal(&b);
	expect_reject(&b, msg);
	assert_null(strchr(strchr(test_log(), '\n') + 1, '\n'));
	free(b.data);
}

static void reject_device_edit(unsigned k, struct hvcfg_device dev, const char *msg)
{
	struct blob b = devices_blob();

	memcpy(b.data + DEVICES_AT + k * sizeof(dev), &dev, sizeof(dev));
	seal(&b);
	expect_reject(&b, msg);
	assert_null(strchr(strchr(test_log(), '\n') + 1, '\n'));
	free(b.data);
}

static void dev_count_17(struct hvcfg_domain *d, size_t len) { (void)len; d->ndevices = 17; }
static void dev_count_huge(struct hvcfg_domain *d, size_t len) { (void)len; d->ndevices = 0xffffffffu; }
static void dev_off_without(struct hvcfg_domain *d, size_t len) { (void)len; d->ndevices = 0; }
static void dev_off_wrap(struct hvcfg_domain *d, size_t len) { (void)len; d->devices_off = 0xfffffff8u; }
static void dev_off_end(struct hvcfg_domain *d, size_t len) { d->devices_off = (uint32_t)len - 16; }
static void dev_off_zero(struct hvcfg_domain *d, size_t len) { (void)len; d->devices_off = 0; }
static void dev_off_hdr(struct hvcfg_domain *d, size_t len) { (void)len; d->devices_off = 40; }
static void dev_off_odd(struct hvcfg_domain *d, size_t len) { (void)len; d->devices_off = DEVICES_AT + 4; }
static void dev_other_off(struct hvcfg_domain *d, size_t len) { (void)len; d->devices_off = DEVICES_AT; }
static void dev_other(struct hvcfg_domain *d, size_t len) { (void)len; d->ndevices = 2; d->devices_off = DEVICES_AT + 8; }

static void test_device_array(void **state)
{
	(void)state;
	reject_devices_edit(0, dev_count_17, "hv: config: domain 0 (\"linux0\"): 17 devices "
			    "(at most 16)\n");
	reject_devices_edit(0, dev_count_huge, "): 4294967295 devices (at most 16)\n");
	reject_devices_edit(0, dev_off_without, "hv: config: domain 0 (\"linux0\"): devices "
			    "offset 0xd0 without devices (must be 0)\n");
	reject_devices_edit(1, dev_other_off, "hv: config: domain 1 (\"db\"): devices "
			    "offset 0xd0 without devices (must be 0)\n");
	reject_devices_edit(0, dev_off_wrap, "hv: config: domain 0 (\"linux0\"): device array "
			    "(3 x 8 bytes at 0xfffffff8) outside the ");
	reject_devices_edit(0, dev_off_end, "config: domain 0 (\"linux0\"): device array "
			    "(3 x 8 bytes at 0x");
	reject_devices_edit(0, dev_off_zero, "device array (3 x 8 bytes at 0x0) outside the ");
	reject_devices_edit(0, dev_off_hdr, "device array (3 x 8 bytes at 0x28) outside the ");
	reject_devices_edit(0, dev_off_odd, "hv: config: domain 0 (\"linux0\"): device array "
			    "at 0xd4 is not 8-byte aligned\n");
	/* Another domain naming the same records: the parser lets it through,
	 * the boot-time check gives the function to the first domain. */
	struct hv_config cfg;
	struct blob b = devices_blob();
	struct hvcfg_domain dom = get_dom(&b, 1);
	dev_other(&dom, b.len);
	put_dom(&b, 1, &dom);
	seal(&b);
	expect_accept(&b, &cfg);
	assert_int_equal(cfg.domains[1].ndevices, 2);
	assert_int_equal(cfg.domains[1].devices[0].bus, 2);
	assert_int_equal(cfg.domains[1].devices[1].segment, 1);
	free(b.data);
}

static void test_device_records(void **state)
{
	(void)state;
	struct hvcfg_device dev = DEV(0, 2, 0, 1);
	dev.reserved = 0x100;
	reject_device_edit(1, dev, "hv: config: domain 0 (\"linux0\"): device 1 (02:00.1): "
			   "reserved field 0x100 (must be 0)\n");
	dev = (struct hvcfg_device)DEV(1, 0, 5, 0);
	dev.reserved = 1;
	reject_device_edit(2, dev, "hv: config: domain 0 (\"linux0\"): device 2 (0001:00:05.0): "
			   "reserved field 0x1 (must be 0)\n");
	/* The same function twice in one domain. */
	reject_device_edit(2, (struct hvcfg_device)DEV(0, 0, 5, 0), "hv: config: domain 0 "
			   "(\"linux0\"): devices 0 and 2 are both 00:05.0\n");
	reject_device_edit(1, (struct hvcfg_device)DEV(1, 0, 5, 0), "hv: config: domain 0 "
			   "(\"linux0\"): devices 1 and 2 are both 0001:00:05.0\n");
	/* Any bus and devfn is a function: 0xff:1f.7 is accepted. */
	struct hv_config cfg;
	struct blob b = devices_blob();
	struct hvcfg_device top = DEV(0xffff, 0xff, 0x1f, 7);
	memcpy(b.data + DEVICES_AT + 8, &top, sizeof(top));
	seal(&b);
	expect_accept(&b, &cfg);
	assert_int_equal(cfg.domains[0].devices[1].segment, 0xffff);
	assert_int_equal(cfg.domains[0].devices[1].devfn, 0xff);
	free(b.data);
}

/* A refusal is one line: the first mistake, nothing after it. */
static void test_one_line_per_refusal(void **state)
{
	struct test_domain d[3] = { three[0], three[1], three[2] };
	(void)state;

	d[1].name = "BAD";
	d[2].cpus = 0x6;
	struct blob b = blob_new(d, 3, 0);
	expect_reject(&b, "hv: config: domain 1: name has character 0x42 at 0");
	assert_null(strchr(strchr(test_log(), '\n') + 1, '\n'));
	free(b.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32_vectors),
		cmocka_unit_test(test_one_domain),
		cmocka_unit_test(test_three_domains),
		cmocka_unit_test(test_unaligned_blob),
		cmocka_unit_test(test_limits_accepted),
		cmocka_unit_test(test_sample_from_hvconfig),
		cmocka_unit_test(test_short_and_null),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_version_1_refused),
		cmocka_unit_test(test_version_2_refused),
		cmocka_unit_test(test_version_3_refused),
		cmocka_unit_test(test_version_4_refused),
		cmocka_unit_test(test_version_5_refused),
		cmocka_unit_test(test_size_mismatch),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_bad_crc),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_string_offsets),
		cmocka_unit_test(test_string_not_terminated),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_kernel_and_cmdline_lengths),
		cmocka_unit_test(test_kernel_path_not_terminated),
		cmocka_unit_test(test_cpu_overlap),
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_on_crash_and_huge_memory),
		cmocka_unit_test(test_flags_decoded),
		cmocka_unit_test(test_console_log),
		cmocka_unit_test(test_ranges_accepted),
		cmocka_unit_test(test_ranges_limits),
		cmocka_unit_test(test_range_values),
		cmocka_unit_test(test_range_array),
		cmocka_unit_test(test_ranges_shared_by_two_domains),
		cmocka_unit_test(test_ranges_across_domains),
		cmocka_unit_test(test_initrd_and_modules_accepted),
		cmocka_unit_test(test_module_array),
		cmocka_unit_test(test_module_strings),
		cmocka_unit_test(test_devices_accepted),
		cmocka_unit_test(test_device_array),
		cmocka_unit_test(test_device_records),
		cmocka_unit_test(test_one_line_per_refusal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
