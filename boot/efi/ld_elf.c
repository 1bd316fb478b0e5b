/*
 * hv-efi-loader: validate and load the hypervisor ELF image.
 *
 * Only what the hypervisor build produces is accepted: ELF64, little
 * endian, x86_64, ET_EXEC, loaded at its physical addresses (p_paddr).
 * The file is never trusted: every offset and size is range-checked before
 * use, and any problem is one "hv-efi: <path>: <reason>" line plus an error
 * status.  Segment data is read straight from the file to its load address
 * (or to the staging buffer ld_place.c provides when the firmware still
 * occupies that address), so no temporary copy of the whole file exists.
 */
#include "loader.h"

/* ELF64 structures and constants (System V gABI, "ELF-64 Object File
 * Format" v1.5); defined here since the loader is freestanding. */
struct ld_elf64_ehdr {
	UINT8  e_ident[16];
	UINT16 e_type;
	UINT16 e_machine;
	UINT32 e_version;
	UINT64 e_entry;
	UINT64 e_phoff;
	UINT64 e_shoff;
	UINT32 e_flags;
	UINT16 e_ehsize;
	UINT16 e_phentsize;
	UINT16 e_phnum;
	UINT16 e_shentsize;
	UINT16 e_shnum;
	UINT16 e_shstrndx;
};

struct ld_elf64_phdr {
	UINT32 p_type;
	UINT32 p_flags;
	UINT64 p_offset;
	UINT64 p_vaddr;
	UINT64 p_paddr;
	UINT64 p_filesz;
	UINT64 p_memsz;
	UINT64 p_align;
};

_Static_assert(sizeof(struct ld_elf64_ehdr) == 64, "ELF64 header layout");
_Static_assert(sizeof(struct ld_elf64_phdr) == 56, "ELF64 phdr layout");

#define LD_EI_CLASS      4
#define LD_EI_DATA       5
#define LD_EI_VERSION    6
#define LD_ELFCLASS64    2
#define LD_ELFDATA2LSB   1
#define LD_EV_CURRENT    1
#define LD_ET_EXEC       2
#define LD_EM_X86_64     62
#define LD_PT_LOAD       1

struct ld_range {
	UINT64 start, end;	/* [start, end) */
};

/* Phdrs are read into static storage: no pool allocation to free. */
static struct ld_elf64_phdr ld_phdrs[LD_ELF_MAX_PHDRS];

static EFI_STATUS ld_elf_fail(const CHAR16 *path, const CHAR16 *what)
{
	Print(L"hv-efi: %s: %s\n", path, what);
	return EFI_LOAD_ERROR;
}

static EFI_STATUS ld_elf_check_ehdr(const CHAR16 *path,
				    const struct ld_elf64_ehdr *eh,
				    UINT64 fsize)
{
	const UINT8 *id = eh->e_ident;
	UINT64 ph_bytes;

	if (id[0] != 0x7f || id[1] != 'E' || id[2] != 'L' || id[3] != 'F')
		return ld_elf_fail(path, L"not an ELF file (bad magic)");
	if (id[LD_EI_CLASS] != LD_ELFCLASS64)
		return ld_elf_fail(path, L"not a 64-bit ELF file");
	if (id[LD_EI_DATA] != LD_ELFDATA2LSB)
		return ld_elf_fail(path, L"not a little-endian ELF file");
	if (id[LD_EI_VERSION] != LD_EV_CURRENT || eh->e_version != LD_EV_CURRENT)
		return ld_elf_fail(path, L"unknown ELF version");
	if (eh->e_machine != LD_EM_X86_64)
		return ld_elf_fail(path, L"not an x86_64 ELF file");
	if (eh->e_type != LD_ET_EXEC)
		return ld_elf_fail(path, L"not an ELF executable (e_type != ET_EXEC)");
	if (eh->e_phnum == 0)
		return ld_elf_fail(path, L"no program headers");
	if (eh->e_phnum > LD_ELF_MAX_PHDRS) {
		Print(L"hv-efi: %s: too many program headers (%d, max %d)\n",
		      path, (INTN)eh->e_phnum, (INTN)LD_ELF_MAX_PHDRS);
		return EFI_LOAD_ERROR;
	}
	if (eh->e_phentsize < sizeof(struct ld_elf64_phdr))
		return ld_elf_fail(path, L"program header entries too small");

	/* phnum <= 64 and phentsize < 64 KiB: the product cannot overflow. */
	ph_bytes = (UINT64)eh->e_phnum * eh->e_phentsize;
	if (eh->e_phoff > fsize || ph_bytes > fsize - eh->e_phoff)
		return ld_elf_fail(path, L"program headers lie outside the file");
	return EFI_SUCCESS;
}

/* Per-segment checks; phdrs with p_type != PT_LOAD are ignored. */
static EFI_STATUS ld_elf_check_load(const CHAR16 *path, UINTN idx,
				    const struct ld_elf64_phdr *ph,
				    UINT64 fsize)
{
	if (ph->p_filesz > ph->p_memsz) {
		Print(L"hv-efi: %s: segment %d has filesz > memsz\n", path,
		      (INTN)idx);
		return EFI_LOAD_ERROR;
	}
	if (ph->p_offset > fsize || ph->p_filesz > fsize - ph->p_offset) {
		Print(L"hv-efi: %s: segment %d file range [0x%lx, +0x%lx) lies "
		      L"outside the file (%ld bytes; truncated?)\n", path,
		      (INTN)idx, ph->p_offset, ph->p_filesz, fsize);
		return EFI_LOAD_ERROR;
	}
	/* Multiboot2 is a 32-bit protocol (load_base_addr is 32-bit), and the
	 * end must be computable without wrapping. */
	if (ph->p_paddr >= LD_4GIB || ph->p_memsz > LD_4GIB - ph->p_paddr) {
		Print(L"hv-efi: %s: segment %d [0x%lx, +0x%lx) does not fit "
		      L"below 4 GiB\n", path, (INTN)idx, ph->p_paddr,
		      ph->p_memsz);
		return EFI_LOAD_ERROR;
	}
	if (ph->p_vaddr > ~0ull - ph->p_memsz) {
		Print(L"hv-efi: %s: segment %d virtual range wraps around\n",
		      path, (INTN)idx);
		return EFI_LOAD_ERROR;
	}
	return EFI_SUCCESS;
}

static BOOLEAN ld_is_load(const struct ld_elf64_phdr *ph)
{
	return ph->p_type == LD_PT_LOAD && ph->p_memsz != 0;
}

/* Segments must not overlap each other in physical memory. */
static EFI_STATUS ld_elf_check_overlaps(const CHAR16 *path, UINTN n)
{
	for (UINTN i = 0; i < n; i++) {
		const struct ld_elf64_phdr *a = &ld_phdrs[i];

		if (!ld_is_load(a))
			continue;
		for (UINTN j = i + 1; j < n; j++) {
			const struct ld_elf64_phdr *b = &ld_phdrs[j];

			if (!ld_is_load(b))
				continue;
			if (a->p_paddr < b->p_paddr + b->p_memsz &&
			    b->p_paddr < a->p_paddr + a->p_memsz) {
				Print(L"hv-efi: %s: segments %d and %d overlap\n",
				      path, (INTN)i, (INTN)j);
				return EFI_LOAD_ERROR;
			}
		}
	}
	return EFI_SUCCESS;
}

/*
 * Page-rounded ranges of all PT_LOADs, sorted and merged: two segments may
 * share a page (e.g. .text ending and .data starting in the same page), and
 * AllocatePages(AllocateAddress) must be asked for each page only once.
 */
static UINTN ld_elf_page_ranges(UINTN n, struct ld_range *r)
{
	UINTN nr = 0;

	for (UINTN i = 0; i < n; i++) {
		const struct ld_elf64_phdr *ph = &ld_phdrs[i];
		struct ld_range cur;
		UINTN k;

		if (!ld_is_load(ph))
			continue;
		cur.start = ph->p_paddr & ~(LD_PAGE_SIZE - 1);
		cur.end = (ph->p_paddr + ph->p_memsz + LD_PAGE_SIZE - 1) &
			  ~(LD_PAGE_SIZE - 1);
		/* insertion sort by start */
		for (k = nr; k > 0 && r[k - 1].start > cur.start; k--)
			r[k] = r[k - 1];
		r[k] = cur;
		nr++;
	}
	if (nr == 0)
		return 0;

	UINTN out = 0;
	for (UINTN i = 1; i < nr; i++) {
		if (r[i].start <= r[out].end) {
			if (r[i].end > r[out].end)
				r[out].end = r[i].end;
		} else {
			r[++out] = r[i];
		}
	}
	return out + 1;
}

/* Translate e_entry (a virtual address) to the physical load address. */
static BOOLEAN ld_elf_entry(const struct ld_elf64_ehdr *eh, UINTN n,
			    UINT64 *phys)
{
	for (UINTN i = 0; i < n; i++) {
		const struct ld_elf64_phdr *ph = &ld_phdrs[i];

		if (ld_is_load(ph) && eh->e_entry >= ph->p_vaddr &&
		    eh->e_entry - ph->p_vaddr < ph->p_memsz) {
			*phys = eh->e_entry - ph->p_vaddr + ph->p_paddr;
			return TRUE;
		}
	}
	return FALSE;
}

static EFI_STATUS ld_elf_read_headers(EFI_FILE_HANDLE fh, const CHAR16 *path,
				      UINT64 fsize, struct ld_elf64_ehdr *eh)
{
	EFI_STATUS st;

	if (fsize < sizeof(*eh)) {
		Print(L"hv-efi: %s: too small for an ELF header (%ld bytes)\n",
		      path, fsize);
		return EFI_LOAD_ERROR;
	}
	st = ld_file_read_at(fh, 0, eh, sizeof(*eh));
	if (EFI_ERROR(st)) {
		Print(L"hv-efi: %s: read error: %r\n", path, st);
		return st;
	}
	st = ld_elf_check_ehdr(path, eh, fsize);
	if (EFI_ERROR(st))
		return st;

	for (UINTN i = 0; i < eh->e_phnum; i++) {
		st = ld_file_read_at(fh, eh->e_phoff + i * eh->e_phentsize,
				     &ld_phdrs[i], sizeof(ld_phdrs[i]));
		if (EFI_ERROR(st)) {
			Print(L"hv-efi: %s: read error: %r\n", path, st);
			return st;
		}
	}
	return EFI_SUCCESS;
}

static EFI_STATUS ld_elf_validate(const CHAR16 *path,
				  const struct ld_elf64_ehdr *eh, UINT64 fsize,
				  struct ld_image *img)
{
	UINTN n = eh->e_phnum, nload = 0;
	EFI_STATUS st;

	img->load_base = ~0ull;
	img->load_end = 0;
	for (UINTN i = 0; i < n; i++) {
		const struct ld_elf64_phdr *ph = &ld_phdrs[i];

		if (ph->p_type != LD_PT_LOAD)
			continue;
		st = ld_elf_check_load(path, i, ph, fsize);
		if (EFI_ERROR(st))
			return st;
		if (ph->p_memsz == 0)
			continue;
		nload++;
		if (ph->p_paddr < img->load_base)
			img->load_base = ph->p_paddr;
		if (ph->p_paddr + ph->p_memsz > img->load_end)
			img->load_end = ph->p_paddr + ph->p_memsz;
	}
	if (nload == 0)
		return ld_elf_fail(path, L"no loadable (PT_LOAD) segments");
	st = ld_elf_check_overlaps(path, n);
	if (EFI_ERROR(st))
		return st;
	if (!ld_elf_entry(eh, n, &img->entry)) {
		Print(L"hv-efi: %s: entry point 0x%lx is not inside any "
		      L"PT_LOAD segment\n", path, eh->e_entry);
		return EFI_LOAD_ERROR;
	}
	return EFI_SUCCESS;
}

/*
 * Claim every page range (allocations are tracked: efi_main's ld_free_all()
 * undoes them on error), then read each segment to wherever its range is
 * being loaded (in place or staging) and zero the tail up to p_memsz.
 */
static EFI_STATUS ld_elf_place(EFI_FILE_HANDLE fh, const CHAR16 *path,
			       UINTN n, const struct ld_range *r, UINTN nr,
			       struct ld_image *img)
{
	UINT8 *where[LD_ELF_MAX_PHDRS];
	EFI_STATUS st;

	img->nmoves = 0;
	for (UINTN i = 0; i < nr; i++) {
		st = ld_place_range(path, r[i].start, r[i].end, img, &where[i]);
		if (EFI_ERROR(st))
			return st;
	}

	for (UINTN i = 0; i < n; i++) {
		const struct ld_elf64_phdr *ph = &ld_phdrs[i];
		UINT8 *dst = NULL;

		if (!ld_is_load(ph))
			continue;
		for (UINTN k = 0; k < nr; k++)
			if (ph->p_paddr >= r[k].start && ph->p_paddr < r[k].end)
				dst = where[k] + (ph->p_paddr - r[k].start);
		if (!dst)		/* cannot happen: ranges cover segments */
			return ld_elf_fail(path, L"internal error: no range");
		if (ph->p_filesz) {
			st = ld_file_read_at(fh, ph->p_offset, dst,
					     ph->p_filesz);
			if (EFI_ERROR(st)) {
				Print(L"hv-efi: %s: segment %d: read error: "
				      L"%r\n", path, (INTN)i, st);
				return st;
			}
		}
		ld_memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
	}
	return EFI_SUCCESS;
}

EFI_STATUS ld_elf_load(EFI_FILE_HANDLE root, const CHAR16 *path,
		       struct ld_image *img)
{
	struct ld_elf64_ehdr eh;
	struct ld_range ranges[LD_ELF_MAX_PHDRS];
	EFI_FILE_HANDLE fh;
	UINT64 fsize;
	UINTN nr;
	EFI_STATUS st;

	st = ld_file_open(root, path, &fh, &fsize);
	if (st == LD_ERR_IS_DIRECTORY)
		return ld_elf_fail(path, L"is a directory");
	if (EFI_ERROR(st)) {
		Print(L"hv-efi: %s: cannot open: %r\n", path, st);
		return st;
	}

	st = ld_elf_read_headers(fh, path, fsize, &eh);
	if (EFI_ERROR(st))
		goto out;
	st = ld_elf_validate(path, &eh, fsize, img);
	if (EFI_ERROR(st))
		goto out;
	nr = ld_elf_page_ranges(eh.e_phnum, ranges);
	st = ld_elf_place(fh, path, eh.e_phnum, ranges, nr, img);
out:
	uefi_call_wrapper(fh->Close, 1, fh);
	return st;
}
