/* Command-line lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kernel/cmdline.h"

static void test_values(void **state)
{
	char v[32];
	(void)state;
	assert_true(cmdline_get("loglevel=4 hv.selftest=ud", "loglevel", v, sizeof(v)));
	assert_string_equal(v, "4");
	assert_true(cmdline_get("loglevel=4 hv.selftest=ud", "hv.selftest", v, sizeof(v)));
	assert_string_equal(v, "ud");
	assert_true(cmdline_get("  \tquiet  ", "quiet", v, sizeof(v)));
	assert_string_equal(v, "");
}

static void test_absent_and_prefixes(void **state)
{
	char v[32];
	(void)state;
	assert_false(cmdline_get("", "a", v, sizeof(v)));
	assert_string_equal(v, "");
	assert_false(cmdline_get("loglevelx=3 xloglevel=3", "loglevel", v, sizeof(v)));
	assert_false(cmdline_get("log=3", "loglevel", v, sizeof(v)));
}

static void test_last_wins_quotes_truncation(void **state)
{
	char v[6];
	(void)state;
	assert_true(cmdline_get("a=1 a=2", "a", v, sizeof(v)));
	assert_string_equal(v, "2");
	assert_true(cmdline_get("name=\"a b\" x=1", "name", v, sizeof(v)));
	assert_string_equal(v, "a b");
	assert_true(cmdline_get("k=0123456789", "k", v, sizeof(v)));
	assert_string_equal(v, "01234");
	assert_true(cmdline_get("k=\"unterminated", "k", v, sizeof(v)));
	assert_string_equal(v, "unter");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_absent_and_prefixes),
		cmocka_unit_test(test_last_wins_quotes_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
