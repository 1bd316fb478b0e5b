/*
 * Tests for vmm/acpi_guest.c, the ACPI tables a domain gets.
 *
 * Each case builds the tables into an exact-size heap buffer standing for
 * guest memory (filled with 0xa5 first, so ASan catches any write past it
 * and a byte left unwritten shows), then checks them three ways:
 *   - structurally, field by field, from the RSDP down;
 *   - by parsing them back with the hypervisor's own parser (acpi_parse
 *     in kernel/acpi.c), through a map callback over the buffer;
 *   - with ACPICA's iasl (package acpica-tools): each table is
 *     disassembled (`iasl -d`), which must exit 0 and say nothing about
 *     errors, warnings, bad checksums or invalid fields; the disassembly
 *     is compiled again and must give back the same bytes (but for the
 *     creator ID and revision, which the compiler stamps with its own,
 *     and so the checksum). iasl 20200925 does not disassemble an RSDP
 *     from a file, so the RSDP is written out as a data-table source and
 *     compiled: iasl computes both checksums, and the result must equal
 *     the built RSDP byte for byte. And the DSDT's AML, assembled by
 *     hand in acpi_guest.c, must be what iasl makes of the ASL it stands
 *     for (dsdt_asl below). test_iasl_check_catches_breakage shows these
 *     criteria failing on broken tables.
 *
 * iasl comes from $IASL, else the PATH. Run from anywhere: the temporary
 * files go to a fresh directory under $TMPDIR (default /tmp).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "kernel/acpi.h"
#include "tests/unit/host_stubs.h"
#include "vmm/acpi_guest.h"

#define FILL 0xa5

/* ---- guest memory ---------------------------------------------------- */

static uint8_t *mem;		/* mem_size bytes at guest-physical mem_gpa */
static uint64_t mem_gpa;
static size_t mem_size;
static struct acpi_info info;	/* ~5 KiB: keep it off the stack */
/* The PCI description the tables at hand are built with (NULL: none). */
static const struct acpi_guest_pci *cur_pci;

static const void *guest_map(uint64_t phys, size_t len)
{
	if (phys >= mem_gpa && len <= mem_size && phys - mem_gpa <= mem_size - len)
		return mem + (phys - mem_gpa);
	return NULL;
}

static void mem_alloc(uint64_t gpa, size_t size)
{
	free(mem);
	mem = malloc(size ? size : 1);
	assert_non_null(mem);
	memset(mem, FILL, size);
	mem_gpa = gpa;
	mem_size = size;
}

static int setup(void **state)
{
	(void)state;
	mem = NULL;
	cur_pci = NULL;
	memset(&info, 0xa5, sizeof(info));
	test_log_clear();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(mem);
	mem = NULL;
	return 0;
}

static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static uint8_t sum8(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* A pointer to len bytes at phys, which must lie inside the buffer. */
static const uint8_t *at(uint64_t phys, size_t len)
{
	const uint8_t *p = guest_map(phys, len);

	if (!p)
		fail_msg("0x%llx+%zu is outside the table area 0x%llx+%zu",
			 (unsigned long long)phys, len, (unsigned long long)mem_gpa, mem_size);
	return p;
}

/* ---- the CPU lists --------------------------------------------------- */

#define MAX_TEST_CPUS 300
static struct acpi_guest_cpu cpus[MAX_TEST_CPUS];

/* APIC IDs first, first + step, ... */
static void cpus_seq(uint32_t n, uint32_t first, uint32_t step)
{
	for (uint32_t i = 0; i < n; i++)
		cpus[i].apic_id = first + i * step;
}

/* ---- finding and checking the tables --------------------------------- */

struct tables {
	uint64_t rsdp, xsdt, fadt, madt, dsdt, facs, mcfg;	/* guest-physical */
	uint32_t xsdt_len, fadt_len, madt_len, dsdt_len, mcfg_len;
	uint64_t end;		/* the highest byte used, + 1 */
};

/* A table with a standard header at phys: its Length, after checking
 * signature, bounds and checksum. */
static uint32_t check_sdt(uint64_t phys, const char *sig, uint8_t revision)
{
	const uint8_t *h = at(phys, 36);
	uint32_t len = get32(h + 4);
	const uint8_t *t;

	if (memcmp(h, sig, 4) != 0)
		fail_msg("table at 0x%llx is \"%.4s\", expected %s",
			 (unsigned long long)phys, (const char *)h, sig);
	assert_true(len >= 36);
	t = at(phys, len);
	if (sum8(t, len) != 0)
		fail_msg("%s checksum: sum is 0x%02x", sig, sum8(t, len));
	assert_int_equal(t[8], revision);
	assert_memory_equal(t + 10, "HVSTAT", 6);
	assert_memory_equal(t + 16, "HVDOMAIN", 8);
	assert_int_equal(get32(t + 24), 1);
	assert_memory_equal(t + 28, "HVST", 4);
	assert_int_equal(get32(t + 32), 1);
	return len;
}

static uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* Walk RSDP -> XSDT -> FADT, MADT -> DSDT, FACS, checking the headers
 * and every checksum. */
static struct tables find_tables(uint64_t rsdp)
{
	struct tables t = { .rsdp = rsdp };
	const uint8_t *r = at(rsdp, 36), *x, *f, *facs;

	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(sum8(r, 20), 0);
	assert_int_equal(sum8(r, 36), 0);
	assert_memory_equal(r + 9, "HVSTAT", 6);
	assert_int_equal(r[15], 2);			/* revision */
	assert_int_equal(get32(r + 16), 0);		/* no RSDT */
	assert_int_equal(get32(r + 20), 36);		/* length */
	assert_int_equal(r[33] | r[34] | r[35], 0);	/* reserved */
	assert_int_equal(rsdp % 16, 0);			/* findable by a scan */

	t.xsdt = get64(r + 24);
	t.xsdt_len = check_sdt(t.xsdt, "XSDT", 1);
	/* FACP, APIC, and with PCI the MCFG */
	assert_int_equal(t.xsdt_len, 36 + (cur_pci ? 3 : 2) * 8);
	x = at(t.xsdt, t.xsdt_len);
	t.fadt = get64(x + 36);
	t.madt = get64(x + 44);
	if (cur_pci) {
		t.mcfg = get64(x + 52);
		t.mcfg_len = check_sdt(t.mcfg, "MCFG", 1);
		assert_int_equal(t.mcfg_len, 60);
	}

	t.fadt_len = check_sdt(t.fadt, "FACP", 6);
	assert_int_equal(t.fadt_len, 276);
	f = at(t.fadt, t.fadt_len);
	assert_int_equal(get32(f + 36), 0);	/* FIRMWARE_CTRL: X_ only */
	t.facs = get64(f + 132);
	t.dsdt = get64(f + 140);
	assert_int_equal(get32(f + 40), t.dsdt <= UINT32_MAX ? t.dsdt : 0);

	t.madt_len = check_sdt(t.madt, "APIC", 5);
	t.dsdt_len = check_sdt(t.dsdt, "DSDT", 2);

	facs = at(t.facs, 64);
	assert_memory_equal(facs, "FACS", 4);
	assert_int_equal(get32(facs + 4), 64);
	assert_int_equal(facs[32], 2);		/* version */
	for (size_t i = 8; i < 64; i++)
		if (i != 32)
			assert_int_equal(facs[i], 0);
	assert_int_equal(t.facs % 64, 0);

	t.end = max64(t.rsdp + 36, t.facs + 64);
	t.end = max64(t.end, t.xsdt + t.xsdt_len);
	t.end = max64(t.end, t.fadt + t.fadt_len);
	t.end = max64(t.end, t.madt + t.madt_len);
	t.end = max64(t.end, t.dsdt + t.dsdt_len);
	if (cur_pci)
		t.end = max64(t.end, t.mcfg + t.mcfg_len);
	return t;
}

/* The structures, as (start, length) pairs. */
#define NSTRUCTS 7
static void structs(const struct tables *t, uint64_t start[NSTRUCTS], uint64_t len[NSTRUCTS])
{
	const uint64_t s[NSTRUCTS] = { t->rsdp, t->facs, t->xsdt, t->fadt, t->madt, t->dsdt,
				       t->mcfg };
	const uint64_t l[NSTRUCTS] = { 36, 64, t->xsdt_len, t->fadt_len, t->madt_len,
				       t->dsdt_len, t->mcfg_len };

	memcpy(start, s, sizeof(s));
	memcpy(len, l, sizeof(l));
}

/* No two structures overlap; the bytes between them are 0. */
static void check_layout(const struct tables *t)
{
	uint64_t start[NSTRUCTS], len[NSTRUCTS];

	structs(t, start, len);
	for (size_t i = 0; i < NSTRUCTS; i++)
		for (size_t j = i + 1; j < NSTRUCTS; j++)
			if (len[i] && len[j] &&
			    start[i] < start[j] + len[j] && start[j] < start[i] + len[i])
				fail_msg("structures %zu and %zu overlap", i, j);
	for (uint64_t a = mem_gpa; a < t->end; a++) {
		bool inside = false;

		for (size_t i = 0; i < NSTRUCTS; i++)
			inside |= a >= start[i] && a < start[i] + len[i];
		if (!inside && mem[a - mem_gpa] != 0)
			fail_msg("padding byte at 0x%llx is 0x%02x", (unsigned long long)a,
				 mem[a - mem_gpa]);
	}
}

/* A GAS in system I/O space at port, `bytes` wide (0: the null GAS). */
static void check_gas(const uint8_t *g, uint16_t port, uint8_t bytes, uint8_t access)
{
	assert_int_equal(g[0], port ? 1 : 0);
	assert_int_equal(g[1], bytes * 8);
	assert_int_equal(g[2], 0);
	assert_int_equal(g[3], access);
	assert_int_equal(get64(g + 4), port);
}

static void check_fadt(const struct tables *t)
{
	const uint8_t *f = at(t->fadt, t->fadt_len);

	assert_int_equal(f[44], 0);			/* reserved (INT_MODEL) */
	assert_int_equal(f[45], 0);			/* PM profile: unspecified */
	assert_int_equal(get16(f + 46), 9);		/* SCI_INT */
	assert_int_equal(get32(f + 48), 0);		/* SMI_CMD: none */
	assert_int_equal(get32(f + 52), 0);		/* ACPI_ENABLE... PSTATE_CNT */
	assert_int_equal(get32(f + 56), 0x600);		/* PM1a_EVT_BLK */
	assert_int_equal(get32(f + 60), 0);		/* PM1b_EVT_BLK */
	assert_int_equal(get32(f + 64), 0x604);		/* PM1a_CNT_BLK */
	assert_int_equal(get32(f + 68), 0);
	assert_int_equal(get32(f + 72), 0);		/* PM2_CNT_BLK */
	assert_int_equal(get32(f + 76), 0x608);		/* PM_TMR_BLK */
	assert_int_equal(get32(f + 80), 0);		/* GPE0_BLK */
	assert_int_equal(get32(f + 84), 0);		/* GPE1_BLK */
	assert_int_equal(f[88], 4);			/* PM1_EVT_LEN */
	assert_int_equal(f[89], 2);			/* PM1_CNT_LEN */
	assert_int_equal(f[90], 0);			/* PM2_CNT_LEN */
	assert_int_equal(f[91], 4);			/* PM_TMR_LEN */
	assert_int_equal(get32(f + 92), 0);		/* GPE lens, base, CST_CNT */
	assert_true(get16(f + 96) > 100);		/* no C2 */
	assert_true(get16(f + 98) > 1000);		/* no C3 */
	assert_int_equal(get16(f + 109), 0x0005);	/* LEGACY_DEVICES, no 8042, no VGA */
	/* WBINVD, PROC_C1, SLP_BUTTON, RESET_REG_SUP; not HW_REDUCED */
	assert_int_equal(get32(f + 112), 0x00000425);
	check_gas(f + 116, 0xcf9, 1, 1);		/* RESET_REG */
	assert_int_equal(f[128], 0x06);			/* RESET_VALUE */
	assert_int_equal(get16(f + 129), 0);		/* ARM_BOOT_ARCH */
	assert_int_equal(f[131], 5);			/* minor version */
	check_gas(f + 148, 0x600, 4, 0);		/* X_PM1a_EVT_BLK */
	check_gas(f + 160, 0, 0, 0);
	check_gas(f + 172, 0x604, 2, 0);		/* X_PM1a_CNT_BLK */
	check_gas(f + 184, 0, 0, 0);
	check_gas(f + 196, 0, 0, 0);
	check_gas(f + 208, 0x608, 4, 0);		/* X_PM_TMR_BLK */
	for (size_t off = 220; off < 268; off++)	/* GPEs, SLEEP_* regs */
		assert_int_equal(f[off], 0);
	assert_memory_equal(f + 268, "HVSTAT\0\0", 8);
}

/* The MADT, entry by entry, for cpus[0..n). */
static void check_madt(const struct tables *t, uint32_t n)
{
	const uint8_t *m = at(t->madt, t->madt_len), *e;
	uint32_t off = 44;
	bool any_x2 = false;

	assert_int_equal(get32(m + 36), 0xfee00000);
	assert_int_equal(get32(m + 40), 1);		/* PCAT_COMPAT */
	for (uint32_t i = 0; i < n; i++) {
		e = m + off;
		assert_true(off + 2 <= t->madt_len);
		if (cpus[i].apic_id < 255) {
			assert_int_equal(e[0], 0);
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], i);	/* UID */
			assert_int_equal(e[3], cpus[i].apic_id);
			assert_int_equal(get32(e + 4), 1);	/* Enabled */
		} else {
			assert_int_equal(e[0], 9);
			assert_int_equal(e[1], 16);
			assert_int_equal(get16(e + 2), 0);
			assert_int_equal(get32(e + 4), cpus[i].apic_id);
			assert_int_equal(get32(e + 8), 1);
			assert_int_equal(get32(e + 12), i);
			any_x2 = true;
		}
		off += e[1];
	}
	static const uint8_t tail[] = {
		1, 12, 0, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0,	/* IOAPIC 0 */
		2, 10, 0, 0, 2, 0, 0, 0, 0x00, 0x00,	/* IRQ 0 -> GSI 2 */
		2, 10, 0, 9, 9, 0, 0, 0, 0x0d, 0x00,	/* SCI: level, high */
		4, 6, 0xff, 0x00, 0x00, 1,		/* NMI on LINT1, all */
	};
	static const uint8_t x2nmi[] = {
		10, 12, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0,
	};
	assert_true(off + sizeof(tail) <= t->madt_len);
	assert_memory_equal(m + off, tail, sizeof(tail));
	off += sizeof(tail);
	if (any_x2) {
		assert_true(off + sizeof(x2nmi) <= t->madt_len);
		assert_memory_equal(m + off, x2nmi, sizeof(x2nmi));
		off += sizeof(x2nmi);
	}
	assert_int_equal(off, t->madt_len);
}

/* What the hypervisor's own parser makes of them. */
static void check_parsed(const struct tables *t, uint32_t n)
{
	uint32_t listed = n < ACPI_MAX_CPUS ? n : ACPI_MAX_CPUS;
	struct acpi_io_write w[2];
	char line[512];

	test_log_clear();
	assert_int_equal(acpi_parse(at(t->rsdp, 36), 36, guest_map, &info), 0);
	assert_int_equal(info.revision, 2);
	assert_string_equal(info.oem_id, "HVSTAT");
	assert_true(info.has_madt);
	assert_int_equal(info.lapic_addr, 0xfee00000);
	assert_true(info.pcat_compat);
	assert_int_equal(info.ncpus, listed);
	assert_int_equal(info.ncpus_enabled, listed);
	for (uint32_t i = 0; i < listed; i++) {
		assert_int_equal(info.cpus[i].apic_id, cpus[i].apic_id);
		assert_int_equal(info.cpus[i].uid, i);
		assert_int_equal(info.cpus[i].x2apic, cpus[i].apic_id >= 255);
		assert_true(info.cpus[i].enabled);
		assert_false(info.cpus[i].online_capable);
	}
	assert_int_equal(info.nioapics, 1);
	assert_int_equal(info.ioapics[0].id, 0);
	assert_int_equal(info.ioapics[0].addr, 0xfec00000);
	assert_int_equal(info.ioapics[0].gsi_base, 0);
	if (cur_pci) {
		assert_int_equal(info.nmcfg, 1);
		assert_int_equal(info.mcfg[0].base, cur_pci->ecam_base);
		assert_int_equal(info.mcfg[0].segment, cur_pci->segment);
		assert_int_equal(info.mcfg[0].bus_start, cur_pci->bus_start);
		assert_int_equal(info.mcfg[0].bus_end, cur_pci->bus_end);
	} else {
		assert_int_equal(info.nmcfg, 0);
	}
	assert_false(info.has_spcr);

	assert_true(info.pm.has_fadt);
	assert_false(info.pm.hw_reduced);
	assert_int_equal(info.pm.pm1a_cnt, 0x604);
	assert_int_equal(info.pm.pm1b_cnt, 0);
	assert_true(info.pm.s5_valid);
	assert_int_equal(info.pm.s5_typ_a, 5);
	assert_int_equal(info.pm.s5_typ_b, 5);
	assert_true(info.pm.reset_valid);
	assert_int_equal(info.pm.reset_space, ACPI_GAS_IO);
	assert_int_equal(info.pm.reset_addr, 0xcf9);
	assert_int_equal(info.pm.reset_value, 0x06);
	assert_int_equal(acpi_s5_sequence(&info, w), 1);
	assert_int_equal(w[0].port, 0x604);
	assert_int_equal(w[0].value, 5u << 10 | 1u << 13);	/* SLP_TYP 5 | SLP_EN */

	/* Nothing but the debug lines and the summary (and the parser's own
	 * limit): no complaint. The FADT comes first in the XSDT. */
	snprintf(line, sizeof(line),
		 "hv: acpi: FADT: PM1a_CNT 0x604, PM1b_CNT 0x0, \\_S5 SLP_TYP 5/5\n"
		 "hv: acpi: FADT: reset register I/O 0xcf9, value 0x6\n"
		 "%s"
		 "hv: acpi: RSDP rev 2, OEM \"HVSTAT\", XSDT: %u CPUs enabled (%u listed), "
		 "1 IOAPIC(s), %u MCFG window(s), no SPCR\n",
		 n > ACPI_MAX_CPUS ? "hv: acpi: MADT lists more than 256 CPUs, ignoring the rest\n" : "",
		 listed, listed, cur_pci ? 1u : 0u);
	assert_string_equal(test_log(), line);
}

/* ---- iasl ------------------------------------------------------------ */

static const char *iasl(void)
{
	const char *p = getenv("IASL");
	return p && *p ? p : "iasl";
}

static void require_iasl(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "command -v '%s' >/dev/null 2>&1", iasl());
	if (system(cmd) != 0)
		fail_msg("iasl not found: install acpica-tools (apt-get install acpica-tools) "
			 "or set IASL");
}

/* A fresh temporary directory (mkdtemp); the caller removes it. */
static void make_tmpdir(char *dir, size_t len)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, len, "%s/acpi_guest.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		fail_msg("mkdtemp %s failed", dir);
}

static void remove_tmpdir(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void write_file(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Run `iasl ARGS` in dir, output to dir/log; its exit status (-1: did not
 * run or died). */
static int run_iasl(const char *dir, const char *args, const char *log)
{
	char cmd[1024];
	int rc;

	snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' %s > '%s' 2>&1", dir, iasl(), args, log);
	rc = system(cmd);
	return rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* dir/name as a malloc'd NUL-terminated string (NULL: no such file). */
static char *slurp(const char *dir, const char *name, size_t *len)
{
	char path[600];
	FILE *f;
	char *p;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	p[n] = '\0';
	if (len)
		*len = (size_t)n;
	return p;
}

/* The first line of text holding one of the words that mean trouble
 * (any case), or NULL. */
static const char *bad_line(const char *text, char *out, size_t outlen)
{
	static const char *const words[] = {
		"error", "warning", "incorrect", "invalid", "unknown", "mismatch",
	};

	for (const char *l = text; *l; ) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);

		for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
			size_t wl = strlen(words[w]);
			for (size_t i = 0; i + wl <= n; i++)
				if (strncasecmp(l + i, words[w], wl) == 0) {
					snprintf(out, outlen, "%.*s", (int)n, l);
					return out;
				}
		}
		l += n + (nl ? 1 : 0);
	}
	return NULL;
}

/* Does a file's text hold trouble? Say so in why. */
static int text_bad(const char *dir, const char *name, char *why, size_t whylen)
{
	char line[256];
	char *text = slurp(dir, name, NULL);
	int bad;

	if (!text) {
		snprintf(why, whylen, "iasl wrote no %s", name);
		return 1;
	}
	bad = bad_line(text, line, sizeof(line)) != NULL;
	if (bad)
		snprintf(why, whylen, "%s: %s", name, line);
	free(text);
	return bad;
}

/* Compile dir/src with iasl (output in dir/log): 0 when that went
 * cleanly, else 1 with the reason in why. */
static int compile_bad(const char *dir, const char *src, const char *log,
		       char *why, size_t whylen)
{
	int rc = run_iasl(dir, src, log);
	char *text;

	if (rc != 0) {
		snprintf(why, whylen, "iasl %s: exit status %d", src, rc);
		return 1;
	}
	text = slurp(dir, log, NULL);
	assert_non_null(text);
	rc = strstr(text, "Compilation successful. 0 Errors, 0 Warnings, 0 Remarks") == NULL;
	if (rc) {
		const char *sum = strstr(text, "Compilation");
		snprintf(why, whylen, "iasl %s: %.*s", src,
			 sum ? (int)strcspn(sum, "\n") : 28, sum ? sum : "no compilation summary");
	}
	free(text);
	return rc;
}

/* Do two versions of a table (a: what iasl made) differ, but for the
 * checksum and the creator ID and revision (offsets 9 and 28-35), which
 * the compiler sets itself? Say where in why. */
static int differs(const char *sig, const char *a_is, const uint8_t *a, size_t a_len,
		   const char *b_is, const uint8_t *b, size_t b_len, char *why, size_t whylen)
{
	if (a_len != b_len) {
		snprintf(why, whylen, "%s: %zu bytes %s, %zu %s", sig, a_len, a_is, b_len, b_is);
		return 1;
	}
	for (size_t i = 0; i < a_len; i++)
		if (i != 9 && (i < 28 || i >= 36) && a[i] != b[i]) {
			snprintf(why, whylen, "%s: byte %zu is 0x%02x %s, 0x%02x %s",
				 sig, i, a[i], a_is, b[i], b_is);
			return 1;
		}
	return 0;
}

/*
 * iasl's verdict on one table (sig: its file name): 0, or 1 with the
 * reason in why. Disassemble; no trouble words; compile the disassembly
 * back; the same bytes, but for the checksum and the creator ID and
 * revision (offsets 9 and 28-35), which the compiler sets itself.
 */
static int iasl_table(const char *dir, const char *sig, const uint8_t *t, size_t len,
		      char *why, size_t whylen)
{
	char name[64], args[128];
	uint8_t *back;
	size_t back_len;
	int rc;

	snprintf(name, sizeof(name), "%s/%s.dat", dir, sig);
	write_file(name, t, len);
	snprintf(args, sizeof(args), "-d %s.dat", sig);
	snprintf(name, sizeof(name), "%s.dis.log", sig);
	rc = run_iasl(dir, args, name);
	if (rc != 0) {
		snprintf(why, whylen, "iasl -d %s.dat: exit status %d", sig, rc);
		return 1;
	}
	if (text_bad(dir, name, why, whylen))
		return 1;
	snprintf(name, sizeof(name), "%s.dsl", sig);
	if (text_bad(dir, name, why, whylen))
		return 1;

	snprintf(args, sizeof(args), "%s.dsl", sig);
	snprintf(name, sizeof(name), "%s.asl.log", sig);
	if (compile_bad(dir, args, name, why, whylen))
		return 1;
	snprintf(name, sizeof(name), "%s.aml", sig);
	back = (uint8_t *)slurp(dir, name, &back_len);
	if (!back) {
		snprintf(why, whylen, "iasl %s.dsl wrote no %s", sig, name);
		return 1;
	}
	rc = differs(sig, "after the round trip", back, back_len, "before", t, len, why, whylen);
	free(back);
	return rc;
}

/* The RSDP (36 bytes): as an iasl data-table source, checksums 0, the
 * rest from r; iasl computes the checksums. Equal bytes: 0. */
static int iasl_rsdp(const char *dir, const uint8_t *r, char *why, size_t whylen)
{
	char src[1024], path[600];
	uint8_t *back;
	size_t back_len;
	int rc, n;

	n = snprintf(src, sizeof(src),
		     "[0008] Signature : \"%.8s\"\n"
		     "[0001] Checksum : 00\n"
		     "[0006] Oem ID : \"%.6s\"\n"
		     "[0001] Revision : %02X\n"
		     "[0004] RSDT Address : %08X\n"
		     "[0004] Length : %08X\n"
		     "[0008] XSDT Address : %016llX\n"
		     "[0001] Extended Checksum : 00\n"
		     "[0003] Reserved : %02X%02X%02X\n",
		     (const char *)r, (const char *)r + 9, r[15], get32(r + 16), get32(r + 20),
		     (unsigned long long)get64(r + 24), r[35], r[34], r[33]);
	snprintf(path, sizeof(path), "%s/RSDP.asl", dir);
	write_file(path, src, (size_t)n);
	if (compile_bad(dir, "RSDP.asl", "RSDP.asl.log", why, whylen))
		return 1;
	back = (uint8_t *)slurp(dir, "RSDP.aml", &back_len);
	if (!back) {
		snprintf(why, whylen, "iasl RSDP.asl wrote no RSDP.aml");
		return 1;
	}
	rc = back_len != 36 || memcmp(back, r, 36) != 0;
	if (rc)
		snprintf(why, whylen, "RSDP: iasl makes it %zu bytes, checksums 0x%02x/0x%02x; "
			 "built: 0x%02x/0x%02x", back_len, back[8], back_len > 32 ? back[32] : 0,
			 r[8], r[32]);
	free(back);
	return rc;
}

/* The DSDT as ASL: what the AML acpi_guest.c writes says it is, for
 * cur_pci. iasl compiles it; the AML must be the same. */
static const char dsdt_asl_head[] =
	"DefinitionBlock (\"\", \"DSDT\", 2, \"HVSTAT\", \"HVDOMAIN\", 1)\n"
	"{\n"
	"    Name (_S5, Package (0x04) { 0x05, 0x05, Zero, Zero })\n"
	"    Scope (_SB)\n"
	"    {\n"
	"        Device (COM1)\n"
	"        {\n"
	"            Name (_HID, EisaId (\"PNP0501\"))\n"
	"            Name (_UID, One)\n"
	"            Name (_CRS, ResourceTemplate ()\n"
	"            {\n"
	"                IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08)\n"
	"                IRQNoFlags () {4}\n"
	"            })\n"
	"        }\n";

static const char dsdt_asl_osc[] =
	"            Method (_OSC, 4, NotSerialized)\n"
	"            {\n"
	"                CreateDWordField (Arg3, Zero, CDW1)\n"
	"                If ((Arg0 == ToUUID (\"33db4d5b-1ff7-401c-9657-7441c03dd766\")))\n"
	"                {\n"
	"                    CreateDWordField (Arg3, 0x08, CDW3)\n"
	"                    CDW3 = Zero\n"
	"                }\n"
	"                Else\n"
	"                {\n"
	"                    CDW1 |= 0x04\n"
	"                }\n"
	"                Return (Arg3)\n"
	"            }\n";

/* Append to a malloc'd string. */
static void cat(char **s, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	*s = realloc(*s, *len + (size_t)n + 1);
	assert_non_null(*s);
	va_start(ap, fmt);
	vsnprintf(*s + *len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	*len += (size_t)n;
}

static char *dsdt_asl(size_t *len)
{
	const struct acpi_guest_pci *p = cur_pci;
	char *s = NULL;

	*len = 0;
	cat(&s, len, "%s", dsdt_asl_head);
	if (p) {
		unsigned long long ecam = p->ecam_base + ((unsigned long long)p->bus_start << 20);
		unsigned long long esize = (unsigned long long)(p->bus_end - p->bus_start + 1) << 20;

		cat(&s, len,
		    "        Device (PCI0)\n        {\n"
		    "            Name (_HID, EisaId (\"PNP0A08\"))\n"
		    "            Name (_CID, EisaId (\"PNP0A03\"))\n"
		    "            Name (_UID, Zero)\n"
		    "            Name (_SEG, 0x%x)\n"
		    "            Name (_BBN, 0x%x)\n"
		    "            Name (_CRS, ResourceTemplate ()\n            {\n"
		    "                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, 0x%x, 0x%x, 0, 0x%x)\n"
		    "                IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)\n",
		    p->segment, p->bus_start, p->bus_start, p->bus_end,
		    p->bus_end - p->bus_start + 1);
		for (uint32_t i = 0; i < p->nwindows; i++) {
			unsigned long long b = p->windows[i].base, z = p->windows[i].size;
			const char *cache = p->windows[i].kind == ACPI_WIN_MEM_PREF ?
					    "Prefetchable" : "NonCacheable";

			if (p->windows[i].kind == ACPI_WIN_IO)
				cat(&s, len, "                %s (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0, 0x%llx, 0x%llx, 0, 0x%llx)\n",
				    z <= 0xffff ? "WordIO" : "DWordIO", b, b + z - 1, z);
			else
				cat(&s, len, "                %s (ResourceProducer, PosDecode, MinFixed, MaxFixed, %s, ReadWrite, 0, 0x%llx, 0x%llx, 0, 0x%llx)\n",
				    b + z - 1 <= UINT32_MAX ? "DWordMemory" : "QWordMemory", cache,
				    b, b + z - 1, z);
		}
		cat(&s, len, "            })\n");
		if (p->nprt) {
			cat(&s, len, "            Name (_PRT, Package (0x%x)\n            {\n", p->nprt);
			for (uint32_t i = 0; i < p->nprt; i++)
				cat(&s, len, "                Package (0x04) { 0x%x, 0x%x, Zero, 0x%x }%s\n",
				    (unsigned)p->prt[i].slot << 16 | 0xffff, p->prt[i].pin, p->prt[i].gsi,
				    i + 1 < p->nprt ? "," : "");
			cat(&s, len, "            })\n");
		}
		cat(&s, len, "%s        }\n", dsdt_asl_osc);
		cat(&s, len,
		    "        Device (MRES)\n        {\n"
		    "            Name (_HID, EisaId (\"PNP0C02\"))\n"
		    "            Name (_UID, One)\n"
		    "            Name (_CRS, ResourceTemplate ()\n            {\n");
		if (ecam + esize - 1 <= UINT32_MAX)
			cat(&s, len, "                Memory32Fixed (ReadWrite, 0x%llx, 0x%llx)\n",
			    ecam, esize);
		else
			cat(&s, len, "                QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite, 0, 0x%llx, 0x%llx, 0, 0x%llx)\n",
			    ecam, ecam + esize - 1, esize);
		cat(&s, len, "            })\n        }\n");
	}
	cat(&s, len, "    }\n}\n");
	return s;
}

static int iasl_dsdt_source(const char *dir, const uint8_t *t, size_t len,
			    char *why, size_t whylen)
{
	char path[600];
	uint8_t *aml;
	size_t aml_len;
	int rc;

	size_t asl_len;
	char *asl = dsdt_asl(&asl_len);

	snprintf(path, sizeof(path), "%s/ref.asl", dir);
	write_file(path, asl, asl_len);
	free(asl);
	if (compile_bad(dir, "ref.asl", "ref.asl.log", why, whylen))
		return 1;
	aml = (uint8_t *)slurp(dir, "ref.aml", &aml_len);
	if (!aml) {
		snprintf(why, whylen, "iasl ref.asl wrote no ref.aml");
		return 1;
	}
	rc = differs("DSDT", "from the ASL", aml, aml_len, "built", t, len, why, whylen);
	free(aml);
	return rc;
}

/* All tables through iasl; fails the test with iasl's reason. */
static void check_iasl(const struct tables *t)
{
	char dir[512], why[600];

	require_iasl();
	make_tmpdir(dir, sizeof(dir));
	int bad = iasl_rsdp(dir, at(t->rsdp, 36), why, sizeof(why)) ||
		  iasl_table(dir, "FACS", at(t->facs, 64), 64, why, sizeof(why)) ||
		  iasl_table(dir, "XSDT", at(t->xsdt, t->xsdt_len), t->xsdt_len, why, sizeof(why)) ||
		  iasl_table(dir, "FACP", at(t->fadt, t->fadt_len), t->fadt_len, why, sizeof(why)) ||
		  iasl_table(dir, "APIC", at(t->madt, t->madt_len), t->madt_len, why, sizeof(why)) ||
		  iasl_table(dir, "DSDT", at(t->dsdt, t->dsdt_len), t->dsdt_len, why, sizeof(why)) ||
		  (cur_pci && iasl_table(dir, "MCFG", at(t->mcfg, t->mcfg_len), t->mcfg_len,
					 why, sizeof(why))) ||
		  iasl_dsdt_source(dir, at(t->dsdt, t->dsdt_len), t->dsdt_len, why, sizeof(why));
	if (bad)
		fail_msg("iasl (files kept in %s): %s", dir, why);
	remove_tmpdir(dir);
}

/* ---- the cases ------------------------------------------------------- */

/* Build for cpus[0..n) and cur_pci at gpa into exactly
 * acpi_guest_size(n, cur_pci) bytes, and check everything. */
static struct tables build_and_check(uint32_t n, uint64_t gpa)
{
	size_t size = acpi_guest_size(n, cur_pci);
	struct tables t;
	uint64_t rsdp;

	mem_alloc(gpa, size);
	test_log_clear();
	rsdp = acpi_guest_build("test", mem, gpa, size, cpus, n, cur_pci);
	assert_int_equal(rsdp, gpa);		/* the RSDP comes first */
	assert_string_equal(test_log(), "");
	t = find_tables(rsdp);
	check_layout(&t);
	assert_true(t.end - gpa <= size);
	for (uint64_t a = t.end; a < gpa + size; a++)	/* nothing written after */
		assert_int_equal(mem[a - gpa], FILL);
	check_fadt(&t);
	check_madt(&t, n);
	check_parsed(&t, n);
	check_iasl(&t);
	return t;
}

static void test_one_cpu(void **state)
{
	(void)state;
	cpus_seq(1, 0, 1);
	build_and_check(1, 0xe0000);
	/* at 0xe0000, the legacy scan (here the hypervisor's own) finds it */
	assert_int_equal(acpi_find_rsdp_legacy(guest_map), 0xe0000);
}

static void test_two_cpus(void **state)
{
	(void)state;
	cpus[0].apic_id = 6;	/* the boot CPU need not have ID 0 or be lowest */
	cpus[1].apic_id = 2;
	build_and_check(2, 0xe0000);
}

/* 300 CPUs with APIC IDs 0-299: xAPIC entries up to 254, x2APIC from 255
 * on, and the x2APIC NMI entry. acpi_parse keeps the first 256. */
static void test_300_cpus(void **state)
{
	(void)state;
	cpus_seq(300, 0, 1);
	build_and_check(300, 0x7f000000);
	assert_int_equal(acpi_guest_size(300, NULL), 592 + 44 + 300 * 16 + 38 + 12);
}

/* Only x2APIC IDs: the worst case acpi_guest_size is for, used up to the
 * last byte. */
static void test_all_x2apic_fills_size(void **state)
{
	struct tables t;

	(void)state;
	cpus_seq(5, 0x100, 3);
	t = build_and_check(5, 0x100000);
	assert_int_equal(t.end - 0x100000, acpi_guest_size(5, NULL));
}

/* Above 4 GiB: the FADT's 32-bit DSDT field stays 0 (checked by
 * find_tables), the parser follows X_DSDT. */
static void test_above_4g(void **state)
{
	struct tables t;

	(void)state;
	cpus_seq(4, 0, 2);
	t = build_and_check(4, 0x123456000ull);
	assert_true(t.dsdt > UINT32_MAX);
}

/* Dirty memory (a domain rebooting) makes no difference. */
static void test_dirty_buffer(void **state)
{
	size_t size = acpi_guest_size(3, NULL);
	uint8_t *clean;

	(void)state;
	cpus_seq(3, 0, 1);
	mem_alloc(0xe0000, size);
	memset(mem, 0, size);
	assert_int_equal(acpi_guest_build("test", mem, 0xe0000, size, cpus, 3, NULL), 0xe0000);
	clean = malloc(size);
	assert_non_null(clean);
	memcpy(clean, mem, size);
	memset(mem, 0xff, size);
	assert_int_equal(acpi_guest_build("test", mem, 0xe0000, size, cpus, 3, NULL), 0xe0000);
	/* the same up to the MADT's end; the rest is the caller's */
	struct tables t = find_tables(0xe0000);
	assert_memory_equal(mem, clean, t.end - 0xe0000);
	free(clean);
}

/* One byte short of what these CPUs need: 0, one line, nothing written. */
static void test_too_small(void **state)
{
	size_t need;
	char want[200];

	(void)state;
	cpus_seq(2, 0, 1);
	mem_alloc(0xe0000, acpi_guest_size(2, NULL));
	assert_int_equal(acpi_guest_build("test", mem, 0xe0000, mem_size, cpus, 2, NULL), 0xe0000);
	need = find_tables(0xe0000).end - 0xe0000;

	/* exactly enough */
	mem_alloc(0xe0000, need);
	test_log_clear();
	assert_int_equal(acpi_guest_build("test", mem, 0xe0000, need, cpus, 2, NULL), 0xe0000);
	assert_string_equal(test_log(), "");

	mem_alloc(0xe0000, need - 1);
	assert_int_equal(acpi_guest_build("test", mem, 0xe0000, need - 1, cpus, 2, NULL), 0);
	snprintf(want, sizeof(want),
		 "hv: domain test: acpi: tables for 2 CPUs need %zu bytes, only %zu at 0xe0000\n",
		 need, need - 1);
	assert_string_equal(test_log(), want);
	for (size_t i = 0; i < mem_size; i++)
		assert_int_equal(mem[i], FILL);

	test_log_clear();
	assert_int_equal(acpi_guest_build("test", mem, 0xe0000, 0, cpus, 2, NULL), 0);
	snprintf(want, sizeof(want),
		 "hv: domain test: acpi: tables for 2 CPUs need %zu bytes, only 0 at 0xe0000\n",
		 need);
	assert_string_equal(test_log(), want);
}

static void test_refusals(void **state)
{
	uint8_t buf[64];

	(void)state;
	memset(buf, FILL, sizeof(buf));
	cpus_seq(2, 0, 1);
	mem_alloc(0xe0040, acpi_guest_size(2, NULL));

	assert_int_equal(acpi_guest_build("web", mem, 0xe0020, mem_size, cpus, 2, NULL), 0);
	assert_string_equal(test_log(),
			    "hv: domain web: acpi: table area at 0xe0020 is not 64-byte aligned\n");

	test_log_clear();
	assert_int_equal(acpi_guest_build("web", mem, 0xe0040, mem_size, cpus, 0, NULL), 0);
	assert_string_equal(test_log(), "hv: domain web: acpi: no CPUs to describe\n");

	test_log_clear();
	cpus[1].apic_id = UINT32_MAX;
	assert_int_equal(acpi_guest_build("web", mem, 0xe0040, mem_size, cpus, 2, NULL), 0);
	assert_string_equal(test_log(),
			    "hv: domain web: acpi: CPU 1 has APIC ID 0xffffffff, which is not valid\n");

	/* the top of the address space */
	test_log_clear();
	cpus[1].apic_id = 1;
	assert_int_equal(acpi_guest_build("web", buf, UINT64_MAX - 63, 4096, cpus, 2, NULL), 0);
	assert_true(test_log_has("hv: domain web: acpi: tables for 2 CPUs need "));
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], FILL);
	for (size_t i = 0; i < mem_size; i++)
		assert_int_equal(mem[i], FILL);
}

/* An xAPIC entry's UID is a byte, and 0xff means "all processors": a CPU
 * with an APIC ID below 255 must be among the first 255. */
static void test_xapic_uid_limit(void **state)
{
	(void)state;
	cpus_seq(256, 300, 1);		/* x2APIC IDs... */
	cpus[254].apic_id = 7;		/* UID 254: fine */
	mem_alloc(0x100000, acpi_guest_size(256, NULL));
	assert_int_equal(acpi_guest_build("big", mem, 0x100000, mem_size, cpus, 256, NULL), 0x100000);
	assert_string_equal(test_log(), "");

	cpus[255].apic_id = 8;		/* UID 255: impossible */
	assert_int_equal(acpi_guest_build("big", mem, 0x100000, mem_size, cpus, 256, NULL), 0);
	assert_string_equal(test_log(),
			    "hv: domain big: acpi: CPU 255 has APIC ID 8: an xAPIC MADT entry "
			    "cannot carry UID 255 (list the CPUs with APIC IDs below 255 first)\n");
}

/* ---- PCI: the DSDT decoded ------------------------------------------- */

/* 20.2.4 PkgLength at p: the length (counting itself); *n its bytes. */
static size_t pkglen(const uint8_t *p, size_t *n)
{
	unsigned follow = p[0] >> 6;
	size_t len;

	if (follow == 0) {
		*n = 1;
		return p[0] & 0x3f;
	}
	len = p[0] & 0x0f;
	for (unsigned i = 0; i < follow; i++)
		len |= (size_t)p[1 + i] << (4 + 8 * i);
	*n = 1 + follow;
	return len;
}

/* 20.2.3 an integer constant at p: its value; *n its bytes. */
static uint64_t aml_int(const uint8_t *p, size_t *n)
{
	uint64_t v = 0;
	unsigned w;

	switch (p[0]) {
	case 0x00: *n = 1; return 0;
	case 0x01: *n = 1; return 1;
	case 0x0a: w = 1; break;
	case 0x0b: w = 2; break;
	case 0x0c: w = 4; break;
	case 0x0e: w = 8; break;
	default: fail_msg("not an integer constant: opcode 0x%02x", p[0]); return 0;
	}
	for (unsigned i = 0; i < w; i++)
		v |= (uint64_t)p[1 + i] << (8 * i);
	*n = 1 + w;
	return v;
}

/* The body of Device (name) in the DSDT: [*body, *body + *len). */
static void find_device(const struct tables *t, const char *name, const uint8_t **body,
			size_t *len)
{
	const uint8_t *d = at(t->dsdt, t->dsdt_len);

	for (size_t i = 36; i + 7 <= t->dsdt_len; i++) {
		size_t n, l;
		if (d[i] != 0x5b || d[i + 1] != 0x82)
			continue;
		l = pkglen(d + i + 2, &n);
		if (memcmp(d + i + 2 + n, name, 4) != 0)
			continue;
		assert_true(i + 2 + l <= t->dsdt_len);
		*body = d + i + 2 + n + 4;
		*len = l - n - 4;
		return;
	}
	fail_msg("no Device (%s) in the DSDT", name);
}

/* The object after Name (seg) in a device body (a pointer to it). */
static const uint8_t *find_name(const uint8_t *body, size_t len, const char *seg)
{
	for (size_t i = 0; i + 5 < len; i++)
		if (body[i] == 0x08 && memcmp(body + i + 1, seg, 4) == 0)
			return body + i + 5;
	fail_msg("no Name (%s)", seg);
	return NULL;
}

static uint64_t name_int(const uint8_t *body, size_t len, const char *seg)
{
	size_t n;
	return aml_int(find_name(body, len, seg), &n);
}

/* EisaId ("PNP0A08") as the DWord iasl makes of it */
static uint32_t eisaid(const char *id)
{
	uint32_t v = (uint32_t)((id[0] - 0x40) << 10 | (id[1] - 0x40) << 5 | (id[2] - 0x40));
	uint32_t d = (uint32_t)strtoul(id + 3, NULL, 16);

	return (v >> 8) | (v & 0xff) << 8 | (d >> 8) << 16 | (d & 0xff) << 24;
}

static void check_hid(const uint8_t *body, size_t len, const char *seg, const char *id)
{
	const uint8_t *o = find_name(body, len, seg);

	assert_int_equal(o[0], 0x0c);
	assert_int_equal(get32(o + 1), eisaid(id));
}

/* One decoded resource descriptor (ACPI 6.5 6.4). */
enum res_kind { R_IO_PORT, R_IRQ, R_MEM32_FIXED, R_ADDR };
struct res {
	enum res_kind kind;
	unsigned width;		/* address space: 2, 4, 8 */
	uint8_t type, gflags, tflags;
	uint64_t min, max, len;
};

/* Decode Name (_CRS, Buffer) of a device into r[0..*n); the template
 * must end in the end tag exactly at the buffer's end. */
static void decode_crs(const uint8_t *body, size_t blen, struct res *r, unsigned *n)
{
	const uint8_t *o = find_name(body, blen, "_CRS"), *d, *end;
	size_t pn, in, plen, bufsize;

	assert_int_equal(o[0], 0x11);		/* BufferOp */
	plen = pkglen(o + 1, &pn);
	bufsize = aml_int(o + 1 + pn, &in);
	assert_int_equal(plen, pn + in + bufsize);
	d = o + 1 + pn + in;
	end = d + bufsize;
	*n = 0;
	for (;;) {
		assert_true(d < end);
		if (d[0] == 0x79) {			/* end tag */
			assert_int_equal(d[1], 0);
			assert_true(d + 2 == end);
			return;
		}
		struct res x = { 0 };
		if (d[0] == 0x47) {			/* 6.4.2.5 */
			x.kind = R_IO_PORT;
			assert_int_equal(d[1], 1);	/* Decode16 */
			x.min = get16(d + 2);
			x.max = get16(d + 4);
			assert_int_equal(d[6], 1);
			x.len = d[7];
			d += 8;
		} else if ((d[0] & 0xf8) == 0x20) {	/* 6.4.2.1 */
			x.kind = R_IRQ;
			x.min = get16(d + 1);
			d += 1 + (d[0] & 7);
		} else if (d[0] == 0x86) {		/* 6.4.3.4 */
			x.kind = R_MEM32_FIXED;
			assert_int_equal(get16(d + 1), 9);
			x.tflags = d[3];
			x.min = get32(d + 4);
			x.len = get32(d + 8);
			x.max = x.min + x.len - 1;
			d += 12;
		} else if (d[0] == 0x88 || d[0] == 0x87 || d[0] == 0x8a) {	/* 6.4.3.5 */
			unsigned w = d[0] == 0x88 ? 2 : d[0] == 0x87 ? 4 : 8;
			uint64_t v[5] = { 0 };
			x.kind = R_ADDR;
			x.width = w;
			assert_int_equal(get16(d + 1), 3 + 5 * w);
			x.type = d[3];
			x.gflags = d[4];
			x.tflags = d[5];
			for (unsigned k = 0; k < 5; k++)
				for (unsigned b = 0; b < w; b++)
					v[k] |= (uint64_t)d[6 + k * w + b] << (8 * b);
			assert_int_equal(v[0], 0);	/* granularity */
			assert_int_equal(v[3], 0);	/* translation */
			x.min = v[1];
			x.max = v[2];
			x.len = v[4];
			d += 6 + 5 * w;
		} else {
			fail_msg("unexpected resource descriptor 0x%02x", d[0]);
		}
		assert_true(*n < 40);
		r[(*n)++] = x;
	}
}

/* The tables say what cur_pci says: MCFG, PCI0 and MRES. */
static void check_pci(const struct tables *t)
{
	const struct acpi_guest_pci *p = cur_pci;
	const uint8_t *m = at(t->mcfg, t->mcfg_len), *body;
	struct res r[40];
	unsigned n;
	size_t len;

	/* MCFG: 8 reserved bytes, one allocation (PCI Firmware 3.3 4.1.2) */
	assert_int_equal(get64(m + 36), 0);
	assert_int_equal(get64(m + 44), p->ecam_base);
	assert_int_equal(get16(m + 52), p->segment);
	assert_int_equal(m[54], p->bus_start);
	assert_int_equal(m[55], p->bus_end);
	assert_int_equal(get32(m + 56), 0);

	find_device(t, "PCI0", &body, &len);
	check_hid(body, len, "_HID", "PNP0A08");
	check_hid(body, len, "_CID", "PNP0A03");
	assert_int_equal(eisaid("PNP0A08"), 0x080ad041);
	assert_int_equal(name_int(body, len, "_UID"), 0);
	assert_int_equal(name_int(body, len, "_SEG"), p->segment);
	assert_int_equal(name_int(body, len, "_BBN"), p->bus_start);
	decode_crs(body, len, r, &n);
	assert_int_equal(n, 2 + p->nwindows);
	/* the buses, produced, fixed */
	assert_int_equal(r[0].kind, R_ADDR);
	assert_int_equal(r[0].width, 2);
	assert_int_equal(r[0].type, 2);
	assert_int_equal(r[0].gflags, 0x0c);
	assert_int_equal(r[0].min, p->bus_start);
	assert_int_equal(r[0].max, p->bus_end);
	assert_int_equal(r[0].len, p->bus_end - p->bus_start + 1);
	/* the configuration ports */
	assert_int_equal(r[1].kind, R_IO_PORT);
	assert_int_equal(r[1].min, 0xcf8);
	assert_int_equal(r[1].max, 0xcf8);
	assert_int_equal(r[1].len, 8);
	for (uint32_t i = 0; i < p->nwindows; i++) {
		const struct res *x = &r[2 + i];
		uint64_t b = p->windows[i].base, z = p->windows[i].size;

		assert_int_equal(x->kind, R_ADDR);
		assert_int_equal(x->gflags, 0x0c);	/* producer, fixed, positive */
		assert_int_equal(x->min, b);
		assert_int_equal(x->max, b + z - 1);
		assert_int_equal(x->len, z);
		switch (p->windows[i].kind) {
		case ACPI_WIN_IO:
			assert_int_equal(x->width, z <= 0xffff ? 2 : 4);
			assert_int_equal(x->type, 1);
			assert_int_equal(x->tflags, 3);		/* EntireRange */
			break;
		case ACPI_WIN_MEM:
		case ACPI_WIN_MEM_PREF:
			assert_int_equal(x->width, b + z - 1 <= UINT32_MAX ? 4 : 8);
			assert_int_equal(x->type, 0);
			assert_int_equal(x->tflags,		/* ReadWrite, _MEM */
					 p->windows[i].kind == ACPI_WIN_MEM ? 0x01 : 0x07);
			break;
		}
	}
	/* Method (_OSC, 4): MethodOp, PkgLength, name, flags (iasl checks
	 * the rest, against the ASL) */
	bool osc = false;
	for (size_t i = 0; i + 7 <= len && !osc; i++) {
		size_t pn;
		if (body[i] != 0x14)
			continue;
		(void)pkglen(body + i + 1, &pn);
		osc = i + 1 + pn + 5 <= len && memcmp(body + i + 1 + pn, "_OSC", 4) == 0 &&
		      body[i + 1 + pn + 4] == 4;
	}
	assert_true(osc);

	find_device(t, "MRES", &body, &len);
	check_hid(body, len, "_HID", "PNP0C02");
	assert_int_equal(name_int(body, len, "_UID"), 1);
	decode_crs(body, len, r, &n);
	assert_int_equal(n, 1);
	uint64_t ecam = p->ecam_base + ((uint64_t)p->bus_start << 20);
	uint64_t esize = (uint64_t)(p->bus_end - p->bus_start + 1) << 20;
	assert_int_equal(r[0].kind, ecam + esize - 1 <= UINT32_MAX ? R_MEM32_FIXED : R_ADDR);
	if (r[0].kind == R_ADDR) {
		assert_int_equal(r[0].width, 8);
		assert_int_equal(r[0].gflags, 0x0d);	/* consumer */
		assert_int_equal(r[0].type, 0);
	}
	assert_int_equal(r[0].tflags, 1);		/* ReadWrite, non-cacheable */
	assert_int_equal(r[0].min, ecam);
	assert_int_equal(r[0].max, ecam + esize - 1);
	assert_int_equal(r[0].len, esize);
}

/* A typical domain: ECAM below 4 GiB, each kind of window, one 64-bit. */
static const struct acpi_guest_pci pci_typical = {
	.ecam_base = 0xe0000000, .segment = 0, .bus_start = 0, .bus_end = 255,
	.nwindows = 4,
	.windows = {
		{ 0xc000, 0x4000, ACPI_WIN_IO },
		{ 0xc0000000, 0x10000000, ACPI_WIN_MEM },
		{ 0x800000000ull, 0x40000000, ACPI_WIN_MEM_PREF },
		{ 0xd0000000, 0x100000, ACPI_WIN_MEM_PREF },
	},
};

static void test_pci(void **state)
{
	struct tables t;

	(void)state;
	cur_pci = &pci_typical;
	cpus_seq(2, 0, 1);
	t = build_and_check(2, 0xe0000);
	check_pci(&t);
	assert_int_equal(t.dsdt, 0xe0000 + 480);
	/* exactly acpi_guest_size: 2 xAPIC CPUs need less than its worst case */
	assert_true(t.end - 0xe0000 < acpi_guest_size(2, cur_pci));
	cpus_seq(3, 300, 1);
	t = build_and_check(3, 0xe0000);
	assert_int_equal(t.end - 0xe0000, acpi_guest_size(3, cur_pci));
}

/* The _PRT the domain's bridge gets reads back, through the
 * hypervisor's own _PRT reader, as what was asked; 32 entries too. */
static void test_pci_prt(void **state)
{
	static struct acpi_guest_pci p;
	struct acpi_prt_entry e;

	(void)state;
	p = pci_typical;
	p.nprt = 2;
	p.prt[0].slot = 5, p.prt[0].pin = 0, p.prt[0].gsi = 21;
	p.prt[1].slot = 0x1f, p.prt[1].pin = 3, p.prt[1].gsi = 23;
	cur_pci = &p;
	cpus_seq(2, 0, 1);
	build_and_check(2, 0xe0000);	/* parses it: info */
	assert_true(acpi_prt_lookup(&info.prt, 5, 0, &e));
	assert_int_equal(e.gsi, 21);
	assert_true(e.level && e.active_low);
	assert_true(acpi_prt_lookup(&info.prt, 0x1f, 3, &e));
	assert_int_equal(e.gsi, 23);
	assert_false(acpi_prt_lookup(&info.prt, 5, 1, &e));
	p.nprt = ACPI_GUEST_PCI_PRT;
	for (uint32_t i = 0; i < p.nprt; i++) {
		p.prt[i].slot = (uint8_t)i;
		p.prt[i].pin = (uint8_t)(i & 3);
		p.prt[i].gsi = 16 + (i & 7);
	}
	build_and_check(2, 0xe0000);
	assert_int_equal(info.prt.n, ACPI_GUEST_PCI_PRT);
	assert_true(acpi_prt_lookup(&info.prt, 31, 3, &e));
	assert_int_equal(e.gsi, 23);
}

static void set_window(struct acpi_guest_pci *p, uint32_t i, uint64_t base, uint64_t size,
		       enum acpi_guest_window kind)
{
	p->windows[i].base = base;
	p->windows[i].size = size;
	p->windows[i].kind = kind;
}

/* The worst case: 16 windows, all 64-bit, ECAM above 4 GiB on buses
 * 0x10-0x3f of segment 2: a _CRS past 255 bytes (WordConst BufferSize),
 * PkgLengths of 1 and 2 bytes (3 need a DSDT past 4 KiB, which none is),
 * the tables above 4 GiB. Then the edges
 * of the address spaces. */
static void test_pci_worst(void **state)
{
	static struct acpi_guest_pci p = {
		.ecam_base = 0x4000000000ull, .segment = 2, .bus_start = 0x10, .bus_end = 0x3f,
		.nwindows = ACPI_GUEST_PCI_WINDOWS,
	};
	struct tables t;

	(void)state;
	for (uint32_t i = 0; i < p.nwindows; i++) {
		p.windows[i].base = 0x8000000000ull + i * 0x100000000ull;
		p.windows[i].size = 0x100000000ull;
		p.windows[i].kind = i % 2 ? ACPI_WIN_MEM_PREF : ACPI_WIN_MEM;
	}
	cur_pci = &p;
	cpus_seq(4, 0x200, 1);
	t = build_and_check(4, 0x123456000ull);
	check_pci(&t);
	assert_int_equal(t.end - 0x123456000ull, acpi_guest_size(4, cur_pci));
	assert_true(t.dsdt_len > 0x3f + 0xff);	/* 2-byte PkgLengths, WordConst sizes */
	/* the windows as the lead may give them: the whole I/O space, one
	 * memory window ending at 4 GiB exactly, one at the very top */
	p.nwindows = 3;
	set_window(&p, 0, 0, 0x10000, ACPI_WIN_IO);
	set_window(&p, 1, 0xf0000000, 0x10000000, ACPI_WIN_MEM);
	set_window(&p, 2, 0xffffffff00000000ull, 0x100000000ull, ACPI_WIN_MEM_PREF);
	p.bus_start = p.bus_end = 0xff;
	t = build_and_check(4, 0x100000);
	check_pci(&t);
}

/* Bad PCI descriptions: 0, one line, nothing written. */
static void test_pci_refusals(void **state)
{
	static struct acpi_guest_pci p;

	(void)state;

	cpus_seq(2, 0, 1);
	mem_alloc(0xe0000, 0x20000);
#define REFUSED(want)								\
	do {									\
		test_log_clear();						\
		assert_int_equal(acpi_guest_build("web", mem, 0xe0000, mem_size, cpus, 2, &p), 0); \
		assert_string_equal(test_log(), "hv: domain web: acpi: " want "\n");	\
		for (size_t i = 0; i < mem_size; i++)				\
			assert_int_equal(mem[i], FILL);				\
		p = pci_typical;						\
	} while (0)
	p = pci_typical;
	p.bus_start = 5;
	p.bus_end = 4;
	REFUSED("PCI bus range 5-4 is empty");
	p.ecam_base = 0xe0080000;
	REFUSED("PCI ECAM base 0xe0080000 is not 1 MiB aligned or its buses 0-255 run past the top of memory");
	p.ecam_base = 0xfffffffff0000000ull;
	REFUSED("PCI ECAM base 0xfffffffff0000000 is not 1 MiB aligned or its buses 0-255 run past the top of memory");
	p.nwindows = ACPI_GUEST_PCI_WINDOWS + 1;
	REFUSED("17 PCI windows, at most 16");
	p.windows[1].size = 0;
	REFUSED("PCI memory window 1 at 0xc0000000 size 0x0 is empty or past the top of address space");
	p.windows[2].base = 0xfffffffff0000000ull;
	p.windows[2].size = 0x10000001;
	REFUSED("PCI memory window 2 at 0xfffffffff0000000 size 0x10000001 is empty or past the top of address space");
	p.windows[0].size = 0x4001;
	REFUSED("PCI I/O window 0 at 0xc000 size 0x4001 is empty or past the top of I/O space");
	p.windows[0].base = 0x10000;
	p.windows[0].size = 1;
	REFUSED("PCI I/O window 0 at 0x10000 size 0x1 is empty or past the top of I/O space");
	p.windows[3].kind = (enum acpi_guest_window)7;
	REFUSED("PCI window 3 has unknown kind 7");
#undef REFUSED

	/* and one byte short of what the PCI tables need */
	size_t need = acpi_guest_size(1, &pci_typical);
	char want[200];
	cpus_seq(1, 300, 1);
	mem_alloc(0xe0000, need - 1);
	test_log_clear();
	assert_int_equal(acpi_guest_build("web", mem, 0xe0000, mem_size, cpus, 1, &pci_typical), 0);
	snprintf(want, sizeof(want),
		 "hv: domain web: acpi: tables for 1 CPUs and PCI need %zu bytes, only %zu at 0xe0000\n",
		 need, need - 1);
	assert_string_equal(test_log(), want);
	for (size_t i = 0; i < mem_size; i++)
		assert_int_equal(mem[i], FILL);
}

/* NULL: the tables of a domain without PCI, to the byte -- whatever a
 * PCI build left in the buffer before. */
static void test_pci_null_unchanged(void **state)
{
	size_t size = acpi_guest_size(2, &pci_typical);
	uint8_t *before;
	struct tables t;

	(void)state;
	cpus_seq(2, 0, 1);
	assert_int_equal(acpi_guest_size(2, NULL), 592 + 44 + 2 * 16 + 38 + 12);
	mem_alloc(0xe0000, size);
	assert_int_equal(acpi_guest_build("test", mem, 0xe0000, size, cpus, 2, NULL), 0xe0000);
	t = find_tables(0xe0000);
	assert_int_equal(t.dsdt_len, 101);
	assert_int_equal(t.madt, 0xe0000 + 592);
	before = malloc(t.end - 0xe0000);
	assert_non_null(before);
	memcpy(before, mem, t.end - 0xe0000);
	assert_int_equal(acpi_guest_build("test", mem, 0xe0000, size, cpus, 2, &pci_typical), 0xe0000);
	assert_int_equal(acpi_guest_build("test", mem, 0xe0000, size, cpus, 2, NULL), 0xe0000);
	assert_memory_equal(mem, before, t.end - 0xe0000);
	free(before);
}

/* A check that must have failed, for the reason `needle`. */
static void expect_caught(int bad, const char *why, const char *needle)
{
	if (getenv("TEST_VERBOSE"))
		fprintf(stderr, "iasl check: %s\n", bad ? why : "passed");
	assert_int_equal(bad, 1);
	if (!strstr(why, needle))
		fail_msg("caught, but for another reason: %s", why);
}

/* The iasl criterion itself: it must fail on broken tables, whichever
 * way they are broken. */
static void test_iasl_check_catches_breakage(void **state)
{
	static uint8_t copy[4096];
	char dir[512], why[600];
	struct tables t;

	(void)state;
	require_iasl();
	cpus_seq(2, 0, 1);
	mem_alloc(0xe0000, acpi_guest_size(2, NULL));
	assert_int_equal(acpi_guest_build("test", mem, 0xe0000, mem_size, cpus, 2, NULL), 0xe0000);
	t = find_tables(0xe0000);
	assert_true(t.end - 0xe0000 <= sizeof(copy));
	make_tmpdir(dir, sizeof(dir));

	/* a wrong checksum: iasl warns "Incorrect checksum" */
	memcpy(copy, at(t.fadt, t.fadt_len), t.fadt_len);
	copy[9]++;
	expect_caught(iasl_table(dir, "FACP", copy, t.fadt_len, why, sizeof(why)), why,
		      "Incorrect checksum");

	/* the Scope's PkgLength one short (checksum fixed): iasl -d says
	 * nothing, the round trip puts the right length back */
	memcpy(copy, at(t.dsdt, t.dsdt_len), t.dsdt_len);
	assert_int_equal(copy[36 + 14], 0x10);	/* ScopeOp */
	copy[36 + 15]--;
	copy[9]++;
	expect_caught(iasl_table(dir, "DSDT", copy, t.dsdt_len, why, sizeof(why)), why,
		      "byte 51 is 0x32 after the round trip, 0x31 before");

	/* a MADT entry with a bad length (checksum fixed) */
	memcpy(copy, at(t.madt, t.madt_len), t.madt_len);
	copy[44 + 1] = 9;
	copy[9]--;
	expect_caught(iasl_table(dir, "APIC", copy, t.madt_len, why, sizeof(why)), why,
		      "Invalid zero length subtable");

	/* a field out of place: the FADT's reserved byte 111 set */
	memcpy(copy, at(t.fadt, t.fadt_len), t.fadt_len);
	copy[111] = 1;
	copy[9]--;
	expect_caught(iasl_table(dir, "FACP", copy, t.fadt_len, why, sizeof(why)), why,
		      "iasl FACP.dsl: Compilation successful. 0 Errors, 1 Warnings");

	/* the RSDP's extended checksum */
	memcpy(copy, at(t.rsdp, 36), 36);
	copy[32]++;
	expect_caught(iasl_rsdp(dir, copy, why, sizeof(why)), why,
		      "RSDP: iasl makes it 36 bytes, checksums ");

	/* and the real ones pass, in the same directory */
	assert_int_equal(iasl_table(dir, "FACP", at(t.fadt, t.fadt_len), t.fadt_len,
				    why, sizeof(why)), 0);
	assert_int_equal(iasl_rsdp(dir, at(t.rsdp, 36), why, sizeof(why)), 0);
	remove_tmpdir(dir);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_one_cpu),
		T(test_two_cpus),
		T(test_300_cpus),
		T(test_all_x2apic_fills_size),
		T(test_above_4g),
		T(test_dirty_buffer),
		T(test_too_small),
		T(test_refusals),
		T(test_xapic_uid_limit),
		T(test_pci),
		T(test_pci_worst),
		T(test_pci_prt),
		T(test_pci_refusals),
		T(test_pci_null_unchanged),
		T(test_iasl_check_catches_breakage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
