/*
 * MADT (ACPI 6.5 5.2.12): the processors and I/O APICs; see acpi.h.
 */
#include "kernel/acpi_int.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"

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

void acpi_parse_madt(const struct acpi_table *t, struct acpi_info *out)
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
