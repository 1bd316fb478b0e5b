/*
 * libFuzzer harness for the legacy devices (vmm/dev/legacy.c): whatever a
 * guest does with their ports -- any port, size, direction and value, at
 * any pace of the TSC, at any TSC rate -- must neither crash nor hit
 * undefined behaviour (ASan, UBSan), and must keep the contract: a read
 * of `size` bytes leaves no bits above them, an access is only ever
 * handled, refused or a reset, and the model is deterministic (the same
 * accesses at the same times give the same answers).
 *
 * Input: 8 bytes of TSC rate, then records of 8 bytes: port (2), size
 * selector (1), direction and TSC step (1), value (4).
 *
 *   build/fuzz/fuzz_legacy -max_total_time=60
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/host_stubs.h"
#include "vmm/dev/legacy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t now;
static uint64_t fake_tsc(void) { return now; }
static uint8_t fake_cmos(uint8_t idx) { return (uint8_t)(idx * 7 + 1); }

static void check(int ok)
{
	if (!ok)
		abort();
}

/* Replay the records; the answers go into out[] (one per record). */
static void replay(const uint8_t *data, size_t size, uint64_t hz, uint32_t *out)
{
	struct legacy l;
	const struct legacy_host host = { .tsc = fake_tsc, .tsc_hz = hz, .cmos_read = fake_cmos };

	now = 0x123456789ull;
	legacy_init(&l, &host);
	for (size_t i = 0; i + 8 <= size; i += 8) {
		const uint8_t *r = data + i;
		uint16_t port = (uint16_t)(r[0] | r[1] << 8);
		unsigned sz = (unsigned[]){ 1, 2, 4, 1 }[r[2] & 3];
		bool in = r[3] & 1;
		uint32_t val;
		memcpy(&val, r + 4, 4);
		now += (uint64_t)(r[3] >> 1) << (r[2] >> 4);	/* small and big steps */
		enum legacy_result res = legacy_io(&l, port, sz, in, &val);
		check(res == LEGACY_UNHANDLED || res == LEGACY_DONE || res == LEGACY_RESET ||
		      (res == LEGACY_IRQ0_MOVED && !in));
		if (in && res == LEGACY_DONE && sz < 4)
			check((val >> (8 * sz)) == 0);
		out[i / 8] = res == LEGACY_DONE && in ? val : (uint32_t)res;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t hz;

	if (size < 8)
		return 0;
	memcpy(&hz, data, 8);
	/* legacy.h: 0 < tsc_hz < 2^64 / 1193182 */
	hz = hz % (UINT64_MAX / 1193182 - 1) + 1;
	data += 8;
	size -= 8;
	size_t n = size / 8 + 1;
	uint32_t *a = calloc(n, sizeof(*a)), *b = calloc(n, sizeof(*b));
	check(a && b);
	replay(data, size, hz, a);
	replay(data, size, hz, b);
	check(memcmp(a, b, n * sizeof(*a)) == 0);
	free(a);
	free(b);
	return 0;
}
