/*
 * The host's PCI interrupt routing (_PRT, ACPI 6.5 6.2.13) as far as it
 * can be read without running AML: the DSDT's routing packages
 *   Package () { Address, Pin, Source, SourceIndex }
 * with constant Address (device << 16 | 0xFFFF) and Pin (0-3 = INTA-D).
 * A Source of Zero means SourceIndex is the GSI (the common form of a
 * board's APIC-mode table); a Source naming a link device means the GSI
 * is that device's current resource, read when its _CRS is a constant
 * buffer holding an Extended Interrupt descriptor (6.4.3.6; QEMU's q35
 * GSIA-GSIH links). Links whose _CRS is a method (the PIC-mode LNKx of
 * most firmware) are not resolved: those entries are skipped.
 *
 * The packages are found by scanning, not by walking the namespace, so a
 * routing table's scope (which bus it describes) is not known: entries
 * are kept only for pins whose every readable APIC-mode entry (GSI 16 or
 * above) agrees; a pin with two different answers is ambiguous and gets
 * none. Callers use them for functions on the root bus only.
 */
#include "kernel/acpi_int.h"
#include "kernel/string.h"

#define AML_ZERO_OP	0x00
#define AML_ONE_OP	0x01
#define AML_NAME_OP	0x08
#define AML_BYTE_PREFIX	0x0a
#define AML_WORD_PREFIX	0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_QWORD_PREFIX 0x0e
#define AML_BUFFER_OP	0x11
#define AML_PACKAGE_OP	0x12
#define AML_DUAL_PREFIX	0x2e
#define AML_MULTI_PREFIX 0x2f
#define AML_EXT_OP	0x5b
#define AML_DEVICE_OP	0x82	/* after AML_EXT_OP */
#define AML_ROOT_CHAR	0x5c
#define AML_PARENT_CHAR	0x5e
#define AML_ONES_OP	0xff

#define RES_EXT_IRQ	0x89	/* large resource: Extended Interrupt */
#define RES_END_TAG	0x79
#define EXT_IRQ_EDGE	0x02
#define EXT_IRQ_LOW	0x04
#define APIC_MODE_GSI	16	/* below: an ISA IRQ of a PIC-mode table */

struct aml {
	const uint8_t *p;
	uint32_t off, end;
};

static bool lead_char(uint8_t c) { return (c >= 'A' && c <= 'Z') || c == '_'; }
static bool name_char(uint8_t c) { return lead_char(c) || (c >= '0' && c <= '9'); }

static bool name_seg_at(const struct aml *a, uint32_t off)
{
	return off + 4 <= a->end && lead_char(a->p[off]) && name_char(a->p[off + 1]) &&
	       name_char(a->p[off + 2]) && name_char(a->p[off + 3]);
}

/* An integer term (20.2.3): its value, advancing; false if not one. */
static bool aml_int(struct aml *a, uint64_t *v)
{
	static const uint8_t size[] = { [AML_BYTE_PREFIX] = 1, [AML_WORD_PREFIX] = 2,
					[AML_DWORD_PREFIX] = 4, [AML_QWORD_PREFIX] = 8 };
	uint8_t op;

	if (a->off >= a->end)
		return false;
	op = a->p[a->off];
	if (op == AML_ZERO_OP || op == AML_ONE_OP || op == AML_ONES_OP) {
		*v = op == AML_ONES_OP ? ~0ull : op;
		a->off++;
		return true;
	}
	if (op >= sizeof(size) || !size[op] || a->end - a->off < 1u + size[op])
		return false;
	*v = 0;
	for (unsigned i = 0; i < size[op]; i++)
		*v |= (uint64_t)a->p[a->off + 1 + i] << (8 * i);
	a->off += 1u + size[op];
	return true;
}

/* A NameString (20.2.2): its last segment into seg[4], advancing. */
static bool aml_name(struct aml *a, char seg[4])
{
	uint32_t off = a->off, n = 1;

	if (off < a->end && a->p[off] == AML_ROOT_CHAR)
		off++;
	else
		while (off < a->end && a->p[off] == AML_PARENT_CHAR)
			off++;
	if (off < a->end && a->p[off] == AML_DUAL_PREFIX) {
		n = 2;
		off++;
	} else if (off + 1 < a->end && a->p[off] == AML_MULTI_PREFIX) {
		n = a->p[off + 1];
		off += 2;
	}
	if (!n)
		return false;
	for (uint32_t i = 0; i < n; i++, off += 4)
		if (!name_seg_at(a, off))
			return false;
	memcpy(seg, a->p + off - 4, 4);
	a->off = off;
	return true;
}

/* PkgLength at a->off: the end of what it covers, advancing. */
static bool aml_pkg_end(struct aml *a, uint32_t *end)
{
	uint32_t start = a->off, len, used;

	if (acpi_aml_pkglen_at(a->p + a->off, a->end - a->off, &len, &used) || len < used ||
	    len > a->end - start)
		return false;
	a->off += used;
	*end = start + len;
	return true;
}

/* The first Extended Interrupt descriptor of a resource template. */
static bool ext_irq(const uint8_t *p, uint32_t len, uint32_t *gsi, bool *level, bool *low)
{
	for (uint32_t off = 0; off < len;) {
		uint8_t tag = p[off];
		if (!(tag & 0x80)) {		/* small: length in bits 2:0 */
			if ((tag >> 3) == (RES_END_TAG >> 3))
				return false;
			off += 1u + (tag & 7u);
			continue;
		}
		if (len - off < 3)
			return false;
		uint32_t dlen = p[off + 1] | (uint32_t)p[off + 2] << 8;
		if (dlen > len - off - 3)
			return false;
		if (tag == RES_EXT_IRQ && dlen >= 6 && p[off + 4] >= 1) {
			const uint8_t *d = p + off + 5;
			*gsi = d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
			*level = !(p[off + 3] & EXT_IRQ_EDGE);
			*low = p[off + 3] & EXT_IRQ_LOW;
			return true;
		}
		off += 3 + dlen;
	}
	return false;
}

/* Is a Device() at p[i]? Then the last segment of its name, where its
 * body starts (after the name) and where it ends. */
static bool device_at(const uint8_t *p, uint32_t len, uint32_t i, char name[4], uint32_t *body,
		      uint32_t *end)
{
	if (i + 2 >= len || p[i] != AML_EXT_OP || p[i + 1] != AML_DEVICE_OP)
		return false;
	struct aml a = { p, i + 2, len };
	if (!aml_pkg_end(&a, end) || !aml_name(&a, name))
		return false;
	*body = a.off;
	return true;
}

/* Device(body..end)'s constant _CRS: the GSI it names. */
static bool device_gsi(const uint8_t *p, uint32_t body, uint32_t end, uint32_t *gsi,
		       bool *level, bool *low)
{
	for (uint32_t k = body; k + 6 < end; k++) {
		if (p[k] != AML_NAME_OP || memcmp(p + k + 1, "_CRS", 4) || p[k + 5] != AML_BUFFER_OP)
			continue;
		struct aml b = { p, k + 6, end };
		uint32_t bend;
		uint64_t size;
		if (!aml_pkg_end(&b, &bend) || !aml_int(&b, &size) || b.off > bend ||
		    size > bend - b.off)
			return false;
		return ext_irq(p + b.off, (uint32_t)size, gsi, level, low);
	}
	return false;	/* a _CRS method, or none */
}

/*
 * The table's devices, found in one pass on the first link look-up, each
 * with its link answer once asked: a DSDT names a few links from hundreds
 * of packages (QEMU's q35: 8 from 256), and a scan per package would walk
 * the whole table each time. A table with more devices than the index
 * holds is scanned for the ones beyond it.
 */
#define DEVICES_INDEXED 256
struct dev_index {
	bool built, overflow;
	uint32_t n;
	struct {
		uint32_t name;		/* its 4 characters, compared as one word */
		uint32_t body, end;
		bool asked, ok, level, low;
		uint32_t gsi;
	} d[DEVICES_INDEXED];
};

/* Device(seg): the GSI its constant _CRS names (the first device of that
 * name in the table). */
static bool link_gsi(const uint8_t *p, uint32_t len, const char seg[4], uint32_t *gsi,
		     bool *level, bool *low, struct dev_index *x)
{
	char name[4];
	uint32_t body, end, want;

	memcpy(&want, seg, 4);
	for (uint32_t i = ACPI_HDR_LEN; !x->built && i < len; i++) {
		if (!device_at(p, len, i, name, &body, &end))
			continue;
		if (x->n == DEVICES_INDEXED) {
			x->overflow = true;
			break;
		}
		memcpy(&x->d[x->n].name, name, 4);
		x->d[x->n].body = body;
		x->d[x->n++].end = end;
	}
	x->built = true;
	for (uint32_t i = 0; i < x->n; i++) {
		if (x->d[i].name != want)
			continue;
		if (!x->d[i].asked) {
			x->d[i].asked = true;
			x->d[i].ok = device_gsi(p, x->d[i].body, x->d[i].end, &x->d[i].gsi,
						&x->d[i].level, &x->d[i].low);
		}
		*gsi = x->d[i].gsi;
		*level = x->d[i].level;
		*low = x->d[i].low;
		return x->d[i].ok;
	}
	for (uint32_t i = ACPI_HDR_LEN; x->overflow && i < len; i++)	/* beyond the index */
		if (device_at(p, len, i, name, &body, &end) && !memcmp(name, seg, 4))
			return device_gsi(p, body, end, gsi, level, low);
	return false;
}

/* A routing package at p[off] (PackageOp): its entry, or false. */
static bool prt_entry(const uint8_t *p, uint32_t len, uint32_t off, struct acpi_prt_entry *e,
		      struct dev_index *devs)
{
	struct aml a = { p, off + 1, len };
	uint64_t addr, pin, index;
	uint32_t end;
	char link[4];
	bool named = false;

	if (!aml_pkg_end(&a, &end) || a.off >= end || p[a.off++] != 4)
		return false;
	a.end = end;
	if (!aml_int(&a, &addr) || !aml_int(&a, &pin))
		return false;
	if ((addr & 0xffff) != 0xffff || addr >> 21 || pin > 3)
		return false;
	if (a.off < end && p[a.off] == AML_ZERO_OP)
		a.off++;
	else if (aml_name(&a, link))
		named = true;
	else
		return false;
	if (!aml_int(&a, &index) || a.off != end)
		return false;
	e->slot = (uint8_t)(addr >> 16);
	e->pin = (uint8_t)pin;
	if (!named) {
		e->gsi = (uint32_t)index;
		e->level = true;	/* PCI INTx: level, active low (6.2.13) */
		e->active_low = true;
		return index <= 0xffffffffu;
	}
	return link_gsi(p, len, link, &e->gsi, &e->level, &e->active_low, devs);
}

void acpi_dsdt_prt(const uint8_t *p, uint32_t len, struct acpi_prt *out)
{
	uint8_t ambiguous[32] = { 0 };	/* per slot, a bit per pin */
	static struct dev_index devs;	/* boot only, one table at a time: 6 KiB off the stack */

	memset(&devs, 0, sizeof(devs));
	memset(out, 0, sizeof(*out));
	for (uint32_t i = ACPI_HDR_LEN; i < len; i++) {
		struct acpi_prt_entry e;
		if (p[i] != AML_PACKAGE_OP || !prt_entry(p, len, i, &e, &devs) ||
		    e.gsi < APIC_MODE_GSI)
			continue;
		bool known = false;
		for (uint32_t k = 0; k < out->n; k++) {
			struct acpi_prt_entry *o = &out->e[k];
			if (o->slot != e.slot || o->pin != e.pin)
				continue;
			known = true;
			if (o->gsi != e.gsi)
				ambiguous[e.slot] |= (uint8_t)(1u << e.pin);
		}
		if (!known && out->n < ACPI_MAX_PRT)
			out->e[out->n++] = e;
	}
	uint32_t kept = 0;
	for (uint32_t k = 0; k < out->n; k++)
		if (!(ambiguous[out->e[k].slot] & (1u << out->e[k].pin)))
			out->e[kept++] = out->e[k];
	out->n = kept;
}

bool acpi_prt_lookup(const struct acpi_prt *prt, uint8_t slot, uint8_t pin,
		     struct acpi_prt_entry *out)
{
	for (uint32_t k = 0; k < prt->n; k++)
		if (prt->e[k].slot == slot && prt->e[k].pin == pin) {
			*out = prt->e[k];
			return true;
		}
	return false;
}
