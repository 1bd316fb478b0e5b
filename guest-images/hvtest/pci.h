/*
 * hvtest's PCI checks (pci.c): enumeration through configuration
 * mechanism #1 and ECAM, QEMU's edu device behind passthrough (registers,
 * DMA, exit-free BAR reads), DMA aimed outside the domain, a victim
 * pattern for another domain to aim at, and a walk of every bus that
 * must see only the domain's own functions. See README.md for the words.
 */
#ifndef HVTEST_PCI_H
#define HVTEST_PCI_H

#include <stdbool.h>

#include "guest-images/hvtest/hvtest.h"

/* The command line has one of the words pci.c handles: pci, edu=,
 * dma-hostile=, victim-pattern, pci-walk=. */
bool pci_tests_wanted(const char *cmdline);

struct acpi_header {		/* ACPI 6.5 5.2.6, Table 5.4 */
	char signature[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem_id[6], oem_table_id[8];
	uint32_t oem_revision, creator_id, creator_revision;
} __attribute__((packed));

/* The domain's ACPI table `sig` (checksum checked), through its RSDP at
 * 0xe0000-0xfffff; false with the reason in *why. */
bool acpi_find_table(const char *sig, const struct acpi_header **table, struct strbuf *why);

/* Run the checks those words ask for (after boot-magic, instead of the
 * default checks 2-7). */
void pci_tests_run(const struct boot_info *bi);

#endif
