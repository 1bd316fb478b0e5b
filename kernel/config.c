/*
 * The configuration blob; see config.h for the layout and scripts/hvconfig
 * for the compiler. Pure, host-tested (tests/unit/test_config.c).
 *
 * The blob comes from a boot module anyone could have replaced, so nothing
 * in it is trusted: the header and each domain record are copied out with
 * memcpy (the module need not be aligned), every offset and size is checked
 * against the blob in 64-bit arithmetic (no wrap-around), and every string
 * must end inside the string table. The first mistake refuses the blob with
 * one line; domains are numbered from 0 in messages, in blob order (the
 * order of the [[domain]] tables in the TOML file), and memory ranges are
 * numbered from 0 within their domain and shown as start-end (end
 * exclusive), the way the TOML file writes them.
 */
#include "drivers/pci.h"
#include "kernel/config.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"

#define CONFIG_PAGE_SIZE 4096u
#define CONFIG_CRC_OFF   offsetof(struct hvcfg_header, crc32)

/* ---- CRC-32 (IEEE 802.3, reflected, as zlib.crc32) ------------------------ */

/* Bitwise: the blob is checked once per boot and is a few hundred bytes, so
 * a 1 KiB table would buy nothing. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len--) {
		crc ^= *p++;
		for (int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1u));
	}
	return crc;
}

uint32_t crc32_ieee(const void *data, size_t len)
{
	return ~crc32_update(~0u, data, len);
}

/* The checksum of the blob with its crc32 field taken as zero. */
static uint32_t blob_crc(const uint8_t *blob, size_t len)
{
	static const uint8_t zero[sizeof(uint32_t)];
	uint32_t crc = ~0u;

	crc = crc32_update(crc, blob, CONFIG_CRC_OFF);
	crc = crc32_update(crc, zero, sizeof(zero));
	crc = crc32_update(crc, blob + CONFIG_CRC_OFF + sizeof(zero),
			   len - CONFIG_CRC_OFF - sizeof(zero));
	return ~crc;
}

/* ---- header ------------------------------------------------------------- */

/* True when [off, off + size) lies inside a blob of len bytes. */
static bool range_inside(uint64_t off, uint64_t size, size_t len)
{
	return off <= len && size <= len - off;
}

static int check_envelope(const uint8_t *blob, size_t len, struct hvcfg_header *hdr)
{
	if (!blob || len < sizeof(*hdr)) {
		pr_err("config: blob too short (%zu bytes, the header alone is %zu)\n",
		       len, sizeof(*hdr));
		return trace_error(-EINVAL);
	}
	memcpy(hdr, blob, sizeof(*hdr));
	if (memcmp(hdr->magic, HVCFG_MAGIC, sizeof(hdr->magic))) {
		pr_err("config: bad magic (not a configuration blob)\n");
		return trace_error(-EINVAL);
	}
	if (hdr->version >= 1 && hdr->version < HVCFG_VERSION) {
		pr_err("config: blob version %u, this hypervisor reads version %u: "
		       "recompile it with scripts/hvconfig\n", hdr->version, HVCFG_VERSION);
		return trace_error(-EINVAL);
	}
	if (hdr->version != HVCFG_VERSION) {
		pr_err("config: unsupported version %u (this hypervisor reads version %u)\n",
		       hdr->version, HVCFG_VERSION);
		return trace_error(-EINVAL);
	}
	if (hdr->total_size != len) {
		pr_err("config: size mismatch (header says %u bytes, blob is %zu)\n",
		       hdr->total_size, len);
		return trace_error(-EINVAL);
	}
	if (len > HVCFG_MAX_SIZE) {
		pr_err("config: blob too large (%zu bytes, at most %u)\n", len, HVCFG_MAX_SIZE);
		return trace_error(-EINVAL);
	}
	uint32_t crc = blob_crc(blob, len);
	if (hdr->crc32 != crc) {
		pr_err("config: bad checksum (blob 0x%08x, computed 0x%08x)\n", hdr->crc32, crc);
		return trace_error(-EBADMSG);
	}
	return 0;
}

static int check_header(const struct hvcfg_header *hdr, size_t len)
{
	if (hdr->flags & ~HVCFG_HEADER_FLAGS) {
		pr_err("config: header flags 0x%x: bits 0x%x not supported (0x1 shell off, "
		       "0x2 terminal tagged)\n", hdr->flags, hdr->flags & ~HVCFG_HEADER_FLAGS);
		return trace_error(-EINVAL);
	}
	if (hdr->on_idle > HVCFG_ON_IDLE_HALT) {
		pr_err("config: on_idle %u out of range (0 poweroff, 1 halt)\n", hdr->on_idle);
		return trace_error(-EINVAL);
	}
	if (hdr->ndomains < 1 || hdr->ndomains > CONFIG_MAX_DOMAINS) {
		pr_err("config: %u domains (must be 1..%u)\n", hdr->ndomains, CONFIG_MAX_DOMAINS);
		return trace_error(-EINVAL);
	}
	if (hdr->domain_size != sizeof(struct hvcfg_domain)) {
		pr_err("config: domain record size %u (this hypervisor reads %zu)\n",
		       hdr->domain_size, sizeof(struct hvcfg_domain));
		return trace_error(-EINVAL);
	}
	/* Neither array may overlap the header it was described by. */
	if (hdr->domains_off < sizeof(*hdr) ||
	    !range_inside(hdr->domains_off, (uint64_t)hdr->ndomains * hdr->domain_size, len)) {
		pr_err("config: domain array (%u x %u bytes at 0x%x) outside the %zu-byte blob\n",
		       hdr->ndomains, hdr->domain_size, hdr->domains_off, len);
		return trace_error(-EINVAL);
	}
	if (hdr->strings_off < sizeof(*hdr) ||
	    !range_inside(hdr->strings_off, hdr->strings_size, len)) {
		pr_err("config: string table (%u bytes at 0x%x) outside the %zu-byte blob\n",
		       hdr->strings_size, hdr->strings_off, len);
		return trace_error(-EINVAL);
	}
	return 0;
}

/* ---- domains ------------------------------------------------------------ */

struct string_table {
	const char *base;
	uint32_t size;
};

/* The string at off, or NULL (after the message) if it does not end inside
 * the table. `what` names the field, e.g. "name". */
static const char *table_string(const struct string_table *st, uint32_t off,
				uint32_t index, const char *what)
{
	if (off >= st->size) {
		pr_err("config: domain %u: %s offset 0x%x outside the %u-byte string table\n",
		       index, what, off, st->size);
		return NULL;
	}
	if (strnlen(st->base + off, st->size - off) == st->size - off) {
		pr_err("config: domain %u: %s at 0x%x is not NUL-terminated inside the string table\n",
		       index, what, off);
		return NULL;
	}
	return st->base + off;
}

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int check_name(const char *name, uint32_t index)
{
	size_t n = strlen(name);

	if (n < 1 || n > CONFIG_NAME_MAX) {
		pr_err("config: domain %u: name is %zu characters (must be 1..%u)\n",
		       index, n, CONFIG_NAME_MAX);
		return trace_error(-EINVAL);
	}
	for (size_t i = 0; i < n; i++) {
		if (!name_char_ok(name[i])) {
			/* Printed as a number: it may be a control character. */
			pr_err("config: domain %u: name has character 0x%02x at %zu (allowed: a-z 0-9 _ -)\n",
			       index, (unsigned char)name[i], i);
			return trace_error(-EINVAL);
		}
	}
	return 0;
}

/* Strings of domain `index`: present, terminated, of allowed lengths. */
static int read_strings(const struct string_table *st, const struct hvcfg_domain *raw,
			uint32_t index, struct domain_config *dom)
{
	dom->name = table_string(st, raw->name, index, "name");
	if (!dom->name)
		return trace_error(-EINVAL);
	int err = check_name(dom->name, index);
	if (err)
		return err;
	/* One at a time: a refusal is one line, even when both are bad. */
	dom->kernel = table_string(st, raw->kernel, index, "kernel");
	if (!dom->kernel)
		return trace_error(-EINVAL);
	dom->kernel_path = table_string(st, raw->kernel_path, index, "kernel path");
	if (!dom->kernel_path)
		return trace_error(-EINVAL);
	dom->cmdline = table_string(st, raw->cmdline, index, "cmdline");
	if (!dom->cmdline)
		return trace_error(-EINVAL);
	size_t n = strlen(dom->kernel);
	if (n < 1 || n > CONFIG_MODULE_MAX - 1) {
		pr_err("config: domain %u (\"%s\"): kernel module name is %zu characters (must be 1..%u)\n",
		       index, dom->name, n, CONFIG_MODULE_MAX - 1);
		return trace_error(-EINVAL);
	}
	/* Whether the path has to be one word, and the path and the cmdline
	 * together fit a command line, depends on the image (only a multiboot
	 * kernel gets the path): the loader checks that. */
	n = strlen(dom->kernel_path);
	if (n < 1 || n > CONFIG_CMDLINE_MAX - 1) {
		pr_err("config: domain %u (\"%s\"): kernel path is %zu bytes (must be 1..%u)\n",
		       index, dom->name, n, CONFIG_CMDLINE_MAX - 1);
		return trace_error(-EINVAL);
	}
	n = strlen(dom->cmdline);
	if (n > CONFIG_CMDLINE_MAX - 1) {
		pr_err("config: domain %u (\"%s\"): cmdline is %zu bytes (at most %u)\n",
		       index, dom->name, n, CONFIG_CMDLINE_MAX - 1);
		return trace_error(-EINVAL);
	}
	return 0;
}

static int check_resources(const struct hvcfg_domain *raw, uint32_t index, const char *name)
{
	if (raw->flags & ~HVCFG_DOMAIN_FLAGS) {
		pr_err("config: domain %u (\"%s\"): flags 0x%x: bits 0x%x not supported "
		       "(0x1 no autostart)\n", index, name, raw->flags,
		       raw->flags & ~HVCFG_DOMAIN_FLAGS);
		return trace_error(-EINVAL);
	}
	if (raw->console_log < CONFIG_CONSOLE_LOG_MIN || raw->console_log > CONFIG_CONSOLE_LOG_MAX ||
	    raw->console_log % CONFIG_PAGE_SIZE) {
		pr_err("config: domain %u (\"%s\"): console_log %u bytes invalid (4 KiB..16 MiB, "
		       "a multiple of 4 KiB)\n", index, name, raw->console_log);
		return trace_error(-EINVAL);
	}
	if (!raw->cpus) {
		pr_err("config: domain %u (\"%s\"): no CPUs\n", index, name);
		return trace_error(-EINVAL);
	}
	if (!raw->memory || raw->memory % CONFIG_PAGE_SIZE) {
		pr_err("config: domain %u (\"%s\"): memory 0x%llx is not a non-zero multiple of 4 KiB\n",
		       index, name, (unsigned long long)raw->memory);
		return trace_error(-EINVAL);
	}
	if (raw->memory > CONFIG_PHYS_LIMIT) {
		pr_err("config: domain %u (\"%s\"): memory 0x%llx is larger than the 52-bit "
		       "physical address space\n", index, name, (unsigned long long)raw->memory);
		return trace_error(-EINVAL);
	}
	if (raw->on_crash > HVCFG_ON_CRASH_RESTART) {
		pr_err("config: domain %u (\"%s\"): on_crash %u out of range (0 stop, 1 restart)\n",
		       index, name, raw->on_crash);
		return trace_error(-EINVAL);
	}
	return 0;
}

/* ---- initrd and modules ---------------------------------------------------- */

/* String `what` ("name" or "args") of module k of domain `index`, or NULL
 * (after the message) if it does not end inside the table. */
static const char *module_string(const struct string_table *st, uint32_t off, uint32_t index,
				 const char *name, uint32_t k, const char *what)
{
	if (off >= st->size) {
		pr_err("config: domain %u (\"%s\"): module %u: %s offset 0x%x outside the %u-byte "
		       "string table\n", index, name, k, what, off, st->size);
		return NULL;
	}
	if (strnlen(st->base + off, st->size - off) == st->size - off) {
		pr_err("config: domain %u (\"%s\"): module %u: %s at 0x%x is not NUL-terminated "
		       "inside the string table\n", index, name, k, what, off);
		return NULL;
	}
	return st->base + off;
}

/* The initrd's module name (offset 0: none) and the module array: inside
 * the blob, at most CONFIG_MAX_MODULES, every string terminated inside the
 * table, names 1..CONFIG_MODULE_MAX-1 characters, args shorter than
 * CONFIG_MODULE_ARGS_MAX. Fills dom->initrd and dom->modules (dom->name is
 * set already). */
static int read_modules(const uint8_t *blob, size_t len, const struct string_table *st,
			const struct hvcfg_domain *raw, uint32_t index, struct domain_config *dom)
{
	const char *name = dom->name;
	size_t n;

	if (raw->initrd) {
		dom->initrd = table_string(st, raw->initrd, index, "initrd");
		if (!dom->initrd)
			return trace_error(-EINVAL);
		n = strlen(dom->initrd);
		if (n < 1 || n > CONFIG_MODULE_MAX - 1) {
			pr_err("config: domain %u (\"%s\"): initrd module name is %zu characters "
			       "(must be 1..%u)\n", index, name, n, CONFIG_MODULE_MAX - 1);
			return trace_error(-EINVAL);
		}
	}
	if (raw->nmodules == 0) {
		if (raw->modules_off) {
			pr_err("config: domain %u (\"%s\"): modules offset 0x%x without modules "
			       "(must be 0)\n", index, name, raw->modules_off);
			return trace_error(-EINVAL);
		}
		return 0;
	}
	if (raw->nmodules > CONFIG_MAX_MODULES) {
		pr_err("config: domain %u (\"%s\"): %u modules (at most %u)\n",
		       index, name, raw->nmodules, CONFIG_MAX_MODULES);
		return trace_error(-EINVAL);
	}
	if (raw->modules_off < sizeof(struct hvcfg_header) ||
	    !range_inside(raw->modules_off, (uint64_t)raw->nmodules * sizeof(struct hvcfg_module),
			  len)) {
		pr_err("config: domain %u (\"%s\"): module array (%u x %zu bytes at 0x%x) "
		       "outside the %zu-byte blob\n", index, name, raw->nmodules,
		       sizeof(struct hvcfg_module), raw->modules_off, len);
		return trace_error(-EINVAL);
	}
	for (uint32_t k = 0; k < raw->nmodules; k++) {
		struct hvcfg_module rm;

		memcpy(&rm, blob + raw->modules_off + (size_t)k * sizeof(rm), sizeof(rm));
		const char *mname = module_string(st, rm.name, index, name, k, "name");
		if (!mname)
			return trace_error(-EINVAL);
		const char *args = module_string(st, rm.args, index, name, k, "args");
		if (!args)
			return trace_error(-EINVAL);
		n = strlen(mname);
		if (n < 1 || n > CONFIG_MODULE_MAX - 1) {
			pr_err("config: domain %u (\"%s\"): module %u: name is %zu characters "
			       "(must be 1..%u)\n", index, name, k, n, CONFIG_MODULE_MAX - 1);
			return trace_error(-EINVAL);
		}
		n = strlen(args);
		if (n > CONFIG_MODULE_ARGS_MAX - 1) {
			pr_err("config: domain %u (\"%s\"): module %u: args are %zu bytes "
			       "(at most %u)\n", index, name, k, n, CONFIG_MODULE_ARGS_MAX - 1);
			return trace_error(-EINVAL);
		}
		dom->modules[k].name = mname;
		dom->modules[k].args = args;
	}
	dom->nmodules = raw->nmodules;
	return 0;
}

/* ---- PCI devices ---------------------------------------------------------- */

/*
 * The PCI functions of domain `index`: the array inside the blob and
 * 8-aligned (as hvconfig lays it out), at most CONFIG_MAX_DEVICES,
 * reserved fields 0, no function twice. Every segment, bus and devfn value
 * names a function (PCIe base spec 7.2.2: 8-bit bus, 5-bit device, 3-bit
 * function); whether it exists is the boot-time check's business, and so
 * is a function two domains claim: that refuses the later domain alone,
 * not the whole configuration. Copies them into dom->devices (dom->name is
 * set already).
 */
static int read_devices(const uint8_t *blob, size_t len, const struct hvcfg_domain *raw,
			uint32_t index, struct domain_config *dom)
{
	const char *name = dom->name;
	char text[16];

	if (raw->ndevices == 0) {
		if (raw->devices_off) {
			pr_err("config: domain %u (\"%s\"): devices offset 0x%x without devices "
			       "(must be 0)\n", index, name, raw->devices_off);
			return trace_error(-EINVAL);
		}
		return 0;
	}
	if (raw->ndevices > CONFIG_MAX_DEVICES) {
		pr_err("config: domain %u (\"%s\"): %u devices (at most %u)\n",
		       index, name, raw->ndevices, CONFIG_MAX_DEVICES);
		return trace_error(-EINVAL);
	}
	if (raw->devices_off < sizeof(struct hvcfg_header) ||
	    !range_inside(raw->devices_off, (uint64_t)raw->ndevices * sizeof(struct hvcfg_device),
			  len)) {
		pr_err("config: domain %u (\"%s\"): device array (%u x %zu bytes at 0x%x) "
		       "outside the %zu-byte blob\n", index, name, raw->ndevices,
		       sizeof(struct hvcfg_device), raw->devices_off, len);
		return trace_error(-EINVAL);
	}
	if (raw->devices_off % 8) {
		pr_err("config: domain %u (\"%s\"): device array at 0x%x is not 8-byte aligned\n",
		       index, name, raw->devices_off);
		return trace_error(-EINVAL);
	}
	for (uint32_t k = 0; k < raw->ndevices; k++) {
		struct hvcfg_device rd;
		struct config_device *d = &dom->devices[k];

		memcpy(&rd, blob + raw->devices_off + (size_t)k * sizeof(rd), sizeof(rd));
		d->segment = rd.segment;
		d->bus = rd.bus;
		d->devfn = rd.devfn;
		if (rd.reserved) {
			pr_err("config: domain %u (\"%s\"): device %u (%s): reserved field 0x%x "
			       "(must be 0)\n", index, name, k, pci_bdf_str(d->segment, d->bus, d->devfn, text), rd.reserved);
			return trace_error(-EINVAL);
		}
		for (uint32_t j = 0; j < k; j++) {
			const struct config_device *o = &dom->devices[j];
			if (o->segment == d->segment && o->bus == d->bus && o->devfn == d->devfn) {
				pr_err("config: domain %u (\"%s\"): devices %u and %u are both %s\n",
				       index, name, j, k, pci_bdf_str(d->segment, d->bus, d->devfn, text));
				return trace_error(-EINVAL);
			}
		}
	}
	dom->ndevices = raw->ndevices;
	return 0;
}

/* ---- memory ranges -------------------------------------------------------- */

static unsigned long long range_end(const struct config_range *r)
{
	return (unsigned long long)(r->base + r->size);
}

static bool ranges_overlap(const struct config_range *a, const struct config_range *b)
{
	return a->base < b->base + b->size && b->base < a->base + a->size;
}

/* One range, alone: page aligned, non-empty, no wrap, below 2^52. */
static int check_range(const struct config_range *r, uint32_t index, const char *name,
		       uint32_t k)
{
	unsigned long long base = r->base, size = r->size;

	if (!size) {
		pr_err("config: domain %u (\"%s\"): memory range %u at 0x%llx is empty\n",
		       index, name, k, base);
		return trace_error(-EINVAL);
	}
	if ((base | size) % CONFIG_PAGE_SIZE) {
		pr_err("config: domain %u (\"%s\"): memory range %u (0x%llx+0x%llx) is not "
		       "4 KiB aligned\n", index, name, k, base, size);
		return trace_error(-EINVAL);
	}
	if (size > CONFIG_PHYS_LIMIT || base > CONFIG_PHYS_LIMIT - size) {
		pr_err("config: domain %u (\"%s\"): memory range %u (0x%llx+0x%llx) ends above "
		       "the 52-bit physical address space\n", index, name, k, base, size);
		return trace_error(-EINVAL);
	}
	return 0;
}

/*
 * The explicit ranges of domain `index`: the array inside the blob, each
 * range sound, no two of them overlapping, their total equal to `memory`.
 * Copies them into dom->ranges (dom->name is set already).
 */
static int read_ranges(const uint8_t *blob, size_t len, const struct hvcfg_domain *raw,
		       uint32_t index, struct domain_config *dom)
{
	const char *name = dom->name;

	if (raw->nranges == 0) {
		if (raw->ranges_off) {
			pr_err("config: domain %u (\"%s\"): ranges offset 0x%x without ranges "
			       "(must be 0)\n", index, name, raw->ranges_off);
			return trace_error(-EINVAL);
		}
		return 0;
	}
	if (raw->nranges > CONFIG_MAX_RANGES) {
		pr_err("config: domain %u (\"%s\"): %u memory ranges (at most %u)\n",
		       index, name, raw->nranges, CONFIG_MAX_RANGES);
		return trace_error(-EINVAL);
	}
	if (raw->ranges_off < sizeof(struct hvcfg_header) ||
	    !range_inside(raw->ranges_off, (uint64_t)raw->nranges * sizeof(struct hvcfg_range),
			  len)) {
		pr_err("config: domain %u (\"%s\"): memory range array (%u x %zu bytes at 0x%x) "
		       "outside the %zu-byte blob\n", index, name, raw->nranges,
		       sizeof(struct hvcfg_range), raw->ranges_off, len);
		return trace_error(-EINVAL);
	}
	uint64_t total = 0;
	for (uint32_t k = 0; k < raw->nranges; k++) {
		struct hvcfg_range rr;
		struct config_range *r = &dom->ranges[k];

		memcpy(&rr, blob + raw->ranges_off + (size_t)k * sizeof(rr), sizeof(rr));
		r->base = rr.base;
		r->size = rr.size;
		int err = check_range(r, index, name, k);
		if (err)
			return err;
		for (uint32_t j = 0; j < k; j++) {
			const struct config_range *o = &dom->ranges[j];
			if (ranges_overlap(o, r)) {
				pr_err("config: domain %u (\"%s\"): memory ranges %u (0x%llx-0x%llx) "
				       "and %u (0x%llx-0x%llx) overlap\n", index, name,
				       j, (unsigned long long)o->base, range_end(o),
				       k, (unsigned long long)r->base, range_end(r));
				return trace_error(-EINVAL);
			}
		}
		total += r->size;	/* disjoint and below 2^52: no overflow */
	}
	if (total != raw->memory) {
		pr_err("config: domain %u (\"%s\"): memory 0x%llx is not the total of its "
		       "ranges (0x%llx)\n", index, name, (unsigned long long)raw->memory,
		       (unsigned long long)total);
		return trace_error(-EINVAL);
	}
	dom->nranges = raw->nranges;
	return 0;
}

/* Names unique, CPUs and ranges exclusive: domain `index` against the ones
 * before it. */
static int check_against_earlier(const struct hv_config *cfg, uint32_t index)
{
	const struct domain_config *dom = &cfg->domains[index];

	for (uint32_t i = 0; i < index; i++) {
		const struct domain_config *other = &cfg->domains[i];
		if (!strcmp(dom->name, other->name)) {
			pr_err("config: domain %u (\"%s\"): name already used by domain %u\n",
			       index, dom->name, i);
			return trace_error(-EEXIST);
		}
		uint64_t both = dom->cpus & other->cpus;
		if (both) {
			pr_err("config: domain %u (\"%s\"): CPU %d is also in domain \"%s\"\n",
			       index, dom->name, __builtin_ctzll(both), other->name);
			return trace_error(-EBUSY);
		}
		for (uint32_t k = 0; k < dom->nranges; k++) {
			const struct config_range *r = &dom->ranges[k];
			for (uint32_t j = 0; j < other->nranges; j++) {
				const struct config_range *o = &other->ranges[j];
				if (!ranges_overlap(r, o))
					continue;
				pr_err("config: domain %u (\"%s\"): memory range %u (0x%llx-0x%llx) "
				       "overlaps domain \"%s\"'s 0x%llx-0x%llx\n", index, dom->name,
				       k, (unsigned long long)r->base, range_end(r), other->name,
				       (unsigned long long)o->base, range_end(o));
				return trace_error(-EBUSY);
			}
		}
	}
	return 0;
}

static int parse_domains(const uint8_t *blob, size_t len, const struct hvcfg_header *hdr,
			 struct hv_config *out)
{
	const struct string_table st = {
		.base = (const char *)blob + hdr->strings_off,
		.size = hdr->strings_size,
	};

	for (uint32_t i = 0; i < hdr->ndomains; i++) {
		struct hvcfg_domain raw;
		struct domain_config *dom = &out->domains[i];

		memcpy(&raw, blob + hdr->domains_off + (size_t)i * sizeof(raw), sizeof(raw));
		int err = read_strings(&st, &raw, i, dom);
		if (!err)
			err = check_resources(&raw, i, dom->name);
		if (!err)
			err = read_ranges(blob, len, &raw, i, dom);
		if (!err)
			err = read_modules(blob, len, &st, &raw, i, dom);
		if (!err)
			err = read_devices(blob, len, &raw, i, dom);
		if (err)
			return err;
		dom->cpus = raw.cpus;
		dom->memory = raw.memory;
		dom->on_crash = (enum hvcfg_on_crash)raw.on_crash;
		dom->autostart = !(raw.flags & HVCFG_DOMAIN_NO_AUTOSTART);
		dom->console_log = raw.console_log;
		err = check_against_earlier(out, i);
		if (err)
			return err;
	}
	out->ndomains = hdr->ndomains;
	out->on_idle = (enum hvcfg_on_idle)hdr->on_idle;
	out->shell = !(hdr->flags & HVCFG_SHELL_OFF);
	out->terminal_tagged = (hdr->flags & HVCFG_TERMINAL_TAGGED) != 0;
	return 0;
}

int config_parse(const void *blob, size_t len, struct hv_config *out)
{
	struct hvcfg_header hdr;

	memset(out, 0, sizeof(*out));
	int err = check_envelope(blob, len, &hdr);
	if (!err)
		err = check_header(&hdr, len);
	if (!err)
		err = parse_domains(blob, len, &hdr, out);
	if (err)
		memset(out, 0, sizeof(*out));	/* no half-parsed configuration */
	return err;
}
