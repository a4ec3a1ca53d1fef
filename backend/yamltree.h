/* yamltree.h: YAML (and so JSON) text to a small tree of nodes with line and
 * column, through libyaml's event parser. Owns every limit that protects us
 * from hostile manifests: size, NUL bytes, invalid UTF-8, nesting depth,
 * node count and alias expansion. No libyaml type leaves this module. */
#ifndef PODFS_YAMLTREE_H
#define PODFS_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/diag.h"

#define YT_MAX_BYTES	      (1024 * 1024)	 /* manifests larger than 1 MiB are refused */
#define YT_MAX_DEPTH	      64		 /* nesting of mappings and sequences */
#define YT_MAX_NODES	      200000		 /* nodes actually built */
#define YT_MAX_EXPANDED	      1000000		 /* nodes as seen again through aliases */
#define YT_MAX_EXPANDED_BYTES (16 * 1024 * 1024) /* scalar text seen again through aliases */

enum yt_kind { YT_SCALAR, YT_MAP, YT_SEQ };

/* How a scalar resolves, following the YAML 1.1 rules Kubernetes' decoder
 * uses (so `yes` is a boolean and `0777` an octal integer). Quoted scalars
 * are always strings. */
enum yt_type { YT_STR, YT_NULL, YT_BOOL, YT_INT, YT_FLOAT };

struct yt_node {
	enum yt_kind kind;
	int line, col; /* 1-based */
	/* scalars */
	char *str; /* NUL-terminated text as written (after unquoting) */
	enum yt_type type;
	bool bval;
	bool int_overflow; /* an integer that does not fit in int64 */
	int64_t ival;
	/* mappings: keys[i] (always scalars) -> vals[i]; sequences: vals[i] */
	struct yt_node **keys, **vals;
	size_t n, cap;
	uint64_t size;	/* nodes in this subtree (keys too), counting alias expansions */
	uint64_t bytes; /* scalar text in this subtree, counting alias expansions */
	struct yt_node *pending_key; /* loader only: a key awaiting its value */
};

struct yt_doc {
	struct yt_node *root; /* NULL for an empty document */
	struct yt_node **all; /* every node, for freeing (aliases share) */
	size_t nall, capall;
};

/* Parse BUF (LEN bytes, need not be NUL-terminated). On success return 0
 * and a document in *out (root may be NULL if the text holds no document).
 * On failure return -EINVAL with the reasons added to ERRS (syntax errors
 * carry the line and column libyaml reports). */
int yt_load(const char *buf, size_t len, struct yt_doc **out, struct diag_list *errs);
void yt_free(struct yt_doc *doc);

/* "string", "null", "boolean", "integer", "number", "mapping", "sequence":
 * for messages like "expected a string, got a mapping". */
const char *yt_describe(const struct yt_node *n);
/* The value under KEY in mapping MAP, or NULL. */
struct yt_node *yt_get(const struct yt_node *map, const char *key);

#endif
