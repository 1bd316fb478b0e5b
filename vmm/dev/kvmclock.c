/*
 * kvmclock; see kvmclock.h. Structures (Linux arch/x86/include/asm/
 * pvclock-abi.h): the per-vCPU time info says
 *   ns = system_time + ((tsc - tsc_timestamp) << tsc_shift) * mul >> 32
 * and the wall clock gives the Unix time at which that ns count was 0.
 * Guest TSC = host TSC at a constant rate, so both are written once, when
 * the guest names their address, and never change.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#include "kernel/string.h"
#include "vmm/domain.h"
#include "vmm/dev/kvmclock.h"


#define PVCLOCK_TSC_STABLE_BIT 1u
#define NSEC 1000000000ull

/* mul and shift such that ns = (ticks << shift) * mul >> 32, with mul as
 * large as fits in 32 bits (the most precise). */
static void scale(uint64_t hz, uint32_t *mul, int8_t *shift)
{
	int s = 0;

	while (hz <= NSEC && s < 31) {	/* slow TSC: scale ticks up (mul < 2^32) */
		hz <<= 1;
		s++;
	}
	while (hz >= 4 * NSEC && s > -31) {	/* keep mul >= 2^30 precise enough */
		hz >>= 1;
		s--;
	}
	*mul = (uint32_t)((NSEC << 32) / hz);
	*shift = (int8_t)s;
}

static uint64_t ticks_to_ns(uint64_t ticks, uint32_t mul, int8_t shift)
{
	ticks = shift >= 0 ? ticks << shift : ticks >> -shift;
	/* (ticks * mul) >> 32 without overflow */
	return (ticks >> 32) * mul + (((ticks & 0xffffffffull) * mul) >> 32);
}

static uint8_t bcd(uint8_t v, bool binary)
{
	return binary ? v : (uint8_t)((v >> 4) * 10 + (v & 15));
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

uint64_t kvmclock_rtc_to_unix(uint8_t (*cmos_read)(uint8_t idx))
{
	if (!cmos_read)
		return 0;
	/* Wait out an update in progress (register A UIP, at most ~2 ms). */
	for (unsigned i = 0; i < 100000 && (cmos_read(0x0a) & 0x80); i++)
		cpu_relax();
	uint8_t b = cmos_read(0x0b);
	bool binary = b & 0x04, h24 = b & 0x02;
	uint8_t hour_raw = cmos_read(0x04);
	unsigned sec = bcd(cmos_read(0x00), binary), min = bcd(cmos_read(0x02), binary);
	unsigned hour = bcd(hour_raw & 0x7f, binary);
	unsigned day = bcd(cmos_read(0x07), binary), mon = bcd(cmos_read(0x08), binary);
	unsigned year = bcd(cmos_read(0x09), binary), cent = bcd(cmos_read(0x32), binary);

	if (!h24) {	/* 12-hour: 12 AM is 0, PM adds 12 */
		hour %= 12;
		if (hour_raw & 0x80)
			hour += 12;
	}
	if (cent < 19 || cent > 30)
		cent = 20;
	if (sec > 59 || min > 59 || hour > 23 || day < 1 || day > 31 || mon < 1 || mon > 12 ||
	    year > 99)
		return 0;
	int64_t days = days_from_civil(cent * 100 + year, mon, day);
	return days < 0 ? 0 : (uint64_t)days * 86400 + hour * 3600 + min * 60 + sec;
}

static void *guest_struct(struct vcpu *v, uint64_t gpa, uint64_t len)
{
	return domain_gpa_to_hva(v->dom, gpa, len);
}

bool kvmclock_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val)
{
	uint32_t mul;
	int8_t shift;
	uint64_t tsc = rdtsc();

	scale(tsc_hz(), &mul, &shift);
	if (msr == MSR_KVM_SYSTEM_TIME_NEW) {
		if (!(val & 1)) {
			v->kvmclock_msr = val;
			return true;	/* disabled: the page is the guest's again */
		}
		struct pvclock_vcpu_time_info *ti =
			guest_struct(v, val & ~1ull, sizeof(*ti));
		if (!ti || (val & 3) != 1)
			return false;	/* refused (#GP): nothing changes */
		v->kvmclock_msr = val;
		memset(ti, 0, sizeof(*ti));
		ti->tsc_timestamp = tsc + v->tsc_offset;	/* the guest's TSC */
		ti->system_time = ticks_to_ns(tsc, mul, shift);
		ti->tsc_to_system_mul = mul;
		ti->tsc_shift = shift;
		ti->flags = PVCLOCK_TSC_STABLE_BIT;
		return true;
	}
	struct pvclock_wall_clock *wc = guest_struct(v, val, sizeof(*wc));
	if (!wc)
		return false;
	v->dom->kvmclock_wall_msr = val;
	/* Unix time at TSC 0 = now - the time since TSC 0. */
	uint64_t now = kvmclock_rtc_to_unix(v->dom->legacy.host.cmos_read);
	uint64_t since = ticks_to_ns(tsc, mul, shift);
	uint64_t boot_ns = now * NSEC > since ? now * NSEC - since : 0;
	wc->version = 0;
	wc->sec = (uint32_t)(boot_ns / NSEC);
	wc->nsec = (uint32_t)(boot_ns % NSEC);
	return true;
}

void kvmclock_tsc_moved(struct vcpu *v)
{
	if (v->kvmclock_msr & 1)
		(void)kvmclock_wrmsr(v, MSR_KVM_SYSTEM_TIME_NEW, v->kvmclock_msr);
}

uint64_t kvmclock_rdmsr(const struct vcpu *v, uint32_t msr)
{
	return msr == MSR_KVM_SYSTEM_TIME_NEW ? v->kvmclock_msr : v->dom->kvmclock_wall_msr;
}
