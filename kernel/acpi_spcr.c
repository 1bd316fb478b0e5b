/*
 * SPCR (Microsoft "Serial Port Console Redirection Table", revisions
 * 1-4): the firmware's console UART; see acpi.h.
 */
#include "kernel/acpi_int.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"

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

void acpi_parse_spcr(const struct acpi_table *t, struct acpi_info *out)
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
