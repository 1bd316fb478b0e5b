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

/* A valid blob laid out like scripts/hvconfig does: header, domains,
 * string table (8-aligned, "" at offset 0). */
static struct blob blob_new(const struct test_domain *doms, unsigned n, uint32_t on_idle)
{
	struct blob b = { calloc(1, BLOB_CAP), 0 };
	uint8_t table[BLOB_CAP / 2];
	uint32_t tsize = 0;
	struct hvcfg_header h = {
		.magic = HVCFG_MAGIC, .version = HVCFG_VERSION, .on_idle = on_idle,
		.ndomains = n, .domains_off = sizeof(h), .domain_size = sizeof(struct hvcfg_domain),
	};

	assert_non_null(b.data);
	put_string(table, &tsize, "");
	for (unsigned i = 0; i < n; i++) {
		struct hvcfg_domain d = {
			.name = put_string(table, &tsize, doms[i].name),
			.kernel = put_string(table, &tsize, doms[i].kernel),
			.cmdline = put_string(table, &tsize, doms[i].cmdline),
			.cpus = doms[i].cpus, .memory = doms[i].memory,
		};
		memcpy(b.data + sizeof(h) + i * sizeof(d), &d, sizeof(d));
	}
	h.strings_off = (uint32_t)((sizeof(h) + n * sizeof(struct hvcfg_domain) + 7) & ~7ul);
	h.strings_size = tsize;
	h.total_size = h.strings_off + tsize;
	assert_true(h.total_size <= BLOB_CAP);
	memcpy(b.data + h.strings_off, table, tsize);
	b.len = h.total_size;
	put_hdr(&b, &h);
	seal(&b);
	return b;
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
	assert_string_equal(cfg.domains[0].cmdline, "expect-mem=32M");
	assert_int_equal(cfg.domains[0].cpus, 1);
	assert_int_equal(cfg.domains[0].memory, 32 * MiB);
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
 * names, 1023-byte command lines, CPU 63. */
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
	struct blob b = blob_new(doms, CONFIG_MAX_DOMAINS, 0);
	expect_accept(&b, &cfg);
	assert_int_equal(cfg.ndomains, CONFIG_MAX_DOMAINS);
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
	assert_int_equal(cfg.ndomains, 3);
	assert_string_equal(cfg.domains[0].name, "linux0");
	assert_string_equal(cfg.domains[0].kernel, "linux0.kernel");
	assert_string_equal(cfg.domains[0].cmdline, "console=ttyS0");
	assert_true(cfg.domains[0].cpus == 0x6);
	assert_true(cfg.domains[0].memory == 256 * MiB);
	assert_string_equal(cfg.domains[1].name, "rt-1");
	assert_string_equal(cfg.domains[1].kernel, "rt-1.kernel");
	assert_string_equal(cfg.domains[1].cmdline, "");
	assert_true(cfg.domains[1].cpus == 0x8000000000000008ull);
	assert_true(cfg.domains[1].memory == 1024 * MiB);
	assert_string_equal(cfg.domains[2].name, "x_y");
	assert_string_equal(cfg.domains[2].cmdline, "a=\"b c\"");
	assert_true(cfg.domains[2].cpus == 0x1);
	assert_true(cfg.domains[2].memory == 12345 * 4096ull);
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

	h.version = 2;
	put_hdr(&b, &h);
	seal(&b);
	expect_reject(&b, "hv: config: unsupported version 2 (this hypervisor reads version 1)\n");
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
static void set_on_idle(struct hvcfg_header *h, size_t len) { (void)len; h->on_idle = 7; }
static void set_ndomains_0(struct hvcfg_header *h, size_t len) { (void)len; h->ndomains = 0; }
static void set_ndomains_17(struct hvcfg_header *h, size_t len) { (void)len; h->ndomains = 17; }
static void set_domain_size(struct hvcfg_header *h, size_t len) { (void)len; h->domain_size = 24; }
static void set_domains_end(struct hvcfg_header *h, size_t len) { h->domains_off = (uint32_t)len - 64; }
static void set_domains_wrap(struct hvcfg_header *h, size_t len) { (void)len; h->domains_off = 0xffffffe0u; }
static void set_domains_hdr(struct hvcfg_header *h, size_t len) { (void)len; h->domains_off = 16; }
static void set_strings_long(struct hvcfg_header *h, size_t len) { (void)len; h->strings_size += 1; }
static void set_strings_wrap(struct hvcfg_header *h, size_t len) { (void)len; h->strings_off = 0xfffffff0u; }
static void set_strings_hdr(struct hvcfg_header *h, size_t len) { (void)len; h->strings_off = 0; }

static void test_header_fields(void **state)
{
	(void)state;
	reject_header_edit(set_flags, "hv: config: header flags 0x4 not supported (must be 0)\n");
	reject_header_edit(set_on_idle, "hv: config: on_idle 7 out of range (0 poweroff, 1 halt)\n");
	reject_header_edit(set_ndomains_0, "hv: config: 0 domains (must be 1..16)\n");
	reject_header_edit(set_ndomains_17, "hv: config: 17 domains (must be 1..16)\n");
	reject_header_edit(set_domain_size,
			   "hv: config: domain record size 24 (this hypervisor reads 32)\n");
	reject_header_edit(set_domains_end, "config: domain array (3 x 32 bytes at 0x");
	reject_header_edit(set_domains_wrap,
			   "config: domain array (3 x 32 bytes at 0xffffffe0) outside the ");
	reject_header_edit(set_domains_hdr, "config: domain array (3 x 32 bytes at 0x10) outside");
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

static void reject_domain(const char *name, const char *kernel, const char *cmdline,
			  const char *msg)
{
	struct test_domain d[2] = { three[0], { name, kernel, cmdline, 0x1, MiB } };
	struct blob b = blob_new(d, 2, 0);

	expect_reject(&b, msg);
	free(b.data);
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
	reject_domain_edit(0, 6, MiB, 1, "hv: config: domain 0 (\"linux0\"): flags 0x1 not "
			   "supported (must be 0)\n");
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
		cmocka_unit_test(test_size_mismatch),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_bad_crc),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_string_offsets),
		cmocka_unit_test(test_string_not_terminated),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_kernel_and_cmdline_lengths),
		cmocka_unit_test(test_cpu_overlap),
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_one_line_per_refusal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
