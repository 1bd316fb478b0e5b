/* TEMPORARY until the AMD-Vi driver lands (removed at its merge). */
#include "drivers/iommu/iommu.h"
#include "kernel/errno.h"
static int stub_init(const struct acpi_info *acpi) { (void)acpi; return -ENOSYS; }
const struct iommu_ops amdvi_ops = { .name = "AMD-Vi", .init = stub_init };
