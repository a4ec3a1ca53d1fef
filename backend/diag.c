/* diag.c: see diag.h. */
#include "backend/diag.h"
#include "backend/util.h"

#include <stdio.h>
#include <string.h>

void diag_add(struct diag_list *l, const char *path, int line, int col, const char *fmt, ...)
{
	if (l->n >= DIAG_MAX) {
		l->dropped++;
		return;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	va_list ap;
	va_start(ap, fmt);
	struct diag *d = &l->v[l->n++];
	d->path = xstrdup(path ? path : "");
	d->line = line;
	d->col = col;
	d->msg = xvasprintf(fmt, ap);
	va_end(ap);
}

void diag_list_free(struct diag_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].msg);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void diag_sort(struct diag_list *l)
{
	/* insertion sort: stable, and lists are short */
	for (size_t i = 1; i < l->n; i++) {
		struct diag d = l->v[i];
		size_t j = i;
		while (j > 0 && (l->v[j - 1].line > d.line ||
				 (l->v[j - 1].line == d.line && l->v[j - 1].col > d.col))) {
			l->v[j] = l->v[j - 1];
			j--;
		}
		l->v[j] = d;
	}
}

char *diag_format(const struct diag *d, const char *file)
{
	struct strbuf sb;
	sb_init(&sb);
	if (file && *file)
		sb_printf(&sb, "%s:", file);
	if (d->line > 0)
		sb_printf(&sb, "%d:%d:", d->line, d->col);
	if (sb.len)
		sb_putc(&sb, ' ');
	if (d->path && *d->path)
		sb_printf(&sb, "%s: ", d->path);
	sb_puts(&sb, d->msg);
	return sb_steal(&sb);
}

char *diag_format_all(const struct diag_list *l, const char *file)
{
	struct strbuf sb;
	sb_init(&sb);
	for (size_t i = 0; i < l->n; i++) {
		char *s = diag_format(&l->v[i], file);
		sb_puts(&sb, s);
		sb_putc(&sb, '\n');
		free(s);
	}
	if (l->dropped)
		sb_printf(&sb, "%s%s(%zu more errors not shown)\n", file ? file : "",
			  file ? ": " : "", l->dropped);
	return sb_steal(&sb);
}
