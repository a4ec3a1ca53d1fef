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

/* Trees equal? With IMAGES set, A and B are a container list's items and
 * their "image" values are not compared, but *IMAGES is set when one
 * differs. */
static bool tree_eq(const struct yt_node *a, const struct yt_node *b, int depth, bool *images);

static bool map_eq(const struct yt_node *a, const struct yt_node *b, int depth,
		   const char *path, bool *images)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const char *k = a->keys[i]->str;
		const struct yt_node *bv = yt_get(b, k);
		if (!bv)
			return false;
		const struct yt_node *av = a->vals[i];
		if (images && !strcmp(path, "container") && !strcmp(k, "image")) {
			if (av->kind != YT_SCALAR || bv->kind != YT_SCALAR)
				return false;
			if (!scalar_eq(av, bv))
				*images = true;
			continue;
		}
		bool lists = depth == 1 && !strcmp(path, "spec") &&
			     (!strcmp(k, "containers") || !strcmp(k, "initContainers"));
		if (lists) {
			if (av->kind != YT_SEQ || bv->kind != YT_SEQ || av->n != bv->n)
				return false;
			for (size_t j = 0; j < av->n; j++) {
				const struct yt_node *x = av->vals[j], *y = bv->vals[j];
				if (x->kind != YT_MAP || y->kind != YT_MAP ||
				    !map_eq(x, y, depth + 2, "container", images))
					return false;
			}
			continue;
		}
		if (depth == 0 && !strcmp(k, "spec") && av->kind == YT_MAP && bv->kind == YT_MAP) {
			if (!map_eq(av, bv, 1, "spec", images))
				return false;
			continue;
		}
		if (!tree_eq(av, bv, depth + 1, NULL))
			return false;
	}
	return true;
}

static bool tree_eq(const struct yt_node *a, const struct yt_node *b, int depth, bool *images)
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
			if (!tree_eq(a->vals[i], b->vals[i], depth + 1, NULL))
				return false;
		return true;
	case YT_MAP:
		return map_eq(a, b, depth, depth == 0 ? "" : "-", images);
	}
	return false;
}

enum spec_change spec_compare(const char *old, size_t olen, const char *new, size_t nlen)
{
	struct diag_list errs = {0};
	struct yt_doc *a = NULL, *b = NULL;
	enum spec_change r = SPEC_REPLACE;
	if (yt_load(old, olen, &a, &errs) < 0 || yt_load(new, nlen, &b, &errs) < 0)
		goto out;
	bool images = false;
	if (tree_eq(a->root, b->root, 0, &images))
		r = images ? SPEC_IMAGES : SPEC_SAME;
out:
	yt_free(a);
	yt_free(b);
	diag_list_free(&errs);
	return r;
}
