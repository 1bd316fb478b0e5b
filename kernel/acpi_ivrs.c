/*
 * IVRS, the I/O Virtualization Reporting Structure (AMD I/O
 * Virtualization Technology (IOMMU) Specification 48882, 5.2): the IOMMUs
 * (IVHD blocks, 5.2.2) with the device IDs each one covers (IVHD device
 * entries, 5.2.2.2), and the memory definitions (IVMD, 5.2.3).
 *
 * One IOMMU is often described twice or three times, by IVHD types 0x10,
 * 0x11 and 0x40 (the later types add the EFR image and, for 0x40, ACPI
 * HID entries), so that old software reads the type it knows. Like Linux,
 * the parser keeps for each IOMMU (same device ID and register base) the
 * highest type it understands.
 *
 * As for the DMAR, a malformed block or entry rejects the whole table
 * (one line, ivrs.present false); more IOMMUs, entries or memory
 * definitions than acpi.h has room for are reported and the rest ignored.
 */
#include "kernel/acpi_int.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"

/* 48882 5.2.1: the IVRS header; IVHD and IVMD blocks follow at 48. */
struct acpi_ivrs_raw {
	struct acpi_sdt_header hdr;	/* "IVRS" */
	uint32_t iv_info;
	uint64_t reserved;
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_ivrs_raw) == 48, "IVRS header is 48 bytes");

/* 48882 5.2.2.1: IVHD header; type 0x10 ends after `feature`, types 0x11
 * and 0x40 carry the EFR register image and 8 more bytes. */
struct acpi_ivhd_raw {
	uint8_t type;
	uint8_t flags;
	uint16_t length;
	uint16_t devid;
	uint16_t cap_offset;
	uint64_t base;
	uint16_t segment;
	uint16_t info;
	uint32_t feature;	/* 0x10: feature reporting; 0x11/0x40: attributes */
	uint64_t efr;		/* 0x11/0x40 only */
	uint64_t efr2;
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_ivhd_raw) == 40, "IVHD type 0x11/0x40 header is 40 bytes");
#define ACPI_IVHD10_LEN 24u

/* 48882 5.2.3: IVMD */
struct acpi_ivmd_raw {
	uint8_t type;
	uint8_t flags;
	uint16_t length;
	uint16_t devid;		/* 0x21: the device; 0x22: first of the range */
	uint16_t aux;		/* 0x22: last of the range */
	uint16_t segment;	/* revision 2; reserved (0) before */
	uint8_t reserved[6];
	uint64_t start;
	uint64_t size;
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_ivmd_raw) == 32, "IVMD is 32 bytes");

enum acpi_ivrs_block {
	ACPI_IVHD_10 = 0x10,
	ACPI_IVHD_11 = 0x11,
	ACPI_IVHD_40 = 0x40,
	ACPI_IVMD_ALL = 0x20,
	ACPI_IVMD_ONE = 0x21,
	ACPI_IVMD_RANGE = 0x22,
};

/* 48882 5.2.2.2: IVHD device entry types */
enum acpi_ivhd_entry {
	ACPI_IVE_PAD = 0x00,
	ACPI_IVE_ALL = 0x01,
	ACPI_IVE_SELECT = 0x02,
	ACPI_IVE_START = 0x03,
	ACPI_IVE_END = 0x04,
	ACPI_IVE_ALIAS_SELECT = 0x42,
	ACPI_IVE_ALIAS_START = 0x43,
	ACPI_IVE_EXT_SELECT = 0x46,
	ACPI_IVE_EXT_START = 0x47,
	ACPI_IVE_SPECIAL = 0x48,
	ACPI_IVE_ACPI_HID = 0xf0,
};
#define ACPI_IVE_HID_FIXED 22u	/* an ACPI_HID entry before its UID bytes */

#define ACPI_IVHD_ALIGN  0x3fffull	/* the MMIO base is 16 KiB aligned */

struct acpi_ivrs_state {
	const struct acpi_table *t;
	struct acpi_ivrs *v;
	bool ivhd_cap_warned;
	bool ivmd_cap_warned;
};

/* An IVHD's device entries as they are read: a start-of-range entry
 * (0x03, 0x43, 0x47) waits here for its end (0x04). */
struct acpi_ivhd_walk {
	struct acpi_ivrs_state *st;
	struct acpi_ivhd *h;
	bool open;
	uint32_t open_off;
	struct acpi_ivhd_range range;
	bool cap_warned;
};


static void acpi_ivhd_add(struct acpi_ivhd_walk *w, const struct acpi_ivhd_range *r)
{
	struct acpi_ivhd *h = w->h;

	if (h->nranges == ACPI_MAX_SCOPES) {
		if (!w->cap_warned)
			pr_warn("acpi: IVRS: IVHD type 0x%x of IOMMU 0x%x has more than %u device entries, ignoring the rest\n",
				h->type, h->devid, ACPI_MAX_SCOPES);
		w->cap_warned = true;
		return;
	}
	h->ranges[h->nranges++] = *r;
}

/* The length of the device entry at e (len bytes left in the IVHD), or 0
 * when it is cut off or its type has no defined length: types below 0x40
 * are 4 bytes, 0x40-0x7f 8 bytes, 0xf0 (ACPI_HID) 22 + its UID length. */
static uint32_t acpi_ive_len(const uint8_t *e, uint32_t left)
{
	uint32_t n;

	if (e[0] < 0x40)
		n = 4;
	else if (e[0] < 0x80)
		n = 8;
	else if (e[0] == ACPI_IVE_ACPI_HID && left >= ACPI_IVE_HID_FIXED)
		n = ACPI_IVE_HID_FIXED + e[ACPI_IVE_HID_FIXED - 1];
	else
		return 0;
	return n <= left ? n : 0;
}

/* One device entry e (its whole length is inside the IVHD) at table
 * offset off. */
static int acpi_ive(struct acpi_ivhd_walk *w, const uint8_t *e, uint32_t off)
{
	struct acpi_ivhd_range r = {
		.first = acpi_le16(e + 1), .last = acpi_le16(e + 1), .setting = e[3],
	};
	const struct acpi_table *t = w->st->t;

	switch (e[0]) {
	case ACPI_IVE_ALL:
		r.first = 0;
		r.last = 0xffff;
		break;
	case ACPI_IVE_SELECT:
	case ACPI_IVE_EXT_SELECT:	/* the extended setting (ATS) is not kept */
		break;
	case ACPI_IVE_ALIAS_SELECT:
		r.has_alias = true;
		r.alias = acpi_le16(e + 5);
		break;
	case ACPI_IVE_START:
	case ACPI_IVE_ALIAS_START:
	case ACPI_IVE_EXT_START:
		if (w->open) {
			acpi_table_bad(t, off, "device range start inside the range opened at offset %u",
				       w->open_off);
			return trace_error(-EINVAL);
		}
		r.has_alias = e[0] == ACPI_IVE_ALIAS_START;
		r.alias = r.has_alias ? acpi_le16(e + 5) : 0;
		w->open = true;
		w->open_off = off;
		w->range = r;
		return 0;
	case ACPI_IVE_END:
		if (!w->open) {
			acpi_table_bad(t, off, "device range end without a start");
			return trace_error(-EINVAL);
		}
		if (r.last < w->range.first) {
			acpi_table_bad(t, off, "device range 0x%x-0x%x runs backwards",
				       w->range.first, r.last);
			return trace_error(-EINVAL);
		}
		w->open = false;
		w->range.last = r.last;
		r = w->range;
		break;
	case ACPI_IVE_SPECIAL:
		/* Byte 4 handle (IOAPIC ID, HPET number), 5-6 the device ID
		 * its requests carry, 7 the variety (1 IOAPIC, 2 HPET). */
		if (e[7] != ACPI_IVHD_IOAPIC && e[7] != ACPI_IVHD_HPET) {
			pr_debug("acpi: IVRS: special device variety %u at offset %u skipped\n",
				 e[7], off);
			return 0;
		}
		r.first = r.last = acpi_le16(e + 5);
		r.special = e[7];
		r.handle = e[4];
		break;
	default:	/* padding, ACPI_HID devices, types this code does not use */
		return 0;
	}
	acpi_ivhd_add(w, &r);
	return 0;
}

/* The device entries of the IVHD at table offset off, length len, whose
 * entries start hdr_len bytes in. */
static int acpi_ivhd_entries(struct acpi_ivrs_state *st, struct acpi_ivhd *h,
			     uint32_t off, uint32_t len, uint32_t hdr_len)
{
	struct acpi_ivhd_walk w = { .st = st, .h = h };
	const uint8_t *p = st->t->p;

	for (uint32_t at = off + hdr_len; at < off + len;) {
		uint32_t n = acpi_ive_len(p + at, off + len - at);

		if (n == 0) {
			acpi_table_bad(st->t, at, "IVHD device entry type 0x%x cut off or of unknown length",
				       p[at]);
			return trace_error(-EINVAL);
		}
		if (acpi_ive(&w, p + at, at))
			return trace_error(-EINVAL);
		at += n;
	}
	if (w.open) {
		acpi_table_bad(st->t, w.open_off, "device range start without an end");
		return trace_error(-EINVAL);
	}
	return 0;
}

static int acpi_ivrs_ivhd(struct acpi_ivrs_state *st, const uint8_t *e, uint32_t off,
			  uint32_t len)
{
	uint32_t hdr_len = e[0] == ACPI_IVHD_10 ? ACPI_IVHD10_LEN : sizeof(struct acpi_ivhd_raw);
	struct acpi_ivrs *v = st->v;
	struct acpi_ivhd_raw r;
	struct acpi_ivhd h;
	uint32_t i;

	if (len < hdr_len) {
		acpi_table_bad(st->t, off, "IVHD type 0x%x too short (%u bytes)", e[0], len);
		return trace_error(-EINVAL);
	}
	memset(&r, 0, sizeof(r));
	memcpy(&r, e, hdr_len);
	if (r.base == 0 || (r.base & ACPI_IVHD_ALIGN)) {
		acpi_table_bad(st->t, off, "IVHD register base 0x%llx not 16 KiB aligned",
			       acpi_ull(r.base));
		return trace_error(-EINVAL);
	}
	memset(&h, 0, sizeof(h));
	h.type = r.type;
	h.flags = r.flags;
	h.devid = r.devid;
	h.cap_offset = r.cap_offset;
	h.segment = r.segment;
	h.base = r.base;
	h.info = r.info;
	h.feature = r.feature;
	h.efr = r.efr;
	if (acpi_ivhd_entries(st, &h, off, len, hdr_len))
		return trace_error(-EINVAL);

	for (i = 0; i < v->nivhd; i++)
		if (v->ivhd[i].devid == h.devid && v->ivhd[i].base == h.base)
			break;
	if (i < v->nivhd) {
		if (h.type > v->ivhd[i].type)
			v->ivhd[i] = h;
		return 0;
	}
	if (v->nivhd == ACPI_MAX_IOMMUS) {
		if (!st->ivhd_cap_warned)
			pr_warn("acpi: IVRS: more than %u IOMMUs, ignoring the rest (from 0x%llx)\n",
				ACPI_MAX_IOMMUS, acpi_ull(h.base));
		st->ivhd_cap_warned = true;
		return 0;
	}
	v->ivhd[v->nivhd++] = h;
	return 0;
}

static int acpi_ivrs_ivmd(struct acpi_ivrs_state *st, const uint8_t *e, uint32_t off,
			  uint32_t len)
{
	struct acpi_ivrs *v = st->v;
	struct acpi_ivmd_raw r;
	struct acpi_ivmd m;
	uint64_t last;

	if (len < sizeof(r)) {
		acpi_table_bad(st->t, off, "IVMD too short (%u bytes)", len);
		return trace_error(-EINVAL);
	}
	memcpy(&r, e, sizeof(r));
	if (r.size == 0 || r.start > UINT64_MAX - (r.size - 1)) {
		acpi_table_bad(st->t, off, "IVMD range 0x%llx + 0x%llx is empty or wraps",
			       acpi_ull(r.start), acpi_ull(r.size));
		return trace_error(-EINVAL);
	}
	last = r.start + (r.size - 1);
	if ((last | ACPI_PAGE_MASK) == UINT64_MAX) {	/* end would be 2^64 */
		acpi_table_bad(st->t, off, "IVMD range end 0x%llx at the top of the address space",
			       acpi_ull(last));
		return trace_error(-EINVAL);
	}
	memset(&m, 0, sizeof(m));
	m.type = r.type;
	m.flags = r.flags;
	m.segment = r.segment;
	m.first = m.last = r.devid;
	if (r.type == ACPI_IVMD_ALL) {
		m.first = 0;
		m.last = 0xffff;
	} else if (r.type == ACPI_IVMD_RANGE) {
		m.last = r.aux;
		if (m.last < m.first) {
			acpi_table_bad(st->t, off, "IVMD device range 0x%x-0x%x runs backwards",
				       m.first, m.last);
			return trace_error(-EINVAL);
		}
	}
	/* Start and length are 4 KiB multiples (48882 5.2.3); a block that
	 * is not is widened to whole pages. */
	m.base = r.start & ~ACPI_PAGE_MASK;
	m.end = (last | ACPI_PAGE_MASK) + 1;
	if (m.base != r.start || ((last + 1) & ACPI_PAGE_MASK))
		pr_warn("acpi: IVRS: IVMD 0x%llx + 0x%llx not page aligned, widened to whole pages\n",
			acpi_ull(r.start), acpi_ull(r.size));
	if (v->nivmd == ACPI_MAX_RESV) {
		if (!st->ivmd_cap_warned)
			pr_warn("acpi: IVRS: more than %u IVMDs, ignoring the rest (from 0x%llx)\n",
				ACPI_MAX_RESV, acpi_ull(m.base));
		st->ivmd_cap_warned = true;
		return 0;
	}
	v->ivmd[v->nivmd++] = m;
	return 0;
}

static int acpi_ivrs_blocks(struct acpi_ivrs_state *st)
{
	struct acpi_subs it = {
		.p = st->t->p, .off = sizeof(struct acpi_ivrs_raw), .end = st->t->len,
		.len_at = 2, .len_size = 2, .min_len = 4,
	};
	const uint8_t *e;
	uint32_t len;
	int rc;

	while ((rc = acpi_subs_next(&it, &e, &len)) > 0) {
		uint32_t off = it.off - len;
		int err = 0;

		switch (e[0]) {
		case ACPI_IVHD_10:
		case ACPI_IVHD_11:
		case ACPI_IVHD_40:
			err = acpi_ivrs_ivhd(st, e, off, len);
			break;
		case ACPI_IVMD_ALL:
		case ACPI_IVMD_ONE:
		case ACPI_IVMD_RANGE:
			err = acpi_ivrs_ivmd(st, e, off, len);
			break;
		default:
			pr_debug("acpi: IVRS: block type 0x%x at offset %u skipped\n", e[0], off);
			break;
		}
		if (err)
			return err;
	}
	if (rc < 0) {
		acpi_table_bad(st->t, it.off, "block has a bad length");
		return trace_error(-EINVAL);
	}
	return 0;
}

void acpi_parse_ivrs(const struct acpi_table *t, struct acpi_info *out)
{
	struct acpi_ivrs *v = &out->ivrs;
	struct acpi_ivrs_state st = { .t = t, .v = v };
	struct acpi_ivrs_raw h;

	memset(v, 0, sizeof(*v));
	if (t->len < sizeof(h)) {
		acpi_table_bad(t, 0, "table too short (%u bytes)", t->len);
		return;
	}
	memcpy(&h, t->p, sizeof(h));
	if (acpi_ivrs_blocks(&st)) {
		memset(v, 0, sizeof(*v));
		return;
	}
	if (v->nivhd == 0) {
		pr_warn("acpi: IVRS: no IOMMU (IVHD type 0x10, 0x11 or 0x40), table ignored\n");
		memset(v, 0, sizeof(*v));
		return;
	}
	v->iv_info = h.iv_info;
	v->present = true;
	pr_info("acpi: IVRS: %u IOMMU(s), %u IVMD(s), IVinfo 0x%x\n",
		v->nivhd, v->nivmd, v->iv_info);
}
