/*
 * FADT (ACPI 6.5 5.2.9) and the \_S5 package of the DSDT it points to:
 * ACPI poweroff and the reset register; see acpi.h. The DSDT is AML
 * (chapter 20); all that is read of it is the \_S5 package, found by
 * its byte pattern, not by interpreting the AML.
 */
#include "kernel/acpi_int.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"

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

/* PkgLength (acpi_aml_pkglen_at). */
static enum acpi_s5_bad acpi_aml_pkglen(struct acpi_aml *a, uint32_t *len)
{
	uint32_t used;
	int r = acpi_aml_pkglen_at(a->p + a->off, a->end - a->off, len, &used);

	if (r)
		return r == -1 ? ACPI_S5_CUT : ACPI_S5_BAD_PKGLEN;
	a->off += used;
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
void acpi_parse_fadt(const struct acpi_table *t, struct acpi_info *out)
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
	else if (acpi_root_load(t->map, dsdt_phys, "DSDT", ": ACPI poweroff unavailable",
				LOG_WARN, &dsdt) == 0) {
		acpi_dsdt_s5(&dsdt, pm);
		acpi_dsdt_prt(dsdt.p, dsdt.len, &out->prt);
	}
	acpi_pm_debug(pm);
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
