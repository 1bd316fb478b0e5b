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

/* Run the checks those words ask for (after boot-magic, instead of the
 * default checks 2-7). */
void pci_tests_run(const struct boot_info *bi);

#endif
