/* yamltree.c: see yamltree.h. */
#include "backend/yamltree.h"
#include "backend/util.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

/* Anchors live in an open-addressing hash table, so a manifest of many
 * anchors and many aliases costs linear time (a linear search was
 * quadratic: 60000 anchors and aliases took 20 s). A redefined anchor
 * replaces the older one, as YAML wants. An anchor on a collection is
 * entered when the collection starts and marked open until it ends, so an
 * alias to it from inside is reported as the cycle it would be. */
struct anchor {
	char *name; /* NULL: free slot */
	uint64_t hash;
	struct yt_node *node;
	bool open;
};

struct loader {
	struct yt_doc *doc;
	struct diag_list *errs;
	struct yt_node *stack[YT_MAX_DEPTH + 2];
	int depth;
	struct anchor *anchors; /* capanchors slots, a power of two */
	size_t nanchors, capanchors;
	uint64_t expanded;	 /* nodes seen again through aliases */
	uint64_t expanded_bytes; /* scalar bytes seen again through aliases */
	uint64_t seed;		 /* of the anchor hash */
	bool failed;
};

/* Reject NUL bytes and malformed UTF-8 up front, with a position, rather
 * than leave it to libyaml's terser message. Lines are counted as libyaml
 * counts them (LF, CR LF, lone CR, NEL, LS, PS), columns in characters. */
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
		for (size_t k = 1; k <= need; k++) {
			if (i + k >= len || (s[i + k] & 0xC0) != 0x80)
				goto bad;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			goto bad;
		if (c == '\n' || (c == '\r' && (i + 1 == len || s[i + 1] != '\n')) || cp == 0x85 ||
		    cp == 0x2028 || cp == 0x2029) {
			line++;
			col = 1;
		} else if (c != '\r') {
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

static int digit_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return 99;
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Parse S (underscores already dropped) as Go's strconv.ParseInt(s, 0, 64)
 * reads it, which is what Kubernetes' decoder (go-yaml v2) does with a
 * plain scalar: a sign, then 0x/0X hex, 0o/0O octal, 0b/0B binary, a
 * leading 0 for octal, else decimal. An integer too large for int64 is
 * still an integer, flagged in *overflow. One difference: go-yaml reads
 * "08" (not octal) as the float 8, which Kubernetes then takes wherever an
 * integer goes (it passes through JSON as 8); here it is the integer 8. */
static bool parse_int(const char *s, int64_t *out, bool *overflow)
{
	bool neg = false;
	int base = 10;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
		base = 8;
		s += 2;
	} else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
		base = 2;
		s += 2;
	} else if (s[0] == '0' && s[1] && s[strspn(s, "01234567")] == '\0') {
		base = 8;
		s++;
	}
	if (!*s)
		return false;
	unsigned __int128 v = 0;
	bool over = false;
	for (; *s; s++) {
		int dgt = digit_value(*s);
		if (dgt >= base)
			return false;
		if (!over) {
			v = v * (unsigned)base + (unsigned)dgt;
			if (v > (unsigned __int128)INT64_MAX + 1)
				over = true;
		}
	}
	if (!over && !neg && v > (unsigned __int128)INT64_MAX)
		over = true;
	*overflow = over;
	*out = over ? 0 : neg ? (int64_t)(0 - (uint64_t)v) : (int64_t)v;
	return true;
}

/* go-yaml v2's float syntax (after underscores are dropped):
 * [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_float(const char *p)
{
	if (*p == '-' || *p == '+')
		p++;
	if (*p == '.') {
		p++;
		if (!is_digit(*p))
			return false;
		while (is_digit(*p))
			p++;
	} else {
		if (!is_digit(*p))
			return false;
		while (is_digit(*p))
			p++;
		if (*p == '.')
			for (p++; is_digit(*p); p++)
				;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!is_digit(*p))
			return false;
		while (is_digit(*p))
			p++;
	}
	return *p == '\0';
}

/* Resolve a plain scalar the way go-yaml v2 (so Kubernetes) does. */
static void resolve_plain(struct yt_node *n)
{
	static const struct {
		const char *word;
		enum yt_type type;
		bool bval;
	} words[] = {
	    {"", YT_NULL, false},	{"~", YT_NULL, false},	    {"null", YT_NULL, false},
	    {"Null", YT_NULL, false},	{"NULL", YT_NULL, false},   {"y", YT_BOOL, true},
	    {"Y", YT_BOOL, true},	{"yes", YT_BOOL, true},	    {"Yes", YT_BOOL, true},
	    {"YES", YT_BOOL, true},	{"true", YT_BOOL, true},    {"True", YT_BOOL, true},
	    {"TRUE", YT_BOOL, true},	{"on", YT_BOOL, true},	    {"On", YT_BOOL, true},
	    {"ON", YT_BOOL, true},	{"n", YT_BOOL, false},	    {"N", YT_BOOL, false},
	    {"no", YT_BOOL, false},	{"No", YT_BOOL, false},	    {"NO", YT_BOOL, false},
	    {"false", YT_BOOL, false},	{"False", YT_BOOL, false},  {"FALSE", YT_BOOL, false},
	    {"off", YT_BOOL, false},	{"Off", YT_BOOL, false},    {"OFF", YT_BOOL, false},
	    {".nan", YT_FLOAT, false},	{".NaN", YT_FLOAT, false},  {".NAN", YT_FLOAT, false},
	    {".inf", YT_FLOAT, false},	{".Inf", YT_FLOAT, false},  {".INF", YT_FLOAT, false},
	    {"+.inf", YT_FLOAT, false}, {"+.Inf", YT_FLOAT, false}, {"+.INF", YT_FLOAT, false},
	    {"-.inf", YT_FLOAT, false}, {"-.Inf", YT_FLOAT, false}, {"-.INF", YT_FLOAT, false},
	};
	const char *s = n->str;
	size_t len = strlen(s);
	n->type = YT_STR;
	n->int_overflow = false;
	for (size_t i = 0; len <= 5 && i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(s, words[i].word)) {
			n->type = words[i].type;
			n->bval = words[i].bval;
			return;
		}
	/* Numbers are only tried for scalars that start with a digit, a sign
	 * or a dot; underscores are dropped first ("1_000" is 1000, "_1" a
	 * string). A leading dot can only be a float, read as written. */
	if (!is_digit(s[0]) && s[0] != '-' && s[0] != '+' && s[0] != '.')
		return;
	if (s[0] == '.') {
		if (is_float(s))
			n->type = YT_FLOAT;
		return;
	}
	char small[64];
	char *plain = len < sizeof(small) ? small : xmalloc(len + 1);
	size_t k = 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] != '_')
			plain[k++] = s[i];
	plain[k] = '\0';
	if (parse_int(plain, &n->ival, &n->int_overflow))
		n->type = YT_INT;
	else if (is_float(plain))
		n->type = YT_FLOAT;
	if (plain != small)
		free(plain);
}

static bool apply_tag(struct loader *ld, struct yt_node *n, const char *tag)
{
	if (!tag)
		return true;
	if (!strcmp(tag, "!")) {
		/* the non-specific tag: a scalar is a string, whatever it reads */
		if (n->kind == YT_SCALAR)
			n->type = YT_STR;
		return true;
	}
	static const char pfx[] = "tag:yaml.org,2002:";
	const char *t = !strncmp(tag, pfx, sizeof(pfx) - 1) ? tag + sizeof(pfx) - 1 : NULL;
	if (t && n->kind == YT_SCALAR) {
		if (!strcmp(t, "str")) {
			n->type = YT_STR;
			return true;
		}
		enum yt_type want = !strcmp(t, "int")	  ? YT_INT
				    : !strcmp(t, "float") ? YT_FLOAT
				    : !strcmp(t, "bool")  ? YT_BOOL
				    : !strcmp(t, "null")  ? YT_NULL
							  : YT_STR;
		if (want != YT_STR) {
			resolve_plain(n);
			if (n->type == want || (want == YT_FLOAT && n->type == YT_INT)) {
				n->type = want;
				return true;
			}
			diag_add(ld->errs, "", n->line, n->col,
				 "value \"%s\" does not match its tag !!%s", n->str, t);
			ld->failed = true;
			return false;
		}
	}
	if (t &&
	    ((n->kind == YT_MAP && !strcmp(t, "map")) || (n->kind == YT_SEQ && !strcmp(t, "seq"))))
		return true;
	diag_add(ld->errs, "", n->line, n->col, "YAML tag \"%s%s\" is not supported here",
		 t ? "!!" : "", t ? t : tag);
	ld->failed = true;
	return false;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* Attach a finished node (or an alias target) to the open collection. In a
 * mapping, children alternate key, value: the key waits in pending_key.
 * Keys count in their mapping's size and bytes like values do. */
static void attach(struct loader *ld, struct yt_node *n, bool is_alias)
{
	if (ld->depth == 0) {
		ld->doc->root = n;
		return;
	}
	struct yt_node *parent = ld->stack[ld->depth - 1];
	/* saturate: alias bombs are caught by the expansion budgets anyway */
	parent->size = add_sat(parent->size, n->size);
	parent->bytes = add_sat(parent->bytes, n->bytes);
	if (parent->kind == YT_MAP && !parent->pending_key) {
		if (n->kind != YT_SCALAR) {
			diag_add(ld->errs, "", n->line, n->col,
				 "a mapping key must be a plain string, not a %s", yt_describe(n));
			ld->failed = true;
			return;
		}
		if (!is_alias && n->type == YT_STR && !strcmp(n->str, "<<")) {
			diag_add(ld->errs, "", n->line, n->col,
				 "YAML merge keys (<<) are not supported; write the fields out");
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
}

/* FNV-1a with a per-load random basis, finished with a 64-bit mixer: a
 * manifest cannot be written to make anchor names collide. */
static uint64_t anchor_hash(const struct loader *ld, const char *s)
{
	uint64_t h = ld->seed;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* The slot holding NAME, or the free slot where it would go. */
static struct anchor *anchor_slot(struct loader *ld, const char *name, uint64_t h)
{
	size_t mask = ld->capanchors - 1;
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		struct anchor *a = &ld->anchors[i];
		if (!a->name || (a->hash == h && !strcmp(a->name, name)))
			return a;
	}
}

static void anchor_grow(struct loader *ld)
{
	struct anchor *old = ld->anchors;
	size_t oldcap = ld->capanchors;
	ld->capanchors = oldcap ? oldcap * 2 : 64;
	ld->anchors = xcalloc(ld->capanchors, sizeof(*ld->anchors));
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].name)
			*anchor_slot(ld, old[i].name, old[i].hash) = old[i];
	free(old);
}

/* Define (or redefine: the latest definition wins) anchor NAME as N. */
static void anchor_define(struct loader *ld, const char *name, struct yt_node *n, bool open)
{
	if (!name)
		return;
	if ((ld->nanchors + 1) * 2 > ld->capanchors)
		anchor_grow(ld);
	uint64_t h = anchor_hash(ld, name);
	struct anchor *a = anchor_slot(ld, name, h);
	if (!a->name) {
		a->name = xstrdup(name);
		a->hash = h;
		ld->nanchors++;
	}
	a->node = n;
	a->open = open;
}

static struct anchor *anchor_find(struct loader *ld, const char *name)
{
	if (!ld->nanchors)
		return NULL;
	struct anchor *a = anchor_slot(ld, name, anchor_hash(ld, name));
	return a->name ? a : NULL;
}

/* A collection with anchor NAME ended: aliases may refer to it now (unless
 * an inner node has redefined the anchor meanwhile). */
static void anchor_close(struct loader *ld, const char *name, const struct yt_node *n)
{
	struct anchor *a = name ? anchor_find(ld, name) : NULL;
	if (a && a->node == n)
		a->open = false;
}

static uint64_t random_seed(const void *salt)
{
	uint64_t seed;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed =
		    (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)salt ^ ((uint64_t)getpid() << 32);
	return seed | 1;
}

/* The byte offset of 1-based LINE and COL in BUF, counted as check_bytes
 * counts them; LEN if past the end. */
static size_t offset_of(const char *buf, size_t len, int line, int col)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0;
	for (int l = 1; l < line && i < len; i++) {
		if (s[i] == '\n' || (s[i] == '\r' && (i + 1 == len || s[i + 1] != '\n')))
			l++;
	}
	for (int c = 1; c < col && i < len; c++)
		for (i++; i < len && (s[i] & 0xC0) == 0x80; i++)
			;
	return i;
}

static void syntax_error(struct loader *ld, yaml_parser_t *p, const char *buf, size_t len)
{
	const char *problem = p->problem ? p->problem : "unknown problem";
	yaml_mark_t m = p->problem_mark;
	int line = (int)m.line + 1, col = (int)m.column + 1;
	/* the commonest mistake has the least helpful message: say it */
	size_t at = offset_of(buf, len, line, col);
	const char *hint = at < len && buf[at] == '\t'
			       ? "; YAML does not allow tabs for indentation, use spaces"
			       : "";
	if (p->context)
		diag_add(ld->errs, "", line, col, "YAML syntax error: %s %s (line %d, column %d)%s",
			 problem, p->context, (int)p->context_mark.line + 1,
			 (int)p->context_mark.column + 1, hint);
	else
		diag_add(ld->errs, "", line, col, "YAML syntax error: %s%s", problem, hint);
	ld->failed = true;
}

/* Charge an alias to T against the expansion budgets: nodes (a billion
 * laughs) and scalar bytes (one long string aliased many times). */
static bool charge_alias(struct loader *ld, const struct yt_node *t, const yaml_mark_t *m,
			 const char *name)
{
	ld->expanded = add_sat(ld->expanded, t->size);
	ld->expanded_bytes = add_sat(ld->expanded_bytes, t->bytes);
	if (ld->expanded > YT_MAX_EXPANDED) {
		diag_add(ld->errs, "", (int)m->line + 1, (int)m->column + 1,
			 "aliases expand to more than %d nodes (an alias bomb?) at alias *%s",
			 YT_MAX_EXPANDED, name);
	} else if (ld->expanded_bytes > YT_MAX_EXPANDED_BYTES) {
		diag_add(
		    ld->errs, "", (int)m->line + 1, (int)m->column + 1,
		    "aliases expand to more than %d bytes of text (an alias bomb?) at alias *%s",
		    YT_MAX_EXPANDED_BYTES, name);
	} else {
		return true;
	}
	ld->failed = true;
	return false;
}

int yt_load(const char *buf, size_t len, struct yt_doc **out, struct diag_list *errs)
{
	*out = NULL;
	if (len > YT_MAX_BYTES) {
		diag_add(errs, "", 0, 0, "manifest is %zu bytes; the limit is %d bytes (1 MiB)",
			 len, YT_MAX_BYTES);
		return -EINVAL;
	}
	if (check_bytes(buf, len, errs) < 0)
		return -EINVAL;

	struct loader ld = {.errs = errs};
	ld.seed = random_seed(&ld);
	ld.doc = xcalloc(1, sizeof(*ld.doc));
	/* the anchor of each open collection, to close it at its end */
	char *anchor_stack[YT_MAX_DEPTH + 2] = {0};
	yaml_parser_t p;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	int docs = 0;
	bool done = false;
	while (!done && !ld.failed) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			syntax_error(&ld, &p, buf, len);
			break;
		}
		yaml_mark_t *m = &ev.start_mark;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				diag_add(
				    errs, "", (int)m->line + 1, (int)m->column + 1,
				    "more than one YAML document; a manifest holds exactly one "
				    "Pod");
				ld.failed = true;
			}
			break;
		case YAML_SCALAR_EVENT: {
			struct yt_node *n = new_node(&ld, YT_SCALAR, m);
			if (!n)
				break;
			n->str =
			    xstrndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
			n->bytes = ev.data.scalar.length;
			if (strlen(n->str) != ev.data.scalar.length) {
				/* an escaped \0 inside a quoted string */
				diag_add(errs, "", n->line, n->col,
					 "string contains a NUL character");
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
			anchor_define(&ld, (const char *)ev.data.scalar.anchor, n, false);
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
			const char *tag = (const char *)(map ? ev.data.mapping_start.tag
							     : ev.data.sequence_start.tag);
			const char *anc = (const char *)(map ? ev.data.mapping_start.anchor
							     : ev.data.sequence_start.anchor);
			if (!apply_tag(&ld, n, tag))
				break;
			anchor_define(&ld, anc, n, true);
			anchor_stack[ld.depth] = anc ? xstrdup(anc) : NULL;
			ld.stack[ld.depth++] = n;
			break;
		}
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT: {
			struct yt_node *n = ld.stack[--ld.depth];
			char *anc = anchor_stack[ld.depth];
			anchor_stack[ld.depth] = NULL;
			anchor_close(&ld, anc, n);
			free(anc);
			attach(&ld, n, false);
			break;
		}
		case YAML_ALIAS_EVENT: {
			const char *name = (const char *)ev.data.alias.anchor;
			struct anchor *a = anchor_find(&ld, name);
			if (!a) {
				diag_add(errs, "", (int)m->line + 1, (int)m->column + 1,
					 "alias *%s refers to no earlier anchor &%s", name, name);
				ld.failed = true;
				break;
			}
			if (a->open) {
				diag_add(errs, "", (int)m->line + 1, (int)m->column + 1,
					 "alias *%s refers to a node that contains it (line %d); "
					 "recursive structures are not allowed",
					 name, a->node->line);
				ld.failed = true;
				break;
			}
			if (!charge_alias(&ld, a->node, m, name))
				break;
			attach(&ld, a->node, true);
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
	for (size_t i = 0; i < ld.capanchors; i++)
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
