/*
 * Tests for kernel/acpi.c.
 *
 * The real cases use tables dumped from QEMU + SeaBIOS
 * (tests/fixtures/acpi/<machine>/<addr>-<SIG>.bin, made by
 * scripts/dump-acpi-fixtures): every file is loaded at its physical
 * address into a sparse "physical memory", and the map callback returns a
 * pointer only when the whole range asked for lies inside one file's
 * bytes (each kept in its own exact-size allocation, so ASan catches any
 * read past a table). Corrupted cases patch those real bytes; cases QEMU's
 * x86 machines cannot produce (XSDT, x2APIC, SPCR) use tables built here.
 *
 * Fixtures are found under $FIXTURES_DIR (default "tests/fixtures",
 * relative to the repository root, the expected working directory).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/acpi.h"
#include "kernel/errno.h"
#include "tests/unit/host_stubs.h"

/* ---- sparse physical memory ------------------------------------------ */

struct region {
	uint64_t phys;
	size_t len;
	uint8_t *data;
	char sig[5];
};

#define MAX_REGIONS 64
static struct region regions[MAX_REGIONS];
static size_t nregions;
static struct acpi_info info;	/* ~5 KiB: keep it off the stack */
static uint64_t syn_next;	/* where tb_place puts the next table */

static const void *fixture_map(uint64_t phys, size_t len)
{
	for (size_t i = 0; i < nregions; i++) {
		const struct region *r = &regions[i];

		if (phys >= r->phys && len <= r->len && phys - r->phys <= r->len - len)
			return r->data + (phys - r->phys);
	}
	return NULL;
}

static struct region *add_region(uint64_t phys, const void *data, size_t len,
				 const char *sig)
{
	struct region *r;

	assert_true(nregions < MAX_REGIONS);
	r = &regions[nregions++];
	r->phys = phys;
	r->len = len;
	r->data = malloc(len ? len : 1);
	assert_non_null(r->data);
	if (data)
		memcpy(r->data, data, len);
	else
		memset(r->data, 0, len);
	snprintf(r->sig, sizeof(r->sig), "%s", sig);
	return r;
}

static void free_regions(void)
{
	for (size_t i = 0; i < nregions; i++)
		free(regions[i].data);
	nregions = 0;
}

/* "<hex addr>-<SIG>.bin" -> phys and sig; 0 if the name is not one. */
static int parse_fixture_name(const char *name, uint64_t *phys, char sig[5])
{
	char *end;
	size_t n = strlen(name);

	if (n < 4 || strcmp(name + n - 4, ".bin") != 0)
		return 0;
	*phys = strtoull(name, &end, 16);
	if (end == name || *end != '-' || (size_t)(name + n - 4 - (end + 1)) != 4)
		return 0;
	memcpy(sig, end + 1, 4);
	sig[4] = '\0';
	return 1;
}

static void load_fixture(const char *machine)
{
	const char *base = getenv("FIXTURES_DIR");
	char dir[512], path[1024];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/acpi/%s", base ? base : "tests/fixtures", machine);
	d = opendir(dir);
	if (!d)
		fail_msg("cannot open fixture directory %s (run from the repo root "
			 "or set FIXTURES_DIR)", dir);
	while ((de = readdir(d)) != NULL) {
		uint64_t phys;
		char sig[5];
		size_t len;
		void *data;

		if (!parse_fixture_name(de->d_name, &phys, sig))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		data = test_read_file(path, &len);
		add_region(phys, data, len, sig);
		free(data);
	}
	closedir(d);
}

static struct region *region_by_sig(const char *sig)
{
	for (size_t i = 0; i < nregions; i++)
		if (strcmp(regions[i].sig, sig) == 0)
			return &regions[i];
	fail_msg("no %s in the loaded fixture", sig);
	return NULL;
}

static uint8_t sum8(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* Make p[0..len) sum to 0 by adjusting the byte at csum_off. */
static void fix_sum(uint8_t *p, size_t len, size_t csum_off)
{
	p[csum_off] = 0;
	p[csum_off] = (uint8_t)(0x100 - sum8(p, len));
}

static void fix_table_sum(struct region *r) { fix_sum(r->data, r->len, 9); }

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static int parse_fixture_rsdp(void)
{
	struct region *r = region_by_sig("RSDP");
	return acpi_parse(r->data, r->len, fixture_map, &info);
}

static int setup(void **state)
{
	(void)state;
	nregions = 0;
	syn_next = 0;
	memset(&info, 0xa5, sizeof(info));	/* acpi_parse must zero it */
	test_log_clear();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free_regions();
	return 0;
}

/* ---- synthetic tables ------------------------------------------------ */

struct tbuf {
	uint8_t b[8192];
	size_t len;
};

static void tb_init(struct tbuf *t, const char *sig, uint8_t revision)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->b, sig, 4);
	t->b[8] = revision;
	memcpy(t->b + 10, "TESTOE", 6);
	memcpy(t->b + 16, "TESTTBL ", 8);
	t->len = 36;
}

static void tb_put(struct tbuf *t, const void *p, size_t n)
{
	assert_true(t->len + n <= sizeof(t->b));
	memcpy(t->b + t->len, p, n);
	t->len += n;
}

static void tb_u8(struct tbuf *t, uint8_t v) { tb_put(t, &v, 1); }
static void tb_u16(struct tbuf *t, uint16_t v) { tb_put(t, &v, 2); }
static void tb_u32(struct tbuf *t, uint32_t v) { tb_put(t, &v, 4); }
static void tb_u64(struct tbuf *t, uint64_t v) { tb_put(t, &v, 8); }

/* Set Length and checksum, place the table in memory; returns its address. */
static uint64_t tb_place(struct tbuf *t)
{
	uint64_t phys = syn_next ? syn_next : 0x10000000;
	char sig[5] = { 0 };

	put32(t->b + 4, (uint32_t)t->len);
	fix_sum(t->b, t->len, 9);
	memcpy(sig, t->b, 4);
	add_region(phys, t->b, t->len, sig);
	syn_next = phys + ((t->len + 0xfff) & ~(uint64_t)0xfff) + 0x1000;
	return phys;
}

static uint64_t make_root(const char *sig, const uint64_t *tables, size_t n)
{
	static struct tbuf t;

	tb_init(&t, sig, 1);
	for (size_t i = 0; i < n; i++) {
		if (sig[0] == 'X')
			tb_u64(&t, tables[i]);
		else
			tb_u32(&t, (uint32_t)tables[i]);
	}
	return tb_place(&t);
}

/* Write an RSDP to out: 20 bytes for revision 0, 36 for revision 2. */
static size_t make_rsdp(uint8_t *out, uint8_t revision, uint32_t rsdt, uint64_t xsdt)
{
	uint8_t buf[36] = { 0 };
	size_t len = revision < 2 ? 20 : 36;

	memcpy(buf, "RSD PTR ", 8);
	memcpy(buf + 9, "TESTOE", 6);
	buf[15] = revision;
	put32(buf + 16, rsdt);
	fix_sum(buf, 20, 8);
	if (revision >= 2) {
		put32(buf + 20, 36);
		put64(buf + 24, xsdt);
		fix_sum(buf, 36, 32);
	}
	memcpy(out, buf, len);
	return len;
}

/* RSDP rev 0 + RSDT listing the given tables; parse. */
static int parse_synthetic(const uint64_t *tables, size_t n)
{
	uint8_t rsdp[36];
	size_t len = make_rsdp(rsdp, 0, (uint32_t)make_root("RSDT", tables, n), 0);

	return acpi_parse(rsdp, len, fixture_map, &info);
}

/* An XSDT holding the same entries as the fixture's RSDT. */
static uint64_t xsdt_from_fixture_rsdt(void)
{
	struct region *rsdt = region_by_sig("RSDT");
	uint64_t tables[16];
	size_t n = (rsdt->len - 36) / 4;

	assert_true(n <= 16);
	for (size_t i = 0; i < n; i++)
		tables[i] = get32(rsdt->data + 36 + 4 * i);
	return make_root("XSDT", tables, n);
}

/* ---- the real QEMU tables -------------------------------------------- */

static void check_qemu_cpus_and_ioapic(void)
{
	assert_true(info.has_madt);
	assert_int_equal(info.ncpus, 4);
	assert_int_equal(info.ncpus_enabled, 4);
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(info.cpus[i].apic_id, i);
		assert_int_equal(info.cpus[i].uid, i);
		assert_true(info.cpus[i].enabled);
		assert_false(info.cpus[i].x2apic);
		assert_false(info.cpus[i].online_capable);
	}
	assert_int_equal(info.lapic_addr, 0xfee00000);
	assert_true(info.pcat_compat);
	assert_int_equal(info.nioapics, 1);
	assert_int_equal(info.ioapics[0].id, 0);
	assert_int_equal(info.ioapics[0].addr, 0xfec00000);
	assert_int_equal(info.ioapics[0].gsi_base, 0);
}

static void test_q35_parses(void **state)
{
	(void)state;
	load_fixture("q35");
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_int_equal(info.rsdp_phys, 0);
	assert_int_equal(info.revision, 0);	/* SeaBIOS: ACPI 1.0 RSDP, RSDT only */
	assert_string_equal(info.oem_id, "BOCHS ");
	check_qemu_cpus_and_ioapic();
	assert_int_equal(info.nmcfg, 1);
	assert_int_equal(info.mcfg[0].base, 0xb0000000);
	assert_int_equal(info.mcfg[0].segment, 0);
	assert_int_equal(info.mcfg[0].bus_start, 0);
	assert_int_equal(info.mcfg[0].bus_end, 255);
	assert_false(info.has_spcr);
	assert_true(test_log_has("hv: acpi: RSDP rev 0, OEM \"BOCHS\", RSDT: 4 CPUs enabled "
				 "(4 listed), 1 IOAPIC(s), 1 MCFG window(s), no SPCR\n"));
	assert_false(test_log_has("hv: acpi: no MADT"));
}

static void test_i440fx_parses(void **state)
{
	(void)state;
	load_fixture("i440fx");
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_int_equal(info.revision, 0);
	check_qemu_cpus_and_ioapic();
	assert_int_equal(info.nmcfg, 0);	/* i440fx has no ECAM */
	assert_false(info.has_spcr);
	assert_true(test_log_has("4 CPUs enabled (4 listed), 1 IOAPIC(s), 0 MCFG window(s), no SPCR"));
}

/* ---- RSDP ------------------------------------------------------------ */

static void test_rsdp_bad_checksum(void **state)
{
	struct region *r;

	(void)state;
	load_fixture("q35");
	r = region_by_sig("RSDP");
	r->data[10] ^= 0x20;	/* "BOCHS " -> "BoCHS " */
	assert_int_equal(parse_fixture_rsdp(), -EINVAL);
	assert_true(test_log_has("hv: acpi: RSDP checksum mismatch\n"));
	assert_int_equal(info.ncpus, 0);
	assert_false(info.has_madt);
}

static void test_rsdp_check_rejects(void **state)
{
	uint8_t b[36];

	(void)state;
	assert_int_equal(acpi_rsdp_check(NULL, 36), -EINVAL);
	make_rsdp(b, 0, 0x1000, 0);
	assert_int_equal(acpi_rsdp_check(b, 20), 0);
	assert_int_equal(acpi_rsdp_check(b, 19), -EINVAL);
	assert_true(test_log_has("hv: acpi: RSDP too short (19 bytes)\n"));
	b[0] = 'r';
	assert_int_equal(acpi_rsdp_check(b, 20), -EINVAL);
	assert_true(test_log_has("hv: acpi: RSDP signature \"RSD PTR \" missing\n"));

	make_rsdp(b, 2, 0x1000, 0x2000);
	assert_int_equal(acpi_rsdp_check(b, 36), 0);
	assert_int_equal(acpi_rsdp_check(b, 20), -EINVAL);	/* rev 2 needs 36 */
	put32(b + 20, 35);					/* Length < 36 */
	fix_sum(b, 36, 32);
	assert_int_equal(acpi_rsdp_check(b, 36), -EINVAL);
	assert_true(test_log_has("hv: acpi: RSDP length field 35 invalid (revision 2, 36 bytes given)\n"));
	put32(b + 20, 0xffffffff);				/* more than given */
	fix_sum(b, 36, 32);
	assert_int_equal(acpi_rsdp_check(b, 36), -EINVAL);
	assert_true(test_log_has("hv: acpi: RSDP length field 4294967295 invalid"));
}

static void test_rsdp_bad_ext_checksum(void **state)
{
	uint8_t rsdp[36];
	uint32_t rsdt;

	(void)state;
	load_fixture("q35");
	rsdt = (uint32_t)region_by_sig("RSDT")->phys;
	make_rsdp(rsdp, 2, rsdt, xsdt_from_fixture_rsdt());
	rsdp[33] = 1;	/* reserved byte: 20-byte checksum still fine */
	assert_int_equal(acpi_parse(rsdp, 36, fixture_map, &info), -EINVAL);
	assert_true(test_log_has("hv: acpi: RSDP extended checksum mismatch\n"));
	assert_false(test_log_has("RSDP checksum mismatch"));
	assert_int_equal(info.ncpus, 0);
}

/* ---- root tables ----------------------------------------------------- */

static void test_xsdt_used_when_good(void **state)
{
	uint8_t rsdp[36];

	(void)state;
	load_fixture("q35");
	make_rsdp(rsdp, 2, (uint32_t)region_by_sig("RSDT")->phys, xsdt_from_fixture_rsdt());
	assert_int_equal(acpi_parse(rsdp, 36, fixture_map, &info), 0);
	assert_int_equal(info.revision, 2);
	assert_string_equal(info.oem_id, "TESTOE");
	check_qemu_cpus_and_ioapic();
	assert_int_equal(info.nmcfg, 1);
	assert_true(test_log_has("hv: acpi: RSDP rev 2, OEM \"TESTOE\", XSDT: 4 CPUs enabled"));
}

static void test_xsdt_bad_checksum_falls_back(void **state)
{
	uint8_t rsdp[36];
	uint64_t xsdt;
	char msg[128];

	(void)state;
	load_fixture("q35");
	xsdt = xsdt_from_fixture_rsdt();
	region_by_sig("XSDT")->data[40] ^= 1;	/* an entry: now points elsewhere */
	make_rsdp(rsdp, 2, (uint32_t)region_by_sig("RSDT")->phys, xsdt);
	assert_int_equal(acpi_parse(rsdp, 36, fixture_map, &info), 0);
	snprintf(msg, sizeof(msg), "hv: acpi: table XSDT at 0x%" PRIx64
		 " has bad checksum, falling back to the RSDT\n", xsdt);
	assert_true(test_log_has(msg));
	check_qemu_cpus_and_ioapic();
	assert_int_equal(info.nmcfg, 1);
	assert_true(test_log_has(", RSDT: 4 CPUs enabled"));
}

static void test_xsdt_unmapped_falls_back(void **state)
{
	uint8_t rsdp[36];

	(void)state;
	load_fixture("q35");
	make_rsdp(rsdp, 2, (uint32_t)region_by_sig("RSDT")->phys, 0x7ff0000);
	assert_int_equal(acpi_parse(rsdp, 36, fixture_map, &info), 0);
	assert_true(test_log_has("hv: acpi: XSDT at 0x7ff0000 unreadable, falling back to the RSDT\n"));
	check_qemu_cpus_and_ioapic();
}

static void test_xsdt_missing_uses_rsdt(void **state)
{
	uint8_t rsdp[36];

	(void)state;
	load_fixture("q35");
	make_rsdp(rsdp, 2, (uint32_t)region_by_sig("RSDT")->phys, 0);
	assert_int_equal(acpi_parse(rsdp, 36, fixture_map, &info), 0);
	assert_true(test_log_has("hv: acpi: RSDP revision 2 has no XSDT address, using the RSDT\n"));
	check_qemu_cpus_and_ioapic();
}

static void test_xsdt_bad_and_no_rsdt(void **state)
{
	uint8_t rsdp[36];

	(void)state;
	load_fixture("q35");
	make_rsdp(rsdp, 2, 0, 0x7ff0000);
	assert_int_equal(acpi_parse(rsdp, 36, fixture_map, &info), -EFAULT);
	assert_true(test_log_has("hv: acpi: XSDT at 0x7ff0000 unreadable\n"));
	assert_int_equal(info.ncpus, 0);
}

static void test_root_unmapped(void **state)
{
	struct region *r;

	(void)state;
	load_fixture("q35");
	r = region_by_sig("RSDP");
	put32(r->data + 16, 0x12345000);
	fix_sum(r->data, 20, 8);
	assert_int_equal(parse_fixture_rsdp(), -EFAULT);
	assert_true(test_log_has("hv: acpi: RSDT at 0x12345000 unreadable\n"));
	assert_false(info.has_madt);
}

static void test_root_bad_signature(void **state)
{
	struct region *r;
	char msg[128];

	(void)state;
	load_fixture("q35");
	r = region_by_sig("RSDP");
	put32(r->data + 16, (uint32_t)region_by_sig("APIC")->phys);
	fix_sum(r->data, 20, 8);
	assert_int_equal(parse_fixture_rsdp(), -EINVAL);
	snprintf(msg, sizeof(msg), "hv: acpi: RSDT at 0x%" PRIx64 " has signature \"APIC\"\n",
		 region_by_sig("APIC")->phys);
	assert_true(test_log_has(msg));
}

static void test_root_huge_length(void **state)
{
	struct region *r;
	char msg[128];

	(void)state;
	load_fixture("i440fx");
	r = region_by_sig("RSDT");
	put32(r->data + 4, 0xfffffff0);
	fix_table_sum(r);
	assert_int_equal(parse_fixture_rsdp(), -EINVAL);
	snprintf(msg, sizeof(msg), "hv: acpi: table RSDT at 0x%" PRIx64
		 " has bad length 4294967280\n", r->phys);
	assert_true(test_log_has(msg));
}

static void test_root_entry_unmapped(void **state)
{
	struct region *r;

	(void)state;
	load_fixture("q35");
	r = region_by_sig("RSDT");
	put32(r->data + 36, 0x0badf000);	/* entry 0 was the FACP */
	put32(r->data + 40, 0);			/* entry 1 was the MADT */
	fix_table_sum(r);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_true(test_log_has("hv: acpi: RSDT entry 0 at 0xbadf000 unreadable, skipped\n"));
	assert_true(test_log_has("hv: acpi: RSDT entry 1 is null, skipped\n"));
	assert_true(test_log_has("hv: acpi: no MADT: CPU list unknown\n"));
	assert_int_equal(info.nmcfg, 1);
}

/* ---- MADT ------------------------------------------------------------ */

static void test_madt_bad_checksum(void **state)
{
	struct region *r;
	char msg[128];

	(void)state;
	load_fixture("q35");
	r = region_by_sig("APIC");
	r->data[44 + 3] = 7;	/* CPU 0's APIC ID */
	assert_int_equal(parse_fixture_rsdp(), 0);
	snprintf(msg, sizeof(msg), "hv: acpi: table APIC at 0x%" PRIx64
		 " has bad checksum, ignored\n", r->phys);
	assert_true(test_log_has(msg));
	assert_true(test_log_has("hv: acpi: no MADT: CPU list unknown\n"));
	assert_false(info.has_madt);
	assert_int_equal(info.ncpus, 0);
	assert_int_equal(info.nioapics, 0);
	assert_int_equal(info.nmcfg, 1);	/* the other tables still count */
	assert_true(test_log_has("0 CPUs enabled (0 listed), 0 IOAPIC(s), 1 MCFG window(s)"));
}

/* Cut the real MADT in the middle of its third processor entry. */
static void test_madt_truncated_entry(void **state)
{
	struct region *r;
	uint8_t *cut;

	(void)state;
	load_fixture("q35");
	r = region_by_sig("APIC");
	cut = malloc(64);	/* header 44 + 2 entries + 4 bytes of the third */
	assert_non_null(cut);
	memcpy(cut, r->data, 64);
	free(r->data);
	r->data = cut;
	r->len = 64;
	put32(r->data + 4, 64);
	fix_table_sum(r);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_true(test_log_has("hv: acpi: MADT entry at offset 60 has bad length 8 "
				 "(4 bytes left), rest of MADT ignored\n"));
	assert_true(info.has_madt);
	assert_int_equal(info.ncpus, 2);
	assert_int_equal(info.cpus[1].apic_id, 1);
	assert_int_equal(info.nioapics, 0);
	assert_int_equal(info.lapic_addr, 0xfee00000);
}

static void test_madt_zero_length_entry(void **state)
{
	struct region *r;

	(void)state;
	load_fixture("i440fx");
	r = region_by_sig("APIC");
	r->data[0x4c + 1] = 0;	/* the IOAPIC entry, after the 4 CPUs */
	fix_table_sum(r);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_true(test_log_has("hv: acpi: MADT entry at offset 76 has bad length 0"));
	assert_int_equal(info.ncpus, 4);
	assert_int_equal(info.nioapics, 0);
}

static void test_madt_huge_length(void **state)
{
	struct region *r;
	char msg[128];

	(void)state;
	load_fixture("q35");
	r = region_by_sig("APIC");
	put32(r->data + 4, 0xffffffff);
	assert_int_equal(parse_fixture_rsdp(), 0);
	snprintf(msg, sizeof(msg), "hv: acpi: table APIC at 0x%" PRIx64
		 " has bad length 4294967295, ignored\n", r->phys);
	assert_true(test_log_has(msg));
	assert_int_equal(info.ncpus, 0);
	assert_int_equal(info.nmcfg, 1);
}

/* Length 1 byte past the end of the table's memory, under the sanity cap:
 * the map callback refuses it, nothing is read past the buffer. */
static void test_madt_length_past_memory(void **state)
{
	struct region *r;
	char msg[128];

	(void)state;
	load_fixture("q35");
	r = region_by_sig("APIC");
	put32(r->data + 4, (uint32_t)r->len + 1);
	fix_table_sum(r);
	assert_int_equal(parse_fixture_rsdp(), 0);
	snprintf(msg, sizeof(msg), "hv: acpi: table APIC at 0x%" PRIx64
		 " unreadable (length 145), ignored\n", r->phys);
	assert_true(test_log_has(msg));
	assert_false(info.has_madt);
}

static void test_madt_short_length(void **state)
{
	struct region *r;

	(void)state;
	load_fixture("q35");
	r = region_by_sig("APIC");
	put32(r->data + 4, 35);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_true(test_log_has(" has bad length 35, ignored\n"));
	assert_false(info.has_madt);
}

static void madt_x2apic(struct tbuf *t, uint32_t id, uint32_t uid, uint32_t flags)
{
	tb_u8(t, 9);
	tb_u8(t, 16);
	tb_u16(t, 0);
	tb_u32(t, id);
	tb_u32(t, flags);
	tb_u32(t, uid);
}

static void madt_lapic(struct tbuf *t, uint8_t id, uint8_t uid, uint32_t flags)
{
	tb_u8(t, 0);
	tb_u8(t, 8);
	tb_u8(t, uid);
	tb_u8(t, id);
	tb_u32(t, flags);
}

static void test_x2apic_madt(void **state)
{
	static struct tbuf t;
	uint64_t madt;

	(void)state;
	tb_init(&t, "APIC", 5);
	tb_u32(&t, 0xfee00000);
	tb_u32(&t, 0);				/* no PCAT_COMPAT */
	madt_lapic(&t, 2, 2, 1);		/* xAPIC CPU, ID 2 */
	madt_x2apic(&t, 0x100, 10, 1);		/* enabled */
	madt_x2apic(&t, 0x101, 11, 0);		/* unusable: skipped */
	madt_x2apic(&t, 0x102, 12, 2);		/* online capable, not enabled */
	madt_x2apic(&t, 2, 99, 1);		/* duplicates the type 0 entry */
	tb_u8(&t, 0x7f); tb_u8(&t, 4); tb_u16(&t, 0);	/* unknown type */
	tb_u8(&t, 9); tb_u8(&t, 12);		/* x2APIC entry too short */
	tb_u16(&t, 0); tb_u32(&t, 0x200); tb_u32(&t, 1);
	tb_u8(&t, 5); tb_u8(&t, 12); tb_u16(&t, 0);	/* LAPIC address override */
	tb_u64(&t, 0x1fee00000ull);
	tb_u8(&t, 1); tb_u8(&t, 12); tb_u8(&t, 3); tb_u8(&t, 0);	/* IOAPIC 3 */
	tb_u32(&t, 0xfec01000);
	tb_u32(&t, 24);
	madt = tb_place(&t);

	assert_int_equal(parse_synthetic(&madt, 1), 0);
	assert_true(info.has_madt);
	assert_false(info.pcat_compat);
	assert_int_equal(info.lapic_addr, 0x1fee00000ull);
	assert_int_equal(info.ncpus, 3);
	assert_int_equal(info.ncpus_enabled, 2);

	assert_int_equal(info.cpus[0].apic_id, 2);
	assert_int_equal(info.cpus[0].uid, 2);
	assert_false(info.cpus[0].x2apic);
	assert_true(info.cpus[0].enabled);

	assert_int_equal(info.cpus[1].apic_id, 0x100);
	assert_int_equal(info.cpus[1].uid, 10);
	assert_true(info.cpus[1].x2apic);
	assert_true(info.cpus[1].enabled);
	assert_false(info.cpus[1].online_capable);

	assert_int_equal(info.cpus[2].apic_id, 0x102);
	assert_int_equal(info.cpus[2].uid, 12);
	assert_true(info.cpus[2].x2apic);
	assert_false(info.cpus[2].enabled);
	assert_true(info.cpus[2].online_capable);

	assert_int_equal(info.nioapics, 1);
	assert_int_equal(info.ioapics[0].id, 3);
	assert_int_equal(info.ioapics[0].addr, 0xfec01000);
	assert_int_equal(info.ioapics[0].gsi_base, 24);

	assert_true(test_log_has("hv: acpi: MADT lists APIC ID 2 twice, keeping the xAPIC (type 0) entry\n"));
	assert_true(test_log_has("hv: acpi: MADT entry type 9 at offset 120 too short (12 bytes), skipped\n"));
	assert_true(test_log_has("2 CPUs enabled (3 listed), 1 IOAPIC(s)"));
}

/* x2APIC entry first, then the type 0 entry for the same ID: type 0 wins. */
static void test_madt_duplicate_x2apic_first(void **state)
{
	static struct tbuf t;
	uint64_t madt;

	(void)state;
	tb_init(&t, "APIC", 5);
	tb_u32(&t, 0xfee00000);
	tb_u32(&t, 1);
	madt_x2apic(&t, 5, 50, 2);	/* online capable */
	madt_lapic(&t, 5, 7, 1);	/* enabled */
	madt = tb_place(&t);
	assert_int_equal(parse_synthetic(&madt, 1), 0);
	assert_true(info.pcat_compat);
	assert_int_equal(info.ncpus, 1);
	assert_int_equal(info.ncpus_enabled, 1);
	assert_false(info.cpus[0].x2apic);
	assert_int_equal(info.cpus[0].uid, 7);
	assert_true(info.cpus[0].enabled);
	assert_true(test_log_has("hv: acpi: MADT lists APIC ID 5 twice, keeping the xAPIC (type 0) entry\n"));
}

static void test_madt_cpu_cap(void **state)
{
	static struct tbuf t;
	uint64_t madt;

	(void)state;
	tb_init(&t, "APIC", 5);
	tb_u32(&t, 0xfee00000);
	tb_u32(&t, 0);
	for (uint32_t i = 0; i < 300; i++)
		madt_x2apic(&t, 0x1000 + i, i, 1);
	for (uint32_t i = 0; i < ACPI_MAX_IOAPICS + 2; i++) {
		tb_u8(&t, 1); tb_u8(&t, 12); tb_u8(&t, (uint8_t)i); tb_u8(&t, 0);
		tb_u32(&t, 0xfec00000 + 0x1000 * i);
		tb_u32(&t, 24 * i);
	}
	madt = tb_place(&t);
	assert_int_equal(parse_synthetic(&madt, 1), 0);
	assert_int_equal(info.ncpus, ACPI_MAX_CPUS);
	assert_int_equal(info.ncpus_enabled, ACPI_MAX_CPUS);
	assert_int_equal(info.cpus[ACPI_MAX_CPUS - 1].apic_id, 0x1000 + ACPI_MAX_CPUS - 1);
	assert_int_equal(info.nioapics, ACPI_MAX_IOAPICS);
	assert_true(test_log_has("hv: acpi: MADT lists more than 256 CPUs, ignoring the rest\n"));
	assert_true(test_log_has("hv: acpi: MADT lists more than 16 IOAPICs, ignoring the rest\n"));
}

/* ---- MCFG ------------------------------------------------------------ */

static void mcfg_entry(struct tbuf *t, uint64_t base, uint16_t seg, uint8_t lo, uint8_t hi)
{
	tb_u64(t, base);
	tb_u16(t, seg);
	tb_u8(t, lo);
	tb_u8(t, hi);
	tb_u32(t, 0);
}

static void test_mcfg_synthetic(void **state)
{
	static struct tbuf t;
	uint64_t mcfg;

	(void)state;
	tb_init(&t, "MCFG", 1);
	tb_u64(&t, 0);			/* reserved */
	mcfg_entry(&t, 0xe0000000, 0, 0, 0x7f);
	mcfg_entry(&t, 0x4000000000ull, 1, 0x80, 0x40);	/* bus range backwards */
	mcfg_entry(&t, 0x4000000000ull, 1, 0, 0xff);
	tb_u32(&t, 0);			/* 4 stray bytes */
	mcfg = tb_place(&t);
	assert_int_equal(parse_synthetic(&mcfg, 1), 0);
	assert_int_equal(info.nmcfg, 2);
	assert_int_equal(info.mcfg[0].base, 0xe0000000);
	assert_int_equal(info.mcfg[0].bus_end, 0x7f);
	assert_int_equal(info.mcfg[1].base, 0x4000000000ull);
	assert_int_equal(info.mcfg[1].segment, 1);
	assert_true(test_log_has("hv: acpi: MCFG entry 1 has bus range 128-64, skipped\n"));
	assert_true(test_log_has("hv: acpi: MCFG length 96 is not a whole number of entries, tail ignored\n"));
	assert_true(test_log_has("hv: acpi: no MADT: CPU list unknown\n"));
}

static void test_duplicate_table_ignored(void **state)
{
	static struct tbuf t;
	uint64_t mcfg[2];
	char msg[128];

	(void)state;
	for (int i = 0; i < 2; i++) {
		tb_init(&t, "MCFG", 1);
		tb_u64(&t, 0);
		mcfg_entry(&t, 0xe0000000 + 0x10000000ull * (unsigned)i, 0, 0, 0xff);
		mcfg[i] = tb_place(&t);
	}
	assert_int_equal(parse_synthetic(mcfg, 2), 0);
	assert_int_equal(info.nmcfg, 1);
	assert_int_equal(info.mcfg[0].base, 0xe0000000);
	snprintf(msg, sizeof(msg), "hv: acpi: second MCFG table at 0x%" PRIx64 " ignored\n", mcfg[1]);
	assert_true(test_log_has(msg));
}

/* ---- SPCR ------------------------------------------------------------ */

static uint64_t make_spcr(uint8_t revision, uint8_t iface, uint8_t space,
			  uint8_t width, uint8_t access, uint64_t addr,
			  uint8_t baud_code, uint32_t precise)
{
	static struct tbuf t;

	tb_init(&t, "SPCR", revision);
	tb_u8(&t, iface);
	tb_u8(&t, 0); tb_u16(&t, 0);		/* reserved */
	tb_u8(&t, space);			/* GAS at 40 */
	tb_u8(&t, width);
	tb_u8(&t, 0);
	tb_u8(&t, access);
	tb_u64(&t, addr);
	tb_u8(&t, 2);				/* interrupt type: IOAPIC */
	tb_u8(&t, 4);				/* PC IRQ */
	tb_u32(&t, 4);				/* GSI */
	assert_int_equal(t.len, 58);
	tb_u8(&t, baud_code);
	tb_u8(&t, 0);				/* parity */
	tb_u8(&t, 1);				/* stop bits */
	tb_u8(&t, 0);				/* flow control */
	tb_u8(&t, 0);				/* terminal: VT100 */
	tb_u8(&t, 0);				/* language */
	tb_u16(&t, 0xffff); tb_u16(&t, 0xffff);	/* not PCI */
	tb_u8(&t, 0); tb_u8(&t, 0); tb_u8(&t, 0);
	tb_u32(&t, 0);
	tb_u8(&t, 0);
	tb_u32(&t, 1843200);			/* UART clock (rev 3+) */
	assert_int_equal(t.len, 80);
	if (revision >= 4) {
		tb_u32(&t, precise);
		tb_u16(&t, 2);			/* namespace string "." */
		tb_u16(&t, 88);
		tb_put(&t, ".", 2);
	}
	return tb_place(&t);
}

static void test_spcr_io(void **state)
{
	uint64_t spcr;

	(void)state;
	spcr = make_spcr(2, 0, 1, 8, 1, 0x3f8, 7, 0);
	assert_int_equal(parse_synthetic(&spcr, 1), 0);
	assert_true(info.has_spcr);
	assert_int_equal(info.spcr.interface_type, 0);
	assert_int_equal(info.spcr.space_id, 1);
	assert_int_equal(info.spcr.bit_width, 8);
	assert_int_equal(info.spcr.access_size, 1);
	assert_int_equal(info.spcr.address, 0x3f8);
	assert_int_equal(info.spcr.baud, 115200);
	assert_true(test_log_has(", SPCR console\n"));
}

static void test_spcr_mmio(void **state)
{
	uint64_t spcr;

	(void)state;
	/* Rev 4, 16550 described by the GAS (DBG2 subtype 0x12), 32-bit MMIO
	 * registers, "as is" code but a Precise Baud Rate of 1.5 Mbaud. */
	spcr = make_spcr(4, 0x12, 0, 32, 3, 0xfe030000, 0, 1500000);
	assert_int_equal(parse_synthetic(&spcr, 1), 0);
	assert_true(info.has_spcr);
	assert_int_equal(info.spcr.interface_type, 0x12);
	assert_int_equal(info.spcr.space_id, 0);
	assert_int_equal(info.spcr.bit_width, 32);
	assert_int_equal(info.spcr.access_size, 3);
	assert_int_equal(info.spcr.address, 0xfe030000);
	assert_int_equal(info.spcr.baud, 1500000);

	/* Revision 2 has no Precise Baud Rate: code 6 alone counts. */
	free_regions();
	spcr = make_spcr(2, 0x12, 0, 32, 3, 0xfe030000, 6, 0);
	assert_int_equal(parse_synthetic(&spcr, 1), 0);
	assert_int_equal(info.spcr.baud, 57600);
}

static void test_spcr_odd(void **state)
{
	uint64_t spcr;

	(void)state;
	spcr = make_spcr(2, 0, 1, 8, 1, 0, 7, 0);		/* disabled */
	assert_int_equal(parse_synthetic(&spcr, 1), 0);
	assert_false(info.has_spcr);
	assert_true(test_log_has("hv: acpi: SPCR says console redirection is disabled\n"));

	free_regions();
	spcr = make_spcr(2, 0, 1, 8, 1, 0x2f8, 5, 0);	/* code 5: undefined */
	assert_int_equal(parse_synthetic(&spcr, 1), 0);
	assert_true(info.has_spcr);
	assert_int_equal(info.spcr.baud, 0);
	assert_true(test_log_has("hv: acpi: SPCR baud rate code 5 unknown, keeping the UART's rate\n"));

	free_regions();
	spcr = make_spcr(2, 0, 2, 8, 1, 0x2f8, 7, 0);	/* PCI config space */
	assert_int_equal(parse_synthetic(&spcr, 1), 0);
	assert_false(info.has_spcr);
	assert_true(test_log_has("hv: acpi: SPCR UART in address space 2 (not memory or I/O), ignored\n"));
}

static void test_spcr_too_short(void **state)
{
	static struct tbuf t;
	uint64_t spcr;

	(void)state;
	tb_init(&t, "SPCR", 2);
	tb_put(&t, "\0\0\0\0\x01\x08\0\x01\xf8\x03", 10);
	spcr = tb_place(&t);
	assert_int_equal(parse_synthetic(&spcr, 1), 0);
	assert_false(info.has_spcr);
	assert_true(test_log_has(" too short (46 bytes), ignored\n"));
}

/* ---- legacy RSDP search ---------------------------------------------- */

#define LOWMEM 0x100000

static uint8_t *add_lowmem(uint16_t ebda_seg)
{
	struct region *r = add_region(0, NULL, LOWMEM, "LOW");

	memcpy(r->data + 0x40e, &ebda_seg, 2);
	return r->data;
}

static void test_legacy_in_ebda(void **state)
{
	uint8_t *mem;

	(void)state;
	mem = add_lowmem(0x9fc0);
	make_rsdp(mem + 0x9fc40, 2, 0x1000, 0x2000);
	make_rsdp(mem + 0xf0000, 0, 0x3000, 0);	/* EBDA comes first */
	assert_int_equal(acpi_find_rsdp_legacy(fixture_map), 0x9fc40);
}

static void test_legacy_in_bios_area(void **state)
{
	uint8_t *mem;

	(void)state;
	mem = add_lowmem(0x9fc0);
	make_rsdp(mem + 0x9fc00 + 1024, 0, 0x1000, 0);	/* past the EBDA's 1 KiB */
	make_rsdp(mem + 0xffff0 - 16, 0, 0x1000, 0);
	assert_int_equal(acpi_find_rsdp_legacy(fixture_map), 0xfffe0);
}

static void test_legacy_not_found(void **state)
{
	uint8_t *mem;

	(void)state;
	mem = add_lowmem(0);
	make_rsdp(mem + 0xe0008, 0, 0x1000, 0);	/* not on a 16-byte boundary */
	make_rsdp(mem + 0xd0000, 0, 0x1000, 0);	/* below 0xE0000 */
	assert_int_equal(acpi_find_rsdp_legacy(fixture_map), 0);
	assert_true(test_log_has("hv: acpi: no RSDP in the EBDA or at 0xE0000-0xFFFFF\n"));

	/* Nothing mapped at all: no crash, nothing found. */
	free_regions();
	assert_int_equal(acpi_find_rsdp_legacy(fixture_map), 0);
}

static void test_legacy_bad_checksum_skipped(void **state)
{
	uint8_t *mem;

	(void)state;
	mem = add_lowmem(0x9fc0);
	make_rsdp(mem + 0x9fd00, 0, 0x1000, 0);
	mem[0x9fd00 + 8] ^= 1;				/* bad checksum */
	make_rsdp(mem + 0xe1000, 2, 0x1000, 0x2000);
	mem[0xe1000 + 34] = 1;				/* bad extended checksum */
	make_rsdp(mem + 0xe2000, 2, 0x1000, 0x2000);
	put32(mem + 0xe2000 + 20, 0x10000000);		/* absurd length */
	fix_sum(mem + 0xe2000, 20, 8);
	make_rsdp(mem + 0xf4000, 0, 0x1000, 0);
	assert_int_equal(acpi_find_rsdp_legacy(fixture_map), 0xf4000);
	assert_true(test_log_has("hv: acpi: RSDP candidate at 0x9fd00: checksum mismatch, skipped\n"));
	assert_true(test_log_has("hv: acpi: RSDP candidate at 0xe1000: extended checksum mismatch, skipped\n"));
	assert_true(test_log_has("hv: acpi: RSDP candidate at 0xe2000: length field invalid, skipped\n"));
}

/* A revision 2 RSDP whose first 20 bytes are all that is mapped: the
 * finder must not read Length past them. */
static void test_legacy_rev2_truncated(void **state)
{
	uint8_t b[36];
	uint16_t seg = 0;

	(void)state;
	add_region(0x40e, &seg, 2, "BDA");
	make_rsdp(b, 2, 0x1000, 0x2000);
	add_region(0xe0000, b, 20, "RSDP");
	assert_int_equal(acpi_find_rsdp_legacy(fixture_map), 0);
	assert_true(test_log_has("hv: acpi: RSDP candidate at 0xe0000: unreadable, skipped\n"));
}

/* The real SeaBIOS RSDP put back at its address in a low-memory image,
 * found the legacy way, then parsed with the rest of the fixture. */
static void test_legacy_finds_fixture_rsdp(void **state)
{
	struct region *rsdp;
	uint64_t phys;
	uint8_t *mem;

	(void)state;
	load_fixture("q35");
	rsdp = region_by_sig("RSDP");
	mem = add_lowmem(0x9fc0);
	memcpy(mem + rsdp->phys, rsdp->data, rsdp->len);
	phys = acpi_find_rsdp_legacy(fixture_map);
	assert_int_equal(phys, rsdp->phys);
	assert_int_equal(acpi_parse(fixture_map(phys, 20), 20, fixture_map, &info), 0);
	info.rsdp_phys = phys;
	check_qemu_cpus_and_ioapic();
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_q35_parses),
		T(test_i440fx_parses),
		T(test_rsdp_bad_checksum),
		T(test_rsdp_check_rejects),
		T(test_rsdp_bad_ext_checksum),
		T(test_xsdt_used_when_good),
		T(test_xsdt_bad_checksum_falls_back),
		T(test_xsdt_unmapped_falls_back),
		T(test_xsdt_missing_uses_rsdt),
		T(test_xsdt_bad_and_no_rsdt),
		T(test_root_unmapped),
		T(test_root_bad_signature),
		T(test_root_huge_length),
		T(test_root_entry_unmapped),
		T(test_madt_bad_checksum),
		T(test_madt_truncated_entry),
		T(test_madt_zero_length_entry),
		T(test_madt_huge_length),
		T(test_madt_length_past_memory),
		T(test_madt_short_length),
		T(test_x2apic_madt),
		T(test_madt_duplicate_x2apic_first),
		T(test_madt_cpu_cap),
		T(test_mcfg_synthetic),
		T(test_duplicate_table_ignored),
		T(test_spcr_io),
		T(test_spcr_mmio),
		T(test_spcr_odd),
		T(test_spcr_too_short),
		T(test_legacy_in_ebda),
		T(test_legacy_in_bios_area),
		T(test_legacy_not_found),
		T(test_legacy_bad_checksum_skipped),
		T(test_legacy_rev2_truncated),
		T(test_legacy_finds_fixture_rsdp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
