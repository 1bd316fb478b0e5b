/*
 * libFuzzer harness for guest_load (vmm/loader*.c): arbitrary bytes as
 * the kernel image of a 16 MiB domain. The image is an exact-size heap
 * copy and guest memory a heap buffer of exactly 16 MiB, so ASan reports
 * any read outside the image or write outside the domain; on success the
 * entry the loader hands back is checked against the contract.
 *
 * The first input byte is a control byte, the rest is the image. With
 * its bit 0 set, every multiboot2 header candidate (the magic at an
 * 8-byte aligned offset in the first 32 KiB) gets its checksum fixed up
 * (Multiboot2 3.1.2) before loading: a fuzzer rarely guesses a checksum,
 * and without it never gets to the header's tags.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. vmm/loader*.c \
 *       tests/fuzz/fuzz_loader.c tests/unit/host_stubs.c -o build/fuzz_loader
 *   build/fuzz_loader -max_total_time=30
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/multiboot2.h"
#include "tests/unit/host_stubs.h"
#include "vmm/loader.h"

#define FUZZ_MEM (16u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static void fix_checksums(uint8_t *img, size_t len)
{
	for (size_t off = 0; off + 16 <= len && off + 16 <= 32768; off += 8) {
		uint32_t f[4];
		memcpy(f, img + off, sizeof(f));
		if (f[0] != MB2_HEADER_MAGIC)
			continue;
		f[3] = -(f[0] + f[1] + f[2]);
		memcpy(img + off, f, sizeof(f));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *mem;
	struct guest_entry ge;

	if (!mem) {
		mem = malloc(FUZZ_MEM);
		check(mem != NULL);
	}
	if (size == 0)
		return 0;
	uint8_t control = data[0];
	data++;
	size--;
	uint8_t *image = malloc(size ? size : 1);
	check(image != NULL);
	memcpy(image, data, size);
	if (control & 1)
		fix_checksums(image, size);
	test_log_clear();
	int err = guest_load("fuzz", image, size, mem, FUZZ_MEM, "fuzz=1", &ge);
	if (err == 0) {
		check(ge.eax == MB2_BOOTLOADER_MAGIC);
		check(ge.image_end <= ge.ebx && ge.ebx % 4096 == 0);
		check((uint64_t)ge.ebx + ge.info_size <= FUZZ_MEM);
		check(ge.rip < ge.image_end);
		check(strcmp(test_log(), "") == 0);
	} else {
		check(err < 0);
		check(test_log_has("hv: domain fuzz: kernel: "));
	}
	free(image);
	return 0;
}
