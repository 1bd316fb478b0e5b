/*
 * hv-efi-loader: memory helpers and file access on the boot volume.
 *
 * Files are read through EFI_SIMPLE_FILE_SYSTEM_PROTOCOL / EFI_FILE_PROTOCOL
 * (UEFI 2.10 sections 13.4 and 13.5) on the volume whose handle the
 * EFI_LOADED_IMAGE_PROTOCOL reports as our DeviceHandle (section 9.1).
 */
#include "loader.h"

void ld_memcpy(void *dst, const void *src, UINTN n)
{
	UINT8 *d = dst;
	const UINT8 *s = src;

	while (n--)
		*d++ = *s++;
}

void ld_memset(void *dst, int c, UINTN n)
{
	UINT8 *d = dst;

	while (n--)
		*d++ = (UINT8)c;
}

/* Every page allocation the loader makes, so a failed boot can undo them. */
#define LD_MAX_ALLOCS 256

static struct {
	EFI_PHYSICAL_ADDRESS addr;
	UINT64 pages;
} ld_allocs[LD_MAX_ALLOCS];
static UINTN ld_nallocs;

EFI_STATUS ld_alloc_pages(EFI_ALLOCATE_TYPE type, EFI_MEMORY_TYPE mtype,
			  UINT64 pages, EFI_PHYSICAL_ADDRESS *addr)
{
	EFI_STATUS st;

	if (ld_nallocs == LD_MAX_ALLOCS)
		return EFI_OUT_OF_RESOURCES;
	st = uefi_call_wrapper(BS->AllocatePages, 4, type, mtype, pages, addr);
	if (EFI_ERROR(st))
		return st;
	ld_allocs[ld_nallocs].addr = *addr;
	ld_allocs[ld_nallocs].pages = pages;
	ld_nallocs++;
	return EFI_SUCCESS;
}

/*
 * AllocatePages(AllocateMaxAddress) hands out a range whose last byte is at
 * or below *Memory (UEFI 2.10 section 7.2.1), so 0xFFFFFFFF keeps it below
 * 4 GiB.
 */
EFI_STATUS ld_alloc_low(UINT64 bytes, EFI_PHYSICAL_ADDRESS *out)
{
	EFI_PHYSICAL_ADDRESS addr = LD_4GIB - 1;
	UINT64 pages = ld_pages(bytes);
	EFI_STATUS st;

	st = ld_alloc_pages(AllocateMaxAddress, EfiLoaderData,
			    pages ? pages : 1, &addr);
	if (!EFI_ERROR(st))
		*out = addr;
	return st;
}

BOOLEAN ld_owns(UINT64 start, UINT64 end)
{
	UINT64 pos = start;

	while (pos < end) {
		UINTN i;

		for (i = 0; i < ld_nallocs; i++) {
			UINT64 a = ld_allocs[i].addr;

			if (pos >= a && pos - a < ld_allocs[i].pages * LD_PAGE_SIZE)
				break;
		}
		if (i == ld_nallocs)
			return FALSE;
		pos = ld_allocs[i].addr + ld_allocs[i].pages * LD_PAGE_SIZE;
	}
	return TRUE;
}

void ld_free_pages(EFI_PHYSICAL_ADDRESS addr)
{
	for (UINTN i = 0; i < ld_nallocs; i++) {
		if (ld_allocs[i].addr != addr)
			continue;
		uefi_call_wrapper(BS->FreePages, 2, addr, ld_allocs[i].pages);
		ld_allocs[i] = ld_allocs[--ld_nallocs];
		return;
	}
}

void ld_free_all(void)
{
	while (ld_nallocs) {
		ld_nallocs--;
		uefi_call_wrapper(BS->FreePages, 2, ld_allocs[ld_nallocs].addr,
				  ld_allocs[ld_nallocs].pages);
	}
}

EFI_STATUS ld_open_boot_root(EFI_HANDLE image, EFI_FILE_HANDLE *root)
{
	EFI_GUID li_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
	EFI_GUID fs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
	EFI_LOADED_IMAGE *li = NULL;
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs = NULL;
	EFI_STATUS st;

	st = uefi_call_wrapper(BS->HandleProtocol, 3, image, &li_guid,
			       (void **)&li);
	if (EFI_ERROR(st)) {
		Print(L"hv-efi: no LoadedImage protocol on our image: %r\n", st);
		return st;
	}
	st = uefi_call_wrapper(BS->HandleProtocol, 3, li->DeviceHandle,
			       &fs_guid, (void **)&fs);
	if (EFI_ERROR(st)) {
		Print(L"hv-efi: boot device has no file system: %r\n", st);
		return st;
	}
	st = uefi_call_wrapper(fs->OpenVolume, 2, fs, root);
	if (EFI_ERROR(st)) {
		Print(L"hv-efi: cannot open the boot volume: %r\n", st);
		return st;
	}
	return EFI_SUCCESS;
}

EFI_STATUS ld_file_open(EFI_FILE_HANDLE root, const CHAR16 *path,
			EFI_FILE_HANDLE *fh, UINT64 *size)
{
	EFI_FILE_INFO *info;
	EFI_STATUS st;
	BOOLEAN is_dir;

	st = uefi_call_wrapper(root->Open, 5, root, fh, (CHAR16 *)path,
			       EFI_FILE_MODE_READ, 0ull);
	if (EFI_ERROR(st))
		return st;

	info = LibFileInfo(*fh);	/* pool copy of EFI_FILE_INFO */
	if (!info) {
		uefi_call_wrapper((*fh)->Close, 1, *fh);
		return EFI_DEVICE_ERROR;
	}
	*size = info->FileSize;
	is_dir = (info->Attribute & EFI_FILE_DIRECTORY) != 0;
	FreePool(info);
	if (is_dir) {
		uefi_call_wrapper((*fh)->Close, 1, *fh);
		return LD_ERR_IS_DIRECTORY;
	}
	return EFI_SUCCESS;
}

EFI_STATUS ld_file_read_at(EFI_FILE_HANDLE fh, UINT64 offset, void *buf,
			   UINT64 len)
{
	UINT8 *p = buf;
	EFI_STATUS st;

	st = uefi_call_wrapper(fh->SetPosition, 2, fh, offset);
	if (EFI_ERROR(st))
		return st;
	while (len) {
		/* Some file system drivers dislike huge single reads. */
		UINTN chunk = len > (64ull << 20) ? (64ull << 20) : (UINTN)len;

		st = uefi_call_wrapper(fh->Read, 3, fh, &chunk, p);
		if (EFI_ERROR(st))
			return st;
		if (chunk == 0)
			return EFI_END_OF_FILE;	/* file shorter than expected */
		p += chunk;
		len -= chunk;
	}
	return EFI_SUCCESS;
}

EFI_STATUS ld_file_load_low(EFI_FILE_HANDLE root, const CHAR16 *path,
			    BOOLEAN optional, EFI_PHYSICAL_ADDRESS *addr,
			    UINT64 *size)
{
	EFI_FILE_HANDLE fh;
	EFI_STATUS st;

	st = ld_file_open(root, path, &fh, size);
	if (st == EFI_NOT_FOUND && optional)
		return st;
	if (st == LD_ERR_IS_DIRECTORY) {
		Print(L"hv-efi: %s: is a directory\n", path);
		return EFI_LOAD_ERROR;
	}
	if (EFI_ERROR(st)) {
		Print(L"hv-efi: %s: cannot open: %r\n", path, st);
		return st;
	}
	if (*size >= LD_4GIB) {
		Print(L"hv-efi: %s: too large (%ld bytes)\n", path, *size);
		st = EFI_BAD_BUFFER_SIZE;
		goto out;
	}
	st = ld_alloc_low(*size + 1, addr);	/* + NUL terminator */
	if (EFI_ERROR(st)) {
		Print(L"hv-efi: %s: no memory below 4 GiB for %ld bytes: %r\n",
		      path, *size, st);
		goto out;
	}
	st = ld_file_read_at(fh, 0, (void *)(UINTN)*addr, *size);
	if (EFI_ERROR(st)) {
		Print(L"hv-efi: %s: read error: %r\n", path, st);
		ld_free_pages(*addr);
	} else {
		((UINT8 *)(UINTN)*addr)[*size] = 0;
	}
out:
	uefi_call_wrapper(fh->Close, 1, fh);
	return st;
}
