/* Command-line lookup; see cmdline.h. Pure, host-tested. */
#include "kernel/cmdline.h"
#include "kernel/string.h"

static const char *skip_spaces(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* End of the word at s, honouring double quotes. */
static const char *word_end(const char *s)
{
	bool quoted = false;

	for (; *s; s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (!quoted && (*s == ' ' || *s == '\t'))
			break;
	}
	return s;
}

static void copy_value(const char *v, const char *end, char *buf, size_t size)
{
	size_t n = 0;

	for (; v < end && n + 1 < size; v++)
		if (*v != '"')
			buf[n++] = *v;
	if (size)
		buf[n] = '\0';
}

bool cmdline_get(const char *cmdline, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	bool found = false;

	if (size)
		buf[0] = '\0';
	for (const char *s = skip_spaces(cmdline); *s; s = skip_spaces(s)) {
		const char *end = word_end(s);
		if ((size_t)(end - s) >= klen && !strncmp(s, key, klen)) {
			const char *rest = s + klen;
			if (rest == end) {
				found = true;
				copy_value(rest, rest, buf, size);
			} else if (*rest == '=') {
				found = true;
				copy_value(rest + 1, end, buf, size);
			}
		}
		s = end;
	}
	return found;
}
