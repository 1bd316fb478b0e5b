/* TEMPORARY until the unit drivers land (removed at their merge). */
#include "drivers/iommu/iommu.h"
#include "kernel/errno.h"
static int stub_init(const struct acpi_info *acpi) { (void)acpi; return -ENOSYS; }
const struct iommu_ops vtd_ops = { .name = "VT-d", .init = stub_init };
