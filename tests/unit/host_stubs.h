/*
 * Host stand-ins for the kernel services that the pure-logic modules call
 * (printk, trace_error_at). Everything printed is captured so tests can
 * assert on the exact message a user would see.
 */
#ifndef TESTS_UNIT_HOST_STUBS_H
#define TESTS_UNIT_HOST_STUBS_H

#include <stddef.h>

/* Everything printk printed since the last clear, with the "hv: " prefix. */
const char *test_log(void);
void test_log_clear(void);
/* Non-zero when the captured log contains `needle`. */
int test_log_has(const char *needle);

/* Read a whole file into malloc'd memory; aborts the test on failure. */
void *test_read_file(const char *path, size_t *len);

#endif
