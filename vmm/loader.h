/*
 * Guest image loading: put a kernel image into a domain's memory and say
 * how to enter it. Pure logic: guest RAM is a host buffer (`mem`, guest
 * physical 0 .. size), so this is host-tested with crafted images.
 *
 * Formats (tried in this order):
 *  - multiboot2 kernel: a multiboot2 header in the first 32 KiB (Multiboot2
 *    spec 3.1); loaded from its ELF program headers, or with the address
 *    tag (3.1.5) when present; entry from the entry-address tag or e_entry.
 *  - ELF (32- or 64-bit, ET_EXEC): PT_LOAD segments at p_paddr; entry at
 *    e_entry translated to physical through the PT_LOAD whose
 *    [p_vaddr, p_vaddr + p_memsz) holds it (as GRUB does: the same number
 *    when p_vaddr == p_paddr, the right one for a higher-half kernel); it
 *    must end up below 4 GiB.
 * Either is entered as multiboot2 specifies (3.3): 32-bit protected mode,
 * paging off, flat 4 GiB segments, EAX = 0x36d76289, EBX = guest-physical
 * address of a multiboot2 information block that the loader builds in
 * guest memory: boot-loader name "hv", the command line, basic meminfo, a
 * memory map of exactly the domain's RAM (one available region [0, size)),
 * END.
 */
#ifndef VMM_LOADER_H
#define VMM_LOADER_H

#include <stddef.h>
#include <stdint.h>

struct guest_entry {
	uint32_t rip;		/* entry point, guest physical */
	uint32_t eax;		/* multiboot2 magic */
	uint32_t ebx;		/* guest-physical address of the info block */
	uint32_t info_size;
	uint64_t image_end;	/* highest guest-physical byte loaded + 1 */
};

/*
 * Load `image` (len bytes) into guest memory `mem` of `mem_size` bytes and
 * build the boot information after the image (page aligned). `name` is
 * the domain's name, only for messages. Returns 0, or a negative errno
 * after one clear line "hv: domain NAME: kernel: <what is wrong>" (bad
 * magic, truncated, segment outside the domain's memory, entry outside
 * the image, no room for the info block...): -ENOEXEC for a malformed
 * image, -ENOTSUP for one that needs what a domain lacks (EFI boot
 * services, an unknown required multiboot2 header tag, an entry above
 * 4 GiB), -ENOMEM when it or the info block does not fit the domain.
 * Never reads outside [image, image+len) nor writes outside
 * [mem, mem+mem_size); on failure it writes no guest memory at all and
 * *out is zeroed.
 */
int guest_load(const char *name, const void *image, size_t len, uint8_t *mem,
	       uint64_t mem_size, const char *cmdline, struct guest_entry *out);

/*
 * The same, for a domain whose RAM is several host ranges: `mem` is the
 * first (guest-physical 0 .. mem_size), where the image and the boot
 * information must fit; the memory map given to the guest says ram_size.
 */
int guest_load_ram(const char *name, const void *image, size_t len, uint8_t *mem,
		   uint64_t mem_size, uint64_t ram_size, const char *cmdline,
		   struct guest_entry *out);

#endif
