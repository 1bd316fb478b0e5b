/*
 * hv-efi-loader: the optional configuration files in \hv\.
 *
 *   \hv\cmdline.txt  the hypervisor command line (trailing whitespace and
 *                    newlines stripped; inner CR/LF/TAB become spaces).
 *   \hv\modules.txt  one module per line: "PATH [string...]".  Empty lines
 *                    and lines starting with '#' are skipped.  PATH is
 *                    relative to \hv\ unless it starts with '\' or '/';
 *                    '/' is accepted as a separator.
 *
 * Both files and every module are loaded below 4 GiB and stay in memory:
 * the Multiboot2 tags copy their strings later, and modules are handed to
 * the hypervisor in place.
 */
#include "loader.h"

static BOOLEAN ld_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	       c == '\v' || c == '\f';
}

static void ld_load_cmdline(EFI_FILE_HANDLE root, struct ld_config *cfg,
			    EFI_STATUS *status)
{
	EFI_PHYSICAL_ADDRESS addr;
	UINT64 size;
	EFI_STATUS st;
	char *s;
	UINTN len;

	cfg->cmdline = "";
	cfg->cmdline_len = 0;
	st = ld_file_load_low(root, LD_CMDLINE_TXT, TRUE, &addr, &size);
	if (st == EFI_NOT_FOUND)
		return;
	if (EFI_ERROR(st)) {
		*status = st;
		return;
	}

	s = (char *)(UINTN)addr;
	len = (UINTN)size;
	for (UINTN i = 0; i < len; i++) {
		if (s[i] == '\0') {		/* stop at an embedded NUL */
			len = i;
			break;
		}
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\t')
			s[i] = ' ';
	}
	while (len && ld_is_space(s[len - 1]))
		len--;
	s[len] = '\0';		/* the buffer has room: see ld_file_load_low */
	cfg->cmdline = s;
	cfg->cmdline_len = len;
}

/*
 * Build the CHAR16 path of a module from its modules.txt spelling.
 * Returns FALSE if it does not fit.
 */
static BOOLEAN ld_module_path(const char *p, UINTN len, CHAR16 *out)
{
	UINTN o = 0;

	if (len == 0 || (p[0] != '\\' && p[0] != '/')) {
		for (const CHAR16 *d = LD_HV_DIR; *d; d++)
			out[o++] = *d;
	}
	if (o + len >= LD_MAX_PATH)
		return FALSE;
	for (UINTN i = 0; i < len; i++)
		out[o++] = p[i] == '/' ? L'\\' : (CHAR16)(UINT8)p[i];
	out[o] = 0;
	return TRUE;
}

/* Parse one trimmed, non-empty, non-comment line and load the module. */
static EFI_STATUS ld_load_module_line(EFI_FILE_HANDLE root, char *line,
				      UINTN len, UINTN lineno,
				      struct ld_config *cfg)
{
	struct ld_module *m;
	CHAR16 path[LD_MAX_PATH];
	UINTN plen = 0, rest;
	EFI_PHYSICAL_ADDRESS addr;
	UINT64 size;
	EFI_STATUS st;

	if (cfg->nmodules == LD_MAX_MODULES) {
		Print(L"hv-efi: %s: line %d: too many modules (max %d)\n",
		      LD_MODULES_TXT, (INTN)lineno, (INTN)LD_MAX_MODULES);
		return EFI_OUT_OF_RESOURCES;
	}
	while (plen < len && !ld_is_space(line[plen]))
		plen++;
	if (!ld_module_path(line, plen, path)) {
		Print(L"hv-efi: %s: line %d: path too long\n", LD_MODULES_TXT,
		      (INTN)lineno);
		return EFI_INVALID_PARAMETER;
	}
	rest = plen;
	while (rest < len && ld_is_space(line[rest]))
		rest++;

	st = ld_file_load_low(root, path, FALSE, &addr, &size);
	if (EFI_ERROR(st))
		return st;

	line[len] = '\0';	/* in our own copy of modules.txt */
	m = &cfg->modules[cfg->nmodules++];
	m->start = addr;
	m->size = size;
	m->string = line + rest;
	m->string_len = len - rest;
	Print(L"hv-efi: module %d: %s, %ld bytes at 0x%lx, string \"%a\"\n",
	      (INTN)(cfg->nmodules - 1), path, size, addr, m->string);
	return EFI_SUCCESS;
}

static void ld_load_modules(EFI_FILE_HANDLE root, struct ld_config *cfg,
			    EFI_STATUS *status)
{
	EFI_PHYSICAL_ADDRESS addr;
	UINT64 size;
	EFI_STATUS st;
	char *txt, *end;
	UINTN lineno = 0;

	cfg->nmodules = 0;
	st = ld_file_load_low(root, LD_MODULES_TXT, TRUE, &addr, &size);
	if (st == EFI_NOT_FOUND)
		return;
	if (EFI_ERROR(st)) {
		*status = st;
		return;
	}

	txt = (char *)(UINTN)addr;
	end = txt + size;
	while (txt < end) {
		char *eol = txt, *b, *e;

		while (eol < end && *eol != '\n')
			eol++;
		lineno++;
		b = txt;
		e = eol;
		while (b < e && ld_is_space(*b))
			b++;
		while (e > b && ld_is_space(e[-1]))
			e--;
		txt = eol < end ? eol + 1 : end;
		if (b == e || *b == '#')
			continue;
		for (const char *q = b; q < e; q++) {
			if (*q == '\0') {
				Print(L"hv-efi: %s: line %d: NUL byte\n",
				      LD_MODULES_TXT, (INTN)lineno);
				*status = EFI_INVALID_PARAMETER;
				return;
			}
		}
		st = ld_load_module_line(root, b, (UINTN)(e - b), lineno, cfg);
		if (EFI_ERROR(st)) {
			*status = st;
			return;
		}
	}
}

EFI_STATUS ld_config_load(EFI_FILE_HANDLE root, struct ld_config *cfg)
{
	EFI_STATUS status = EFI_SUCCESS;

	ld_load_cmdline(root, cfg, &status);
	if (EFI_ERROR(status))
		return status;
	ld_load_modules(root, cfg, &status);
	return status;
}
