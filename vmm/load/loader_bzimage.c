/*
 * Linux kernels in the bzImage format, booted by the 32-bit boot protocol
 * (Linux Documentation/arch/x86/boot.rst; the layouts are those of
 * arch/x86/include/uapi/asm/bootparam.h). We need protocol 2.10 or later
 * (kernel 2.6.31+: pref_address, init_size, kernel_alignment that the
 * kernel reads back) and a bzImage (LOADED_HIGH).
 *
 * The image is the real-mode setup ((setup_sects + 1) * 512 bytes, not
 * loaded: we enter at the 32-bit entry) and the protected-mode kernel
 * after it. Guest memory gets:
 *  - boot_params (the "zero page") at LDR_LX_BOOT_PARAMS: zeroed, the
 *    setup header copied in at 0x1f1, the loader's fields filled, an e820
 *    table of the domain's RAM [0, ram_size) (with its ACPI tables at
 *    GUEST_ACPI_BASE marked ACPI data, when it has them) and its reserved
 *    ranges, the RSDP address;
 *  - the command line at LDR_LX_CMDLINE, below 640 KiB;
 *  - the protected-mode kernel at its runtime start address, so that the
 *    range it claims while decompressing (init_size) is known: for a
 *    relocatable kernel pref_address (at least 1 MiB) rounded up to
 *    kernel_alignment -- loading it lower would not help, it moves itself
 *    up to pref_address before decompressing (boot.rst, init_size; head_64.S
 *    does the same) -- and for one that is not, 1 MiB, where it
 *    decompresses to pref_address;
 *  - the initrd as high as initrd_addr_max, the domain and 4 GiB allow,
 *    above the kernel's range.
 * Entry: 32-bit protected mode at the kernel's first byte (its
 * startup_32), ESI = boot_params, EBX = EBP = EDI = 0.
 */
#include <stdbool.h>
#include <stdint.h>

#include "kernel/errno.h"
#include "vmm/load/loader_int.h"

/* The setup header ("The Real-Mode Kernel Header"): offsets in the image,
 * and the same in boot_params, where it is copied. */
#define LDR_LX_SETUP_SECTS   0x1f1	/* u8: 0 means 4 */
#define LDR_LX_BOOT_FLAG     0x1fe	/* u16: 0xaa55 */
#define LDR_LX_JUMP          0x200	/* u8 0xeb, u8 offset: header end */
#define LDR_LX_HEADER        0x202	/* "HdrS" */
#define LDR_LX_VERSION       0x206	/* u16: major << 8 | minor */
#define LDR_LX_TYPE_OF_LOADER 0x210	/* u8 */
#define LDR_LX_LOADFLAGS     0x211	/* u8 */
#define LDR_LX_CODE32_START  0x214	/* u32 */
#define LDR_LX_RAMDISK_IMAGE 0x218	/* u32 */
#define LDR_LX_RAMDISK_SIZE  0x21c	/* u32 */
#define LDR_LX_CMD_LINE_PTR  0x228	/* u32 */
#define LDR_LX_INITRD_MAX    0x22c	/* u32: highest byte the initrd may use */
#define LDR_LX_KERNEL_ALIGN  0x230	/* u32 */
#define LDR_LX_RELOCATABLE   0x234	/* u8 */
#define LDR_LX_CMDLINE_SIZE  0x238	/* u32: without the NUL */
#define LDR_LX_SETUP_DATA    0x250	/* u64: a list we do not give */
#define LDR_LX_PREF_ADDRESS  0x258	/* u64 */
#define LDR_LX_INIT_SIZE     0x260	/* u32 */
#define LDR_LX_HDR_MIN_END   0x264	/* init_size's end: protocol 2.10 */
#define LDR_LX_HDR_MAX_END   0x290	/* boot_params goes on with other things */

#define LDR_LX_BOOT_FLAG_MAGIC 0xaa55u
#define LDR_LX_MIN_VERSION     0x020au
#define LDR_LX_LOADED_HIGH     0x01u	/* loadflags bit 0 */
#define LDR_LX_SECTOR          512u
#define LDR_LX_DEFAULT_SECTS   4u
#define LDR_LX_LOADER_UNDEF    0xffu	/* type_of_loader: no assigned ID */

/* boot_params ("The Zero Page", zero-page.rst). */
#define LDR_LX_BP_SIZE         4096u
#define LDR_LX_BP_ACPI_RSDP    0x070	/* u64 */
#define LDR_LX_BP_E820_ENTRIES 0x1e8	/* u8 */
#define LDR_LX_BP_E820_TABLE   0x2d0	/* 20-byte entries: addr, size, type */
#define LDR_LX_E820_MAX        128u	/* E820_MAX_ENTRIES_ZEROPAGE */
_Static_assert(LDR_MAP_MAX <= LDR_LX_E820_MAX, "the e820 table holds every memory map");
/* ext_ramdisk_image (0x0c0), ext_ramdisk_size (0x0c4), ext_cmd_line_ptr
 * (0x0c8): the high halves, 0 since everything is below 4 GiB. */

/* Where the loader puts its parts in low memory: below the kernel, which
 * starts at 1 MiB or higher, and below 640 KiB, as a BIOS loader would. */
#define LDR_LX_BOOT_PARAMS 0x10000ull
#define LDR_LX_CMDLINE     0x20000ull
#define LDR_LX_LOW_END     0xa0000ull
#define LDR_LX_KERNEL_MIN  LDR_MIB

bool ldr_linux_magic(const struct ldr_ctx *c)
{
	return c->len >= LDR_LX_HEADER + 4 &&
	       ldr_rd16(c->img + LDR_LX_BOOT_FLAG) == LDR_LX_BOOT_FLAG_MAGIC &&
	       memcmp(c->img + LDR_LX_HEADER, "HdrS", 4) == 0;
}

/* The setup sectors, which must leave a kernel after them. Once this
 * holds, the whole setup header (below 0x290 < 1024) lies in the image. */
static int ldr_linux_setup(const struct ldr_ctx *c, struct ldr_linux *l)
{
	unsigned sects = c->img[LDR_LX_SETUP_SECTS];

	if (sects == 0)
		sects = LDR_LX_DEFAULT_SECTS;
	l->setup_len = (uint64_t)(sects + 1) * LDR_LX_SECTOR;
	if (l->setup_len > c->len) {
		pr_err(LDR_PFX "Linux setup (%u sectors and the boot sector, %llu bytes) runs past the end of the %llu-byte image\n",
		       c->name, sects, (unsigned long long)l->setup_len,
		       (unsigned long long)c->len);
		return trace_error(-ENOEXEC);
	}
	if (l->setup_len == c->len) {
		pr_err(LDR_PFX "Linux image has no protected-mode kernel after its %llu-byte setup\n",
		       c->name, (unsigned long long)l->setup_len);
		return trace_error(-ENOEXEC);
	}
	l->kernel_len = c->len - l->setup_len;
	return 0;
}

/* Protocol 2.10 or later, a bzImage, a setup header that holds the 2.10
 * fields (its end is given by the jump at 0x200). */
static int ldr_linux_version(const struct ldr_ctx *c, struct ldr_linux *l)
{
	uint16_t version = ldr_rd16(c->img + LDR_LX_VERSION);
	uint8_t loadflags = c->img[LDR_LX_LOADFLAGS];

	if (version < LDR_LX_MIN_VERSION) {
		pr_err(LDR_PFX "Linux boot protocol %u.%02u is too old (2.10 or later needed)\n",
		       c->name, version >> 8, version & 0xffu);
		return trace_error(-ENOTSUP);
	}
	if (!(loadflags & LDR_LX_LOADED_HIGH)) {
		pr_err(LDR_PFX "Linux zImage (loadflags 0x%x without LOADED_HIGH) is not supported: a bzImage is needed\n",
		       c->name, loadflags);
		return trace_error(-ENOTSUP);
	}
	l->hdr_end = LDR_LX_HEADER + (uint64_t)c->img[LDR_LX_JUMP + 1];
	if (l->hdr_end < LDR_LX_HDR_MIN_END) {
		pr_err(LDR_PFX "Linux setup header ends at 0x%llx, before the fields of protocol 2.10 (up to 0x%x)\n",
		       c->name, (unsigned long long)l->hdr_end, LDR_LX_HDR_MIN_END);
		return trace_error(-ENOEXEC);
	}
	if (l->hdr_end > LDR_LX_HDR_MAX_END)
		l->hdr_end = LDR_LX_HDR_MAX_END;
	return 0;
}

/* [at, at + size) is in the domain (else -ENOMEM) and below 4 GiB (the
 * kernel starts in 32-bit mode: else -ENOTSUP). */
static int ldr_linux_range(const struct ldr_ctx *c, uint64_t at, uint64_t size,
			   const char *what)
{
	if (!ldr_fits(at, size, c->mem_size)) {
		pr_err(LDR_PFX "Linux kernel at 0x%llx+0x%llx (%s) lies outside the domain's %llu %s\n",
		       c->name, (unsigned long long)at, (unsigned long long)size, what,
		       ldr_size_val(c->mem_size), ldr_size_unit(c->mem_size));
		return trace_error(-ENOMEM);
	}
	if (!ldr_fits(at, size, LDR_4G)) {
		pr_err(LDR_PFX "Linux kernel at 0x%llx+0x%llx (%s) reaches above 4 GiB\n",
		       c->name, (unsigned long long)at, (unsigned long long)size, what);
		return trace_error(-ENOTSUP);
	}
	return 0;
}

/* Where the kernel goes and the range it claims (see the top). */
static int ldr_linux_place(const struct ldr_ctx *c, struct ldr_linux *l)
{
	uint64_t pref = ldr_rd64(c->img + LDR_LX_PREF_ADDRESS);
	uint32_t init_size = ldr_rd32(c->img + LDR_LX_INIT_SIZE);
	uint32_t align = ldr_rd32(c->img + LDR_LX_KERNEL_ALIGN);
	uint64_t need = init_size > l->kernel_len ? init_size : l->kernel_len;
	int err;

	if (pref >= LDR_4G) {
		pr_err(LDR_PFX "Linux pref_address 0x%llx is above 4 GiB\n", c->name,
		       (unsigned long long)pref);
		return trace_error(-ENOTSUP);
	}
	if (c->img[LDR_LX_RELOCATABLE]) {
		if (align == 0 || (align & (align - 1)) != 0) {
			pr_err(LDR_PFX "Linux kernel_alignment 0x%x is not a power of two\n",
			       c->name, align);
			return trace_error(-ENOEXEC);
		}
		uint64_t a = align < LDR_PAGE ? LDR_PAGE : align;
		uint64_t base = pref < LDR_LX_KERNEL_MIN ? LDR_LX_KERNEL_MIN : pref;
		l->load = (base + a - 1) & ~(a - 1);	/* < 6 GiB: no wrap */
		err = ldr_linux_range(c, l->load, need, "init_size");
		l->end = l->load + need;
		return err;
	}
	/* Not relocatable: loaded at 1 MiB, runs at pref_address. */
	if (pref < LDR_LX_KERNEL_MIN) {
		pr_err(LDR_PFX "Linux kernel is not relocatable and runs at pref_address 0x%llx, below 1 MiB\n",
		       c->name, (unsigned long long)pref);
		return trace_error(-ENOEXEC);
	}
	l->load = LDR_LX_KERNEL_MIN;
	err = ldr_linux_range(c, l->load, l->kernel_len, "image");
	if (!err)
		err = ldr_linux_range(c, pref, init_size, "init_size at pref_address");
	l->end = l->load + l->kernel_len;
	if (pref + init_size > l->end)
		l->end = pref + init_size;
	return err;
}

/* cmdline_size bytes at most (without the NUL), and room below 640 KiB. */
static int ldr_linux_cmdline(const struct ldr_ctx *c, struct ldr_linux *l)
{
	uint32_t max = ldr_rd32(c->img + LDR_LX_CMDLINE_SIZE);

	l->cmdline_len = strlen(c->cmdline);
	if (l->cmdline_len > max) {
		pr_err(LDR_PFX "command line is %llu bytes, longer than the kernel's cmdline_size %u\n",
		       c->name, (unsigned long long)l->cmdline_len, max);
		return trace_error(-E2BIG);
	}
	if (l->cmdline_len >= LDR_LX_LOW_END - LDR_LX_CMDLINE) {
		pr_err(LDR_PFX "command line is %llu bytes, longer than the %llu bytes that fit below 640 KiB\n",
		       c->name, (unsigned long long)l->cmdline_len,
		       LDR_LX_LOW_END - LDR_LX_CMDLINE - 1);
		return trace_error(-E2BIG);
	}
	return 0;
}

/* The initrd: page aligned, as high as it may go, above the kernel. */
static int ldr_linux_initrd(const struct ldr_ctx *c, struct ldr_linux *l)
{
	uint32_t max = ldr_rd32(c->img + LDR_LX_INITRD_MAX);
	uint64_t top = (uint64_t)max + 1;

	l->initrd = 0;
	if (c->initrd_len == 0)
		return 0;
	/* XLF_CAN_BE_LOADED_ABOVE_4G would allow more: we stay below. */
	if (top > LDR_4G)
		top = LDR_4G;
	if (top > c->mem_size)
		top = c->mem_size;
	if (top < c->initrd_len || ((top - c->initrd_len) & ~(LDR_PAGE - 1)) < l->end) {
		pr_err(LDR_PFX "no room for the initrd (%llu bytes) between the kernel's end at 0x%llx and 0x%llx (initrd_addr_max 0x%x, the domain's %llu %s)\n",
		       c->name, (unsigned long long)c->initrd_len, (unsigned long long)l->end,
		       (unsigned long long)top, max, ldr_size_val(c->mem_size),
		       ldr_size_unit(c->mem_size));
		return trace_error(-ENOMEM);
	}
	l->initrd = (top - c->initrd_len) & ~(LDR_PAGE - 1);
	return 0;
}

int ldr_linux_check(const struct ldr_ctx *c, struct ldr_linux *l)
{
	memset(l, 0, sizeof(*l));
	int err = ldr_linux_setup(c, l);
	if (!err)
		err = ldr_linux_version(c, l);
	if (!err)
		err = ldr_linux_place(c, l);
	if (!err)
		err = ldr_linux_cmdline(c, l);
	if (!err)
		err = ldr_linux_initrd(c, l);
	return err;
}

static void ldr_e820(uint8_t *e, uint64_t addr, uint64_t size, uint32_t type)
{
	ldr_wr64(e, addr);
	ldr_wr64(e + 8, size);
	ldr_wr32(e + 16, type);
}

/* boot_params: the header as the image has it, then the loader's fields. */
static void ldr_linux_boot_params(const struct ldr_ctx *c, const struct ldr_linux *l)
{
	uint8_t *bp = c->mem + LDR_LX_BOOT_PARAMS;

	memset(bp, 0, LDR_LX_BP_SIZE);
	memcpy(bp + LDR_LX_SETUP_SECTS, c->img + LDR_LX_SETUP_SECTS,
	       l->hdr_end - LDR_LX_SETUP_SECTS);
	bp[LDR_LX_TYPE_OF_LOADER] = LDR_LX_LOADER_UNDEF;
	ldr_wr32(bp + LDR_LX_CODE32_START, (uint32_t)l->load);
	ldr_wr32(bp + LDR_LX_RAMDISK_IMAGE, (uint32_t)l->initrd);
	ldr_wr32(bp + LDR_LX_RAMDISK_SIZE, (uint32_t)c->initrd_len);
	ldr_wr32(bp + LDR_LX_CMD_LINE_PTR, (uint32_t)LDR_LX_CMDLINE);
	ldr_wr64(bp + LDR_LX_SETUP_DATA, 0);
	ldr_wr64(bp + LDR_LX_BP_ACPI_RSDP, c->acpi_rsdp);

	/* The domain's RAM, all of it RAM from 0 (no BIOS areas to hide),
	 * except its ACPI tables when it has them (type 3, ACPI data); then
	 * its reserved ranges (type 2). The e820 types are ldr_memmap's. */
	struct ldr_map_entry map[LDR_MAP_MAX];
	uint32_t n = ldr_memmap(c, c->acpi_rsdp != 0, map);
	bp[LDR_LX_BP_E820_ENTRIES] = (uint8_t)n;
	for (uint32_t i = 0; i < n; i++)
		ldr_e820(bp + LDR_LX_BP_E820_TABLE + i * 20u, map[i].addr, map[i].size,
			 map[i].type);
}

void ldr_linux_load(const struct ldr_ctx *c, const struct ldr_linux *l,
		    struct guest_entry *out)
{
	ldr_linux_boot_params(c, l);
	memcpy(c->mem + LDR_LX_CMDLINE, c->cmdline, l->cmdline_len + 1);
	memcpy(c->mem + l->load, c->img + l->setup_len, l->kernel_len);
	if (c->initrd_len)
		memcpy(c->mem + l->initrd, c->initrd, c->initrd_len);

	out->rip = (uint32_t)l->load;
	out->eax = 0;
	out->ebx = 0;
	out->esi = (uint32_t)LDR_LX_BOOT_PARAMS;
	out->info_size = LDR_LX_BP_SIZE;
	out->image_end = l->end;
}
