/*
 * What the per-table parsers (kernel/acpi_*.c) share with the root-table
 * walker in kernel/acpi.c: the common table header and Generic Address
 * Structure layouts, a loaded table, and the helpers that load one more
 * table. Internal to the ACPI code; everyone else includes kernel/acpi.h.
 *
 * A parser gets a table that passed acpi_table_load (mapped whole, Length
 * and checksum good); it still checks every length and offset inside it.
 */
#ifndef KERNEL_ACPI_INT_H
#define KERNEL_ACPI_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/acpi.h"
#include "kernel/printk.h"

#define ACPI_PACKED __attribute__((packed))

#define ACPI_HDR_LEN        36u

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


/* ACPI 6.5 5.2.3.2: Generic Address Structure */
struct acpi_gas {
	uint8_t space_id;	/* 0: system memory, 1: system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS is 12 bytes");

/* A table that passed acpi_table_load: mapped whole, length and sum OK. */
struct acpi_table {
	acpi_map_fn map;	/* what it was read through (for tables it points to) */
	const uint8_t *p;
	uint64_t phys;
	uint32_t len;
	char sig[5];	/* printable copy of the signature */
};


static inline unsigned long long acpi_ull(uint64_t v) { return (unsigned long long)v; }

/*
 * ACPI 6.5 20.2.4 PkgLength at p (left bytes there): bits 7:6 of the lead
 * byte count the bytes that follow it (0-3). With none, bits 5:0 are the
 * length; else bits 3:0 are its low 4 bits (bits 5:4 must be 0) and each
 * following byte the next 8. The length counts the PkgLength bytes
 * themselves. 0 (with *len and the bytes *used), -1 cut off, -2 malformed.
 */
static inline int acpi_aml_pkglen_at(const uint8_t *p, uint32_t left, uint32_t *len,
				     uint32_t *used)
{
	uint32_t n;

	if (left == 0)
		return -1;
	n = p[0] >> 6;
	if (left < 1 + n)
		return -1;
	if (n == 0) {
		*len = p[0] & 0x3fu;
	} else {
		if (p[0] & 0x30)
			return -2;
		*len = p[0] & 0x0fu;
		for (uint32_t i = 1; i <= n; i++)
			*len |= (uint32_t)p[i] << (8 * i - 4);
	}
	*used = 1 + n;
	return 0;
}

/* A little-endian 16-bit field at p (tables need not be aligned). */
static inline uint16_t acpi_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* The offset bits of a 4 KiB page (RMRR and IVMD ranges are page aligned). */
#define ACPI_PAGE_MASK 0xfffull

/* Peek + load the table at phys (the DSDT...) and check its signature;
 * on failure one line at level lvl, ending in `then`. 0, -EINVAL or
 * -EFAULT. */
int acpi_root_load(acpi_map_fn map, uint64_t phys, const char *sig,
		   const char *then, enum log_level lvl, struct acpi_table *t);

/*
 * A run of variable-length sub-structures (DMAR remapping structures and
 * device scopes, IVRS blocks...): each starts with a type and, len_at
 * bytes in, a Length field of len_size (1 or 2) bytes that counts the
 * whole structure. p[off, end) holds them; min_len is the shortest
 * length that is not malformed (at least the type and length fields).
 */
struct acpi_subs {
	const uint8_t *p;
	uint32_t off;		/* where the next one starts */
	uint32_t end;
	uint8_t len_at;
	uint8_t len_size;
	uint8_t min_len;
};

/* The next sub-structure: 1 with *e and *len (min_len <= *len, inside
 * end), 0 when none is left, -EINVAL when its Length is bad or cut off
 * (it->off then stays at the bad one, for the report). */
int acpi_subs_next(struct acpi_subs *it, const uint8_t **e, uint32_t *len);

/* The one line that says table t is malformed and ignored as a whole:
 * "acpi: SIG: <what> at offset OFF, table ignored". */
void acpi_table_bad(const struct acpi_table *t, uint32_t off, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

/* The per-table parsers, called by the walker in acpi.c for the first
 * table with their signature. */
void acpi_parse_madt(const struct acpi_table *t, struct acpi_info *out);
void acpi_parse_mcfg(const struct acpi_table *t, struct acpi_info *out);
void acpi_parse_spcr(const struct acpi_table *t, struct acpi_info *out);
void acpi_parse_fadt(const struct acpi_table *t, struct acpi_info *out);
void acpi_parse_dmar(const struct acpi_table *t, struct acpi_info *out);
void acpi_parse_ivrs(const struct acpi_table *t, struct acpi_info *out);

#endif
