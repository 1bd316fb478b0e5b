/*
 * DMAR, the DMA Remapping Reporting table (Intel VT-d specification,
 * chapter 8): the remapping hardware units (DRHD, 8.3) with the devices
 * each one translates for (device scopes, 8.3.1), and the memory the
 * firmware keeps using for DMA (RMRR, 8.4). ATSR, RHSA, ANDD, SATC and
 * any later structure types are checked for a sane length and skipped.
 *
 * An IOMMU unit that is half described is worse than none (a device
 * thought fenced would not be), so a malformed structure rejects the
 * whole table: one line says where, and dmar.present stays false. More
 * units, regions or scopes than acpi.h has room for are reported and the
 * rest ignored.
 */
#include "kernel/acpi_int.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"

/* VT-d 8.1: the DMAR header; remapping structures follow at offset 48. */
struct acpi_dmar_raw {
	struct acpi_sdt_header hdr;	/* "DMAR" */
	uint8_t haw;			/* host address width - 1 */
	uint8_t flags;
	uint8_t reserved[10];
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_dmar_raw) == 48, "DMAR header is 48 bytes");

/* VT-d 8.2: remapping structure types */
enum acpi_dmar_type {
	ACPI_DMAR_DRHD = 0,
	ACPI_DMAR_RMRR = 1,
	ACPI_DMAR_ATSR = 2,
	ACPI_DMAR_RHSA = 3,
	ACPI_DMAR_ANDD = 4,
	ACPI_DMAR_SATC = 5,
};

/* VT-d 8.3: DMA Remapping Hardware Unit Definition, fixed part */
struct acpi_drhd_raw {
	uint16_t type;
	uint16_t length;
	uint8_t flags;		/* bit 0: INCLUDE_PCI_ALL */
	uint8_t size;		/* bits 3:0: register set is 2^N 4 KiB pages */
	uint16_t segment;
	uint64_t base;
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_drhd_raw) == 16, "DRHD fixed part is 16 bytes");

/* VT-d 8.4: Reserved Memory Region Reporting, fixed part */
struct acpi_rmrr_raw {
	uint16_t type;
	uint16_t length;
	uint16_t reserved;
	uint16_t segment;
	uint64_t base;
	uint64_t limit;		/* last byte; limit + 1 is 4 KiB aligned */
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_rmrr_raw) == 24, "RMRR fixed part is 24 bytes");

/* VT-d 8.3.1: Device Scope, fixed part; (device, function) byte pairs
 * follow, at least one. */
struct acpi_scope_raw {
	uint8_t type;
	uint8_t length;		/* 6 + 2 * hops */
	uint8_t flags;
	uint8_t reserved;
	uint8_t enum_id;
	uint8_t start_bus;
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_scope_raw) == 6, "device scope fixed part is 6 bytes");


struct acpi_dmar_state {
	const struct acpi_table *t;
	struct acpi_dmar *d;
	bool drhd_cap_warned;
	bool rmrr_cap_warned;
};

/*
 * The device scopes in t->p[off, end) of the unit `what` into scopes[]
 * (*n of them, at most ACPI_MAX_SCOPES). Types outside 1-5 are reserved
 * and skipped (VT-d 8.3.1). -EINVAL (reported) on a malformed scope.
 */
static int acpi_dmar_scopes(struct acpi_dmar_state *st, uint32_t off, uint32_t end,
			    const char *what, struct acpi_dmar_scope *scopes,
			    uint32_t *n)
{
	struct acpi_subs it = {
		.p = st->t->p, .off = off, .end = end,
		.len_at = 1, .len_size = 1, .min_len = sizeof(struct acpi_scope_raw) + 2,
	};
	bool cap_warned = false;
	const uint8_t *e;
	uint32_t len;
	int rc;

	*n = 0;
	while ((rc = acpi_subs_next(&it, &e, &len)) > 0) {
		uint32_t at = it.off - len, hops = (len - sizeof(struct acpi_scope_raw)) / 2;
		struct acpi_scope_raw s;
		struct acpi_dmar_scope *out;

		memcpy(&s, e, sizeof(s));
		if (len % 2) {
			acpi_table_bad(st->t, at, "%s device scope length %u is odd", what, len);
			return trace_error(-EINVAL);
		}
		for (uint32_t i = 0; i < hops; i++) {
			uint8_t dev = e[sizeof(s) + 2 * i], fn = e[sizeof(s) + 2 * i + 1];

			if (dev > 31 || fn > 7) {
				acpi_table_bad(st->t, at, "%s device scope path has device %u function %u",
					       what, dev, fn);
				return trace_error(-EINVAL);
			}
		}
		if (s.type < ACPI_SCOPE_ENDPOINT || s.type > ACPI_SCOPE_NAMESPACE) {
			pr_debug("acpi: DMAR: %s device scope type %u at offset %u skipped\n",
				 what, s.type, at);
			continue;
		}
		if (hops > ACPI_SCOPE_PATH) {
			pr_warn("acpi: DMAR: %s device scope at offset %u has %u hops (at most %u kept), skipped\n",
				what, at, hops, ACPI_SCOPE_PATH);
			continue;
		}
		if (*n == ACPI_MAX_SCOPES) {
			if (!cap_warned)
				pr_warn("acpi: DMAR: %s has more than %u device scopes, ignoring the rest\n",
					what, ACPI_MAX_SCOPES);
			cap_warned = true;
			continue;
		}
		out = &scopes[(*n)++];
		memset(out, 0, sizeof(*out));
		out->type = s.type;
		out->enum_id = s.enum_id;
		out->start_bus = s.start_bus;
		out->npath = (uint8_t)hops;
		for (uint32_t i = 0; i < hops; i++) {
			out->path[i].dev = e[sizeof(s) + 2 * i];
			out->path[i].fn = e[sizeof(s) + 2 * i + 1];
		}
	}
	if (rc < 0) {
		acpi_table_bad(st->t, it.off, "%s device scope has a bad length", what);
		return trace_error(-EINVAL);
	}
	return 0;
}

static int acpi_dmar_drhd(struct acpi_dmar_state *st, const uint8_t *e, uint32_t off,
			  uint32_t len)
{
	struct acpi_drhd_raw r;
	struct acpi_drhd *u;

	if (len < sizeof(r)) {
		acpi_table_bad(st->t, off, "DRHD too short (%u bytes)", len);
		return trace_error(-EINVAL);
	}
	memcpy(&r, e, sizeof(r));
	/* The register set is 4 KiB aligned (VT-d 8.3, Register Base Address). */
	if (r.base == 0 || (r.base & ACPI_PAGE_MASK)) {
		acpi_table_bad(st->t, off, "DRHD register base 0x%llx not a 4 KiB page",
			       acpi_ull(r.base));
		return trace_error(-EINVAL);
	}
	if (st->d->ndrhd == ACPI_MAX_IOMMUS) {
		if (!st->drhd_cap_warned)
			pr_warn("acpi: DMAR: more than %u DRHDs, ignoring the rest (from 0x%llx)\n",
				ACPI_MAX_IOMMUS, acpi_ull(r.base));
		st->drhd_cap_warned = true;
		return 0;
	}
	u = &st->d->drhd[st->d->ndrhd];
	memset(u, 0, sizeof(*u));
	u->base = r.base;
	u->segment = r.segment;
	u->flags = r.flags;
	u->size = r.size & 0x0f;
	if (acpi_dmar_scopes(st, off + sizeof(r), off + len, "DRHD", u->scopes, &u->nscopes))
		return trace_error(-EINVAL);
	st->d->ndrhd++;
	return 0;
}

static int acpi_dmar_rmrr(struct acpi_dmar_state *st, const uint8_t *e, uint32_t off,
			  uint32_t len)
{
	struct acpi_rmrr_raw r;
	struct acpi_rmrr *m;
	uint64_t base, end;

	if (len < sizeof(r)) {
		acpi_table_bad(st->t, off, "RMRR too short (%u bytes)", len);
		return trace_error(-EINVAL);
	}
	memcpy(&r, e, sizeof(r));
	if (r.limit < r.base || r.limit == UINT64_MAX) {
		acpi_table_bad(st->t, off, "RMRR range 0x%llx-0x%llx is empty or wraps",
			       acpi_ull(r.base), acpi_ull(r.limit));
		return trace_error(-EINVAL);
	}
	/* Both ends are 4 KiB aligned (VT-d 8.4); a region that is not is
	 * widened to whole pages, since the device may use all of it. */
	base = r.base & ~ACPI_PAGE_MASK;
	end = r.limit + 1;
	if (end & ACPI_PAGE_MASK)
		end = end > (UINT64_MAX & ~ACPI_PAGE_MASK) ? 0 : (end | ACPI_PAGE_MASK) + 1;
	if (end == 0) {
		acpi_table_bad(st->t, off, "RMRR end 0x%llx wraps", acpi_ull(r.limit));
		return trace_error(-EINVAL);
	}
	if (base != r.base || end != r.limit + 1)
		pr_warn("acpi: DMAR: RMRR 0x%llx-0x%llx not page aligned, using 0x%llx-0x%llx\n",
			acpi_ull(r.base), acpi_ull(r.limit), acpi_ull(base), acpi_ull(end - 1));
	if (st->d->nrmrr == ACPI_MAX_RESV) {
		if (!st->rmrr_cap_warned)
			pr_warn("acpi: DMAR: more than %u RMRRs, ignoring the rest (from 0x%llx)\n",
				ACPI_MAX_RESV, acpi_ull(base));
		st->rmrr_cap_warned = true;
		return 0;
	}
	m = &st->d->rmrr[st->d->nrmrr];
	memset(m, 0, sizeof(*m));
	m->segment = r.segment;
	m->base = base;
	m->end = end;
	if (acpi_dmar_scopes(st, off + sizeof(r), off + len, "RMRR", m->scopes, &m->nscopes))
		return trace_error(-EINVAL);
	if (m->nscopes == 0)
		pr_warn("acpi: DMAR: RMRR 0x%llx-0x%llx names no device\n",
			acpi_ull(base), acpi_ull(end - 1));
	st->d->nrmrr++;
	return 0;
}

static int acpi_dmar_structs(struct acpi_dmar_state *st)
{
	struct acpi_subs it = {
		.p = st->t->p, .off = sizeof(struct acpi_dmar_raw), .end = st->t->len,
		.len_at = 2, .len_size = 2, .min_len = 4,
	};
	const uint8_t *e;
	uint32_t len;
	int rc;

	while ((rc = acpi_subs_next(&it, &e, &len)) > 0) {
		uint32_t off = it.off - len;
		uint16_t type = acpi_le16(e);

		int err = 0;

		if (type == ACPI_DMAR_DRHD)
			err = acpi_dmar_drhd(st, e, off, len);
		else if (type == ACPI_DMAR_RMRR)
			err = acpi_dmar_rmrr(st, e, off, len);
		else
			pr_debug("acpi: DMAR: structure type %u at offset %u skipped\n", type, off);
		if (err)
			return err;
	}
	if (rc < 0) {
		acpi_table_bad(st->t, it.off, "remapping structure has a bad length");
		return trace_error(-EINVAL);
	}
	return 0;
}

void acpi_parse_dmar(const struct acpi_table *t, struct acpi_info *out)
{
	struct acpi_dmar *d = &out->dmar;
	struct acpi_dmar_state st = { .t = t, .d = d };
	struct acpi_dmar_raw h;

	memset(d, 0, sizeof(*d));
	if (t->len < sizeof(h)) {
		acpi_table_bad(t, 0, "table too short (%u bytes)", t->len);
		return;
	}
	memcpy(&h, t->p, sizeof(h));
	/* VT-d 8.1: the width is the field + 1, at most 64 bits. */
	if (h.haw > 63) {
		acpi_table_bad(t, offsetof(struct acpi_dmar_raw, haw),
			       "host address width %u + 1 bits", h.haw);
		return;
	}
	if (acpi_dmar_structs(&st)) {
		memset(d, 0, sizeof(*d));
		return;
	}
	if (d->ndrhd == 0) {
		pr_warn("acpi: DMAR: no remapping hardware unit (DRHD), table ignored\n");
		memset(d, 0, sizeof(*d));
		return;
	}
	d->haw = (uint8_t)(h.haw + 1);
	d->flags = h.flags;
	d->present = true;
	pr_info("acpi: DMAR: %u DRHD(s), %u RMRR(s), host address width %u, flags 0x%x%s\n",
		d->ndrhd, d->nrmrr, d->haw, d->flags,
		(d->flags & ACPI_DMAR_INTR_REMAP) ? " (interrupt remapping)" : "");
}

bool acpi_dmar_scope_resolve(const struct acpi_dmar_scope *scope, uint16_t segment,
			     int (*secondary_bus)(uint16_t seg, uint8_t bus, uint8_t devfn),
			     uint8_t *bus, uint8_t *devfn)
{
	uint8_t b;

	if (!scope || !secondary_bus || scope->npath == 0 || scope->npath > ACPI_SCOPE_PATH)
		return false;
	b = scope->start_bus;
	/* VT-d 8.3.1: each hop but the last names a PCI-PCI bridge on the
	 * current bus; its secondary bus is where the next hop lives. */
	for (uint32_t i = 0; i < scope->npath; i++) {
		uint8_t dev = scope->path[i].dev, fn = scope->path[i].fn;
		uint8_t df = (uint8_t)(dev << 3 | fn);
		int sec;

		if (dev > 31 || fn > 7)
			return false;
		if (i + 1 == scope->npath) {
			*bus = b;
			*devfn = df;
			return true;
		}
		sec = secondary_bus(segment, b, df);
		if (sec < 0 || sec > 255)
			return false;
		b = (uint8_t)sec;
	}
	return false;
}
