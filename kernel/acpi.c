/*
 * ACPI table parsing; see acpi.h.
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
 * Layouts are from the ACPI 6.5 specification, chapter 5.2, except MCFG
 * (PCI Firmware Specification 3.x, "MCFG table") and SPCR (Microsoft
 * "Serial Port Console Redirection Table", revisions 1-4). The DSDT is
 * AML (chapter 20); all that is read of it is the \_S5 package, found by
 * its byte pattern, not by interpreting the AML.
 */
#include "kernel/acpi.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"

#define ACPI_PACKED __attribute__((packed))

#define ACPI_HDR_LEN        36u
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

/* ACPI 6.5 5.2.6: System Description Table Header */
struct acpi_sdt_header {
	char signature[4];
	uint32_t length;	/* whole table, header included */
	uint8_t revision;
	uint8_t checksum;	/* whole table sums to 0 */
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_sdt_header) == ACPI_HDR_LEN,
	       "SDT header is 36 bytes");

/* ACPI 6.5 5.2.12: Multiple APIC Description Table, fixed part */
struct acpi_madt_raw {
	struct acpi_sdt_header hdr;	/* "APIC" */
	uint32_t lapic_addr;
	uint32_t flags;		/* bit 0: PCAT_COMPAT */
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_madt_raw) == 44, "MADT header is 44 bytes");

#define ACPI_MADT_PCAT_COMPAT     (1u << 0)
#define ACPI_MADT_ENABLED         (1u << 0)	/* processor flags, 5.2.12.2 */
#define ACPI_MADT_ONLINE_CAPABLE  (1u << 1)

enum acpi_madt_type {
	ACPI_MADT_LAPIC = 0,
	ACPI_MADT_IOAPIC = 1,
	ACPI_MADT_LAPIC_OVERRIDE = 5,
	ACPI_MADT_X2APIC = 9,
};

/* ACPI 6.5 5.2.12.2: Processor Local APIC Structure (type 0) */
struct acpi_madt_lapic {
	uint8_t type;
	uint8_t length;		/* 8 */
	uint8_t uid;
	uint8_t apic_id;
	uint32_t flags;
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_madt_lapic) == 8, "MADT type 0 is 8 bytes");

/* ACPI 6.5 5.2.12.3: I/O APIC Structure (type 1) */
struct acpi_madt_ioapic {
	uint8_t type;
	uint8_t length;		/* 12 */
	uint8_t id;
	uint8_t reserved;
	uint32_t addr;
	uint32_t gsi_base;
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_madt_ioapic) == 12, "MADT type 1 is 12 bytes");

/* ACPI 6.5 5.2.12.8: Local APIC Address Override Structure (type 5) */
struct acpi_madt_lapic_override {
	uint8_t type;
	uint8_t length;		/* 12 */
	uint16_t reserved;
	uint64_t addr;
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_madt_lapic_override) == 12,
	       "MADT type 5 is 12 bytes");

/* ACPI 6.5 5.2.12.12: Processor Local x2APIC Structure (type 9) */
struct acpi_madt_x2apic {
	uint8_t type;
	uint8_t length;		/* 16 */
	uint16_t reserved;
	uint32_t x2apic_id;
	uint32_t flags;		/* as type 0 */
	uint32_t uid;
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_madt_x2apic) == 16, "MADT type 9 is 16 bytes");

/* PCI Firmware Spec 3.x 4.1.2: MCFG = header, 8 reserved bytes, entries */
#define ACPI_MCFG_ENTRIES_OFF (ACPI_HDR_LEN + 8u)

struct acpi_mcfg_entry {
	uint64_t base;		/* ECAM base of bus 0 of this segment */
	uint16_t segment;
	uint8_t bus_start;
	uint8_t bus_end;
	uint32_t reserved;
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_mcfg_entry) == 16, "MCFG entry is 16 bytes");

/* ACPI 6.5 5.2.3.2: Generic Address Structure */
struct acpi_gas {
	uint8_t space_id;	/* 0: system memory, 1: system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS is 12 bytes");

/*
 * SPCR, the fixed part common to revisions 1-4 (80 bytes). Revision 3
 * turned the last reserved field into the UART clock frequency; revision
 * 4 appends Precise Baud Rate (offset 80) and a namespace string.
 */
struct acpi_spcr_raw {
	struct acpi_sdt_header hdr;	/* "SPCR" */
	uint8_t interface_type;		/* offset 36 */
	uint8_t reserved1[3];
	struct acpi_gas base;		/* offset 40; address 0: disabled */
	uint8_t interrupt_type;		/* offset 52 */
	uint8_t pc_irq;
	uint32_t gsi;
	uint8_t baud_code;		/* offset 58 */
	uint8_t parity;
	uint8_t stop_bits;
	uint8_t flow_control;
	uint8_t terminal_type;
	uint8_t language;
	uint16_t pci_device_id;		/* offset 64 */
	uint16_t pci_vendor_id;
	uint8_t pci_bus;
	uint8_t pci_device;
	uint8_t pci_function;
	uint32_t pci_flags;
	uint8_t pci_segment;
	uint32_t uart_clock;		/* offset 76, revision >= 3 */
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_spcr_raw) == 80, "SPCR fixed part is 80 bytes");

#define ACPI_SPCR_PRECISE_BAUD_OFF 80u	/* u32, revision >= 4 */

/* A table that passed acpi_table_load: mapped whole, length and sum OK. */
struct acpi_table {
	const uint8_t *p;
	uint64_t phys;
	uint32_t len;
	char sig[5];	/* printable copy of the signature */
};

/* What acpi_parse has seen so far beyond what goes into acpi_info. */
struct acpi_walk {
	acpi_map_fn map;
	bool madt_done;
	bool mcfg_done;
	bool spcr_done;
	bool fadt_done;
};

static unsigned long long acpi_ull(uint64_t v) { return (unsigned long long)v; }

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
static int acpi_root_load(acpi_map_fn map, uint64_t phys, const char *sig,
			  const char *then, enum log_level lvl,
			  struct acpi_table *t)
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

/* ---- MADT ------------------------------------------------------------ */

struct acpi_madt_state {
	bool have_override;
	uint64_t override;
	bool cpu_cap_warned;
	bool ioapic_cap_warned;
	bool dup_warned;
};

static uint32_t acpi_cpu_find(const struct acpi_info *out, uint32_t apic_id)
{
	for (uint32_t i = 0; i < out->ncpus; i++)
		if (out->cpus[i].apic_id == apic_id)
			return i;
	return UINT32_MAX;
}

/*
 * Add a processor. An APIC ID listed twice keeps one entry: the type 0
 * one if there is one (ACPI 6.5 5.2.12.12: processors with APIC IDs below
 * 255 are described by type 0 entries), else the first seen.
 */
static void acpi_cpu_add(struct acpi_info *out, struct acpi_madt_state *st,
			 const struct acpi_cpu *c)
{
	uint32_t i = acpi_cpu_find(out, c->apic_id);

	if (i != UINT32_MAX) {
		struct acpi_cpu *old = &out->cpus[i];
		bool replace = old->x2apic && !c->x2apic;
		bool mixed = old->x2apic != c->x2apic;

		if (!st->dup_warned)
			pr_warn("acpi: MADT lists APIC ID %u twice, keeping the %s entry\n",
				c->apic_id, mixed ? "xAPIC (type 0)" : "first");
		st->dup_warned = true;
		if (replace) {
			out->ncpus_enabled -= old->enabled;
			*old = *c;
			out->ncpus_enabled += c->enabled;
		}
		return;
	}
	if (out->ncpus == ACPI_MAX_CPUS) {
		if (!st->cpu_cap_warned)
			pr_warn("acpi: MADT lists more than %u CPUs, ignoring the rest\n",
				ACPI_MAX_CPUS);
		st->cpu_cap_warned = true;
		return;
	}
	out->cpus[out->ncpus++] = *c;
	out->ncpus_enabled += c->enabled;
}

/* Processor flags (ACPI 6.5 Table 5.23): neither Enabled nor Online
 * Capable means the processor is unusable; such entries are skipped. */
static void acpi_cpu_from_flags(struct acpi_info *out, struct acpi_madt_state *st,
				uint32_t apic_id, uint32_t uid, uint32_t flags,
				bool x2apic)
{
	struct acpi_cpu c = {
		.apic_id = apic_id,
		.uid = uid,
		.x2apic = x2apic,
		.enabled = (flags & ACPI_MADT_ENABLED) != 0,
		.online_capable = !(flags & ACPI_MADT_ENABLED) &&
				  (flags & ACPI_MADT_ONLINE_CAPABLE),
	};

	if (!c.enabled && !c.online_capable) {
		pr_debug("acpi: MADT: APIC ID %u unusable, skipped\n", apic_id);
		return;
	}
	acpi_cpu_add(out, st, &c);
}

static void acpi_madt_ioapic(struct acpi_info *out, struct acpi_madt_state *st,
			     const struct acpi_madt_ioapic *e)
{
	if (out->nioapics == ACPI_MAX_IOAPICS) {
		if (!st->ioapic_cap_warned)
			pr_warn("acpi: MADT lists more than %u IOAPICs, ignoring the rest\n",
				ACPI_MAX_IOAPICS);
		st->ioapic_cap_warned = true;
		return;
	}
	out->ioapics[out->nioapics++] = (struct acpi_ioapic){
		.id = e->id, .addr = e->addr, .gsi_base = e->gsi_base,
	};
}

/* Minimum length of the MADT entry types we read, 0 for the others. */
static uint8_t acpi_madt_min_len(uint8_t type)
{
	switch (type) {
	case ACPI_MADT_LAPIC:		return sizeof(struct acpi_madt_lapic);
	case ACPI_MADT_IOAPIC:		return sizeof(struct acpi_madt_ioapic);
	case ACPI_MADT_LAPIC_OVERRIDE:	return sizeof(struct acpi_madt_lapic_override);
	case ACPI_MADT_X2APIC:		return sizeof(struct acpi_madt_x2apic);
	default:			return 0;
	}
}

/* One entry, already known to lie inside the table. */
static void acpi_madt_entry(struct acpi_info *out, struct acpi_madt_state *st,
			    const uint8_t *e, uint32_t off)
{
	uint8_t type = e[0], len = e[1];
	uint8_t need = acpi_madt_min_len(type);

	if (need == 0)
		return;
	if (len < need) {
		pr_warn("acpi: MADT entry type %u at offset %u too short (%u bytes), skipped\n",
			type, off, len);
		return;
	}
	if (type == ACPI_MADT_LAPIC) {
		struct acpi_madt_lapic l;
		memcpy(&l, e, sizeof(l));
		acpi_cpu_from_flags(out, st, l.apic_id, l.uid, l.flags, false);
	} else if (type == ACPI_MADT_X2APIC) {
		struct acpi_madt_x2apic x;
		memcpy(&x, e, sizeof(x));
		acpi_cpu_from_flags(out, st, x.x2apic_id, x.uid, x.flags, true);
	} else if (type == ACPI_MADT_IOAPIC) {
		struct acpi_madt_ioapic io;
		memcpy(&io, e, sizeof(io));
		acpi_madt_ioapic(out, st, &io);
	} else {
		struct acpi_madt_lapic_override o;
		memcpy(&o, e, sizeof(o));
		st->have_override = true;
		st->override = o.addr;
	}
}

static void acpi_parse_madt(const struct acpi_table *t, struct acpi_info *out)
{
	struct acpi_madt_state st = { 0 };
	struct acpi_madt_raw m;
	uint32_t off = sizeof(m);

	if (t->len < sizeof(m)) {
		pr_warn("acpi: MADT at 0x%llx too short (%u bytes), ignored\n",
			acpi_ull(t->phys), t->len);
		return;
	}
	memcpy(&m, t->p, sizeof(m));
	out->has_madt = true;
	out->lapic_addr = m.lapic_addr;
	out->pcat_compat = (m.flags & ACPI_MADT_PCAT_COMPAT) != 0;

	while (off < t->len) {
		uint32_t left = t->len - off;
		uint8_t len = left >= 2 ? t->p[off + 1] : 0;

		if (len < 2 || len > left) {
			pr_warn("acpi: MADT entry at offset %u has bad length %u (%u bytes left), rest of MADT ignored\n",
				off, len, left);
			break;
		}
		acpi_madt_entry(out, &st, t->p + off, off);
		off += len;
	}
	if (st.have_override)
		out->lapic_addr = st.override;
}

/* ---- MCFG ------------------------------------------------------------ */

static void acpi_parse_mcfg(const struct acpi_table *t, struct acpi_info *out)
{
	uint32_t body, n;

	if (t->len < ACPI_MCFG_ENTRIES_OFF) {
		pr_warn("acpi: MCFG at 0x%llx too short (%u bytes), ignored\n",
			acpi_ull(t->phys), t->len);
		return;
	}
	body = t->len - ACPI_MCFG_ENTRIES_OFF;
	n = body / sizeof(struct acpi_mcfg_entry);
	if (body % sizeof(struct acpi_mcfg_entry))
		pr_warn("acpi: MCFG length %u is not a whole number of entries, tail ignored\n",
			t->len);
	for (uint32_t i = 0; i < n; i++) {
		struct acpi_mcfg_entry e;

		memcpy(&e, t->p + ACPI_MCFG_ENTRIES_OFF + i * sizeof(e), sizeof(e));
		if (e.bus_start > e.bus_end) {
			pr_warn("acpi: MCFG entry %u has bus range %u-%u, skipped\n",
				i, e.bus_start, e.bus_end);
			continue;
		}
		if (out->nmcfg == ACPI_MAX_MCFG) {
			pr_warn("acpi: MCFG has more than %u windows, ignoring the rest\n",
				ACPI_MAX_MCFG);
			break;
		}
		out->mcfg[out->nmcfg++] = (struct acpi_mcfg){
			.base = e.base, .segment = e.segment,
			.bus_start = e.bus_start, .bus_end = e.bus_end,
		};
	}
}

/* ---- SPCR ------------------------------------------------------------ */

/* SPCR "Configured Baud Rate" codes; 0 means "as is". */
static bool acpi_spcr_baud(uint8_t code, uint32_t *baud)
{
	switch (code) {
	case 0: *baud = 0; return true;
	case 3: *baud = 9600; return true;
	case 4: *baud = 19200; return true;
	case 6: *baud = 57600; return true;
	case 7: *baud = 115200; return true;
	default: return false;
	}
}

static void acpi_parse_spcr(const struct acpi_table *t, struct acpi_info *out)
{
	struct acpi_spcr_raw s;
	uint32_t baud;

	if (t->len < sizeof(s)) {
		pr_warn("acpi: SPCR at 0x%llx too short (%u bytes), ignored\n",
			acpi_ull(t->phys), t->len);
		return;
	}
	memcpy(&s, t->p, sizeof(s));
	if (s.base.address == 0) {
		pr_info("acpi: SPCR says console redirection is disabled\n");
		return;
	}
	if (s.base.space_id != ACPI_GAS_MEMORY && s.base.space_id != ACPI_GAS_IO) {
		pr_warn("acpi: SPCR UART in address space %u (not memory or I/O), ignored\n",
			s.base.space_id);
		return;
	}
	if (!acpi_spcr_baud(s.baud_code, &baud)) {
		pr_warn("acpi: SPCR baud rate code %u unknown, keeping the UART's rate\n",
			s.baud_code);
		baud = 0;
	}
	/* Revision 4: a non-zero Precise Baud Rate overrides the code. */
	if (s.hdr.revision >= 4 && t->len >= ACPI_SPCR_PRECISE_BAUD_OFF + 4) {
		uint32_t precise;
		memcpy(&precise, t->p + ACPI_SPCR_PRECISE_BAUD_OFF, sizeof(precise));
		if (precise)
			baud = precise;
	}
	out->has_spcr = true;
	out->spcr = (struct acpi_spcr){
		.interface_type = s.interface_type,
		.space_id = s.base.space_id,
		.bit_width = s.base.bit_width,
		.access_size = s.base.access_size,
		.address = s.base.address,
		.baud = baud,
	};
}

/* ---- FADT ------------------------------------------------------------ */

/*
 * ACPI 6.5 5.2.9: Fixed ACPI Description Table, as far as the fields read
 * here. An ACPI 1.0 FADT ends after flags (116 bytes); a field further on
 * counts only when the table's Length covers it (ACPI_FADT_HAS).
 */
struct acpi_fadt_raw {
	struct acpi_sdt_header hdr;	/* "FACP" */
	uint32_t firmware_ctrl;		/* offset 36 */
	uint32_t dsdt;			/* offset 40 */
	uint8_t unused1[20];		/* INT_MODEL ... PM1b_EVT_BLK */
	uint32_t pm1a_cnt_blk;		/* offset 64, I/O port */
	uint32_t pm1b_cnt_blk;		/* offset 68 */
	uint8_t unused2[17];		/* PM2_CNT_BLK ... PM1_EVT_LEN */
	uint8_t pm1_cnt_len;		/* offset 89 */
	uint8_t unused3[22];		/* PM2_CNT_LEN ... reserved */
	uint32_t flags;			/* offset 112 */
	struct acpi_gas reset_reg;	/* offset 116, ACPI 2.0+ */
	uint8_t reset_value;		/* offset 128 */
	uint8_t unused4[11];		/* ARM_BOOT_ARCH ... X_FIRMWARE_CTRL */
	uint64_t x_dsdt;		/* offset 140 */
	struct acpi_gas x_pm1a_evt_blk;	/* offset 148 */
	struct acpi_gas x_pm1b_evt_blk;	/* offset 160 */
	struct acpi_gas x_pm1a_cnt_blk;	/* offset 172 */
	struct acpi_gas x_pm1b_cnt_blk;	/* offset 184 */
} ACPI_PACKED;
_Static_assert(offsetof(struct acpi_fadt_raw, pm1a_cnt_blk) == 64, "FADT PM1a_CNT_BLK");
_Static_assert(offsetof(struct acpi_fadt_raw, pm1_cnt_len) == 89, "FADT PM1_CNT_LEN");
_Static_assert(offsetof(struct acpi_fadt_raw, flags) == 112, "FADT flags");
_Static_assert(offsetof(struct acpi_fadt_raw, reset_reg) == 116, "FADT RESET_REG");
_Static_assert(offsetof(struct acpi_fadt_raw, x_dsdt) == 140, "FADT X_DSDT");
_Static_assert(offsetof(struct acpi_fadt_raw, x_pm1a_cnt_blk) == 172, "FADT X_PM1a_CNT_BLK");
_Static_assert(sizeof(struct acpi_fadt_raw) == 196, "FADT up to X_PM1b_CNT_BLK is 196 bytes");

#define ACPI_FADT_V1_LEN ((uint32_t)offsetof(struct acpi_fadt_raw, reset_reg))

/* Does a FADT of length len hold all of field f? */
#define ACPI_FADT_HAS(len, f)                                               \
	((len) >= offsetof(struct acpi_fadt_raw, f) +                       \
			  sizeof(((const struct acpi_fadt_raw *)0)->f))

#define ACPI_FADT_RESET_REG_SUP    (1u << 10)	/* flags, ACPI 6.5 table 5.10 */
#define ACPI_FADT_HW_REDUCED_ACPI  (1u << 20)

/* The highest port a 16-bit I/O access fits at. */
#define ACPI_IO_PORT_MAX 0xfffeu

/*
 * The I/O port of the PM1a or PM1b control block (ab: 'a' or 'b'):
 * X_PM1x_CNT_BLK when the FADT has it (has_x) and its address is non-zero
 * (it then supersedes the 32-bit field), else PM1x_CNT_BLK. Only system
 * I/O space is supported; an X_ block elsewhere falls back to the 32-bit
 * field. *port = 0: no block. -ENOTSUP (reported): a block there is but
 * cannot be used.
 */
static int acpi_fadt_pm1_port(char ab, bool has_x, const struct acpi_gas *x,
			      uint32_t blk, uint16_t *port)
{
	bool x_set = has_x && x->address != 0;

	*port = 0;
	if (x_set && x->space_id == ACPI_GAS_IO && x->address <= ACPI_IO_PORT_MAX) {
		*port = (uint16_t)x->address;
		return 0;
	}
	if (x_set && blk != 0)
		pr_warn("acpi: FADT X_PM1%c_CNT_BLK (space %u, address 0x%llx) is not an I/O port, using PM1%c_CNT_BLK 0x%x\n",
			ab, x->space_id, acpi_ull(x->address), ab, blk);
	if (x_set && blk == 0) {
		pr_warn("acpi: FADT X_PM1%c_CNT_BLK (space %u, address 0x%llx) is not an I/O port: ACPI poweroff unavailable\n",
			ab, x->space_id, acpi_ull(x->address));
		return trace_error(-ENOTSUP);
	}
	if (blk > ACPI_IO_PORT_MAX) {
		pr_warn("acpi: FADT PM1%c_CNT_BLK 0x%x is not an I/O port: ACPI poweroff unavailable\n",
			ab, blk);
		return trace_error(-ENOTSUP);
	}
	*port = (uint16_t)blk;
	return 0;
}

/* PM1a_CNT and PM1b_CNT; none on hardware-reduced ACPI (ACPI 6.5 4.1). */
static void acpi_fadt_pm1(const struct acpi_fadt_raw *f, uint32_t len,
			  struct acpi_pm *pm)
{
	if (f->flags & ACPI_FADT_HW_REDUCED_ACPI) {
		pm->hw_reduced = true;
		pr_warn("acpi: FADT says hardware-reduced ACPI (no PM1 control blocks): ACPI poweroff unavailable\n");
		return;
	}
	if (acpi_fadt_pm1_port('a', ACPI_FADT_HAS(len, x_pm1a_cnt_blk),
			       &f->x_pm1a_cnt_blk, f->pm1a_cnt_blk, &pm->pm1a_cnt) ||
	    acpi_fadt_pm1_port('b', ACPI_FADT_HAS(len, x_pm1b_cnt_blk),
			       &f->x_pm1b_cnt_blk, f->pm1b_cnt_blk, &pm->pm1b_cnt)) {
		pm->pm1a_cnt = pm->pm1b_cnt = 0;
		return;
	}
	if (pm->pm1a_cnt == 0) {
		pr_warn("acpi: FADT has no PM1a control block: ACPI poweroff unavailable\n");
		pm->pm1b_cnt = 0;
		return;
	}
	/* SLP_TYP and SLP_EN are bits 10-13: the register has 16 bits at
	 * least whatever this says, so a small value is only reported. */
	if (f->pm1_cnt_len < 2)
		pr_warn("acpi: FADT PM1_CNT_LEN is %u (should be 2 or more), using 16-bit accesses anyway\n",
			f->pm1_cnt_len);
}

/* RESET_REG and RESET_VALUE (ACPI 6.5 4.8.4.6), used when RESET_REG_SUP
 * is set and the register is in memory, or an I/O port. */
static void acpi_fadt_reset(const struct acpi_fadt_raw *f, uint32_t len,
			    struct acpi_pm *pm)
{
	const struct acpi_gas *r = &f->reset_reg;

	if (!(f->flags & ACPI_FADT_RESET_REG_SUP))
		return;
	if (!ACPI_FADT_HAS(len, reset_value)) {
		pr_warn("acpi: FADT sets RESET_REG_SUP but is too short (%u bytes) for the reset register, ignored\n",
			len);
		return;
	}
	if (r->address == 0 ||
	    (r->space_id != ACPI_GAS_MEMORY && r->space_id != ACPI_GAS_IO) ||
	    (r->space_id == ACPI_GAS_IO && r->address > 0xffff)) {
		pr_warn("acpi: FADT reset register (space %u, address 0x%llx) not usable, ignored\n",
			r->space_id, acpi_ull(r->address));
		return;
	}
	pm->reset_valid = true;
	pm->reset_space = r->space_id;
	pm->reset_addr = r->address;
	pm->reset_value = f->reset_value;
}

/* ---- DSDT: \_S5 ------------------------------------------------------ */

/* AML encodings (ACPI 6.5 20.2) */
#define AML_ZERO_OP      0x00
#define AML_ONE_OP       0x01
#define AML_NAME_OP      0x08
#define AML_BYTE_PREFIX  0x0a
#define AML_WORD_PREFIX  0x0b
#define AML_PACKAGE_OP   0x12
#define AML_ROOT_CHAR    0x5c	/* '\' */

/* What can be wrong with a Name(_S5_, ...) found in the DSDT. */
enum acpi_s5_bad {
	ACPI_S5_OK,
	ACPI_S5_CUT,
	ACPI_S5_NOT_PACKAGE,
	ACPI_S5_BAD_PKGLEN,
	ACPI_S5_PAST_END,
	ACPI_S5_FEW_ELEMENTS,
	ACPI_S5_PKG_SHORT,
	ACPI_S5_TYP_A,
	ACPI_S5_TYP_B,
};

static const char *acpi_s5_bad_str(enum acpi_s5_bad why)
{
	switch (why) {
	case ACPI_S5_OK:		return "OK";
	case ACPI_S5_CUT:		return "cut off by the end of the table";
	case ACPI_S5_NOT_PACKAGE:	return "not a package";
	case ACPI_S5_BAD_PKGLEN:	return "bad PkgLength";
	case ACPI_S5_PAST_END:		return "package runs past the end of the table";
	case ACPI_S5_FEW_ELEMENTS:	return "fewer than 2 elements";
	case ACPI_S5_PKG_SHORT:		return "elements run past the end of the package";
	case ACPI_S5_TYP_A:		return "SLP_TYPa is not an integer constant";
	case ACPI_S5_TYP_B:		return "SLP_TYPb is not an integer constant";
	}
	return "invalid";
}

/* AML being read: bytes p[off, end); off <= end always. */
struct acpi_aml {
	const uint8_t *p;
	uint32_t off;
	uint32_t end;
};

/*
 * ACPI 6.5 20.2.4 PkgLength: bits 7:6 of the lead byte count the bytes
 * that follow it (0-3). With none, bits 5:0 are the length; else bits 3:0
 * are its low 4 bits (bits 5:4 must be 0) and each following byte the
 * next 8. The length counts the PkgLength bytes themselves.
 */
static enum acpi_s5_bad acpi_aml_pkglen(struct acpi_aml *a, uint32_t *len)
{
	uint32_t left = a->end - a->off, n;
	const uint8_t *q = a->p + a->off;

	if (left == 0)
		return ACPI_S5_CUT;
	n = q[0] >> 6;
	if (left < 1 + n)
		return ACPI_S5_CUT;
	if (n == 0) {
		*len = q[0] & 0x3fu;
	} else {
		if (q[0] & 0x30)
			return ACPI_S5_BAD_PKGLEN;
		*len = q[0] & 0x0fu;
		for (uint32_t i = 1; i <= n; i++)
			*len |= (uint32_t)q[i] << (8 * i - 4);
	}
	a->off += 1 + n;
	return ACPI_S5_OK;
}

/* A SLP_TYP element: ZeroOp, OneOp, BytePrefix + byte or WordPrefix +
 * word; SLP_TYP is the low 3 bits. not_int: what to say otherwise. */
static enum acpi_s5_bad acpi_aml_slp_typ(struct acpi_aml *a, enum acpi_s5_bad not_int,
					 uint8_t *typ)
{
	uint32_t left = a->end - a->off, need, v;
	const uint8_t *q = a->p + a->off;

	if (left == 0)
		return ACPI_S5_PKG_SHORT;
	switch (q[0]) {
	case AML_ZERO_OP:
	case AML_ONE_OP:	need = 1; break;
	case AML_BYTE_PREFIX:	need = 2; break;
	case AML_WORD_PREFIX:	need = 3; break;
	default:		return not_int;
	}
	if (left < need)
		return ACPI_S5_PKG_SHORT;
	if (need == 1)
		v = q[0];
	else if (need == 2)
		v = q[1];
	else
		v = q[1] | (uint32_t)q[2] << 8;
	*typ = (uint8_t)(v & 7u);
	a->off += need;
	return ACPI_S5_OK;
}

/* What follows the name in Name(_S5_, Package () { SLP_TYPa, SLP_TYPb,
 * ... }) (ACPI 6.5 7.4.2): PackageOp PkgLength NumElements elements. Only
 * the package's bytes are read, and only those inside a->end. */
static enum acpi_s5_bad acpi_s5_package(struct acpi_aml *a, struct acpi_pm *pm)
{
	uint32_t start, len;
	uint8_t typ_a = 0, typ_b = 0;
	enum acpi_s5_bad why;

	if (a->off == a->end)
		return ACPI_S5_CUT;
	if (a->p[a->off++] != AML_PACKAGE_OP)
		return ACPI_S5_NOT_PACKAGE;
	start = a->off;
	why = acpi_aml_pkglen(a, &len);
	if (why != ACPI_S5_OK)
		return why;
	if (len < a->off - start + 1)	/* itself and NumElements at least */
		return ACPI_S5_BAD_PKGLEN;
	if (len > a->end - start)
		return ACPI_S5_PAST_END;
	a->end = start + len;
	if (a->p[a->off++] < 2)
		return ACPI_S5_FEW_ELEMENTS;
	why = acpi_aml_slp_typ(a, ACPI_S5_TYP_A, &typ_a);
	if (why == ACPI_S5_OK)
		why = acpi_aml_slp_typ(a, ACPI_S5_TYP_B, &typ_b);
	if (why != ACPI_S5_OK)
		return why;
	pm->s5_valid = true;
	pm->s5_typ_a = typ_a;
	pm->s5_typ_b = typ_b;
	return ACPI_S5_OK;
}

/*
 * Find \_S5: "_S5_" right after a NameOp, or after a NameOp and a root
 * prefix '\'. The first such package that parses counts; when none does,
 * the first one's problem is reported.
 */
static void acpi_dsdt_s5(const struct acpi_table *t, struct acpi_pm *pm)
{
	enum acpi_s5_bad first_bad = ACPI_S5_OK;
	uint32_t first_off = 0;

	for (uint32_t i = ACPI_HDR_LEN + 1; i + 4 <= t->len; i++) {
		struct acpi_aml a = { .p = t->p, .off = i + 4, .end = t->len };
		enum acpi_s5_bad why;
		uint32_t op;

		if (memcmp(t->p + i, "_S5_", 4) != 0)
			continue;
		if (t->p[i - 1] == AML_NAME_OP)
			op = i - 1;
		else if (t->p[i - 1] == AML_ROOT_CHAR && i >= ACPI_HDR_LEN + 2 &&
			 t->p[i - 2] == AML_NAME_OP)
			op = i - 2;
		else
			continue;
		why = acpi_s5_package(&a, pm);
		if (why == ACPI_S5_OK)
			return;
		if (first_bad == ACPI_S5_OK) {
			first_bad = why;
			first_off = op;
		}
	}
	if (first_bad != ACPI_S5_OK)
		pr_warn("acpi: DSDT \\_S5 at offset %u malformed (%s): ACPI poweroff unavailable\n",
			first_off, acpi_s5_bad_str(first_bad));
	else
		pr_warn("acpi: DSDT has no \\_S5 package: ACPI poweroff unavailable\n");
}

static void acpi_pm_debug(const struct acpi_pm *pm)
{
	if (pm->s5_valid)
		pr_debug("acpi: FADT: PM1a_CNT 0x%x, PM1b_CNT 0x%x, \\_S5 SLP_TYP %u/%u\n",
			 pm->pm1a_cnt, pm->pm1b_cnt, pm->s5_typ_a, pm->s5_typ_b);
	else
		pr_debug("acpi: FADT: PM1a_CNT 0x%x, PM1b_CNT 0x%x, no \\_S5\n",
			 pm->pm1a_cnt, pm->pm1b_cnt);
	if (pm->reset_valid)
		pr_debug("acpi: FADT: reset register %s 0x%llx, value 0x%x\n",
			 pm->reset_space == ACPI_GAS_IO ? "I/O" : "memory",
			 acpi_ull(pm->reset_addr), pm->reset_value);
	else
		pr_debug("acpi: FADT: no reset register\n");
}

/* The FADT, then the DSDT it points to (X_DSDT when the table has it and
 * it is non-zero, else DSDT). */
static void acpi_parse_fadt(acpi_map_fn map, const struct acpi_table *t,
			    struct acpi_info *out)
{
	struct acpi_pm *pm = &out->pm;
	struct acpi_fadt_raw f;
	struct acpi_table dsdt;
	uint64_t dsdt_phys;

	if (t->len < ACPI_FADT_V1_LEN) {
		pr_warn("acpi: FADT at 0x%llx too short (%u bytes), ignored\n",
			acpi_ull(t->phys), t->len);
		return;
	}
	memset(&f, 0, sizeof(f));
	memcpy(&f, t->p, t->len < sizeof(f) ? t->len : sizeof(f));
	pm->has_fadt = true;
	acpi_fadt_pm1(&f, t->len, pm);
	acpi_fadt_reset(&f, t->len, pm);

	dsdt_phys = ACPI_FADT_HAS(t->len, x_dsdt) && f.x_dsdt ? f.x_dsdt : f.dsdt;
	if (dsdt_phys == 0)
		pr_warn("acpi: FADT has no DSDT address: ACPI poweroff unavailable\n");
	else if (acpi_root_load(map, dsdt_phys, "DSDT", ": ACPI poweroff unavailable",
				LOG_WARN, &dsdt) == 0)
		acpi_dsdt_s5(&dsdt, pm);
	acpi_pm_debug(pm);
}

/* ---- walking the root table ------------------------------------------ */

static void acpi_visit(struct acpi_walk *w, uint64_t phys, uint32_t idx,
		       const char *root, struct acpi_info *out)
{
	struct acpi_table t;
	enum acpi_table_bad why = acpi_table_peek(w->map, phys, &t);
	bool *done;
	void (*parse)(const struct acpi_table *, struct acpi_info *);

	if (why != ACPI_TABLE_OK) {
		pr_warn("acpi: %s entry %u at 0x%llx unreadable, skipped\n",
			root, idx, acpi_ull(phys));
		return;
	}
	if (acpi_sig_is(&t, "APIC")) {
		done = &w->madt_done;
		parse = acpi_parse_madt;
	} else if (acpi_sig_is(&t, "MCFG")) {
		done = &w->mcfg_done;
		parse = acpi_parse_mcfg;
	} else if (acpi_sig_is(&t, "SPCR")) {
		done = &w->spcr_done;
		parse = acpi_parse_spcr;
	} else if (acpi_sig_is(&t, "FACP")) {
		done = &w->fadt_done;
		parse = NULL;	/* acpi_parse_fadt: needs the map for the DSDT */
	} else {
		pr_debug("acpi: table %s at 0x%llx not used\n", t.sig, acpi_ull(phys));
		return;
	}
	if (*done) {
		pr_warn("acpi: second %s table at 0x%llx ignored\n", t.sig, acpi_ull(phys));
		return;
	}
	why = acpi_table_load(w->map, &t);
	if (why != ACPI_TABLE_OK) {
		acpi_table_complain(LOG_WARN, &t, t.sig, why, ", ignored");
		return;
	}
	*done = true;
	if (parse)
		parse(&t, out);
	else
		acpi_parse_fadt(w->map, &t, out);
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

/* ---- S5 -------------------------------------------------------------- */

int acpi_s5_sequence(const struct acpi_info *acpi, struct acpi_io_write out[2])
{
	const struct acpi_pm *pm = acpi ? &acpi->pm : NULL;
	const uint16_t mask = ACPI_PM1_CNT_SLP_TYP | ACPI_PM1_CNT_SLP_EN;
	int n = 0;

	if (!pm || !pm->has_fadt)
		return trace_error(-ENODEV);
	if (pm->hw_reduced || pm->pm1a_cnt == 0)
		return trace_error(-ENOTSUP);
	if (!pm->s5_valid)
		return trace_error(-ENODATA);
	out[n++] = (struct acpi_io_write){
		.port = pm->pm1a_cnt,
		.mask = mask,
		.value = (uint16_t)((pm->s5_typ_a & 7u) << ACPI_PM1_CNT_SLP_TYP_SHIFT |
				    ACPI_PM1_CNT_SLP_EN),
	};
	if (pm->pm1b_cnt)
		out[n++] = (struct acpi_io_write){
			.port = pm->pm1b_cnt,
			.mask = mask,
			.value = (uint16_t)((pm->s5_typ_b & 7u) << ACPI_PM1_CNT_SLP_TYP_SHIFT |
					    ACPI_PM1_CNT_SLP_EN),
		};
	return n;
}

uint16_t acpi_io_write_value(const struct acpi_io_write *w, uint16_t old)
{
	return (uint16_t)((old & ~w->mask) | w->value);
}
