/*
 * MCFG (PCI Firmware Specification 3.x, "MCFG table"): the ECAM
 * windows; see acpi.h.
 */
#include "kernel/acpi_int.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"

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

/* ---- MCFG ------------------------------------------------------------ */

void acpi_parse_mcfg(const struct acpi_table *t, struct acpi_info *out)
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
