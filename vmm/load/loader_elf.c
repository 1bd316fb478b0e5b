/*
 * ELF guest images (System V ABI, "generic ABI" chapters 4 and 5): 32- or
 * 64-bit, little endian, x86, ET_EXEC. Every PT_LOAD goes to its p_paddr
 * (as Multiboot2 3.1.5 and GRUB load ELF kernels): p_filesz bytes from the
 * file, then zeros up to p_memsz.
 */
#include <stdbool.h>
#include <stdint.h>

#include "kernel/errno.h"
#include "vmm/load/loader_int.h"

/* e_ident (gABI "ELF Identification"). */
#define LDR_EI_CLASS   4
#define LDR_EI_DATA    5
#define LDR_ELFCLASS32 1
#define LDR_ELFCLASS64 2
#define LDR_ELFDATA2LSB 1

#define LDR_ET_EXEC   2
#define LDR_EM_386    3
#define LDR_EM_X86_64 62
#define LDR_PT_LOAD   1
#define LDR_PN_XNUM   0xffff	/* e_phnum escape: count in section 0 */

/* Sizes of the file header and of one program header, by class. */
#define LDR_EHDR32_SIZE 52u
#define LDR_EHDR64_SIZE 64u
#define LDR_PHDR32_SIZE 32u
#define LDR_PHDR64_SIZE 56u

bool ldr_elf_magic(const struct ldr_ctx *c)
{
	return c->len >= 4 && memcmp(c->img, "\177ELF", 4) == 0;
}

/* e_ident: class and byte order. */
static int ldr_elf_ident(const struct ldr_ctx *c, struct ldr_elf *e)
{
	if (c->len < LDR_EHDR32_SIZE) {
		pr_err(LDR_PFX "truncated ELF header (%llu bytes)\n", c->name,
		       (unsigned long long)c->len);
		return trace_error(-ENOEXEC);
	}
	uint8_t cls = c->img[LDR_EI_CLASS], data = c->img[LDR_EI_DATA];
	if (cls != LDR_ELFCLASS32 && cls != LDR_ELFCLASS64) {
		pr_err(LDR_PFX "unsupported ELF class %u\n", c->name, cls);
		return trace_error(-ENOEXEC);
	}
	if (data != LDR_ELFDATA2LSB) {
		pr_err(LDR_PFX "ELF image is not little endian (EI_DATA %u)\n", c->name, data);
		return trace_error(-ENOEXEC);
	}
	e->is64 = cls == LDR_ELFCLASS64;
	if (e->is64 && c->len < LDR_EHDR64_SIZE) {
		pr_err(LDR_PFX "truncated ELF header (%llu bytes)\n", c->name,
		       (unsigned long long)c->len);
		return trace_error(-ENOEXEC);
	}
	return 0;
}

/* The file header (gABI "ELF Header"): type, machine, entry, phdrs. */
static int ldr_elf_header(const struct ldr_ctx *c, struct ldr_elf *e)
{
	int err = ldr_elf_ident(c, e);
	if (err)
		return err;
	const uint8_t *h = c->img;
	uint16_t type = ldr_rd16(h + 16), machine = ldr_rd16(h + 18);
	if (type != LDR_ET_EXEC) {
		pr_err(LDR_PFX "ELF type %u is not an executable (ET_EXEC)\n", c->name, type);
		return trace_error(-ENOEXEC);
	}
	if (machine != LDR_EM_386 && machine != LDR_EM_X86_64) {
		pr_err(LDR_PFX "ELF machine %u is not x86\n", c->name, machine);
		return trace_error(-ENOEXEC);
	}
	if (e->is64) {
		e->entry = ldr_rd64(h + 24);
		e->phoff = ldr_rd64(h + 32);
		e->phentsize = ldr_rd16(h + 54);
		e->phnum = ldr_rd16(h + 56);
	} else {
		e->entry = ldr_rd32(h + 24);
		e->phoff = ldr_rd32(h + 28);
		e->phentsize = ldr_rd16(h + 42);
		e->phnum = ldr_rd16(h + 44);
	}
	return 0;
}

/* The program header table lies inside the file. */
static int ldr_elf_phdrs(const struct ldr_ctx *c, const struct ldr_elf *e)
{
	uint32_t min = e->is64 ? LDR_PHDR64_SIZE : LDR_PHDR32_SIZE;

	if (e->phnum == LDR_PN_XNUM) {
		pr_err(LDR_PFX "ELF extended program header numbering (PN_XNUM) is not supported\n",
		       c->name);
		return trace_error(-ENOTSUP);
	}
	if (e->phnum != 0 && e->phentsize < min) {
		pr_err(LDR_PFX "ELF program header size %u is too small (want %u)\n",
		       c->name, e->phentsize, min);
		return trace_error(-ENOEXEC);
	}
	/* Both factors are 16-bit: the product cannot overflow. */
	uint64_t table = (uint64_t)e->phnum * e->phentsize;
	if (!ldr_fits(e->phoff, table, c->len)) {
		pr_err(LDR_PFX "ELF program headers at 0x%llx (%u x %u bytes) lie outside the %llu-byte file\n",
		       c->name, (unsigned long long)e->phoff, e->phnum, e->phentsize,
		       (unsigned long long)c->len);
		return trace_error(-ENOEXEC);
	}
	return 0;
}

/* Program header i, widened (gABI "Program Header"). */
static void ldr_elf_phdr(const struct ldr_ctx *c, const struct ldr_elf *e,
			 uint32_t i, struct ldr_phdr *ph)
{
	const uint8_t *p = c->img + e->phoff + (uint64_t)i * e->phentsize;

	ph->type = ldr_rd32(p);
	if (e->is64) {
		ph->offset = ldr_rd64(p + 8);
		ph->vaddr = ldr_rd64(p + 16);
		ph->paddr = ldr_rd64(p + 24);
		ph->filesz = ldr_rd64(p + 32);
		ph->memsz = ldr_rd64(p + 40);
	} else {
		ph->offset = ldr_rd32(p + 4);
		ph->vaddr = ldr_rd32(p + 8);
		ph->paddr = ldr_rd32(p + 12);
		ph->filesz = ldr_rd32(p + 16);
		ph->memsz = ldr_rd32(p + 20);
	}
}

/* A PT_LOAD that puts something in memory (empty ones are ignored). */
static bool ldr_elf_loadable(const struct ldr_phdr *ph)
{
	return ph->type == LDR_PT_LOAD && ph->memsz != 0;
}

static int ldr_elf_segment(const struct ldr_ctx *c, uint32_t i,
			   const struct ldr_phdr *ph)
{
	if (ph->filesz > ph->memsz) {
		pr_err(LDR_PFX "segment %u file size 0x%llx exceeds its memory size 0x%llx\n",
		       c->name, i, (unsigned long long)ph->filesz,
		       (unsigned long long)ph->memsz);
		return trace_error(-ENOEXEC);
	}
	if (ph->memsz == 0)
		return 0;	/* loads nothing: where it points is moot */
	if (!ldr_fits(ph->offset, ph->filesz, c->len)) {
		pr_err(LDR_PFX "segment %u file range 0x%llx+0x%llx lies outside the %llu-byte file\n",
		       c->name, i, (unsigned long long)ph->offset,
		       (unsigned long long)ph->filesz, (unsigned long long)c->len);
		return trace_error(-ENOEXEC);
	}
	if (!ldr_fits(ph->paddr, ph->memsz, c->mem_size)) {
		pr_err(LDR_PFX "segment %u at 0x%llx+0x%llx lies outside the domain's %llu %s\n",
		       c->name, i, (unsigned long long)ph->paddr,
		       (unsigned long long)ph->memsz, ldr_size_val(c->mem_size),
		       ldr_size_unit(c->mem_size));
		return trace_error(-ENOMEM);
	}
	return 0;
}

/* Check every PT_LOAD; the image ends after the highest one. */
static int ldr_elf_segments(const struct ldr_ctx *c, const struct ldr_elf *e,
			    struct ldr_plan *p)
{
	uint32_t loads = 0;

	p->image_end = 0;
	for (uint32_t i = 0; i < e->phnum; i++) {
		struct ldr_phdr ph;
		ldr_elf_phdr(c, e, i, &ph);
		if (ph.type != LDR_PT_LOAD)
			continue;
		int err = ldr_elf_segment(c, i, &ph);
		if (err)
			return err;
		if (!ldr_elf_loadable(&ph))
			continue;
		loads++;
		if (ph.paddr + ph.memsz > p->image_end)
			p->image_end = ph.paddr + ph.memsz;
	}
	if (loads == 0) {
		pr_err(LDR_PFX "ELF image has no loadable segments (PT_LOAD)\n", c->name);
		return trace_error(-ENOEXEC);
	}
	return 0;
}

/*
 * e_entry is a virtual address. Like GRUB, enter at the physical address
 * it has in the PT_LOAD holding it (the same number when p_vaddr ==
 * p_paddr, as in most multiboot kernels; the right one for a higher-half
 * kernel). Multiboot2 enters in 32-bit mode, so it must be below 4 GiB.
 */
static int ldr_elf_entry_virt(const struct ldr_ctx *c, const struct ldr_elf *e,
			      struct ldr_plan *p)
{
	for (uint32_t i = 0; i < e->phnum; i++) {
		struct ldr_phdr ph;
		ldr_elf_phdr(c, e, i, &ph);
		if (!ldr_elf_loadable(&ph) || e->entry < ph.vaddr ||
		    e->entry - ph.vaddr >= ph.memsz)
			continue;
		uint64_t phys = ph.paddr + (e->entry - ph.vaddr);
		if (phys >= LDR_4G) {
			pr_err(LDR_PFX "entry point 0x%llx (physical 0x%llx) is above 4 GiB\n",
			       c->name, (unsigned long long)e->entry,
			       (unsigned long long)phys);
			return trace_error(-ENOTSUP);
		}
		p->entry = (uint32_t)phys;
		return 0;
	}
	pr_err(LDR_PFX "entry point 0x%llx is outside the loaded segments\n", c->name,
	       (unsigned long long)e->entry);
	return trace_error(-ENOEXEC);
}

/* The entry address tag (Multiboot2 3.1.6) gives a physical address. */
static int ldr_elf_entry_phys(const struct ldr_ctx *c, const struct ldr_elf *e,
			      uint32_t entry, struct ldr_plan *p)
{
	for (uint32_t i = 0; i < e->phnum; i++) {
		struct ldr_phdr ph;
		ldr_elf_phdr(c, e, i, &ph);
		if (ldr_elf_loadable(&ph) && entry >= ph.paddr &&
		    entry - ph.paddr < ph.memsz) {
			p->entry = entry;
			return 0;
		}
	}
	pr_err(LDR_PFX "entry point 0x%x (multiboot2 entry address tag) is outside the loaded segments\n",
	       c->name, entry);
	return trace_error(-ENOEXEC);
}

int ldr_elf_check(const struct ldr_ctx *c, const struct ldr_mb2 *h,
		  struct ldr_elf *e, struct ldr_plan *p)
{
	int err = ldr_elf_header(c, e);
	if (!err)
		err = ldr_elf_phdrs(c, e);
	if (!err)
		err = ldr_elf_segments(c, e, p);
	if (err)
		return err;
	if (h && h->has_entry)
		return ldr_elf_entry_phys(c, e, h->entry_addr, p);
	return ldr_elf_entry_virt(c, e, p);
}

void ldr_elf_load(const struct ldr_ctx *c, const struct ldr_elf *e)
{
	for (uint32_t i = 0; i < e->phnum; i++) {
		struct ldr_phdr ph;
		ldr_elf_phdr(c, e, i, &ph);
		if (!ldr_elf_loadable(&ph))
			continue;
		memcpy(c->mem + ph.paddr, c->img + ph.offset, ph.filesz);
		memset(c->mem + ph.paddr + ph.filesz, 0, ph.memsz - ph.filesz);
	}
}
