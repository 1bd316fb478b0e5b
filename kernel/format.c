/*
 * hv_vsnprintf: the formatter behind printk. Freestanding, no floating
 * point; the conversions kernel/printk.h lists. Pure, so it is host-tested
 * against the C library's printf.
 */
#include <stdbool.h>
#include <stdint.h>

#include "kernel/printk.h"
#include "kernel/string.h"

struct out {
	char *buf;
	size_t size;
	size_t len;	/* what the whole output needs */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

struct spec {
	bool left;
	bool zero;
	bool alt;
	bool plus;
	bool space;
	int width;
	int precision;	/* -1: none */
};

static void put_str(struct out *o, const char *s, const struct spec *sp)
{
	size_t n = strnlen(s, sp->precision >= 0 ? (size_t)sp->precision : SIZE_MAX);
	int fill = sp->width - (int)n;

	if (!sp->left)
		pad(o, ' ', fill);
	for (size_t i = 0; i < n; i++)
		put(o, s[i]);
	if (sp->left)
		pad(o, ' ', fill);
}

static void put_num(struct out *o, uint64_t v, bool neg, unsigned base, bool upper,
		    const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;
	const char *prefix = "";

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (sp->precision == 0 && n == 1 && tmp[0] == '0')
		n = 0;
	if (neg)
		prefix = "-";
	else if (sp->plus)
		prefix = "+";
	else if (sp->space)
		prefix = " ";
	if (sp->alt && base == 16 && n > 0)
		prefix = upper ? "0X" : "0x";

	int zeros = sp->precision > n ? sp->precision - n : 0;
	int plen = (int)strlen(prefix);
	int fill = sp->width - n - zeros - plen;

	if (sp->zero && !sp->left && sp->precision < 0) {
		zeros += fill > 0 ? fill : 0;
		fill = 0;
	}
	if (!sp->left)
		pad(o, ' ', fill);
	for (int i = 0; i < plen; i++)
		put(o, prefix[i]);
	pad(o, '0', zeros);
	while (n)
		put(o, tmp[--n]);
	if (sp->left)
		pad(o, ' ', fill);
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ .precision = -1 };
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else if (*f == '#')
			sp->alt = true;
		else if (*f == '+')
			sp->plus = true;
		else if (*f == ' ')
			sp->space = true;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) {
			sp->left = true;
			sp->width = -sp->width;
		}
		f++;
	}
	while (*f >= '0' && *f <= '9')
		sp->width = sp->width * 10 + (*f++ - '0');
	if (*f == '.') {
		f++;
		sp->precision = 0;
		if (*f == '*') {
			sp->precision = va_arg(*ap, int);
			f++;
		}
		while (*f >= '0' && *f <= '9')
			sp->precision = sp->precision * 10 + (*f++ - '0');
	}
	return f;
}

/* Length modifiers: 0 int, 1 long, 2 long long, -1 short, -2 char, 3 size_t */
static const char *parse_length(const char *f, int *len)
{
	*len = 0;
	if (f[0] == 'h' && f[1] == 'h') {
		*len = -2;
		return f + 2;
	}
	if (f[0] == 'l' && f[1] == 'l') {
		*len = 2;
		return f + 2;
	}
	if (*f == 'h')
		*len = -1;
	else if (*f == 'l')
		*len = 1;
	else if (*f == 'z')
		*len = 3;
	else
		return f;
	return f + 1;
}

static uint64_t arg_unsigned(va_list *ap, int len)
{
	switch (len) {
	case 1: return va_arg(*ap, unsigned long);
	case 2: return va_arg(*ap, unsigned long long);
	case 3: return va_arg(*ap, size_t);
	case -1: return (unsigned short)va_arg(*ap, unsigned int);
	case -2: return (unsigned char)va_arg(*ap, unsigned int);
	default: return va_arg(*ap, unsigned int);
	}
}

static int64_t arg_signed(va_list *ap, int len)
{
	switch (len) {
	case 1: return va_arg(*ap, long);
	case 2: return va_arg(*ap, long long);
	case 3: return (int64_t)va_arg(*ap, size_t);
	case -1: return (short)va_arg(*ap, int);
	case -2: return (signed char)va_arg(*ap, int);
	default: return va_arg(*ap, int);
	}
}

int hv_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
	struct out o = { .buf = buf, .size = size };
	struct spec sp;
	va_list ap;
	int len;

	va_copy(ap, ap_in);
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			put(&o, *f);
			continue;
		}
		f = parse_spec(f + 1, &sp, &ap);
		f = parse_length(f, &len);
		switch (*f) {
		case 'd':
		case 'i': {
			int64_t v = arg_signed(&ap, len);
			put_num(&o, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0, 10, false, &sp);
			break;
		}
		case 'u': put_num(&o, arg_unsigned(&ap, len), false, 10, false, &sp); break;
		case 'x': put_num(&o, arg_unsigned(&ap, len), false, 16, false, &sp); break;
		case 'X': put_num(&o, arg_unsigned(&ap, len), false, 16, true, &sp); break;
		case 'o': put_num(&o, arg_unsigned(&ap, len), false, 8, false, &sp); break;
		case 'p':
			sp.alt = true;
			put_num(&o, (uintptr_t)va_arg(ap, void *), false, 16, false, &sp);
			break;
		case 'c': {
			char c[2] = { (char)va_arg(ap, int), 0 };
			sp.precision = 1;
			put_str(&o, c, &sp);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			put_str(&o, s ? s : "(null)", &sp);
			break;
		}
		case '%': put(&o, '%'); break;
		case '\0': f--; break;	/* a lone '%' at the end */
		default:		/* unknown: print it as written */
			put(&o, '%');
			put(&o, *f);
			break;
		}
	}
	va_end(ap);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int hv_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = hv_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
