/* yamltree.c: see yamltree.h. */
#include "backend/yamltree.h"
#include "backend/util.h"

#include <errno.h>
#include <string.h>
#include <yaml.h>

struct anchor {
	char *name;
	struct yt_node *node;
};

struct loader {
	struct yt_doc *doc;
	struct diag_list *errs;
	struct yt_node *stack[YT_MAX_DEPTH + 2];
	int depth;
	struct anchor *anchors;
	size_t nanchors, capanchors;
	uint64_t expanded;
	bool failed;
};

/* Reject NUL bytes and malformed UTF-8 up front, with a position, rather
 * than leave it to libyaml's terser message. */
static int check_bytes(const char *buf, size_t len, struct diag_list *errs)
{
	int line = 1, col = 1;
	const unsigned char *s = (const unsigned char *)buf;
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		if (c == 0) {
			diag_add(errs, "", line, col,
				 "manifest contains a NUL byte (binary data is not a manifest)");
			return -EINVAL;
		}
		size_t need;
		uint32_t cp;
		if (c < 0x80) {
			need = 0;
			cp = c;
		} else if ((c & 0xE0) == 0xC0) {
			need = 1;
			cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			need = 2;
			cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			need = 3;
			cp = c & 0x07;
		} else {
			goto bad;
		}
		if (i + need >= len + (need ? 0 : 1) && need)
			goto bad;
		for (size_t k = 1; k <= need; k++) {
			if (i + k >= len || (s[i + k] & 0xC0) != 0x80)
				goto bad;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
			goto bad;
		if (c == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
		i += need + 1;
		continue;
bad:
		diag_add(errs, "", line, col, "manifest is not valid UTF-8 (byte 0x%02x)", c);
		return -EINVAL;
	}
	return 0;
}

static struct yt_node *new_node(struct loader *ld, enum yt_kind kind, const yaml_mark_t *m)
{
	struct yt_doc *d = ld->doc;
	if (d->nall >= YT_MAX_NODES) {
		if (!ld->failed)
			diag_add(ld->errs, "", (int)m->line + 1, (int)m->column + 1,
				 "manifest has more than %d YAML nodes", YT_MAX_NODES);
		ld->failed = true;
		return NULL;
	}
	struct yt_node *n = xcalloc(1, sizeof(*n));
	n->kind = kind;
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
	n->size = 1;
	if (d->nall == d->capall) {
		d->capall = d->capall ? d->capall * 2 : 64;
		d->all = xrealloc(d->all, d->capall * sizeof(*d->all));
	}
	d->all[d->nall++] = n;
	return n;
}

static bool all_digits(const char *s, const char *set)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr(set, *s) && *s != '_')
			return false;
	return true;
}

/* Parse an integer in BASE with underscores allowed (YAML 1.1). */
static bool parse_int(const char *s, int base, int64_t *out, bool *overflow)
{
	bool neg = false;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	unsigned __int128 v = 0;
	bool any = false;
	*overflow = false;
	for (; *s; s++) {
		if (*s == '_')
			continue;
		int dgt;
		if (*s >= '0' && *s <= '9')
			dgt = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			dgt = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			dgt = *s - 'A' + 10;
		else
			return false;
		if (dgt >= base)
			return false;
		any = true;
		if (!*overflow) {
			v = v * (unsigned)base + (unsigned)dgt;
			if (v > (unsigned __int128)INT64_MAX + 1)
				*overflow = true;
		}
	}
	if (!any)
		return false;
	if (!*overflow && !neg && v > (unsigned __int128)INT64_MAX)
		*overflow = true;
	if (!*overflow)
		*out = neg ? (int64_t)(0 - (uint64_t)v) : (int64_t)v;
	return true;
}

static bool is_float(const char *s)
{
	if (!strcmp(s, ".inf") || !strcmp(s, ".Inf") || !strcmp(s, ".INF") ||
	    !strcmp(s, "+.inf") || !strcmp(s, "-.inf") || !strcmp(s, "+.Inf") ||
	    !strcmp(s, "-.Inf") || !strcmp(s, ".nan") || !strcmp(s, ".NaN") ||
	    !strcmp(s, ".NAN"))
		return true;
	const char *p = s;
	if (*p == '-' || *p == '+')
		p++;
	bool digits = false, dot = false;
	while ((*p >= '0' && *p <= '9') || *p == '_' || *p == '.') {
		if (*p == '.') {
			if (dot)
				return false;
			dot = true;
		} else if (*p != '_') {
			digits = true;
		}
		p++;
	}
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

static void resolve_plain(struct yt_node *n)
{
	static const char *const trues[] = {"y",   "Y",   "yes", "Yes", "YES", "true",
					    "True", "TRUE", "on",  "On",  "ON",  NULL};
	static const char *const falses[] = {"n",     "N",     "no",  "No",  "NO",  "false",
					     "False", "FALSE", "off", "Off", "OFF", NULL};
	const char *s = n->str;
	n->type = YT_STR;
	if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	    !strcmp(s, "NULL")) {
		n->type = YT_NULL;
		return;
	}
	for (int i = 0; trues[i]; i++)
		if (!strcmp(s, trues[i])) {
			n->type = YT_BOOL;
			n->bval = true;
			return;
		}
	for (int i = 0; falses[i]; i++)
		if (!strcmp(s, falses[i])) {
			n->type = YT_BOOL;
			n->bval = false;
			return;
		}
	const char *u = (*s == '-' || *s == '+') ? s + 1 : s;
	bool ok = false;
	char sign[2] = {(*s == '-') ? '-' : '+', 0};
	char *tmp = NULL;
	if (u[0] == '0' && (u[1] == 'x' || u[1] == 'X') && all_digits(u + 2, "0123456789abcdefABCDEF")) {
		tmp = xasprintf("%s%s", sign, u + 2);
		ok = parse_int(tmp, 16, &n->ival, &n->int_overflow);
	} else if (u[0] == '0' && (u[1] == 'o') && all_digits(u + 2, "01234567")) {
		tmp = xasprintf("%s%s", sign, u + 2);
		ok = parse_int(tmp, 8, &n->ival, &n->int_overflow);
	} else if (u[0] == '0' && u[1] && all_digits(u + 1, "01234567")) {
		ok = parse_int(s, 8, &n->ival, &n->int_overflow);
	} else if (u[0] == '0' && (u[1] == 'b') && all_digits(u + 2, "01")) {
		tmp = xasprintf("%s%s", sign, u + 2);
		ok = parse_int(tmp, 2, &n->ival, &n->int_overflow);
	} else if (all_digits(u, "0123456789")) {
		ok = parse_int(s, 10, &n->ival, &n->int_overflow);
	}
	free(tmp);
	if (ok) {
		n->type = YT_INT;
		return;
	}
	if (is_float(s))
		n->type = YT_FLOAT;
}

static bool apply_tag(struct loader *ld, struct yt_node *n, const char *tag)
{
	if (!tag || !strcmp(tag, "!"))
		return true;
	static const char pfx[] = "tag:yaml.org,2002:";
	const char *t = !strncmp(tag, pfx, sizeof(pfx) - 1) ? tag + sizeof(pfx) - 1 : NULL;
	if (t && n->kind == YT_SCALAR) {
		if (!strcmp(t, "str")) {
			n->type = YT_STR;
			return true;
		}
		enum yt_type want = !strcmp(t, "int")     ? YT_INT
				    : !strcmp(t, "float") ? YT_FLOAT
				    : !strcmp(t, "bool")  ? YT_BOOL
				    : !strcmp(t, "null")  ? YT_NULL
							  : YT_STR;
		if (want != YT_STR) {
			resolve_plain(n);
			if (n->type == want || (want == YT_FLOAT && n->type == YT_INT))
				return true;
			diag_add(ld->errs, "", n->line, n->col, "value \"%s\" does not match its tag !!%s",
				 n->str, t);
			ld->failed = true;
			return false;
		}
	}
	if (t && ((n->kind == YT_MAP && !strcmp(t, "map")) || (n->kind == YT_SEQ && !strcmp(t, "seq"))))
		return true;
	diag_add(ld->errs, "", n->line, n->col, "YAML tag \"%s\" is not supported here", tag);
	ld->failed = true;
	return false;
}

/* Attach a finished node (or an alias target) to the open collection. In a
 * mapping, children alternate key, value: the key waits in pending_key. */
static void attach(struct loader *ld, struct yt_node *n, bool is_alias)
{
	if (ld->depth == 0) {
		ld->doc->root = n;
		return;
	}
	struct yt_node *parent = ld->stack[ld->depth - 1];
	if (parent->kind == YT_MAP && !parent->pending_key) {
		if (n->kind != YT_SCALAR) {
			diag_add(ld->errs, "", n->line, n->col,
				 "a mapping key must be a plain string, not a %s", yt_describe(n));
			ld->failed = true;
			return;
		}
		if (!is_alias && n->type == YT_STR && !strcmp(n->str, "<<")) {
			diag_add(ld->errs, "", n->line, n->col,
				 "YAML merge keys (<<) are not supported");
			ld->failed = true;
			return;
		}
		parent->pending_key = n;
		return;
	}
	if (parent->n == parent->cap) {
		parent->cap = parent->cap ? parent->cap * 2 : 4;
		parent->vals = xrealloc(parent->vals, parent->cap * sizeof(*parent->vals));
		if (parent->kind == YT_MAP)
			parent->keys = xrealloc(parent->keys, parent->cap * sizeof(*parent->keys));
	}
	if (parent->kind == YT_MAP) {
		parent->keys[parent->n] = parent->pending_key;
		parent->pending_key = NULL;
	}
	parent->vals[parent->n++] = n;
	/* saturate: alias bombs are caught by the expansion budget anyway */
	parent->size = parent->size + n->size < parent->size ? UINT64_MAX : parent->size + n->size;
}

static void remember_anchor(struct loader *ld, const yaml_char_t *name, struct yt_node *n)
{
	if (!name)
		return;
	if (ld->nanchors == ld->capanchors) {
		ld->capanchors = ld->capanchors ? ld->capanchors * 2 : 8;
		ld->anchors = xrealloc(ld->anchors, ld->capanchors * sizeof(*ld->anchors));
	}
	ld->anchors[ld->nanchors].name = xstrdup((const char *)name);
	ld->anchors[ld->nanchors].node = n;
	ld->nanchors++;
}

static struct yt_node *find_anchor(struct loader *ld, const char *name)
{
	/* the latest definition wins, as YAML allows redefinition */
	for (size_t i = ld->nanchors; i-- > 0;)
		if (!strcmp(ld->anchors[i].name, name))
			return ld->anchors[i].node;
	return NULL;
}

/* Anchors of open collections are remembered at their end, so an alias can
 * never point into a node still being built (no cycles). */
static void syntax_error(struct loader *ld, yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "unknown problem";
	yaml_mark_t m = p->problem_mark;
	if (p->context)
		diag_add(ld->errs, "", (int)m.line + 1, (int)m.column + 1,
			 "YAML syntax error: %s %s (line %d, column %d)", problem, p->context,
			 (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
	else
		diag_add(ld->errs, "", (int)m.line + 1, (int)m.column + 1, "YAML syntax error: %s",
			 problem);
	ld->failed = true;
}

int yt_load(const char *buf, size_t len, struct yt_doc **out, struct diag_list *errs)
{
	*out = NULL;
	if (len > YT_MAX_BYTES) {
		diag_add(errs, "", 0, 0, "manifest is %zu bytes; the limit is %d bytes (1 MiB)", len,
			 YT_MAX_BYTES);
		return -EINVAL;
	}
	if (check_bytes(buf, len, errs) < 0)
		return -EINVAL;

	struct loader ld = {.errs = errs};
	ld.doc = xcalloc(1, sizeof(*ld.doc));
	char *anchor_stack[YT_MAX_DEPTH + 2] = {0};
	yaml_parser_t p;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	int docs = 0;
	bool done = false;
	while (!done && !ld.failed) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			syntax_error(&ld, &p);
			break;
		}
		yaml_mark_t *m = &ev.start_mark;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				diag_add(errs, "", (int)m->line + 1, (int)m->column + 1,
					 "more than one YAML document; a manifest holds exactly one "
					 "Pod");
				ld.failed = true;
			}
			break;
		case YAML_SCALAR_EVENT: {
			struct yt_node *n = new_node(&ld, YT_SCALAR, m);
			if (!n)
				break;
			n->str = xstrndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
			if (strlen(n->str) != ev.data.scalar.length) {
				/* an escaped \0 inside a quoted string */
				diag_add(errs, "", n->line, n->col, "string contains a NUL character");
				ld.failed = true;
				break;
			}
			if (ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
				resolve_plain(n);
			else
				n->type = YT_STR;
			if (!apply_tag(&ld, n, (const char *)ev.data.scalar.tag))
				break;
			attach(&ld, n, false);
			remember_anchor(&ld, ev.data.scalar.anchor, n);
			break;
		}
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT: {
			if (ld.depth >= YT_MAX_DEPTH) {
				diag_add(errs, "", (int)m->line + 1, (int)m->column + 1,
					 "manifest nests deeper than %d levels", YT_MAX_DEPTH);
				ld.failed = true;
				break;
			}
			bool map = ev.type == YAML_MAPPING_START_EVENT;
			struct yt_node *n = new_node(&ld, map ? YT_MAP : YT_SEQ, m);
			if (!n)
				break;
			const yaml_char_t *tag = map ? ev.data.mapping_start.tag
						     : ev.data.sequence_start.tag;
			const yaml_char_t *anc = map ? ev.data.mapping_start.anchor
						     : ev.data.sequence_start.anchor;
			if (!apply_tag(&ld, n, (const char *)tag))
				break;
			anchor_stack[ld.depth] = anc ? xstrdup((const char *)anc) : NULL;
			ld.stack[ld.depth++] = n;
			break;
		}
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT: {
			struct yt_node *n = ld.stack[--ld.depth];
			char *anc = anchor_stack[ld.depth];
			anchor_stack[ld.depth] = NULL;
			attach(&ld, n, false);
			remember_anchor(&ld, (const yaml_char_t *)anc, n);
			free(anc);
			break;
		}
		case YAML_ALIAS_EVENT: {
			const char *name = (const char *)ev.data.alias.anchor;
			struct yt_node *t = find_anchor(&ld, name);
			if (!t) {
				diag_add(errs, "", (int)m->line + 1, (int)m->column + 1,
					 "alias *%s refers to no earlier anchor", name);
				ld.failed = true;
				break;
			}
			ld.expanded += t->size;
			if (ld.expanded > YT_MAX_EXPANDED) {
				diag_add(errs, "", (int)m->line + 1, (int)m->column + 1,
					 "aliases expand to more than %d nodes (an alias bomb?)",
					 YT_MAX_EXPANDED);
				ld.failed = true;
				break;
			}
			attach(&ld, t, true);
			break;
		}
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	for (int i = 0; i < YT_MAX_DEPTH + 2; i++)
		free(anchor_stack[i]);
	for (size_t i = 0; i < ld.nanchors; i++)
		free(ld.anchors[i].name);
	free(ld.anchors);
	if (ld.failed) {
		yt_free(ld.doc);
		return -EINVAL;
	}
	*out = ld.doc;
	return 0;
}

void yt_free(struct yt_doc *doc)
{
	if (!doc)
		return;
	for (size_t i = 0; i < doc->nall; i++) {
		struct yt_node *n = doc->all[i];
		free(n->str);
		free(n->keys);
		free(n->vals);
		free(n);
	}
	free(doc->all);
	free(doc);
}

const char *yt_describe(const struct yt_node *n)
{
	if (!n)
		return "nothing";
	if (n->kind == YT_MAP)
		return "mapping";
	if (n->kind == YT_SEQ)
		return "list";
	switch (n->type) {
	case YT_NULL:
		return "null";
	case YT_BOOL:
		return "boolean";
	case YT_INT:
		return "integer";
	case YT_FLOAT:
		return "number";
	default:
		return "string";
	}
}

struct yt_node *yt_get(const struct yt_node *map, const char *key)
{
	if (!map || map->kind != YT_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (!strcmp(map->keys[i]->str, key))
			return map->vals[i];
	return NULL;
}
