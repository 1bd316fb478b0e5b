/* Host stand-ins for printk and trace_error_at; see host_stubs.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/errno.h"
#include "kernel/printk.h"
#include "tests/unit/host_stubs.h"

static char log_buf[1 << 16];
static size_t log_len;

void vprintk(enum log_level level, const char *fmt, va_list ap)
{
	char line[1024];
	(void)level;
	vsnprintf(line, sizeof(line), fmt, ap);
	int n = snprintf(log_buf + log_len, sizeof(log_buf) - log_len, "hv: %s", line);
	if (n > 0 && (size_t)n < sizeof(log_buf) - log_len)
		log_len += (size_t)n;
	if (getenv("TEST_VERBOSE"))
		fprintf(stderr, "hv: %s", line);
}

void printk(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(level, fmt, ap);
	va_end(ap);
}

int trace_error_at(const char *file, int line, int code)
{
	if (getenv("TEST_VERBOSE"))
		fprintf(stderr, "trace: %s:%d: %d\n", file, line, code);
	return code;
}

const char *test_log(void) { return log_buf; }

void test_log_clear(void)
{
	log_len = 0;
	log_buf[0] = '\0';
}

int test_log_has(const char *needle) { return strstr(log_buf, needle) != NULL; }

void *test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open fixture %s\n", path);
		abort();
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	void *p = malloc(n > 0 ? (size_t)n : 1);
	if (!p || fread(p, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "cannot read fixture %s\n", path);
		abort();
	}
	fclose(f);
	*len = (size_t)n;
	return p;
}
