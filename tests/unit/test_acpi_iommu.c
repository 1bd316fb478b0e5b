/*
 * Tests for the DMAR (kernel/acpi_dmar.c) and IVRS (kernel/acpi_ivrs.c)
 * parsers, through acpi_parse.
 *
 * The real cases use the tables QEMU 10 builds for q35 with
 * `-device intel-iommu,intremap=on` and with `-device amd-iommu`, each
 * with edu at 00:05.0 (tests/fixtures/acpi/q35-{intel,amd}-iommu, made by
 * scripts/dump-acpi-fixtures; what is in them: tests/fixtures/acpi/
 * README.md). The rest are tables built here, each placed in its own
 * exact-size allocation so ASan sees any read past it, and listed in an
 * RSDT beside the fixture's MADT.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/acpi.h"
#include "tests/unit/host_stubs.h"

/* ---- sparse physical memory (as in test_acpi.c) ----------------------- */

struct region {
	uint64_t phys;
	size_t len;
	uint8_t *data;
	char sig[5];
};

#define MAX_REGIONS 64
static struct region regions[MAX_REGIONS];
static size_t nregions;
static struct acpi_info info;
static uint64_t syn_next;

static const void *fixture_map(uint64_t phys, size_t len)
{
	for (size_t i = 0; i < nregions; i++) {
		const struct region *r = &regions[i];

		if (phys >= r->phys && len <= r->len && phys - r->phys <= r->len - len)
			return r->data + (phys - r->phys);
	}
	return NULL;
}

static struct region *add_region(uint64_t phys, const void *data, size_t len, const char *sig)
{
	struct region *r;

	assert_true(nregions < MAX_REGIONS);
	r = &regions[nregions++];
	r->phys = phys;
	r->len = len;
	r->data = malloc(len ? len : 1);
	assert_non_null(r->data);
	memcpy(r->data, data, len);
	snprintf(r->sig, sizeof(r->sig), "%s", sig);
	return r;
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
		size_t n = strlen(de->d_name), len;
		char *end, sig[5];
		uint64_t phys;
		void *data;

		if (n < 4 || strcmp(de->d_name + n - 4, ".bin") != 0)
			continue;
		phys = strtoull(de->d_name, &end, 16);
		if (*end != '-')
			continue;
		memcpy(sig, end + 1, 4);
		sig[4] = '\0';
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

static void fix_sum(uint8_t *p, size_t len, size_t csum_off)
{
	uint8_t s = 0;

	p[csum_off] = 0;
	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	p[csum_off] = (uint8_t)(0x100 - s);
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static int setup(void **state)
{
	(void)state;
	nregions = 0;
	syn_next = 0;
	memset(&info, 0xa5, sizeof(info));
	test_log_clear();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < nregions; i++)
		free(regions[i].data);
	nregions = 0;
	return 0;
}

/* ---- building tables ------------------------------------------------- */

struct tbuf {
	uint8_t b[8192];
	size_t len;
};

static struct tbuf tb;	/* the table under construction */

static void tb_init(const char *sig)
{
	memset(&tb, 0, sizeof(tb));
	memcpy(tb.b, sig, 4);
	tb.b[8] = 1;
	memcpy(tb.b + 10, "TESTOE", 6);
	memcpy(tb.b + 16, "TESTTBL ", 8);
	tb.len = 36;
}

static void tb_put(const void *p, size_t n)
{
	assert_true(tb.len + n <= sizeof(tb.b));
	memcpy(tb.b + tb.len, p, n);
	tb.len += n;
}

static void u8(uint8_t v) { tb_put(&v, 1); }
static void u16(uint16_t v) { tb_put(&v, 2); }
static void u32(uint32_t v) { tb_put(&v, 4); }
static void u64(uint64_t v) { tb_put(&v, 8); }
static void zeros(size_t n) { while (n--) u8(0); }
static void set16(size_t off, uint16_t v) { memcpy(tb.b + off, &v, 2); }

/* Length and checksum set, the table placed in memory: its address. */
static uint64_t place(uint8_t *b, size_t len)
{
	uint64_t phys = syn_next ? syn_next : 0x10000000;
	char sig[5] = { 0 };

	put32(b + 4, (uint32_t)len);
	fix_sum(b, len, 9);
	memcpy(sig, b, 4);
	add_region(phys, b, len, sig);
	syn_next = phys + ((len + 0xfff) & ~(uint64_t)0xfff) + 0x1000;
	return phys;
}

/* RSDP rev 0 -> RSDT -> { the q35 fixture's MADT, table }; parse. */
static int parse_with(uint64_t table)
{
	static uint8_t rsdt[44];
	uint8_t rsdp[20] = { 0 };
	uint64_t madt;

	load_fixture("q35");
	madt = region_by_sig("APIC")->phys;
	memset(rsdt, 0, sizeof(rsdt));
	memcpy(rsdt, "RSDT", 4);
	rsdt[8] = 1;
	put32(rsdt + 36, (uint32_t)madt);
	put32(rsdt + 40, (uint32_t)table);
	memcpy(rsdp, "RSD PTR ", 8);
	put32(rsdp + 16, (uint32_t)place(rsdt, sizeof(rsdt)));
	fix_sum(rsdp, 20, 8);
	return acpi_parse(rsdp, sizeof(rsdp), fixture_map, &info);
}

static int parse_tb(void) { return parse_with(place(tb.b, tb.len)); }

/* The table was rejected with one "table ignored" line, and the rest of
 * ACPI is fine. */
static void assert_rejected(const char *sig, const char *msg)
{
	char want[256];
	const char *log = test_log(), *p;
	int lines = 0;

	snprintf(want, sizeof(want), "hv: acpi: %s: %s", sig, msg);
	if (!test_log_has(want))
		fail_msg("log lacks \"%s\":\n%s", want, log);
	for (p = log; (p = strstr(p, "table ignored")) != NULL; p++)
		lines++;
	assert_int_equal(lines, 1);
	assert_true(info.has_madt);
	assert_int_equal(info.ncpus, 4);
}

/* ---- DMAR ------------------------------------------------------------ */

static void dmar_header(uint8_t haw, uint8_t flags)
{
	tb_init("DMAR");
	u8(haw);
	u8(flags);
	zeros(10);
}

static size_t drhd_begin(uint8_t flags, uint16_t seg, uint64_t base)
{
	size_t at = tb.len;

	u16(0);
	u16(0);		/* length, set by struct_end */
	u8(flags);
	u8(0);
	u16(seg);
	u64(base);
	return at;
}

static size_t rmrr_begin(uint16_t seg, uint64_t base, uint64_t limit)
{
	size_t at = tb.len;

	u16(1);
	u16(0);
	u16(0);
	u16(seg);
	u64(base);
	u64(limit);
	return at;
}

static void struct_end(size_t at) { set16(at + 2, (uint16_t)(tb.len - at)); }

/* A device scope with n (dev, fn) hops. */
static void scope(uint8_t type, uint8_t enum_id, uint8_t bus, const uint8_t *path, size_t n)
{
	u8(type);
	u8((uint8_t)(6 + 2 * n));
	u16(0);
	u8(enum_id);
	u8(bus);
	tb_put(path, 2 * n);
}

static void endpoint(uint8_t bus, uint8_t dev, uint8_t fn)
{
	uint8_t p[2] = { dev, fn };

	scope(ACPI_SCOPE_ENDPOINT, 0, bus, p, 1);
}

static void assert_scope(const struct acpi_dmar_scope *s, uint8_t type, uint8_t bus,
			 uint8_t dev, uint8_t fn)
{
	assert_int_equal(s->type, type);
	assert_int_equal(s->start_bus, bus);
	assert_int_equal(s->npath, 1);
	assert_int_equal(s->path[0].dev, dev);
	assert_int_equal(s->path[0].fn, fn);
}

static void test_dmar_qemu(void **state)
{
	const struct acpi_drhd *u;

	(void)state;
	load_fixture("q35-intel-iommu");
	assert_int_equal(acpi_parse(region_by_sig("RSDP")->data, region_by_sig("RSDP")->len,
				    fixture_map, &info), 0);
	assert_true(info.dmar.present);
	assert_false(info.ivrs.present);
	assert_int_equal(info.dmar.haw, 48);
	assert_int_equal(info.dmar.flags, ACPI_DMAR_INTR_REMAP);
	assert_int_equal(info.dmar.ndrhd, 1);
	assert_int_equal(info.dmar.nrmrr, 0);
	u = &info.dmar.drhd[0];
	assert_int_equal(u->base, 0xfed90000);
	assert_int_equal(u->segment, 0);
	/* QEMU 10 lists every device instead of setting INCLUDE_PCI_ALL. */
	assert_int_equal(u->flags, 0);
	assert_int_equal(u->nscopes, 6);
	assert_scope(&u->scopes[0], ACPI_SCOPE_IOAPIC, 0xff, 0, 0);
	assert_int_equal(u->scopes[0].enum_id, 0);
	assert_scope(&u->scopes[1], ACPI_SCOPE_ENDPOINT, 0, 0, 0);
	assert_scope(&u->scopes[2], ACPI_SCOPE_ENDPOINT, 0, 5, 0);	/* edu */
	assert_scope(&u->scopes[3], ACPI_SCOPE_ENDPOINT, 0, 0x1f, 0);
	assert_scope(&u->scopes[4], ACPI_SCOPE_ENDPOINT, 0, 0x1f, 2);
	assert_scope(&u->scopes[5], ACPI_SCOPE_ENDPOINT, 0, 0x1f, 3);
	assert_true(test_log_has("hv: acpi: DMAR: 1 DRHD(s), 0 RMRR(s), host address width 48, "
				 "flags 0x1 (interrupt remapping)\n"));
	assert_false(test_log_has("table ignored"));
}

/* A DMAR like a real machine's: a unit with a bridge scope, the
 * INCLUDE_PCI_ALL unit last, RMRRs, and structures that are skipped. */
static void build_dmar_full(void)
{
	uint8_t two_hops[4] = { 0x1c, 0, 0, 0 };	/* root port 1c.0, then 00.0 */
	size_t at;

	dmar_header(38, ACPI_DMAR_INTR_REMAP | ACPI_DMAR_X2APIC_OPT_OUT);
	at = drhd_begin(0, 0, 0xfed90000);
	endpoint(0, 2, 0);
	scope(ACPI_SCOPE_BRIDGE, 0, 0, two_hops, 1);
	struct_end(at);
	at = drhd_begin(ACPI_DRHD_INCLUDE_PCI_ALL, 0, 0xfed91000);
	scope(ACPI_SCOPE_IOAPIC, 2, 0xf0, (const uint8_t[]){ 0x1f, 0 }, 1);
	scope(ACPI_SCOPE_HPET, 0, 0, (const uint8_t[]){ 0x1f, 7 }, 1);
	scope(9, 0, 0, (const uint8_t[]){ 1, 0 }, 1);	/* reserved type: skipped */
	struct_end(at);
	at = rmrr_begin(0, 0x7c000000, 0x7c7fffff);
	scope(ACPI_SCOPE_ENDPOINT, 0, 0, two_hops, 2);
	struct_end(at);
	at = rmrr_begin(0, 0x7d000800, 0x7d0017ff);	/* not page aligned */
	endpoint(0, 0x14, 0);
	struct_end(at);
	/* ATSR, RHSA, ANDD, SATC, and a type from the future */
	for (uint16_t type = 2; type <= 7; type++) {
		at = tb.len;
		u16(type);
		u16(0);
		zeros(12);
		struct_end(at);
	}
}

static void test_dmar_full(void **state)
{
	const struct acpi_dmar *d = &info.dmar;

	(void)state;
	build_dmar_full();
	assert_int_equal(parse_tb(), 0);
	assert_true(d->present);
	assert_int_equal(d->haw, 39);
	assert_int_equal(d->flags, 3);
	assert_int_equal(d->ndrhd, 2);
	assert_int_equal(d->drhd[0].base, 0xfed90000);
	assert_int_equal(d->drhd[0].flags, 0);
	assert_int_equal(d->drhd[0].nscopes, 2);
	assert_scope(&d->drhd[0].scopes[0], ACPI_SCOPE_ENDPOINT, 0, 2, 0);
	assert_scope(&d->drhd[0].scopes[1], ACPI_SCOPE_BRIDGE, 0, 0x1c, 0);
	assert_int_equal(d->drhd[1].base, 0xfed91000);
	assert_int_equal(d->drhd[1].flags, ACPI_DRHD_INCLUDE_PCI_ALL);
	assert_int_equal(d->drhd[1].nscopes, 2);
	assert_scope(&d->drhd[1].scopes[0], ACPI_SCOPE_IOAPIC, 0xf0, 0x1f, 0);
	assert_int_equal(d->drhd[1].scopes[0].enum_id, 2);
	assert_scope(&d->drhd[1].scopes[1], ACPI_SCOPE_HPET, 0, 0x1f, 7);
	assert_int_equal(d->nrmrr, 2);
	assert_int_equal(d->rmrr[0].base, 0x7c000000);
	assert_int_equal(d->rmrr[0].end, 0x7c800000);
	assert_int_equal(d->rmrr[0].nscopes, 1);
	assert_int_equal(d->rmrr[0].scopes[0].npath, 2);
	assert_int_equal(d->rmrr[0].scopes[0].path[1].dev, 0);
	assert_int_equal(d->rmrr[1].base, 0x7d000000);
	assert_int_equal(d->rmrr[1].end, 0x7d002000);
	assert_true(test_log_has("hv: acpi: DMAR: RMRR 0x7d000800-0x7d0017ff not page aligned, "
				 "using 0x7d000000-0x7d001fff\n"));
	assert_false(test_log_has("table ignored"));
}

/* Bus numbers as firmware might assign them: 00:1c.0 bridges to bus 3. */
static int fake_secondary_bus(uint16_t seg, uint8_t bus, uint8_t devfn)
{
	if (seg == 0 && bus == 0 && devfn == (0x1c << 3))
		return 3;
	return -1;
}

static void test_dmar_scope_resolve(void **state)
{
	struct acpi_dmar_scope s = {
		.type = ACPI_SCOPE_ENDPOINT, .start_bus = 0, .npath = 2,
		.path = { { 0x1c, 0 }, { 0, 1 } },
	};
	uint8_t bus = 0xee, devfn = 0xee;

	(void)state;
	assert_true(acpi_dmar_scope_resolve(&s, 0, fake_secondary_bus, &bus, &devfn));
	assert_int_equal(bus, 3);
	assert_int_equal(devfn, 1);
	/* one hop: no bridge to ask */
	s.npath = 1;
	assert_true(acpi_dmar_scope_resolve(&s, 7, fake_secondary_bus, &bus, &devfn));
	assert_int_equal(bus, 0);
	assert_int_equal(devfn, 0x1c << 3);
	/* a bridge that is not there (other segment, other slot) */
	s.npath = 2;
	assert_false(acpi_dmar_scope_resolve(&s, 1, fake_secondary_bus, &bus, &devfn));
	s.path[0].dev = 0x1d;
	assert_false(acpi_dmar_scope_resolve(&s, 0, fake_secondary_bus, &bus, &devfn));
	/* malformed */
	s.path[0].dev = 0x1c;
	s.path[1].fn = 8;
	assert_false(acpi_dmar_scope_resolve(&s, 0, fake_secondary_bus, &bus, &devfn));
	s.path[1].fn = 0;
	s.npath = 0;
	assert_false(acpi_dmar_scope_resolve(&s, 0, fake_secondary_bus, &bus, &devfn));
	s.npath = ACPI_SCOPE_PATH + 1;
	assert_false(acpi_dmar_scope_resolve(&s, 0, fake_secondary_bus, &bus, &devfn));
	assert_false(acpi_dmar_scope_resolve(NULL, 0, fake_secondary_bus, &bus, &devfn));
	/* and from the parsed table */
	build_dmar_full();
	assert_int_equal(parse_tb(), 0);
	assert_true(acpi_dmar_scope_resolve(&info.dmar.rmrr[0].scopes[0], info.dmar.rmrr[0].segment,
					    fake_secondary_bus, &bus, &devfn));
	assert_int_equal(bus, 3);
	assert_int_equal(devfn, 0);
}

/* Each way a DMAR can be malformed: rejected in one line, nothing kept. */
static void test_dmar_bad(void **state)
{
	static const struct {
		const char *msg;
		void (*patch)(void);
	} cases[] = {
		{ "table too short (40 bytes) at offset 0", NULL },
		{ "host address width 64 + 1 bits at offset 36", NULL },
		{ "remapping structure has a bad length at offset 48", NULL },
		{ "DRHD too short (12 bytes) at offset 48", NULL },
		{ "DRHD register base 0x0 not a 4 KiB page", NULL },
		{ "DRHD register base 0xfed90800 not a 4 KiB page", NULL },
		{ "DRHD device scope has a bad length at offset 64", NULL },
		{ "DRHD device scope has a bad length at offset 64", NULL },
		{ "DRHD device scope length 9 is odd at offset 64", NULL },
		{ "DRHD device scope path has device 32 function 0 at offset 64", NULL },
		{ "RMRR range 0x2000-0x1fff is empty or wraps", NULL },
		{ "RMRR too short (20 bytes)", NULL },
		{ "remapping structure has a bad length at offset 72", NULL },
	};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t at;

		teardown(NULL);
		setup(NULL);
		dmar_header(38, 0);
		switch (c) {
		case 0:
			tb.len = 40;
			break;
		case 1:
			tb.b[36] = 64;
			at = drhd_begin(ACPI_DRHD_INCLUDE_PCI_ALL, 0, 0xfed90000);
			struct_end(at);
			break;
		case 2:		/* structure length past the end of the table */
			at = drhd_begin(ACPI_DRHD_INCLUDE_PCI_ALL, 0, 0xfed90000);
			set16(at + 2, 200);
			break;
		case 3:
			at = drhd_begin(0, 0, 0xfed90000);
			tb.len = at + 12;
			struct_end(at);
			break;
		case 4:
		case 5:
			at = drhd_begin(ACPI_DRHD_INCLUDE_PCI_ALL, 0, c == 4 ? 0 : 0xfed90800);
			struct_end(at);
			break;
		case 6:		/* scope length past its DRHD */
			at = drhd_begin(0, 0, 0xfed90000);
			endpoint(0, 1, 0);
			struct_end(at);
			tb.b[at + 17] = 10;
			break;
		case 7:		/* scope without a path */
			at = drhd_begin(0, 0, 0xfed90000);
			endpoint(0, 1, 0);
			struct_end(at);
			tb.b[at + 17] = 6;
			break;
		case 8:
			at = drhd_begin(0, 0, 0xfed90000);
			endpoint(0, 1, 0);
			u8(0);
			struct_end(at);
			tb.b[at + 17] = 9;
			break;
		case 9:
			at = drhd_begin(0, 0, 0xfed90000);
			endpoint(0, 32, 0);
			struct_end(at);
			break;
		case 10:
			at = drhd_begin(ACPI_DRHD_INCLUDE_PCI_ALL, 0, 0xfed90000);
			struct_end(at);
			at = rmrr_begin(0, 0x2000, 0x1fff);
			struct_end(at);
			break;
		case 11:
			at = drhd_begin(ACPI_DRHD_INCLUDE_PCI_ALL, 0, 0xfed90000);
			struct_end(at);
			at = rmrr_begin(0, 0x2000, 0x2fff);
			tb.len = at + 20;
			struct_end(at);
			break;
		case 12:	/* two bytes of trailing junk */
			at = drhd_begin(0, 0, 0xfed90000);
			endpoint(0, 1, 0);
			struct_end(at);
			u16(0);
			break;
		}
		assert_int_equal(parse_tb(), 0);
		assert_rejected("DMAR", cases[c].msg);
		assert_false(info.dmar.present);
		assert_int_equal(info.dmar.ndrhd, 0);
		assert_int_equal(info.dmar.nrmrr, 0);
	}
}

static void test_dmar_no_drhd(void **state)
{
	size_t at;

	(void)state;
	dmar_header(38, 0);
	at = rmrr_begin(0, 0x1000, 0x1fff);
	endpoint(0, 1, 0);
	struct_end(at);
	assert_int_equal(parse_tb(), 0);
	assert_false(info.dmar.present);
	assert_int_equal(info.dmar.nrmrr, 0);
	assert_rejected("DMAR", "no remapping hardware unit (DRHD), table ignored");
}

static void test_dmar_bad_checksum(void **state)
{
	uint64_t phys;

	(void)state;
	dmar_header(38, 0);
	struct_end(drhd_begin(ACPI_DRHD_INCLUDE_PCI_ALL, 0, 0xfed90000));
	phys = place(tb.b, tb.len);
	regions[nregions - 1].data[40] ^= 1;
	assert_int_equal(parse_with(phys), 0);
	assert_false(info.dmar.present);
	assert_true(test_log_has("hv: acpi: table DMAR at 0x10000000 has bad checksum, ignored\n"));
}

static void test_dmar_too_many(void **state)
{
	const struct acpi_dmar *d = &info.dmar;
	size_t at;

	(void)state;
	dmar_header(38, 0);
	for (uint32_t i = 0; i < ACPI_MAX_IOMMUS + 2; i++) {
		at = drhd_begin(0, 0, 0xfed00000 + 0x1000 * i);
		for (uint32_t s = 0; s < (i == 0 ? ACPI_MAX_SCOPES + 3 : 1); s++)
			endpoint(1, (uint8_t)(s / 8), (uint8_t)(s % 8));
		struct_end(at);
	}
	for (uint32_t i = 0; i < ACPI_MAX_RESV + 1; i++) {
		at = rmrr_begin(0, 0x100000 * (i + 1), 0x100000 * (i + 1) + 0xfff);
		endpoint(0, 1, 0);
		struct_end(at);
	}
	/* a five-hop scope: too deep to keep */
	at = rmrr_begin(0, 0x1000, 0x1fff);
	scope(ACPI_SCOPE_ENDPOINT, 0, 0, (const uint8_t[]){ 1, 0, 2, 0, 3, 0, 4, 0, 5, 0 }, 5);
	struct_end(at);
	assert_int_equal(parse_tb(), 0);
	assert_true(d->present);
	assert_int_equal(d->ndrhd, ACPI_MAX_IOMMUS);
	assert_int_equal(d->drhd[ACPI_MAX_IOMMUS - 1].base, 0xfed07000);
	assert_int_equal(d->drhd[0].nscopes, ACPI_MAX_SCOPES);
	assert_int_equal(d->drhd[0].scopes[ACPI_MAX_SCOPES - 1].path[0].dev, 3);
	assert_int_equal(d->drhd[0].scopes[ACPI_MAX_SCOPES - 1].path[0].fn, 7);
	assert_int_equal(d->nrmrr, ACPI_MAX_RESV);
	assert_true(test_log_has("hv: acpi: DMAR: more than 8 DRHDs, ignoring the rest (from 0xfed08000)\n"));
	assert_true(test_log_has("hv: acpi: DMAR: DRHD has more than 32 device scopes, ignoring the rest\n"));
	assert_true(test_log_has("hv: acpi: DMAR: more than 16 RMRRs, ignoring the rest (from 0x1100000)\n"));
	assert_false(test_log_has("table ignored"));
}

/* ---- IVRS ------------------------------------------------------------ */

static void ivrs_header(uint32_t iv_info)
{
	tb_init("IVRS");
	u32(iv_info);
	u64(0);
}

static size_t ivhd_begin(uint8_t type, uint8_t flags, uint16_t devid, uint64_t base,
			 uint64_t efr)
{
	size_t at = tb.len;

	u8(type);
	u8(flags);
	u16(0);
	u16(devid);
	u16(0x40);
	u64(base);
	u16(0);
	u16(0);
	u32(type == 0x10 ? 0x44 : 0);
	if (type != 0x10) {
		u64(efr);
		u64(0);
	}
	return at;
}

static void ive4(uint8_t type, uint16_t devid, uint8_t setting)
{
	u8(type);
	u16(devid);
	u8(setting);
}

static void ive8(uint8_t type, uint16_t devid, uint8_t setting, uint8_t b4, uint16_t w5, uint8_t b7)
{
	ive4(type, devid, setting);
	u8(b4);
	u16(w5);
	u8(b7);
}

static void ivmd(uint8_t type, uint8_t flags, uint16_t devid, uint16_t aux, uint64_t start,
		 uint64_t size)
{
	u8(type);
	u8(flags);
	u16(32);
	u16(devid);
	u16(aux);
	u16(0);
	zeros(6);
	u64(start);
	u64(size);
}

static void assert_range(const struct acpi_ivhd_range *r, uint16_t first, uint16_t last,
			 uint8_t setting)
{
	assert_int_equal(r->first, first);
	assert_int_equal(r->last, last);
	assert_int_equal(r->setting, setting);
}

static void test_ivrs_qemu(void **state)
{
	static const uint16_t devids[] = { 0x0000, 0x0008, 0x0028, 0x00f8, 0x00fa, 0x00fb };
	const struct acpi_ivhd *h;

	(void)state;
	load_fixture("q35-amd-iommu");
	assert_int_equal(acpi_parse(region_by_sig("RSDP")->data, region_by_sig("RSDP")->len,
				    fixture_map, &info), 0);
	assert_true(info.ivrs.present);
	assert_false(info.dmar.present);
	assert_int_equal(info.ivrs.iv_info, 0x2801);
	/* types 0x10 and 0x11 describe the one IOMMU: 0x11 is kept */
	assert_int_equal(info.ivrs.nivhd, 1);
	assert_int_equal(info.ivrs.nivmd, 0);
	h = &info.ivrs.ivhd[0];
	assert_int_equal(h->type, 0x11);
	assert_int_equal(h->flags, 0x11);
	assert_int_equal(h->devid, 0x0008);	/* 00:01.0, the amd-iommu function */
	assert_int_equal(h->cap_offset, 0x40);
	assert_int_equal(h->base, 0xfed80000);
	assert_int_equal(h->segment, 0);
	assert_int_equal(h->efr, 0x29d3);
	assert_int_equal(h->nranges, 7);
	for (uint32_t i = 0; i < 6; i++) {
		assert_range(&h->ranges[i], devids[i], devids[i], 0);
		assert_false(h->ranges[i].has_alias);
		assert_int_equal(h->ranges[i].special, 0);
	}
	assert_range(&h->ranges[6], 0x00a0, 0x00a0, 0);
	assert_int_equal(h->ranges[6].special, ACPI_IVHD_IOAPIC);
	assert_int_equal(h->ranges[6].handle, 0);
	assert_true(test_log_has("hv: acpi: IVRS: 1 IOMMU(s), 0 IVMD(s), IVinfo 0x2801\n"));
	assert_false(test_log_has("table ignored"));
}

/* The fixture with its type 0x11 block turned into an unknown type: the
 * type 0x10 block is what is left. */
static void test_ivrs_qemu_type10_only(void **state)
{
	struct region *r;

	(void)state;
	load_fixture("q35-amd-iommu");
	r = region_by_sig("IVRS");
	assert_int_equal(r->data[0x68], 0x11);
	r->data[0x68] = 0x12;
	fix_sum(r->data, r->len, 9);
	assert_int_equal(acpi_parse(region_by_sig("RSDP")->data, region_by_sig("RSDP")->len,
				    fixture_map, &info), 0);
	assert_true(info.ivrs.present);
	assert_int_equal(info.ivrs.nivhd, 1);
	assert_int_equal(info.ivrs.ivhd[0].type, 0x10);
	assert_int_equal(info.ivrs.ivhd[0].flags, 0xd1);
	assert_int_equal(info.ivrs.ivhd[0].feature, 0x44);
	assert_int_equal(info.ivrs.ivhd[0].efr, 0);
	assert_int_equal(info.ivrs.ivhd[0].nranges, 7);
}

static void test_ivrs_full(void **state)
{
	const struct acpi_ivrs *v = &info.ivrs;
	const struct acpi_ivhd *h;
	size_t at;

	(void)state;
	ivrs_header(0x00203041);
	/* IOMMU A, type 0x40 first, then 0x10 and 0x11 that lose to it */
	at = ivhd_begin(0x40, 0xb0, 0x0002, 0xfd200000, 0x1234);
	ive4(0x00, 0, 0);			/* padding */
	ive4(0x01, 0, 0xd7);			/* all */
	ive4(0x03, 0x0100, 0x01);		/* range 01:00.0-01:1f.7 */
	ive4(0x00, 0, 0);
	ive4(0x04, 0x01ff, 0);
	ive8(0x42, 0x0300, 0x02, 0, 0x0208, 0);	/* alias select */
	ive8(0x43, 0x0400, 0x03, 0, 0x0210, 0);	/* alias range */
	ive4(0x04, 0x04ff, 0);
	ive8(0x46, 0x0500, 0x04, 0, 0, 0x80);	/* extended select */
	ive8(0x47, 0x0600, 0x05, 0, 0, 0);	/* extended range */
	ive4(0x04, 0x0610, 0);
	ive8(0x48, 0, 0xd7, 0x21, 0x00a0, 1);	/* IOAPIC 0x21 as 00:14.0 */
	ive8(0x48, 0, 0, 0x00, 0x00a2, 2);	/* HPET 0 as 00:14.2 */
	ive8(0x48, 0, 0, 0x00, 0x00a3, 9);	/* unknown variety: skipped */
	/* ACPI_HID device with a 5-byte UID: skipped by its length */
	u8(0xf0); u16(0x00a5); u8(0); tb_put("AMDI0020", 8); zeros(8); u8(2); u8(5);
	tb_put("\\_SB_", 5);
	ive8(0x44, 0, 0, 0, 0, 0);		/* 8-byte type without meaning */
	ive4(0x05, 0, 0);			/* 4-byte type without meaning */
	ive4(0x02, 0x0700, 0);			/* select, after all that */
	struct_end(at);
	at = ivhd_begin(0x10, 0, 0x0002, 0xfd200000, 0);
	ive4(0x01, 0, 0);
	struct_end(at);
	at = ivhd_begin(0x11, 0, 0x0002, 0xfd200000, 0x99);
	ive4(0x01, 0, 0);
	struct_end(at);
	/* IOMMU B, type 0x10 only */
	at = ivhd_begin(0x10, 0, 0x4002, 0xfd300000, 0);
	ive4(0x02, 0x4100, 0);
	struct_end(at);
	/* a block type from the future */
	u8(0x30); u8(0); u16(8); u32(0);
	ivmd(0x20, ACPI_IVMD_UNITY | ACPI_IVMD_IR | ACPI_IVMD_IW, 0, 0, 0x7f000000, 0x100000);
	ivmd(0x21, ACPI_IVMD_EXCL, 0x0028, 0, 0x80000000, 0x2000);
	ivmd(0x22, ACPI_IVMD_UNITY, 0x0100, 0x01ff, 0x81000800, 0x1000);	/* unaligned */

	assert_int_equal(parse_tb(), 0);
	assert_true(v->present);
	assert_int_equal(v->iv_info, 0x00203041);
	assert_int_equal(v->nivhd, 2);
	h = &v->ivhd[0];
	assert_int_equal(h->type, 0x40);
	assert_int_equal(h->flags, 0xb0);
	assert_int_equal(h->devid, 2);
	assert_int_equal(h->base, 0xfd200000);
	assert_int_equal(h->efr, 0x1234);
	assert_int_equal(h->nranges, 9);
	assert_range(&h->ranges[0], 0, 0xffff, 0xd7);
	assert_range(&h->ranges[1], 0x0100, 0x01ff, 0x01);
	assert_false(h->ranges[1].has_alias);
	assert_range(&h->ranges[2], 0x0300, 0x0300, 0x02);
	assert_true(h->ranges[2].has_alias);
	assert_int_equal(h->ranges[2].alias, 0x0208);
	assert_range(&h->ranges[3], 0x0400, 0x04ff, 0x03);
	assert_true(h->ranges[3].has_alias);
	assert_int_equal(h->ranges[3].alias, 0x0210);
	assert_range(&h->ranges[4], 0x0500, 0x0500, 0x04);
	assert_range(&h->ranges[5], 0x0600, 0x0610, 0x05);
	assert_range(&h->ranges[6], 0x00a0, 0x00a0, 0xd7);
	assert_int_equal(h->ranges[6].special, ACPI_IVHD_IOAPIC);
	assert_int_equal(h->ranges[6].handle, 0x21);
	assert_range(&h->ranges[7], 0x00a2, 0x00a2, 0);
	assert_int_equal(h->ranges[7].special, ACPI_IVHD_HPET);
	assert_range(&h->ranges[8], 0x0700, 0x0700, 0);
	assert_int_equal(v->ivhd[1].type, 0x10);
	assert_int_equal(v->ivhd[1].devid, 0x4002);
	assert_int_equal(v->ivhd[1].nranges, 1);
	assert_int_equal(v->nivmd, 3);
	assert_int_equal(v->ivmd[0].type, 0x20);
	assert_int_equal(v->ivmd[0].flags, 7);
	assert_int_equal(v->ivmd[0].first, 0);
	assert_int_equal(v->ivmd[0].last, 0xffff);
	assert_int_equal(v->ivmd[0].base, 0x7f000000);
	assert_int_equal(v->ivmd[0].end, 0x7f100000);
	assert_int_equal(v->ivmd[1].first, 0x0028);
	assert_int_equal(v->ivmd[1].last, 0x0028);
	assert_int_equal(v->ivmd[1].flags, ACPI_IVMD_EXCL);
	assert_int_equal(v->ivmd[2].first, 0x0100);
	assert_int_equal(v->ivmd[2].last, 0x01ff);
	assert_int_equal(v->ivmd[2].base, 0x81000000);
	assert_int_equal(v->ivmd[2].end, 0x81002000);
	assert_true(test_log_has("hv: acpi: IVRS: IVMD 0x81000800 + 0x1000 not page aligned"));
	assert_true(test_log_has("hv: acpi: IVRS: 2 IOMMU(s), 3 IVMD(s), IVinfo 0x203041\n"));
	assert_false(test_log_has("table ignored"));
}

static void test_ivrs_bad(void **state)
{
	static const char *const msgs[] = {
		"table too short (44 bytes) at offset 0",
		"block has a bad length at offset 48",
		"block has a bad length at offset 48",
		"IVHD type 0x10 too short (20 bytes) at offset 48",
		"IVHD type 0x11 too short (24 bytes) at offset 48",
		"IVHD register base 0xfd201000 not 16 KiB aligned at offset 48",
		"IVHD register base 0x0 not 16 KiB aligned",
		"IVHD device entry type 0x2 cut off or of unknown length at offset 72",
		"IVHD device entry type 0x42 cut off or of unknown length at offset 72",
		"IVHD device entry type 0xf0 cut off or of unknown length at offset 72",
		"IVHD device entry type 0x80 cut off or of unknown length at offset 72",
		"device range end without a start at offset 72",
		"device range start without an end at offset 72",
		"device range start inside the range opened at offset 72",
		"device range 0x100-0xff runs backwards at offset 76",
		"IVMD too short (28 bytes) at offset 72",
		"IVMD range 0xfffffffffffff000 + 0x2000 is empty or wraps",
		"IVMD range 0x1000 + 0x0 is empty or wraps",
		"IVMD range end 0xffffffffffffffff at the top of the address space",
		"IVMD device range 0x200-0x100 runs backwards",
		"no IOMMU (IVHD type 0x10, 0x11 or 0x40), table ignored",
	};

	(void)state;
	for (size_t c = 0; c < sizeof(msgs) / sizeof(msgs[0]); c++) {
		size_t at = 48;

		teardown(NULL);
		setup(NULL);
		ivrs_header(0);
		switch (c) {
		case 0:
			tb.len = 44;
			break;
		case 1:		/* block runs past the table */
			at = ivhd_begin(0x10, 0, 2, 0xfd200000, 0);
			set16(at + 2, 40);
			break;
		case 2:		/* block length below its own header */
			ivhd_begin(0x10, 0, 2, 0xfd200000, 0);
			set16(at + 2, 2);
			break;
		case 3:
			ivhd_begin(0x10, 0, 2, 0xfd200000, 0);
			tb.len = at + 20;
			struct_end(at);
			break;
		case 4:
			ivhd_begin(0x11, 0, 2, 0xfd200000, 0);
			tb.len = at + 24;
			struct_end(at);
			break;
		case 5:
		case 6:
			ivhd_begin(0x10, 0, 2, c == 5 ? 0xfd201000 : 0, 0);
			struct_end(at);
			break;
		case 7:		/* a 4-byte entry with 2 bytes left */
			ivhd_begin(0x10, 0, 2, 0xfd200000, 0);
			u8(2); u8(0);
			struct_end(at);
			break;
		case 8:		/* an 8-byte entry with 4 bytes left */
			ivhd_begin(0x10, 0, 2, 0xfd200000, 0);
			ive4(0x42, 0x10, 0);
			struct_end(at);
			break;
		case 9:		/* ACPI_HID whose UID runs past the block */
			ivhd_begin(0x10, 0, 2, 0xfd200000, 0);
			u8(0xf0); u16(0); u8(0); zeros(16); u8(2); u8(9); zeros(4);
			struct_end(at);
			break;
		case 10:
			ivhd_begin(0x10, 0, 2, 0xfd200000, 0);
			ive4(0x80, 0, 0);
			struct_end(at);
			break;
		case 11:
			ivhd_begin(0x10, 0, 2, 0xfd200000, 0);
			ive4(0x04, 0x10, 0);
			struct_end(at);
			break;
		case 12:
			ivhd_begin(0x10, 0, 2, 0xfd200000, 0);
			ive4(0x03, 0x10, 0);
			ive4(0x02, 0x20, 0);
			struct_end(at);
			break;
		case 13:
			ivhd_begin(0x10, 0, 2, 0xfd200000, 0);
			ive4(0x03, 0x10, 0);
			ive8(0x47, 0x20, 0, 0, 0, 0);
			ive4(0x04, 0x30, 0);
			struct_end(at);
			break;
		case 14:
			ivhd_begin(0x10, 0, 2, 0xfd200000, 0);
			ive4(0x03, 0x100, 0);
			ive4(0x04, 0xff, 0);
			struct_end(at);
			break;
		default:	/* IVMDs after a good IVHD */
			ivhd_begin(0x10, 0, 2, 0xfd200000, 0);
			struct_end(at);
			if (c == 15) {
				ivmd(0x21, 1, 0x10, 0, 0x1000, 0x1000);
				set16(72 + 2, 28);
				tb.len -= 4;
			} else if (c == 16) {
				ivmd(0x20, 1, 0, 0, 0xfffffffffffff000ull, 0x2000);
			} else if (c == 17) {
				ivmd(0x20, 1, 0, 0, 0x1000, 0);
			} else if (c == 18) {
				ivmd(0x20, 1, 0, 0, 0xfffffffffffff000ull, 0x1000);
			} else if (c == 19) {
				ivmd(0x22, 1, 0x200, 0x100, 0x1000, 0x1000);
			} else {	/* IVMD only */
				tb.len = 48;
				ivmd(0x20, 1, 0, 0, 0x1000, 0x1000);
			}
			break;
		}
		assert_int_equal(parse_tb(), 0);
		assert_rejected("IVRS", msgs[c]);
		assert_false(info.ivrs.present);
		assert_int_equal(info.ivrs.nivhd, 0);
		assert_int_equal(info.ivrs.nivmd, 0);
	}
}

static void test_ivrs_too_many(void **state)
{
	const struct acpi_ivrs *v = &info.ivrs;
	size_t at;

	(void)state;
	ivrs_header(0);
	for (uint32_t i = 0; i < ACPI_MAX_IOMMUS + 1; i++) {
		at = ivhd_begin(0x11, 0, (uint16_t)(i << 8 | 2), 0xfd200000 + 0x4000 * i, 0);
		for (uint32_t e = 0; e < (i == 0 ? ACPI_MAX_SCOPES + 5 : 1); e++)
			ive4(0x02, (uint16_t)(0x100 + e), 0);
		struct_end(at);
	}
	for (uint32_t i = 0; i < ACPI_MAX_RESV + 2; i++)
		ivmd(0x21, 1, (uint16_t)i, 0, 0x100000 * (i + 1), 0x1000);
	assert_int_equal(parse_tb(), 0);
	assert_true(v->present);
	assert_int_equal(v->nivhd, ACPI_MAX_IOMMUS);
	assert_int_equal(v->ivhd[0].nranges, ACPI_MAX_SCOPES);
	assert_int_equal(v->ivhd[0].ranges[ACPI_MAX_SCOPES - 1].first, 0x100 + ACPI_MAX_SCOPES - 1);
	assert_int_equal(v->nivmd, ACPI_MAX_RESV);
	assert_int_equal(v->ivmd[ACPI_MAX_RESV - 1].first, ACPI_MAX_RESV - 1);
	assert_true(test_log_has("hv: acpi: IVRS: IVHD type 0x11 of IOMMU 0x2 has more than 32 device entries, ignoring the rest\n"));
	assert_true(test_log_has("hv: acpi: IVRS: more than 8 IOMMUs, ignoring the rest (from 0xfd220000)\n"));
	assert_true(test_log_has("hv: acpi: IVRS: more than 16 IVMDs, ignoring the rest (from 0x1100000)\n"));
	assert_false(test_log_has("table ignored"));
}

/* Both tables in one system (a test, not a real machine): each is read. */
static void test_dmar_and_ivrs_second_table_ignored(void **state)
{
	uint64_t first;

	(void)state;
	dmar_header(38, 0);
	struct_end(drhd_begin(ACPI_DRHD_INCLUDE_PCI_ALL, 0, 0xfed90000));
	first = place(tb.b, tb.len);
	(void)first;
	dmar_header(38, 0);
	struct_end(drhd_begin(ACPI_DRHD_INCLUDE_PCI_ALL, 0, 0xfed91000));
	{
		static uint8_t rsdt[48];
		uint8_t rsdp[20] = { 0 };
		uint64_t second = place(tb.b, tb.len);

		load_fixture("q35");
		memset(rsdt, 0, sizeof(rsdt));
		memcpy(rsdt, "RSDT", 4);
		put32(rsdt + 36, (uint32_t)region_by_sig("APIC")->phys);
		put32(rsdt + 40, (uint32_t)first);
		put32(rsdt + 44, (uint32_t)second);
		memcpy(rsdp, "RSD PTR ", 8);
		put32(rsdp + 16, (uint32_t)place(rsdt, sizeof(rsdt)));
		fix_sum(rsdp, 20, 8);
		assert_int_equal(acpi_parse(rsdp, sizeof(rsdp), fixture_map, &info), 0);
	}
	assert_true(info.dmar.present);
	assert_int_equal(info.dmar.ndrhd, 1);
	assert_int_equal(info.dmar.drhd[0].base, 0xfed90000);
	assert_true(test_log_has("hv: acpi: second DMAR table at 0x10002000 ignored\n"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_dmar_qemu),
		T(test_dmar_full),
		T(test_dmar_scope_resolve),
		T(test_dmar_bad),
		T(test_dmar_no_drhd),
		T(test_dmar_bad_checksum),
		T(test_dmar_too_many),
		T(test_dmar_and_ivrs_second_table_ignored),
		T(test_ivrs_qemu),
		T(test_ivrs_qemu_type10_only),
		T(test_ivrs_full),
		T(test_ivrs_bad),
		T(test_ivrs_too_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
