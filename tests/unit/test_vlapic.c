/*
 * The domain's LAPICs (vmm/dev/vlapic.c): its APIC IDs are 0..n-1 and every
 * destination it names (its x2APIC ICR, its xAPIC page's ICR, its IOAPIC's
 * messages) is one of those, while the IPI actually sent goes to the core's
 * own APIC ID; every IPI reaches only the domain's CPUs, INIT-SIPI starts
 * its waiting vCPUs, the delivery modes that are not the guest's are
 * refused; IA32_APIC_BASE moves between x2APIC, xAPIC and disabled as the
 * SDM allows; the xAPIC page is emulated onto the real LAPIC.
 *
 * lapic_send_ipi is recorded; the real LAPIC (lapic_x2apic, lapic_reg_read,
 * lapic_reg_write, lapic_reset_after_guest) is a small fake register file
 * that records what is written. this_cpu() reads %gs:0, so the test
 * points GS base at a struct percpu of its own (arch_prctl).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "arch/x86_64/lapic.h"
#include "arch/x86_64/percpu.h"
#include "tests/unit/host_stubs.h"
#include "vmm/domain.h"
#include "vmm/dev/vlapic.h"

/* ICR fields (SDM Vol. 3A 11.6.1, 11.12.9) */
#define DM(m)          ((uint64_t)(m) << 8)
#define DM_FIXED       DM(0)
#define DM_LOWEST      DM(1)
#define DM_SMI         DM(2)
#define DM_NMI         DM(4)
#define DM_INIT        DM(5)
#define DM_SIPI        DM(6)
#define DM_EXTINT      DM(7)
#define LOGICAL        (1ull << 11)
#define PENDING        (1ull << 12)
#define ASSERT         (1ull << 14)
#define LEVEL          (1ull << 15)
#define SH_SELF        (1ull << 18)
#define SH_ALL         (2ull << 18)
#define SH_OTHERS      (3ull << 18)
#define DEST(d)        ((uint64_t)(d) << 32)

/* IA32_APIC_BASE (SDM Vol. 3A 11.4.4, 11.12.1) */
#define BASE           0xfee00000ull
#define BSP            (1ull << 8)
#define EXTD           (1ull << 10)
#define EN             (1ull << 11)

/* xAPIC registers (SDM Vol. 3A Table 11-1) */
#define R_ID           0x020u
#define R_VERSION      0x030u
#define R_TPR          0x080u
#define R_APR          0x090u
#define R_PPR          0x0a0u
#define R_EOI          0x0b0u
#define R_RRD          0x0c0u
#define R_LDR          0x0d0u
#define R_DFR          0x0e0u
#define R_SVR          0x0f0u
#define R_ISR0         0x100u
#define R_TMR0         0x180u
#define R_IRR0         0x200u
#define R_IRR7         0x270u
#define R_ESR          0x280u
#define R_LVT_CMCI     0x2f0u
#define R_ICR_LO       0x300u
#define R_ICR_HI       0x310u
#define R_LVT_TIMER    0x320u
#define R_LVT_THERMAL  0x330u
#define R_LVT_PERF     0x340u
#define R_LVT_LINT0    0x350u
#define R_LVT_LINT1    0x360u
#define R_LVT_ERROR    0x370u
#define R_TMICT        0x380u
#define R_TMCCT        0x390u
#define R_TDCR         0x3e0u

/* The domain's CPUs: guest APIC IDs 0, 1, 2 (their index), on cores with
 * APIC IDs 2, 4, 17 (physical CPUs 1, 2, 3). The test runs "on" CPU 1,
 * vCPU 0's. Guest ID 2 is vCPU 2 (core 17), not core 2 (vCPU 0); the
 * cores' IDs 4 and 17 name nobody of the domain. */
static const uint32_t dom_apic[] = { 2, 4, 17 };
#define NV 3
#define THIS_CPU 1
/* 0xff is not a broadcast in an x2APIC ICR; 0x102's low byte is vCPU 2. */
static const uint32_t foreign_id[] = { 3, 4, 5, 16, 17, 18, 33, 0xff, 0x102 };
#define NFOREIGN (sizeof(foreign_id) / sizeof(foreign_id[0]))

/* ---- lapic_send_ipi stand-in ------------------------------------------------ */

#define MAX_IPIS 64

static struct {
	uint32_t apic_id;
	uint32_t icr_low;
} ipis[MAX_IPIS];
static unsigned nipis;

void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low)
{
	assert_true(nipis < MAX_IPIS);
	ipis[nipis].apic_id = apic_id;
	ipis[nipis].icr_low = icr_low;
	nipis++;
}

/* How many IPIs went to core apic_id (any kind). */
static unsigned sent_to(uint32_t apic_id)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nipis; i++)
		n += ipis[i].apic_id == apic_id;
	return n;
}

static bool is_domain_apic(uint32_t id)
{
	for (unsigned i = 0; i < NV; i++)
		if (dom_apic[i] == id)
			return true;
	return false;
}

/* Every IPI sent is a fixed `vector` with ICR_ASSERT to a domain core;
 * exactly the cores of the vCPUs in `mask` (bit i: vCPU i) got one each. */
static void assert_fixed_to(unsigned mask, uint8_t vector)
{
	unsigned want = 0;

	for (unsigned i = 0; i < nipis; i++) {
		assert_true(is_domain_apic(ipis[i].apic_id));
		assert_int_equal(ipis[i].icr_low, vector | ICR_ASSERT);
	}
	for (unsigned i = 0; i < NV; i++) {
		assert_int_equal(sent_to(dom_apic[i]), (mask >> i) & 1);
		want += (mask >> i) & 1;
	}
	assert_int_equal(nipis, want);
}

/* ---- the real LAPIC: a fake register file ------------------------------------ */

static bool fake_x2apic;		/* what lapic_x2apic() says */
static uint32_t fake_reg[0x400 / 16];	/* by xAPIC offset / 16 */
static unsigned fake_reads;

enum { EV_WRITE, EV_RESET };
static struct {
	int kind;
	uint32_t off, val;
} events[64];
static unsigned nevents;

bool lapic_x2apic(void) { return fake_x2apic; }

/* The registers that are the domain's (ID, LDR, DFR, ICR) never reach the
 * real LAPIC; nor does anything that is not a register. */
static void assert_real_reg(uint32_t off)
{
	assert_true(off < 0x400 && !(off & 0xf));
	assert_true(off != R_ID && off != R_LDR && off != R_DFR && off != R_ICR_LO && off != R_ICR_HI);
}

uint32_t lapic_reg_read(uint32_t off)
{
	assert_real_reg(off);
	fake_reads++;
	return fake_reg[off >> 4];
}

void lapic_reg_write(uint32_t off, uint32_t val)
{
	assert_real_reg(off);
	assert_true(nevents < sizeof(events) / sizeof(events[0]));
	events[nevents].kind = EV_WRITE;
	events[nevents].off = off;
	events[nevents].val = val;
	nevents++;
	fake_reg[off >> 4] = val;
}

void lapic_reset_after_guest(void)
{
	assert_true(nevents < sizeof(events) / sizeof(events[0]));
	events[nevents].kind = EV_RESET;
	nevents++;
}

/* The version register: max LVT entry `maxlvt` (bits 23:16), version 0x14. */
static void set_maxlvt(uint32_t maxlvt)
{
	fake_reg[R_VERSION >> 4] = maxlvt << 16 | 0x14;
}

static void assert_wrote(unsigned i, uint32_t off, uint32_t val)
{
	assert_true(i < nevents);
	assert_int_equal(events[i].kind, EV_WRITE);
	assert_int_equal(events[i].off, off);
	assert_int_equal(events[i].val, val);
}

/* ---- the domain and this CPU --------------------------------------------------- */

static struct percpu *cpu;

/* A domain as it is built: each vCPU at its power-on state (x2APIC mode
 * if the fake LAPIC says so, else xAPIC). */
static struct domain *make_domain(void)
{
	struct domain *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	d->name = "linux0";
	d->nvcpus = NV;
	for (unsigned i = 0; i < NV; i++) {
		struct vcpu *v = &d->vcpus[i];
		v->dom = d;
		vlapic_reset(v, i);
		v->cpu = THIS_CPU + i;
		v->apic_id = dom_apic[i];
		v->state = i == 0 ? VCPU_RUNNING : VCPU_WAIT_SIPI;
	}
	return d;
}

static void reset_fakes(bool x2apic)
{
	nipis = 0;
	memset(ipis, 0, sizeof(ipis));
	nevents = 0;
	memset(events, 0, sizeof(events));
	memset(fake_reg, 0, sizeof(fake_reg));
	fake_reads = 0;
	set_maxlvt(6);
	fake_x2apic = x2apic;
	test_log_clear();
}

static int setup(void **state)
{
	reset_fakes(true);
	*state = make_domain();
	return 0;
}

/* The same on cores without x2APIC: the domain's LAPICs are xAPICs. */
static int setup_xapic(void **state)
{
	reset_fakes(false);
	*state = make_domain();
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	cpu = aligned_alloc(64, sizeof(*cpu));
	if (!cpu)
		return -1;
	memset(cpu, 0, sizeof(*cpu));
	cpu->self = cpu;
	cpu->cpu_id = THIS_CPU;
	cpu->apic_id = dom_apic[0];
	if (syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)cpu) != 0) {
		perror("arch_prctl(ARCH_SET_GS)");
		return -1;
	}
	return this_cpu() == cpu ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	syscall(SYS_arch_prctl, ARCH_SET_GS, 0ul);
	free(cpu);
	return 0;
}

/* ---- the xAPIC page ------------------------------------------------------------- */

static uint32_t mmio_read(struct vcpu *v, uint32_t off)
{
	uint32_t val = 0xdeadbeef;

	vlapic_mmio(v, off, 4, false, &val);
	return val;
}

static void mmio_write(struct vcpu *v, uint32_t off, uint32_t val)
{
	vlapic_mmio(v, off, 4, true, &val);
}

/* An IPI through the xAPIC ICR: the high half, then the low one, which
 * sends (SDM Vol. 3A 11.6.1). */
static void xapic_ipi(struct vcpu *v, uint8_t dest, uint32_t icr_low)
{
	mmio_write(v, R_ICR_HI, (uint32_t)dest << 24);
	mmio_write(v, R_ICR_LO, icr_low);
}

/* ---- power-on state and IA32_APIC_BASE (SDM Vol. 3A 11.4.4, 11.12.5) ---------------- */

static void test_reset(void **state)
{
	struct domain *d = *state;

	for (unsigned i = 0; i < NV; i++) {
		struct vcpu *v = &d->vcpus[i];
		assert_int_equal(v->vapic_id, i);
		assert_int_equal(v->apic_mode, VLAPIC_X2APIC);
		assert_int_equal(v->xapic_ldr, 0);
		assert_int_equal(v->xapic_dfr, 0xffffffffu);
		assert_int_equal(v->xapic_icr_lo, 0);
		assert_int_equal(v->xapic_icr_hi, 0);
	}
	/* Cores without x2APIC: xAPIC mode */
	fake_x2apic = false;
	d->vcpus[1].xapic_ldr = 0x12000000;
	d->vcpus[1].xapic_dfr = 0x0fffffff;
	d->vcpus[1].xapic_icr_hi = 0x01000000;
	d->vcpus[1].xapic_icr_lo = 0x4030;
	vlapic_reset(&d->vcpus[1], 7);
	assert_int_equal(d->vcpus[1].vapic_id, 7);
	assert_int_equal(d->vcpus[1].apic_mode, VLAPIC_XAPIC);
	assert_int_equal(d->vcpus[1].xapic_ldr, 0);
	assert_int_equal(d->vcpus[1].xapic_dfr, 0xffffffffu);
	assert_int_equal(d->vcpus[1].xapic_icr_lo, 0);
	assert_int_equal(d->vcpus[1].xapic_icr_hi, 0);
	/* Nothing of it touches the real LAPIC */
	assert_int_equal(nevents, 0);
	assert_int_equal(nipis, 0);
}

static void test_apic_base(void **state)
{
	struct domain *d = *state;

	/* x2APIC: EN and EXTD; BSP on the domain's first vCPU only */
	assert_int_equal(vlapic_apic_base(&d->vcpus[0]), BASE | EN | EXTD | BSP);
	for (unsigned i = 1; i < NV; i++)
		assert_int_equal(vlapic_apic_base(&d->vcpus[i]), BASE | EN | EXTD);
	/* xAPIC: EN only; disabled: neither */
	for (unsigned i = 0; i < NV; i++) {
		d->vcpus[i].apic_mode = VLAPIC_XAPIC;
		assert_int_equal(vlapic_apic_base(&d->vcpus[i]), BASE | EN | (i == 0 ? BSP : 0));
		d->vcpus[i].apic_mode = VLAPIC_DISABLED;
		assert_int_equal(vlapic_apic_base(&d->vcpus[i]), BASE | (i == 0 ? BSP : 0));
	}
}

/* x2APIC -> disabled -> xAPIC -> x2APIC -> disabled, the legal way round
 * (Figure 11-27), with what is read back at each step. */
static void test_apic_base_legal_transitions(void **state)
{
	struct domain *d = *state;
	struct vcpu *bsp = &d->vcpus[0], *ap = &d->vcpus[2];

	/* Writing the mode it is in: nothing happens (BSP read-only-ish:
	 * written either way, still reported by the vCPU's place) */
	assert_true(vlapic_apic_base_write(bsp, BASE | EN | EXTD | BSP));
	assert_true(vlapic_apic_base_write(ap, BASE | EN | EXTD));
	assert_true(vlapic_apic_base_write(ap, BASE | EN | EXTD | BSP));
	assert_int_equal(vlapic_apic_base(ap), BASE | EN | EXTD);
	assert_int_equal(nevents, 0);

	/* x2APIC -> disabled: the real LAPIC reset, then software-disabled
	 * (SVR 0xff: spurious vector 0xff, bit 8 clear) */
	ap->xapic_ldr = 0x55000000;	/* power-on values again after */
	ap->xapic_dfr = 0x0fffffff;
	assert_true(vlapic_apic_base_write(ap, BASE));
	assert_int_equal(ap->apic_mode, VLAPIC_DISABLED);
	assert_int_equal(vlapic_apic_base(ap), BASE);
	assert_int_equal(ap->vapic_id, 2);
	assert_int_equal(ap->xapic_ldr, 0);
	assert_int_equal(ap->xapic_dfr, 0xffffffffu);
	assert_int_equal(nevents, 2);
	assert_int_equal(events[0].kind, EV_RESET);
	assert_wrote(1, R_SVR, 0xff);
	/* Disabled again: no second reset */
	assert_true(vlapic_apic_base_write(ap, BASE));
	assert_int_equal(nevents, 2);

	/* disabled -> xAPIC: nothing done to the real LAPIC */
	assert_true(vlapic_apic_base_write(ap, BASE | EN));
	assert_int_equal(ap->apic_mode, VLAPIC_XAPIC);
	assert_int_equal(vlapic_apic_base(ap), BASE | EN);
	assert_int_equal(nevents, 2);
	assert_true(vlapic_apic_base_write(ap, BASE | EN));	/* same mode */
	assert_int_equal(ap->apic_mode, VLAPIC_XAPIC);

	/* xAPIC -> x2APIC */
	assert_true(vlapic_apic_base_write(ap, BASE | EN | EXTD));
	assert_int_equal(ap->apic_mode, VLAPIC_X2APIC);
	assert_int_equal(vlapic_apic_base(ap), BASE | EN | EXTD);
	assert_int_equal(nevents, 2);

	/* xAPIC -> disabled resets too; the BSP keeps its flag */
	assert_true(vlapic_apic_base_write(bsp, BASE | BSP));
	assert_true(vlapic_apic_base_write(bsp, BASE | EN | BSP));
	assert_int_equal(vlapic_apic_base(bsp), BASE | EN | BSP);
	bsp->xapic_ldr = 0x01000000;
	assert_true(vlapic_apic_base_write(bsp, BASE | BSP));
	assert_int_equal(bsp->apic_mode, VLAPIC_DISABLED);
	assert_int_equal(vlapic_apic_base(bsp), BASE | BSP);
	assert_int_equal(bsp->xapic_ldr, 0);
	assert_int_equal(bsp->vapic_id, 0);
	assert_int_equal(nevents, 6);
	assert_int_equal(events[2].kind, EV_RESET);
	assert_wrote(3, R_SVR, 0xff);
	assert_int_equal(events[4].kind, EV_RESET);
	assert_wrote(5, R_SVR, 0xff);
	/* The other vCPU was not touched */
	assert_int_equal(d->vcpus[1].apic_mode, VLAPIC_X2APIC);
}

/* Each of these raises #GP (SDM Vol. 3A 11.12.5, 11.4.4) and changes
 * nothing. */
static void test_apic_base_illegal(void **state)
{
	struct domain *d = *state;
	struct vcpu *v = &d->vcpus[1];
	static const uint64_t bad_bits[] = {
		1ull << 0, 1ull << 7, 1ull << 9,		/* reserved */
		1ull << 12, 0xfull << 32, 1ull << 63,	/* the base moved, reserved high bits */
	};

	/* x2APIC -> xAPIC directly; EXTD without EN */
	assert_false(vlapic_apic_base_write(v, BASE | EN));
	assert_int_equal(v->apic_mode, VLAPIC_X2APIC);
	assert_false(vlapic_apic_base_write(v, BASE | EXTD));
	assert_int_equal(v->apic_mode, VLAPIC_X2APIC);
	/* Reserved bits, a moved base, in every mode */
	for (unsigned m = 0; m < 3; m++) {
		static const uint64_t mode_bits[] = { EN | EXTD, EN, 0 };
		static const enum vlapic_mode modes[] = { VLAPIC_X2APIC, VLAPIC_XAPIC, VLAPIC_DISABLED };
		v->apic_mode = (uint8_t)modes[m];
		for (unsigned i = 0; i < sizeof(bad_bits) / sizeof(bad_bits[0]); i++) {
			assert_false(vlapic_apic_base_write(v, BASE | mode_bits[m] | bad_bits[i]));
			assert_int_equal(v->apic_mode, modes[m]);
		}
		assert_false(vlapic_apic_base_write(v, 0xfec00000ull | mode_bits[m]));
		assert_false(vlapic_apic_base_write(v, mode_bits[m]));
		assert_int_equal(v->apic_mode, modes[m]);
	}
	/* disabled -> x2APIC directly; EXTD without EN */
	v->apic_mode = VLAPIC_DISABLED;
	assert_false(vlapic_apic_base_write(v, BASE | EN | EXTD));
	assert_false(vlapic_apic_base_write(v, BASE | EXTD));
	assert_int_equal(v->apic_mode, VLAPIC_DISABLED);
	/* xAPIC: EXTD without EN */
	v->apic_mode = VLAPIC_XAPIC;
	assert_false(vlapic_apic_base_write(v, BASE | EXTD));
	assert_int_equal(v->apic_mode, VLAPIC_XAPIC);
	/* Not one reset or write of the real LAPIC */
	assert_int_equal(nevents, 0);
}

/* Cores without x2APIC: the guest has none either (CPUID says so); EXTD
 * is a #GP, xAPIC <-> disabled still works. */
static void test_apic_base_no_x2apic(void **state)
{
	struct domain *d = *state;
	struct vcpu *v = &d->vcpus[0];

	assert_int_equal(v->apic_mode, VLAPIC_XAPIC);
	assert_int_equal(vlapic_apic_base(v), BASE | EN | BSP);
	assert_false(vlapic_apic_base_write(v, BASE | EN | EXTD | BSP));
	assert_int_equal(v->apic_mode, VLAPIC_XAPIC);
	assert_true(vlapic_apic_base_write(v, BASE | BSP));
	assert_int_equal(v->apic_mode, VLAPIC_DISABLED);
	assert_false(vlapic_apic_base_write(v, BASE | EN | EXTD | BSP));
	assert_true(vlapic_apic_base_write(v, BASE | EN | BSP));
	assert_int_equal(v->apic_mode, VLAPIC_XAPIC);
	assert_int_equal(nevents, 2);
	assert_int_equal(events[0].kind, EV_RESET);
	assert_wrote(1, R_SVR, 0xff);
}

/* ---- x2APIC logical IDs (SDM Vol. 3A 11.12.10.2) ------------------------------------ */

static void test_x2apic_ldr(void **state)
{
	(void)state;
	assert_int_equal(vlapic_x2apic_ldr(0), 0x00000001);
	assert_int_equal(vlapic_x2apic_ldr(2), 0x00000004);
	assert_int_equal(vlapic_x2apic_ldr(15), 0x00008000);
	assert_int_equal(vlapic_x2apic_ldr(16), 0x00010001);
	assert_int_equal(vlapic_x2apic_ldr(17), 0x00010002);
	assert_int_equal(vlapic_x2apic_ldr(0x102), 0x00100004);
	assert_int_equal(vlapic_x2apic_ldr(63), 0x00038000);
}

/* ---- fixed, physical --------------------------------------------------------------- */

static void test_fixed_to_domain_cpu(void **state)
{
	struct domain *d = *state;

	/* Guest ID i is vCPU i, whose core's ID is dom_apic[i] */
	for (unsigned i = 0; i < NV; i++) {
		nipis = 0;
		vlapic_icr_write(&d->vcpus[0], DEST(i) | ASSERT | DM_FIXED | 0xec);
		assert_fixed_to(1u << i, 0xec);
	}
	nipis = 0;
	vlapic_icr_write(&d->vcpus[0], DEST(2) | ASSERT | DM_FIXED | 0xed);
	assert_int_equal(nipis, 1);
	assert_int_equal(ipis[0].apic_id, 17);	/* not core 2 (vCPU 0's) */
	/* Without the level bit (x2APIC ignores it for fixed), from another vCPU */
	nipis = 0;
	vlapic_icr_write(&d->vcpus[2], DEST(1) | DM_FIXED | 0x31);
	assert_fixed_to(1u << 1, 0x31);
	/* Level-triggered fixed: still one fixed IPI */
	nipis = 0;
	vlapic_icr_write(&d->vcpus[1], DEST(2) | LEVEL | ASSERT | DM_FIXED | 0x41);
	assert_fixed_to(1u << 2, 0x41);
	assert_int_equal(d->ipi_refused, 0);
}

static void test_fixed_to_foreign_cpu(void **state)
{
	struct domain *d = *state;

	for (unsigned i = 0; i < NFOREIGN; i++)
		vlapic_icr_write(&d->vcpus[0], DEST(foreign_id[i]) | ASSERT | DM_FIXED | 0xfd);
	assert_int_equal(nipis, 0);
	assert_int_equal(d->ipi_refused, NFOREIGN);
	assert_true(test_log_has("domain linux0: IPI 0x"));
	assert_true(test_log_has("refused: no CPU of the domain at that destination"));
}

/* Vectors 0-15 cannot be sent fixed (SDM Vol. 3A 11.5.2): refused. */
static void test_illegal_vector(void **state)
{
	struct domain *d = *state;

	vlapic_icr_write(&d->vcpus[0], DEST(1) | ASSERT | DM_FIXED | 0x0f);
	vlapic_icr_write(&d->vcpus[0], SH_ALL | ASSERT | DM_FIXED | 0x02);
	vlapic_icr_write(&d->vcpus[0], DEST(0x7) | LOGICAL | ASSERT | DM_LOWEST | 0x00);
	assert_int_equal(nipis, 0);
	assert_int_equal(d->ipi_refused, 3);
	assert_true(test_log_has("refused: illegal vector"));
	vlapic_icr_write(&d->vcpus[0], DEST(1) | ASSERT | DM_FIXED | 0x10);
	assert_fixed_to(0x2, 0x10);
	assert_int_equal(d->ipi_refused, 3);
}

static void test_refusals_logged_at_most_8(void **state)
{
	struct domain *d = *state;
	const char *p;
	unsigned lines = 0;

	for (unsigned i = 0; i < 20; i++)
		vlapic_icr_write(&d->vcpus[0], DEST(3 + i) | ASSERT | 0x30);
	assert_int_equal(d->ipi_refused, 20);
	for (p = test_log(); (p = strstr(p, "refused")) != NULL; p++)
		lines++;
	assert_int_equal(lines, 8);
	assert_int_equal(nipis, 0);
}

/* ---- broadcast and shorthands ------------------------------------------------------ */

static void test_broadcast(void **state)
{
	struct domain *d = *state;

	vlapic_icr_write(&d->vcpus[1], DEST(0xffffffffu) | ASSERT | DM_FIXED | 0xf0);
	assert_fixed_to(0x7, 0xf0);
	nipis = 0;
	vlapic_icr_write(&d->vcpus[1], DEST(0xffffffffu) | LOGICAL | ASSERT | DM_FIXED | 0xf1);
	assert_fixed_to(0x7, 0xf1);
	assert_int_equal(d->ipi_refused, 0);
	/* 8-bit 0xff is not a broadcast in an x2APIC ICR (SDM Vol. 3A 11.12.9) */
	nipis = 0;
	vlapic_icr_write(&d->vcpus[1], DEST(0xff) | ASSERT | DM_FIXED | 0xf2);
	assert_int_equal(nipis, 0);
	assert_int_equal(d->ipi_refused, 1);
}

static void test_shorthands(void **state)
{
	struct domain *d = *state;

	/* all including self; the destination field is ignored */
	vlapic_icr_write(&d->vcpus[1], SH_ALL | DEST(99) | ASSERT | 0xf2);
	assert_fixed_to(0x7, 0xf2);
	/* all excluding self, from each vCPU */
	for (unsigned i = 0; i < NV; i++) {
		nipis = 0;
		vlapic_icr_write(&d->vcpus[i], SH_OTHERS | ASSERT | 0xf3);
		assert_fixed_to(0x7 & ~(1u << i), 0xf3);
	}
	/* self */
	for (unsigned i = 0; i < NV; i++) {
		nipis = 0;
		vlapic_icr_write(&d->vcpus[i], SH_SELF | DEST(0xffffffffu) | ASSERT | 0xf4);
		assert_fixed_to(1u << i, 0xf4);
	}
	assert_int_equal(d->ipi_refused, 0);

	/* A domain of one: "others" reaches nobody, and that is not a refusal */
	d->nvcpus = 1;
	nipis = 0;
	vlapic_icr_write(&d->vcpus[0], SH_OTHERS | ASSERT | 0xf5);
	assert_int_equal(nipis, 0);
	assert_int_equal(d->ipi_refused, 0);
}

/* ---- x2APIC logical (SDM Vol. 3A 11.12.10.2) ------------------------------------------ */

static void test_logical(void **state)
{
	struct domain *d = *state;
	static const struct {
		uint32_t dest;
		unsigned mask;	/* vCPUs reached; 0: refused */
	} cases[] = {
		{ 0x00000001, 0x1 },	/* cluster 0, ID 0 */
		{ 0x00000002, 0x2 },	/* ID 1 */
		{ 0x00000004, 0x4 },	/* ID 2 */
		{ 0x00000005, 0x5 },	/* IDs 0 and 2 */
		{ 0x0000000b, 0x3 },	/* IDs 0, 1 and 3: only the domain's */
		{ 0x0000ffff, 0x7 },	/* all of cluster 0 */
		{ 0x00000008, 0x0 },	/* ID 3: foreign */
		{ 0x0000fff8, 0x0 },	/* IDs 3-15: foreign */
		{ 0x00000010, 0x0 },	/* ID 4 (a core's ID, not the domain's) */
		{ 0x00010001, 0x0 },	/* ID 16: cluster 1 */
		{ 0x00010007, 0x0 },	/* IDs 16-18: cluster 1 */
		{ 0x00020007, 0x0 },	/* cluster 2 */
		{ 0x00100007, 0x0 },	/* cluster 0x10 */
		{ 0xffff0007, 0x0 },	/* cluster 0xffff */
		{ 0x00010000, 0x0 },	/* cluster 1, no CPU */
		{ 0x00000000, 0x0 },
	};
	uint64_t refused = 0;

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		nipis = 0;
		vlapic_icr_write(&d->vcpus[0], DEST(cases[i].dest) | LOGICAL | ASSERT | 0x50);
		assert_fixed_to(cases[i].mask, 0x50);
		refused += cases[i].mask == 0;
		assert_int_equal(d->ipi_refused, refused);
	}
	/* The same IDs as physical destinations are something else */
	nipis = 0;
	vlapic_icr_write(&d->vcpus[0], DEST(0x00000004) | ASSERT | 0x51);
	assert_int_equal(nipis, 0);
	vlapic_icr_write(&d->vcpus[0], DEST(0x00000001) | ASSERT | 0x51);
	assert_fixed_to(0x2, 0x51);	/* ID 1, not logical ID 0 */
}

static void test_lowest_priority(void **state)
{
	struct domain *d = *state;

	vlapic_icr_write(&d->vcpus[0], DEST(0x00000003) | LOGICAL | ASSERT | DM_LOWEST | 0x60);
	assert_int_equal(nipis, 1);
	assert_true(ipis[0].apic_id == 2 || ipis[0].apic_id == 4);
	assert_int_equal(ipis[0].icr_low, 0x60 | ICR_ASSERT);	/* sent as fixed */
	nipis = 0;
	vlapic_icr_write(&d->vcpus[0], DEST(0xffffffffu) | ASSERT | DM_LOWEST | 0x61);
	assert_int_equal(nipis, 1);
	assert_true(is_domain_apic(ipis[0].apic_id));
	nipis = 0;
	vlapic_icr_write(&d->vcpus[0], SH_OTHERS | ASSERT | DM_LOWEST | 0x62);
	assert_int_equal(nipis, 1);
	assert_true(ipis[0].apic_id == 4 || ipis[0].apic_id == 17);
	nipis = 0;
	vlapic_icr_write(&d->vcpus[0], DEST(2) | ASSERT | DM_LOWEST | 0x63);
	assert_fixed_to(0x4, 0x63);
	nipis = 0;
	vlapic_icr_write(&d->vcpus[0], DEST(5) | ASSERT | DM_LOWEST | 0x64);
	vlapic_icr_write(&d->vcpus[0], DEST(0x00010001) | LOGICAL | ASSERT | DM_LOWEST | 0x64);
	assert_int_equal(nipis, 0);
	assert_int_equal(d->ipi_refused, 2);
}

/* ---- modes that are not the guest's ------------------------------------------------- */

static void test_forbidden_modes(void **state)
{
	struct domain *d = *state;
	static const uint64_t modes[] = { DM_SMI, DM_NMI, DM_EXTINT, DM(3) };
	uint64_t refused = 0;

	for (unsigned m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		vlapic_icr_write(&d->vcpus[0], DEST(1) | ASSERT | modes[m]);
		assert_int_equal(d->ipi_refused, ++refused);
		vlapic_icr_write(&d->vcpus[0], DEST(0xffffffffu) | ASSERT | modes[m]);
		assert_int_equal(d->ipi_refused, ++refused);
		vlapic_icr_write(&d->vcpus[0], SH_OTHERS | ASSERT | modes[m]);
		assert_int_equal(d->ipi_refused, ++refused);
		vlapic_icr_write(&d->vcpus[0], SH_SELF | ASSERT | modes[m]);
		assert_int_equal(d->ipi_refused, ++refused);
		vlapic_icr_write(&d->vcpus[0], DEST(0x6) | LOGICAL | ASSERT | modes[m]);
		assert_int_equal(d->ipi_refused, ++refused);
	}
	assert_int_equal(nipis, 0);
	assert_true(test_log_has("refused: delivery mode not allowed"));
	for (unsigned i = 1; i < NV; i++)
		assert_int_equal(d->vcpus[i].state, VCPU_WAIT_SIPI);
}

/* ---- INIT-SIPI-SIPI (SDM Vol. 3A 9.4.4) ----------------------------------------------- */

static void test_init_sipi_sipi(void **state)
{
	struct domain *d = *state;
	struct vcpu *bsp = &d->vcpus[0], *ap = &d->vcpus[1], *other = &d->vcpus[2];

	/* Linux's wakeup_secondary_cpu_via_init(): INIT assert, INIT
	 * de-assert, then two SIPIs, to the AP's ID as the MADT gave it: 1 */
	vlapic_icr_write(bsp, DEST(1) | LEVEL | ASSERT | DM_INIT);
	assert_int_equal(ap->state, VCPU_WAIT_SIPI);
	vlapic_icr_write(bsp, DEST(1) | LEVEL | DM_INIT);
	assert_int_equal(ap->state, VCPU_WAIT_SIPI);
	assert_false(ap->real_mode_start);
	vlapic_icr_write(bsp, DEST(1) | DM_SIPI | 0x9a);
	assert_int_equal(ap->state, VCPU_RUNNING);
	assert_true(ap->real_mode_start);
	assert_int_equal(ap->sipi_vector, 0x9a);
	assert_int_equal(ap->regs.rflags, 0x2);
	assert_int_equal(ap->regs.rip, 0);
	/* The second SIPI of the pair: nothing, and not a refusal */
	vlapic_icr_write(bsp, DEST(1) | DM_SIPI | 0x9b);
	assert_int_equal(ap->state, VCPU_RUNNING);
	assert_int_equal(ap->sipi_vector, 0x9a);
	/* The other AP was not touched */
	assert_int_equal(other->state, VCPU_WAIT_SIPI);
	assert_false(other->real_mode_start);
	assert_int_equal(other->sipi_vector, 0);
	/* No IPI for any of it but the NMI that wakes the started vCPU's
	 * core (halted while it waited): core 4 */
	assert_int_equal(nipis, 1);
	assert_int_equal(ipis[0].apic_id, 4);
	assert_int_equal(ipis[0].icr_low, ICR_NMI | ICR_ASSERT);
	assert_int_equal(d->ipi_refused, 0);

	/* INIT to the now running vCPU: refused */
	vlapic_icr_write(bsp, DEST(1) | LEVEL | ASSERT | DM_INIT);
	assert_int_equal(d->ipi_refused, 1);
	assert_int_equal(ap->state, VCPU_RUNNING);
	assert_true(test_log_has("refused: INIT to a running vCPU"));
	/* INIT/SIPI to a foreign ID (or a core's own ID): refused, nothing sent */
	vlapic_icr_write(bsp, DEST(5) | LEVEL | ASSERT | DM_INIT);
	vlapic_icr_write(bsp, DEST(5) | DM_SIPI | 0x9a);
	vlapic_icr_write(bsp, DEST(17) | DM_SIPI | 0x9a);
	assert_int_equal(d->ipi_refused, 4);
	assert_int_equal(nipis, 1);	/* still only the wake-up NMI */
	assert_int_equal(other->state, VCPU_WAIT_SIPI);
}

static void test_sipi_by_shorthand_and_from_ap(void **state)
{
	struct domain *d = *state;

	/* An AP started by the BSP starts the last one */
	vlapic_icr_write(&d->vcpus[0], DEST(1) | DM_SIPI | 0x10);
	assert_int_equal(d->vcpus[1].state, VCPU_RUNNING);
	vlapic_icr_write(&d->vcpus[1], DEST(2) | LEVEL | ASSERT | DM_INIT);
	vlapic_icr_write(&d->vcpus[1], DEST(2) | DM_SIPI | 0x20);
	assert_int_equal(d->vcpus[2].state, VCPU_RUNNING);
	assert_int_equal(d->vcpus[2].sipi_vector, 0x20);
	assert_int_equal(d->ipi_refused, 0);
	assert_int_equal(nipis, 2);	/* the two wake-up NMIs */
	assert_int_equal(ipis[0].icr_low, ICR_NMI | ICR_ASSERT);
	assert_int_equal(ipis[0].apic_id, 4);
	assert_int_equal(ipis[1].icr_low, ICR_NMI | ICR_ASSERT);
	assert_int_equal(ipis[1].apic_id, 17);

	/* Broadcast INIT/SIPI to all-but-self, on a fresh domain */
	struct domain *e = make_domain();
	vlapic_icr_write(&e->vcpus[0], SH_OTHERS | LEVEL | ASSERT | DM_INIT);
	vlapic_icr_write(&e->vcpus[0], SH_OTHERS | DM_SIPI | 0x30);
	for (unsigned i = 1; i < NV; i++) {
		assert_int_equal(e->vcpus[i].state, VCPU_RUNNING);
		assert_int_equal(e->vcpus[i].sipi_vector, 0x30);
		assert_true(e->vcpus[i].real_mode_start);
	}
	assert_int_equal(e->ipi_refused, 0);
	assert_int_equal(nipis, 2 + NV - 1);	/* one wake-up NMI each */
	free(e);
}

static void test_init_deassert_does_nothing(void **state)
{
	struct domain *d = *state;

	/* To a waiting vCPU, to itself, to a foreign ID, to all: not even
	 * counted as a refusal */
	vlapic_icr_write(&d->vcpus[0], DEST(1) | LEVEL | DM_INIT);
	vlapic_icr_write(&d->vcpus[0], DEST(0) | LEVEL | DM_INIT);
	vlapic_icr_write(&d->vcpus[0], DEST(5) | LEVEL | DM_INIT);
	vlapic_icr_write(&d->vcpus[0], SH_ALL | LEVEL | DM_INIT);
	assert_int_equal(d->ipi_refused, 0);
	assert_int_equal(nipis, 0);
	for (unsigned i = 1; i < NV; i++) {
		assert_int_equal(d->vcpus[i].state, VCPU_WAIT_SIPI);
		assert_false(d->vcpus[i].real_mode_start);
	}
	assert_int_equal(d->vcpus[0].state, VCPU_RUNNING);
}

static void test_init_sipi_to_itself(void **state)
{
	struct domain *d = *state;
	struct vcpu *ap = &d->vcpus[1];

	/* Even a vCPU that is (somehow) waiting cannot start itself */
	vlapic_icr_write(ap, DEST(1) | DM_SIPI | 0x9a);
	assert_int_equal(ap->state, VCPU_WAIT_SIPI);
	assert_false(ap->real_mode_start);
	assert_int_equal(d->ipi_refused, 1);
	vlapic_icr_write(ap, SH_SELF | DM_SIPI | 0x9a);
	assert_int_equal(ap->state, VCPU_WAIT_SIPI);
	assert_int_equal(d->ipi_refused, 2);
	vlapic_icr_write(&d->vcpus[0], DEST(0) | LEVEL | ASSERT | DM_INIT);
	vlapic_icr_write(&d->vcpus[0], SH_SELF | DM_SIPI | 0x9a);
	assert_int_equal(d->ipi_refused, 4);
	assert_int_equal(d->vcpus[0].state, VCPU_RUNNING);
	assert_false(d->vcpus[0].real_mode_start);
	assert_true(test_log_has("refused: INIT/SIPI to itself"));
	/* SIPI to all including self: the others start, self is refused */
	vlapic_icr_write(&d->vcpus[0], SH_ALL | DM_SIPI | 0x44);
	assert_int_equal(d->vcpus[1].state, VCPU_RUNNING);
	assert_int_equal(d->vcpus[2].state, VCPU_RUNNING);
	assert_false(d->vcpus[0].real_mode_start);
	assert_int_equal(d->ipi_refused, 5);
	assert_int_equal(nipis, 2);	/* the wake-up NMIs of the two started */
	for (unsigned i = 0; i < nipis; i++)
		assert_int_equal(ipis[i].icr_low, ICR_NMI | ICR_ASSERT);
}

/* ---- vlapic_deliver (the virtual IOAPIC's messages), x2APIC targets ------------------- */

static void test_deliver(void **state)
{
	struct domain *d = *state;

	vlapic_deliver(d, 0x24, false, 0xff);		/* 8-bit broadcast */
	assert_fixed_to(0x7, 0x24);
	nipis = 0;
	vlapic_deliver(d, 0x25, false, 0xffffffffu);
	assert_fixed_to(0x7, 0x25);
	nipis = 0;
	vlapic_deliver(d, 0x26, false, 2);		/* vCPU 2: core 17 */
	assert_fixed_to(0x4, 0x26);
	for (unsigned i = 0; i < NFOREIGN; i++)
		if (foreign_id[i] != 0xff)
			vlapic_deliver(d, 0x27, false, foreign_id[i]);	/* nobody */
	assert_fixed_to(0x4, 0x26);
	nipis = 0;
	vlapic_deliver(d, 0x28, true, 0x00000003);
	assert_fixed_to(0x3, 0x28);
	nipis = 0;
	vlapic_deliver(d, 0x29, true, 0x00000004);
	assert_fixed_to(0x4, 0x29);
	nipis = 0;
	vlapic_deliver(d, 0x2a, true, 0xff);		/* logical: cluster 0, IDs 0-7 */
	assert_fixed_to(0x7, 0x2a);
	nipis = 0;
	vlapic_deliver(d, 0x2b, true, 0x00010007);	/* cluster 1: nobody */
	vlapic_deliver(d, 0x2b, true, 0x00000008);	/* ID 3: nobody */
	vlapic_deliver(d, 0x0e, false, 1);		/* illegal vector: dropped */
	assert_int_equal(nipis, 0);
	assert_int_equal(d->ipi_refused, 0);		/* not the guest's ICR */
}

/* The first vCPU a message names (the IOMMU sends a device's interrupt to
 * one CPU): the same matching as vlapic_deliver, nothing sent. */
static void test_first_target(void **state)
{
	struct domain *d = *state;

	assert_ptr_equal(vlapic_first_target(d, false, 2), &d->vcpus[2]);
	assert_ptr_equal(vlapic_first_target(d, false, 0xff), &d->vcpus[0]);
	assert_ptr_equal(vlapic_first_target(d, false, 0xffffffffu), &d->vcpus[0]);
	for (unsigned i = 0; i < NFOREIGN; i++)
		if (foreign_id[i] != 0xff)
			assert_null(vlapic_first_target(d, false, foreign_id[i]));
	assert_ptr_equal(vlapic_first_target(d, true, 0x00000006), &d->vcpus[1]);
	assert_null(vlapic_first_target(d, true, 0x00010007));
	assert_int_equal(vlapic_logical_first(d, 0x00000007), 0);
	assert_int_equal(vlapic_logical_first(d, 0x00000004), 2);
	assert_int_equal(vlapic_logical_first(d, 0x0000000c), 2);
	assert_int_equal(vlapic_logical_first(d, 0xffffffffu), 0);
	assert_int_equal(vlapic_logical_first(d, 0x00000008), UINT32_MAX);
	assert_int_equal(vlapic_logical_first(d, 0x00010001), UINT32_MAX);
	assert_int_equal(vlapic_logical_first(d, 0), UINT32_MAX);
	assert_int_equal(nipis, 0);
}

/* ---- xAPIC mode: the page (SDM Vol. 3A 11.4.1, Table 11-1) --------------------------- */

static void test_xapic_id(void **state)
{
	struct domain *d = *state;

	for (unsigned i = 0; i < NV; i++) {
		assert_int_equal(mmio_read(&d->vcpus[i], R_ID), i << 24);
		mmio_write(&d->vcpus[i], R_ID, 0x05000000);	/* dropped */
		assert_int_equal(mmio_read(&d->vcpus[i], R_ID), i << 24);
		assert_int_equal(d->vcpus[i].vapic_id, i);
	}
	assert_int_equal(nevents, 0);
}

static void test_xapic_ldr_dfr(void **state)
{
	struct domain *d = *state;
	struct vcpu *v = &d->vcpus[1];

	/* Power-on: LDR 0, DFR flat (all ones; 11.6.2.2, 11.4.7.1) */
	assert_int_equal(mmio_read(v, R_LDR), 0);
	assert_int_equal(mmio_read(v, R_DFR), 0xffffffffu);
	/* LDR: bits 31:24 only */
	mmio_write(v, R_LDR, 0xabcdef12);
	assert_int_equal(mmio_read(v, R_LDR), 0xab000000);
	assert_int_equal(v->xapic_ldr, 0xab000000);
	/* DFR: the model in 31:28, the rest reads as ones */
	mmio_write(v, R_DFR, 0);
	assert_int_equal(mmio_read(v, R_DFR), 0x0fffffff);
	mmio_write(v, R_DFR, 0x12345678);
	assert_int_equal(mmio_read(v, R_DFR), 0x1fffffff);
	mmio_write(v, R_DFR, 0xf0000000);
	assert_int_equal(mmio_read(v, R_DFR), 0xffffffffu);
	/* Per vCPU; and none of it in the real LAPIC */
	assert_int_equal(mmio_read(&d->vcpus[0], R_LDR), 0);
	assert_int_equal(nevents, 0);
}

static void test_xapic_icr_registers(void **state)
{
	struct domain *d = *state;
	struct vcpu *v = &d->vcpus[0];

	/* ICR high: the destination in 31:24 only */
	mmio_write(v, R_ICR_HI, 0x01ffffff);
	assert_int_equal(mmio_read(v, R_ICR_HI), 0x01000000);
	assert_int_equal(nipis, 0);		/* the high half does not send */
	/* ICR low sends; it reads back as written, delivery status idle */
	mmio_write(v, R_ICR_LO, (uint32_t)(PENDING | ASSERT | DM_FIXED | 0x77));
	assert_fixed_to(0x2, 0x77);
	assert_int_equal(mmio_read(v, R_ICR_LO), ASSERT | 0x77);
	/* Sent again on the next low write, to the same destination */
	nipis = 0;
	mmio_write(v, R_ICR_LO, (uint32_t)(ASSERT | 0x78));
	assert_fixed_to(0x2, 0x78);
	assert_int_equal(nevents, 0);
}

static void test_xapic_physical(void **state)
{
	struct domain *d = *state;
	static const uint8_t foreign8[] = { 3, 4, 5, 16, 17, 0x80, 0xfe };

	for (unsigned i = 0; i < NV; i++) {
		nipis = 0;
		xapic_ipi(&d->vcpus[0], (uint8_t)i, (uint32_t)(ASSERT | DM_FIXED | 0xe0));
		assert_fixed_to(1u << i, 0xe0);
	}
	/* 0xff is every CPU of the domain in xAPIC mode (11.6.2.1) */
	nipis = 0;
	xapic_ipi(&d->vcpus[1], 0xff, (uint32_t)(ASSERT | DM_FIXED | 0xe1));
	assert_fixed_to(0x7, 0xe1);
	assert_int_equal(d->ipi_refused, 0);
	/* Foreign IDs: nobody, refused */
	nipis = 0;
	for (unsigned i = 0; i < sizeof(foreign8); i++)
		xapic_ipi(&d->vcpus[0], foreign8[i], (uint32_t)(ASSERT | DM_FIXED | 0xe2));
	assert_int_equal(nipis, 0);
	assert_int_equal(d->ipi_refused, sizeof(foreign8));
	/* Shorthands and refused modes as in x2APIC mode */
	xapic_ipi(&d->vcpus[2], 0, (uint32_t)(SH_OTHERS | ASSERT | 0xe3));
	assert_fixed_to(0x3, 0xe3);
	nipis = 0;
	xapic_ipi(&d->vcpus[2], 1, (uint32_t)(ASSERT | DM_NMI));
	assert_int_equal(nipis, 0);
	assert_int_equal(d->ipi_refused, sizeof(foreign8) + 1);
}

/* Flat model (DFR 0xf...): an 8-bit mask against each LDR's 31:24
 * (SDM Vol. 3A 11.6.2.2). */
static void test_xapic_logical_flat(void **state)
{
	struct domain *d = *state;
	static const struct {
		uint8_t dest;
		unsigned mask;
	} cases[] = {
		{ 0x01, 0x1 }, { 0x02, 0x2 }, { 0x04, 0x4 }, { 0x08, 0x4 },
		{ 0x03, 0x3 }, { 0x0c, 0x4 }, { 0x0f, 0x7 }, { 0x11, 0x1 },
		{ 0xfe, 0x6 }, { 0xff, 0x7 },	/* 0xff: broadcast */
		{ 0x10, 0x0 }, { 0xf0, 0x0 }, { 0x00, 0x0 },
	};
	uint64_t refused = 0;

	/* Power-on LDR 0: a logical IPI reaches nobody */
	xapic_ipi(&d->vcpus[0], 0x01, (uint32_t)(LOGICAL | ASSERT | 0x70));
	assert_int_equal(nipis, 0);
	assert_int_equal(d->ipi_refused, ++refused);

	mmio_write(&d->vcpus[0], R_LDR, 0x01000000);
	mmio_write(&d->vcpus[1], R_LDR, 0x02000000);
	mmio_write(&d->vcpus[2], R_LDR, 0x0c000000);	/* two bits */
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		nipis = 0;
		xapic_ipi(&d->vcpus[0], cases[i].dest, (uint32_t)(LOGICAL | ASSERT | 0x71));
		assert_fixed_to(cases[i].mask, 0x71);
		refused += cases[i].mask == 0;
		assert_int_equal(d->ipi_refused, refused);
	}
	/* The IOAPIC's messages: the same */
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		nipis = 0;
		vlapic_deliver(d, 0x72, true, cases[i].dest);
		assert_fixed_to(cases[i].mask, 0x72);
	}
	/* Lowest priority: one of them */
	nipis = 0;
	xapic_ipi(&d->vcpus[0], 0x06, (uint32_t)(LOGICAL | ASSERT | DM_LOWEST | 0x73));
	assert_int_equal(nipis, 1);
	assert_true(ipis[0].apic_id == 4 || ipis[0].apic_id == 17);
	assert_int_equal(d->ipi_refused, refused);
}

/* Cluster model (DFR 0x0...): cluster in 7:4, up to 4 CPUs' bits in 3:0
 * (SDM Vol. 3A 11.6.2.2). */
static void test_xapic_logical_cluster(void **state)
{
	struct domain *d = *state;
	static const struct {
		uint8_t dest;
		unsigned mask;
	} cases[] = {
		{ 0x11, 0x1 }, { 0x12, 0x2 }, { 0x13, 0x3 }, { 0x1f, 0x3 },
		{ 0x21, 0x4 }, { 0x2f, 0x4 }, { 0xff, 0x7 },	/* 0xff: broadcast */
		{ 0x14, 0x0 }, { 0x22, 0x0 }, { 0x31, 0x0 },	/* no CPU there */
		{ 0x01, 0x0 }, { 0x03, 0x0 },			/* cluster 0 */
		{ 0x10, 0x0 }, { 0x20, 0x0 },
	};
	uint64_t refused = 0;

	for (unsigned i = 0; i < NV; i++)
		mmio_write(&d->vcpus[i], R_DFR, 0x0fffffff);
	mmio_write(&d->vcpus[0], R_LDR, 0x11000000);
	mmio_write(&d->vcpus[1], R_LDR, 0x12000000);
	mmio_write(&d->vcpus[2], R_LDR, 0x21000000);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		nipis = 0;
		xapic_ipi(&d->vcpus[1], cases[i].dest, (uint32_t)(LOGICAL | ASSERT | 0x80));
		assert_fixed_to(cases[i].mask, 0x80);
		refused += cases[i].mask == 0;
		assert_int_equal(d->ipi_refused, refused);
	}
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		nipis = 0;
		vlapic_deliver(d, 0x81, true, cases[i].dest);
		assert_fixed_to(cases[i].mask, 0x81);
	}
	assert_int_equal(d->ipi_refused, refused);
	assert_int_equal(nevents, 0);
}

static void test_xapic_deliver_physical(void **state)
{
	struct domain *d = *state;

	for (unsigned i = 0; i < NV; i++) {
		nipis = 0;
		vlapic_deliver(d, 0x90, false, i);
		assert_fixed_to(1u << i, 0x90);
	}
	nipis = 0;
	vlapic_deliver(d, 0x91, false, 0xff);
	assert_fixed_to(0x7, 0x91);
	nipis = 0;
	vlapic_deliver(d, 0x92, false, 0xffffffffu);
	assert_fixed_to(0x7, 0x92);
	nipis = 0;
	vlapic_deliver(d, 0x93, false, 3);
	vlapic_deliver(d, 0x93, false, 4);
	vlapic_deliver(d, 0x93, false, 17);
	assert_int_equal(nipis, 0);
	assert_int_equal(d->ipi_refused, 0);
}

static void test_xapic_first_target(void **state)
{
	struct domain *d = *state;

	/* Flat LDRs 0x01, 0x02, 0x0c; then vCPU 2 in the cluster model */
	mmio_write(&d->vcpus[0], R_LDR, 0x01000000);
	mmio_write(&d->vcpus[1], R_LDR, 0x02000000);
	mmio_write(&d->vcpus[2], R_LDR, 0x0c000000);
	assert_int_equal(vlapic_logical_first(d, 0x06), 1);
	assert_int_equal(vlapic_logical_first(d, 0x08), 2);
	assert_int_equal(vlapic_logical_first(d, 0xff), 0);
	assert_int_equal(vlapic_logical_first(d, 0x30), UINT32_MAX);
	assert_ptr_equal(vlapic_first_target(d, false, 1), &d->vcpus[1]);
	assert_null(vlapic_first_target(d, false, 4));
	mmio_write(&d->vcpus[2], R_DFR, 0x0fffffff);
	mmio_write(&d->vcpus[2], R_LDR, 0x24000000);
	assert_int_equal(vlapic_logical_first(d, 0x24), 2);	/* no flat LDR bit in it */
	assert_int_equal(vlapic_logical_first(d, 0x14), UINT32_MAX);	/* cluster 1 */
	assert_int_equal(nipis, 0);
}

/* INIT-SIPI-SIPI through the page, as a guest without x2APIC does it. */
static void test_xapic_init_sipi(void **state)
{
	struct domain *d = *state;
	struct vcpu *bsp = &d->vcpus[0];

	xapic_ipi(bsp, 2, (uint32_t)(LEVEL | ASSERT | DM_INIT));
	xapic_ipi(bsp, 2, (uint32_t)(LEVEL | DM_INIT));
	assert_int_equal(d->vcpus[2].state, VCPU_WAIT_SIPI);
	xapic_ipi(bsp, 2, (uint32_t)(DM_SIPI | 0x9c));
	xapic_ipi(bsp, 2, (uint32_t)(DM_SIPI | 0x9c));
	assert_int_equal(d->vcpus[2].state, VCPU_RUNNING);
	assert_true(d->vcpus[2].real_mode_start);
	assert_int_equal(d->vcpus[2].sipi_vector, 0x9c);
	assert_int_equal(d->vcpus[1].state, VCPU_WAIT_SIPI);
	assert_int_equal(nipis, 1);
	assert_int_equal(ipis[0].apic_id, 17);
	assert_int_equal(ipis[0].icr_low, ICR_NMI | ICR_ASSERT);
	assert_int_equal(d->ipi_refused, 0);
}

static void test_xapic_eoi(void **state)
{
	struct domain *d = *state;

	mmio_write(&d->vcpus[0], R_EOI, 0x12345678);
	assert_int_equal(nevents, 1);
	assert_wrote(0, R_EOI, 0);	/* only 0 (x2APIC would #GP otherwise) */
	assert_int_equal(mmio_read(&d->vcpus[0], R_EOI), 0);
}

/* The registers the real LAPIC holds for the guest: read and written there. */
static void test_xapic_passthrough(void **state)
{
	struct domain *d = *state;
	static const uint32_t rw[] = {
		R_TPR, R_SVR, R_LVT_TIMER, R_LVT_LINT0, R_LVT_LINT1, R_LVT_ERROR, R_TMICT, R_TDCR,
	};

	for (unsigned i = 0; i < sizeof(rw) / sizeof(rw[0]); i++) {
		nevents = 0;
		mmio_write(&d->vcpus[1], rw[i], 0x1000 + i);
		assert_int_equal(nevents, 1);
		assert_wrote(0, rw[i], 0x1000 + i);
		fake_reg[rw[i] >> 4] = 0x2000 + i;
		assert_int_equal(mmio_read(&d->vcpus[1], rw[i]), 0x2000 + i);
	}
	/* Read-only: version, PPR, current count, ISR/TMR/IRR */
	static const uint32_t ro[] = { R_VERSION, R_PPR, R_TMCCT, R_ISR0, R_ISR0 + 0x70, R_TMR0, R_IRR0, R_IRR7 };
	nevents = 0;
	for (unsigned i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		fake_reg[ro[i] >> 4] = 0x3000 + i;
		mmio_write(&d->vcpus[1], ro[i], 0xffffffffu);
		assert_int_equal(mmio_read(&d->vcpus[1], ro[i]), 0x3000 + i);
	}
	assert_int_equal(nevents, 0);
	/* ESR: a write (of 0) latches the errors, which are then read */
	fake_reg[R_ESR >> 4] = 0x40;
	assert_int_equal(mmio_read(&d->vcpus[1], R_ESR), 0x40);
	mmio_write(&d->vcpus[1], R_ESR, 0x1234);
	assert_int_equal(nevents, 1);
	assert_wrote(0, R_ESR, 0);
	assert_int_equal(nipis, 0);
}

/* The performance, thermal and CMCI LVTs exist if the version register's
 * max LVT entry (bits 23:16) reaches them: 4, 5, 6 (11.5.1). */
static void test_xapic_optional_lvts(void **state)
{
	struct domain *d = *state;
	struct vcpu *v = &d->vcpus[0];
	static const uint32_t lvt[] = { R_LVT_PERF, R_LVT_THERMAL, R_LVT_CMCI };

	for (uint32_t maxlvt = 3; maxlvt <= 7; maxlvt++) {
		set_maxlvt(maxlvt);
		for (unsigned i = 0; i < 3; i++) {
			bool has = maxlvt >= 4 + i;
			nevents = 0;
			fake_reg[lvt[i] >> 4] = 0x10000 | (0x40 + i);
			assert_int_equal(mmio_read(v, lvt[i]), has ? 0x10000 | (0x40 + i) : 0);
			mmio_write(v, lvt[i], 0x50 + i);
			assert_int_equal(nevents, has ? 1 : 0);
			if (has)
				assert_wrote(0, lvt[i], 0x50 + i);
		}
	}
}

/* Anything but a 4-byte access to a register's first bytes reads 0 and
 * writes nothing; so do the registers that are not there. */
static void test_xapic_bad_accesses(void **state)
{
	struct domain *d = *state;
	struct vcpu *v = &d->vcpus[0];
	static const unsigned sizes[] = { 1, 2, 8 };
	static const uint32_t offs[] = { R_TPR, R_ID, R_LDR, R_ICR_LO, R_ICR_HI, R_EOI };
	uint32_t val;

	for (unsigned i = 0; i < sizeof(fake_reg) / sizeof(fake_reg[0]); i++)
		fake_reg[i] = 0xa5a5a5a5;
	mmio_write(v, R_LDR, 0x01000000);
	nevents = 0;
	for (unsigned o = 0; o < sizeof(offs) / sizeof(offs[0]); o++) {
		for (unsigned s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			val = 0xdeadbeef;
			vlapic_mmio(v, offs[o], sizes[s], false, &val);
			assert_int_equal(val, 0);
			val = ASSERT | 0x30;
			vlapic_mmio(v, offs[o], sizes[s], true, &val);
		}
		for (uint32_t u = 1; u < 16; u += 3) {	/* unaligned */
			assert_int_equal(mmio_read(v, offs[o] + u), 0);
			mmio_write(v, offs[o] + u, (uint32_t)(ASSERT | 0x30));
		}
	}
	assert_int_equal(nevents, 0);
	assert_int_equal(nipis, 0);
	assert_int_equal(v->xapic_ldr, 0x01000000);
	assert_int_equal(v->xapic_icr_lo, 0);
	assert_int_equal(v->xapic_icr_hi, 0);
	/* APR, RRD, reserved offsets: 0, and nothing of the real LAPIC read
	 * or written */
	static const uint32_t none[] = { 0x000, 0x010, 0x040, 0x070, R_APR, R_RRD,
					 0x290, 0x2e0, 0x3a0, 0x3d0, 0x3f0 };
	fake_reads = 0;
	for (unsigned i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		assert_int_equal(mmio_read(v, none[i]), 0);
		mmio_write(v, none[i], 0xffffffffu);
	}
	assert_int_equal(fake_reads, 0);
	assert_int_equal(nevents, 0);
	assert_int_equal(nipis, 0);
}

/* Disabled and enabled again: the page's registers at power-on values. */
static void test_xapic_disable_resets(void **state)
{
	struct domain *d = *state;
	struct vcpu *v = &d->vcpus[1];

	mmio_write(v, R_LDR, 0x02000000);
	mmio_write(v, R_DFR, 0x0fffffff);
	mmio_write(v, R_ICR_HI, 0x02000000);
	assert_true(vlapic_apic_base_write(v, BASE));
	assert_true(vlapic_apic_base_write(v, BASE | EN));
	assert_int_equal(mmio_read(v, R_ID), 1u << 24);
	assert_int_equal(mmio_read(v, R_LDR), 0);
	assert_int_equal(mmio_read(v, R_DFR), 0xffffffffu);
	assert_int_equal(mmio_read(v, R_ICR_HI), 0);
	assert_int_equal(nevents, 2);
	assert_int_equal(events[0].kind, EV_RESET);
	assert_wrote(1, R_SVR, 0xff);
}

/* ---- vcpu_kick -------------------------------------------------------------------------- */

static void test_kick(void **state)
{
	struct domain *d = *state;

	vcpu_kick(&d->vcpus[0]);			/* on this CPU */
	assert_int_equal(nipis, 0);
	vcpu_kick(&d->vcpus[1]);
	assert_int_equal(nipis, 1);
	assert_int_equal(ipis[0].apic_id, 4);
	assert_int_equal(ipis[0].icr_low, ICR_NMI | ICR_ASSERT);
	vcpu_kick(&d->vcpus[2]);
	assert_int_equal(nipis, 2);
	assert_int_equal(ipis[1].apic_id, 17);
	assert_int_equal(ipis[1].icr_low, ICR_NMI | ICR_ASSERT);
	/* Move this CPU to vCPU 2's: now it is vCPU 0 that needs the NMI */
	cpu->cpu_id = THIS_CPU + 2;
	vcpu_kick(&d->vcpus[2]);
	vcpu_kick(&d->vcpus[0]);
	cpu->cpu_id = THIS_CPU;
	assert_int_equal(nipis, 3);
	assert_int_equal(ipis[2].apic_id, 2);
	assert_int_equal(ipis[2].icr_low, ICR_NMI | ICR_ASSERT);
}

/* A LAPIC the guest disabled through IA32_APIC_BASE takes no interrupt:
 * not by its ID, a broadcast, a shorthand or the IOAPIC (SDM Vol. 3A
 * 11.4.3); it is no first target either. */
static void test_disabled_takes_nothing(void **state)
{
	struct domain *d = *state;

	assert_true(vlapic_apic_base_write(&d->vcpus[1], 0xfee00000ull));
	nipis = 0;
	vlapic_icr_write(&d->vcpus[0], DEST(1) | ASSERT | DM_FIXED | 0x40);
	vlapic_icr_write(&d->vcpus[0], DEST(0xffffffffu) | ASSERT | DM_FIXED | 0x41);
	vlapic_icr_write(&d->vcpus[0], SH_OTHERS | ASSERT | 0x42);
	vlapic_deliver(d, 0x43, false, 1);
	vlapic_deliver(d, 0x44, false, 0xff);
	assert_int_equal(sent_to(4), 0);
	assert_true(vlapic_first_target(d, false, 1) == NULL);
	assert_int_equal(sent_to(17), 3);	/* the others still take theirs */
}

/* Part-way through a mode switch: an xAPIC ICR's 0xff (broadcast) still
 * reaches the vCPUs already in x2APIC mode. */
static void test_xapic_broadcast_to_x2apic(void **state)
{
	struct domain *d = *state;

	assert_true(vlapic_apic_base_write(&d->vcpus[0], 0xfee00000ull | (1 << 8)));
	assert_true(vlapic_apic_base_write(&d->vcpus[0], 0xfee00000ull | (1 << 8) | (1 << 11)));
	nipis = 0;
	mmio_write(&d->vcpus[0], 0x310, 0xffu << 24);
	mmio_write(&d->vcpus[0], 0x300, 0x45);
	assert_fixed_to(0x7, 0x45);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define TX(f) cmocka_unit_test_setup_teardown(f, setup_xapic, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_reset),
		T(test_apic_base),
		T(test_apic_base_legal_transitions),
		T(test_apic_base_illegal),
		T(test_disabled_takes_nothing),
		T(test_xapic_broadcast_to_x2apic),
		TX(test_apic_base_no_x2apic),
		T(test_x2apic_ldr),
		T(test_fixed_to_domain_cpu),
		T(test_fixed_to_foreign_cpu),
		T(test_illegal_vector),
		T(test_refusals_logged_at_most_8),
		T(test_broadcast),
		T(test_shorthands),
		T(test_logical),
		T(test_lowest_priority),
		T(test_forbidden_modes),
		T(test_init_sipi_sipi),
		T(test_sipi_by_shorthand_and_from_ap),
		T(test_init_deassert_does_nothing),
		T(test_init_sipi_to_itself),
		T(test_deliver),
		T(test_first_target),
		TX(test_xapic_id),
		TX(test_xapic_ldr_dfr),
		TX(test_xapic_icr_registers),
		TX(test_xapic_physical),
		TX(test_xapic_logical_flat),
		TX(test_xapic_logical_cluster),
		TX(test_xapic_deliver_physical),
		TX(test_xapic_first_target),
		TX(test_xapic_init_sipi),
		TX(test_xapic_eoi),
		TX(test_xapic_passthrough),
		TX(test_xapic_optional_lvts),
		TX(test_xapic_bad_accesses),
		TX(test_xapic_disable_resets),
		T(test_kick),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
