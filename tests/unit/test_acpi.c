/*
 * Tests for kernel/acpi*.c (the root walker and the per-table parsers).
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

/* ---- FADT, DSDT \_S5, S5 sequence ------------------------------------ */

/* Offsets in the FADT (ACPI 6.5 table 5.9). */
#define FADT_DSDT        40
#define FADT_PM1A_CNT    64
#define FADT_PM1B_CNT    68
#define FADT_PM1_CNT_LEN 89
#define FADT_FLAGS       112
#define FADT_RESET_REG   116
#define FADT_X_DSDT      140
#define FADT_X_PM1A_CNT  172
#define FADT_X_PM1B_CNT  184
#define FADT_RESET_REG_SUP   (1u << 10)
#define FADT_HW_REDUCED_ACPI (1u << 20)

/* Give a region exactly len bytes (ASan then catches reads past them),
 * set the table's Length to match and fix its checksum. */
static void resize_table(struct region *r, size_t len)
{
	uint8_t *p = malloc(len);

	assert_non_null(p);
	memset(p, 0, len);
	memcpy(p, r->data, len < r->len ? len : r->len);
	free(r->data);
	r->data = p;
	r->len = len;
	put32(r->data + 4, (uint32_t)len);
	fix_table_sum(r);
}

static void put_gas(uint8_t *p, uint8_t space, uint8_t width, uint64_t addr)
{
	p[0] = space;
	p[1] = width;
	p[2] = 0;
	p[3] = width == 8 ? 1 : width == 16 ? 2 : 0;
	put64(p + 4, addr);
}

static void fadt_flags_set(struct region *facp, uint32_t set, uint32_t clear)
{
	put32(facp->data + FADT_FLAGS, (get32(facp->data + FADT_FLAGS) | set) & ~clear);
	fix_table_sum(facp);
}

/* Point the fixture's FADT at a DSDT: both the 32-bit field and, when
 * the table has it, X_DSDT. */
static void fadt_set_dsdt(struct region *facp, uint64_t dsdt)
{
	put32(facp->data + FADT_DSDT, (uint32_t)dsdt);
	if (facp->len >= FADT_X_DSDT + 8)
		put64(facp->data + FADT_X_DSDT, dsdt);
	fix_table_sum(facp);
}

/* The q35 tables with a DSDT of our own holding aml[0..n). */
static int parse_q35_with_aml(const uint8_t *aml, size_t n)
{
	static struct tbuf t;

	load_fixture("q35");
	tb_init(&t, "DSDT", 2);
	tb_put(&t, aml, n);
	fadt_set_dsdt(region_by_sig("FACP"), tb_place(&t));
	return parse_fixture_rsdp();
}

/* QEMU's Name (_S4_, Package (0x04) { 0x02, 0x02, Zero, Zero }): 14 bytes
 * put before our _S5_ so that it is not at the start of the AML. */
static const uint8_t aml_s4[] = {
	0x08, '_', 'S', '4', '_', 0x12, 0x08, 0x04, 0x0a, 0x02, 0x0a, 0x02, 0x00, 0x00,
};
#define S5_AT_AFTER_S4 (36 + sizeof(aml_s4))	/* the NameOp's offset */

/*
 * Name ([\]_S5_, Package (0x04) { a, b, "xx..x" (pad chars) or Zero, Zero })
 * into out, PkgLength in its shortest form (its byte count in *pkglen_bytes).
 * a and b are the elements' encodings. Returns the length.
 */
static size_t aml_s5(uint8_t *out, bool root, const uint8_t *a, size_t na,
		     const uint8_t *b, size_t nb, size_t pad, size_t *pkglen_bytes)
{
	size_t body = 1 + na + nb + (pad ? pad + 2 : 1) + 1;	/* NumElements .. */
	size_t k = body + 1 <= 0x3f ? 1 : body + 2 <= 0xfff ? 2 : body + 3 <= 0xfffff ? 3 : 4;
	size_t v = body + k, n = 0;

	out[n++] = 0x08;
	if (root)
		out[n++] = 0x5c;
	memcpy(out + n, "_S5_", 4);
	n += 4;
	out[n++] = 0x12;
	if (k == 1) {
		out[n++] = (uint8_t)v;
	} else {
		out[n++] = (uint8_t)((k - 1) << 6 | (v & 0xf));
		for (size_t i = 1; i < k; i++)
			out[n++] = (uint8_t)(v >> (8 * i - 4));
	}
	out[n++] = 4;
	memcpy(out + n, a, na);
	n += na;
	memcpy(out + n, b, nb);
	n += nb;
	if (pad) {
		out[n++] = 0x0d;			/* StringPrefix */
		memset(out + n, 'x', pad);
		n += pad;
		out[n++] = 0;
	} else {
		out[n++] = 0x00;
	}
	out[n++] = 0x00;
	if (pkglen_bytes)
		*pkglen_bytes = k;
	return n;
}

static uint8_t *find_bytes(struct region *r, const char *what, size_t n)
{
	for (size_t i = 0; i + n <= r->len; i++)
		if (memcmp(r->data + i, what, n) == 0)
			return r->data + i;
	return NULL;
}

static void check_q35_pm(void)
{
	assert_true(info.pm.has_fadt);
	assert_false(info.pm.hw_reduced);
	assert_int_equal(info.pm.pm1a_cnt, 0x604);
	assert_int_equal(info.pm.pm1b_cnt, 0);
}

/* q35: FADT revision 3, 244 bytes, with X_ fields (X_PM1a_CNT_BLK is I/O
 * 0x604, as PM1a_CNT_BLK), RESET_REG_SUP and RESET_REG I/O 0xcf9 <- 0x0f;
 * its DSDT has Name (_S5_, Package (0x04) { Zero, Zero, Zero, Zero }). */
static void test_q35_fadt(void **state)
{
	struct acpi_io_write w[2];

	(void)state;
	load_fixture("q35");
	assert_int_equal(parse_fixture_rsdp(), 0);
	check_q35_pm();
	assert_true(info.pm.s5_valid);
	assert_int_equal(info.pm.s5_typ_a, 0);
	assert_int_equal(info.pm.s5_typ_b, 0);
	assert_true(info.pm.reset_valid);
	assert_int_equal(info.pm.reset_space, ACPI_GAS_IO);
	assert_int_equal(info.pm.reset_addr, 0xcf9);
	assert_int_equal(info.pm.reset_value, 0x0f);
	assert_true(test_log_has("hv: acpi: FADT: PM1a_CNT 0x604, PM1b_CNT 0x0, \\_S5 SLP_TYP 0/0\n"));
	assert_true(test_log_has("hv: acpi: FADT: reset register I/O 0xcf9, value 0xf\n"));
	assert_false(test_log_has("unavailable"));
	assert_false(test_log_has("FACP not used"));

	assert_int_equal(acpi_s5_sequence(&info, w), 1);
	assert_int_equal(w[0].port, 0x604);
	assert_int_equal(w[0].mask, 0x3c00);
	assert_int_equal(w[0].value, 0x2000);	/* SLP_TYP 0, SLP_EN */
	assert_int_equal(acpi_io_write_value(&w[0], 0x0001), 0x2001);	/* SCI_EN kept */
}

/* i440fx: an ACPI 1.0 FADT (revision 1, 116 bytes): 32-bit fields only,
 * no reset register (and RESET_REG_SUP clear); same \_S5 as q35. */
static void test_i440fx_fadt(void **state)
{
	(void)state;
	load_fixture("i440fx");
	assert_int_equal(region_by_sig("FACP")->len, 116);
	assert_int_equal(parse_fixture_rsdp(), 0);
	check_q35_pm();
	assert_true(info.pm.s5_valid);
	assert_int_equal(info.pm.s5_typ_a, 0);
	assert_int_equal(info.pm.s5_typ_b, 0);
	assert_false(info.pm.reset_valid);
	assert_true(test_log_has("hv: acpi: FADT: PM1a_CNT 0x604, PM1b_CNT 0x0, \\_S5 SLP_TYP 0/0\n"));
	assert_true(test_log_has("hv: acpi: FADT: no reset register\n"));
	assert_false(test_log_has("unavailable"));
}

static void test_fadt_bad_checksum(void **state)
{
	struct acpi_io_write w[2];
	struct region *r;
	char msg[128];

	(void)state;
	load_fixture("q35");
	r = region_by_sig("FACP");
	put32(r->data + FADT_PM1A_CNT, 0x605);
	assert_int_equal(parse_fixture_rsdp(), 0);
	snprintf(msg, sizeof(msg), "hv: acpi: table FACP at 0x%" PRIx64
		 " has bad checksum, ignored\n", r->phys);
	assert_true(test_log_has(msg));
	assert_true(test_log_has("hv: acpi: no FADT: ACPI poweroff and reset register unavailable\n"));
	assert_false(info.pm.has_fadt);
	assert_false(info.pm.s5_valid);
	assert_false(info.pm.reset_valid);
	assert_int_equal(info.pm.pm1a_cnt, 0);
	assert_int_equal(acpi_s5_sequence(&info, w), -ENODEV);
	check_qemu_cpus_and_ioapic();		/* the rest still counts */
}

static void test_fadt_too_short(void **state)
{
	struct region *r;
	char msg[128];

	(void)state;
	load_fixture("q35");
	r = region_by_sig("FACP");
	resize_table(r, 115);			/* one byte short of ACPI 1.0 */
	assert_int_equal(parse_fixture_rsdp(), 0);
	snprintf(msg, sizeof(msg), "hv: acpi: FADT at 0x%" PRIx64
		 " too short (115 bytes), ignored\n", r->phys);
	assert_true(test_log_has(msg));
	assert_true(test_log_has("hv: acpi: no FADT: ACPI poweroff and reset register unavailable\n"));
	assert_false(info.pm.has_fadt);
}

/* A FADT cut before its X_ fields uses the 32-bit ones, even when the
 * bytes that would have been X_ fields say otherwise. */
static void test_fadt_without_x_fields(void **state)
{
	struct region *r;

	(void)state;
	/* 172 bytes: X_DSDT yes, X_PM1a_CNT_BLK no. */
	load_fixture("q35");
	r = region_by_sig("FACP");
	put32(r->data + FADT_PM1A_CNT, 0x704);
	resize_table(r, 172);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_int_equal(info.pm.pm1a_cnt, 0x704);
	assert_true(info.pm.s5_valid);
	assert_true(info.pm.reset_valid);	/* RESET_REG ends at 129 */

	/* 140 bytes: no X_DSDT either; the 32-bit DSDT field is used. */
	free_regions();
	test_log_clear();
	load_fixture("q35");
	r = region_by_sig("FACP");
	put32(r->data + FADT_PM1A_CNT, 0x704);
	put32(r->data + FADT_PM1B_CNT, 0x744);
	resize_table(r, 140);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_int_equal(info.pm.pm1a_cnt, 0x704);
	assert_int_equal(info.pm.pm1b_cnt, 0x744);
	assert_true(info.pm.s5_valid);
	assert_true(test_log_has("hv: acpi: FADT: PM1a_CNT 0x704, PM1b_CNT 0x744, \\_S5 SLP_TYP 0/0\n"));

	/* 128 bytes: RESET_REG is there but not RESET_VALUE. */
	free_regions();
	test_log_clear();
	load_fixture("q35");
	resize_table(region_by_sig("FACP"), 128);
	assert_int_equal(parse_fixture_rsdp(), 0);
	check_q35_pm();
	assert_false(info.pm.reset_valid);
	assert_true(test_log_has("hv: acpi: FADT sets RESET_REG_SUP but is too short "
				 "(128 bytes) for the reset register, ignored\n"));
}

/* Where both are there, X_PM1x_CNT_BLK and X_DSDT win. */
static void test_fadt_x_fields_preferred(void **state)
{
	struct region *r;

	(void)state;
	load_fixture("q35");
	r = region_by_sig("FACP");
	put_gas(r->data + FADT_X_PM1A_CNT, 1, 16, 0x608);
	put_gas(r->data + FADT_X_PM1B_CNT, 1, 16, 0x648);
	put32(r->data + FADT_DSDT, 0x0badf000);		/* X_DSDT stays good */
	fix_table_sum(r);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_int_equal(info.pm.pm1a_cnt, 0x608);
	assert_int_equal(info.pm.pm1b_cnt, 0x648);
	assert_true(info.pm.s5_valid);

	/* And a bad X_DSDT is not rescued by a good DSDT field. */
	free_regions();
	test_log_clear();
	load_fixture("q35");
	r = region_by_sig("FACP");
	put64(r->data + FADT_X_DSDT, 0x0badf000);
	fix_table_sum(r);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_true(info.pm.has_fadt);
	assert_false(info.pm.s5_valid);
	assert_true(test_log_has("hv: acpi: DSDT at 0xbadf000 unreadable: ACPI poweroff unavailable\n"));
}

static void test_fadt_x_pm1_not_io(void **state)
{
	struct acpi_io_write w[2];
	struct region *r;

	(void)state;
	/* X_PM1a_CNT_BLK in memory space: fall back to PM1a_CNT_BLK. */
	load_fixture("q35");
	r = region_by_sig("FACP");
	put_gas(r->data + FADT_X_PM1A_CNT, 0, 16, 0xfed00604);
	fix_table_sum(r);
	assert_int_equal(parse_fixture_rsdp(), 0);
	check_q35_pm();
	assert_true(test_log_has("hv: acpi: FADT X_PM1a_CNT_BLK (space 0, address 0xfed00604) "
				 "is not an I/O port, using PM1a_CNT_BLK 0x604\n"));
	assert_int_equal(acpi_s5_sequence(&info, w), 1);

	/* An I/O address no port can have: the same. */
	free_regions();
	test_log_clear();
	load_fixture("q35");
	r = region_by_sig("FACP");
	put_gas(r->data + FADT_X_PM1A_CNT, 1, 16, 0x10000);
	fix_table_sum(r);
	assert_int_equal(parse_fixture_rsdp(), 0);
	check_q35_pm();
	assert_true(test_log_has("hv: acpi: FADT X_PM1a_CNT_BLK (space 1, address 0x10000) "
				 "is not an I/O port, using PM1a_CNT_BLK 0x604\n"));

	/* Nothing to fall back to: no poweroff. */
	free_regions();
	test_log_clear();
	load_fixture("q35");
	r = region_by_sig("FACP");
	put_gas(r->data + FADT_X_PM1A_CNT, 0, 16, 0xfed00604);
	put32(r->data + FADT_PM1A_CNT, 0);
	fix_table_sum(r);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_true(info.pm.has_fadt);
	assert_int_equal(info.pm.pm1a_cnt, 0);
	assert_true(info.pm.s5_valid);
	assert_true(test_log_has("hv: acpi: FADT X_PM1a_CNT_BLK (space 0, address 0xfed00604) "
				 "is not an I/O port: ACPI poweroff unavailable\n"));
	assert_int_equal(acpi_s5_sequence(&info, w), -ENOTSUP);

	/* A PM1b block that cannot be written: PM1a alone would not do. */
	free_regions();
	test_log_clear();
	load_fixture("q35");
	r = region_by_sig("FACP");
	put_gas(r->data + FADT_X_PM1B_CNT, 0, 16, 0xfed00644);
	fix_table_sum(r);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_int_equal(info.pm.pm1a_cnt, 0);
	assert_int_equal(info.pm.pm1b_cnt, 0);
	assert_true(test_log_has("hv: acpi: FADT X_PM1b_CNT_BLK (space 0, address 0xfed00644) "
				 "is not an I/O port: ACPI poweroff unavailable\n"));
	assert_int_equal(acpi_s5_sequence(&info, w), -ENOTSUP);
}

static void test_fadt_pm1_odd(void **state)
{
	struct region *r;

	(void)state;
	/* 32-bit field beyond the I/O space (ACPI 1.0 table: no X_ field). */
	load_fixture("i440fx");
	r = region_by_sig("FACP");
	put32(r->data + FADT_PM1A_CNT, 0x12345);
	fix_table_sum(r);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_int_equal(info.pm.pm1a_cnt, 0);
	assert_true(test_log_has("hv: acpi: FADT PM1a_CNT_BLK 0x12345 is not an I/O port: "
				 "ACPI poweroff unavailable\n"));

	/* No PM1a block at all. */
	free_regions();
	test_log_clear();
	load_fixture("i440fx");
	r = region_by_sig("FACP");
	put32(r->data + FADT_PM1A_CNT, 0);
	fix_table_sum(r);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_true(info.pm.has_fadt);
	assert_int_equal(info.pm.pm1a_cnt, 0);
	assert_true(test_log_has("hv: acpi: FADT has no PM1a control block: ACPI poweroff unavailable\n"));

	/* PM1_CNT_LEN below 2: reported, the block still used. */
	free_regions();
	test_log_clear();
	load_fixture("i440fx");
	r = region_by_sig("FACP");
	r->data[FADT_PM1_CNT_LEN] = 1;
	fix_table_sum(r);
	assert_int_equal(parse_fixture_rsdp(), 0);
	check_q35_pm();
	assert_true(test_log_has("hv: acpi: FADT PM1_CNT_LEN is 1 (should be 2 or more), "
				 "using 16-bit accesses anyway\n"));
}

static void test_fadt_hw_reduced(void **state)
{
	struct acpi_io_write w[2];

	(void)state;
	load_fixture("q35");
	fadt_flags_set(region_by_sig("FACP"), FADT_HW_REDUCED_ACPI, 0);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_true(info.pm.has_fadt);
	assert_true(info.pm.hw_reduced);
	assert_int_equal(info.pm.pm1a_cnt, 0);
	assert_int_equal(info.pm.pm1b_cnt, 0);
	assert_true(info.pm.s5_valid);		/* the DSDT is still read */
	assert_true(info.pm.reset_valid);	/* RESET_REG is not a PM1 block */
	assert_true(test_log_has("hv: acpi: FADT says hardware-reduced ACPI (no PM1 control "
				 "blocks): ACPI poweroff unavailable\n"));
	assert_int_equal(acpi_s5_sequence(&info, w), -ENOTSUP);
}

static void test_fadt_reset_register(void **state)
{
	struct region *r;

	(void)state;
	/* RESET_REG_SUP clear: RESET_REG is not looked at, nothing said. */
	load_fixture("q35");
	fadt_flags_set(region_by_sig("FACP"), 0, FADT_RESET_REG_SUP);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_false(info.pm.reset_valid);
	assert_true(test_log_has("hv: acpi: FADT: no reset register\n"));
	assert_false(test_log_has("reset register ("));

	/* Memory space. */
	free_regions();
	test_log_clear();
	load_fixture("q35");
	r = region_by_sig("FACP");
	put_gas(r->data + FADT_RESET_REG, 0, 8, 0xfed01234);
	r->data[128] = 0x42;
	fix_table_sum(r);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_true(info.pm.reset_valid);
	assert_int_equal(info.pm.reset_space, ACPI_GAS_MEMORY);
	assert_int_equal(info.pm.reset_addr, 0xfed01234);
	assert_int_equal(info.pm.reset_value, 0x42);
	assert_true(test_log_has("hv: acpi: FADT: reset register memory 0xfed01234, value 0x42\n"));

	/* PCI configuration space: not supported. */
	free_regions();
	test_log_clear();
	load_fixture("q35");
	r = region_by_sig("FACP");
	r->data[FADT_RESET_REG] = 2;
	fix_table_sum(r);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_false(info.pm.reset_valid);
	assert_true(test_log_has("hv: acpi: FADT reset register (space 2, address 0xcf9) "
				 "not usable, ignored\n"));
	check_q35_pm();

	/* Address 0. */
	free_regions();
	test_log_clear();
	load_fixture("q35");
	r = region_by_sig("FACP");
	put_gas(r->data + FADT_RESET_REG, 1, 8, 0);
	fix_table_sum(r);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_false(info.pm.reset_valid);
	assert_true(test_log_has("hv: acpi: FADT reset register (space 1, address 0x0) not usable, ignored\n"));

	/* An ACPI 1.0 FADT that claims a reset register it has no room for. */
	free_regions();
	test_log_clear();
	load_fixture("i440fx");
	fadt_flags_set(region_by_sig("FACP"), FADT_RESET_REG_SUP, 0);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_false(info.pm.reset_valid);
	assert_true(test_log_has("hv: acpi: FADT sets RESET_REG_SUP but is too short "
				 "(116 bytes) for the reset register, ignored\n"));
}

static void test_dsdt_missing(void **state)
{
	struct acpi_io_write w[2];
	struct region *r;
	char msg[160];

	(void)state;
	load_fixture("q35");
	fadt_set_dsdt(region_by_sig("FACP"), 0);
	assert_int_equal(parse_fixture_rsdp(), 0);
	check_q35_pm();
	assert_false(info.pm.s5_valid);
	assert_true(info.pm.reset_valid);
	assert_true(test_log_has("hv: acpi: FADT has no DSDT address: ACPI poweroff unavailable\n"));
	assert_true(test_log_has("hv: acpi: FADT: PM1a_CNT 0x604, PM1b_CNT 0x0, no \\_S5\n"));
	assert_int_equal(acpi_s5_sequence(&info, w), -ENODATA);

	free_regions();
	test_log_clear();
	load_fixture("q35");
	fadt_set_dsdt(region_by_sig("FACP"), 0x0badf000);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_false(info.pm.s5_valid);
	assert_true(test_log_has("hv: acpi: DSDT at 0xbadf000 unreadable: ACPI poweroff unavailable\n"));

	/* The FADT pointing at the FACS (which has no SDT header). */
	free_regions();
	test_log_clear();
	load_fixture("q35");
	r = region_by_sig("FACS");
	fadt_set_dsdt(region_by_sig("FACP"), r->phys);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_false(info.pm.s5_valid);
	snprintf(msg, sizeof(msg), "hv: acpi: DSDT at 0x%" PRIx64
		 " has signature \"FACS\": ACPI poweroff unavailable\n", r->phys);
	assert_true(test_log_has(msg));
}

static void test_dsdt_bad_checksum(void **state)
{
	struct acpi_io_write w[2];
	struct region *r;
	char msg[160];

	(void)state;
	load_fixture("i440fx");
	r = region_by_sig("DSDT");
	r->data[r->len - 1] ^= 0x40;
	assert_int_equal(parse_fixture_rsdp(), 0);
	snprintf(msg, sizeof(msg), "hv: acpi: table DSDT at 0x%" PRIx64
		 " has bad checksum: ACPI poweroff unavailable\n", r->phys);
	assert_true(test_log_has(msg));
	assert_true(info.pm.has_fadt);
	assert_false(info.pm.s5_valid);
	assert_int_equal(acpi_s5_sequence(&info, w), -ENODATA);

	/* Length past the end of its memory. */
	free_regions();
	test_log_clear();
	load_fixture("q35");
	r = region_by_sig("DSDT");
	put32(r->data + 4, (uint32_t)r->len + 1);
	fix_table_sum(r);
	assert_int_equal(parse_fixture_rsdp(), 0);
	snprintf(msg, sizeof(msg), "hv: acpi: table DSDT at 0x%" PRIx64
		 " unreadable (length %zu): ACPI poweroff unavailable\n", r->phys, r->len + 1);
	assert_true(test_log_has(msg));
	assert_false(info.pm.s5_valid);
}

static void test_dsdt_without_s5(void **state)
{
	struct region *r;
	uint8_t *s5;

	(void)state;
	load_fixture("q35");
	r = region_by_sig("DSDT");
	s5 = find_bytes(r, "\x08_S5_", 5);
	assert_non_null(s5);
	s5[3] = '6';				/* Name (_S6_, ...) */
	fix_table_sum(r);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_false(info.pm.s5_valid);
	assert_true(test_log_has("hv: acpi: DSDT has no \\_S5 package: ACPI poweroff unavailable\n"));

	/* The bytes "_S5_" alone, not after a NameOp, do not count. */
	free_regions();
	test_log_clear();
	load_fixture("q35");
	r = region_by_sig("DSDT");
	s5 = find_bytes(r, "\x08_S5_", 5);
	s5[0] = 0x10;				/* ScopeOp */
	fix_table_sum(r);
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_false(info.pm.s5_valid);
	assert_true(test_log_has("hv: acpi: DSDT has no \\_S5 package: ACPI poweroff unavailable\n"));
}

/* Each encoding of the SLP_TYP elements, with and without the root prefix. */
static void test_s5_element_encodings(void **state)
{
	static const struct {
		bool root;
		uint8_t a[3], na, b[3], nb;
		uint8_t typ_a, typ_b;
	} cases[] = {
		{ false, { 0x00 }, 1, { 0x00 }, 1, 0, 0 },			/* Zero, Zero */
		{ false, { 0x01 }, 1, { 0x00 }, 1, 1, 0 },			/* One, Zero */
		{ false, { 0x00 }, 1, { 0x01 }, 1, 0, 1 },			/* Zero, One */
		{ false, { 0x0a, 0x05 }, 2, { 0x0a, 0x07 }, 2, 5, 7 },		/* Byte */
		{ false, { 0x0b, 0x06, 0x00 }, 3, { 0x0b, 0x03, 0x01 }, 3, 6, 3 },	/* Word */
		{ false, { 0x0a, 0xfd }, 2, { 0x01 }, 1, 5, 1 },		/* low 3 bits */
		{ true, { 0x0a, 0x02 }, 2, { 0x0b, 0x04, 0x00 }, 3, 2, 4 },	/* \_S5_ */
	};
	uint8_t aml[64];
	struct acpi_io_write w[2];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n;

		free_regions();
		test_log_clear();
		memcpy(aml, aml_s4, sizeof(aml_s4));
		n = sizeof(aml_s4) + aml_s5(aml + sizeof(aml_s4), cases[i].root,
					    cases[i].a, cases[i].na, cases[i].b, cases[i].nb,
					    0, NULL);
		assert_int_equal(parse_q35_with_aml(aml, n), 0);
		assert_true(info.pm.s5_valid);
		assert_int_equal(info.pm.s5_typ_a, cases[i].typ_a);
		assert_int_equal(info.pm.s5_typ_b, cases[i].typ_b);
		assert_false(test_log_has("unavailable"));
		assert_int_equal(acpi_s5_sequence(&info, w), 1);
		assert_int_equal(w[0].value, cases[i].typ_a << 10 | 0x2000);
	}
}

/* PkgLength in its 1-, 2- and 3-byte forms (the package padded with a
 * string to need them), and a 4-byte one (not the shortest, but valid). */
static void test_s5_pkglength_forms(void **state)
{
	static uint8_t aml[8192];
	static const size_t pads[] = { 0, 100, 5000 };
	const uint8_t a[] = { 0x0a, 0x05 }, b[] = { 0x0a, 0x06 };
	const uint8_t four[] = { 0x08, '_', 'S', '5', '_', 0x12, 0xc8, 0, 0, 0,
				 0x02, 0x0a, 0x03, 0x01 };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		size_t k, n;

		free_regions();
		test_log_clear();
		n = aml_s5(aml, false, a, 2, b, 2, pads[i], &k);
		assert_int_equal(k, i + 1);
		assert_int_equal(aml[6] >> 6, i);	/* the lead byte says so */
		assert_int_equal(parse_q35_with_aml(aml, n), 0);
		assert_true(info.pm.s5_valid);
		assert_int_equal(info.pm.s5_typ_a, 5);
		assert_int_equal(info.pm.s5_typ_b, 6);
	}

	free_regions();
	test_log_clear();
	assert_int_equal(parse_q35_with_aml(four, sizeof(four)), 0);
	assert_true(info.pm.s5_valid);
	assert_int_equal(info.pm.s5_typ_a, 3);
	assert_int_equal(info.pm.s5_typ_b, 1);
}

static void test_s5_malformed(void **state)
{
#define S5 0x08, '_', 'S', '5', '_'
	static const struct {
		uint8_t aml[16];
		size_t n;
		const char *why;
	} cases[] = {
		{ { S5, 0x0a, 0x05 }, 7, "not a package" },
		{ { S5, 0x12, 0x77, 0x00, 0x02, 0x00, 0x00 }, 11, "bad PkgLength" },	/* bits 5:4 */
		{ { S5, 0x12, 0x01, 0x02, 0x00, 0x00 }, 10, "bad PkgLength" },	/* < itself + 1 */
		{ { S5, 0x12, 0xcf, 0xff, 0xff, 0x0f, 0x02, 0x00, 0x00 }, 13,
		  "package runs past the end of the table" },
		{ { S5, 0x12, 0x04, 0x01, 0x0a, 0x05 }, 10, "fewer than 2 elements" },
		{ { S5, 0x12, 0x04, 0x02, 0x0a, 0x05, 0x0a, 0x05 }, 12,
		  "elements run past the end of the package" },
		{ { S5, 0x12, 0x05, 0x02, 0x0a, 0x05, 0x0b, 0x05, 0x00 }, 13,
		  "elements run past the end of the package" },
		{ { S5, 0x12, 0x07, 0x02, 0x0d, 'x', 0x00, 0x00, 0x00 }, 13,
		  "SLP_TYPa is not an integer constant" },
		{ { S5, 0x12, 0x08, 0x02, 0x00, 0x0c, 0x05, 0x00, 0x00, 0x00 }, 14,
		  "SLP_TYPb is not an integer constant" },
		{ { 0x08, 0x5c, '_', 'S', '5', '_', 0x12, 0x02, 0x00 }, 9,
		  "fewer than 2 elements" },
	};
#undef S5
	char msg[160];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		free_regions();
		test_log_clear();
		assert_int_equal(parse_q35_with_aml(cases[i].aml, cases[i].n), 0);
		assert_true(info.pm.has_fadt);
		assert_false(info.pm.s5_valid);
		snprintf(msg, sizeof(msg), "hv: acpi: DSDT \\_S5 at offset 36 malformed (%s): "
			 "ACPI poweroff unavailable\n", cases[i].why);
		if (!test_log_has(msg))
			fail_msg("case %zu: no \"%s\" in:\n%s", i, msg, test_log());
	}
}

/* A bad Name (_S5_, ...) followed by a good one: the good one counts, and
 * nothing is said about the bad one. */
static void test_s5_first_good_counts(void **state)
{
	uint8_t aml[64];
	const uint8_t bad[] = { 'x', '_', 'S', '5', '_', 0x08, '_', 'S', '5', '_', 0x0a, 0x01 };
	const uint8_t a[] = { 0x0a, 0x05 }, b[] = { 0x0a, 0x05 };
	size_t n;

	(void)state;
	memcpy(aml, bad, sizeof(bad));
	n = sizeof(bad) + aml_s5(aml + sizeof(bad), false, a, 2, b, 2, 0, NULL);
	assert_int_equal(parse_q35_with_aml(aml, n), 0);
	assert_true(info.pm.s5_valid);
	assert_int_equal(info.pm.s5_typ_a, 5);
	assert_false(test_log_has("malformed"));
	assert_false(test_log_has("unavailable"));
}

/* The DSDT ending anywhere inside Name (_S5_, Package ...): never a read
 * past the table (ASan watches the exact-size copy), never a \_S5. */
static void test_s5_cut_at_table_end(void **state)
{
	static uint8_t aml[512];
	const uint8_t a[] = { 0x0b, 0x05, 0x00 }, b[] = { 0x0b, 0x05, 0x00 };
	size_t full, k;

	(void)state;
	memcpy(aml, aml_s4, sizeof(aml_s4));
	full = aml_s5(aml + sizeof(aml_s4), false, a, 3, b, 3, 100, &k);
	assert_int_equal(k, 2);
	for (size_t cut = 1; cut <= full; cut++) {
		free_regions();
		test_log_clear();
		assert_int_equal(parse_q35_with_aml(aml, sizeof(aml_s4) + cut), 0);
		assert_true(info.pm.has_fadt);
		if (cut == full) {
			assert_true(info.pm.s5_valid);
			assert_int_equal(info.pm.s5_typ_a, 5);
			continue;
		}
		assert_false(info.pm.s5_valid);
		if (cut < 5)
			assert_true(test_log_has("hv: acpi: DSDT has no \\_S5 package: "
						 "ACPI poweroff unavailable\n"));
		else if (cut <= 7)	/* nothing after the name, or half a PkgLength */
			assert_true(test_log_has("hv: acpi: DSDT \\_S5 at offset 50 malformed "
						 "(cut off by the end of the table): "
						 "ACPI poweroff unavailable\n"));
		else
			assert_true(test_log_has("hv: acpi: DSDT \\_S5 at offset 50 malformed "
						 "(package runs past the end of the table): "
						 "ACPI poweroff unavailable\n"));
	}
}

static void test_s5_sequence(void **state)
{
	struct acpi_io_write w[2];

	(void)state;
	memset(&info, 0, sizeof(info));
	assert_int_equal(acpi_s5_sequence(NULL, w), -ENODEV);
	assert_int_equal(acpi_s5_sequence(&info, w), -ENODEV);
	info.pm.has_fadt = true;
	info.pm.s5_valid = true;
	assert_int_equal(acpi_s5_sequence(&info, w), -ENOTSUP);	/* no PM1a */
	info.pm.pm1a_cnt = 0x1804;
	info.pm.hw_reduced = true;
	assert_int_equal(acpi_s5_sequence(&info, w), -ENOTSUP);
	info.pm.hw_reduced = false;
	info.pm.s5_valid = false;
	assert_int_equal(acpi_s5_sequence(&info, w), -ENODATA);

	info.pm.s5_valid = true;
	info.pm.s5_typ_a = 5;
	info.pm.s5_typ_b = 6;
	assert_int_equal(acpi_s5_sequence(&info, w), 1);
	assert_int_equal(w[0].port, 0x1804);
	assert_int_equal(w[0].mask, 0x3c00);
	assert_int_equal(w[0].value, 5 << 10 | 1 << 13);

	info.pm.pm1b_cnt = 0x1844;
	info.pm.s5_typ_a = 0xff;		/* only 3 bits are SLP_TYP */
	assert_int_equal(acpi_s5_sequence(&info, w), 2);
	assert_int_equal(w[0].value, 7 << 10 | 1 << 13);
	assert_int_equal(w[1].port, 0x1844);
	assert_int_equal(w[1].mask, 0x3c00);
	assert_int_equal(w[1].value, 6 << 10 | 1 << 13);

	/* Read-modify-write: SLP_TYP replaced, SLP_EN set, the rest kept. */
	assert_int_equal(acpi_io_write_value(&w[1], 0xffff), 0xfbff);
	assert_int_equal(acpi_io_write_value(&w[1], 0x0003), 0x3803);
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

/* ---- _PRT ------------------------------------------------------------ */

/* q35: PRTA's packages name the GSIA-GSIH links, whose _CRS is a
 * constant Extended Interrupt descriptor; PRTP's name LNKA-LNKH, whose
 * _CRS is a method, and are skipped. QEMU's ICH9 routes device D pin P
 * to GSI 16 + 4 + (D + P) % 4 for the devices below 0x18. */
static void test_prt_q35(void **state)
{
	struct acpi_prt_entry e;
	(void)state;
	load_fixture("q35");
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_true(acpi_prt_lookup(&info.prt, 5, 0, &e));
	assert_int_equal(e.gsi, 21);
	assert_true(e.level);
	assert_false(e.active_low);
	assert_true(acpi_prt_lookup(&info.prt, 5, 3, &e));
	assert_int_equal(e.gsi, 20);
	assert_true(acpi_prt_lookup(&info.prt, 1, 0, &e));
	assert_int_equal(e.gsi, 21);
	for (uint32_t k = 0; k < info.prt.n; k++)
		assert_true(info.prt.e[k].gsi >= 16 && info.prt.e[k].gsi <= 23);
}

/* i440fx: its _PRT names LNKA-LNKD, whose _CRS are methods: nothing. */
static void test_prt_i440fx(void **state)
{
	struct acpi_prt_entry e;
	(void)state;
	load_fixture("i440fx");
	assert_int_equal(parse_fixture_rsdp(), 0);
	assert_int_equal(info.prt.n, 0);
	assert_false(acpi_prt_lookup(&info.prt, 5, 0, &e));
}

/* A DSDT made of packages: a board's APIC-mode form (source Zero, the
 * GSI in SourceIndex), a PIC-mode entry (below 16, skipped), a pin with
 * two different answers (ambiguous, dropped), and malformed packages. */
static void test_prt_synthetic(void **state)
{
	static const uint8_t pkgs[] = {
		/* Package(4){0x0003FFFF, One, Zero, 0x12} */
		0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x03, 0x00, 0x01, 0x00, 0x0a, 0x12,
		/* Package(4){0x0004FFFF, Zero, Zero, 0x0b}: PIC mode */
		0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x04, 0x00, 0x00, 0x00, 0x0a, 0x0b,
		/* slot 6 pin 0: GSI 0x13 and 0x14 */
		0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x06, 0x00, 0x00, 0x00, 0x0a, 0x13,
		0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x06, 0x00, 0x00, 0x00, 0x0a, 0x14,
		/* address without 0xFFFF, pin 4, 3 elements, cut PkgLength */
		0x12, 0x0b, 0x04, 0x0c, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x0a, 0x15,
		0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x08, 0x00, 0x0a, 0x04, 0x00, 0x16,
		0x12, 0x0a, 0x03, 0x0c, 0xff, 0xff, 0x09, 0x00, 0x00, 0x00, 0x0a,
		0x12, 0x3f, 0x04, 0x0c, 0xff, 0xff,
	};
	uint8_t t[36 + sizeof(pkgs)];
	struct acpi_prt prt;
	struct acpi_prt_entry e;
	(void)state;
	memset(t, 0, 36);
	memcpy(t + 36, pkgs, sizeof(pkgs));
	acpi_dsdt_prt(t, sizeof(t), &prt);
	assert_int_equal(prt.n, 1);
	assert_true(acpi_prt_lookup(&prt, 3, 1, &e));
	assert_int_equal(e.gsi, 0x12);
	assert_true(e.level && e.active_low);
	assert_false(acpi_prt_lookup(&prt, 4, 0, &e));
	assert_false(acpi_prt_lookup(&prt, 6, 0, &e));
	assert_false(acpi_prt_lookup(&prt, 7, 0, &e));
	assert_false(acpi_prt_lookup(&prt, 8, 0, &e));
	assert_false(acpi_prt_lookup(&prt, 9, 0, &e));
	/* Every cut of it: no crash, nothing beyond the end read (ASan). */
	for (uint32_t n = 36; n < sizeof(t); n++) {
		uint8_t *c = malloc(n);
		memcpy(c, t, n);
		acpi_dsdt_prt(c, n, &prt);
		free(c);
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_q35_parses),
		T(test_prt_q35),
		T(test_prt_i440fx),
		T(test_prt_synthetic),
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
		T(test_q35_fadt),
		T(test_i440fx_fadt),
		T(test_fadt_bad_checksum),
		T(test_fadt_too_short),
		T(test_fadt_without_x_fields),
		T(test_fadt_x_fields_preferred),
		T(test_fadt_x_pm1_not_io),
		T(test_fadt_pm1_odd),
		T(test_fadt_hw_reduced),
		T(test_fadt_reset_register),
		T(test_dsdt_missing),
		T(test_dsdt_bad_checksum),
		T(test_dsdt_without_s5),
		T(test_s5_element_encodings),
		T(test_s5_pkglength_forms),
		T(test_s5_malformed),
		T(test_s5_first_good_counts),
		T(test_s5_cut_at_table_end),
		T(test_s5_sequence),
		T(test_legacy_in_ebda),
		T(test_legacy_in_bios_area),
		T(test_legacy_not_found),
		T(test_legacy_bad_checksum_skipped),
		T(test_legacy_rev2_truncated),
		T(test_legacy_finds_fixture_rsdp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
