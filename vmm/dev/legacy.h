/*
 * The legacy PC devices a domain's kernel probes, one set per domain:
 *
 *   0x20-0x21, 0xa0-0xa1  8259A PIC pair (never raises an interrupt: the
 *                         guest masks it and uses the IOAPIC; IRQ 0 is
 *                         delivered only through the IOAPIC's pin 2)
 *   0x4d0-0x4d1           ELCR, the PICs' edge/level control
 *   0x40-0x43, 0x61       8254 PIT, counting from the TSC; port 0x61
 *                         gates channel 2 and shows its OUT; channel 0's
 *                         OUT is IRQ 0 (legacy_irq0_next says when it
 *                         rises; vmm/dev/pit_irq.c delivers it)
 *   0x70-0x71             MC146818 RTC (the machine's clock, read-only)
 *                         and a per-domain CMOS RAM
 *   0xcf8, 0xcfc-0xcff    PCI configuration mechanism #1 with one host
 *                         bridge at 00:00.0
 *   0x60, 0x64            keyboard controller: no data; pulsing the reset
 *                         line (0xfe, or any 0xf0-0xfe with bit 0 clear) resets
 *   0x92                  system control port A: A20 on; bit 0 resets
 *   0x80                  POST codes, dropped
 *
 * Pure logic: the hypervisor's services (TSC, the real RTC) come through
 * struct legacy_host, so the same file runs in the unit tests.
 */
#ifndef VMM_LEGACY_H
#define VMM_LEGACY_H

#include <stdbool.h>
#include <stdint.h>

struct legacy_host {
	uint64_t (*tsc)(void);		/* the current TSC */
	uint64_t tsc_hz;		/* its frequency; @pre 0 < tsc_hz < 2^64 / 1193182 */
	/* Read register idx (0..0x7f) of the real RTC/CMOS; the caller
	 * serializes. NULL: a fixed time (2000-01-01 00:00:00) is reported. */
	uint8_t (*cmos_read)(uint8_t idx);
	/* A configuration access through 0xcf8/0xcfc to any function but
	 * the host bridge at 00:00.0 (the domain's own PCI functions,
	 * vmm/dev/vpci.c): reg is the byte offset (0..0xfff, AMD's extended
	 * bits 27:24 included), size 1/2/4 and naturally aligned. NULL: no
	 * such function (reads all ones, writes dropped). */
	void (*pci_cfg)(void *ctx, uint8_t bus, uint8_t devfn, unsigned reg, unsigned size, bool in,
			uint32_t *val);
	void *pci_ctx;
};

/* LEGACY_IRQ0_MOVED: done, and it programmed the PIT's channel 0 or the
 * master PIC's initialization or mask, so IRQ 0's next edge, or where it
 * goes, may have moved (legacy_irq0_next, legacy_pic_irq0_open). */
enum legacy_result { LEGACY_UNHANDLED, LEGACY_DONE, LEGACY_RESET, LEGACY_IRQ0_MOVED };

/* One 8259A and its half of the ELCR. */
struct legacy_pic {
	uint8_t imr;		/* OCW1 */
	uint8_t icw_next;	/* 2, 3 or 4: the ICW the next odd-port write is; 0: none */
	uint8_t icw1, icw2, icw3, icw4;
	bool read_isr;		/* OCW3 RR/RIS: the even port reads ISR, not IRR */
	uint8_t irr, isr;	/* requests raised (legacy_pic_raise), and in service */
	bool special_mask;	/* OCW3 SMM */
	uint8_t elcr;
};

enum legacy_pit_state {
	LEGACY_PIT_IDLE,	/* control word written, no count yet: not counting */
	LEGACY_PIT_ARMED,	/* modes 1 and 5: count written, waiting for a gate trigger */
	LEGACY_PIT_RUNNING,
};

/* Control word bits 5-4 (8254 data sheet, "Control Word Format"). */
enum legacy_pit_access {
	LEGACY_PIT_LATCH = 0,	/* not a mode: the counter latch command */
	LEGACY_PIT_LSB = 1,
	LEGACY_PIT_MSB = 2,
	LEGACY_PIT_WORD = 3,	/* LSB then MSB */
};

/* One 8254 counter. Time is counted in PIT ticks since the count was
 * loaded: ticks_before plus the ticks since start_tsc while the counter
 * counts (the gate can stop it). */
struct legacy_pit_channel {
	uint8_t mode;		/* as written, 0-7 (6 and 7 act as 2 and 3) */
	uint8_t access;		/* enum legacy_pit_access, never LATCH */
	bool bcd;		/* kept for the status byte; counting is binary */
	bool gate;
	uint8_t state;		/* enum legacy_pit_state */
	uint32_t reload;	/* the count last written, 1..0x10000 (0 means 0x10000) */
	uint32_t count;		/* the count being counted, 1..0x10000 */
	uint64_t start_tsc;
	uint64_t ticks_before;
	bool pending;		/* modes 2, 3: reload takes over at tick switch_at */
	uint64_t switch_at;
	uint16_t held;		/* what the counter reads while not running */
	uint8_t lsb_written;	/* first byte of a two-byte count */
	bool write_msb_next, read_msb_next;
	bool count_latched, status_latched;
	uint16_t latched_count;
	uint8_t latched_status;
};

struct legacy {
	struct legacy_host host;
	struct legacy_pic pic[2];		/* master, slave */
	struct legacy_pit_channel pit[3];
	uint8_t port61;				/* bits 0-3 as written */
	bool refresh;				/* port 0x61 bit 4 */
	uint8_t rtc_index;			/* port 0x70 as last written */
	uint8_t cmos[128];			/* 0x0e-0x7f: the domain's CMOS RAM */
	uint32_t pci_address;			/* 0xcf8 */
};

/* The host bridge's configuration register reg (dword aligned): for the
 * domain's ECAM window, which shows the same bridge. */
uint32_t legacy_pci_bridge_read(uint8_t reg);

/* @pre host->tsc and host->tsc_hz are set; host is copied. */
void legacy_init(struct legacy *l, const struct legacy_host *host);

/*
 * An access of `size` (1, 2 or 4) bytes to `port`; *val is the value
 * written, or receives the value read (only its low `size` bytes mean
 * anything). LEGACY_UNHANDLED: not one of ours, or a size the device does
 * not take (the caller refuses it); LEGACY_RESET: the guest asked for a
 * reset (the access itself is done); LEGACY_IRQ0_MOVED: see above.
 * @pre the caller serializes the accesses to one struct legacy.
 */
enum legacy_result legacy_io(struct legacy *l, uint16_t port, unsigned size, bool in, uint32_t *val);
#define LEGACY_NEVER UINT64_MAX

/* The TSC value at which IRQ 0 (channel 0's OUT) next rises after `now`,
 * or LEGACY_NEVER (not counting, a one-shot mode past its edge). Edges
 * between two calls are not counted: like an edge-triggered line seen
 * late, they make one interrupt.
 * @pre the caller serializes, as for legacy_io; now is the host's TSC. */
uint64_t legacy_irq0_next(struct legacy *l, uint64_t now);

/* Does the master 8259A pass IRQ 0 on: initialized (ICW1-ICW4 done) and
 * IRQ 0 unmasked? */
bool legacy_pic_irq0_open(const struct legacy *l);

/* An edge on the master's input `irq` (0-7): requested. */
void legacy_pic_raise(struct legacy *l, unsigned irq);

/* The interrupt the master 8259A would give the CPU's INTA now (the
 * highest-priority request unmasked and above what is in service, fully
 * nested mode, IRQ 0 highest), or false. With `take`, that INTA happens:
 * the request goes in service (none with automatic EOI, ICW4 bit 1). */
bool legacy_pic_next(struct legacy *l, bool take, uint8_t *vector);

/* Is port one of theirs? (io.c's table of owners is built from it once.) */
bool legacy_claims(uint16_t port);

#endif
