/* diag.h: a list of user-facing diagnostics (errors found in a manifest),
 * each with the field path it concerns and the YAML line and column. */
#ifndef PODFS_DIAG_H
#define PODFS_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#define DIAG_MAX 200 /* past this, further errors are counted, not kept */

struct diag {
	char *path; /* "spec.containers[0].image", or "" for the whole file */
	int line, col; /* 1-based; 0 when unknown */
	char *msg; /* "required value", "unknown field; did you mean valueFrom?" */
};

struct diag_list {
	struct diag *v;
	size_t n, cap;
	size_t dropped;
};

void diag_add(struct diag_list *l, const char *path, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void diag_list_free(struct diag_list *l);
/* Sort by position (line, column), keeping insertion order for ties. */
void diag_sort(struct diag_list *l);
/* "FILE:LINE:COL: PATH: MSG" (FILE and position left out when absent).
 * Caller frees. */
char *diag_format(const struct diag *d, const char *file);
/* Every diagnostic formatted, one per line, plus a line for dropped ones. */
char *diag_format_all(const struct diag_list *l, const char *file);

#endif
