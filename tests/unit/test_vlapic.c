/*
 * The ICR filter (vmm/dev/vlapic.c): every IPI a guest sends reaches only its
 * own domain's CPUs, INIT-SIPI starts its waiting vCPUs, and the delivery
 * modes that are not the guest's to use are refused. lapic_send_ipi is
 * recorded; this_cpu() reads %gs:0, so the test points GS base at a
 * struct percpu of its own (arch_prctl).
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
#define ASSERT         (1ull << 14)
#define LEVEL          (1ull << 15)
#define SH_SELF        (1ull << 18)
#define SH_ALL         (2ull << 18)
#define SH_OTHERS      (3ull << 18)
#define DEST(d)        ((uint64_t)(d) << 32)

/* The domain's CPUs: APIC IDs 2, 4, 17 on physical CPUs 1, 2, 3. The test
 * runs "on" CPU 1, vCPU 0's. */
static const uint32_t dom_apic[] = { 2, 4, 17 };
#define NV 3
#define THIS_CPU 1
static const uint32_t foreign_apic[] = { 0, 1, 3, 5, 16, 18, 33, 0xff };

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

/* How many IPIs went to apic_id (any kind). */
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

/* Every IPI sent is a fixed `vector` with ICR_ASSERT to a domain CPU;
 * exactly the CPUs in `mask` (bit i: vCPU i) got one each. */
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

/* ---- the domain and this CPU --------------------------------------------------- */

static struct percpu *cpu;

static struct domain *make_domain(void)
{
	struct domain *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	d->name = "linux0";
	d->nvcpus = NV;
	for (unsigned i = 0; i < NV; i++) {
		d->vcpus[i].dom = d;
		d->vcpus[i].cpu = THIS_CPU + i;
		d->vcpus[i].apic_id = dom_apic[i];
		d->vcpus[i].state = i == 0 ? VCPU_RUNNING : VCPU_WAIT_SIPI;
	}
	return d;
}

static int setup(void **state)
{
	nipis = 0;
	memset(ipis, 0, sizeof(ipis));
	test_log_clear();
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

/* ---- IA32_APIC_BASE ------------------------------------------------------------- */

static void test_apic_base(void **state)
{
	struct domain *d = *state;

	assert_int_equal(vlapic_apic_base(&d->vcpus[0]), 0xfee00000ull | (1 << 11) | (1 << 10) | (1 << 8));
	for (unsigned i = 1; i < NV; i++)
		assert_int_equal(vlapic_apic_base(&d->vcpus[i]), 0xfee00000ull | (1 << 11) | (1 << 10));
}

/* ---- fixed, physical --------------------------------------------------------------- */

static void test_fixed_to_domain_cpu(void **state)
{
	struct domain *d = *state;

	for (unsigned i = 0; i < NV; i++) {
		nipis = 0;
		vlapic_icr_write(&d->vcpus[0], DEST(dom_apic[i]) | ASSERT | DM_FIXED | 0xec);
		assert_fixed_to(1u << i, 0xec);
	}
	/* Without the level bit (x2APIC ignores it for fixed), from another vCPU */
	nipis = 0;
	vlapic_icr_write(&d->vcpus[2], DEST(4) | DM_FIXED | 0x31);
	assert_fixed_to(1u << 1, 0x31);
	/* Level-triggered fixed: still one fixed IPI */
	nipis = 0;
	vlapic_icr_write(&d->vcpus[1], DEST(17) | LEVEL | ASSERT | DM_FIXED | 0x41);
	assert_fixed_to(1u << 2, 0x41);
	assert_int_equal(d->ipi_refused, 0);
}

static void test_fixed_to_foreign_cpu(void **state)
{
	struct domain *d = *state;
	unsigned n = sizeof(foreign_apic) / sizeof(foreign_apic[0]);

	for (unsigned i = 0; i < n; i++)
		vlapic_icr_write(&d->vcpus[0], DEST(foreign_apic[i]) | ASSERT | DM_FIXED | 0xfd);
	assert_int_equal(nipis, 0);
	assert_int_equal(d->ipi_refused, n);
	assert_true(test_log_has("domain linux0: IPI 0x"));
	assert_true(test_log_has("refused: no CPU of the domain at that destination"));
	/* 8-bit 0xff is not a broadcast in an x2APIC ICR */
	assert_int_equal(sent_to(0xff), 0);
	/* A high APIC ID whose low bits name a domain CPU is not that CPU */
	vlapic_icr_write(&d->vcpus[0], DEST(0x102) | ASSERT | 0x30);
	assert_int_equal(nipis, 0);
	assert_int_equal(d->ipi_refused, n + 1);
}

static void test_refusals_logged_at_most_8(void **state)
{
	struct domain *d = *state;
	const char *p;
	unsigned lines = 0;

	for (unsigned i = 0; i < 20; i++)
		vlapic_icr_write(&d->vcpus[0], DEST(99) | ASSERT | 0x30);
	assert_int_equal(d->ipi_refused, 20);
	for (p = test_log(); (p = strstr(p, "refused")) != NULL; p++)
		lines++;
	assert_int_equal(lines, 8);
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

/* ---- x2APIC logical --------------------------------------------------------------- */

static void test_logical(void **state)
{
	struct domain *d = *state;
	static const struct {
		uint32_t dest;
		unsigned mask;	/* vCPUs reached; 0: refused */
	} cases[] = {
		{ 0x00000004, 0x1 },	/* cluster 0, ID 2 */
		{ 0x00000010, 0x2 },	/* cluster 0, ID 4 */
		{ 0x00000014, 0x3 },	/* IDs 2 and 4 */
		{ 0x0000ffff, 0x3 },	/* all of cluster 0 */
		{ 0x00010002, 0x4 },	/* cluster 1, ID 17 */
		{ 0x0001fffe, 0x4 },	/* all of cluster 1 but ID 16 */
		{ 0x00000002, 0x0 },	/* ID 1: foreign */
		{ 0x000000eb, 0x0 },	/* IDs 0,1,3,5,6,7: foreign */
		{ 0x00010004, 0x0 },	/* ID 18: foreign */
		{ 0x00020002, 0x0 },	/* ID 33: cluster 2 */
		{ 0x00110002, 0x0 },	/* cluster 0x11 */
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
	vlapic_icr_write(&d->vcpus[0], DEST(0x00010002) | ASSERT | 0x51);
	assert_int_equal(nipis, 0);
}

static void test_lowest_priority(void **state)
{
	struct domain *d = *state;

	vlapic_icr_write(&d->vcpus[0], DEST(0x0000ffff) | LOGICAL | ASSERT | DM_LOWEST | 0x60);
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
	vlapic_icr_write(&d->vcpus[0], DEST(17) | ASSERT | DM_LOWEST | 0x63);
	assert_fixed_to(0x4, 0x63);
	nipis = 0;
	vlapic_icr_write(&d->vcpus[0], DEST(5) | ASSERT | DM_LOWEST | 0x64);
	assert_int_equal(nipis, 0);
	assert_int_equal(d->ipi_refused, 1);
}

/* ---- modes that are not the guest's ------------------------------------------------- */

static void test_forbidden_modes(void **state)
{
	struct domain *d = *state;
	static const uint64_t modes[] = { DM_SMI, DM_NMI, DM_EXTINT, DM(3) };
	uint64_t refused = 0;

	for (unsigned m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		vlapic_icr_write(&d->vcpus[0], DEST(4) | ASSERT | modes[m]);
		assert_int_equal(d->ipi_refused, ++refused);
		vlapic_icr_write(&d->vcpus[0], DEST(0xffffffffu) | ASSERT | modes[m]);
		assert_int_equal(d->ipi_refused, ++refused);
		vlapic_icr_write(&d->vcpus[0], SH_OTHERS | ASSERT | modes[m]);
		assert_int_equal(d->ipi_refused, ++refused);
		vlapic_icr_write(&d->vcpus[0], SH_SELF | ASSERT | modes[m]);
		assert_int_equal(d->ipi_refused, ++refused);
		vlapic_icr_write(&d->vcpus[0], DEST(0x14) | LOGICAL | ASSERT | modes[m]);
		assert_int_equal(d->ipi_refused, ++refused);
	}
	assert_int_equal(nipis, 0);
	assert_true(test_log_has("refused: delivery mode not allowed"));
	for (unsigned i = 1; i < NV; i++)
		assert_int_equal(d->vcpus[i].state, VCPU_WAIT_SIPI);
}

/* ---- INIT-SIPI-SIPI ------------------------------------------------------------------- */

static void test_init_sipi_sipi(void **state)
{
	struct domain *d = *state;
	struct vcpu *bsp = &d->vcpus[0], *ap = &d->vcpus[1], *other = &d->vcpus[2];

	/* Linux's wakeup_secondary_cpu_via_init(): INIT assert, INIT
	 * de-assert, then two SIPIs */
	vlapic_icr_write(bsp, DEST(4) | LEVEL | ASSERT | DM_INIT);
	assert_int_equal(ap->state, VCPU_WAIT_SIPI);
	vlapic_icr_write(bsp, DEST(4) | LEVEL | DM_INIT);
	assert_int_equal(ap->state, VCPU_WAIT_SIPI);
	assert_false(ap->real_mode_start);
	vlapic_icr_write(bsp, DEST(4) | DM_SIPI | 0x9a);
	assert_int_equal(ap->state, VCPU_RUNNING);
	assert_true(ap->real_mode_start);
	assert_int_equal(ap->sipi_vector, 0x9a);
	/* The second SIPI of the pair: nothing, and not a refusal */
	vlapic_icr_write(bsp, DEST(4) | DM_SIPI | 0x9b);
	assert_int_equal(ap->state, VCPU_RUNNING);
	assert_int_equal(ap->sipi_vector, 0x9a);
	/* The other AP was not touched */
	assert_int_equal(other->state, VCPU_WAIT_SIPI);
	assert_false(other->real_mode_start);
	assert_int_equal(other->sipi_vector, 0);
	/* No IPI for any of it but the NMI that wakes the started vCPU's
	 * core (halted while it waited) */
	assert_int_equal(nipis, 1);
	assert_int_equal(ipis[0].apic_id, 4);
	assert_int_equal(ipis[0].icr_low, ICR_NMI | ICR_ASSERT);
	assert_int_equal(d->ipi_refused, 0);

	/* INIT to the now running vCPU: refused */
	vlapic_icr_write(bsp, DEST(4) | LEVEL | ASSERT | DM_INIT);
	assert_int_equal(d->ipi_refused, 1);
	assert_int_equal(ap->state, VCPU_RUNNING);
	assert_true(test_log_has("refused: INIT to a running vCPU"));
	/* INIT/SIPI to a foreign CPU: refused, nothing sent */
	vlapic_icr_write(bsp, DEST(5) | LEVEL | ASSERT | DM_INIT);
	vlapic_icr_write(bsp, DEST(5) | DM_SIPI | 0x9a);
	assert_int_equal(d->ipi_refused, 3);
	assert_int_equal(nipis, 1);	/* still only the wake-up NMI */
	assert_int_equal(other->state, VCPU_WAIT_SIPI);
}

static void test_sipi_by_shorthand_and_from_ap(void **state)
{
	struct domain *d = *state;

	/* An AP started by the BSP starts the last one */
	vlapic_icr_write(&d->vcpus[0], DEST(4) | DM_SIPI | 0x10);
	assert_int_equal(d->vcpus[1].state, VCPU_RUNNING);
	vlapic_icr_write(&d->vcpus[1], DEST(17) | LEVEL | ASSERT | DM_INIT);
	vlapic_icr_write(&d->vcpus[1], DEST(17) | DM_SIPI | 0x20);
	assert_int_equal(d->vcpus[2].state, VCPU_RUNNING);
	assert_int_equal(d->vcpus[2].sipi_vector, 0x20);
	assert_int_equal(d->ipi_refused, 0);
	assert_int_equal(nipis, 2);	/* the two wake-up NMIs */
	assert_int_equal(ipis[0].icr_low, ICR_NMI | ICR_ASSERT);
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

	/* To a waiting vCPU, to itself, to a foreign CPU, to all: not even
	 * counted as a refusal */
	vlapic_icr_write(&d->vcpus[0], DEST(4) | LEVEL | DM_INIT);
	vlapic_icr_write(&d->vcpus[0], DEST(2) | LEVEL | DM_INIT);
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
	vlapic_icr_write(ap, DEST(4) | DM_SIPI | 0x9a);
	assert_int_equal(ap->state, VCPU_WAIT_SIPI);
	assert_false(ap->real_mode_start);
	assert_int_equal(d->ipi_refused, 1);
	vlapic_icr_write(ap, SH_SELF | DM_SIPI | 0x9a);
	assert_int_equal(ap->state, VCPU_WAIT_SIPI);
	assert_int_equal(d->ipi_refused, 2);
	vlapic_icr_write(&d->vcpus[0], DEST(2) | LEVEL | ASSERT | DM_INIT);
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

/* ---- vlapic_deliver (the virtual IOAPIC's messages) ----------------------------------- */

static void test_deliver(void **state)
{
	struct domain *d = *state;

	vlapic_deliver(d, 0x24, false, 0xff);		/* 8-bit broadcast */
	assert_fixed_to(0x7, 0x24);
	nipis = 0;
	vlapic_deliver(d, 0x25, false, 0xffffffffu);
	assert_fixed_to(0x7, 0x25);
	nipis = 0;
	vlapic_deliver(d, 0x26, false, 17);
	assert_fixed_to(0x4, 0x26);
	nipis = 0;
	vlapic_deliver(d, 0x27, false, 3);		/* foreign: nobody */
	assert_int_equal(nipis, 0);
	nipis = 0;
	vlapic_deliver(d, 0x28, true, 0x00000014);
	assert_fixed_to(0x3, 0x28);
	nipis = 0;
	vlapic_deliver(d, 0x29, true, 0x00010002);
	assert_fixed_to(0x4, 0x29);
	nipis = 0;
	vlapic_deliver(d, 0x2a, true, 0xff);		/* logical: cluster 0, IDs 0-7 */
	assert_fixed_to(0x3, 0x2a);
	assert_int_equal(d->ipi_refused, 0);		/* not the guest's ICR */
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

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_apic_base),
		T(test_fixed_to_domain_cpu),
		T(test_fixed_to_foreign_cpu),
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
		T(test_kick),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
