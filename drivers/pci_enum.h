/*
 * PCI enumeration as pure logic: everything it knows of the hardware comes
 * through struct pci_cfg_ops, so the host unit tests run it on fake buses.
 * drivers/pci.c gives it ECAM or configuration mechanism #1.
 */
#ifndef DRIVERS_PCI_ENUM_H
#define DRIVERS_PCI_ENUM_H

#include "drivers/pci.h"

struct pci_cfg_ops {
	/* Reads all ones where no function answers. */
	uint32_t (*read)(void *ctx, uint16_t seg, uint8_t bus, uint8_t devfn, unsigned off,
			 unsigned size);
	void (*write)(void *ctx, uint16_t seg, uint8_t bus, uint8_t devfn, unsigned off,
		      unsigned size, uint32_t val);
	void *ctx;
};

/*
 * Scan bus_start of segment seg and every bus behind its bridges (up to
 * bus_end), appending the functions found to funcs[*n..max). For each:
 * identity, class, header type, BARs (sized with decoding off, then
 * restored), capabilities (PM, MSI, MSI-X, PCIe with its type and FLR,
 * SR-IOV), bridge bus numbers, the requester ID the IOMMU sees, and the
 * bridge above it. 0, -EINVAL (bus_start > bus_end) or -ENOSPC (more than
 * max: the first max are kept).
 */
int pci_enumerate(const struct pci_cfg_ops *ops, uint16_t seg, uint8_t bus_start, uint8_t bus_end,
		  struct pci_func *funcs, uint32_t max, uint32_t *n);

#endif
