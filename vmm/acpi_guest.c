/*
 * A domain's ACPI tables; see acpi_guest.h. The producer side of
 * kernel/acpi.c (which reads the machine's tables): the layouts are the
 * same ACPI 6.5 chapter 5 structures, declared again here because this
 * side writes every field, not only the few the parser reads.
 *
 * Layout in the area at gpa (64-byte aligned), offsets fixed except the
 * MADT's length, which is last:
 *
 *     0  RSDP  36 bytes, revision 2 (ACPI 2.0+), XSDT only
 *    64  FACS  64 bytes (64-byte aligned, 5.2.10)
 *   128  XSDT  52 bytes: FACP, APIC
 *   192  FADT  276 bytes, revision 6
 *   480  DSDT  101 bytes: \_S5 and \_SB.COM1
 *   592  MADT  44 + 8 per xAPIC CPU + 16 per x2APIC CPU + 38 (+ 12 with
 *              any x2APIC CPU)
 *
 * There is no RSDT (RSDP RsdtAddress 0): the tables may sit above 4 GiB,
 * and a 64-bit kernel reads the XSDT anyway (5.2.5.3: "An ACPI-compatible
 * OS must use the XSDT if present"), so one root table it is.
 *
 * What the hypervisor must emulate for these tables to hold (for Linux):
 *   - PM1a_STS at 0x600 and PM1a_EN at 0x602 (16 bits each,
 *     write-1-to-clear status); PWRBTN_STS + SCI is a graceful shutdown
 *     request (the power button is a fixed feature: FADT PWR_BUTTON clear);
 *   - PM1a_CNT at 0x604: SCI_EN (bit 0) reads as 1, since there is no
 *     SMI_CMD and the platform is always in ACPI mode (4.8.2.1); writing
 *     SLP_TYP 5 with SLP_EN powers the domain off;
 *   - PM_TMR at 0x608: a free-running 24-bit counter at 3.579545 MHz
 *     (4.8.3.3; TMR_VAL_EXT clear). PM_TMR_BLK is required on non
 *     hardware-reduced platforms, and Linux calibrates against it and may
 *     pick it as a clocksource, so it must count for real;
 *   - byte writes of 0x06 to 0xcf9 reset the domain (RESET_REG);
 *   - the SCI on IOAPIC pin 9, level-triggered active-high (the MADT
 *     override, as QEMU's tables have it); IRQ 0 on pin 2;
 *   - a minimal dual 8259 (PCAT_COMPAT: Linux probes it).
 */
#include "vmm/acpi_guest.h"

#include <stdbool.h>

#include "kernel/printk.h"
#include "kernel/string.h"

#define AG_PACKED __attribute__((packed))

#define AG_OEM_ID        "HVSTAT"	/* 6 bytes */
#define AG_OEM_TABLE_ID  "HVDOMAIN"	/* 8 bytes */
#define AG_OEM_REVISION  1u
#define AG_CREATOR_ID    "HVST"		/* 4 bytes */
#define AG_CREATOR_REV   1u

/* The platform (see acpi_guest.h) */
#define AG_LAPIC_ADDR     0xfee00000u
#define AG_IOAPIC_ADDR    0xfec00000u
#define AG_IOAPIC_ID      0u
#define AG_SCI_IRQ        9u
#define AG_PM1A_EVT_BLK   0x600u
#define AG_PM1_EVT_LEN    4u
#define AG_PM1A_CNT_BLK   0x604u
#define AG_PM1_CNT_LEN    2u
#define AG_PM_TMR_BLK     0x608u
#define AG_PM_TMR_LEN     4u
#define AG_RESET_PORT     0xcf9u
#define AG_RESET_VALUE    0x06u

/* ---- layouts (ACPI 6.5 chapter 5) ------------------------------------ */

/* 5.2.5.3: Root System Description Pointer */
struct ag_rsdp {
	char signature[8];	/* "RSD PTR " */
	uint8_t checksum;	/* first 20 bytes */
	char oem_id[6];
	uint8_t revision;	/* 2: ACPI 2.0+ */
	uint32_t rsdt_addr;
	uint32_t length;	/* 36 */
	uint64_t xsdt_addr;
	uint8_t ext_checksum;	/* all 36 bytes */
	uint8_t reserved[3];
} AG_PACKED;
_Static_assert(sizeof(struct ag_rsdp) == 36, "RSDP is 36 bytes");

/* 5.2.6: System Description Table Header */
struct ag_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} AG_PACKED;
_Static_assert(sizeof(struct ag_header) == 36, "SDT header is 36 bytes");

#define AG_CHECKSUM_OFF 9u	/* of the header's checksum byte */

/* 5.2.3.2: Generic Address Structure */
struct ag_gas {
	uint8_t space_id;	/* 1: system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;	/* 0: undefined (legacy), 1: byte */
	uint64_t address;
} AG_PACKED;
_Static_assert(sizeof(struct ag_gas) == 12, "GAS is 12 bytes");

#define AG_GAS_IO 1u

/* 5.2.9: Fixed ACPI Description Table, revision 6 (table 5.9) */
struct ag_fadt {
	struct ag_header hdr;		/* "FACP" */
	uint32_t firmware_ctrl;		/* 36 */
	uint32_t dsdt;			/* 40 */
	uint8_t reserved1;		/* 44: was INT_MODEL (ACPI 1.0) */
	uint8_t preferred_pm_profile;	/* 45 */
	uint16_t sci_int;		/* 46 */
	uint32_t smi_cmd;		/* 48 */
	uint8_t acpi_enable;		/* 52 */
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;		/* 56 */
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;		/* 64 */
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;		/* 72 */
	uint32_t pm_tmr_blk;		/* 76 */
	uint32_t gpe0_blk;		/* 80 */
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;		/* 88 */
	uint8_t pm1_cnt_len;		/* 89 */
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;		/* 91 */
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;		/* 96 */
	uint16_t p_lvl3_lat;
	uint16_t flush_size;		/* 100 */
	uint16_t flush_stride;
	uint8_t duty_offset;		/* 104 */
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;		/* 108 */
	uint16_t iapc_boot_arch;	/* 109 */
	uint8_t reserved2;
	uint32_t flags;			/* 112 */
	struct ag_gas reset_reg;	/* 116 */
	uint8_t reset_value;		/* 128 */
	uint16_t arm_boot_arch;		/* 129 */
	uint8_t minor_version;		/* 131 */
	uint64_t x_firmware_ctrl;	/* 132 */
	uint64_t x_dsdt;		/* 140 */
	struct ag_gas x_pm1a_evt_blk;	/* 148 */
	struct ag_gas x_pm1b_evt_blk;	/* 160 */
	struct ag_gas x_pm1a_cnt_blk;	/* 172 */
	struct ag_gas x_pm1b_cnt_blk;	/* 184 */
	struct ag_gas x_pm2_cnt_blk;	/* 196 */
	struct ag_gas x_pm_tmr_blk;	/* 208 */
	struct ag_gas x_gpe0_blk;	/* 220 */
	struct ag_gas x_gpe1_blk;	/* 232 */
	struct ag_gas sleep_control_reg;	/* 244, hardware-reduced only */
	struct ag_gas sleep_status_reg;		/* 256 */
	char hypervisor_vendor[8];	/* 268 */
} AG_PACKED;
_Static_assert(offsetof(struct ag_fadt, sci_int) == 46, "FADT SCI_INT");
_Static_assert(offsetof(struct ag_fadt, pm1a_evt_blk) == 56, "FADT PM1a_EVT_BLK");
_Static_assert(offsetof(struct ag_fadt, pm1a_cnt_blk) == 64, "FADT PM1a_CNT_BLK");
_Static_assert(offsetof(struct ag_fadt, pm_tmr_blk) == 76, "FADT PM_TMR_BLK");
_Static_assert(offsetof(struct ag_fadt, pm1_evt_len) == 88, "FADT PM1_EVT_LEN");
_Static_assert(offsetof(struct ag_fadt, p_lvl2_lat) == 96, "FADT P_LVL2_LAT");
_Static_assert(offsetof(struct ag_fadt, iapc_boot_arch) == 109, "FADT IAPC_BOOT_ARCH");
_Static_assert(offsetof(struct ag_fadt, flags) == 112, "FADT Flags");
_Static_assert(offsetof(struct ag_fadt, reset_reg) == 116, "FADT RESET_REG");
_Static_assert(offsetof(struct ag_fadt, reset_value) == 128, "FADT RESET_VALUE");
_Static_assert(offsetof(struct ag_fadt, x_firmware_ctrl) == 132, "FADT X_FIRMWARE_CTRL");
_Static_assert(offsetof(struct ag_fadt, x_dsdt) == 140, "FADT X_DSDT");
_Static_assert(offsetof(struct ag_fadt, x_pm1a_cnt_blk) == 172, "FADT X_PM1a_CNT_BLK");
_Static_assert(offsetof(struct ag_fadt, x_pm_tmr_blk) == 208, "FADT X_PM_TMR_BLK");
_Static_assert(offsetof(struct ag_fadt, sleep_control_reg) == 244, "FADT SLEEP_CONTROL_REG");
_Static_assert(sizeof(struct ag_fadt) == 276, "FADT revision 6 is 276 bytes");

#define AG_FADT_REVISION  6u
#define AG_FADT_MINOR     5u	/* ACPI 6.5 */

/* FADT Flags (table 5.10) */
#define AG_FADT_WBINVD         (1u << 0)
#define AG_FADT_PROC_C1        (1u << 2)	/* C1 (HLT) on all processors */
#define AG_FADT_SLP_BUTTON     (1u << 5)	/* no fixed-feature sleep button */
#define AG_FADT_RESET_REG_SUP  (1u << 10)

/* FADT IA-PC Boot Architecture Flags (table 5.11); 8042 (bit 1) clear:
 * Linux then does not probe for a keyboard controller. */
#define AG_BOOT_LEGACY_DEVICES   (1u << 0)
#define AG_BOOT_VGA_NOT_PRESENT  (1u << 2)

/* P_LVL2_LAT > 100 and P_LVL3_LAT > 1000: no C2, no C3 (table 5.9) */
#define AG_NO_C2_LATENCY  101u
#define AG_NO_C3_LATENCY  1001u

/* 5.2.10: Firmware ACPI Control Structure (no checksum) */
struct ag_facs {
	char signature[4];	/* "FACS" */
	uint32_t length;	/* 64 */
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;	/* 2 */
	uint8_t reserved1[3];
	uint32_t ospm_flags;
	uint8_t reserved2[24];
} AG_PACKED;
_Static_assert(sizeof(struct ag_facs) == 64, "FACS is 64 bytes");

/* 5.2.12: Multiple APIC Description Table, fixed part */
struct ag_madt {
	struct ag_header hdr;	/* "APIC" */
	uint32_t lapic_addr;
	uint32_t flags;
} AG_PACKED;
_Static_assert(sizeof(struct ag_madt) == 44, "MADT fixed part is 44 bytes");

#define AG_MADT_REVISION     5u
#define AG_MADT_PCAT_COMPAT  (1u << 0)
#define AG_MADT_ENABLED      (1u << 0)	/* processor flags, table 5.23 */

enum ag_madt_type {
	AG_MADT_LAPIC = 0,
	AG_MADT_IOAPIC = 1,
	AG_MADT_ISO = 2,
	AG_MADT_LAPIC_NMI = 4,
	AG_MADT_X2APIC = 9,
	AG_MADT_X2APIC_NMI = 10,
};

/* 5.2.12.2: Processor Local APIC Structure */
struct ag_madt_lapic {
	uint8_t type, length;
	uint8_t uid;
	uint8_t apic_id;
	uint32_t flags;
} AG_PACKED;
_Static_assert(sizeof(struct ag_madt_lapic) == 8, "MADT type 0 is 8 bytes");

/* 5.2.12.3: I/O APIC Structure */
struct ag_madt_ioapic {
	uint8_t type, length;
	uint8_t id;
	uint8_t reserved;
	uint32_t addr;
	uint32_t gsi_base;
} AG_PACKED;
_Static_assert(sizeof(struct ag_madt_ioapic) == 12, "MADT type 1 is 12 bytes");

/* 5.2.12.5: Interrupt Source Override Structure */
struct ag_madt_iso {
	uint8_t type, length;
	uint8_t bus;		/* 0: ISA */
	uint8_t source;		/* ISA IRQ */
	uint32_t gsi;
	uint16_t flags;		/* MPS INTI flags */
} AG_PACKED;
_Static_assert(sizeof(struct ag_madt_iso) == 10, "MADT type 2 is 10 bytes");

/* MPS INTI flags (table 5.26): polarity bits 1:0, trigger mode bits 3:2;
 * 0 = conforms to the bus (ISA: edge, active high) */
#define AG_INTI_CONFORMING    0x0u
#define AG_INTI_ACTIVE_HIGH   0x1u
#define AG_INTI_LEVEL         (0x3u << 2)

/* 5.2.12.7: Local APIC NMI Structure */
struct ag_madt_lapic_nmi {
	uint8_t type, length;
	uint8_t uid;		/* 0xff: all processors */
	uint16_t flags;
	uint8_t lint;
} AG_PACKED;
_Static_assert(sizeof(struct ag_madt_lapic_nmi) == 6, "MADT type 4 is 6 bytes");

/* 5.2.12.12: Processor Local x2APIC Structure */
struct ag_madt_x2apic {
	uint8_t type, length;
	uint16_t reserved;
	uint32_t x2apic_id;
	uint32_t flags;
	uint32_t uid;
} AG_PACKED;
_Static_assert(sizeof(struct ag_madt_x2apic) == 16, "MADT type 9 is 16 bytes");

/* 5.2.12.13: Local x2APIC NMI Structure */
struct ag_madt_x2apic_nmi {
	uint8_t type, length;
	uint16_t flags;
	uint32_t uid;		/* 0xffffffff: all processors */
	uint8_t lint;
	uint8_t reserved[3];
} AG_PACKED;
_Static_assert(sizeof(struct ag_madt_x2apic_nmi) == 12, "MADT type 10 is 12 bytes");

/* 5.2.12.12: APIC IDs from 255 up need x2APIC entries; below, xAPIC. */
#define AG_XAPIC_ID_LIMIT  255u
#define AG_NMI_ALL_XAPIC   0xffu
#define AG_NMI_ALL_X2APIC  0xffffffffu
#define AG_LINT1           1u

/* The MADT entries after the CPUs: IOAPIC, two overrides, the NMI. */
#define AG_MADT_TAIL_LEN (sizeof(struct ag_madt_ioapic) +			\
			  2 * sizeof(struct ag_madt_iso) +			\
			  sizeof(struct ag_madt_lapic_nmi))

/*
 * The DSDT body (ACPI 6.5 chapter 20, AML), hand-assembled; what
 * `iasl` makes of this ASL, byte for byte:
 *
 *   DefinitionBlock ("", "DSDT", 2, "HVSTAT", "HVDOMAIN", 1)
 *   {
 *       Name (_S5, Package (0x04) { 0x05, 0x05, Zero, Zero })
 *       Scope (_SB)
 *       {
 *           Device (COM1)
 *           {
 *               Name (_HID, EisaId ("PNP0501"))
 *               Name (_UID, One)
 *               Name (_CRS, ResourceTemplate ()
 *               {
 *                   IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08)
 *                   IRQNoFlags () {4}
 *               })
 *           }
 *       }
 *   }
 *
 * A PkgLength (20.2.4) under 64 is one byte, the length itself, counting
 * that byte and everything up to the end of the package.
 */
static const uint8_t ag_dsdt_aml[] = {
	/* Name (_S5, Package (4) { 5, 5, 0, 0 }): 14 bytes. Package
	 * PkgLength 8 = itself, NumElements, 2 x (BytePrefix, 5), 2 x Zero. */
	0x08, '_', 'S', '5', '_',
	0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00,
	/* Scope (_SB): ScopeOp, PkgLength 50 = itself, "_SB_", the 45-byte
	 * Device */
	0x10, 0x32, '_', 'S', 'B', '_',
	/* Device (COM1): ExtOpPrefix DeviceOp, PkgLength 43 = itself,
	 * "COM1", the three Names (10 + 6 + 22 bytes) */
	0x5b, 0x82, 0x2b, 'C', 'O', 'M', '1',
	/* Name (_HID, EisaId ("PNP0501")): DWordPrefix 0x0105d041 */
	0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01,
	/* Name (_UID, One) */
	0x08, '_', 'U', 'I', 'D', 0x01,
	/* Name (_CRS, Buffer): BufferOp, PkgLength 16 = itself, BufferSize
	 * (BytePrefix 13), 13 bytes of resource descriptors (6.4) */
	0x08, '_', 'C', 'R', 'S', 0x11, 0x10, 0x0a, 0x0d,
	/* IO port descriptor (6.4.2.5): Decode16, min = max 0x3f8,
	 * alignment 1, length 8 */
	0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
	/* IRQ descriptor, no flags byte (6.4.2.1): mask bit 4 */
	0x22, 0x10, 0x00,
	/* End Tag (6.4.2.9), checksum 0: "treat as correct" */
	0x79, 0x00,
};
_Static_assert(sizeof(ag_dsdt_aml) == 14 + 51, "DSDT body is 65 bytes");

#define AG_DSDT_REVISION 2u	/* 2+: 64-bit AML integers */

/* ---- layout ---------------------------------------------------------- */

#define AG_ALIGN(x, a) (((x) + (a) - 1) / (a) * (a))

#define AG_XSDT_ENTRIES 2u	/* FACP, APIC */
#define AG_XSDT_LEN     (sizeof(struct ag_header) + AG_XSDT_ENTRIES * 8u)
#define AG_DSDT_LEN     (sizeof(struct ag_header) + sizeof(ag_dsdt_aml))

enum {
	AG_RSDP_OFF = 0,
	AG_FACS_OFF = AG_ALIGN(AG_RSDP_OFF + sizeof(struct ag_rsdp), 64),
	AG_XSDT_OFF = AG_FACS_OFF + sizeof(struct ag_facs),
	AG_FADT_OFF = AG_ALIGN(AG_XSDT_OFF + AG_XSDT_LEN, 16),
	AG_DSDT_OFF = AG_ALIGN(AG_FADT_OFF + sizeof(struct ag_fadt), 16),
	AG_MADT_OFF = AG_ALIGN(AG_DSDT_OFF + AG_DSDT_LEN, 16),
};
_Static_assert(AG_FACS_OFF % 64 == 0, "FACS 64-byte aligned");
_Static_assert(AG_MADT_OFF == 592, "layout as documented above");

/* The MADT's length for n_x CPUs with xAPIC entries and n_x2 with x2APIC
 * ones (and then the x2APIC NMI entry). */
static size_t ag_madt_len(uint32_t n_x, uint32_t n_x2)
{
	return sizeof(struct ag_madt) + (size_t)n_x * sizeof(struct ag_madt_lapic) +
	       (size_t)n_x2 * sizeof(struct ag_madt_x2apic) + AG_MADT_TAIL_LEN +
	       (n_x2 ? sizeof(struct ag_madt_x2apic_nmi) : 0);
}

size_t acpi_guest_size(uint32_t ncpus)
{
	return AG_MADT_OFF + ag_madt_len(0, ncpus);
}

/* ---- writing --------------------------------------------------------- */

static unsigned long long ag_ull(uint64_t v) { return (unsigned long long)v; }

/* Make p[0, len) sum to 0 (mod 256) with the byte at csum_off. */
static void ag_checksum(uint8_t *p, size_t len, size_t csum_off)
{
	uint8_t sum = 0;

	p[csum_off] = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	p[csum_off] = (uint8_t)(0x100u - sum);
}

static void ag_header_init(struct ag_header *h, const char *sig, size_t len,
			   uint8_t revision)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->signature, sig, 4);
	h->length = (uint32_t)len;
	h->revision = revision;
	memcpy(h->oem_id, AG_OEM_ID, 6);
	memcpy(h->oem_table_id, AG_OEM_TABLE_ID, 8);
	h->oem_revision = AG_OEM_REVISION;
	memcpy(h->creator_id, AG_CREATOR_ID, 4);
	h->creator_revision = AG_CREATOR_REV;
}

static struct ag_gas ag_gas_io(uint16_t port, uint8_t bytes, uint8_t access_size)
{
	return (struct ag_gas){
		.space_id = AG_GAS_IO,
		.bit_width = (uint8_t)(bytes * 8u),
		.access_size = access_size,
		.address = port,
	};
}

static void ag_build_rsdp(uint8_t *buf, uint64_t gpa)
{
	struct ag_rsdp r;

	memset(&r, 0, sizeof(r));
	memcpy(r.signature, "RSD PTR ", 8);
	memcpy(r.oem_id, AG_OEM_ID, 6);
	r.revision = 2;
	r.rsdt_addr = 0;	/* no RSDT, see the top of this file */
	r.length = sizeof(r);
	r.xsdt_addr = gpa + AG_XSDT_OFF;
	memcpy(buf + AG_RSDP_OFF, &r, sizeof(r));
	ag_checksum(buf + AG_RSDP_OFF, 20, offsetof(struct ag_rsdp, checksum));
	ag_checksum(buf + AG_RSDP_OFF, sizeof(r), offsetof(struct ag_rsdp, ext_checksum));
}

static void ag_build_facs(uint8_t *buf)
{
	struct ag_facs f;

	memset(&f, 0, sizeof(f));
	memcpy(f.signature, "FACS", 4);
	f.length = sizeof(f);
	f.version = 2;
	memcpy(buf + AG_FACS_OFF, &f, sizeof(f));
}

static void ag_build_xsdt(uint8_t *buf, uint64_t gpa)
{
	const uint64_t entries[AG_XSDT_ENTRIES] = {
		gpa + AG_FADT_OFF, gpa + AG_MADT_OFF,
	};
	struct ag_header h;

	ag_header_init(&h, "XSDT", AG_XSDT_LEN, 1);
	memcpy(buf + AG_XSDT_OFF, &h, sizeof(h));
	memcpy(buf + AG_XSDT_OFF + sizeof(h), entries, sizeof(entries));
	ag_checksum(buf + AG_XSDT_OFF, AG_XSDT_LEN, AG_CHECKSUM_OFF);
}

static void ag_build_fadt(uint8_t *buf, uint64_t gpa)
{
	uint64_t dsdt = gpa + AG_DSDT_OFF;
	struct ag_fadt f;

	memset(&f, 0, sizeof(f));
	ag_header_init(&f.hdr, "FACP", sizeof(f), AG_FADT_REVISION);
	/* Only one of FIRMWARE_CTRL and X_FIRMWARE_CTRL may be non-zero
	 * (table 5.9): the 64-bit one, which works anywhere. */
	f.x_firmware_ctrl = gpa + AG_FACS_OFF;
	/* X_DSDT wins when both are set (table 5.9); DSDT too when it fits,
	 * for readers that look there. */
	f.dsdt = dsdt <= UINT32_MAX ? (uint32_t)dsdt : 0;
	f.x_dsdt = dsdt;
	f.sci_int = AG_SCI_IRQ;
	f.smi_cmd = 0;		/* no SMI: always in ACPI mode (SCI_EN set) */
	f.pm1a_evt_blk = AG_PM1A_EVT_BLK;
	f.pm1a_cnt_blk = AG_PM1A_CNT_BLK;
	f.pm_tmr_blk = AG_PM_TMR_BLK;	/* must count: see the top */
	f.pm1_evt_len = AG_PM1_EVT_LEN;
	f.pm1_cnt_len = AG_PM1_CNT_LEN;
	f.pm_tmr_len = AG_PM_TMR_LEN;
	f.p_lvl2_lat = AG_NO_C2_LATENCY;
	f.p_lvl3_lat = AG_NO_C3_LATENCY;
	f.iapc_boot_arch = AG_BOOT_LEGACY_DEVICES | AG_BOOT_VGA_NOT_PRESENT;
	f.flags = AG_FADT_WBINVD | AG_FADT_PROC_C1 | AG_FADT_SLP_BUTTON |
		  AG_FADT_RESET_REG_SUP;
	/* 4.8.4.6: an 8-bit register at offset 0 */
	f.reset_reg = ag_gas_io(AG_RESET_PORT, 1, 1);
	f.reset_value = AG_RESET_VALUE;
	f.minor_version = AG_FADT_MINOR;
	/* The X_ blocks say what the 32-bit ones do; bit widths = the _LEN
	 * fields x 8, or ACPICA complains of a length mismatch. */
	f.x_pm1a_evt_blk = ag_gas_io(AG_PM1A_EVT_BLK, AG_PM1_EVT_LEN, 0);
	f.x_pm1a_cnt_blk = ag_gas_io(AG_PM1A_CNT_BLK, AG_PM1_CNT_LEN, 0);
	f.x_pm_tmr_blk = ag_gas_io(AG_PM_TMR_BLK, AG_PM_TMR_LEN, 0);
	memcpy(f.hypervisor_vendor, AG_OEM_ID, 6);
	memcpy(buf + AG_FADT_OFF, &f, sizeof(f));
	ag_checksum(buf + AG_FADT_OFF, sizeof(f), AG_CHECKSUM_OFF);
}

static void ag_build_dsdt(uint8_t *buf)
{
	struct ag_header h;

	ag_header_init(&h, "DSDT", AG_DSDT_LEN, AG_DSDT_REVISION);
	memcpy(buf + AG_DSDT_OFF, &h, sizeof(h));
	memcpy(buf + AG_DSDT_OFF + sizeof(h), ag_dsdt_aml, sizeof(ag_dsdt_aml));
	ag_checksum(buf + AG_DSDT_OFF, AG_DSDT_LEN, AG_CHECKSUM_OFF);
}

/* Append n bytes at *off. */
static void ag_put(uint8_t *buf, size_t *off, const void *p, size_t n)
{
	memcpy(buf + *off, p, n);
	*off += n;
}

/* The MADT, madt_len bytes (ag_madt_len for these CPUs). */
static void ag_build_madt(uint8_t *buf, size_t madt_len,
			  const struct acpi_guest_cpu *cpus, uint32_t ncpus)
{
	const struct ag_madt_ioapic ioapic = {
		.type = AG_MADT_IOAPIC, .length = sizeof(ioapic),
		.id = AG_IOAPIC_ID, .addr = AG_IOAPIC_ADDR, .gsi_base = 0,
	};
	/* As on PCs (and QEMU): the PIT's IRQ 0 on IOAPIC pin 2; the SCI
	 * level-triggered, active-high (QEMU's flags for it, 0x000d). */
	const struct ag_madt_iso isos[2] = {
		{ .type = AG_MADT_ISO, .length = sizeof(isos[0]),
		  .source = 0, .gsi = 2, .flags = AG_INTI_CONFORMING },
		{ .type = AG_MADT_ISO, .length = sizeof(isos[0]),
		  .source = AG_SCI_IRQ, .gsi = AG_SCI_IRQ,
		  .flags = AG_INTI_ACTIVE_HIGH | AG_INTI_LEVEL },
	};
	const struct ag_madt_lapic_nmi nmi = {
		.type = AG_MADT_LAPIC_NMI, .length = sizeof(nmi),
		.uid = AG_NMI_ALL_XAPIC, .flags = AG_INTI_CONFORMING, .lint = AG_LINT1,
	};
	const struct ag_madt_x2apic_nmi x2nmi = {
		.type = AG_MADT_X2APIC_NMI, .length = sizeof(x2nmi),
		.flags = AG_INTI_CONFORMING, .uid = AG_NMI_ALL_X2APIC, .lint = AG_LINT1,
	};
	size_t off = AG_MADT_OFF;
	bool any_x2 = false;
	struct ag_madt m;

	ag_header_init(&m.hdr, "APIC", madt_len, AG_MADT_REVISION);
	m.lapic_addr = AG_LAPIC_ADDR;
	m.flags = AG_MADT_PCAT_COMPAT;
	ag_put(buf, &off, &m, sizeof(m));
	for (uint32_t i = 0; i < ncpus; i++) {
		if (cpus[i].apic_id < AG_XAPIC_ID_LIMIT) {
			const struct ag_madt_lapic l = {
				.type = AG_MADT_LAPIC, .length = sizeof(l),
				.uid = (uint8_t)i, .apic_id = (uint8_t)cpus[i].apic_id,
				.flags = AG_MADT_ENABLED,
			};
			ag_put(buf, &off, &l, sizeof(l));
		} else {
			const struct ag_madt_x2apic x = {
				.type = AG_MADT_X2APIC, .length = sizeof(x),
				.x2apic_id = cpus[i].apic_id, .flags = AG_MADT_ENABLED,
				.uid = i,
			};
			ag_put(buf, &off, &x, sizeof(x));
			any_x2 = true;
		}
	}
	ag_put(buf, &off, &ioapic, sizeof(ioapic));
	ag_put(buf, &off, isos, sizeof(isos));
	ag_put(buf, &off, &nmi, sizeof(nmi));
	if (any_x2)
		ag_put(buf, &off, &x2nmi, sizeof(x2nmi));
	ag_checksum(buf + AG_MADT_OFF, madt_len, AG_CHECKSUM_OFF);
}

/* ---- acpi_guest_build ------------------------------------------------ */

/* Count the CPUs by MADT entry type; false (reported) when one cannot be
 * described. */
static bool ag_check_cpus(const char *name, const struct acpi_guest_cpu *cpus,
			  uint32_t ncpus, uint32_t *n_x, uint32_t *n_x2)
{
	*n_x = *n_x2 = 0;
	if (ncpus == 0) {
		pr_err("domain %s: acpi: no CPUs to describe\n", name);
		return false;
	}
	for (uint32_t i = 0; i < ncpus; i++) {
		uint32_t id = cpus[i].apic_id;

		if (id == UINT32_MAX) {
			pr_err("domain %s: acpi: CPU %u has APIC ID 0x%x, which is not valid\n",
			       name, i, id);
			return false;
		}
		if (id >= AG_XAPIC_ID_LIMIT) {
			(*n_x2)++;
			continue;
		}
		/* UID i must fit the xAPIC entry's byte, 0xff excluded */
		if (i >= AG_NMI_ALL_XAPIC) {
			pr_err("domain %s: acpi: CPU %u has APIC ID %u: an xAPIC MADT entry cannot carry UID %u (list the CPUs with APIC IDs below 255 first)\n",
			       name, i, id, i);
			return false;
		}
		(*n_x)++;
	}
	return true;
}

uint64_t acpi_guest_build(const char *name, uint8_t *buf, uint64_t gpa, size_t size,
			  const struct acpi_guest_cpu *cpus, uint32_t ncpus,
			  const struct acpi_guest_pci *pci)
{
	(void)pci;	/* PCI tables: next commit */
	uint32_t n_x, n_x2;
	size_t madt_len, need;

	if (!ag_check_cpus(name, cpus, ncpus, &n_x, &n_x2))
		return 0;
	if (gpa % 64 != 0) {
		pr_err("domain %s: acpi: table area at 0x%llx is not 64-byte aligned\n",
		       name, ag_ull(gpa));
		return 0;
	}
	madt_len = ag_madt_len(n_x, n_x2);
	if (madt_len > UINT32_MAX) {
		pr_err("domain %s: acpi: %u CPUs are too many for one MADT\n", name, ncpus);
		return 0;
	}
	need = AG_MADT_OFF + madt_len;
	if (size < need || gpa + need - 1 < gpa) {
		pr_err("domain %s: acpi: tables for %u CPUs need %zu bytes, only %zu at 0x%llx\n",
		       name, ncpus, need, size, ag_ull(gpa));
		return 0;
	}

	memset(buf, 0, need);
	ag_build_rsdp(buf, gpa);
	ag_build_facs(buf);
	ag_build_xsdt(buf, gpa);
	ag_build_fadt(buf, gpa);
	ag_build_dsdt(buf);
	ag_build_madt(buf, madt_len, cpus, ncpus);
	return gpa + AG_RSDP_OFF;
}
