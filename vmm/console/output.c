/* Domain output on the shared console; see output.h and docs/console.md. */
#include <stddef.h>

#include "kernel/console.h"
#include "kernel/errno.h"
#include "kernel/palloc.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "vmm/console/output.h"
#include "vmm/domain.h"
#include "vmm/vmm.h"

#define CHUNK 240		/* bytes per console write: one line, or a piece */
#define RELEASE_BYTES 2048	/* shown per hold of a domain's lock when released */

static bool tagged_mode;
static bool hold_all;		/* the shell is open */
static struct domain *focus;	/* input (and, in focus mode, the terminal) */
static struct domain *screen;	/* the focused domain while it has the screen */
static bool release_wanted;	/* the screen was given back: show what waited */

void conout_init(bool tagged) { tagged_mode = tagged; }

int conout_attach(struct domain *d)
{
	uint32_t size = d->cfg->console_log;
	uint64_t hpa = alloc_pages(size / PAGE_SIZE, 0, 0);

	if (!hpa) {
		pr_err("domain %s: no memory for its %u KiB console log\n", d->name, size >> 10);
		return trace_error(-ENOMEM);
	}
	d->log.buf = (uint8_t *)(uintptr_t)hpa;
	d->log.size = size;
	d->log.at_line_start = true;
	return 0;
}

static bool held(const struct domain *d)
{
	return hold_all || (screen && screen != d);
}

/* A byte as a domain without the terminal may show it: text, or '.' */
static char neutral(uint8_t c)
{
	return (c >= 0x20 && c < 0x7f) || c == '\t' ? (char)c : '.';
}

static void log_put(struct conlog *l, uint8_t c)
{
	l->buf[l->head++ % l->size] = c;
}

/* CSI parameters equal to `p` (the first few bytes kept)? */
static bool param_is(const struct conlog *l, const char *p)
{
	size_t n = strlen(p);
	return l->nparam == n && !memcmp(l->param, p, n);
}

/* A CSI sequence of the focused domain ended with `final`: does it take
 * the screen (the alternate screen, clearing it, addressing the cursor)
 * or give it back (leaving the alternate screen)? */
static void csi_done(struct domain *d, uint8_t final)
{
	struct conlog *l = &d->log;
	bool alt = param_is(l, "?1049") || param_is(l, "?1047") || param_is(l, "?47");

	if (d != focus)
		return;		/* the focus moved while this was printed */
	if ((final == 'h' && alt) || (final == 'J' && param_is(l, "2")) || final == 'H' ||
	    final == 'f')
		screen = d;
	else if (final == 'l' && alt && screen == d) {
		screen = NULL;
		release_wanted = true;
	}
}

/* The focused domain's byte c, passed to the terminal: follow escape
 * sequences (ECMA-48) far enough to know who has the screen. */
static void track(struct domain *d, uint8_t c)
{
	struct conlog *l = &d->log;

	if (c == 0x18 || c == 0x1a) {		/* CAN, SUB: no sequence */
		l->esc = 0;
		return;
	}
	switch (l->esc) {
	case 0:
		if (c == 0x1b)
			l->esc = 1;
		break;
	case 1:					/* after ESC */
		l->esc = c == '[' ? 2 : c == ']' ? 3 : 0;
		l->nparam = 0;
		if (c == 'c' && screen == d) {	/* RIS: the terminal reset */
			screen = NULL;
			release_wanted = true;
		}
		break;
	case 2:					/* CSI */
		if (c >= 0x30 && c <= 0x3f) {
			if (l->nparam < sizeof(l->param))
				l->param[l->nparam] = (char)c;
			l->nparam++;
		} else if (c >= 0x40 && c <= 0x7e) {
			csi_done(d, c);
			l->esc = 0;
		} else if (c < 0x20 || c > 0x7e) {
			l->esc = c == 0x1b ? 1 : 0;
		}
		break;
	default:				/* OSC: to BEL or ST */
		if (c == 0x07)
			l->esc = 0;
		else if (c == 0x1b)
			l->esc = 1;
		break;
	}
}

/* Print d's log from `shown` on, at most `budget` bytes; with d->lock. */
static void show(struct domain *d, uint64_t budget)
{
	struct conlog *l = &d->log;

	if (l->head - l->shown > l->size) {
		pr_info("console: %s: %llu bytes of its output not shown (held beyond its %u KiB log)\n",
			d->name, (unsigned long long)(l->head - l->size - l->shown), l->size >> 10);
		l->shown = l->head - l->size;
		l->at_line_start = true;
	}
	while (l->shown < l->head && budget) {
		char out[CHUNK];
		size_t n = 0;
		unsigned flags = 0;
		bool raw = !tagged_mode && d == focus;

		/* With the screen, untagged; but a line that starts like a
		 * hypervisor line or a tag keeps the tag. */
		if (raw && screen == d) {
			uint8_t first = l->buf[l->shown % l->size];
			if (!l->at_line_start || (first != 'h' && first != '['))
				flags |= CON_UNTAGGED;
		}
		while (l->shown < l->head && n < sizeof(out) && budget) {
			uint8_t c = l->buf[l->shown++ % l->size];
			budget--;
			if (c == '\n') {
				flags |= CON_EOL;
				if (raw && n && out[n - 1] == '\r')
					n--;	/* CR LF: the console ends lines so */
				break;
			}
			if (raw) {
				track(d, c);
				if (c < 0x20 && c != '\t' && c != '\r' && c != '\b')
					flags |= CON_CONTROL;
				out[n++] = (char)c;
			} else if (c != '\r') {
				out[n++] = neutral(c);
			}
		}
		console_write_domain(d->name, out, n, flags);
		l->at_line_start = flags & CON_EOL;
	}
}

void vuart_output(struct vuart *u, const char *text, size_t len, bool eol)
{
	struct domain *d = (struct domain *)(void *)((char *)u - offsetof(struct domain, uart));
	struct conlog *l = &d->log;

	for (size_t i = 0; i < len; i++)
		log_put(l, (uint8_t)text[i]);
	if (eol)
		log_put(l, '\n');
	if (held(d))
		return;
	/* Its own text and a little of what waited: a long backlog goes out
	 * from the console's side (release_all), a piece per lock hold, not
	 * all at once while this domain's lock is held. */
	show(d, len + 1 + RELEASE_BYTES);
	if (l->shown < l->head)
		__atomic_store_n(&release_wanted, true, __ATOMIC_RELEASE);
}

/* Show what waited, a little at a time per domain (its vCPU may be
 * waiting for its lock to print more). */
static void release_all(void)
{
	for (uint32_t i = 0; i < vmm_ndomains(); i++) {
		struct domain *d = vmm_domain(i);
		bool more = true;
		while (more) {
			spin_lock(&d->lock);
			if (!held(d))
				show(d, RELEASE_BYTES);
			more = !held(d) && d->log.shown < d->log.head;
			spin_unlock(&d->lock);
		}
	}
}

void conout_hold_all(bool hold)
{
	hold_all = hold;
	if (!hold)
		release_all();
}

void conout_focus(struct domain *d)
{
	screen = NULL;
	if (focus)
		focus->log.esc = 0;
	d->log.esc = 0;		/* a sequence begun earlier means nothing now */
	focus = d;
	release_all();
}

void conout_service(void)
{
	if (__atomic_exchange_n(&release_wanted, false, __ATOMIC_ACQ_REL))
		release_all();
}

uint64_t conout_log_used(const struct domain *d)
{
	return d->log.head < d->log.size ? d->log.head : d->log.size;
}

void conout_print_log(struct domain *d, uint32_t lines)
{
	struct conlog *l = &d->log;

	spin_lock(&d->lock);
	uint64_t head = l->head, start = head - conout_log_used(d), pos = head;
	uint32_t seen = 0;
	/* Back to the start of the lines-th line from the end (a last line
	 * without its '\n' counts). */
	while (pos > start) {
		if (l->buf[(pos - 1) % l->size] == '\n' && pos != head && ++seen == lines)
			break;
		pos--;
	}
	spin_unlock(&d->lock);
	while (lines && pos < head) {
		char out[CHUNK];
		size_t n = 0;
		unsigned flags = 0;
		spin_lock(&d->lock);
		if (pos < l->head - conout_log_used(d))
			pos = l->head - conout_log_used(d);	/* overwritten meanwhile */
		while (pos < head && n < sizeof(out)) {
			uint8_t c = l->buf[pos++ % l->size];
			if (c == '\n') {
				flags = CON_EOL;
				break;
			}
			if (c != '\r')
				out[n++] = neutral(c);
		}
		spin_unlock(&d->lock);
		console_write_domain(d->name, out, n, flags | (pos == head ? CON_EOL : 0));
	}
}
