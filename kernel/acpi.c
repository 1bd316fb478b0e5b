/*
 * ACPI: the RSDP and the root table (RSDT/XSDT), and the walker that
 * hands each table it lists to its parser (kernel/acpi_<table>.c); see
 * acpi.h and acpi_int.h.
 *
 * Nothing read from memory is trusted: every physical range goes through
 * the map callback, every length is bounded (header, ACPI_TABLE_MAX_LEN,
 * entries inside their table) and every checksum is verified before a
 * table is used. Multi-byte fields are copied out with memcpy into packed
 * structs, so unaligned tables are fine.
 *
 * acpi_parse() cannot know where the RSDP copy it is given came from, so
 * it leaves info->rsdp_phys at 0; a caller that found the RSDP in memory
 * (acpi_find_rsdp_legacy) stores the address afterwards.
 *
 * Layouts are from the ACPI 6.5 specification, chapter 5.2; each table's
 * own file cites where its layout comes from.
 */
#include <stdarg.h>

#include "kernel/acpi_int.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"

#define ACPI_TABLE_MAX_LEN  (1u << 20)	/* sanity cap on a table's Length */
#define ACPI_RSDP_V1_LEN    20u
#define ACPI_RSDP_MAX_LEN   1024u	/* sanity cap on the RSDP Length */

/* ACPI 6.5 5.2.5.3: Root System Description Pointer */
struct acpi_rsdp_raw {
	char signature[8];	/* "RSD PTR " */
	uint8_t checksum;	/* first 20 bytes sum to 0 */
	char oem_id[6];
	uint8_t revision;	/* 0: ACPI 1.0, 2: ACPI 2.0+ */
	uint32_t rsdt_addr;
	/* revision >= 2 only */
	uint32_t length;
	uint64_t xsdt_addr;
	uint8_t ext_checksum;	/* Length bytes sum to 0 */
	uint8_t reserved[3];
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_rsdp_raw) == 36, "RSDP is 36 bytes");

/*
 * The tables acpi_parse reads, each by its own parser (acpi_<table>.c).
 * Only the first table with a signature counts: a second one is reported
 * and ignored.
 */
static const struct acpi_parser {
	char sig[5];
	void (*parse)(const struct acpi_table *t, struct acpi_info *out);
} acpi_parsers[] = {
	{ "APIC", acpi_parse_madt },
	{ "MCFG", acpi_parse_mcfg },
	{ "SPCR", acpi_parse_spcr },
	{ "FACP", acpi_parse_fadt },
	{ "DMAR", acpi_parse_dmar },
	{ "IVRS", acpi_parse_ivrs },
};
#define ACPI_NPARSERS (sizeof(acpi_parsers) / sizeof(acpi_parsers[0]))

/* What acpi_parse has seen so far beyond what goes into acpi_info. */
struct acpi_walk {
	acpi_map_fn map;
	bool done[ACPI_NPARSERS];	/* acpi_parsers[i] has had its table */
};

static uint8_t acpi_sum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum;
}

/* A signature as a printable C string ('?' for anything odd). */
static void acpi_sig_str(const uint8_t *sig, char out[5])
{
	for (int i = 0; i < 4; i++)
		out[i] = (sig[i] >= 0x20 && sig[i] < 0x7f) ? (char)sig[i] : '?';
	out[4] = '\0';
}

static bool acpi_sig_is(const struct acpi_table *t, const char *sig)
{
	return memcmp(t->sig, sig, 4) == 0;
}

/* ---- RSDP ------------------------------------------------------------ */

enum acpi_rsdp_bad {
	ACPI_RSDP_OK,
	ACPI_RSDP_SHORT,
	ACPI_RSDP_NO_SIGNATURE,
	ACPI_RSDP_CHECKSUM,
	ACPI_RSDP_LENGTH,
	ACPI_RSDP_EXT_CHECKSUM,
	ACPI_RSDP_UNREADABLE,
};

static const char *acpi_rsdp_bad_str(enum acpi_rsdp_bad why)
{
	switch (why) {
	case ACPI_RSDP_OK:		return "OK";
	case ACPI_RSDP_SHORT:		return "too short";
	case ACPI_RSDP_NO_SIGNATURE:	return "signature \"RSD PTR \" missing";
	case ACPI_RSDP_CHECKSUM:	return "checksum mismatch";
	case ACPI_RSDP_LENGTH:		return "length field invalid";
	case ACPI_RSDP_EXT_CHECKSUM:	return "extended checksum mismatch";
	case ACPI_RSDP_UNREADABLE:	return "unreadable";
	}
	return "invalid";
}

/* The Length an RSDP claims (20 for ACPI 1.0); p holds 20 bytes, or 36
 * when the revision is >= 2. */
static uint32_t acpi_rsdp_claimed_len(const uint8_t *p)
{
	struct acpi_rsdp_raw r;

	memcpy(&r, p, ACPI_RSDP_V1_LEN);
	if (r.revision < 2)
		return ACPI_RSDP_V1_LEN;
	memcpy(&r.length, p + offsetof(struct acpi_rsdp_raw, length),
	       sizeof(r.length));
	return r.length;
}

/* ACPI 6.5 5.2.5.3: the ACPI 1.0 part, signature and 20-byte checksum. */
static enum acpi_rsdp_bad acpi_rsdp_validate_v1(const uint8_t *p, size_t len)
{
	if (len < ACPI_RSDP_V1_LEN)
		return ACPI_RSDP_SHORT;
	if (memcmp(p, "RSD PTR ", 8) != 0)
		return ACPI_RSDP_NO_SIGNATURE;
	if (acpi_sum(p, ACPI_RSDP_V1_LEN) != 0)
		return ACPI_RSDP_CHECKSUM;
	return ACPI_RSDP_OK;
}

/* The whole RSDP: for revision >= 2 also Length (>= 36, and within the
 * len bytes at p) and the extended checksum over Length bytes. */
static enum acpi_rsdp_bad acpi_rsdp_validate(const uint8_t *p, size_t len)
{
	enum acpi_rsdp_bad why = acpi_rsdp_validate_v1(p, len);

	if (why != ACPI_RSDP_OK || p[offsetof(struct acpi_rsdp_raw, revision)] < 2)
		return why;
	if (len < sizeof(struct acpi_rsdp_raw))
		return ACPI_RSDP_SHORT;

	uint32_t claimed = acpi_rsdp_claimed_len(p);
	if (claimed < sizeof(struct acpi_rsdp_raw) || claimed > len)
		return ACPI_RSDP_LENGTH;
	if (acpi_sum(p, claimed) != 0)
		return ACPI_RSDP_EXT_CHECKSUM;
	return ACPI_RSDP_OK;
}

int acpi_rsdp_check(const void *rsdp, size_t len)
{
	const uint8_t *p = rsdp;
	enum acpi_rsdp_bad why;

	if (!p) {
		pr_err("acpi: no RSDP given\n");
		return trace_error(-EINVAL);
	}
	why = acpi_rsdp_validate(p, len);
	if (why == ACPI_RSDP_OK)
		return 0;
	if (why == ACPI_RSDP_SHORT)
		pr_err("acpi: RSDP too short (%zu bytes)\n", len);
	else if (why == ACPI_RSDP_LENGTH)
		pr_err("acpi: RSDP length field %u invalid (revision %u, %zu bytes given)\n",
		       acpi_rsdp_claimed_len(p),
		       p[offsetof(struct acpi_rsdp_raw, revision)], len);
	else
		pr_err("acpi: RSDP %s\n", acpi_rsdp_bad_str(why));
	return trace_error(-EINVAL);
}

/* ---- legacy RSDP search (ACPI 6.5 5.2.5.1) -------------------------- */

#define ACPI_BDA_EBDA_SEG   0x40Eu
#define ACPI_EBDA_SCAN_LEN  1024u
#define ACPI_BIOS_LO        0xE0000u
#define ACPI_BIOS_HI        0x100000u

/* A candidate with the signature at phys: is it a valid RSDP? */
/* Revision >= 2: map the 36-byte structure to read Length, then map
 * Length bytes and check them all. */
static enum acpi_rsdp_bad acpi_rsdp_check_mapped_v2(acpi_map_fn map, uint64_t phys)
{
	const uint8_t *p = map(phys, sizeof(struct acpi_rsdp_raw));
	uint32_t len;

	if (!p)
		return ACPI_RSDP_UNREADABLE;
	len = acpi_rsdp_claimed_len(p);
	if (len < sizeof(struct acpi_rsdp_raw) || len > ACPI_RSDP_MAX_LEN)
		return ACPI_RSDP_LENGTH;
	p = map(phys, len);
	if (!p)
		return ACPI_RSDP_UNREADABLE;
	return acpi_rsdp_validate(p, len);
}

static bool acpi_rsdp_candidate_ok(acpi_map_fn map, uint64_t phys)
{
	const uint8_t *p = map(phys, ACPI_RSDP_V1_LEN);
	enum acpi_rsdp_bad why;

	if (!p)
		return false;
	why = acpi_rsdp_validate_v1(p, ACPI_RSDP_V1_LEN);
	if (why == ACPI_RSDP_OK && p[offsetof(struct acpi_rsdp_raw, revision)] >= 2)
		why = acpi_rsdp_check_mapped_v2(map, phys);
	if (why == ACPI_RSDP_OK)
		return true;
	pr_warn("acpi: RSDP candidate at 0x%llx: %s, skipped\n",
		acpi_ull(phys), acpi_rsdp_bad_str(why));
	return false;
}

static uint64_t acpi_scan_rsdp(acpi_map_fn map, uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a + 16 <= end; a += 16) {
		const uint8_t *p = map(a, 8);

		if (p && memcmp(p, "RSD PTR ", 8) == 0 && acpi_rsdp_candidate_ok(map, a))
			return a;
	}
	return 0;
}

uint64_t acpi_find_rsdp_legacy(acpi_map_fn map)
{
	const uint8_t *bda = map(ACPI_BDA_EBDA_SEG, 2);
	uint64_t found = 0;

	if (bda) {
		uint16_t seg;
		uint64_t ebda;

		memcpy(&seg, bda, sizeof(seg));
		ebda = (uint64_t)seg << 4;
		/* Below 0x500 is the IVT and BDA; 0xA0000 and up is not RAM. */
		if (ebda >= 0x500 && ebda + ACPI_EBDA_SCAN_LEN <= 0xA0000)
			found = acpi_scan_rsdp(map, ebda, ebda + ACPI_EBDA_SCAN_LEN);
	}
	if (!found)
		found = acpi_scan_rsdp(map, ACPI_BIOS_LO, ACPI_BIOS_HI);
	if (found)
		pr_debug("acpi: RSDP found at 0x%llx\n", acpi_ull(found));
	else
		pr_warn("acpi: no RSDP in the EBDA or at 0xE0000-0xFFFFF\n");
	return found;
}

/* ---- tables ---------------------------------------------------------- */

/* What can be wrong with a table; acpi_table_complain words it. */
enum acpi_table_bad {
	ACPI_TABLE_OK,
	ACPI_TABLE_UNREADABLE,
	ACPI_TABLE_BAD_LENGTH,
	ACPI_TABLE_BODY_UNREADABLE,
	ACPI_TABLE_BAD_CHECKSUM,
};

/* Read the header at phys into t (signature, Length), nothing checked. */
static enum acpi_table_bad acpi_table_peek(acpi_map_fn map, uint64_t phys,
					   struct acpi_table *t)
{
	struct acpi_sdt_header h;
	const uint8_t *p;

	memset(t, 0, sizeof(*t));
	t->map = map;
	t->phys = phys;
	memcpy(t->sig, "????", 5);
	p = map(phys, ACPI_HDR_LEN);
	if (!p)
		return ACPI_TABLE_UNREADABLE;
	memcpy(&h, p, sizeof(h));
	acpi_sig_str(p, t->sig);
	t->len = h.length;
	return ACPI_TABLE_OK;
}

/* Check a peeked table: 36 <= Length <= ACPI_TABLE_MAX_LEN, all Length
 * bytes readable, 8-bit sum 0 (ACPI 6.5 5.2.6). Sets t->p on success. */
static enum acpi_table_bad acpi_table_load(acpi_map_fn map, struct acpi_table *t)
{
	if (t->len < ACPI_HDR_LEN || t->len > ACPI_TABLE_MAX_LEN)
		return ACPI_TABLE_BAD_LENGTH;
	t->p = map(t->phys, t->len);
	if (!t->p)
		return ACPI_TABLE_BODY_UNREADABLE;
	if (acpi_sum(t->p, t->len) != 0) {
		t->p = NULL;
		return ACPI_TABLE_BAD_CHECKSUM;
	}
	return ACPI_TABLE_OK;
}

/* One line saying what is wrong with t; `then` says what happens next
 * (", ignored"...). `name` is used when the header could not be read. */
static void acpi_table_complain(enum log_level lvl, const struct acpi_table *t,
				const char *name, enum acpi_table_bad why,
				const char *then)
{
	unsigned long long phys = acpi_ull(t->phys);

	switch (why) {
	case ACPI_TABLE_OK:
		break;
	case ACPI_TABLE_UNREADABLE:
		printk(lvl, "acpi: %s at 0x%llx unreadable%s\n", name, phys, then);
		break;
	case ACPI_TABLE_BAD_LENGTH:
		printk(lvl, "acpi: table %s at 0x%llx has bad length %u%s\n",
		       t->sig, phys, t->len, then);
		break;
	case ACPI_TABLE_BODY_UNREADABLE:
		printk(lvl, "acpi: table %s at 0x%llx unreadable (length %u)%s\n",
		       t->sig, phys, t->len, then);
		break;
	case ACPI_TABLE_BAD_CHECKSUM:
		printk(lvl, "acpi: table %s at 0x%llx has bad checksum%s\n",
		       t->sig, phys, then);
		break;
	}
}

/* Peek + load a root table (RSDT/XSDT), or the DSDT, and check its
 * signature. */
int acpi_root_load(acpi_map_fn map, uint64_t phys, const char *sig,
		   const char *then, enum log_level lvl, struct acpi_table *t)
{
	enum acpi_table_bad why = acpi_table_peek(map, phys, t);

	if (why == ACPI_TABLE_OK && !acpi_sig_is(t, sig)) {
		printk(lvl, "acpi: %s at 0x%llx has signature \"%s\"%s\n",
		       sig, acpi_ull(phys), t->sig, then);
		return trace_error(-EINVAL);
	}
	if (why == ACPI_TABLE_OK)
		why = acpi_table_load(map, t);
	if (why == ACPI_TABLE_OK)
		return 0;
	acpi_table_complain(lvl, t, sig, why, then);
	return trace_error(why == ACPI_TABLE_UNREADABLE ||
			   why == ACPI_TABLE_BODY_UNREADABLE ? -EFAULT : -EINVAL);
}

/* ---- sub-structures, shared by the parsers ---------------------------- */

int acpi_subs_next(struct acpi_subs *it, const uint8_t **e, uint32_t *len)
{
	uint32_t left, n;

	if (it->off >= it->end)
		return 0;
	left = it->end - it->off;
	if (left < (uint32_t)it->len_at + it->len_size)
		return trace_error(-EINVAL);
	n = it->p[it->off + it->len_at];
	if (it->len_size == 2)
		n |= (uint32_t)it->p[it->off + it->len_at + 1] << 8;
	if (n < it->min_len || n > left)
		return trace_error(-EINVAL);
	*e = it->p + it->off;
	*len = n;
	it->off += n;
	return 1;
}

void acpi_table_bad(const struct acpi_table *t, uint32_t off, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	hv_vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	pr_warn("acpi: %s: %s at offset %u, table ignored\n", t->sig, what, off);
}

/* ---- walking the root table ------------------------------------------ */

static void acpi_visit(struct acpi_walk *w, uint64_t phys, uint32_t idx,
		       const char *root, struct acpi_info *out)
{
	struct acpi_table t;
	enum acpi_table_bad why = acpi_table_peek(w->map, phys, &t);
	size_t i;

	if (why != ACPI_TABLE_OK) {
		pr_warn("acpi: %s entry %u at 0x%llx unreadable, skipped\n",
			root, idx, acpi_ull(phys));
		return;
	}
	for (i = 0; i < ACPI_NPARSERS && !acpi_sig_is(&t, acpi_parsers[i].sig); i++)
		;
	if (i == ACPI_NPARSERS) {
		pr_debug("acpi: table %s at 0x%llx not used\n", t.sig, acpi_ull(phys));
		return;
	}
	if (w->done[i]) {
		pr_warn("acpi: second %s table at 0x%llx ignored\n", t.sig, acpi_ull(phys));
		return;
	}
	why = acpi_table_load(w->map, &t);
	if (why != ACPI_TABLE_OK) {
		acpi_table_complain(LOG_WARN, &t, t.sig, why, ", ignored");
		return;
	}
	w->done[i] = true;
	acpi_parsers[i].parse(&t, out);
}

static void acpi_walk_root(struct acpi_walk *w, const struct acpi_table *root,
			   uint32_t esize, struct acpi_info *out)
{
	uint32_t body = root->len - ACPI_HDR_LEN;
	uint32_t n = body / esize;

	if (body % esize)
		pr_warn("acpi: %s length %u is not a whole number of entries, tail ignored\n",
			root->sig, root->len);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = root->p + ACPI_HDR_LEN + (size_t)i * esize;
		uint64_t phys = 0;

		if (esize == 8) {
			memcpy(&phys, e, 8);
		} else {
			uint32_t p32;
			memcpy(&p32, e, 4);
			phys = p32;
		}
		if (phys == 0) {
			pr_warn("acpi: %s entry %u is null, skipped\n", root->sig, i);
			continue;
		}
		acpi_visit(w, phys, i, root->sig, out);
	}
}

/* The XSDT when usable (revision >= 2), else the RSDT. */
static int acpi_pick_root(acpi_map_fn map, const struct acpi_rsdp_raw *r,
			  struct acpi_table *root, uint32_t *esize)
{
	int err;

	if (r->revision >= 2 && r->xsdt_addr == 0)
		pr_warn("acpi: RSDP revision %u has no XSDT address, using the RSDT\n",
			r->revision);
	if (r->revision >= 2 && r->xsdt_addr != 0) {
		const char *then = r->rsdt_addr ? ", falling back to the RSDT" : "";

		*esize = 8;
		err = acpi_root_load(map, r->xsdt_addr, "XSDT", then,
				     r->rsdt_addr ? LOG_WARN : LOG_ERR, root);
		if (err == 0 || r->rsdt_addr == 0)
			return err;
	}
	*esize = 4;
	if (r->rsdt_addr == 0) {
		pr_err("acpi: RSDP has no RSDT address\n");
		return trace_error(-EINVAL);
	}
	return acpi_root_load(map, r->rsdt_addr, "RSDT", "", LOG_ERR, root);
}

static void acpi_summary(const struct acpi_info *out, const struct acpi_table *root)
{
	char oem[sizeof(out->oem_id)];
	size_t n = strnlen(out->oem_id, sizeof(oem) - 1);

	memcpy(oem, out->oem_id, n);
	while (n > 0 && oem[n - 1] == ' ')
		n--;
	oem[n] = '\0';
	pr_info("acpi: RSDP rev %u, OEM \"%s\", %s: %u CPUs enabled (%u listed), %u IOAPIC(s), %u MCFG window(s), %s\n",
		out->revision, oem, root->sig, out->ncpus_enabled, out->ncpus,
		out->nioapics, out->nmcfg, out->has_spcr ? "SPCR console" : "no SPCR");
}

int acpi_parse(const void *rsdp, size_t rsdp_len, acpi_map_fn map,
	       struct acpi_info *out)
{
	struct acpi_walk w = { .map = map };
	struct acpi_rsdp_raw r;
	struct acpi_table root;
	uint32_t esize;
	int err;

	memset(out, 0, sizeof(*out));
	err = acpi_rsdp_check(rsdp, rsdp_len);
	if (err)
		return err;
	memset(&r, 0, sizeof(r));
	memcpy(&r, rsdp, rsdp_len < sizeof(r) ? rsdp_len : sizeof(r));
	if (r.revision < 2)
		r.xsdt_addr = 0;	/* bytes past the ACPI 1.0 RSDP mean nothing */
	out->revision = r.revision;
	for (size_t i = 0; i < sizeof(r.oem_id); i++)
		out->oem_id[i] = (r.oem_id[i] >= 0x20 && r.oem_id[i] < 0x7f) ? r.oem_id[i] : '?';

	err = acpi_pick_root(map, &r, &root, &esize);
	if (err)
		return err;
	acpi_walk_root(&w, &root, esize, out);
	if (!out->has_madt)
		pr_warn("acpi: no MADT: CPU list unknown\n");
	if (!out->pm.has_fadt)
		pr_warn("acpi: no FADT: ACPI poweroff and reset register unavailable\n");
	acpi_summary(out, &root);
	return 0;
}
