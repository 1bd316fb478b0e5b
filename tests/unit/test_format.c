/* hv_vsnprintf against the C library's snprintf, conversion by conversion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/printk.h"

#define SAME(...)                                                            \
	do {                                                                 \
		char ours[128], theirs[128];                                 \
		int a = hv_snprintf(ours, sizeof(ours), __VA_ARGS__);        \
		int b = snprintf(theirs, sizeof(theirs), __VA_ARGS__);       \
		assert_string_equal(ours, theirs);                           \
		assert_int_equal(a, b);                                      \
	} while (0)

static void test_integers(void **state)
{
	(void)state;
	SAME("%d %i %u", -42, 7, 42u);
	SAME("%x %X %o", 0xbeefu, 0xbeefu, 8u);
	SAME("%lld %llu %llx", (long long)INT64_MIN, (unsigned long long)UINT64_MAX,
	     0x123456789abcdefull);
	SAME("%ld %lu %zu", -1L, 123456789UL, (size_t)99);
	SAME("%hhu %hd %hhx", (unsigned char)200, (short)-7000, (unsigned char)0xff);
	SAME("%d %u %x", 0, 0u, 0u);
	SAME("%d", INT32_MIN);
}

static void test_width_and_flags(void **state)
{
	(void)state;
	SAME("[%5d] [%-5d] [%05d]", 42, 42, 42);
	SAME("[%016llx] [%08x] [%#x] [%#010x]", 0xabcull, 0x1234u, 0xffu, 0xffu);
	SAME("[%+d] [% d] [%+d]", 5, 5, -5);
	SAME("[%.3d] [%8.3d] [%.0d]", 7, 7, 0);
	SAME("[%*d] [%-*d]", 6, 1, 6, 1);
	SAME("[%05d]", -42);
}

static void test_strings_and_chars(void **state)
{
	(void)state;
	SAME("[%s] [%10s] [%-10s] [%.2s]", "abc", "abc", "abc", "abc");
	SAME("[%c%c] [%3c]", 'h', 'v', 'x');
	SAME("100%% done");
}

static void test_pointer(void **state)
{
	char ours[64];
	(void)state;
	hv_snprintf(ours, sizeof(ours), "%p", (void *)0x1000);
	assert_string_equal(ours, "0x1000");
}

static void test_truncation(void **state)
{
	char buf[8];
	(void)state;
	memset(buf, 'X', sizeof(buf));
	int n = hv_snprintf(buf, sizeof(buf), "hello %s", "world");
	assert_int_equal(n, 11);
	assert_string_equal(buf, "hello w");
	n = hv_snprintf(buf, 0, "abc");
	assert_int_equal(n, 3);
	assert_int_equal(buf[0], 'h');	/* size 0: nothing written */
}

/* Not format-checked: for inputs the compiler would (rightly) warn about. */
static int unchecked(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = hv_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static void test_odd_formats(void **state)
{
	char buf[32];
	(void)state;
	unchecked(buf, sizeof(buf), "%s", (const char *)NULL);
	assert_string_equal(buf, "(null)");
	unchecked(buf, sizeof(buf), "[%-05d]", 42);
	assert_string_equal(buf, "[42   ]");
	unchecked(buf, sizeof(buf), "%hhu %hd", 300, -70000);	/* narrowed as C says */
	assert_string_equal(buf, "44 -4464");
	unchecked(buf, sizeof(buf), "50%");
	assert_string_equal(buf, "50");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_width_and_flags),
		cmocka_unit_test(test_strings_and_chars),
		cmocka_unit_test(test_pointer),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_odd_formats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
