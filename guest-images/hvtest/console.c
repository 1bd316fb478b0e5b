/*
 * Console output on COM1 and a printf subset (%s %c %d %u %x, with a zero
 * pad and width; "ll" for 64-bit %x). No 64-bit division: libgcc is not
 * linked, so 64-bit values are printed in hex only.
 */
#include "guest-images/hvtest/hvtest.h"
#include "guest-images/hvtest/io.h"

#define COM1_THR      0x3f8
#define COM1_LSR      0x3fd
#define LSR_THR_EMPTY 0x20
#define LINE_MAX      320

/* The compiler may emit calls to these even with -ffreestanding. */
void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

static void sb_putc(struct strbuf *sb, char c)
{
	if (sb->len + 1 < sb->cap)
		sb->buf[sb->len++] = c;
	sb->buf[sb->len] = '\0';
}

static void sb_puts(struct strbuf *sb, const char *s)
{
	while (*s)
		sb_putc(sb, *s++);
}

/* Digits of v in base 10 or 16, at least `width` of them (pad '0' or ' '). */
static void sb_number(struct strbuf *sb, uint64_t v, unsigned base, unsigned width, char pad)
{
	char tmp[24];
	unsigned n = 0;

	do {
		unsigned digit;
		if (base == 16) {
			digit = v & 0xf;
			v >>= 4;
		} else {	/* only reached with 32-bit values: no __udivdi3 */
			uint32_t w = (uint32_t)v;
			digit = w % 10;
			v = w / 10;
		}
		tmp[n++] = "0123456789abcdef"[digit];
	} while (v && n < sizeof(tmp));
	while (n < width && n < sizeof(tmp))
		tmp[n++] = pad;
	while (n)
		sb_putc(sb, tmp[--n]);
}

void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			sb_putc(sb, *fmt);
			continue;
		}
		char pad = ' ';
		unsigned width = 0;
		bool is_long = false;
		if (*++fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		while (*fmt == 'l') {
			is_long = true;
			fmt++;
		}
		switch (*fmt) {
		case 's': sb_puts(sb, va_arg(ap, const char *)); break;
		case 'c': sb_putc(sb, (char)va_arg(ap, int)); break;
		case 'u': sb_number(sb, va_arg(ap, unsigned), 10, width, pad); break;
		case 'd': {
			int v = va_arg(ap, int);
			if (v < 0)
				sb_putc(sb, '-');
			sb_number(sb, v < 0 ? 0u - (unsigned)v : (unsigned)v, 10, width, pad);
			break;
		}
		case 'x':
			sb_number(sb, is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned),
				  16, width, pad);
			break;
		case '%': sb_putc(sb, '%'); break;
		case '\0': return;
		default: sb_putc(sb, '?'); break;
		}
	}
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(sb, fmt, ap);
	va_end(ap);
}

/*
 * Wait for THR empty (16550 LSR bit 5), but not forever: an unowned port
 * reads as 0xff (bit set), and a stuck UART must not hang the checks.
 */
static void con_putc(char c)
{
	for (unsigned spins = 0; spins < 1000000; spins++)
		if (inb(COM1_LSR) & LSR_THR_EMPTY)
			break;
	outb(COM1_THR, (uint8_t)c);
}

void con_write(const char *s, size_t len)
{
	while (len--)
		con_putc(*s++);
}

void con_printf(const char *fmt, ...)
{
	char mem[LINE_MAX];
	struct strbuf sb = STRBUF_INIT(mem);
	va_list ap;

	mem[0] = '\0';
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	if (sb.len == sb.cap - 1)	/* truncated: still end the line */
		mem[sb.len - 1] = '\n';
	con_write(sb.buf, sb.len);
}
