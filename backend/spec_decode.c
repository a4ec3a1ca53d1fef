/* spec_decode.c: the YAML tree to struct spec_pod, strictly. Every field a
 * manifest may hold is listed here; anything else is an error naming the
 * field path and suggesting the nearest known name. Type mismatches are
 * reported the way Kubernetes' JSON decoding would refuse them, with a hint
 * (a quoted number where a string is due). */
#include "backend/spec.h"
#include "backend/quantity.h"
#include "backend/util.h"
#include "backend/yamltree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_STRUCT_KEYS 100 /* no Kubernetes object has nearly this many fields */

struct dctx {
	struct diag_list *errs;
	struct strbuf path;
};

static size_t path_push(struct dctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t path_push(struct dctx *c, const char *fmt, ...)
{
	size_t old = c->path.len;
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	if (c->path.len && s[0] != '[')
		sb_putc(&c->path, '.');
	sb_puts(&c->path, s);
	free(s);
	return old;
}

static void path_pop(struct dctx *c, size_t old)
{
	c->path.len = old;
	if (c->path.buf)
		c->path.buf[old] = '\0';
}

static const char *cur_path(struct dctx *c)
{
	return c->path.buf ? c->path.buf : "";
}

static void err_at(struct dctx *c, const struct yt_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void err_at(struct dctx *c, const struct yt_node *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_add(c->errs, cur_path(c), n ? n->line : 0, n ? n->col : 0, "%s", msg);
	free(msg);
}

static bool is_null(const struct yt_node *n)
{
	return !n || (n->kind == YT_SCALAR && n->type == YT_NULL);
}

/* "got an integer 8080" style description of a node, for type errors. */
static char *describe_value(const struct yt_node *n)
{
	if (n->kind != YT_SCALAR)
		return xasprintf("a %s", yt_describe(n));
	const char *what = yt_describe(n);
	const char *art = (what[0] == 'i') ? "an" : "a";
	if (n->type == YT_STR)
		return xasprintf("%s %s \"%s\"", art, what, n->str);
	return xasprintf("%s %s %s", art, what, n->str);
}

/* Does a string scalar spell an integer (so it was quoted, as "80")? */
static bool str_is_int(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static bool str_is_bool(const char *s)
{
	static const char *const words[] = {"true", "false", "yes", "no", "on", "off", NULL};
	for (size_t i = 0; words[i]; i++)
		if (!strcasecmp(s, words[i]))
			return true;
	return false;
}

static void type_error(struct dctx *c, const struct yt_node *n, const char *want)
{
	cleanup_free char *got = describe_value(n);
	if (n->kind == YT_SCALAR && !strcmp(want, "string"))
		err_at(c, n, "expected a string, got %s; quote it: \"%s\"", got, n->str);
	else if (n->kind == YT_SCALAR && n->type == YT_STR && !strcmp(want, "an integer") &&
		 str_is_int(n->str))
		err_at(c, n, "expected an integer, got %s; remove the quotes: %s", got, n->str);
	else if (n->kind == YT_SCALAR && n->type == YT_STR && !strncmp(want, "a boolean", 9) &&
		 str_is_bool(n->str))
		err_at(c, n, "expected %s, got %s; write true or false without quotes", want, got);
	else
		err_at(c, n, "expected %s, got %s", want, got);
}

static void dec_str(struct dctx *c, const struct yt_node *n, char **out)
{
	if (is_null(n))
		return;
	if (n->kind != YT_SCALAR || n->type != YT_STR) {
		type_error(c, n, "string");
		return;
	}
	free(*out);
	*out = xstrdup(n->str);
}

/* An integer within [lo, hi]; *set (if given) records that it was present. */
static void dec_int(struct dctx *c, const struct yt_node *n, int64_t *out, bool *set, int64_t lo,
		    int64_t hi)
{
	if (is_null(n))
		return;
	if (n->kind != YT_SCALAR || n->type != YT_INT) {
		type_error(c, n, "an integer");
		return;
	}
	if (n->int_overflow || n->ival < lo || n->ival > hi) {
		err_at(c, n, "value %s is out of range [%lld, %lld]", n->str, (long long)lo,
		       (long long)hi);
		return;
	}
	*out = n->ival;
	if (set)
		*set = true;
}

#define I32_MIN (-2147483647LL - 1)
#define I32_MAX 2147483647LL

static void dec_bool(struct dctx *c, const struct yt_node *n, bool *out, bool *set)
{
	if (is_null(n))
		return;
	if (n->kind != YT_SCALAR || n->type != YT_BOOL) {
		type_error(c, n, "a boolean (true or false)");
		return;
	}
	*out = n->bval;
	if (set)
		*set = true;
}

static void dec_strlist(struct dctx *c, const struct yt_node *n, struct spec_strlist *out)
{
	if (is_null(n))
		return;
	if (n->kind != YT_SEQ) {
		type_error(c, n, "a list of strings");
		return;
	}
	out->set = true;
	out->v = xcalloc(n->n + 1, sizeof(char *));
	for (size_t i = 0; i < n->n; i++) {
		size_t p = path_push(c, "[%zu]", i);
		const struct yt_node *e = n->vals[i];
		if (e->kind != YT_SCALAR || e->type != YT_STR)
			type_error(c, e, "string");
		else
			out->v[out->n++] = xstrdup(e->str);
		path_pop(c, p);
	}
}

/* map[string]string (labels, annotations). Duplicate keys are found by
 * sorting, so a hostile map of many keys costs n log n. */
static int cmp_kv(const void *a, const void *b)
{
	return strcmp(((const struct spec_kv *)a)->key, ((const struct spec_kv *)b)->key);
}

static void dec_strmap(struct dctx *c, const struct yt_node *n, struct spec_kvlist *out)
{
	if (is_null(n))
		return;
	if (n->kind != YT_MAP) {
		type_error(c, n, "a mapping of strings to strings");
		return;
	}
	out->v = xcalloc(n->n ? n->n : 1, sizeof(*out->v));
	for (size_t i = 0; i < n->n; i++) {
		const struct yt_node *k = n->keys[i], *v = n->vals[i];
		size_t p = path_push(c, "[%s]", k->str);
		if (k->type != YT_STR) {
			err_at(c, k, "key %s must be a string; quote it", k->str);
		} else if (v->kind != YT_SCALAR || v->type != YT_STR) {
			if (is_null(v))
				err_at(c, v, "expected a string, got null; write \"\" for an empty "
					     "value");
			else
				type_error(c, v, "string");
		} else {
			out->v[out->n].key = xstrdup(k->str);
			out->v[out->n].value = xstrdup(v->str);
			out->n++;
		}
		path_pop(c, p);
	}
	if (out->n > 1) {
		struct spec_kv *sorted = xmalloc(out->n * sizeof(*sorted));
		memcpy(sorted, out->v, out->n * sizeof(*sorted));
		qsort(sorted, out->n, sizeof(*sorted), cmp_kv);
		for (size_t i = 1; i < out->n; i++)
			if (!strcmp(sorted[i].key, sorted[i - 1].key)) {
				size_t p = path_push(c, "[%s]", sorted[i].key);
				err_at(c, n, "duplicate key");
				path_pop(c, p);
			}
		free(sorted);
	}
}

static bool expect_map(struct dctx *c, const struct yt_node *n, const char *what)
{
	if (n->kind == YT_MAP) {
		if (n->n > MAX_STRUCT_KEYS) {
			err_at(c, n, "%s has %zu fields; that is not a %s", what, n->n, what);
			return false;
		}
		return true;
	}
	cleanup_free char *got = describe_value(n);
	err_at(c, n, "expected a %s (a mapping), got %s", what, got);
	return false;
}

/* A field known to Kubernetes that podfs does not implement. */
struct unsupported {
	const char *name, *why;
};

/* Does MAP hold a field of UNSUP (already reported as unsupported)? */
static bool has_unsupported(const struct yt_node *map, const struct unsupported *unsup)
{
	for (size_t i = 0; i < map->n; i++)
		for (size_t j = 0; unsup[j].name; j++)
			if (!strcmp(map->keys[i]->str, unsup[j].name))
				return true;
	return false;
}

/* Report fields of MAP that are not in KNOWN: a known-but-unsupported field
 * gets its reason, anything else "unknown field" with a suggestion. Also
 * reports duplicates. as[i] is set to the name field i is decoded as: its
 * own, or for a typo the suggested field (so errors inside it are found in
 * the same pass, as a compiler carries on), or NULL to skip it. */
static void check_fields(struct dctx *c, const struct yt_node *map, const char *const *known,
			 const struct unsupported *unsup, const char **as)
{
	const char *cands[128];
	size_t nc = 0;
	for (size_t i = 0; known[i] && nc < 120; i++)
		cands[nc++] = known[i];
	for (size_t i = 0; unsup && unsup[i].name && nc < 127; i++)
		cands[nc++] = unsup[i].name;
	cands[nc] = NULL;
	for (size_t i = 0; i < map->n; i++) {
		const struct yt_node *k = map->keys[i];
		bool skip = false;
		as[i] = k->str;
		size_t p = path_push(c, "%s", k->str);
		for (size_t j = 0; j < i && !skip; j++)
			if (!strcmp(map->keys[j]->str, k->str)) {
				err_at(c, k, "duplicate field (first given on line %d); keep one",
				       map->keys[j]->line);
				skip = true;
			}
		bool found = false;
		for (size_t j = 0; known[j]; j++)
			if (!strcmp(known[j], k->str))
				found = true;
		if (skip)
			as[i] = NULL;
		if (!found && !skip) {
			as[i] = NULL;
			const struct unsupported *u = NULL;
			for (size_t j = 0; unsup && unsup[j].name; j++)
				if (!strcmp(unsup[j].name, k->str))
					u = &unsup[j];
			if (u) {
				err_at(c, k, "not supported by podfs: %s", u->why);
			} else if (c->errs->n >= DIAG_MAX) {
				c->errs->dropped++;
			} else {
				const char *s = util_suggest(k->str, cands);
				if (s) {
					err_at(c, k, "unknown field; did you mean %s?", s);
					bool is_known = false;
					for (size_t j = 0; known[j]; j++)
						if (!strcmp(known[j], s))
							is_known = true;
					/* decode it as the field it was meant to be, unless
					 * that field is there too or another typo took it:
					 * a field is decoded at most once */
					bool taken = yt_get(map, s) != NULL;
					for (size_t j = 0; j < i && !taken; j++)
						taken = as[j] && !strcmp(as[j], s);
					if (is_known && !taken)
						as[i] = s;
				} else {
					struct strbuf sb;
					sb_init(&sb);
					for (size_t j = 0; known[j]; j++)
						sb_printf(&sb, "%s%s", j ? ", " : "", known[j]);
					err_at(c, k, "unknown field (known fields: %s)", sb.buf);
					sb_free(&sb);
				}
			}
		}
		path_pop(c, p);
	}
}

/* Iterate over the fields of a struct-like mapping that passed expect_map:
 *   FOR_FIELDS(c, map, known, unsup, key, val) { ... }
 * with the field's path pushed around the body; unknown, unsupported and
 * duplicate fields are reported first and skipped. `continue` moves on to
 * the next field. */
#define CAT_(a, b) a##b
#define CAT(a, b)  CAT_(a, b)
#define FOR_FIELDS(c, m, known, unsup, key, val) FOR_FIELDS_(c, m, known, unsup, key, val, __COUNTER__)
#define FOR_FIELDS_(c, m, known, unsup, key, val, id)                                              \
	const char *CAT(as_, id)[MAX_STRUCT_KEYS + 1];                                             \
	check_fields((c), (m), (known), (unsup), CAT(as_, id));                                    \
	for (size_t CAT(fi_, id) = 0, CAT(pp_, id) = 0; CAT(fi_, id) < (m)->n; CAT(fi_, id)++)     \
		if (CAT(as_, id)[CAT(fi_, id)] &&                                                  \
		    ((CAT(pp_, id) = path_push((c), "%s", (m)->keys[CAT(fi_, id)]->str)), 1))      \
			for (const char *key = CAT(as_, id)[CAT(fi_, id)]; key;                    \
			     key = NULL, path_pop((c), CAT(pp_, id)))                              \
				for (const struct yt_node *val = (m)->vals[CAT(fi_, id)]; val;     \
				     val = NULL)

#define IS(k) (!strcmp(key, (k)))

static void dec_port_ref(struct dctx *c, const struct yt_node *n, struct spec_port_ref *out)
{
	if (is_null(n))
		return;
	if (n->kind == YT_SCALAR && n->type == YT_INT) {
		dec_int(c, n, &out->num, &out->set, I32_MIN, I32_MAX);
		return;
	}
	if (n->kind == YT_SCALAR && n->type == YT_STR) {
		/* IntOrString: a quoted number is a number, as Kubernetes decodes it */
		char *end;
		long long v = strtoll(n->str, &end, 10);
		if (*n->str && *end == '\0' && n->str[0] != '+' && n->str[0] != '-') {
			out->num = v;
		} else {
			out->is_name = true;
			out->name = xstrdup(n->str);
		}
		out->set = true;
		return;
	}
	type_error(c, n, "a port number or name");
}

static const char *const http_header_known[] = {"name", "value", NULL};

static void set_handler(struct dctx *c, const struct yt_node *v, struct spec_handler *h,
			enum spec_handler_kind kind)
{
	if (h->kind != SPEC_H_NONE && h->kind != kind) {
		err_at(c, v, "may not specify more than 1 handler type");
		return;
	}
	h->kind = kind;
}

static void dec_exec(struct dctx *c, const struct yt_node *n, struct spec_handler *h)
{
	static const char *const known[] = {"command", NULL};
	if (!expect_map(c, n, "exec action"))
		return;
	FOR_FIELDS(c, n, known, NULL, key, val)
	{
		if (IS("command"))
			dec_strlist(c, val, &h->exec_command);
	}
}

static void dec_http(struct dctx *c, const struct yt_node *n, struct spec_handler *h)
{
	static const char *const known[] = {"path", "port", "host", "scheme", "httpHeaders", NULL};
	if (!expect_map(c, n, "httpGet action"))
		return;
	FOR_FIELDS(c, n, known, NULL, key, val)
	{
		if (IS("path"))
			dec_str(c, val, &h->path);
		else if (IS("port"))
			dec_port_ref(c, val, &h->port);
		else if (IS("host"))
			dec_str(c, val, &h->host);
		else if (IS("scheme"))
			dec_str(c, val, &h->scheme);
		else if (IS("httpHeaders")) {
			if (is_null(val))
				continue;
			if (val->kind != YT_SEQ) {
				type_error(c, val, "a list of {name, value}");
				continue;
			}
			h->http_headers.v = xcalloc(val->n + 1, sizeof(struct spec_kv));
			for (size_t i = 0; i < val->n; i++) {
				size_t p = path_push(c, "[%zu]", i);
				const struct yt_node *e = val->vals[i];
				if (expect_map(c, e, "HTTP header")) {
					struct spec_kv *kv = &h->http_headers.v[h->http_headers.n++];
					FOR_FIELDS(c, e, http_header_known, NULL, hk, hv)
					{
						if (!strcmp(hk, "name"))
							dec_str(c, hv, &kv->key);
						else
							dec_str(c, hv, &kv->value);
					}
					if (!kv->key)
						err_at(c, e, "name: required value");
					if (!kv->value)
						kv->value = xstrdup("");
				}
				path_pop(c, p);
			}
		}
	}
}

static void dec_tcp(struct dctx *c, const struct yt_node *n, struct spec_handler *h)
{
	static const char *const known[] = {"port", "host", NULL};
	if (!expect_map(c, n, "tcpSocket action"))
		return;
	FOR_FIELDS(c, n, known, NULL, key, val)
	{
		if (IS("port"))
			dec_port_ref(c, val, &h->port);
		else if (IS("host"))
			dec_str(c, val, &h->host);
	}
}

static void dec_grpc(struct dctx *c, const struct yt_node *n, struct spec_handler *h)
{
	static const char *const known[] = {"port", "service", NULL};
	if (!expect_map(c, n, "grpc action"))
		return;
	FOR_FIELDS(c, n, known, NULL, key, val)
	{
		if (IS("port")) {
			/* grpc takes an integer port only */
			if (!is_null(val) && !(val->kind == YT_SCALAR && val->type == YT_INT))
				type_error(c, val, "an integer port number (grpc does not take port "
						   "names)");
			else
				dec_int(c, val, &h->port.num, &h->port.set, I32_MIN, I32_MAX);
		} else if (IS("service")) {
			dec_str(c, val, &h->grpc_service);
		}
	}
}

static void dec_sleep(struct dctx *c, const struct yt_node *n, struct spec_handler *h)
{
	static const char *const known[] = {"seconds", NULL};
	if (!expect_map(c, n, "sleep action"))
		return;
	bool set = false;
	FOR_FIELDS(c, n, known, NULL, key, val)
	{
		if (IS("seconds"))
			dec_int(c, val, &h->sleep_seconds, &set, INT64_MIN, INT64_MAX);
	}
	if (!set)
		err_at(c, n, "seconds: required value");
}

/* One handler key of a probe or hook; returns false if KEY is not one. */
static bool dec_handler_key(struct dctx *c, const char *key, const struct yt_node *val,
			    struct spec_handler *h)
{
	if (is_null(val))
		return !strcmp(key, "exec") || !strcmp(key, "httpGet") ||
		       !strcmp(key, "tcpSocket") || !strcmp(key, "grpc") || !strcmp(key, "sleep");
	if (IS("exec")) {
		set_handler(c, val, h, SPEC_H_EXEC);
		dec_exec(c, val, h);
	} else if (IS("httpGet")) {
		set_handler(c, val, h, SPEC_H_HTTP);
		dec_http(c, val, h);
	} else if (IS("tcpSocket")) {
		set_handler(c, val, h, SPEC_H_TCP);
		dec_tcp(c, val, h);
	} else if (IS("grpc")) {
		set_handler(c, val, h, SPEC_H_GRPC);
		dec_grpc(c, val, h);
	} else if (IS("sleep")) {
		set_handler(c, val, h, SPEC_H_SLEEP);
		dec_sleep(c, val, h);
	} else {
		return false;
	}
	return true;
}

static struct spec_probe *dec_probe(struct dctx *c, const struct yt_node *n)
{
	static const char *const known[] = {
		"exec", "httpGet", "tcpSocket", "grpc", "initialDelaySeconds", "timeoutSeconds",
		"periodSeconds", "successThreshold", "failureThreshold",
		"terminationGracePeriodSeconds", NULL};
	static const struct unsupported unsup[] = {
		{"sleep", "sleep is a lifecycle hook action, not a probe handler; probes take exec, "
			  "httpGet, tcpSocket or grpc"},
		{NULL, NULL}};
	if (is_null(n) || !expect_map(c, n, "probe"))
		return NULL;
	struct spec_probe *p = xcalloc(1, sizeof(*p));
	FOR_FIELDS(c, n, known, unsup, key, val)
	{
		if (dec_handler_key(c, key, val, &p->h))
			continue;
		if (IS("initialDelaySeconds"))
			dec_int(c, val, &p->initial_delay_seconds, NULL, I32_MIN, I32_MAX);
		else if (IS("timeoutSeconds"))
			dec_int(c, val, &p->timeout_seconds, NULL, I32_MIN, I32_MAX);
		else if (IS("periodSeconds"))
			dec_int(c, val, &p->period_seconds, NULL, I32_MIN, I32_MAX);
		else if (IS("successThreshold"))
			dec_int(c, val, &p->success_threshold, NULL, I32_MIN, I32_MAX);
		else if (IS("failureThreshold"))
			dec_int(c, val, &p->failure_threshold, NULL, I32_MIN, I32_MAX);
		else if (IS("terminationGracePeriodSeconds"))
			dec_int(c, val, &p->termination_grace_seconds, &p->has_termination_grace,
				INT64_MIN, INT64_MAX);
	}
	if (p->h.kind == SPEC_H_NONE && !has_unsupported(n, unsup))
		err_at(c, n, "must specify a handler type (exec, httpGet, tcpSocket or grpc)");
	return p;
}

static struct spec_handler *dec_hook(struct dctx *c, const struct yt_node *n)
{
	static const char *const known[] = {"exec", "httpGet", "tcpSocket", "sleep", NULL};
	static const struct unsupported unsup[] = {
		{"grpc", "lifecycle hooks take exec, httpGet, tcpSocket or sleep"}, {NULL, NULL}};
	if (is_null(n) || !expect_map(c, n, "lifecycle handler"))
		return NULL;
	struct spec_handler *h = xcalloc(1, sizeof(*h));
	FOR_FIELDS(c, n, known, unsup, key, val)
	{
		dec_handler_key(c, key, val, h);
	}
	if (h->kind == SPEC_H_NONE && !has_unsupported(n, unsup))
		err_at(c, n, "must specify a handler type (exec, httpGet, tcpSocket or sleep)");
	return h;
}

static void dec_lifecycle(struct dctx *c, const struct yt_node *n, struct spec_container *ct)
{
	static const char *const known[] = {"postStart", "preStop", NULL};
	static const struct unsupported unsup[] = {
		{"stopSignal", "the stop signal comes from the image (SIGTERM by default)"},
		{NULL, NULL}};
	if (is_null(n) || !expect_map(c, n, "lifecycle"))
		return;
	FOR_FIELDS(c, n, known, unsup, key, val)
	{
		if (IS("postStart"))
			ct->post_start = dec_hook(c, val);
		else if (IS("preStop"))
			ct->pre_stop = dec_hook(c, val);
	}
}

static void dec_quantity(struct dctx *c, const struct yt_node *n, bool cpu, int64_t *out,
			 bool *set)
{
	if (is_null(n))
		return;
	if (n->kind != YT_SCALAR || n->type == YT_BOOL) {
		type_error(c, n, "a quantity such as 500m, 1.5 or 128Mi");
		return;
	}
	__int128 milli;
	char why[256];
	if (qty_parse(n->str, &milli, why, sizeof(why)) < 0) {
		err_at(c, n, "%s", why);
		return;
	}
	int64_t v;
	if ((cpu ? qty_to_milli(milli, &v) : qty_to_units(milli, &v)) < 0) {
		err_at(c, n, "quantity \"%s\" is too large", n->str);
		return;
	}
	*out = v;
	*set = true;
}

static void dec_rlist(struct dctx *c, const struct yt_node *n, struct spec_rlist *rl)
{
	static const char *const known[] = {"cpu", "memory", "ephemeral-storage", NULL};
	static const struct unsupported unsup[] = {
		{"hugepages-2Mi", "podfs does not manage huge pages"},
		{"hugepages-1Gi", "podfs does not manage huge pages"},
		{"nvidia.com/gpu", "podfs has no device plugins"},
		{"pods", "not a container resource"},
		{NULL, NULL}};
	if (is_null(n) || !expect_map(c, n, "resource list"))
		return;
	FOR_FIELDS(c, n, known, unsup, key, val)
	{
		if (IS("cpu"))
			dec_quantity(c, val, true, &rl->cpu_milli, &rl->has_cpu);
		else if (IS("memory"))
			dec_quantity(c, val, false, &rl->memory, &rl->has_memory);
		else if (IS("ephemeral-storage"))
			dec_quantity(c, val, false, &rl->ephemeral, &rl->has_ephemeral);
	}
}

static void dec_resources(struct dctx *c, const struct yt_node *n, struct spec_resources *r)
{
	static const char *const known[] = {"requests", "limits", NULL};
	static const struct unsupported unsup[] = {
		{"claims", "podfs has no dynamic resource allocation"}, {NULL, NULL}};
	if (is_null(n) || !expect_map(c, n, "resources"))
		return;
	FOR_FIELDS(c, n, known, unsup, key, val)
	{
		if (IS("requests"))
			dec_rlist(c, val, &r->requests);
		else if (IS("limits"))
			dec_rlist(c, val, &r->limits);
	}
}

static void dec_env(struct dctx *c, const struct yt_node *n, struct spec_env *e)
{
	static const char *const known[] = {"name", "value", "valueFrom", NULL};
	static const char *const from_known[] = {"fieldRef", "resourceFieldRef", NULL};
	static const struct unsupported from_unsup[] = {
		{"configMapKeyRef", "podfs has no ConfigMaps"},
		{"secretKeyRef", "podfs has no Secrets"},
		{"fileKeyRef", "not supported"},
		{NULL, NULL}};
	static const char *const field_known[] = {"fieldPath", "apiVersion", NULL};
	static const char *const res_known[] = {"resource", "containerName", "divisor", NULL};
	if (!expect_map(c, n, "environment variable"))
		return;
	bool has_from = false;
	FOR_FIELDS(c, n, known, NULL, key, val)
	{
		if (IS("name")) {
			dec_str(c, val, &e->name);
		} else if (IS("value")) {
			dec_str(c, val, &e->value);
		} else if (IS("valueFrom")) {
			if (is_null(val) || !expect_map(c, val, "valueFrom"))
				continue;
			has_from = true;
			int sources = 0;
			FOR_FIELDS(c, val, from_known, from_unsup, fk, fv)
			{
				if (is_null(fv))
					continue;
				if (++sources > 1) {
					err_at(c, fv, "may not have more than one field specified at a "
						      "time");
					continue;
				}
				if (!strcmp(fk, "fieldRef")) {
					e->source = SPEC_ENV_FIELD;
					if (!expect_map(c, fv, "fieldRef"))
						continue;
					FOR_FIELDS(c, fv, field_known, NULL, k2, v2)
					{
						if (!strcmp(k2, "fieldPath"))
							dec_str(c, v2, &e->field_path);
						else
							dec_str(c, v2, &e->field_api_version);
					}
					if (!e->field_path) {
						size_t p = path_push(c, "fieldPath");
						err_at(c, fv, "required value");
						path_pop(c, p);
					}
				} else {
					e->source = SPEC_ENV_RESOURCE;
					if (!expect_map(c, fv, "resourceFieldRef"))
						continue;
					FOR_FIELDS(c, fv, res_known, NULL, k2, v2)
					{
						if (!strcmp(k2, "resource"))
							dec_str(c, v2, &e->resource);
						else if (!strcmp(k2, "containerName"))
							dec_str(c, v2, &e->container_name);
						else if (v2->kind == YT_SCALAR &&
							 v2->type != YT_NULL && v2->type != YT_BOOL)
							e->divisor = xstrdup(v2->str);
						else if (!is_null(v2))
							type_error(c, v2, "a quantity such as 1, 1m or 1Mi");
					}
					if (!e->resource) {
						size_t p = path_push(c, "resource");
						err_at(c, fv, "required value");
						path_pop(c, p);
					}
				}
			}
			/* an unsupported source (secretKeyRef) has had its own error */
			if (sources == 0 && !has_unsupported(val, from_unsup))
				err_at(c, val, "must specify one of: fieldRef, resourceFieldRef");
		}
	}
	if (has_from && e->value && *e->value) {
		size_t p = path_push(c, "valueFrom");
		err_at(c, yt_get(n, "valueFrom"), "may not be specified when `value` is not empty");
		path_pop(c, p);
	}
	if (!e->value)
		e->value = xstrdup("");
}

static void dec_port(struct dctx *c, const struct yt_node *n, struct spec_port *pt)
{
	static const char *const known[] = {"containerPort", "hostPort", "hostIP", "name",
					    "protocol", NULL};
	if (!expect_map(c, n, "container port"))
		return;
	FOR_FIELDS(c, n, known, NULL, key, val)
	{
		if (IS("containerPort"))
			dec_int(c, val, &pt->container_port, NULL, I32_MIN, I32_MAX);
		else if (IS("hostPort"))
			dec_int(c, val, &pt->host_port, NULL, I32_MIN, I32_MAX);
		else if (IS("hostIP"))
			dec_str(c, val, &pt->host_ip);
		else if (IS("name"))
			dec_str(c, val, &pt->name);
		else if (IS("protocol"))
			dec_str(c, val, &pt->protocol);
	}
}

static void dec_mount(struct dctx *c, const struct yt_node *n, struct spec_mount *m)
{
	static const char *const known[] = {"name", "mountPath", "subPath", "readOnly", NULL};
	static const struct unsupported unsup[] = {
		{"subPathExpr", "use subPath"},
		{"mountPropagation", "mounts are private"},
		{"recursiveReadOnly", "not supported"},
		{NULL, NULL}};
	if (!expect_map(c, n, "volume mount"))
		return;
	FOR_FIELDS(c, n, known, unsup, key, val)
	{
		if (IS("name"))
			dec_str(c, val, &m->name);
		else if (IS("mountPath"))
			dec_str(c, val, &m->mount_path);
		else if (IS("subPath"))
			dec_str(c, val, &m->sub_path);
		else if (IS("readOnly"))
			dec_bool(c, val, &m->read_only, NULL);
	}
}

static void dec_security(struct dctx *c, const struct yt_node *n, struct spec_security *s,
			 bool pod, struct spec_pod *podspec)
{
	static const char *const ctr_known[] = {
		"runAsUser", "runAsGroup", "runAsNonRoot", "privileged", "readOnlyRootFilesystem",
		"allowPrivilegeEscalation", "capabilities", NULL};
	static const char *const pod_known[] = {"runAsUser", "runAsGroup", "runAsNonRoot",
						"fsGroup", NULL};
	static const struct unsupported unsup[] = {
		{"seLinuxOptions", "podfs does not set SELinux labels"},
		{"seccompProfile", "podfs uses runc's default (no seccomp profile)"},
		{"appArmorProfile", "podfs does not set AppArmor profiles"},
		{"windowsOptions", "podfs runs Linux containers"},
		{"procMount", "not supported"},
		{"supplementalGroups", "not supported yet"},
		{"sysctls", "not supported"},
		{"fsGroupChangePolicy", "not supported"},
		{NULL, NULL}};
	static const char *const cap_known[] = {"add", "drop", NULL};
	if (is_null(n) || !expect_map(c, n, "securityContext"))
		return;
	s->set = true;
	FOR_FIELDS(c, n, pod ? pod_known : ctr_known, unsup, key, val)
	{
		if (IS("runAsUser"))
			dec_int(c, val, &s->run_as_user, &s->has_run_as_user, INT64_MIN, INT64_MAX);
		else if (IS("runAsGroup"))
			dec_int(c, val, &s->run_as_group, &s->has_run_as_group, INT64_MIN,
				INT64_MAX);
		else if (IS("runAsNonRoot"))
			dec_bool(c, val, &s->run_as_non_root, &s->has_run_as_non_root);
		else if (IS("privileged"))
			dec_bool(c, val, &s->privileged, &s->has_privileged);
		else if (IS("readOnlyRootFilesystem"))
			dec_bool(c, val, &s->read_only_root, &s->has_read_only_root);
		else if (IS("allowPrivilegeEscalation"))
			dec_bool(c, val, &s->allow_priv_esc, &s->has_allow_priv_esc);
		else if (IS("fsGroup"))
			dec_int(c, val, &podspec->fs_group, &podspec->has_fs_group, INT64_MIN,
				INT64_MAX);
		else if (IS("capabilities")) {
			if (is_null(val) || !expect_map(c, val, "capabilities"))
				continue;
			FOR_FIELDS(c, val, cap_known, NULL, ck, cv)
			{
				dec_strlist(c, cv, !strcmp(ck, "add") ? &s->cap_add : &s->cap_drop);
			}
		}
	}
}

static void dec_container(struct dctx *c, const struct yt_node *n, struct spec_container *ct)
{
	static const char *const known[] = {
		"name", "image", "imagePullPolicy", "command", "args", "workingDir", "ports", "env",
		"resources", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle",
		"volumeMounts", "securityContext", "terminationMessagePath",
		"terminationMessagePolicy", "restartPolicy", "stdin", "tty", NULL};
	static const struct unsupported unsup[] = {
		{"envFrom", "podfs has no ConfigMaps or Secrets; list variables under env"},
		{"resizePolicy", "in-place resize is not supported"},
		{"volumeDevices", "podfs has no block volumes"},
		{"stdinOnce", "podfs does not attach to containers"},
		{"restartPolicyRules", "not supported"},
		{NULL, NULL}};
	if (!expect_map(c, n, "container"))
		return;
	FOR_FIELDS(c, n, known, unsup, key, val)
	{
		if (IS("name"))
			dec_str(c, val, &ct->name);
		else if (IS("image"))
			dec_str(c, val, &ct->image);
		else if (IS("imagePullPolicy"))
			dec_str(c, val, &ct->image_pull_policy);
		else if (IS("command"))
			dec_strlist(c, val, &ct->command);
		else if (IS("args"))
			dec_strlist(c, val, &ct->args);
		else if (IS("workingDir"))
			dec_str(c, val, &ct->working_dir);
		else if (IS("ports")) {
			if (is_null(val))
				continue;
			if (val->kind != YT_SEQ) {
				type_error(c, val, "a list of ports");
				continue;
			}
			ct->ports = xcalloc(val->n + 1, sizeof(*ct->ports));
			for (size_t i = 0; i < val->n; i++) {
				size_t p = path_push(c, "[%zu]", i);
				dec_port(c, val->vals[i], &ct->ports[ct->nports++]);
				path_pop(c, p);
			}
		} else if (IS("env")) {
			if (is_null(val))
				continue;
			if (val->kind != YT_SEQ) {
				type_error(c, val, "a list of {name, value}");
				continue;
			}
			ct->env = xcalloc(val->n + 1, sizeof(*ct->env));
			for (size_t i = 0; i < val->n; i++) {
				size_t p = path_push(c, "[%zu]", i);
				dec_env(c, val->vals[i], &ct->env[ct->nenv++]);
				path_pop(c, p);
			}
		} else if (IS("resources"))
			dec_resources(c, val, &ct->resources);
		else if (IS("livenessProbe"))
			ct->liveness = dec_probe(c, val);
		else if (IS("readinessProbe"))
			ct->readiness = dec_probe(c, val);
		else if (IS("startupProbe"))
			ct->startup = dec_probe(c, val);
		else if (IS("lifecycle"))
			dec_lifecycle(c, val, ct);
		else if (IS("volumeMounts")) {
			if (is_null(val))
				continue;
			if (val->kind != YT_SEQ) {
				type_error(c, val, "a list of volume mounts");
				continue;
			}
			ct->mounts = xcalloc(val->n + 1, sizeof(*ct->mounts));
			for (size_t i = 0; i < val->n; i++) {
				size_t p = path_push(c, "[%zu]", i);
				dec_mount(c, val->vals[i], &ct->mounts[ct->nmounts++]);
				path_pop(c, p);
			}
		} else if (IS("securityContext"))
			dec_security(c, val, &ct->security, false, NULL);
		else if (IS("terminationMessagePath"))
			dec_str(c, val, &ct->termination_message_path);
		else if (IS("terminationMessagePolicy"))
			dec_str(c, val, &ct->termination_message_policy);
		else if (IS("restartPolicy"))
			dec_str(c, val, &ct->restart_policy);
		else if (IS("stdin"))
			dec_bool(c, val, &ct->stdin_open, NULL);
		else if (IS("tty"))
			dec_bool(c, val, &ct->tty, NULL);
	}
}

static void dec_containers(struct dctx *c, const struct yt_node *n, struct spec_container **out,
			   size_t *nout, bool init)
{
	if (is_null(n))
		return;
	if (n->kind != YT_SEQ) {
		type_error(c, n, "a list of containers");
		return;
	}
	*out = xcalloc(n->n + 1, sizeof(**out));
	for (size_t i = 0; i < n->n; i++) {
		size_t p = path_push(c, "[%zu]", i);
		struct spec_container *ct = &(*out)[(*nout)++];
		ct->is_init = init;
		dec_container(c, n->vals[i], ct);
		path_pop(c, p);
	}
}

static void dec_volume(struct dctx *c, const struct yt_node *n, struct spec_volume *v)
{
	static const char *const known[] = {"name", "emptyDir", "hostPath", NULL};
	static const char *const ed_known[] = {"medium", "sizeLimit", NULL};
	static const char *const hp_known[] = {"path", "type", NULL};
	static const char *const why = "podfs supports emptyDir and hostPath volumes";
	static const struct unsupported unsup[] = {
		{"configMap", "podfs has no ConfigMaps; use hostPath or emptyDir"},
		{"secret", "podfs has no Secrets; use hostPath or emptyDir"},
		{"persistentVolumeClaim", "podfs has no persistent volumes; use hostPath"},
		{"downwardAPI", "use env valueFrom.fieldRef"},
		{"projected", "podfs has no projected volumes"},
		{"nfs", "podfs supports emptyDir and hostPath volumes"},
		{"csi", "podfs supports emptyDir and hostPath volumes"},
		{"ephemeral", "podfs supports emptyDir and hostPath volumes"},
		{"image", "podfs supports emptyDir and hostPath volumes"},
		{"iscsi", "podfs supports emptyDir and hostPath volumes"},
		{"gitRepo", "podfs supports emptyDir and hostPath volumes"},
		{NULL, NULL}};
	(void)why;
	if (!expect_map(c, n, "volume"))
		return;
	int sources = 0;
	FOR_FIELDS(c, n, known, unsup, key, val)
	{
		if (IS("name")) {
			dec_str(c, val, &v->name);
			continue;
		}
		if (++sources > 1) {
			err_at(c, val, "may not specify more than 1 volume type");
			continue;
		}
		if (IS("emptyDir")) {
			v->kind = SPEC_VOL_EMPTYDIR;
			if (is_null(val) || !expect_map(c, val, "emptyDir"))
				continue;
			FOR_FIELDS(c, val, ed_known, NULL, k2, v2)
			{
				if (!strcmp(k2, "medium"))
					dec_str(c, v2, &v->medium);
				else
					dec_quantity(c, v2, false, &v->size_limit,
						     &v->has_size_limit);
			}
		} else if (IS("hostPath")) {
			v->kind = SPEC_VOL_HOSTPATH;
			if (!expect_map(c, val, "hostPath"))
				continue;
			FOR_FIELDS(c, val, hp_known, NULL, k2, v2)
			{
				if (!strcmp(k2, "path"))
					dec_str(c, v2, &v->host_path);
				else
					dec_str(c, v2, &v->host_path_type);
			}
			if (!v->host_path) {
				size_t p = path_push(c, "hostPath.path");
				err_at(c, val, "required value");
				path_pop(c, p);
			}
		}
	}
	/* an unsupported type (configMap) has had its own error */
	if (sources == 0 && !has_unsupported(n, unsup))
		err_at(c, n, "must specify a volume type (emptyDir or hostPath)");
}

static void dec_metadata(struct dctx *c, const struct yt_node *n, struct spec_pod *pod)
{
	static const char *const known[] = {"name", "namespace", "labels", "annotations", "uid",
					    "creationTimestamp", NULL};
	static const struct unsupported unsup[] = {
		{"generateName", "the pod's directory gives its name"},
		{"ownerReferences", "podfs has no controllers"},
		{"finalizers", "podfs has no finalizers"},
		{"managedFields", "not a field to write"},
		{"resourceVersion", "not a field to write"},
		{"generation", "not a field to write"},
		{"selfLink", "not a field to write"},
		{"deletionTimestamp", "delete the pod's directory instead"},
		{"deletionGracePeriodSeconds", "set spec.terminationGracePeriodSeconds"},
		{NULL, NULL}};
	if (is_null(n) || !expect_map(c, n, "metadata"))
		return;
	FOR_FIELDS(c, n, known, unsup, key, val)
	{
		if (IS("name"))
			dec_str(c, val, &pod->name);
		else if (IS("namespace"))
			dec_str(c, val, &pod->namespace);
		else if (IS("uid"))
			dec_str(c, val, &pod->uid);
		else if (IS("labels"))
			dec_strmap(c, val, &pod->labels);
		else if (IS("annotations"))
			dec_strmap(c, val, &pod->annotations);
		/* creationTimestamp (null in generated manifests) is set by podfs */
	}
}

static void dec_host_alias(struct dctx *c, const struct yt_node *n, struct spec_host_alias *ha)
{
	static const char *const known[] = {"ip", "hostnames", NULL};
	if (!expect_map(c, n, "host alias"))
		return;
	FOR_FIELDS(c, n, known, NULL, key, val)
	{
		if (IS("ip"))
			dec_str(c, val, &ha->ip);
		else
			dec_strlist(c, val, &ha->hostnames);
	}
}

static void dec_podspec(struct dctx *c, const struct yt_node *n, struct spec_pod *pod)
{
	static const char *const known[] = {
		"containers", "initContainers", "restartPolicy", "terminationGracePeriodSeconds",
		"activeDeadlineSeconds", "volumes", "hostname", "subdomain", "hostNetwork",
		"shareProcessNamespace", "hostAliases", "nodeName", "serviceAccountName",
		"securityContext", "dnsPolicy", "enableServiceLinks",
		"automountServiceAccountToken", "schedulerName", NULL};
	static const struct unsupported unsup[] = {
		{"affinity", "podfs runs on one node"},
		{"nodeSelector", "podfs runs on one node"},
		{"tolerations", "podfs runs on one node"},
		{"topologySpreadConstraints", "podfs runs on one node"},
		{"priority", "podfs does not preempt pods"},
		{"priorityClassName", "podfs does not preempt pods"},
		{"preemptionPolicy", "podfs does not preempt pods"},
		{"runtimeClassName", "podfs always uses runc"},
		{"overhead", "not supported"},
		{"imagePullSecrets", "podfs has no Secrets; see --registry-mirror and the "
				     "credentials file"},
		{"dnsConfig", "not supported"},
		{"readinessGates", "podfs has no controllers to set them"},
		{"ephemeralContainers", "not supported"},
		{"hostPID", "not supported"},
		{"hostIPC", "not supported"},
		{"hostUsers", "not supported"},
		{"os", "podfs runs Linux pods"},
		{"resourceClaims", "not supported"},
		{"schedulingGates", "podfs does not schedule"},
		{"setHostnameAsFQDN", "not supported"},
		{"serviceAccount", "use serviceAccountName"},
		{"resources", "pod-level resources are not supported; set them per container"},
		{NULL, NULL}};
	if (is_null(n) || !expect_map(c, n, "pod spec"))
		return;
	bool dummy_b = false;
	char *ignored = NULL;
	FOR_FIELDS(c, n, known, unsup, key, val)
	{
		if (IS("containers"))
			dec_containers(c, val, &pod->containers, &pod->ncont, false);
		else if (IS("initContainers"))
			dec_containers(c, val, &pod->init_containers, &pod->ninit, true);
		else if (IS("restartPolicy"))
			dec_str(c, val, &pod->restart_policy);
		else if (IS("terminationGracePeriodSeconds"))
			dec_int(c, val, &pod->termination_grace_seconds, &pod->has_termination_grace,
				INT64_MIN, INT64_MAX);
		else if (IS("activeDeadlineSeconds"))
			dec_int(c, val, &pod->active_deadline_seconds, &pod->has_active_deadline,
				INT64_MIN, INT64_MAX);
		else if (IS("volumes")) {
			if (is_null(val))
				continue;
			if (val->kind != YT_SEQ) {
				type_error(c, val, "a list of volumes");
				continue;
			}
			pod->volumes = xcalloc(val->n + 1, sizeof(*pod->volumes));
			for (size_t i = 0; i < val->n; i++) {
				size_t p = path_push(c, "[%zu]", i);
				dec_volume(c, val->vals[i], &pod->volumes[pod->nvolumes++]);
				path_pop(c, p);
			}
		} else if (IS("hostname"))
			dec_str(c, val, &pod->hostname);
		else if (IS("subdomain"))
			dec_str(c, val, &pod->subdomain);
		else if (IS("hostNetwork"))
			dec_bool(c, val, &pod->host_network, NULL);
		else if (IS("shareProcessNamespace"))
			dec_bool(c, val, &pod->share_process_namespace, NULL);
		else if (IS("hostAliases")) {
			if (is_null(val))
				continue;
			if (val->kind != YT_SEQ) {
				type_error(c, val, "a list of host aliases");
				continue;
			}
			pod->host_aliases = xcalloc(val->n + 1, sizeof(*pod->host_aliases));
			for (size_t i = 0; i < val->n; i++) {
				size_t p = path_push(c, "[%zu]", i);
				dec_host_alias(c, val->vals[i],
					       &pod->host_aliases[pod->nhost_aliases++]);
				path_pop(c, p);
			}
		} else if (IS("nodeName"))
			dec_str(c, val, &pod->node_name);
		else if (IS("serviceAccountName"))
			dec_str(c, val, &pod->service_account_name);
		else if (IS("securityContext"))
			dec_security(c, val, &pod->security, true, pod);
		else if (IS("enableServiceLinks") || IS("automountServiceAccountToken"))
			dec_bool(c, val, &dummy_b, NULL); /* no Services, no tokens: no effect */
		else if (IS("dnsPolicy") || IS("schedulerName")) {
			static const char *const dns[] = {"ClusterFirst", "ClusterFirstWithHostNet",
							  "Default", "None", NULL};
			dec_str(c, val, &ignored);
			const char *s = ignored && *ignored ? util_suggest(ignored, dns) : NULL;
			if (!ignored || !*ignored || !IS("dnsPolicy"))
				;
			else if (!strcmp(ignored, "None"))
				/* Kubernetes: "must provide `dnsConfig` when `dnsPolicy` is None" */
				err_at(c, val, "Invalid value: \"None\": dnsPolicy None requires "
					       "spec.dnsConfig, which podfs does not support");
			else if (strcmp(ignored, "ClusterFirst") && strcmp(ignored, "Default") &&
				 strcmp(ignored, "ClusterFirstWithHostNet"))
				err_at(c, val,
				       "Unsupported value: \"%s\": supported values: \"ClusterFirst\", "
				       "\"ClusterFirstWithHostNet\", \"Default\", \"None\"%s%s%s",
				       ignored, s ? "; did you mean " : "", s ? s : "", s ? "?" : "");
			free(ignored);
			ignored = NULL;
		}
	}
}

int spec_decode(const struct yt_node *root, struct spec_pod *pod, struct diag_list *errs)
{
	static const char *const known[] = {"apiVersion", "kind", "metadata", "spec", "status",
					    NULL};
	struct dctx c = {.errs = errs};
	sb_init(&c.path);
	size_t before = errs->n + errs->dropped;
	if (!root) {
		diag_add(errs, "", 0, 0, "manifest is empty; expected a Pod (apiVersion: v1, kind: Pod)");
		return -EINVAL;
	}
	if (!expect_map(&c, root, "Pod manifest")) {
		sb_free(&c.path);
		return -EINVAL;
	}
	char *api = NULL, *kind = NULL;
	bool has_spec = false;
	FOR_FIELDS(&c, root, known, NULL, key, val)
	{
		if (IS("apiVersion")) {
			dec_str(&c, val, &api);
			if (api && strcmp(api, "v1"))
				err_at(&c, val, "Unsupported value: \"%s\": a Pod is apiVersion \"v1\"",
				       api);
		} else if (IS("kind")) {
			dec_str(&c, val, &kind);
			if (kind && strcmp(kind, "Pod"))
				err_at(&c, val, "Unsupported value: \"%s\": podfs runs objects of kind "
						"\"Pod\"%s",
				       kind, strcasecmp(kind, "Pod") ? "" : "; did you mean Pod?");
		} else if (IS("metadata")) {
			dec_metadata(&c, val, pod);
		} else if (IS("spec")) {
			has_spec = !is_null(val);
			dec_podspec(&c, val, pod);
		}
		/* status is what the node reports; a manifest's own is ignored */
	}
	if (!api)
		diag_add(errs, "apiVersion", root->line, root->col, "required value (apiVersion: v1)");
	if (!kind)
		diag_add(errs, "kind", root->line, root->col, "required value (kind: Pod)");
	if (!has_spec) {
		/* "spec:" with nothing under it is placed at its key */
		const struct yt_node *at = root;
		for (size_t i = 0; i < root->n; i++)
			if (!strcmp(root->keys[i]->str, "spec"))
				at = root->keys[i];
		diag_add(errs, "spec", at->line, at->col, "required value");
	}
	free(api);
	free(kind);
	sb_free(&c.path);
	return errs->n + errs->dropped > before ? -EINVAL : 0;
}
