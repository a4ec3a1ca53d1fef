/* spec_compare.c: what a new manifest changes of the applied one, compared
 * as YAML trees (so comments, layout, quoting and key order do not count). */
#include "backend/spec.h"
#include "backend/yamltree.h"

#include <stdbool.h>
#include <string.h>

static bool scalar_eq(const struct yt_node *a, const struct yt_node *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case YT_NULL:
		return true;
	case YT_BOOL:
		return a->bval == b->bval;
	case YT_INT:
		return a->int_overflow == b->int_overflow &&
		       (a->int_overflow ? !strcmp(a->str, b->str) : a->ival == b->ival);
	case YT_STR:
	case YT_FLOAT:
		break;
	}
	return !strcmp(a->str, b->str);
}

static bool map_eq(const struct yt_node *a, const struct yt_node *b, const char *where,
		   bool *images);

static bool tree_eq(const struct yt_node *a, const struct yt_node *b)
{
	if (!a || !b)
		return a == b;
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case YT_SCALAR:
		return scalar_eq(a, b);
	case YT_SEQ:
		if (a->n != b->n)
			return false;
		for (size_t i = 0; i < a->n; i++)
			if (!tree_eq(a->vals[i], b->vals[i]))
				return false;
		return true;
	case YT_MAP:
		return map_eq(a, b, NULL, NULL);
	}
	return false;
}

/* Mappings equal? WHERE is "pod" (the document), "spec" (its spec) or
 * "container" (an item of spec.containers or spec.initContainers), or NULL
 * anywhere else; a container's "image" is not compared, but *IMAGES is set
 * when one differs. */
static bool map_eq(const struct yt_node *a, const struct yt_node *b, const char *where,
		   bool *images)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const char *k = a->keys[i]->str;
		const struct yt_node *av = a->vals[i], *bv = yt_get(b, k);
		if (!bv)
			return false;
		if (!where) {
			if (!tree_eq(av, bv))
				return false;
		} else if (!strcmp(where, "container") && !strcmp(k, "image")) {
			if (av->kind != YT_SCALAR || bv->kind != YT_SCALAR)
				return false;
			if (!scalar_eq(av, bv))
				*images = true;
		} else if (!strcmp(where, "pod") && !strcmp(k, "spec") && av->kind == YT_MAP &&
			   bv->kind == YT_MAP) {
			if (!map_eq(av, bv, "spec", images))
				return false;
		} else if (!strcmp(where, "spec") &&
			   (!strcmp(k, "containers") || !strcmp(k, "initContainers"))) {
			if (av->kind != YT_SEQ || bv->kind != YT_SEQ || av->n != bv->n)
				return false;
			for (size_t j = 0; j < av->n; j++) {
				const struct yt_node *x = av->vals[j], *y = bv->vals[j];
				if (x->kind != YT_MAP || y->kind != YT_MAP ||
				    !map_eq(x, y, "container", images))
					return false;
			}
		} else if (!tree_eq(av, bv)) {
			return false;
		}
	}
	return true;
}

enum spec_change spec_compare(const char *old, size_t olen, const char *new, size_t nlen)
{
	struct diag_list errs = {0};
	struct yt_doc *a = NULL, *b = NULL;
	enum spec_change r = SPEC_REPLACE;
	if (yt_load(old, olen, &a, &errs) < 0 || yt_load(new, nlen, &b, &errs) < 0)
		goto out;
	bool images = false;
	bool same = a->root && b->root && a->root->kind == YT_MAP && b->root->kind == YT_MAP
			? map_eq(a->root, b->root, "pod", &images)
			: tree_eq(a->root, b->root);
	if (same)
		r = images ? SPEC_IMAGES : SPEC_SAME;
out:
	yt_free(a);
	yt_free(b);
	diag_list_free(&errs);
	return r;
}
