/*
 * libFuzzer harness for the DMAR and IVRS parsers (kernel/acpi_dmar.c,
 * kernel/acpi_ivrs.c), through acpi_parse: any table must neither crash
 * nor hit undefined behaviour (ASan, UBSan), nor read outside itself (it
 * sits in an exact-size heap copy that the map callback serves), and what
 * the parser keeps must honour acpi.h: counts within their arrays,
 * nothing kept when present is false, register bases aligned, scope paths
 * of 1..ACPI_SCOPE_PATH valid hops, IVHD types 0x10/0x11/0x40 with one
 * entry per IOMMU, device ranges and memory ranges the right way round.
 *
 * Input: a control byte, then a whole table, header included (so
 * tests/fixtures/acpi/q35-{intel,amd}-iommu/...-{DMAR,IVRS}.bin are
 * seeds). Control bit 0 clear: the harness sets Length and checksum, so
 * the parser proper sees every input; set: they stay as given. The
 * signature becomes "IVRS" when the input says so or control bit 1 is
 * set, else "DMAR".
 *
 *   build/fuzz/fuzz_acpi_iommu -max_total_time=60
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/acpi.h"
#include "tests/unit/host_stubs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TABLE_PHYS 0x100000u
#define RSDT_PHYS  0x200000u

static const uint8_t *table;
static size_t table_len;
static uint8_t rsdt[40];
static struct acpi_info info;

static void check(int ok)
{
	if (!ok)
		abort();
}

static const void *map(uint64_t phys, size_t len)
{
	if (phys >= TABLE_PHYS && len <= table_len && phys - TABLE_PHYS <= table_len - len)
		return table + (phys - TABLE_PHYS);
	if (phys >= RSDT_PHYS && len <= sizeof(rsdt) && phys - RSDT_PHYS <= sizeof(rsdt) - len)
		return rsdt + (phys - RSDT_PHYS);
	return NULL;
}

static void fix_sum(uint8_t *p, size_t len, size_t at)
{
	uint8_t s = 0;

	p[at] = 0;
	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	p[at] = (uint8_t)(0x100 - s);
}

/* Bus numbers for acpi_dmar_scope_resolve: a bridge at every odd devfn. */
static int secondary_bus(uint16_t seg, uint8_t bus, uint8_t devfn)
{
	(void)seg;
	return (devfn & 1) ? (uint8_t)(bus + devfn) : -1;
}

static void check_scope(const struct acpi_dmar_scope *s)
{
	uint8_t bus, devfn;

	check(s->type >= ACPI_SCOPE_ENDPOINT && s->type <= ACPI_SCOPE_NAMESPACE);
	check(s->npath >= 1 && s->npath <= ACPI_SCOPE_PATH);
	for (uint32_t i = 0; i < s->npath; i++)
		check(s->path[i].dev < 32 && s->path[i].fn < 8);
	if (acpi_dmar_scope_resolve(s, 0, secondary_bus, &bus, &devfn))
		check(devfn == (uint8_t)(s->path[s->npath - 1].dev << 3 | s->path[s->npath - 1].fn));
}

static void check_dmar(const struct acpi_dmar *d)
{
	if (!d->present) {
		check(d->ndrhd == 0 && d->nrmrr == 0);
		return;
	}
	check(d->ndrhd >= 1 && d->ndrhd <= ACPI_MAX_IOMMUS);
	check(d->nrmrr <= ACPI_MAX_RESV);
	check(d->haw >= 1 && d->haw <= 64);
	for (uint32_t i = 0; i < d->ndrhd; i++) {
		const struct acpi_drhd *u = &d->drhd[i];

		check(u->base != 0 && (u->base & 0xfff) == 0);
		check(u->nscopes <= ACPI_MAX_SCOPES);
		for (uint32_t j = 0; j < u->nscopes; j++)
			check_scope(&u->scopes[j]);
	}
	for (uint32_t i = 0; i < d->nrmrr; i++) {
		const struct acpi_rmrr *m = &d->rmrr[i];

		check((m->base & 0xfff) == 0 && (m->end & 0xfff) == 0 && m->base < m->end);
		check(m->nscopes <= ACPI_MAX_SCOPES);
		for (uint32_t j = 0; j < m->nscopes; j++)
			check_scope(&m->scopes[j]);
	}
}

static void check_ivrs(const struct acpi_ivrs *v)
{
	if (!v->present) {
		check(v->nivhd == 0 && v->nivmd == 0);
		return;
	}
	check(v->nivhd >= 1 && v->nivhd <= ACPI_MAX_IOMMUS);
	check(v->nivmd <= ACPI_MAX_RESV);
	for (uint32_t i = 0; i < v->nivhd; i++) {
		const struct acpi_ivhd *h = &v->ivhd[i];

		check(h->type == 0x10 || h->type == 0x11 || h->type == 0x40);
		check(h->base != 0 && (h->base & 0x3fff) == 0);
		check(h->type != 0x10 || h->efr == 0);
		check(h->nranges <= ACPI_MAX_SCOPES);
		for (uint32_t j = 0; j < i; j++)
			check(v->ivhd[j].devid != h->devid || v->ivhd[j].base != h->base);
		for (uint32_t j = 0; j < h->nranges; j++) {
			const struct acpi_ivhd_range *r = &h->ranges[j];

			check(r->first <= r->last);
			check(r->special == 0 || r->special == ACPI_IVHD_IOAPIC ||
			      r->special == ACPI_IVHD_HPET);
			check(r->special == 0 || r->first == r->last);
		}
	}
	for (uint32_t i = 0; i < v->nivmd; i++) {
		const struct acpi_ivmd *m = &v->ivmd[i];

		check(m->type >= 0x20 && m->type <= 0x22);
		check(m->first <= m->last);
		check((m->base & 0xfff) == 0 && (m->end & 0xfff) == 0 && m->base < m->end);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t rsdp[20] = { 0 };
	uint8_t control, *t;
	bool ivrs;

	if (size < 1)
		return 0;
	control = data[0];
	data++;
	size--;
	if (size > (1u << 16))
		return 0;
	/* At least a header, so the signature can be set. */
	table_len = size < 36 ? 36 : size;
	t = calloc(1, table_len);
	check(t != NULL);
	memcpy(t, data, size);
	ivrs = memcmp(t, "IVRS", 4) == 0 || (control & 2);
	memcpy(t, ivrs ? "IVRS" : "DMAR", 4);
	if (!(control & 1)) {
		uint32_t len = (uint32_t)table_len;

		memcpy(t + 4, &len, 4);
		fix_sum(t, table_len, 9);
	}
	table = t;

	memset(rsdt, 0, sizeof(rsdt));
	memcpy(rsdt, "RSDT", 4);
	rsdt[4] = sizeof(rsdt);
	rsdt[36] = (uint8_t)TABLE_PHYS;
	rsdt[37] = (uint8_t)(TABLE_PHYS >> 8);
	rsdt[38] = (uint8_t)(TABLE_PHYS >> 16);
	fix_sum(rsdt, sizeof(rsdt), 9);
	memcpy(rsdp, "RSD PTR ", 8);
	rsdp[16] = (uint8_t)RSDT_PHYS;
	rsdp[17] = (uint8_t)(RSDT_PHYS >> 8);
	rsdp[18] = (uint8_t)(RSDT_PHYS >> 16);
	fix_sum(rsdp, sizeof(rsdp), 8);

	test_log_clear();
	check(acpi_parse(rsdp, sizeof(rsdp), map, &info) == 0);
	check_dmar(&info.dmar);
	check_ivrs(&info.ivrs);
	check(ivrs ? !info.dmar.present : !info.ivrs.present);
	free(t);
	return 0;
}
