/*
 * A domain's ACPI tables; see acpi_guest.h. The producer side of
 * kernel/acpi.c (which reads the machine's tables): the layouts are the
 * same ACPI 6.5 chapter 5 structures, declared again here because this
 * side writes every field, not only the few the parser reads.
 *
 * Layout in the area at gpa (64-byte aligned): fixed offsets up to the
 * DSDT, whose length depends on the PCI description; then the MADT, whose
 * length depends on the CPUs; then, with PCI, the MCFG:
 *
 *     0  RSDP  36 bytes, revision 2 (ACPI 2.0+), XSDT only
 *    64  FACS  64 bytes (64-byte aligned, 5.2.10)
 *   128  XSDT  52 bytes: FACP, APIC (60 with PCI: and MCFG)
 *   192  FADT  276 bytes, revision 6
 *   480  DSDT  101 bytes: \_S5 and \_SB.COM1 (with PCI: and \_SB.PCI0,
 *              \_SB.MRES)
 *   592  MADT  44 + 8 per xAPIC CPU + 16 per x2APIC CPU + 38 (+ 12 with
 *              any x2APIC CPU); 16-byte aligned after the DSDT
 *        MCFG  60 bytes, 16-byte aligned after the MADT (PCI only)
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

/* 5.2.6 / PCI Firmware Spec 3.3, 4.1.2: MCFG = header, 8 reserved bytes,
 * then one 16-byte allocation per ECAM window (table 4-3) */
struct ag_mcfg_alloc {
	uint64_t base;		/* the configuration space of bus 0 (see below) */
	uint16_t segment;
	uint8_t bus_start, bus_end;
	uint32_t reserved;
} AG_PACKED;
_Static_assert(sizeof(struct ag_mcfg_alloc) == 16, "MCFG allocation is 16 bytes");

#define AG_MCFG_REVISION 1u
#define AG_MCFG_LEN      (sizeof(struct ag_header) + 8u + sizeof(struct ag_mcfg_alloc))

#define AG_ECAM_BUS_SHIFT 20u	/* 1 MiB of configuration space per bus */
#define AG_IO_LIMIT       0x10000ull
#define AG_4G             0x100000000ull
#define AG_PCI_CFG_PORT   0xcf8u	/* configuration mechanism #1, 8 ports */
#define AG_PCI_CFG_LEN    8u

#define AG_DSDT_REVISION 2u	/* 2+: 64-bit AML integers */

/* ---- AML (ACPI 6.5 chapter 20) --------------------------------------- */

/*
 * The DSDT is written as AML by the small emitter below; without PCI the
 * result is byte for byte what `iasl` makes of this ASL (the unit test
 * compiles it and compares), with PCI the devices after it are added:
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
 *           Device (PCI0)		-- with PCI only, see ag_aml_pci0
 *           Device (MRES)		-- with PCI only, see ag_aml_mres
 *       }
 *   }
 *
 * An emitter with a NULL buffer only counts: the same code sizes the
 * DSDT (for the room check and acpi_guest_size) and then writes it.
 */
struct ag_aml {
	uint8_t *p;	/* NULL: count only */
	size_t len;
};

enum {
	AML_ZERO = 0x00, AML_ONE = 0x01, AML_NAME = 0x08, AML_BYTE = 0x0a,
	AML_WORD = 0x0b, AML_DWORD = 0x0c, AML_QWORD = 0x0e, AML_SCOPE = 0x10,
	AML_BUFFER = 0x11, AML_PACKAGE = 0x12, AML_METHOD = 0x14,
	AML_EXT = 0x5b, AML_EXT_DEVICE = 0x82, AML_ARG0 = 0x68, AML_ARG3 = 0x6b,
	AML_STORE = 0x70, AML_OR = 0x7d, AML_CREATE_DWORD_FIELD = 0x8a,
	AML_LEQUAL = 0x93, AML_IF = 0xa0, AML_ELSE = 0xa1, AML_RETURN = 0xa4,
};

static void ag_aml_bytes(struct ag_aml *a, const void *src, size_t n)
{
	if (a->p)
		memcpy(a->p + a->len, src, n);
	a->len += n;
}

static void ag_aml_byte(struct ag_aml *a, uint8_t b)
{
	ag_aml_bytes(a, &b, 1);
}

/* n bytes of v, least significant first */
static void ag_aml_le(struct ag_aml *a, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		ag_aml_byte(a, (uint8_t)(v >> (8 * i)));
}

/* 20.2.2 NameSeg: four characters, '_'-padded by the caller */
static void ag_aml_nameseg(struct ag_aml *a, const char *seg)
{
	ag_aml_bytes(a, seg, 4);
}

/* 20.2.3 ComputationalData in the shortest encoding, as iasl picks it */
static void ag_aml_int(struct ag_aml *a, uint64_t v)
{
	if (v <= 1) {
		ag_aml_byte(a, v ? AML_ONE : AML_ZERO);
	} else if (v <= UINT8_MAX) {
		ag_aml_byte(a, AML_BYTE);
		ag_aml_le(a, v, 1);
	} else if (v <= UINT16_MAX) {
		ag_aml_byte(a, AML_WORD);
		ag_aml_le(a, v, 2);
	} else if (v <= UINT32_MAX) {
		ag_aml_byte(a, AML_DWORD);
		ag_aml_le(a, v, 4);
	} else {
		ag_aml_byte(a, AML_QWORD);
		ag_aml_le(a, v, 8);
	}
}

/* EisaId ("PNP0A08"): three letters of 5 bits (A = 1) big-endian in the
 * first two bytes, four hex digits in the next two; always a DWordConst
 * (iasl does the same) */
static void ag_aml_eisaid(struct ag_aml *a, const char id[7])
{
	uint16_t vendor = (uint16_t)(((id[0] - 0x40) & 0x1f) << 10 |
				     ((id[1] - 0x40) & 0x1f) << 5 | ((id[2] - 0x40) & 0x1f));
	uint8_t hex[4];

	for (unsigned i = 0; i < 4; i++) {
		char c = id[3 + i];
		hex[i] = (uint8_t)(c <= '9' ? c - '0' : c - 'A' + 10);
	}
	ag_aml_byte(a, AML_DWORD);
	ag_aml_byte(a, (uint8_t)(vendor >> 8));
	ag_aml_byte(a, (uint8_t)vendor);
	ag_aml_byte(a, (uint8_t)(hex[0] << 4 | hex[1]));
	ag_aml_byte(a, (uint8_t)(hex[2] << 4 | hex[3]));
}

/* Name (seg, ...): the caller writes the object */
static void ag_aml_name(struct ag_aml *a, const char *seg)
{
	ag_aml_byte(a, AML_NAME);
	ag_aml_nameseg(a, seg);
}

/*
 * 20.2.4 PkgLength: the package's body is written first, from the offset
 * ag_aml_open returned; ag_aml_close then moves it up to insert the
 * length in front, in the fewest bytes (as iasl does). The length counts
 * itself. One byte holds 0-63 (bits 5:0); otherwise bits 7:6 of the lead
 * byte say how many bytes follow, its bits 3:0 are the low nibble and
 * each following byte the next eight bits.
 */
static size_t ag_aml_open(const struct ag_aml *a)
{
	return a->len;
}

static void ag_aml_close(struct ag_aml *a, size_t start)
{
	size_t body = a->len - start, total = body + 1;
	unsigned extra = 0;
	uint8_t enc[4];

	if (total > 0x3f) {
		extra = 1;
		while (body + 1 + extra > (1ull << (4 + 8 * extra)) - 1)
			extra++;	/* at most 3: the DSDT is far smaller */
		total = body + 1 + extra;
		enc[0] = (uint8_t)(extra << 6 | (total & 0xf));
		for (unsigned i = 1; i <= extra; i++)
			enc[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	} else {
		enc[0] = (uint8_t)total;
	}
	if (a->p) {
		memmove(a->p + start + 1 + extra, a->p + start, body);
		memcpy(a->p + start, enc, 1 + extra);
	}
	a->len += 1 + extra;
}

/* ---- resource descriptors (ACPI 6.5 6.4) ------------------------------ */

#define AG_RES_END_TAG     0x79u	/* 6.4.2.9, checksum byte 0 */
#define AG_RES_IO          0x47u	/* 6.4.2.5, 7 bytes follow */
#define AG_RES_IO_DECODE16 0x01u
#define AG_RES_IRQ_NOFLAGS 0x22u	/* 6.4.2.1, 2 bytes follow */
#define AG_RES_MEM32_FIXED 0x86u	/* 6.4.3.4, large, 9 bytes follow */
#define AG_RES_DWORD_ADDR  0x87u	/* 6.4.3.5.2 */
#define AG_RES_WORD_ADDR   0x88u	/* 6.4.3.5.3 */
#define AG_RES_QWORD_ADDR  0x8au	/* 6.4.3.5.1 */

/* Address space descriptors: resource type (byte 3) */
#define AG_ADDR_MEM 0u
#define AG_ADDR_IO  1u
#define AG_ADDR_BUS 2u
/* general flags (byte 4): _MAF, _MIF fixed, positive decode; bit 0
 * clear for what a bridge produces (its windows), set for what a device
 * consumes */
#define AG_ADDR_FIXED     0x0cu
#define AG_ADDR_CONSUMER  0x01u
/* type-specific flags (byte 5): memory _RW (bit 0), _MEM (bits 2:1:
 * 0 non-cacheable, 3 prefetchable -- the one Linux turns into
 * IORESOURCE_PREFETCH); I/O _RNG (bits 1:0) 3: ISA and non-ISA ranges */
#define AG_MEM_RW            0x01u
#define AG_MEM_PREFETCHABLE  (3u << 1)
#define AG_IO_ENTIRE_RANGE   0x03u

/* IO (Decode16, port, port, 1, len) */
static void ag_res_io(struct ag_aml *a, uint16_t port, uint8_t len)
{
	ag_aml_byte(a, AG_RES_IO);
	ag_aml_byte(a, AG_RES_IO_DECODE16);
	ag_aml_le(a, port, 2);
	ag_aml_le(a, port, 2);
	ag_aml_byte(a, 1);
	ag_aml_byte(a, len);
}

/* IRQNoFlags () {irq} */
static void ag_res_irq(struct ag_aml *a, unsigned irq)
{
	ag_aml_byte(a, AG_RES_IRQ_NOFLAGS);
	ag_aml_le(a, 1u << irq, 2);
}

/* Memory32Fixed (ReadWrite, base, len) */
static void ag_res_mem32_fixed(struct ag_aml *a, uint32_t base, uint32_t len)
{
	ag_aml_byte(a, AG_RES_MEM32_FIXED);
	ag_aml_le(a, 9, 2);
	ag_aml_byte(a, AG_MEM_RW);
	ag_aml_le(a, base, 4);
	ag_aml_le(a, len, 4);
}

/*
 * A Word (width 2), DWord (4) or QWord (8) Address Space Descriptor for
 * [base, base + len): granularity 0, _MIN, _MAX, translation 0, _LEN,
 * each `width` bytes, after the three flag bytes (6.4.3.5.1-3).
 */
static void ag_res_addr(struct ag_aml *a, unsigned width, uint8_t type, uint8_t gflags,
			uint8_t tflags, uint64_t base, uint64_t len)
{
	const uint64_t v[5] = { 0, base, base + len - 1, 0, len };

	ag_aml_byte(a, width == 2 ? AG_RES_WORD_ADDR :
		       width == 4 ? AG_RES_DWORD_ADDR : AG_RES_QWORD_ADDR);
	ag_aml_le(a, 3 + 5 * width, 2);
	ag_aml_byte(a, type);
	ag_aml_byte(a, gflags);
	ag_aml_byte(a, tflags);
	for (unsigned i = 0; i < 5; i++)
		ag_aml_le(a, v[i], width);
}

/* Name (_CRS, ResourceTemplate () { ... }): the Buffer's size is the
 * descriptors' plus the end tag; open, then ag_crs_close. */
struct ag_crs {
	size_t pkg, data;
};

static struct ag_crs ag_crs_open(struct ag_aml *a)
{
	struct ag_crs c;

	ag_aml_name(a, "_CRS");
	ag_aml_byte(a, AML_BUFFER);
	c.pkg = ag_aml_open(a);
	c.data = a->len;
	return c;
}

static void ag_crs_close(struct ag_aml *a, struct ag_crs c)
{
	uint8_t enc[9];
	struct ag_aml size = { .p = enc, .len = 0 };
	size_t n;

	ag_aml_byte(a, AG_RES_END_TAG);
	ag_aml_byte(a, 0);
	/* BufferSize goes in front of the data: moved up like a PkgLength */
	n = a->len - c.data;
	ag_aml_int(&size, n);
	if (a->p) {
		memmove(a->p + c.data + size.len, a->p + c.data, n);
		memcpy(a->p + c.data, enc, size.len);
	}
	a->len += size.len;
	ag_aml_close(a, c.pkg);
}

/* ---- the DSDT's devices ------------------------------------------------ */

static void ag_aml_com1(struct ag_aml *a)
{
	size_t dev;
	struct ag_crs crs;

	ag_aml_byte(a, AML_EXT);
	ag_aml_byte(a, AML_EXT_DEVICE);
	dev = ag_aml_open(a);
	ag_aml_nameseg(a, "COM1");
	ag_aml_name(a, "_HID");
	ag_aml_eisaid(a, "PNP0501");
	ag_aml_name(a, "_UID");
	ag_aml_int(a, 1);
	crs = ag_crs_open(a);
	ag_res_io(a, 0x3f8, 8);
	ag_res_irq(a, 4);
	ag_crs_close(a, crs);
	ag_aml_close(a, dev);
}

/* The PCI Host Bridge Interface UUID (PCI Firmware Spec 3.3, 4.5.1):
 * 33DB4D5B-1FF7-401C-9657-7441C03DD766 as ToUUID lays it out (the first
 * three fields little-endian) */
static const uint8_t ag_pci_osc_uuid[16] = {
	0x5b, 0x4d, 0xdb, 0x33, 0xf7, 0x1f, 0x1c, 0x40,
	0x96, 0x57, 0x74, 0x41, 0xc0, 0x3d, 0xd7, 0x66,
};

/*
 * _OSC (ACPI 6.5 6.2.11, PCI Firmware Spec 4.5): the OS asks for native
 * control of PCIe hotplug, PME, AER, the PCIe capability...; the domain
 * has none of that hardware to hand over, so every control bit comes back
 * clear (the OS keeps its hands off), and an unknown UUID is answered
 * with "Unrecognized UUID" (CDW1 bit 2):
 *
 *   Method (_OSC, 4, NotSerialized)
 *   {
 *       CreateDWordField (Arg3, Zero, CDW1)
 *       If ((Arg0 == ToUUID ("33db4d5b-1ff7-401c-9657-7441c03dd766")))
 *       {
 *           CreateDWordField (Arg3, 0x08, CDW3)
 *           CDW3 = Zero
 *       }
 *       Else
 *       {
 *           CDW1 |= 0x04
 *       }
 *       Return (Arg3)
 *   }
 */
static void ag_aml_osc(struct ag_aml *a)
{
	size_t method, cond, buf;

	ag_aml_byte(a, AML_METHOD);
	method = ag_aml_open(a);
	ag_aml_nameseg(a, "_OSC");
	ag_aml_byte(a, 4);				/* 4 arguments, not serialized */
	ag_aml_byte(a, AML_CREATE_DWORD_FIELD);
	ag_aml_byte(a, AML_ARG3);
	ag_aml_int(a, 0);
	ag_aml_nameseg(a, "CDW1");
	ag_aml_byte(a, AML_IF);
	cond = ag_aml_open(a);
	ag_aml_byte(a, AML_LEQUAL);
	ag_aml_byte(a, AML_ARG0);
	ag_aml_byte(a, AML_BUFFER);
	buf = ag_aml_open(a);
	ag_aml_int(a, sizeof(ag_pci_osc_uuid));
	ag_aml_bytes(a, ag_pci_osc_uuid, sizeof(ag_pci_osc_uuid));
	ag_aml_close(a, buf);
	ag_aml_byte(a, AML_CREATE_DWORD_FIELD);
	ag_aml_byte(a, AML_ARG3);
	ag_aml_int(a, 8);
	ag_aml_nameseg(a, "CDW3");
	ag_aml_byte(a, AML_STORE);
	ag_aml_int(a, 0);
	ag_aml_nameseg(a, "CDW3");
	ag_aml_close(a, cond);
	ag_aml_byte(a, AML_ELSE);
	cond = ag_aml_open(a);
	ag_aml_byte(a, AML_OR);
	ag_aml_nameseg(a, "CDW1");
	ag_aml_int(a, 4);
	ag_aml_nameseg(a, "CDW1");
	ag_aml_close(a, cond);
	ag_aml_byte(a, AML_RETURN);
	ag_aml_byte(a, AML_ARG3);
	ag_aml_close(a, method);
}

/* The ECAM window the bridge decodes: buses bus_start..bus_end of the
 * configuration space whose bus 0 is at ecam_base (see acpi_guest.h). */
static uint64_t ag_ecam_start(const struct acpi_guest_pci *pci)
{
	return pci->ecam_base + ((uint64_t)pci->bus_start << AG_ECAM_BUS_SHIFT);
}

static uint64_t ag_ecam_size(const struct acpi_guest_pci *pci)
{
	return (uint64_t)(pci->bus_end - pci->bus_start + 1) << AG_ECAM_BUS_SHIFT;
}

/* A window as the bridge's _CRS gives it (6.4.3.5): I/O as WordIO
 * (DWordIO when it is the whole 64 KiB), memory as DWordMemory below
 * 4 GiB, QWordMemory otherwise. */
static void ag_res_window(struct ag_aml *a, uint64_t base, uint64_t size,
			  enum acpi_guest_window kind)
{
	unsigned width = base + size - 1 < AG_4G ? 4 : 8;

	/* A Word descriptor's _LEN cannot say 0x10000, the whole I/O space:
	 * that one is a DWordIO. */
	if (kind == ACPI_WIN_IO) {
		ag_res_addr(a, size <= UINT16_MAX ? 2 : 4, AG_ADDR_IO, AG_ADDR_FIXED,
			    AG_IO_ENTIRE_RANGE, base, size);
		return;
	}
	ag_res_addr(a, width, AG_ADDR_MEM, AG_ADDR_FIXED,
		    kind == ACPI_WIN_MEM_PREF ? AG_MEM_RW | AG_MEM_PREFETCHABLE : AG_MEM_RW,
		    base, size);
}

/*
 * The PCI root bridge (ACPI 6.5 6.1.5 _HID PNP0A08 = PCI Express, _CID
 * PNP0A03 = PCI; 6.5.6 _SEG, 6.5.5 _BBN): what Linux's acpi_pci_root
 * binds to, scanning the buses of its _CRS with the windows of its _CRS
 * (those that it produces: general flags bit 0 clear). With INTx routes,
 * a _PRT of constant entries { device << 16 | 0xFFFF, pin, Zero, GSI }:
 * the GSI is a pin of the domain's IOAPIC (6.2.13; with source Zero it is
 * level, active low to the guest; the hypervisor keeps the host's
 * polarity at the real IOAPIC).
 *
 *   Device (PCI0)
 *   {
 *       Name (_HID, EisaId ("PNP0A08"))
 *       Name (_CID, EisaId ("PNP0A03"))
 *       Name (_UID, Zero)
 *       Name (_SEG, <segment>)
 *       Name (_BBN, <bus_start>)
 *       Name (_CRS, ResourceTemplate ()
 *       {
 *           WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
 *                          0, <bus_start>, <bus_end>, 0, <buses>)
 *           IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
 *           <per window> WordIO (ResourceProducer, MinFixed, MaxFixed,
 *               PosDecode, EntireRange, ...) (DWordIO for all 64 KiB)
 *               or DWordMemory / QWordMemory
 *               (ResourceProducer, PosDecode, MinFixed, MaxFixed,
 *               NonCacheable or Prefetchable, ReadWrite, ...)
 *       })
 *       Method (_OSC, 4, NotSerialized) { ... }
 *   }
 */
static void ag_aml_prt(struct ag_aml *a, const struct acpi_guest_pci *pci)
{
	uint32_t n = pci->nprt < ACPI_GUEST_PCI_PRT ? pci->nprt : ACPI_GUEST_PCI_PRT;
	size_t outer;

	if (!n)
		return;
	ag_aml_name(a, "_PRT");
	ag_aml_byte(a, AML_PACKAGE);
	outer = ag_aml_open(a);
	ag_aml_byte(a, (uint8_t)n);
	for (uint32_t i = 0; i < n; i++) {
		ag_aml_byte(a, AML_PACKAGE);
		size_t pkg = ag_aml_open(a);
		ag_aml_byte(a, 4);
		ag_aml_int(a, (uint64_t)pci->prt[i].slot << 16 | 0xffff);
		ag_aml_int(a, pci->prt[i].pin);
		ag_aml_int(a, 0);
		ag_aml_int(a, pci->prt[i].gsi);
		ag_aml_close(a, pkg);
	}
	ag_aml_close(a, outer);
}

static void ag_aml_pci0(struct ag_aml *a, const struct acpi_guest_pci *pci, uint32_t nwin)
{
	size_t dev;
	struct ag_crs crs;

	ag_aml_byte(a, AML_EXT);
	ag_aml_byte(a, AML_EXT_DEVICE);
	dev = ag_aml_open(a);
	ag_aml_nameseg(a, "PCI0");
	ag_aml_name(a, "_HID");
	ag_aml_eisaid(a, "PNP0A08");
	ag_aml_name(a, "_CID");
	ag_aml_eisaid(a, "PNP0A03");
	ag_aml_name(a, "_UID");
	ag_aml_int(a, 0);
	ag_aml_name(a, "_SEG");
	ag_aml_int(a, pci->segment);
	ag_aml_name(a, "_BBN");
	ag_aml_int(a, pci->bus_start);
	crs = ag_crs_open(a);
	ag_res_addr(a, 2, AG_ADDR_BUS, AG_ADDR_FIXED, 0, pci->bus_start,
		    (uint64_t)pci->bus_end - pci->bus_start + 1);
	ag_res_io(a, AG_PCI_CFG_PORT, AG_PCI_CFG_LEN);
	for (uint32_t i = 0; i < nwin; i++)
		ag_res_window(a, pci->windows[i].base, pci->windows[i].size,
			      pci->windows[i].kind);
	ag_crs_close(a, crs);
	ag_aml_prt(a, pci);
	ag_aml_osc(a);
	ag_aml_close(a, dev);
}

/*
 * Motherboard resources (PNP0C02): the ECAM window, so that Linux's
 * MMCONFIG check (is_acpi_reserved, arch/x86/pci/mmconfig-shared.c)
 * finds it reserved and the PNP system driver keeps it out of the
 * resource allocator.
 *
 *   Device (MRES)
 *   {
 *       Name (_HID, EisaId ("PNP0C02"))
 *       Name (_UID, One)
 *       Name (_CRS, ResourceTemplate ()
 *       {
 *           Memory32Fixed (ReadWrite, <start>, <size>)   -- below 4 GiB
 *           QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed,
 *               NonCacheable, ReadWrite, ...)           -- otherwise
 *       })
 *   }
 */
static void ag_aml_mres(struct ag_aml *a, const struct acpi_guest_pci *pci)
{
	uint64_t start = ag_ecam_start(pci), size = ag_ecam_size(pci);
	size_t dev;
	struct ag_crs crs;

	ag_aml_byte(a, AML_EXT);
	ag_aml_byte(a, AML_EXT_DEVICE);
	dev = ag_aml_open(a);
	ag_aml_nameseg(a, "MRES");
	ag_aml_name(a, "_HID");
	ag_aml_eisaid(a, "PNP0C02");
	ag_aml_name(a, "_UID");
	ag_aml_int(a, 1);
	crs = ag_crs_open(a);
	if (start + size - 1 < AG_4G)
		ag_res_mem32_fixed(a, (uint32_t)start, (uint32_t)size);
	else
		ag_res_addr(a, 8, AG_ADDR_MEM, AG_ADDR_FIXED | AG_ADDR_CONSUMER, AG_MEM_RW,
			    start, size);
	ag_crs_close(a, crs);
	ag_aml_close(a, dev);
}

/* The DSDT's body (after its header); pci NULL: no PCI. At most
 * ACPI_GUEST_PCI_WINDOWS windows are looked at. */
static void ag_aml_dsdt(struct ag_aml *a, const struct acpi_guest_pci *pci)
{
	size_t pkg, scope;

	/* Name (_S5, Package (4) { 5, 5, 0, 0 }): SLP_TYP for PM1a and
	 * PM1b, two reserved (7.4.2) */
	ag_aml_name(a, "_S5_");
	ag_aml_byte(a, AML_PACKAGE);
	pkg = ag_aml_open(a);
	ag_aml_byte(a, 4);	/* NumElements */
	ag_aml_int(a, 5);
	ag_aml_int(a, 5);
	ag_aml_int(a, 0);
	ag_aml_int(a, 0);
	ag_aml_close(a, pkg);

	ag_aml_byte(a, AML_SCOPE);
	scope = ag_aml_open(a);
	ag_aml_nameseg(a, "_SB_");
	ag_aml_com1(a);
	if (pci) {
		uint32_t nwin = pci->nwindows < ACPI_GUEST_PCI_WINDOWS ?
				pci->nwindows : ACPI_GUEST_PCI_WINDOWS;
		ag_aml_pci0(a, pci, nwin);
		ag_aml_mres(a, pci);
	}
	ag_aml_close(a, scope);
}

static size_t ag_dsdt_len(const struct acpi_guest_pci *pci)
{
	struct ag_aml a = { .p = NULL, .len = 0 };

	ag_aml_dsdt(&a, pci);
	return sizeof(struct ag_header) + a.len;
}

/* ---- layout ---------------------------------------------------------- */

#define AG_ALIGN(x, a) (((x) + (a) - 1) / (a) * (a))

#define AG_XSDT_MAX_ENTRIES 3u	/* FACP, APIC, MCFG */
#define AG_XSDT_LEN(n)      (sizeof(struct ag_header) + (n) * 8u)

enum {
	AG_RSDP_OFF = 0,
	AG_FACS_OFF = AG_ALIGN(AG_RSDP_OFF + sizeof(struct ag_rsdp), 64),
	AG_XSDT_OFF = AG_FACS_OFF + sizeof(struct ag_facs),
	AG_FADT_OFF = AG_ALIGN(AG_XSDT_OFF + AG_XSDT_LEN(AG_XSDT_MAX_ENTRIES), 16),
	AG_DSDT_OFF = AG_ALIGN(AG_FADT_OFF + sizeof(struct ag_fadt), 16),
};
_Static_assert(AG_FACS_OFF % 64 == 0, "FACS 64-byte aligned");
_Static_assert(AG_FADT_OFF == 192 && AG_DSDT_OFF == 480, "layout as documented above");

/* Where the tables of variable length go, for given CPUs and PCI. */
struct ag_layout {
	uint32_t xsdt_entries;
	size_t dsdt_len;
	size_t madt_off, madt_len;
	size_t mcfg_off;	/* 0: no MCFG */
	size_t end;		/* bytes used from the area's start */
};

/* The MADT's length for n_x CPUs with xAPIC entries and n_x2 with x2APIC
 * ones (and then the x2APIC NMI entry). */
static size_t ag_madt_len(uint32_t n_x, uint32_t n_x2)
{
	return sizeof(struct ag_madt) + (size_t)n_x * sizeof(struct ag_madt_lapic) +
	       (size_t)n_x2 * sizeof(struct ag_madt_x2apic) + AG_MADT_TAIL_LEN +
	       (n_x2 ? sizeof(struct ag_madt_x2apic_nmi) : 0);
}

static struct ag_layout ag_layout(uint32_t n_x, uint32_t n_x2, const struct acpi_guest_pci *pci)
{
	struct ag_layout l;

	l.xsdt_entries = pci ? 3 : 2;
	l.dsdt_len = ag_dsdt_len(pci);
	l.madt_off = AG_ALIGN(AG_DSDT_OFF + l.dsdt_len, 16);
	l.madt_len = ag_madt_len(n_x, n_x2);
	l.end = l.madt_off + l.madt_len;
	l.mcfg_off = 0;
	if (pci) {
		l.mcfg_off = AG_ALIGN(l.end, 16);
		l.end = l.mcfg_off + AG_MCFG_LEN;
	}
	return l;
}

size_t acpi_guest_size(uint32_t ncpus, const struct acpi_guest_pci *pci)
{
	return ag_layout(0, ncpus, pci).end;
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

static void ag_build_xsdt(uint8_t *buf, uint64_t gpa, const struct ag_layout *l)
{
	const uint64_t entries[AG_XSDT_MAX_ENTRIES] = {
		gpa + AG_FADT_OFF, gpa + l->madt_off, gpa + l->mcfg_off,
	};
	size_t len = AG_XSDT_LEN(l->xsdt_entries);
	struct ag_header h;

	ag_header_init(&h, "XSDT", len, 1);
	memcpy(buf + AG_XSDT_OFF, &h, sizeof(h));
	memcpy(buf + AG_XSDT_OFF + sizeof(h), entries, l->xsdt_entries * 8u);
	ag_checksum(buf + AG_XSDT_OFF, len, AG_CHECKSUM_OFF);
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

static void ag_build_dsdt(uint8_t *buf, const struct ag_layout *l,
			  const struct acpi_guest_pci *pci)
{
	struct ag_aml a = { .p = buf + AG_DSDT_OFF + sizeof(struct ag_header), .len = 0 };
	struct ag_header h;

	ag_header_init(&h, "DSDT", l->dsdt_len, AG_DSDT_REVISION);
	memcpy(buf + AG_DSDT_OFF, &h, sizeof(h));
	ag_aml_dsdt(&a, pci);
	ag_checksum(buf + AG_DSDT_OFF, l->dsdt_len, AG_CHECKSUM_OFF);
}

/* MCFG (PCI Firmware Spec 3.3, 4.1.2): one allocation. Its base address
 * is bus 0's configuration space whatever bus_start is (table 4-3), as
 * ecam_base is. */
static void ag_build_mcfg(uint8_t *buf, const struct ag_layout *l,
			  const struct acpi_guest_pci *pci)
{
	const struct ag_mcfg_alloc e = {
		.base = pci->ecam_base, .segment = pci->segment,
		.bus_start = pci->bus_start, .bus_end = pci->bus_end,
	};
	struct ag_header h;

	ag_header_init(&h, "MCFG", AG_MCFG_LEN, AG_MCFG_REVISION);
	memcpy(buf + l->mcfg_off, &h, sizeof(h));
	memset(buf + l->mcfg_off + sizeof(h), 0, 8);
	memcpy(buf + l->mcfg_off + sizeof(h) + 8, &e, sizeof(e));
	ag_checksum(buf + l->mcfg_off, AG_MCFG_LEN, AG_CHECKSUM_OFF);
}

/* Append n bytes at *off. */
static void ag_put(uint8_t *buf, size_t *off, const void *p, size_t n)
{
	memcpy(buf + *off, p, n);
	*off += n;
}

/* The MADT, madt_len bytes (ag_madt_len for these CPUs). */
static void ag_build_madt(uint8_t *buf, size_t madt_off, size_t madt_len,
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
	size_t off = madt_off;
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
	ag_checksum(buf + madt_off, madt_len, AG_CHECKSUM_OFF);
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

/* The PCI description must be one a kernel can use; false (reported)
 * otherwise. */
static bool ag_check_pci(const char *name, const struct acpi_guest_pci *pci)
{
	uint64_t ecam_end;

	if (pci->bus_start > pci->bus_end) {
		pr_err("domain %s: acpi: PCI bus range %u-%u is empty\n", name,
		       pci->bus_start, pci->bus_end);
		return false;
	}
	/* ECAM: 4 KiB per function, 1 MiB per bus (PCIe Base 7.2.2) */
	ecam_end = pci->ecam_base + ((uint64_t)pci->bus_end + 1) * (1ull << AG_ECAM_BUS_SHIFT);
	if (pci->ecam_base % (1ull << AG_ECAM_BUS_SHIFT) != 0 || ecam_end < pci->ecam_base) {
		pr_err("domain %s: acpi: PCI ECAM base 0x%llx is not 1 MiB aligned or its buses %u-%u run past the top of memory\n",
		       name, ag_ull(pci->ecam_base), pci->bus_start, pci->bus_end);
		return false;
	}
	if (pci->nwindows > ACPI_GUEST_PCI_WINDOWS) {
		pr_err("domain %s: acpi: %u PCI windows, at most %u\n", name, pci->nwindows,
		       ACPI_GUEST_PCI_WINDOWS);
		return false;
	}
	for (uint32_t i = 0; i < pci->nwindows; i++) {
		uint64_t base = pci->windows[i].base, size = pci->windows[i].size;
		enum acpi_guest_window kind = pci->windows[i].kind;
		bool io = kind == ACPI_WIN_IO;

		if (kind != ACPI_WIN_MEM && kind != ACPI_WIN_MEM_PREF && !io) {
			pr_err("domain %s: acpi: PCI window %u has unknown kind %d\n", name, i,
			       (int)kind);
			return false;
		}
		if (size == 0 || base + size - 1 < base ||
		    (io && (base >= AG_IO_LIMIT || size > AG_IO_LIMIT - base))) {
			pr_err("domain %s: acpi: PCI %s window %u at 0x%llx size 0x%llx is empty or past the top of %s space\n",
			       name, io ? "I/O" : "memory", i, ag_ull(base), ag_ull(size),
			       io ? "I/O" : "address");
			return false;
		}
	}
	return true;
}

uint64_t acpi_guest_build(const char *name, uint8_t *buf, uint64_t gpa, size_t size,
			  const struct acpi_guest_cpu *cpus, uint32_t ncpus,
			  const struct acpi_guest_pci *pci)
{
	uint32_t n_x, n_x2;
	struct ag_layout l;

	if (!ag_check_cpus(name, cpus, ncpus, &n_x, &n_x2))
		return 0;
	if (pci && !ag_check_pci(name, pci))
		return 0;
	if (gpa % 64 != 0) {
		pr_err("domain %s: acpi: table area at 0x%llx is not 64-byte aligned\n",
		       name, ag_ull(gpa));
		return 0;
	}
	l = ag_layout(n_x, n_x2, pci);
	if (l.madt_len > UINT32_MAX) {
		pr_err("domain %s: acpi: %u CPUs are too many for one MADT\n", name, ncpus);
		return 0;
	}
	if (size < l.end || gpa + l.end - 1 < gpa) {
		pr_err("domain %s: acpi: tables for %u CPUs%s need %zu bytes, only %zu at 0x%llx\n",
		       name, ncpus, pci ? " and PCI" : "", l.end, size, ag_ull(gpa));
		return 0;
	}

	memset(buf, 0, l.end);
	ag_build_rsdp(buf, gpa);
	ag_build_facs(buf);
	ag_build_xsdt(buf, gpa, &l);
	ag_build_fadt(buf, gpa);
	ag_build_dsdt(buf, &l, pci);
	ag_build_madt(buf, l.madt_off, l.madt_len, cpus, ncpus);
	if (pci)
		ag_build_mcfg(buf, &l, pci);
	return gpa + AG_RSDP_OFF;
}
