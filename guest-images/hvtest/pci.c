/*
 * PCI from inside a domain: what passthrough promises and what it fences.
 *
 *   pci             enumerate bus 0 through configuration mechanism #1
 *                   (ports 0xcf8/0xcfc, PCI Local Bus 3.0 3.2.2.3.2) and
 *                   through ECAM (PCIe Base 6.0 7.2.2, window from the ACPI
 *                   MCFG); both must see the same functions
 *   pci-walk=N      every bus/device/function through both: exactly N
 *                   functions answer; writes to one that does not stay
 *                   unanswered
 *   edu=BB:DD.F     QEMU's edu device there: BAR0, registers, DMA round
 *                   trip, then 10,000 BAR reads that must not exit
 *   dma-hostile=A,. edu DMA to and from device addresses outside the domain
 *   edu-msi         edu's MSI to our own CPU: 10,000 interrupts with no
 *                   exit, a vector change, MSI off (needs edu=)
 *   msi-hostile=ID  edu's MSI aimed at APIC ID ID (another domain's CPU),
 *                   then the messages of msi-forge=A,.. written by DMA
 *                   into the interrupt window: nothing may arrive
 *                   anywhere (needs edu=)
 *   edu-intx=GSI    edu's legacy pin (MSI off) through the domain's IOAPIC
 *                   pin GSI, level-triggered, 1,000 times with no exit;
 *                   masked, then unmasked (needs edu=)
 *   irq-watch       interrupts on; at the end, PASS only if none came
 *   victim-pattern  fill RAM with a pattern, wait for a line, check it
 *
 * hvtest runs in 32-bit protected mode with paging off, so ECAM and BARs
 * below 4 GiB are reached by their physical addresses; their memory type
 * comes from the (domain's) MTRRs, not from any page table of ours.
 */
#include "guest-images/hvtest/pci.h"
#include "guest-images/hvtest/io.h"

#define PCI_CF8 0xcf8
#define PCI_CFC 0xcfc
#define CF8_ENABLE 0x80000000u

/* Type 0 configuration header (PCI Local Bus 3.0 6.1, 6.2.5.1). */
#define PCI_ID      0x00
#define PCI_COMMAND 0x04
#define PCI_CLASS   0x08	/* revision in bits 7:0, class code above */
#define PCI_BAR0    0x10
#define PCI_BAR1    0x14
#define CMD_IO      0x1u
#define CMD_MEM     0x2u
#define CMD_MASTER  0x4u
#define BAR_IO         0x1u
#define BAR_TYPE_MASK  0x6u
#define BAR_TYPE_64    0x4u
#define BAR_MEM_MASK   0xfffffff0u

#define EDU_VENDOR_DEVICE 0x11e81234u	/* device 11e8, vendor 1234 */
#define EDU_BAR_SIZE      MIB
#define EDU_ID            0x010000edu
/* Registers (QEMU docs/specs/edu.rst; /work/shared/TESTING.md). */
#define EDU_REG_ID    0x00
#define EDU_REG_LIVE  0x04
#define EDU_REG_SRC   0x80
#define EDU_REG_DST   0x88
#define EDU_REG_CNT   0x90
#define EDU_REG_CMD   0x98
#define EDU_REG_IRQ_STATUS 0x24
#define EDU_REG_IRQ_RAISE  0x60
#define EDU_REG_IRQ_ACK    0x64
#define EDU_CMD_RUN       0x1u
#define EDU_CMD_TO_RAM    0x2u
#define EDU_BUFFER        0x40000u	/* the device's 4 KiB buffer, as a DMA address */
#define EDU_BUFFER_SIZE   4096u

#define PM_TIMER      0x608
#define PM_TIMER_HZ   3579545u		/* ACPI 6.5 4.8.3.3 */
#define DMA_TIMEOUT   (3u * PM_TIMER_HZ)
#define DMA_SPINS_MAX 100000000u	/* if the PM timer does not move */

#define ENOSYS_RESULT     0xffffffdau
#define BAR_READS         10000u
#define BAR_READS_EXITS   10u

/* MSI capability (PCI Local Bus 3.0 6.8.1): ID 5; control at +2 (enable
 * bit 0, 64-bit bit 7), address at +4 (+8 upper), data at +8 or +0xc. */
#define PCI_STATUS_CAPS  (1u << 20)	/* in the dword at 0x04 */
#define PCI_CAP_PTR      0x34
#define CAP_MSI          0x05
#define MSI_ENABLE       (1u << 16)	/* in the dword at the capability */
#define MSI_64BIT        (1u << 23)
#define MSI_ADDR_BASE    0xfee00000u
#define MSI_VECTOR       0x41u
#define MSI_VECTOR2      0x42u
#define MSI_HOSTILE_VEC  0x43u
#define MSI_COUNT        10000u
#define MSI_SPINS        2000000u	/* waiting for one interrupt */
#define MSI_EXITS        10u
#define INTX_VECTOR      0x51u
#define INTX_COUNT       1000u
#define PCI_INT_PIN      0x3c	/* dword: line 7:0, pin 15:8 */
#define IOAPIC_BASE      0xfec00000u	/* the domain's IOAPIC (its MADT says so) */
#define IOAPIC_RTE_MASK  (1u << 16)
#define IOAPIC_RTE_LEVEL (1u << 15)

#define VICTIM_WORD   0x5a17c0deu
#define VICTIM_START  (4u * MIB)
#define VICTIM_MARGIN (64u * 1024u)
#define FOUR_GIB      0x100000000ull

struct pci_addr {
	uint8_t bus, dev, fn;
};

static const struct boot_info *boot;

/* ---- command line ------------------------------------------------------- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The bare word `word` (no "=value") is on the command line. */
static bool cmdline_word(const char *cmdline, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = cmdline; *p;) {
		while (is_blank(*p))
			p++;
		const char *w = p;
		while (*p && !is_blank(*p))
			p++;
		if ((size_t)(p - w) != len)
			continue;
		size_t i = 0;
		while (i < len && w[i] == word[i])
			i++;
		if (i == len)
			return true;
	}
	return false;
}

/* Hex digits up to `stop` (or the end), at most max. */
static const char *parse_hex_field(const char *s, char stop, uint32_t max, uint32_t *out)
{
	uint32_t v = 0;
	unsigned n = 0;

	for (; digit_value(*s) < 16 && n < 3; s++, n++)
		v = v * 16 + (uint32_t)digit_value(*s);
	if (!n || v > max || *s != stop)
		return NULL;
	*out = v;
	return stop ? s + 1 : s;
}

/* "BB:DD.F", hex. */
static bool parse_bdf(const char *s, struct pci_addr *a)
{
	uint32_t bus, dev, fn;

	if (!(s = parse_hex_field(s, ':', 0xff, &bus)) || !(s = parse_hex_field(s, '.', 0x1f, &dev)) ||
	    !parse_hex_field(s, '\0', 7, &fn))
		return false;
	*a = (struct pci_addr){ (uint8_t)bus, (uint8_t)dev, (uint8_t)fn };
	return true;
}

bool pci_tests_wanted(const char *cmdline)
{
	char v[8];

	return cmdline_word(cmdline, "pci") || cmdline_word(cmdline, "victim-pattern") ||
	       cmdline_value(cmdline, "edu", v, sizeof(v)) ||
	       cmdline_value(cmdline, "dma-hostile", v, sizeof(v)) ||
	       cmdline_value(cmdline, "pci-walk", v, sizeof(v)) ||
	       cmdline_value(cmdline, "io-bar", v, sizeof(v)) ||
	       cmdline_value(cmdline, "msi-hostile", v, sizeof(v)) ||
	       cmdline_word(cmdline, "irq-watch");
}

/* ---- configuration space: mechanism #1 and ECAM ---------------------------- */

/* CONFIG_ADDRESS (PCI Local Bus 3.0 3.2.2.3.2): enable, bus, device,
 * function, dword register. */
static uint32_t cf8_read(struct pci_addr a, unsigned off)
{
	outl(PCI_CF8, CF8_ENABLE | (uint32_t)a.bus << 16 | (uint32_t)a.dev << 11 |
			      (uint32_t)a.fn << 8 | (off & 0xfc));
	return inl(PCI_CFC);
}

static void cf8_write(struct pci_addr a, unsigned off, uint32_t v)
{
	outl(PCI_CF8, CF8_ENABLE | (uint32_t)a.bus << 16 | (uint32_t)a.dev << 11 |
			      (uint32_t)a.fn << 8 | (off & 0xfc));
	outl(PCI_CFC, v);
}

/* The MCFG window for segment 0, when there is a usable one. */
static struct {
	bool present;
	uint64_t base;		/* bus 0's configuration space (PCI Firmware 3.2 4.1.2) */
	uint8_t bus_start, bus_end;
} ecam;

static volatile uint32_t *ecam_reg(struct pci_addr a, unsigned off)
{
	/* PCIe Base 6.0 7.2.2, Table 7-1: bus 27:20, device 19:15, function 14:12. */
	return (volatile uint32_t *)(uintptr_t)(ecam.base + ((uint32_t)a.bus << 20 |
							     (uint32_t)a.dev << 15 |
							     (uint32_t)a.fn << 12 | (off & 0xffc)));
}

static uint32_t ecam_read(struct pci_addr a, unsigned off)
{
	return *ecam_reg(a, off);
}

static void ecam_write(struct pci_addr a, unsigned off, uint32_t v)
{
	*ecam_reg(a, off) = v;
}

struct cfg_method {
	const char *name;
	uint32_t (*read)(struct pci_addr a, unsigned off);
	void (*write)(struct pci_addr a, unsigned off, uint32_t v);
};

static const struct cfg_method by_cf8 = { "cf8", cf8_read, cf8_write };
static const struct cfg_method by_ecam = { "ecam", ecam_read, ecam_write };

/* ---- ACPI: RSDP, XSDT (or RSDT), MCFG --------------------------------------- */

struct acpi_rsdp {		/* ACPI 6.5 5.2.5.3, Table 5.3 */
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t ext_checksum, reserved[3];
} __attribute__((packed));

struct mcfg_entry {		/* PCI Firmware 3.2 4.1.2, Table 4-3 */
	uint64_t base;
	uint16_t segment;
	uint8_t bus_start, bus_end;
	uint32_t reserved;
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_header) == 36, "ACPI 6.5 Table 5.4");
_Static_assert(sizeof(struct acpi_rsdp) == 36, "ACPI 6.5 Table 5.3");
_Static_assert(sizeof(struct mcfg_entry) == 16, "PCI Firmware 3.2 Table 4-3");

#define ACPI_TABLE_MAX (64u * 1024u)
#define MCFG_ENTRIES   44	/* header and 8 reserved bytes before the entries */

static bool checksum_ok(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *b++);
	return sum == 0;
}

static bool same4(const char *a, const char *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

/* The legacy scan (ACPI 6.5 5.2.5.1): "RSD PTR " on a 16-byte boundary of
 * 0xe0000-0xfffff, where the hypervisor puts a domain's tables. */
static const struct acpi_rsdp *find_rsdp(void)
{
	for (uint32_t a = 0xe0000; a < 0x100000; a += 16) {
		const struct acpi_rsdp *r = (const void *)(uintptr_t)a;
		if (same4(r->signature, "RSD ") && same4(r->signature + 4, "PTR ") &&
		    checksum_ok(r, 20) && (r->revision < 2 || checksum_ok(r, r->length)))
			return r;
	}
	return NULL;
}

static const struct acpi_header *table_at(uint64_t addr, const char *sig)
{
	if (!addr || addr >= FOUR_GIB - ACPI_TABLE_MAX)
		return NULL;
	const struct acpi_header *h = (const void *)(uintptr_t)addr;
	if (!same4(h->signature, sig) || h->length < sizeof(*h) || h->length > ACPI_TABLE_MAX ||
	    !checksum_ok(h, h->length))
		return NULL;
	return h;
}

/* Table `sig` through the XSDT (64-bit entries) or, for an ACPI 1.0 RSDP,
 * the RSDT (32-bit entries); false with the reason. */
bool acpi_find_table(const char *sig, const struct acpi_header **table, struct strbuf *why)
{
	const struct acpi_rsdp *rsdp = find_rsdp();
	const struct acpi_header *sdt;
	unsigned esize;

	if (!rsdp) {
		sb_printf(why, "no RSDP in 0xe0000-0xfffff");
		return false;
	}
	if (rsdp->revision >= 2 && rsdp->xsdt) {
		sdt = table_at(rsdp->xsdt, "XSDT");
		esize = 8;
	} else {
		sdt = table_at(rsdp->rsdt, "RSDT");
		esize = 4;
	}
	if (!sdt) {
		sb_printf(why, "RSDP at 0x%x: no valid %s", (uint32_t)(uintptr_t)rsdp,
			  esize == 8 ? "XSDT" : "RSDT");
		return false;
	}
	const uint8_t *e = (const uint8_t *)(sdt + 1);
	for (uint32_t n = (sdt->length - sizeof(*sdt)) / esize; n; n--, e += esize) {
		uint64_t addr = esize == 8 ? *(const uint64_t *)e : *(const uint32_t *)e;
		if ((*table = table_at(addr, sig)))
			return true;
	}
	sb_printf(why, "no %s in the %s", sig, esize == 8 ? "XSDT" : "RSDT");
	return false;
}

/* Find the ECAM window of segment 0 and say what was found, once. */
static void ecam_setup(void)
{
	char mem[160];
	struct strbuf why = STRBUF_INIT(mem);
	const struct acpi_header *mcfg;

	mem[0] = '\0';
	if (acpi_find_table("MCFG", &mcfg, &why)) {
		const struct mcfg_entry *m = (const void *)((const uint8_t *)mcfg + MCFG_ENTRIES);
		for (uint32_t n = (mcfg->length - MCFG_ENTRIES) / sizeof(*m); n; n--, m++) {
			if (m->segment != 0)
				continue;
			if (m->bus_end < m->bus_start ||
			    m->base + ((uint64_t)m->bus_end + 1) * MIB > FOUR_GIB) {
				sb_printf(&why, "MCFG window 0x%llx buses %02x-%02x is out of "
					  "reach of 32-bit code", m->base, m->bus_start, m->bus_end);
				break;
			}
			ecam.present = true;
			ecam.base = m->base;
			ecam.bus_start = m->bus_start;
			ecam.bus_end = m->bus_end;
			con_printf("hvtest: pci: MCFG: ECAM at 0x%llx, segment 0, buses %02x-%02x\n",
				   m->base, m->bus_start, m->bus_end);
			return;
		}
		if (!why.len)
			sb_printf(&why, "MCFG has no window for segment 0");
	}
	con_printf("hvtest: pci: no MCFG (%s): CF8 only\n", mem);
}

/* ---- pci: bus 0 both ways ------------------------------------------------------ */

static uint32_t seen_cf8[256][2], seen_ecam[256][2];	/* [devfn]: ID, class; ID 0xffffffff: none */

static unsigned scan_bus0(const struct cfg_method *m, uint32_t seen[256][2])
{
	unsigned found = 0;

	for (unsigned devfn = 0; devfn < 256; devfn++) {
		struct pci_addr a = { 0, (uint8_t)(devfn >> 3), (uint8_t)(devfn & 7) };
		uint32_t id = m->read(a, PCI_ID);
		seen[devfn][0] = id;
		seen[devfn][1] = 0;
		if ((id & 0xffff) == 0xffff)
			continue;
		seen[devfn][1] = m->read(a, PCI_CLASS) >> 8;
		con_printf("hvtest: pci %s 00:%02x.%x %04x:%04x class %06x\n", m->name, a.dev, a.fn,
			   id & 0xffff, id >> 16, seen[devfn][1]);
		found++;
	}
	return found;
}

static void check_pci_enum(void)
{
	unsigned n = scan_bus0(&by_cf8, seen_cf8);

	if (!ecam.present || ecam.bus_start != 0) {
		pass("(%u function%s on bus 0, CF8 only%s)", n, n == 1 ? "" : "s",
		     ecam.present ? ": the ECAM window does not cover bus 0" : "");
		return;
	}
	scan_bus0(&by_ecam, seen_ecam);
	for (unsigned devfn = 0; devfn < 256; devfn++) {
		uint32_t *c = seen_cf8[devfn], *e = seen_ecam[devfn];
		bool in_c = (c[0] & 0xffff) != 0xffff, in_e = (e[0] & 0xffff) != 0xffff;
		if (in_c != in_e || (in_c && (c[0] != e[0] || c[1] != e[1]))) {
			fail("00:%02x.%x: cf8 reads id 0x%08x class %06x, ecam id 0x%08x class %06x",
			     devfn >> 3, devfn & 7, c[0], c[1], e[0], e[1]);
			return;
		}
	}
	pass("(%u function%s on bus 0, CF8 and ECAM agree)", n, n == 1 ? "" : "s");
}

/* ---- pci-walk=N -------------------------------------------------------------------- */

static unsigned walk_buses(const struct cfg_method *m, unsigned first, unsigned last)
{
	unsigned found = 0;

	for (unsigned bus = first; bus <= last; bus++)
		for (unsigned devfn = 0; devfn < 256; devfn++) {
			struct pci_addr a = { (uint8_t)bus, (uint8_t)(devfn >> 3), (uint8_t)(devfn & 7) };
			if ((m->read(a, PCI_ID) & 0xffff) != 0xffff)
				found++;
		}
	return found;
}

/* Writes to an absent function go nowhere: it still reads all ones. */
static bool hidden_stays_hidden(const struct cfg_method *m, struct pci_addr a, struct strbuf *why)
{
	static const unsigned regs[] = { PCI_ID, PCI_COMMAND, PCI_BAR0 };

	if (m->read(a, PCI_ID) != 0xffffffffu) {
		sb_printf(why, "%02x:%02x.%x is visible through %s (id 0x%08x)", a.bus, a.dev, a.fn,
			  m->name, m->read(a, PCI_ID));
		return false;
	}
	m->write(a, PCI_BAR0, 0x12345678u);
	m->write(a, PCI_COMMAND, 0x12345678u);
	for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		uint32_t v = m->read(a, regs[i]);
		if (v != 0xffffffffu) {
			sb_printf(why, "after writes, %02x:%02x.%x offset 0x%x reads 0x%08x through %s",
				  a.bus, a.dev, a.fn, regs[i], v, m->name);
			return false;
		}
	}
	return true;
}

static void check_pci_walk(void)
{
	char value[16], mem[200];
	struct strbuf why = STRBUF_INIT(mem);
	struct pci_addr hidden = { 0, 0x1f, 7 };
	uint64_t want;

	mem[0] = '\0';
	if (!cmdline_value(boot->cmdline, "pci-walk", value, sizeof(value)) ||
	    !parse_size(value, &want)) {
		fail("cannot parse pci-walk=%s", value);
		return;
	}
	if (cmdline_value(boot->cmdline, "hidden", value, sizeof(value)) &&
	    !parse_bdf(value, &hidden)) {
		fail("cannot parse hidden=%s (want BB:DD.F)", value);
		return;
	}
	unsigned n_cf8 = walk_buses(&by_cf8, 0, 255), n_ecam = 0;
	if (n_cf8 != want) {
		fail("%u functions answer through CF8 on buses 00-ff, expected %u", n_cf8,
		     (uint32_t)want);
		return;
	}
	if (ecam.present) {
		n_ecam = walk_buses(&by_ecam, ecam.bus_start, ecam.bus_end);
		if (n_ecam != want) {
			fail("%u functions answer through ECAM on buses %02x-%02x, expected %u",
			     n_ecam, ecam.bus_start, ecam.bus_end, (uint32_t)want);
			return;
		}
	}
	if (!hidden_stays_hidden(&by_cf8, hidden, &why) ||
	    (ecam.present && hidden.bus >= ecam.bus_start && hidden.bus <= ecam.bus_end &&
	     !hidden_stays_hidden(&by_ecam, hidden, &why))) {
		fail("%s", mem);
		return;
	}
	if (ecam.present)
		pass("(%u functions through CF8 and ECAM; writes to %02x:%02x.%x dropped)", n_cf8,
		     hidden.bus, hidden.dev, hidden.fn);
	else
		pass("(%u functions through CF8; writes to %02x:%02x.%x dropped)", n_cf8,
		     hidden.bus, hidden.dev, hidden.fn);
}

/* ---- the edu device ------------------------------------------------------------------ */

static struct {
	bool ok;		/* edu-bar passed: BAR0 mapped, memory and bus master on */
	struct pci_addr at;
	uint32_t bar;		/* BAR0's physical address */
} edu;

/* Three DMA pages of our own RAM, inside the image (memory-rw skips it). */
static uint32_t dma_page[3][PAGE_SIZE / 4] __attribute__((aligned(PAGE_SIZE)));

/* The "memory" clobbers keep the compiler from moving RAM accesses (the
 * DMA pages) across register accesses that start or finish a DMA. */
static uint32_t edu_read(unsigned reg)
{
	uint32_t v = *(volatile uint32_t *)(uintptr_t)(edu.bar + reg);
	__asm__ volatile("" ::: "memory");
	return v;
}

static void edu_write(unsigned reg, uint32_t v)
{
	__asm__ volatile("" ::: "memory");
	*(volatile uint32_t *)(uintptr_t)(edu.bar + reg) = v;
}

#define CR0_EM 0x4u
#define CR0_TS 0x8u

/*
 * A DMA register: a 32-bit write sets all 64 bits (edu zero-extends it),
 * which covers every address below 4 GiB. Above, 32-bit code has no
 * 64-bit general register: use an MMX move, a single 8-byte access (SDM
 * Vol. 1 9.2; needs CR0.EM and CR0.TS clear, Vol. 3A 2.5).
 */
static void edu_write64(unsigned reg, uint64_t v)
{
	if (!(v >> 32)) {
		edu_write(reg, (uint32_t)v);
		return;
	}
	uint32_t cr0;
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)(edu.bar + reg);
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0 & ~(CR0_EM | CR0_TS)));
	__asm__ volatile("movq %1, %%mm0\n\tmovq %%mm0, %0\n\temms" : "=m"(*p) : "m"(v) : "memory");
}

static uint32_t pm_timer(void)
{
	return inl(PM_TIMER) & 0xffffff;
}

/* One DMA (cmd: EDU_CMD_RUN, with EDU_CMD_TO_RAM for device -> RAM), waited
 * for: the device clears RUN when done. False with the reason on a timeout. */
static bool edu_dma(uint64_t src, uint64_t dst, uint32_t cnt, uint32_t cmd, struct strbuf *why)
{
	uint32_t last = pm_timer(), elapsed = 0, spins = 0;

	if (edu_read(EDU_REG_CMD) & EDU_CMD_RUN) {
		sb_printf(why, "a DMA is still running before 0x%llx -> 0x%llx", src, dst);
		return false;
	}
	edu_write64(EDU_REG_SRC, src);
	edu_write64(EDU_REG_DST, dst);
	edu_write64(EDU_REG_CNT, cnt);
	edu_write(EDU_REG_CMD, cmd);
	while (edu_read(EDU_REG_CMD) & EDU_CMD_RUN) {
		uint32_t now = pm_timer();
		elapsed += (now - last) & 0xffffff;
		last = now;
		if (elapsed > DMA_TIMEOUT || ++spins > DMA_SPINS_MAX) {
			sb_printf(why, "DMA 0x%llx -> 0x%llx (%u bytes, cmd %u) still running after "
				  "%u PM-timer ticks", src, dst, cnt, cmd, elapsed);
			return false;
		}
	}
	return true;
}

static void check_edu_bar(void)
{
	char value[16];

	if (!cmdline_value(boot->cmdline, "edu", value, sizeof(value)) || !parse_bdf(value, &edu.at)) {
		fail("cannot parse edu=%s (want BB:DD.F)", value);
		return;
	}
	struct pci_addr a = edu.at;
	uint32_t id = cf8_read(a, PCI_ID);
	if (id != EDU_VENDOR_DEVICE) {
		fail("%02x:%02x.%x reads vendor:device %04x:%04x, not 1234:11e8", a.bus, a.dev, a.fn,
		     id & 0xffff, id >> 16);
		return;
	}
	/* Sizing (PCI Local Bus 3.0 6.2.5.1): decode off, all ones, read the
	 * mask, restore. */
	uint32_t cmd = cf8_read(a, PCI_COMMAND) & 0xffff;
	uint32_t bar = cf8_read(a, PCI_BAR0), upper = 0;
	cf8_write(a, PCI_COMMAND, cmd & ~(CMD_IO | CMD_MEM));
	cf8_write(a, PCI_BAR0, 0xffffffffu);
	uint32_t mask = cf8_read(a, PCI_BAR0);
	cf8_write(a, PCI_BAR0, bar);
	if ((bar & BAR_TYPE_MASK) == BAR_TYPE_64)
		upper = cf8_read(a, PCI_BAR1);
	cf8_write(a, PCI_COMMAND, cmd);
	uint32_t size = ~(mask & BAR_MEM_MASK) + 1;
	if (bar & BAR_IO) {
		fail("BAR0 0x%08x is an I/O BAR", bar);
		return;
	}
	if (upper || (bar & BAR_MEM_MASK) == 0) {
		fail("BAR0 0x%08x%08x: unassigned or above 4 GiB", upper, bar & BAR_MEM_MASK);
		return;
	}
	if (size != EDU_BAR_SIZE) {
		fail("BAR0 sizes as 0x%x bytes (mask 0x%08x), not 1 MiB", size, mask);
		return;
	}
	if (cf8_read(a, PCI_BAR0) != bar) {
		fail("BAR0 reads 0x%08x after sizing, was 0x%08x", cf8_read(a, PCI_BAR0), bar);
		return;
	}
	cf8_write(a, PCI_COMMAND, cmd | CMD_MEM | CMD_MASTER);
	uint32_t now = cf8_read(a, PCI_COMMAND) & 0xffff;
	if ((now & (CMD_MEM | CMD_MASTER)) != (CMD_MEM | CMD_MASTER)) {
		fail("command register reads 0x%04x after writing 0x%04x", now,
		     cmd | CMD_MEM | CMD_MASTER);
		return;
	}
	edu.bar = bar & BAR_MEM_MASK;
	edu.ok = true;
	pass("(%02x:%02x.%x BAR0 0x%x, 1 MiB; memory and bus master on)", a.bus, a.dev, a.fn,
	     edu.bar);
}

static bool edu_ready(void)
{
	if (!edu.ok)
		fail("no usable edu device (edu= missing, or see edu-bar)");
	return edu.ok;
}

static void check_edu_id(void)
{
	if (!edu_ready())
		return;
	uint32_t id = edu_read(EDU_REG_ID);
	if (id != EDU_ID)
		fail("id register reads 0x%08x, not 0x%08x", id, EDU_ID);
	else
		pass("(0x%08x)", id);
}

static void check_edu_live(void)
{
	static const uint32_t values[] = { 0x12345678u, 0xa5a55a5au, 0 };

	if (!edu_ready())
		return;
	for (unsigned i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		edu_write(EDU_REG_LIVE, values[i]);
		uint32_t got = edu_read(EDU_REG_LIVE);
		if (got != ~values[i]) {
			fail("wrote 0x%08x to the liveness register, read 0x%08x, not 0x%08x",
			     values[i], got, ~values[i]);
			return;
		}
	}
	pass("(inverts what is written)");
}

static void fill_page(uint32_t *page, uint32_t salt)
{
	for (uint32_t i = 0; i < PAGE_SIZE / 4; i++)
		page[i] = salt << 16 | i;
}

static uint32_t gpa_of(const void *p)
{
	return (uint32_t)(uintptr_t)p;
}

/* RAM -> device buffer -> another RAM page, compared. */
static void check_edu_dma(void)
{
	char mem[200];
	struct strbuf why = STRBUF_INIT(mem);

	mem[0] = '\0';
	if (!edu_ready())
		return;
	fill_page(dma_page[0], 0xed0d);
	memset(dma_page[1], 0, PAGE_SIZE);
	if (!edu_dma(gpa_of(dma_page[0]), EDU_BUFFER, EDU_BUFFER_SIZE, EDU_CMD_RUN, &why) ||
	    !edu_dma(EDU_BUFFER, gpa_of(dma_page[1]), EDU_BUFFER_SIZE, EDU_CMD_RUN | EDU_CMD_TO_RAM,
		     &why)) {
		fail("%s", mem);
		return;
	}
	for (uint32_t i = 0; i < PAGE_SIZE / 4; i++)
		if (dma_page[1][i] != dma_page[0][i]) {
			fail("word at 0x%x came back 0x%08x, sent 0x%08x (from 0x%x)",
			     gpa_of(&dma_page[1][i]), dma_page[1][i], dma_page[0][i],
			     gpa_of(dma_page[0]));
			return;
		}
	pass("(4 KiB 0x%x -> device -> 0x%x)", gpa_of(dma_page[0]), gpa_of(dma_page[1]));
}

/* BAR reads are the device's, not the hypervisor's: no exits. */
static void check_bar_reads(void)
{
	uint32_t before, after, bad = 0;

	if (!edu_ready() || !hv_hypercall(HC_EXIT_COUNT, &before))
		return;
	if (before == ENOSYS_RESULT) {
		fail("HC_EXIT_COUNT (hypercall 1) returned -ENOSYS: the hypervisor does not "
		     "count exits for the domain");
		return;
	}
	for (unsigned i = 0; i < BAR_READS; i++)
		if (edu_read(EDU_REG_ID) != EDU_ID)
			bad++;
	if (!hv_hypercall(HC_EXIT_COUNT, &after))
		return;
	if (bad)
		fail("%u of %u id reads were not 0x%08x", bad, BAR_READS, EDU_ID);
	else if (after - before >= BAR_READS_EXITS)
		fail("%u exits for %u BAR reads (from %u to %u): the BAR is trapped, not mapped",
		     after - before, BAR_READS, before, after);
	else
		pass("(%u exits)", after - before);
}

/* ---- MSI ---------------------------------------------------------------------------------- */

static unsigned find_cap(struct pci_addr a, uint8_t id)
{
	if (!(cf8_read(a, PCI_COMMAND) & PCI_STATUS_CAPS))
		return 0;
	unsigned p = cf8_read(a, PCI_CAP_PTR) & 0xfc;
	for (unsigned n = 0; p >= 0x40 && n < 48; n++) {
		uint32_t hdr = cf8_read(a, p);
		if ((hdr & 0xff) == id)
			return p;
		p = (hdr >> 8) & 0xfc;
	}
	return 0;
}

/* Program edu's MSI: physical destination apic, fixed, edge, vector. */
static void msi_program(unsigned cap, uint32_t apic, uint32_t vector, bool on)
{
	uint32_t ctl = cf8_read(edu.at, cap);
	unsigned data = cap + ((ctl & MSI_64BIT) ? 0xc : 8);

	cf8_write(edu.at, cap, ctl & ~MSI_ENABLE);
	cf8_write(edu.at, cap + 4, MSI_ADDR_BASE | (apic & 0xff) << 12);
	if (ctl & MSI_64BIT)
		cf8_write(edu.at, cap + 8, 0);
	cf8_write(edu.at, data, vector);
	if (on)
		cf8_write(edu.at, cap, (ctl & ~(7u << 20)) | MSI_ENABLE);	/* one message */
}

/* Raise edu's interrupt, wait for `vector` to count one more (true if it
 * did), then acknowledge it at edu (a no-op when the stub already did). */
static bool edu_raise(uint32_t vector)
{
	uint32_t before = irq_count[vector];
	bool came = false;

	edu_write(EDU_REG_IRQ_RAISE, 1);
	for (unsigned i = 0; i < MSI_SPINS && !came; i++) {
		came = irq_count[vector] != before;
		__asm__ volatile("pause");
	}
	edu_write(EDU_REG_IRQ_ACK, edu_read(EDU_REG_IRQ_STATUS));
	return came;
}

/* Nothing on any vector for a while (after an interrupt that must not come). */
static bool irq_quiet(uint32_t since)
{
	for (unsigned i = 0; i < MSI_SPINS; i++)
		__asm__ volatile("pause");
	return irq_total() == since;
}

static unsigned edu_msi_cap(void)
{
	unsigned cap = edu_ready() ? find_cap(edu.at, CAP_MSI) : 0;

	if (edu.ok && !cap)
		fail("edu shows no MSI capability");
	return cap;
}

/*
 * edu-msi: MSI to our own CPU, 10,000 times, each awaited; the exit count
 * moves by the two hypercalls only. Then a new vector (Linux moves IRQs:
 * the hypervisor rewrites the remapping entry), then MSI off: the raise
 * must reach no vector (INTx of a masked pin).
 */
static void check_edu_msi(void)
{
	unsigned cap = edu_msi_cap();
	uint32_t apic, before, after, since;

	if (!cap)
		return;
	apic = lapic_start();
	msi_program(cap, apic, MSI_VECTOR, true);
	if (!hv_hypercall(HC_EXIT_COUNT, &before))
		return;
	for (unsigned i = 0; i < MSI_COUNT; i++)
		if (!edu_raise(MSI_VECTOR)) {
			fail("interrupt %u of %u (vector 0x%x to APIC ID %u) did not arrive", i + 1,
			     MSI_COUNT, MSI_VECTOR, apic);
			return;
		}
	if (!hv_hypercall(HC_EXIT_COUNT, &after))
		return;
	if (after - before >= MSI_EXITS) {
		fail("%u exits for %u MSIs: interrupts are not delivered directly", after - before,
		     MSI_COUNT);
		return;
	}
	msi_program(cap, apic, MSI_VECTOR2, true);
	since = irq_count[MSI_VECTOR];
	if (!edu_raise(MSI_VECTOR2) || irq_count[MSI_VECTOR] != since) {
		fail("after moving the MSI to vector 0x%x: 0x%x counted %u, 0x%x %u more",
		     MSI_VECTOR2, MSI_VECTOR2, irq_count[MSI_VECTOR2], MSI_VECTOR,
		     irq_count[MSI_VECTOR] - since);
		return;
	}
	msi_program(cap, apic, MSI_VECTOR, false);
	since = irq_total();
	(void)edu_raise(MSI_VECTOR);
	if (!irq_quiet(since)) {
		fail("with MSI off, raising edu's interrupt still delivered %u interrupts",
		     irq_total() - since);
		return;
	}
	pass("(%u interrupts on vector 0x%x to APIC ID %u, %u exits; moved to 0x%x; off)",
	     MSI_COUNT, MSI_VECTOR, apic, after - before, MSI_VECTOR2);
}

/*
 * msi-hostile=ID: edu's MSI aimed at APIC ID ID (not ours), then forged
 * messages (vector MSI_HOSTILE_VEC at each msi-forge= address) by DMA
 * into the interrupt window. Neither may come here;
 * the other domain (irq-watch) checks that none came there, and the test
 * checks the hypervisor's lines. Then our own MSI must still work.
 */
static void check_msi_hostile(void)
{
	unsigned cap = edu_msi_cap();
	char value[16], list[160], mem[160];
	struct strbuf why = STRBUF_INIT(mem);
	uint64_t target;
	uint32_t since;
	unsigned attempts = 1;

	if (!cap)
		return;
	if (!cmdline_value(boot->cmdline, "msi-hostile", value, sizeof(value)) ||
	    !parse_size(value, &target) || target > 0xff) {
		fail("cannot parse msi-hostile=%s (want an APIC ID below 256)", value);
		return;
	}
	uint32_t own = lapic_start();
	since = irq_total();
	con_printf("hvtest: hostile msi: edu's MSI to APIC ID %u, vector 0x%x\n", (uint32_t)target,
		   MSI_HOSTILE_VEC);
	msi_program(cap, (uint32_t)target, MSI_HOSTILE_VEC, true);
	(void)edu_raise(MSI_HOSTILE_VEC);
	msi_program(cap, (uint32_t)target, MSI_HOSTILE_VEC, false);
	if (!cmdline_value(boot->cmdline, "msi-forge", list, sizeof(list)))
		list[0] = '\0';
	for (char *p = list; *p;) {
		char *item = p;
		uint64_t addr;
		while (*p && *p != ',')
			p++;
		if (*p)
			*p++ = '\0';
		if (!parse_size(item, &addr) || (addr >> 20) != 0xfee) {
			fail("cannot parse '%s' in msi-forge= (want 0xfeexxxxx)", item);
			return;
		}
		con_printf("hvtest: hostile msi: DMA of 0x%x to 0x%llx\n", MSI_HOSTILE_VEC, addr);
		mem[0] = '\0';
		dma_page[0][0] = MSI_HOSTILE_VEC;
		if (!edu_dma(gpa_of(dma_page[0]), EDU_BUFFER, 4, EDU_CMD_RUN, &why) ||
		    !edu_dma(EDU_BUFFER, addr, 4, EDU_CMD_RUN | EDU_CMD_TO_RAM, &why)) {
			fail("%s", mem);
			return;
		}
		attempts++;
	}
	if (!irq_quiet(since)) {
		fail("%u interrupts arrived here", irq_total() - since);
		return;
	}
	/* Its own interrupts still work. */
	msi_program(cap, own, MSI_VECTOR, true);
	bool came = edu_raise(MSI_VECTOR);
	msi_program(cap, own, MSI_VECTOR, false);
	if (!came)
		fail("after the attempts, edu's MSI to our own CPU (APIC ID %u) did not arrive", own);
	else
		pass("(%u attempts; none arrived here; our own MSI still does)", attempts);
}

static void ioapic_write(unsigned reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)IOAPIC_BASE = reg;
	*(volatile uint32_t *)(uintptr_t)(IOAPIC_BASE + 0x10) = v;
}

/* The domain's IOAPIC entry for gsi: vector, level, fixed, physical. */
static void intx_route(unsigned gsi, uint32_t apic, bool masked)
{
	ioapic_write(0x10 + 2 * gsi + 1, apic << 24);
	ioapic_write(0x10 + 2 * gsi, INTX_VECTOR | IOAPIC_RTE_LEVEL | (masked ? IOAPIC_RTE_MASK : 0));
}

/*
 * edu-intx=GSI: MSI off, the pin reads INTA, the domain's IOAPIC entry
 * for GSI (what its DSDT's _PRT names) aimed at us, level-triggered. The
 * stub acknowledges edu before its EOI, so each raise is one interrupt.
 * It raises 1,000, then masks the entry (nothing may come), then unmasks
 * it with the line still up (the interrupt comes at once). The guest's
 * EOI ends each, with no exit.
 */
static void check_edu_intx(void)
{
	unsigned cap = edu_msi_cap();
	char value[8];
	uint64_t gsi;
	uint32_t apic, before, after, since;

	if (!cap)
		return;
	if (!cmdline_value(boot->cmdline, "edu-intx", value, sizeof(value)) ||
	    !parse_size(value, &gsi) || gsi < 16 || gsi > 23) {
		fail("cannot parse edu-intx=%s (want a GSI 16-23)", value);
		return;
	}
	uint32_t pin = (cf8_read(edu.at, PCI_INT_PIN) >> 8) & 0xff;
	if (pin != 1) {
		fail("interrupt pin reads %u, not 1 (INTA)", pin);
		return;
	}
	cf8_write(edu.at, cap, cf8_read(edu.at, cap) & ~MSI_ENABLE);
	apic = lapic_start();
	irq_ack[INTX_VECTOR] = edu.bar + EDU_REG_IRQ_ACK;
	intx_route((unsigned)gsi, apic, false);
	if (!hv_hypercall(HC_EXIT_COUNT, &before))
		return;
	for (unsigned i = 0; i < INTX_COUNT; i++)
		if (!edu_raise(INTX_VECTOR)) {
			fail("interrupt %u of %u (GSI %u, vector 0x%x) did not arrive", i + 1,
			     INTX_COUNT, (uint32_t)gsi, INTX_VECTOR);
			return;
		}
	if (!hv_hypercall(HC_EXIT_COUNT, &after))
		return;
	if (irq_count[INTX_VECTOR] != INTX_COUNT) {
		fail("%u interrupts for %u raises: the line was not acknowledged in time",
		     irq_count[INTX_VECTOR], INTX_COUNT);
		return;
	}
	if (after - before >= MSI_EXITS) {
		fail("%u exits for %u INTx interrupts", after - before, INTX_COUNT);
		return;
	}
	intx_route((unsigned)gsi, apic, true);
	since = irq_total();
	edu_write(EDU_REG_IRQ_RAISE, 1);
	if (!irq_quiet(since)) {
		fail("masked in the domain's IOAPIC, the line still delivered %u", irq_total() - since);
		return;
	}
	intx_route((unsigned)gsi, apic, false);
	for (unsigned i = 0; i < MSI_SPINS && irq_total() == since; i++)
		__asm__ volatile("pause");
	if (irq_total() != since + 1) {
		fail("unmasked with the line up: %u interrupts, not 1", irq_total() - since);
		return;
	}
	intx_route((unsigned)gsi, apic, true);
	irq_ack[INTX_VECTOR] = 0;
	pass("(GSI %u, %u level interrupts to APIC ID %u, %u exits; masked, unmasked)",
	     (uint32_t)gsi, INTX_COUNT, apic, after - before);
}

static void check_irq_watch(void)
{
	uint32_t n = irq_total();

	if (n) {
		for (unsigned v = 32; v < 256; v++)
			if (irq_count[v])
				con_printf("hvtest: vector 0x%x: %u interrupts\n", v, irq_count[v]);
		fail("%u interrupts arrived that nobody sent us", n);
	} else {
		pass("(no interrupt arrived)");
	}
}

/* ---- dma-hostile=ADDR[,ADDR...] --------------------------------------------------------- */

static bool holds_victim_word(const uint32_t *page, uint32_t *at)
{
	for (uint32_t i = 0; i < PAGE_SIZE / 4; i++)
		if (page[i] == VICTIM_WORD) {
			*at = i * 4;
			return true;
		}
	return false;
}

/*
 * One address: marker into the device buffer, ADDR -> buffer, buffer ->
 * our RAM, then buffer -> ADDR. Whether the IOMMU stopped them is for the
 * test to see (fault lines, the victim); here, the read must not bring
 * back the victim's pattern. The read comes first so that a write that got
 * through cannot have replaced the victim's words with our marker.
 */
static bool hostile_one(uint64_t addr, unsigned *attempts, struct strbuf *why)
{
	uint32_t at;

	fill_page(dma_page[0], 0xbad0);
	if (!edu_dma(gpa_of(dma_page[0]), EDU_BUFFER, EDU_BUFFER_SIZE, EDU_CMD_RUN, why))
		return false;
	con_printf("hvtest: hostile dma: reading 0x%llx\n", addr);
	++*attempts;
	if (!edu_dma(addr, EDU_BUFFER, EDU_BUFFER_SIZE, EDU_CMD_RUN, why))
		return false;
	memset(dma_page[1], 0, PAGE_SIZE);
	if (!edu_dma(EDU_BUFFER, gpa_of(dma_page[1]), EDU_BUFFER_SIZE, EDU_CMD_RUN | EDU_CMD_TO_RAM,
		     why))
		return false;
	if (holds_victim_word(dma_page[1], &at)) {
		sb_printf(why, "reading 0x%llx brought back the victim's word 0x%08x (offset 0x%x)",
			  addr, VICTIM_WORD, at);
		return false;
	}
	bool unchanged = true;
	for (uint32_t i = 0; i < PAGE_SIZE / 4 && unchanged; i++)
		unchanged = dma_page[1][i] == dma_page[0][i];
	if (unchanged)
		con_printf("hvtest: hostile dma: read of 0x%llx left the device buffer unchanged\n",
			   addr);
	else
		con_printf("hvtest: hostile dma: read of 0x%llx: device buffer now starts "
			   "0x%08x 0x%08x\n", addr, dma_page[1][0], dma_page[1][1]);
	con_printf("hvtest: hostile dma: writing 0x%llx\n", addr);
	++*attempts;
	return edu_dma(EDU_BUFFER, addr, EDU_BUFFER_SIZE, EDU_CMD_RUN | EDU_CMD_TO_RAM, why);
}

static void check_hostile_dma(void)
{
	char list[240], mem[240];
	struct strbuf why = STRBUF_INIT(mem);
	unsigned attempts = 0;

	mem[0] = '\0';
	if (!edu_ready())
		return;
	cmdline_value(boot->cmdline, "dma-hostile", list, sizeof(list));
	for (char *p = list; *p;) {
		char *item = p;
		while (*p && *p != ',')
			p++;
		if (*p)
			*p++ = '\0';
		uint64_t addr;
		if (!parse_size(item, &addr)) {
			fail("cannot parse '%s' in dma-hostile=", item);
			return;
		}
		if (!hostile_one(addr, &attempts, &why)) {
			fail("%s", mem);
			return;
		}
	}
	if (!attempts)
		fail("no address in dma-hostile=");
	else
		pass("(%u attempts)", attempts);
}

/* ---- victim-pattern ------------------------------------------------------------------------ */

/* Even words hold VICTIM_WORD, odd ones their own address: a page (or any
 * 8-byte aligned window) read from elsewhere is recognized by the one, and
 * moved or aliased memory by the other. Every 4 KiB page starts with
 * VICTIM_WORD followed by its address. */
static uint32_t victim_word(uint32_t addr)
{
	return (addr & 4) ? addr - 4 : VICTIM_WORD;
}

static uint64_t ram_end(void)
{
	uint64_t end = 0;

	for (uint32_t i = 0; boot->mmap && i < boot->mmap_count; i++) {
		const struct mb2_mmap_entry *e = mmap_entry(boot, i);
		if (e->type == MB2_MEM_AVAILABLE && e->addr + e->len > end)
			end = e->addr + e->len;
	}
	return end < FOUR_GIB ? end : FOUR_GIB;
}

static void check_victim_pattern(void)
{
	uint64_t end = (ram_end() - VICTIM_MARGIN) & ~(uint64_t)(PAGE_SIZE - 1);
	uint32_t pages = 0, n;
	char line[64];

	if (!boot->mmap || end <= VICTIM_START + PAGE_SIZE) {
		fail("RAM ends at 0x%llx: no room above 0x%x", ram_end(), VICTIM_START);
		return;
	}
	for (uint32_t a = VICTIM_START; a < end; a += PAGE_SIZE) {
		if (!page_is_free(boot, a))
			continue;
		volatile uint32_t *w = (volatile uint32_t *)(uintptr_t)a;
		for (uint32_t i = 0; i < PAGE_SIZE / 4; i++)
			w[i] = victim_word(a + i * 4);
		pages++;
	}
	con_printf("hvtest: victim pattern written (%u MiB at 0x%x-0x%x)\n", pages / 256,
		   VICTIM_START, (uint32_t)end);
	con_printf("hvtest: waiting for a line of input\n");
	if (!console_read_line(line, sizeof(line), &n))
		con_printf("hvtest: no input line arrived, checking anyway\n");
	for (uint32_t a = VICTIM_START; a < end; a += PAGE_SIZE) {
		if (!page_is_free(boot, a))
			continue;
		const volatile uint32_t *w = (const volatile uint32_t *)(uintptr_t)a;
		for (uint32_t i = 0; i < PAGE_SIZE / 4; i++) {
			uint32_t want = victim_word(a + i * 4), got = w[i], diff = want ^ got;
			if (!diff)
				continue;
			uint32_t byte = 0;
			while (!(diff & 0xff)) {
				diff >>= 8;
				byte++;
			}
			fail("first difference at 0x%x: word 0x%x reads 0x%08x, wrote 0x%08x",
			     a + i * 4 + byte, a + i * 4, got, want);
			return;
		}
	}
	pass("(%u MiB unchanged)", pages / 256);
}

/* ---- io-bar: a device's I/O BAR reached with no exit ----------------------------------------- */

/*
 * io-bar=BB:DD.F: the first I/O BAR of that function (an e1000e's IOADDR
 * / IODATA pair, 82574 datasheet 8.1.3) is open in the domain's I/O
 * bitmap: a value written to its first register reads back from the
 * device (a refused port reads all ones), and 1,000 reads add no exit.
 */
static void check_io_bar(void)
{
	char value[16];
	struct pci_addr a;
	uint32_t base = 0, before, after;

	if (!cmdline_value(boot->cmdline, "io-bar", value, sizeof(value)) || !parse_bdf(value, &a)) {
		fail("cannot parse io-bar=%s (want BB:DD.F)", value);
		return;
	}
	for (unsigned i = 0; i < 6 && !base; i++) {
		uint32_t bar = cf8_read(a, PCI_BAR0 + 4 * i);
		if (bar != 0xffffffffu && (bar & BAR_IO))
			base = bar & ~3u;
	}
	if (!base || base > 0xfffc) {
		fail("%02x:%02x.%x has no I/O BAR", a.bus, a.dev, a.fn);
		return;
	}
	cf8_write(a, PCI_COMMAND, (cf8_read(a, PCI_COMMAND) & 0xffff) | CMD_IO);
	outl((uint16_t)base, 0x8);	/* IOADDR: the STATUS register's offset */
	uint32_t back = inl((uint16_t)base);
	if (back != 0x8) {
		fail("port 0x%x reads 0x%08x after writing 0x8: not the device", base, back);
		return;
	}
	if (!hv_hypercall(HC_EXIT_COUNT, &before))
		return;
	for (unsigned i = 0; i < 1000; i++)
		(void)inl((uint16_t)base);
	if (!hv_hypercall(HC_EXIT_COUNT, &after))
		return;
	if (after - before >= BAR_READS_EXITS)
		fail("%u exits for 1000 port reads: the I/O BAR is intercepted", after - before);
	else
		pass("(port 0x%x, %u exits for 1000 reads)", base, after - before);
}

/* ---- order ---------------------------------------------------------------------------------- */

void pci_tests_run(const struct boot_info *bi)
{
	char v[8];
	bool want_pci = cmdline_word(bi->cmdline, "pci");
	bool want_walk = cmdline_value(bi->cmdline, "pci-walk", v, sizeof(v));
	bool want_edu = cmdline_value(bi->cmdline, "edu", v, sizeof(v));

	boot = bi;
	if (cmdline_word(bi->cmdline, "irq-watch"))
		(void)lapic_start();
	if (want_pci || want_walk)
		ecam_setup();
	if (want_pci)
		run_check("pci-enum", check_pci_enum);
	if (want_walk)
		run_check("pci-walk", check_pci_walk);
	if (want_edu) {
		run_check("edu-bar", check_edu_bar);
		run_check("edu-id", check_edu_id);
		run_check("edu-live", check_edu_live);
		run_check("edu-dma", check_edu_dma);
		run_check("bar-reads", check_bar_reads);
		if (cmdline_word(bi->cmdline, "edu-msi"))
			run_check("edu-msi", check_edu_msi);
		if (cmdline_value(bi->cmdline, "edu-intx", v, sizeof(v)))
			run_check("edu-intx", check_edu_intx);
	}
	if (cmdline_value(bi->cmdline, "io-bar", v, sizeof(v)))
		run_check("io-bar", check_io_bar);
	if (cmdline_value(bi->cmdline, "dma-hostile", v, sizeof(v)))
		run_check("hostile-dma", check_hostile_dma);
	if (cmdline_value(bi->cmdline, "msi-hostile", v, sizeof(v)))
		run_check("msi-hostile", check_msi_hostile);
	if (cmdline_word(bi->cmdline, "victim-pattern"))
		run_check("victim-pattern", check_victim_pattern);
	if (cmdline_word(bi->cmdline, "irq-watch"))
		run_check("irq-watch", check_irq_watch);
}
