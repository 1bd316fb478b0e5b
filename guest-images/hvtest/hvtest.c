/*
 * hvtest main: run the checks in order, one result line each, then the
 * summary, then power off. See README.md for the contract being checked.
 */
#include "guest-images/hvtest/hvtest.h"
#include "guest-images/hvtest/io.h"
#include "guest-images/hvtest/pci.h"

#define PM1A_CNT     0x604
#define PM1_SLP_EN   (1u << 13)
#define PM1_SLP_TYP5 (5u << 10)

#define CPUID_1_ECX_VMX        (1u << 5)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_PAE        (1u << 6)
#define CPUID_EXT_ECX_SVM      (1u << 2)
#define CPUID_EXT_EDX_LM       (1u << 29)
#define HV_LEAF                0x40000000u
#define HV_SIGNATURE           "hvstatic-x86"

#define HYPERCALL_VERSION 0
#define HYPERCALL_ABI     1
#define ENOSYS_RESULT     0xffffffdau	/* -38 in EAX */

const char *current_check = "";
static unsigned passed, failed, reports;
static struct boot_info boot;
static char boot_why[160];

/* ---- results ---------------------------------------------------------------- */

/* One result line for the running check; ap is NULL for a bare PASS. */
static void report(bool ok, const char *fmt, va_list *ap)
{
	char mem[320];
	struct strbuf sb = STRBUF_INIT(mem);

	if (reports++)		/* one line per check, whatever a check does */
		return;
	if (ok)
		passed++;
	else
		failed++;
	sb_printf(&sb, "hvtest: %s %s", ok ? "PASS" : "FAIL", current_check);
	if (ap) {
		sb_printf(&sb, "%s", ok ? " " : ": ");
		sb_vprintf(&sb, fmt, *ap);
	}
	con_printf("%s\n", mem);
}

static void pass_plain(void)
{
	report(true, NULL, NULL);
}

void pass(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(true, fmt, &ap);
	va_end(ap);
}

void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(false, fmt, &ap);
	va_end(ap);
}

void problem(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	if (sb->len)
		sb_printf(sb, "; ");
	va_start(ap, fmt);
	sb_vprintf(sb, fmt, ap);
	va_end(ap);
}

static void pass_or_fail(const struct strbuf *problems)
{
	if (problems->len)
		fail("%s", problems->buf);
	else
		pass_plain();
}

void run_check(const char *name, void (*check)(void))
{
	current_check = name;
	reports = 0;
	check();
	if (!reports)
		fail("no result (hvtest bug)");
	current_check = "";
}

/*
 * ACPI S5 through PM1a_CNT (ACPI 6.5 4.8.3.2.1): our hypervisor's value
 * is SLP_TYP=5. If we are still here we are not under it: QEMU's DSDT
 * names \_S5 as SLP_TYP=0, which the hypervisor ignores, so try that.
 */
void power_off(void)
{
	outw(PM1A_CNT, PM1_SLP_TYP5 | PM1_SLP_EN);
	outw(PM1A_CNT, PM1_SLP_EN);
	halt_forever();
}

/* ---- 1. boot-magic ------------------------------------------------------------ */

static void check_boot_magic(void)
{
	if (boot.valid)
		pass_plain();
	else
		fail("%s", boot_why);
}

/* ---- 2. cpuid-hypervisor ----------------------------------------------------- */

/* 12 bytes of registers as a printable string (as KVM's "KVMKVMKVM" is read). */
static void regs_string(char out[13], uint32_t a, uint32_t b, uint32_t c)
{
	const uint32_t w[3] = { a, b, c };

	__builtin_memcpy(out, w, 12);
	out[12] = '\0';
	for (int i = 0; i < 12; i++)
		if (out[i] < 0x20 || out[i] > 0x7e)
			out[i] = '.';
}

static void check_cpuid_hypervisor(void)
{
	char mem[240], sig[13];
	struct strbuf why = STRBUF_INIT(mem);
	struct cpuid_regs l1 = cpuid(1), hv = cpuid(HV_LEAF);

	mem[0] = '\0';
	if (!(l1.ecx & CPUID_1_ECX_HYPERVISOR))
		problem(&why, "leaf 1 ECX bit 31 (hypervisor present) clear");
	if (l1.ecx & CPUID_1_ECX_VMX)
		problem(&why, "VMX visible (leaf 1 ECX bit 5)");
	if (cpuid(0x80000000).eax >= 0x80000001 && (cpuid(0x80000001).ecx & CPUID_EXT_ECX_SVM))
		problem(&why, "SVM visible (leaf 0x80000001 ECX bit 2)");
	regs_string(sig, hv.ebx, hv.ecx, hv.edx);
	if (!str_eq(sig, HV_SIGNATURE))
		problem(&why, "leaf 0x40000000 signature '%s', not '" HV_SIGNATURE "'", sig);
	if (hv.eax < HV_LEAF)
		problem(&why, "leaf 0x40000000 EAX 0x%x < 0x40000000", hv.eax);
	pass_or_fail(&why);
}

/* ---- 3. memory-map ------------------------------------------------------------ */

static void list_available(struct strbuf *sb)
{
	for (uint32_t i = 0; i < boot.mmap_count; i++) {
		const struct mb2_mmap_entry *e = mmap_entry(&boot, i);
		if (e->type == MB2_MEM_AVAILABLE)
			sb_printf(sb, " [0x%llx-0x%llx)", e->addr, e->addr + e->len);
	}
}

/* The only available entry, or NULL (then *count says how many there are). */
static const struct mb2_mmap_entry *single_available(uint32_t *count)
{
	const struct mb2_mmap_entry *found = NULL;

	*count = 0;
	for (uint32_t i = 0; i < boot.mmap_count; i++) {
		const struct mb2_mmap_entry *e = mmap_entry(&boot, i);
		if (e->type == MB2_MEM_AVAILABLE) {
			found = e;
			++*count;
		}
	}
	return *count == 1 ? found : NULL;
}

static bool expected_mem(uint64_t *size)
{
	char value[32];

	if (!cmdline_value(boot.cmdline, "expect-mem", value, sizeof(value))) {
		fail("no expect-mem= on the command line");
		return false;
	}
	if (!parse_size(value, size)) {
		fail("cannot parse expect-mem=%s", value);
		return false;
	}
	return true;
}

static void check_memory_map(void)
{
	char mem[240];
	struct strbuf why = STRBUF_INIT(mem);
	uint64_t want;
	uint32_t count;

	mem[0] = '\0';
	if (!boot.valid) {
		fail("no valid multiboot2 information");
		return;
	}
	if (!expected_mem(&want))
		return;
	if (!boot.mmap) {
		fail("no memory map tag");
		return;
	}
	const struct mb2_mmap_entry *e = single_available(&count);
	if (!e) {
		sb_printf(&why, "%u available regions, expected 1:", count);
		list_available(&why);
		fail("%s", mem);
		return;
	}
	if (e->addr != 0)
		problem(&why, "available region starts at 0x%llx, not 0", e->addr);
	if (e->len != want)
		problem(&why, "available region is 0x%llx bytes, expect-mem says 0x%llx", e->len, want);
	if (!boot.have_meminfo)
		problem(&why, "no basic meminfo tag");
	else if ((uint64_t)boot.mem_upper * 1024 + MIB != e->addr + e->len)
		problem(&why, "basic meminfo mem_upper=%u KiB, so RAM ends at 0x%llx, the map says 0x%llx",
			boot.mem_upper, (uint64_t)boot.mem_upper * 1024 + MIB, e->addr + e->len);
	pass_or_fail(&why);
}

/* ---- 4. memory-rw (memtest.c) --------------------------------------------------- */

static void check_memory_rw_step(void)
{
	check_memory_rw(&boot);
}

/* ---- 5. port-refused ------------------------------------------------------------ */

/* Ports no domain owns (and no QEMU-like device our hypervisor emulates). */
static void check_port_refused(void)
{
	static const uint16_t ports[] = { 0x510, 0xc000 };
	char mem[240];
	struct strbuf why = STRBUF_INIT(mem);

	mem[0] = '\0';
	for (unsigned i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		uint8_t b = inb(ports[i]);
		uint16_t w = inw(ports[i]);
		uint32_t l = inl(ports[i]);
		if (b != 0xff || w != 0xffff || l != 0xffffffffu)
			problem(&why, "port 0x%x read 0x%x/0x%x/0x%x (8/16/32-bit)", ports[i], b, w, l);
	}
	pass_or_fail(&why);
}

/* ---- 6. hypercall ------------------------------------------------------------------- */

void cpu_vendor(char out[13])
{
	struct cpuid_regs r = cpuid(0);

	regs_string(out, r.ebx, r.edx, r.ecx);	/* vendor order: EBX, EDX, ECX */
}

/* One hypercall; false (and a FAIL) if the instruction faulted. */
static bool hypercall(uint32_t (*insn)(uint32_t), const char *name, uint32_t nr, uint32_t *ret)
{
	fixup_vector = -1;
	*ret = insn(nr);
	if (fixup_vector >= 0) {
		fail("%s (hypercall 0x%x) raised %s", name, nr, vector_name((uint32_t)fixup_vector));
		return false;
	}
	return true;
}

/* The vendor's hypercall instruction; false (and a FAIL) for an unknown vendor. */
static bool hypercall_insn(uint32_t (**insn)(uint32_t), const char **name)
{
	char vendor[13];

	cpu_vendor(vendor);
	if (str_eq(vendor, "AuthenticAMD") || str_eq(vendor, "HygonGenuine")) {
		*insn = hypercall_vmmcall;
		*name = "vmmcall";
	} else if (str_eq(vendor, "GenuineIntel")) {
		*insn = hypercall_vmcall;
		*name = "vmcall";
	} else {
		fail("unknown CPU vendor '%s'", vendor);
		return false;
	}
	return true;
}

bool hv_hypercall(uint32_t nr, uint32_t *ret)
{
	uint32_t (*insn)(uint32_t);
	const char *name;

	return hypercall_insn(&insn, &name) && hypercall(insn, name, nr, ret);
}

static void check_hypercall(void)
{
	char mem[240];
	struct strbuf why = STRBUF_INIT(mem);
	uint32_t (*insn)(uint32_t);
	const char *name;
	uint32_t ret;

	mem[0] = '\0';
	if (!hypercall_insn(&insn, &name))
		return;
	if (!hypercall(insn, name, HYPERCALL_VERSION, &ret))
		return;
	if (ret != HYPERCALL_ABI)
		problem(&why, "hypercall 0 returned 0x%x, expected %u", ret, HYPERCALL_ABI);
	if (!hypercall(insn, name, 0x1234, &ret))
		return;
	if (ret != ENOSYS_RESULT)
		problem(&why, "hypercall 0x1234 returned 0x%x, expected 0x%x (-ENOSYS)", ret,
			ENOSYS_RESULT);
	pass_or_fail(&why);
}

/* ---- 7. long-mode ------------------------------------------------------------------- */

#define PTE_P  0x1ull
#define PTE_W  0x2ull
#define PTE_PS 0x80ull	/* in a PD entry: a 2 MiB page (SDM Vol. 3A 5.5.4, Table 5-18) */
#define GIB    0x40000000ull

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));

/*
 * 4-level paging (SDM Vol. 3A 5.5): PML4[0] -> PDPT; PDPT[0] -> PD
 * identity-mapping [0, 1 GiB) with 2 MiB pages; PDPT[4] -> the same PD,
 * so [4 GiB, 5 GiB) aliases it -- an address only 64-bit code can form.
 */
static uint32_t build_page_tables(void)
{
	for (uint32_t i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_W | PTE_PS;
	pdpt[0] = (uintptr_t)pd | PTE_P | PTE_W;
	pdpt[4] = (uintptr_t)pd | PTE_P | PTE_W;
	pml4[0] = (uintptr_t)pdpt | PTE_P | PTE_W;
	return (uintptr_t)pml4;
}

/* A free page in [4 MiB, 1 GiB) for the marker, or 0. */
static uint32_t marker_page(void)
{
	for (uint64_t a = 4 * MIB; a < GIB; a += PAGE_SIZE)
		if (page_is_free(&boot, a))
			return (uint32_t)a;
	return 0;
}

static void check_long_mode(void)
{
	struct cpuid_regs l1 = cpuid(1);
	struct desc_ptr64 idt64;
	char mem[240];
	struct strbuf why = STRBUF_INIT(mem);

	mem[0] = '\0';
	if (cpuid(0x80000000).eax < 0x80000001 || !(cpuid(0x80000001).edx & CPUID_EXT_EDX_LM) ||
	    !(l1.edx & CPUID_1_EDX_PAE)) {
		fail("CPUID says no long mode or no PAE");
		return;
	}
	uint32_t marker = boot.valid && boot.mmap ? marker_page() : 0;
	if (!marker) {
		fail("no free RAM page between 4 MiB and 1 GiB for the marker");
		return;
	}
	idt64_build(&idt64);
	uint32_t bad = long_mode_trip(build_page_tables(), marker, &idt64, &idt32_ptr);
	if (bad & LM_FAIL_LMA)
		problem(&why, "EFER.LMA clear in 64-bit code");
	if (bad & LM_FAIL_REG64)
		problem(&why, "a 64-bit register lost its upper half");
	if (bad & LM_FAIL_MARKER)
		problem(&why, "marker written at 4 GiB + 0x%x not read back at 0x%x", marker, marker);
	pass_or_fail(&why);
}

/* ---- hostile= ------------------------------------------------------------------------ */

static uint64_t ram_end(void)
{
	uint64_t end = 0;

	for (uint32_t i = 0; i < boot.mmap_count; i++) {
		const struct mb2_mmap_entry *e = mmap_entry(&boot, i);
		if (e->type == MB2_MEM_AVAILABLE && e->addr + e->len > end)
			end = e->addr + e->len;
	}
	return end;
}

static void hostile_memory(void)
{
	uint64_t gpa = ram_end() + 0x1000;

	if (!boot.mmap) {
		fail("no memory map");
		return;
	}
	if (gpa + 4 > 0x100000000ull) {
		fail("0x%llx is beyond 4 GiB, out of reach of 32-bit code", gpa);
		return;
	}
	volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)gpa;
	uint32_t v = *p;
	*p = ~v;
	fail("access beyond the domain returned 0x%x", v);
}

/* A CMOS write with NMIs "off" (index 0x0f = shutdown status) and a write
 * to a port it does not own: both stay in the domain. Then a keyboard-
 * controller reset, which only resets the domain. */
static void hostile_port(void)
{
	outb(0x70, 0x8f);
	outb(0x71, 0x0a);
	outb(0x2f8, 0x55);
	pass("(writes kept in the domain, still running)");
	outb(0x64, 0xfe);
	fail("still running after a keyboard-controller reset");
}

/* IPIs through the x2APIC ICR to APIC ID 1, a CPU of another domain:
 * INIT, SIPI, a fixed interrupt and an NMI -- each must be refused (the
 * test checks the count and that the other domain runs on) -- and a
 * broadcast to all but itself, which reaches no one in a 1-CPU domain. */
static void hostile_ipi(void)
{
	const uint32_t icr = 0x830;
	const uint64_t other = 1ull << 32, assert = 1u << 14;

	wrmsr(icr, other | (5u << 8) | assert);		/* INIT */
	wrmsr(icr, other | (6u << 8) | assert | 0x10);	/* SIPI, vector 0x10 */
	wrmsr(icr, other | assert | 0x40);		/* fixed, vector 0x40 */
	wrmsr(icr, other | (4u << 8) | assert);		/* NMI */
	wrmsr(icr, (3u << 18) | assert | 0x40);		/* all but self */
	pass("(4 sent to a foreign CPU)");
}

/* int3 through an IDT of limit 0: #GP, then #DF, then shutdown (SDM Vol. 3A 6.15). */
static void hostile_triple(void)
{
	static const struct desc_ptr32 empty = { 0, 0 };

	__asm__ volatile("lidt %0; int3" : : "m"(empty) : "memory");
	__asm__ volatile("lidt %0" : : "m"(idt32_ptr) : "memory");
	fail("int3 with an IDT of limit 0 returned");
}

static const char *hostile_what;

static void hostile_unknown(void)
{
	fail("unknown '%s'", hostile_what);
}

/* The named hostile act, right after boot-magic, instead of checks 2-7. */
static void run_hostile(const char *what)
{
	con_printf("hvtest: hostile %s: trying\n", what);
	hostile_what = what;
	if (str_eq(what, "memory"))
		run_check("hostile-memory", hostile_memory);
	else if (str_eq(what, "port"))
		run_check("hostile-port", hostile_port);
	else if (str_eq(what, "triple"))
		run_check("hostile-triple", hostile_triple);
	else if (str_eq(what, "ipi"))
		run_check("hostile-ipi", hostile_ipi);
	else
		run_check("hostile", hostile_unknown);
}

/* ---- main ---------------------------------------------------------------------------- */

/* ---- bench: the cost of an exit, in TSC ticks ------------------------------------------------
 * With `bench` on the command line: round trips through the hypervisor,
 * averaged over 1000. Under QEMU with -icount shift=0 a tick is one
 * instruction of the whole machine (guest and hypervisor), so this is the
 * exit path's length; scripts/bench runs it. Not a check: no PASS/FAIL. */
static inline uint64_t bench_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static void bench_print(const char *what, uint32_t ticks)
{
	con_printf("hvtest: bench %s: %u ticks per round trip\n", what, ticks);
}

static void bench_report(const char *what, uint64_t t0, uint64_t t1)
{
	/* 32-bit division: no 64-bit helpers in a freestanding 32-bit build,
	 * and 1000 round trips stay far below 2^32 ticks. */
	bench_print(what, (uint32_t)(t1 - t0) / 1000u);
}

bool exits_start(struct exit_meter *m)
{
	uint32_t a, b;

	if (!hv_hypercall(HC_EXIT_COUNT, &a) || !hv_hypercall(HC_EXIT_COUNT, &b) ||
	    !hv_hypercall(HC_EXIT_COUNT, &m->start))
		return false;
	m->cost = b - a;
	return true;
}

bool exits_since(const struct exit_meter *m, uint32_t *exits)
{
	uint32_t now;

	if (!hv_hypercall(HC_EXIT_COUNT, &now))
		return false;
	*exits = (now - m->start) - m->cost;
	return true;
}

/* ---- input=line: read a line typed on the console -------------------------------------------
 * Polls COM1's LSR data-ready bit and echoes the line back as
 * `hvtest: input '...'`: shows that console input reaches the domain in
 * focus. Gives up (FAIL) if nothing complete arrives for a long while. */
bool console_read_line(char *line, size_t cap, uint32_t *len)
{
	uint32_t n = 0, idle = 0;

	while (n + 1 < cap) {
		if (!(inb(0x3f8 + 5) & 1)) {
			if (++idle > 200000000u) {
				line[n] = '\0';
				*len = n;
				return false;
			}
			continue;
		}
		char c = (char)inb(0x3f8);
		if (c == '\r' || c == '\n')
			break;
		line[n++] = c;
	}
	line[n] = '\0';
	*len = n;
	return true;
}

static void check_console_input(void)
{
	char line[64];
	uint32_t n;

	con_printf("hvtest: waiting for a line of input\n");
	if (!console_read_line(line, sizeof(line), &n)) {
		fail("no input line arrived (got %u bytes)", n);
		return;
	}
	pass("input '%s'", line);
}

/* ---- pmtimer=check: the ACPI PM registers a domain's FADT names ---------------------------
 * PM1a_CNT reads SCI_EN set; the PM timer at 0x608 stays within 24 bits
 * and moves forward (modulo 2^24) across reads. */
static void check_pm_timer(void)
{
	uint16_t cnt = inw(0x604);
	uint32_t prev = inl(0x608), advanced = 0;

	if (!(cnt & 1)) {
		fail("PM1a_CNT reads 0x%x: SCI_EN clear", cnt);
		return;
	}
	for (unsigned i = 0; i < 2000; i++) {
		uint32_t now = inl(0x608), step = (now - prev) & 0xffffff;
		if (now >> 24) {
			fail("PM timer read 0x%x: more than 24 bits", now);
			return;
		}
		if (step > 0x800000) {
			fail("PM timer went backwards: 0x%x after 0x%x", now, prev);
			return;
		}
		advanced += step;
		prev = now;
	}
	if (!advanced) {
		fail("PM timer does not advance");
		return;
	}
	pass("(advanced %u ticks over 2000 reads)", advanced);
}

/* ---- msr=check: MSRs a real CPU of the vendor has ---------------------------------------
 * AMD's legacy performance counters (PERF_CTL0-3 at 0xc0010000, PERF_CTR0-3
 * at 0xc0010004), which every AMD CPU since the K7 has: with no virtual
 * PMU a domain reads 0 and its writes are dropped, as under KVM. On Intel
 * they do not exist: #GP, as on the hardware. */
#define MSR_K7_PERF_FIRST 0xc0010000u
#define MSR_K7_PERF_COUNT 8u

static void check_k7_perf(void)
{
	char vendor[13];

	cpu_vendor(vendor);
	bool amd = str_eq(vendor, "AuthenticAMD");

	for (uint32_t i = 0; i < MSR_K7_PERF_COUNT; i++) {
		uint32_t msr = MSR_K7_PERF_FIRST + i;

		fixup_vector = -1;
		uint64_t val = msr_read_fixup(msr);
		bool faulted = fixup_vector >= 0;
		if (amd && faulted) {
			fail("read of MSR 0x%x raised %s", msr, vector_name((uint32_t)fixup_vector));
			return;
		}
		if (amd && val) {
			fail("MSR 0x%x reads 0x%x%08x, not 0", msr, (uint32_t)(val >> 32), (uint32_t)val);
			return;
		}
		if (!amd && !faulted) {
			fail("read of MSR 0x%x on Intel did not raise #GP", msr);
			return;
		}
	}
	/* PERF_CTL0: event 0x76 (cycles), user and OS, enabled. */
	fixup_vector = -1;
	msr_write_fixup(MSR_K7_PERF_FIRST, 0x00430076u, 0);
	if (amd != (fixup_vector < 0)) {
		fail("write of MSR 0x%x: %s", MSR_K7_PERF_FIRST,
		     amd ? "raised an exception" : "no #GP on Intel");
		return;
	}
	fixup_vector = -1;
	if (amd && msr_read_fixup(MSR_K7_PERF_FIRST + 4) != 0) {
		fail("PERF_CTR0 counts after a write to PERF_CTL0: the write was not dropped");
		return;
	}
	pass(amd ? "(AMD: 8 counter MSRs read 0, writes dropped)" : "(Intel: #GP, as on hardware)");
}

/* IA32_TSC written: the TSC reads the new value and goes on from there;
 * IA32_TSC_ADJUST (where CPUID 7 reports it) moved by the same amount,
 * and writing it moves the TSC (SDM Vol. 3B 18.17.3); a TSC-deadline
 * timer armed in the new time still fires. Bounds are loose: an
 * emulator's TSC runs at its own pace between two instructions. */
#define TSC_TARGET   (1ull << 40)
#define TSC_SLACK    (1ull << 36)
#define MSR_TSC      0x10u
#define MSR_TSC_ADJ  0x3bu

static bool near(uint64_t v, uint64_t want)
{
	return v >= want && v - want < TSC_SLACK;
}

static bool tsc_deadline_fires(void)
{
	uint32_t before = irq_count[0xf1];

	(void)lapic_start();
	wrmsr(0x832, 0xf1u | (2u << 17));	/* LVT timer: TSC-deadline, vector 0xf1 */
	uint64_t now = bench_rdtsc(), deadline = now + 200000;
	wrmsr(0x6e0, deadline);
	uint64_t armed = rdmsr(0x6e0);
	if (armed != deadline && armed != 0) {
		fail("IA32_TSC_DEADLINE reads 0x%x%08x after 0x%x%08x was written",
		     (uint32_t)(armed >> 32), (uint32_t)armed, (uint32_t)(deadline >> 32),
		     (uint32_t)deadline);
		return false;
	}
	__asm__ volatile("sti");
	while (irq_count[0xf1] == before && bench_rdtsc() - now < (1ull << 32))
		__asm__ volatile("pause");
	__asm__ volatile("cli");
	wrmsr(0x832, 1u << 16);
	if (irq_count[0xf1] == before) {
		fail("a TSC-deadline timer armed in the written TSC's time never fired");
		return false;
	}
	return true;
}

static void check_tsc_write(void)
{
	uint64_t before = bench_rdtsc();

	fixup_vector = -1;
	msr_write_fixup(MSR_TSC, (uint32_t)TSC_TARGET, (uint32_t)(TSC_TARGET >> 32));
	if (fixup_vector >= 0) {
		fail("write of IA32_TSC raised %s", vector_name((uint32_t)fixup_vector));
		return;
	}
	uint64_t t1 = bench_rdtsc(), m = rdmsr(MSR_TSC), t2 = bench_rdtsc();
	if (!near(t1, TSC_TARGET) || !near(m, t1) || t2 <= t1) {
		fail("after writing IA32_TSC = 2^40: RDTSC 0x%x%08x, RDMSR 0x%x%08x, then 0x%x%08x",
		     (uint32_t)(t1 >> 32), (uint32_t)t1, (uint32_t)(m >> 32), (uint32_t)m,
		     (uint32_t)(t2 >> 32), (uint32_t)t2);
		return;
	}
	uint32_t a = 7, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	bool adjust = b & (1u << 1);
	fixup_vector = -1;
	uint64_t adj = msr_read_fixup(MSR_TSC_ADJ);
	if (!adjust) {
		if (fixup_vector != 13) {
			fail("IA32_TSC_ADJUST without CPUID 7 EBX[1] did not raise #GP");
			return;
		}
	} else {
		/* adj = 2^40 - the TSC at the write, which was after `before` */
		if (fixup_vector >= 0 || before + adj > TSC_TARGET ||
		    TSC_TARGET - (before + adj) >= TSC_SLACK) {
			fail("IA32_TSC_ADJUST reads 0x%x%08x after the TSC moved from 0x%x%08x to 2^40",
			     (uint32_t)(adj >> 32), (uint32_t)adj, (uint32_t)(before >> 32),
			     (uint32_t)before);
			return;
		}
		wrmsr(MSR_TSC_ADJ, adj + TSC_TARGET);
		uint64_t t3 = bench_rdtsc();
		if (!near(t3, t2 + TSC_TARGET)) {
			fail("writing IA32_TSC_ADJUST + 2^40 did not move the TSC by 2^40");
			return;
		}
	}
	if ((cpuid(1).ecx & (1u << 24)) && !tsc_deadline_fires())
		return;
	pass("(the TSC goes on from the written value%s%s)",
	     adjust ? "; TSC_ADJUST follows it and moves it" : "; no TSC_ADJUST: #GP",
	     (cpuid(1).ecx & (1u << 24)) ? "; TSC deadline fires in its time" : "");
}

/* IA32_MISC_ENABLE: BTS/PEBS unavailable read as set; automatic thermal
 * control (bit 3) keeps what is written; a reserved bit (1) is #GP. */
static void check_misc_enable(void)
{
	uint64_t m = rdmsr(0x1a0);

	if ((m & 0x1800) != 0x1800) {
		fail("IA32_MISC_ENABLE reads 0x%x: BTS/PEBS-unavailable not set", (uint32_t)m);
		return;
	}
	wrmsr(0x1a0, m ^ (1u << 3));
	uint64_t w = rdmsr(0x1a0);
	wrmsr(0x1a0, m);
	if (w != (m ^ (1u << 3)) || rdmsr(0x1a0) != m) {
		fail("IA32_MISC_ENABLE bit 3 did not keep what was written (0x%x)", (uint32_t)w);
		return;
	}
	fixup_vector = -1;
	msr_write_fixup(0x1a0, (uint32_t)m | 2u, (uint32_t)(m >> 32));
	if (fixup_vector != 13) {
		fail("IA32_MISC_ENABLE reserved bit 1 written without #GP");
		return;
	}
	pass("(bit 3 kept, reserved bit 1 #GP)");
}

/* ---- pit=check: IRQ 0 from the PIT's channel 0, through the IOAPIC --------------------------
 * ISA IRQ 0 is found on its GSI through the MADT's interrupt source
 * override (identity without one) and routed to us, edge, fixed. Channel
 * 0 in mode 2 at about 1 kHz: PIT_TICKS interrupts, waited for in
 * `sti; hlt`, must take at least PIT_TICKS - 1 periods of the PM timer
 * (loosely at most 20 times as long: emulators). Masked at the IOAPIC,
 * then stopped by a mode-0 control word: none arrives over
 * PIT_QUIET periods. Then a mode-0 count: exactly one. A periodic LAPIC
 * timer interrupt wakes each halt too, so that a missing IRQ 0 is a FAIL
 * after PIT_GIVE_UP_PM, not a hang. */
#define PIT_VECTOR      0x30
#define PIT_WATCHDOG    0x31
#define PIT_COUNT       1193u		/* 1000.15 Hz */
#define PIT_PERIOD_PM   3579u		/* PM timer ticks (3.579545 MHz) per period */
#define PIT_TICKS       20u
#define PIT_QUIET       20u
#define PIT_GIVE_UP_PM  (2u * 3579545u)	/* 2 s */
#define MADT_ISO        2		/* ACPI 6.5 5.2.12.5 */

static uint32_t pm_now(void)
{
	return inl(0x608) & 0xffffff;
}

/* PM timer ticks since *last, accumulated into *total (24 bits wrap). */
static void pm_advance(uint32_t *last, uint32_t *total)
{
	uint32_t now = pm_now();

	*total += (now - *last) & 0xffffff;
	*last = now;
}

/* ISA IRQ irq's GSI by the MADT's overrides; false without a MADT. */
static bool isa_irq_gsi(uint8_t irq, uint32_t *gsi, struct strbuf *why)
{
	const struct acpi_header *madt;

	if (!acpi_find_table("APIC", &madt, why))
		return false;
	*gsi = irq;
	const uint8_t *p = (const uint8_t *)madt + 44, *end = (const uint8_t *)madt + madt->length;
	for (; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1])
		if (p[0] == MADT_ISO && p[1] >= 10 && p[3] == irq)
			*gsi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
			       (uint32_t)p[7] << 24;
	return true;
}

static void pit_rte(uint32_t gsi, uint32_t apic, bool masked)
{
	volatile uint32_t *ioapic = (volatile uint32_t *)(uintptr_t)0xfec00000u;

	ioapic[0] = 0x10 + 2 * gsi + 1;
	ioapic[4] = apic << 24;
	ioapic[0] = 0x10 + 2 * gsi;
	ioapic[4] = PIT_VECTOR | (masked ? 1u << 16 : 0);	/* edge, high, fixed, physical */
}

/* Halt until IRQ 0 has come `want` times in all; false after PIT_GIVE_UP_PM. */
static bool pit_wait_for(uint32_t want, uint32_t *pm_total)
{
	uint32_t last = pm_now(), total = 0;

	while (irq_count[PIT_VECTOR] < want) {
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		pm_advance(&last, &total);
		if (total > PIT_GIVE_UP_PM)
			return false;
	}
	*pm_total = total;
	return true;
}

/* Interrupts on, no halt, for `periods` PIT periods: how many IRQ 0s came. */
static uint32_t pit_quiet(uint32_t periods)
{
	uint32_t before = irq_count[PIT_VECTOR], last = pm_now(), total = 0;

	__asm__ volatile("sti" ::: "memory");
	while (total < periods * PIT_PERIOD_PM)
		pm_advance(&last, &total);
	__asm__ volatile("cli" ::: "memory");
	return irq_count[PIT_VECTOR] - before;
}

static void check_pit_irq0(void)
{
	char mem[96];
	struct strbuf why = STRBUF_INIT(mem);
	uint32_t gsi, pm, n;

	if (!isa_irq_gsi(0, &gsi, &why)) {
		fail("%s", mem);
		return;
	}
	uint32_t self = lapic_start();
	__asm__ volatile("cli");
	wrmsr(0x83e, 0xb);			/* LAPIC timer: divide by 1 */
	wrmsr(0x832, 1u << 17 | PIT_WATCHDOG);	/* periodic */
	wrmsr(0x838, 1000000);
	pit_rte(gsi, self, false);
	outb(0x43, 0x34);			/* channel 0, LSB then MSB, mode 2 */
	outb(0x40, PIT_COUNT & 0xff);
	outb(0x40, PIT_COUNT >> 8);
	if (!pit_wait_for(PIT_TICKS, &pm)) {
		fail("IRQ 0 (GSI %u, vector 0x%x) came %u times in 2 s, not %u", gsi, PIT_VECTOR,
		     irq_count[PIT_VECTOR], PIT_TICKS);
	} else if (pm < (PIT_TICKS - 1) * PIT_PERIOD_PM || pm > 20 * PIT_TICKS * PIT_PERIOD_PM) {
		fail("%u interrupts of a 1 kHz PIT took %u PM timer ticks, not about %u", PIT_TICKS,
		     pm, PIT_TICKS * PIT_PERIOD_PM);
	} else {
		pit_rte(gsi, self, true);
		__asm__ volatile("sti; nop; cli");	/* one already pending may come */
		if ((n = pit_quiet(PIT_QUIET)) != 0) {
			fail("%u interrupts came with the IOAPIC entry masked", n);
			goto out;
		}
		pit_rte(gsi, self, false);
		if (!pit_wait_for(irq_count[PIT_VECTOR] + 2, &pm)) {
			fail("IRQ 0 did not come back once unmasked");
			goto out;
		}
		outb(0x43, 0x30);		/* mode 0, no count yet: stopped */
		__asm__ volatile("sti; nop; cli");
		if ((n = pit_quiet(PIT_QUIET)) != 0) {
			fail("%u interrupts came with channel 0 stopped", n);
			goto out;
		}
		uint32_t before = irq_count[PIT_VECTOR];
		outb(0x40, (5 * PIT_COUNT) & 0xff);	/* a 5 ms one-shot */
		outb(0x40, (5 * PIT_COUNT) >> 8);
		if (!pit_wait_for(before + 1, &pm)) {
			fail("the mode-0 one-shot did not interrupt");
			goto out;
		}
		if (pm < 4 * PIT_PERIOD_PM || (n = pit_quiet(PIT_QUIET)) != 0) {
			fail("the mode-0 one-shot: %u PM timer ticks, then %u more interrupts", pm, n);
			goto out;
		}
		pass("(GSI %u: %u interrupts at 1 kHz in mode 2, none masked or stopped, "
		     "one in mode 0)", gsi, PIT_TICKS);
	}
out:
	__asm__ volatile("cli");
	outb(0x43, 0x30);
	pit_rte(gsi, self, true);
	wrmsr(0x832, 1u << 16);
}

/* pit-irq0-pic: the same IRQ 0 through the 8259A pair, as real-mode code
 * and older OSes take it: initialized (ICW1-4, vectors from PIC_BASE),
 * IRQ 0 alone unmasked, the IOAPIC's entry masked (check_pit_irq0 leaves
 * it so). Each interrupt is EOI'd at the PIC (OCW2) after the halt;
 * without that EOI no second one may come (IRQ 0 stays in service). */
#define PIC_BASE        0x20

static void pic_init(uint8_t master_mask)
{
	static const uint8_t icw[2][4] = { { 0x11, PIC_BASE, 0x04, 0x01 },
					   { 0x11, PIC_BASE + 8, 0x02, 0x01 } };

	for (unsigned p = 0; p < 2; p++) {
		uint16_t port = p ? 0xa0 : 0x20;
		outb(port, icw[p][0]);
		for (unsigned i = 1; i < 4; i++)
			outb(port + 1, icw[p][i]);
		outb(port + 1, p ? 0xff : master_mask);
	}
}

static void check_pit_irq0_pic(void)
{
	uint32_t last, total = 0, before = irq_count[PIC_BASE];

	__asm__ volatile("cli");
	(void)lapic_start();
	__asm__ volatile("cli");
	wrmsr(0x83e, 0xb);			/* the LAPIC watchdog, as above */
	wrmsr(0x832, 1u << 17 | PIT_WATCHDOG);
	wrmsr(0x838, 1000000);
	pic_init(0xfe);
	outb(0x43, 0x34);			/* channel 0, mode 2, about 1 kHz */
	outb(0x40, PIT_COUNT & 0xff);
	outb(0x40, PIT_COUNT >> 8);
	last = pm_now();
	while (irq_count[PIC_BASE] - before < PIT_TICKS && total < PIT_GIVE_UP_PM) {
		uint32_t seen = irq_count[PIC_BASE];
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		if (irq_count[PIC_BASE] != seen)
			outb(0x20, 0x20);	/* non-specific EOI */
		pm_advance(&last, &total);
	}
	uint32_t got = irq_count[PIC_BASE] - before;
	/* One more, left in service: nothing may follow it. */
	uint32_t held = 0;
	if (got == PIT_TICKS) {
		uint32_t at = irq_count[PIC_BASE];
		while (irq_count[PIC_BASE] == at && total < PIT_GIVE_UP_PM) {
			__asm__ volatile("sti; hlt; cli" ::: "memory");
			pm_advance(&last, &total);
		}
		held = pit_quiet(PIT_QUIET);
		outb(0x20, 0x20);
	}
	outb(0x43, 0x30);
	outb(0x21, 0xff);
	wrmsr(0x832, 1u << 16);
	if (got != PIT_TICKS)
		fail("IRQ 0 through the 8259A came %u times in 2 s, not %u", got, PIT_TICKS);
	else if (held)
		fail("%u more interrupts came with IRQ 0 in service (no EOI)", held);
	else
		pass("(vector 0x%x: %u interrupts from the 8259A, none while in service)", PIC_BASE,
		     PIT_TICKS);
}

/* ---- bench=compute: a fixed CPU- and memory-bound workload ------------------------------
 * A sieve of Eratosthenes over 1 MiB, a copy of it, and an FNV-1a hash of
 * both: the same instructions bare (booted by GRUB under QEMU) and in a
 * domain, so under -icount the ratio of the two tick counts is what the
 * domain's compute costs beyond bare metal (scripts/bench). In a domain
 * (the hypervisor's CPUID signature), the exits taken meanwhile too. */
#define COMPUTE_BYTES (1u << 20)

/* Its two buffers, in free RAM from 4 MiB up (not in the image: that
 * would shrink what memory-rw checks). NULL if there is none. */
static uint8_t *compute_area(void)
{
	for (uint64_t base = 4 * MIB; base + 2 * COMPUTE_BYTES <= GIB; base += COMPUTE_BYTES) {
		bool free = true;

		for (uint64_t p = base; free && p < base + 2 * COMPUTE_BYTES; p += PAGE_SIZE)
			free = page_is_free(&boot, p);
		if (free)
			return (uint8_t *)(uintptr_t)base;
	}
	return NULL;
}

static uint32_t compute_workload(uint8_t *compute_sieve, uint8_t *compute_copy)
{
	uint32_t h = 2166136261u, primes = 0;

	for (uint32_t i = 0; i < COMPUTE_BYTES; i++)
		compute_sieve[i] = 1;
	for (uint32_t i = 2; i * i < COMPUTE_BYTES; i++)
		if (compute_sieve[i])
			for (uint32_t k = i * i; k < COMPUTE_BYTES; k += i)
				compute_sieve[k] = 0;
	for (uint32_t i = 0; i < COMPUTE_BYTES; i++)
		compute_copy[i] = compute_sieve[i];
	for (uint32_t i = 2; i < COMPUTE_BYTES; i++) {
		primes += compute_copy[i];
		h = (h ^ compute_sieve[i]) * 16777619u;
	}
	return h ^ primes;
}

static bool under_this_hypervisor(void)
{
	struct cpuid_regs hv = cpuid(HV_LEAF);
	char sig[13];

	regs_string(sig, hv.ebx, hv.ecx, hv.edx);
	return (cpuid(1).ecx & CPUID_1_ECX_HYPERVISOR) && str_eq(sig, HV_SIGNATURE);
}

static void run_compute(void)
{
	bool domain = under_this_hypervisor();
	struct exit_meter m;
	uint32_t exits;
	uint8_t *area = compute_area();

	if (!area) {
		con_printf("hvtest: bench compute: no 2 MiB of free RAM\n");
		return;
	}

	domain = domain && exits_start(&m);
	uint64_t t0 = bench_rdtsc();
	uint32_t sum = compute_workload(area, area + COMPUTE_BYTES);
	uint64_t t1 = bench_rdtsc();
	if (domain && exits_since(&m, &exits))
		con_printf("hvtest: bench compute: %u ticks, %u exits (in a domain, checksum 0x%x)\n",
			   (uint32_t)(t1 - t0), exits, sum);
	else
		con_printf("hvtest: bench compute: %u ticks (bare, checksum 0x%x)\n",
			   (uint32_t)(t1 - t0), sum);
}

static inline void cpuid_leaf0(void)
{
	uint32_t a = 0, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
}

/* 1000 round trips of `op`, timed and reported as `what`. */
#define BENCH_1000(what, op)                                    \
	do {                                                    \
		uint64_t t0_ = bench_rdtsc();                   \
		for (unsigned i_ = 0; i_ < 1000; i_++) {        \
			op;                                     \
		}                                               \
		bench_report(what, t0_, bench_rdtsc());         \
	} while (0)

static void run_bench(void)
{
	BENCH_1000("cpuid", cpuid_leaf0());
	BENCH_1000("in-refused-port", (void)inb(0x510));	/* a refused port */
	BENCH_1000("in16-refused-port", (void)inw(0x510));
	BENCH_1000("in32-refused-port", (void)inl(0x510));
	BENCH_1000("out-refused-port", outb(0x510, 0));

	/* String I/O: a rep outsb of 1000 bytes to a refused port, which the
	 * hypervisor finishes in one exit: one round trip for all of it. */
	static const uint8_t zeros[1000];
	const uint8_t *src = zeros;
	uint32_t count = 1000;
	uint64_t t0 = bench_rdtsc();
	__asm__ volatile("rep outsb" : "+S"(src), "+c"(count) : "d"((uint16_t)0x510) : "memory");
	uint64_t t1 = bench_rdtsc();
	bench_print("outsb1000-refused-port", (uint32_t)(t1 - t0));

	/* The virtual UART's scratch register. */
	BENCH_1000("in-uart", (void)inb(0x3f8 + 7));

	/* An intercepted MSR: IA32_APIC_BASE, read and written back as it is. */
	uint64_t base = rdmsr(0x1b);
	BENCH_1000("rdmsr", (void)rdmsr(0x1b));
	BENCH_1000("wrmsr", wrmsr(0x1b, base));

	/* The virtual IOAPIC: a read of its version register (IOWIN after
	 * IOREGSEL = 1), an emulated MMIO access each. */
	volatile uint32_t *ioapic = (volatile uint32_t *)(uintptr_t)0xfec00000u;
	ioapic[0] = 1;
	BENCH_1000("mmio-ioapic", (void)ioapic[4]);

	/* A fixed IPI to itself through the x2APIC ICR (the one intercepted
	 * register): the exit, and the interrupt taken and EOI'd. */
	uint32_t self = lapic_start();
	BENCH_1000("ipi-self", wrmsr(0x830, (uint64_t)self << 32 | 0xf0));
	__asm__ volatile("cli");
	con_printf("hvtest: bench ipi-self: %u of 1000 interrupts taken\n", irq_count[0xf0]);

	/* HLT, woken by the domain's own LAPIC timer (one-shot, x2APIC
	 * MSRs): neither the halt nor the timer should exit. */
	struct exit_meter m;
	uint32_t exits;
	if (exits_start(&m)) {
		wrmsr(0x83e, 0xb);		/* divide by 1 */
		wrmsr(0x832, 0xf1);		/* LVT timer: one-shot, vector 0xf1 */
		for (unsigned i = 0; i < 1000; i++) {
			__asm__ volatile("cli");
			wrmsr(0x838, 2000);	/* initial count */
			__asm__ volatile("sti; hlt" ::: "memory");
		}
		__asm__ volatile("cli");
		wrmsr(0x832, 1u << 16);	/* masked */
		if (exits_since(&m, &exits))
			con_printf("hvtest: bench hlt-timer: %u exits per 1000 halts (%u timer interrupts)\n",
				   exits, irq_count[0xf1]);
	}
	run_compute();
}

static void start(uint32_t magic, uint32_t info_addr)
{
	struct strbuf why = STRBUF_INIT(boot_why);

	boot_why[0] = '\0';
	if (mb2_parse(magic, info_addr, &boot, &why)) {
		/* The first word as a string of its own: argv[0], the kernel's
		 * file name, from the hypervisor (and QEMU's -kernel; GRUB 2
		 * gives none). A case checks it against the configuration's
		 * `kernel`; longer ones are cut at 63 bytes. */
		char argv0[64];
		uint32_t n = boot.argv0_len < sizeof(argv0) ? boot.argv0_len : sizeof(argv0) - 1;
		memcpy(argv0, boot.argv0, n);
		argv0[n] = '\0';
		con_printf("hvtest: start (loader '%s', cmdline '%s', argv0 '%s')\n", boot.loader,
			   boot.cmdline, argv0);
	} else
		con_printf("hvtest: start\n");
}

void hvtest_main(uint32_t magic, uint32_t info_addr)
{
	char what[32];

	trap_init();
	start(magic, info_addr);
	run_check("boot-magic", check_boot_magic);
	if (boot.valid && cmdline_value(boot.cmdline, "hostile", what, sizeof(what))) {
		run_hostile(what);
	} else if (boot.valid && cmdline_value(boot.cmdline, "bench", what, sizeof(what))) {
		if (str_eq(what, "compute"))
			run_compute();
		else
			run_bench();
	} else if (boot.valid && cmdline_value(boot.cmdline, "pmtimer", what, sizeof(what))) {
		run_check("pm-timer", check_pm_timer);
	} else if (boot.valid && cmdline_value(boot.cmdline, "apic", what, sizeof(what))) {
		run_check("apic-id", check_apic_id);
		run_check("xapic", check_xapic);
	} else if (boot.valid && cmdline_value(boot.cmdline, "pit", what, sizeof(what))) {
		run_check("pit-irq0", check_pit_irq0);
		run_check("pit-irq0-pic", check_pit_irq0_pic);
	} else if (boot.valid && cmdline_value(boot.cmdline, "msr", what, sizeof(what))) {
		run_check("msr-k7-perf", check_k7_perf);
		run_check("msr-misc-enable", check_misc_enable);
		run_check("msr-tsc-write", check_tsc_write);
	} else if (boot.valid && cmdline_value(boot.cmdline, "step", what, sizeof(what))) {
		step_tests_run();
	} else if (boot.valid && cmdline_value(boot.cmdline, "console", what, sizeof(what))) {
		console_mode_run(what);
	} else if (boot.valid && cmdline_value(boot.cmdline, "input", what, sizeof(what))) {
		run_check("console-input", check_console_input);
	} else if (boot.valid && pci_tests_wanted(boot.cmdline)) {
		pci_tests_run(&boot);
	} else {
		run_check("cpuid-hypervisor", check_cpuid_hypervisor);
		run_check("memory-map", check_memory_map);
		run_check("memory-rw", check_memory_rw_step);
		run_check("port-refused", check_port_refused);
		run_check("hypercall", check_hypercall);
		run_check("long-mode", check_long_mode);
	}
	con_printf("hvtest: done, %u passed, %u failed\n", passed, failed);
	power_off();
}
