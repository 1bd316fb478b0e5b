/*
 * The hypervisor's command line: space-separated `key` or `key=value`
 * words (a value may be double-quoted to hold spaces).
 */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Copy the value of the last `key=value` word into buf (NUL-terminated,
 * truncated to size - 1). Returns true when the key is present (a bare
 * `key` gives an empty value).
 */
bool cmdline_get(const char *cmdline, const char *key, char *buf, size_t size);

#endif
