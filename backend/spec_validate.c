/* spec_validate.c: Kubernetes' defaults and API-server validation for a
 * decoded Pod. Errors carry the field path and are placed at the YAML
 * position of that path (or of its nearest ancestor present in the file). */
#include "backend/spec.h"
#include "backend/quantity.h"
#include "backend/util.h"
#include "backend/yamltree.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- name rules -------------------------------------------------------- */

#define DNS1123_LABEL_RULE                                                                         \
	"(lowercase letters, digits and '-', starting and ending with a letter or digit, at most " \
	"63 characters)"

static bool alnum_lower(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

bool spec_is_dns1123_label(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 63 || !alnum_lower(s[0]) || !alnum_lower(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!alnum_lower(s[i]) && s[i] != '-')
			return false;
	return true;
}

bool spec_is_dns1123_subdomain(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 253)
		return false;
	const char *p = s;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		char part[64];
		if (len == 0 || len > 63)
			return false;
		memcpy(part, p, len);
		part[len] = '\0';
		if (!spec_is_dns1123_label(part))
			return false;
		if (!dot)
			return true;
		p = dot + 1;
	}
}

/* IANA_SVC_NAME: at most 15 characters, lowercase letters, digits and '-',
 * at least one letter, no leading, trailing or double '-'. */
static bool is_iana_svc_name(const char *s)
{
	size_t n = strlen(s);
	bool letter = false;
	if (n == 0 || n > 15 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			letter = true;
		else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
			return false;
		if (s[i] == '-' && s[i + 1] == '-')
			return false;
	}
	return letter;
}

/* name part of a qualified name: [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, <= 63 */
static bool is_qualified_part(const char *s, size_t n)
{
	if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

/* label and annotation keys: [prefix/]name with prefix a DNS subdomain */
static bool is_qualified_name(const char *s)
{
	const char *slash = strchr(s, '/');
	if (!slash)
		return is_qualified_part(s, strlen(s));
	if (strchr(slash + 1, '/'))
		return false;
	char *prefix = xstrndup(s, (size_t)(slash - s));
	bool ok = spec_is_dns1123_subdomain(prefix) && is_qualified_part(slash + 1, strlen(slash + 1));
	free(prefix);
	return ok;
}

static bool is_label_value(const char *s)
{
	return *s == '\0' || is_qualified_part(s, strlen(s));
}

/* C identifier-like, plus '-' and '.', not starting with a digit */
static bool is_env_name(const char *s)
{
	if (!*s || isdigit((unsigned char)s[0]))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

static bool is_ip(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* ---- locating a path in the YAML tree ------------------------------------ */

/* Walk "a.b[2].c" (or "labels[key.with.dots]") as far as the tree goes. */
static const struct yt_node *locate(const struct yt_node *root, const char *path)
{
	const struct yt_node *n = root;
	const char *p = path;
	while (n && *p) {
		char seg[256];
		size_t len = 0;
		bool index = false;
		if (*p == '.')
			p++;
		if (*p == '[') {
			p++;
			while (*p && *p != ']' && len < sizeof(seg) - 1)
				seg[len++] = *p++;
			if (*p == ']')
				p++;
			index = true;
		} else {
			while (*p && *p != '.' && *p != '[' && len < sizeof(seg) - 1)
				seg[len++] = *p++;
		}
		seg[len] = '\0';
		const struct yt_node *next = NULL;
		if (index && n->kind == YT_SEQ) {
			size_t i = strtoul(seg, NULL, 10);
			next = i < n->n ? n->vals[i] : NULL;
		} else if (n->kind == YT_MAP) {
			size_t at = n->n;
			for (size_t i = 0; i < n->n; i++)
				if (!strcmp(n->keys[i]->str, seg))
					at = i;
			/* the decoder reads a misspelt key as the field it was meant
			 * to be; find it under its misspelt name too */
			for (size_t i = 0; at == n->n && i < n->n && n->n <= 100; i++) {
				const char *cand[2] = {seg, NULL};
				if (util_suggest(n->keys[i]->str, cand))
					at = i;
			}
			if (at < n->n) {
				/* a missing value's place is its key */
				next = n->vals[at];
				if (next->kind == YT_SCALAR && next->type == YT_NULL)
					next = n->keys[at];
			}
		}
		if (!next)
			return n;
		n = next;
	}
	return n;
}

struct vctx {
	const struct yt_node *root;
	struct diag_list *errs;
};

static void verr(struct vctx *v, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void verr(struct vctx *v, const char *path, const char *fmt, ...)
{
	if (v->errs->n >= DIAG_MAX) {
		/* counted, not formatted or located: hostile input can make many */
		v->errs->dropped++;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	const struct yt_node *n = locate(v->root, path);
	diag_add(v->errs, path, n ? n->line : 0, n ? n->col : 0, "%s", msg);
	free(msg);
}

/* Duplicates among N keys (NULL keys never match): prev[i] is the index of
 * the first earlier key equal to keys[i], or -1. Sorting keeps it
 * O(n log n) however many there are. Caller frees. */
struct keyed {
	const char *key;
	size_t i;
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : (x->i < y->i ? -1 : x->i > y->i);
}

static ssize_t *find_dups(const char *const *keys, size_t n)
{
	ssize_t *prev = xmalloc((n ? n : 1) * sizeof(*prev));
	struct keyed *k = xmalloc((n ? n : 1) * sizeof(*k));
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		prev[i] = -1;
		if (keys[i])
			k[m++] = (struct keyed){keys[i], i};
	}
	qsort(k, m, sizeof(*k), cmp_keyed);
	size_t run = 0; /* where the current run of equal keys starts */
	for (size_t i = 1; i < m; i++) {
		if (strcmp(k[i - 1].key, k[i].key))
			run = i;
		else
			prev[k[i].i] = (ssize_t)k[run].i;
	}
	free(k);
	return prev;
}

static bool one_of(const char *s, const char *const *allowed)
{
	for (size_t i = 0; allowed[i]; i++)
		if (!strcmp(s, allowed[i]))
			return true;
	return false;
}

static void check_enum(struct vctx *v, const char *path, const char *value,
		       const char *const *allowed)
{
	if (!value || one_of(value, allowed))
		return;
	struct strbuf sb;
	sb_init(&sb);
	for (size_t i = 0; allowed[i]; i++)
		sb_printf(&sb, "%s\"%s\"", i ? ", " : "", allowed[i]);
	const char *s = util_suggest(value, allowed);
	if (s)
		verr(v, path, "Unsupported value: \"%s\": supported values: %s; did you mean %s?",
		     value, sb.buf, s);
	else
		verr(v, path, "Unsupported value: \"%s\": supported values: %s", value, sb.buf);
	sb_free(&sb);
}

/* ---- defaults ------------------------------------------------------------ */

/* Kubernetes defaults a string field that is absent or empty ("") alike. */
static void default_str(char **s, const char *def)
{
	if (!*s || !**s) {
		free(*s);
		*s = xstrdup(def);
	}
}

/* Kubernetes: Always for ":latest" or an untagged name, else IfNotPresent. */
static const char *default_pull_policy(const char *image)
{
	if (!image)
		return "IfNotPresent";
	if (strchr(image, '@'))
		return "IfNotPresent";
	const char *slash = strrchr(image, '/');
	const char *last = slash ? slash + 1 : image;
	const char *colon = strchr(last, ':');
	if (!colon || !strcmp(colon + 1, "latest"))
		return "Always";
	return "IfNotPresent";
}

static void default_probe(struct spec_probe *p)
{
	if (!p)
		return;
	if (p->timeout_seconds == 0)
		p->timeout_seconds = 1;
	if (p->period_seconds == 0)
		p->period_seconds = 10;
	if (p->success_threshold == 0)
		p->success_threshold = 1;
	if (p->failure_threshold == 0)
		p->failure_threshold = 3;
}

static void default_handler(struct spec_handler *h)
{
	if (!h || h->kind != SPEC_H_HTTP)
		return;
	default_str(&h->path, "/");
	default_str(&h->scheme, "HTTP");
}

static void default_rlist_from_limits(struct spec_resources *r)
{
	if (r->limits.has_cpu && !r->requests.has_cpu) {
		r->requests.has_cpu = true;
		r->requests.cpu_milli = r->limits.cpu_milli;
	}
	if (r->limits.has_memory && !r->requests.has_memory) {
		r->requests.has_memory = true;
		r->requests.memory = r->limits.memory;
	}
	if (r->limits.has_ephemeral && !r->requests.has_ephemeral) {
		r->requests.has_ephemeral = true;
		r->requests.ephemeral = r->limits.ephemeral;
	}
}

static void default_container(struct spec_container *c)
{
	if (c->image && (!c->image_pull_policy || !*c->image_pull_policy)) {
		free(c->image_pull_policy);
		c->image_pull_policy = xstrdup(default_pull_policy(c->image));
	}
	default_str(&c->termination_message_path, "/dev/termination-log");
	default_str(&c->termination_message_policy, "File");
	for (size_t i = 0; i < c->nports; i++)
		default_str(&c->ports[i].protocol, "TCP");
	for (size_t i = 0; i < c->nenv; i++) {
		struct spec_env *e = &c->env[i];
		if (e->source == SPEC_ENV_FIELD)
			default_str(&e->field_api_version, "v1");
		if (e->source == SPEC_ENV_RESOURCE)
			default_str(&e->divisor, "1");
	}
	default_rlist_from_limits(&c->resources);
	default_probe(c->liveness);
	default_probe(c->readiness);
	default_probe(c->startup);
	if (c->liveness)
		default_handler(&c->liveness->h);
	if (c->readiness)
		default_handler(&c->readiness->h);
	if (c->startup)
		default_handler(&c->startup->h);
	default_handler(c->post_start);
	default_handler(c->pre_stop);
}

void spec_apply_defaults(struct spec_pod *pod)
{
	default_str(&pod->namespace, "default");
	default_str(&pod->restart_policy, "Always");
	if (!pod->has_termination_grace)
		pod->termination_grace_seconds = 30;
	for (size_t i = 0; i < pod->ninit; i++)
		default_container(&pod->init_containers[i]);
	for (size_t i = 0; i < pod->ncont; i++)
		default_container(&pod->containers[i]);
	for (size_t i = 0; i < pod->nvolumes; i++) {
		struct spec_volume *v = &pod->volumes[i];
		if (v->kind == SPEC_VOL_EMPTYDIR)
			default_str(&v->medium, "");
		else
			default_str(&v->host_path_type, "");
	}
}

/* ---- validation ---------------------------------------------------------- */

static const char *const env_field_paths[] = {
	"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
	"spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP",
	"status.podIPs", "metadata.labels['<KEY>']", "metadata.annotations['<KEY>']", NULL};

static void validate_field_path(struct vctx *v, const char *path, const struct spec_env *e)
{
	const char *fp = e->field_path;
	if (e->field_api_version && strcmp(e->field_api_version, "v1")) {
		char *p = xasprintf("%s.apiVersion", path);
		verr(v, p, "Unsupported value: \"%s\": supported values: \"v1\"",
		     e->field_api_version);
		free(p);
	}
	char *p = xasprintf("%s.fieldPath", path);
	for (size_t i = 0; i < 9; i++)
		if (!strcmp(fp, env_field_paths[i]))
			goto out;
	const char *sub = NULL;
	if (!strncmp(fp, "metadata.labels[", 16))
		sub = fp + 16;
	else if (!strncmp(fp, "metadata.annotations[", 21))
		sub = fp + 21;
	if (sub) {
		size_t n = strlen(sub);
		if (n >= 4 && sub[0] == '\'' && sub[n - 1] == ']' && sub[n - 2] == '\'') {
			char *key = xstrndup(sub + 1, n - 3);
			if (!is_qualified_name(key))
				verr(v, p, "Invalid value: \"%s\": the key \"%s\" is not a valid label or "
					   "annotation key",
				     fp, key);
			free(key);
		} else {
			verr(v, p, "Invalid value: \"%s\": write the key as metadata.labels['KEY']", fp);
		}
		goto out;
	}
	if (!strcmp(fp, "metadata.labels") || !strcmp(fp, "metadata.annotations")) {
		verr(v, p, "Unsupported value: \"%s\": name one key, as %s['KEY']", fp, fp);
		goto out;
	}
	{
		struct strbuf sb;
		sb_init(&sb);
		for (size_t i = 0; env_field_paths[i]; i++)
			sb_printf(&sb, "%s%s", i ? ", " : "", env_field_paths[i]);
		const char *s = util_suggest(fp, env_field_paths);
		verr(v, p,
		     "Invalid value: \"%s\": error converting fieldPath: field label not supported: "
		     "%s; supported: %s%s%s%s",
		     fp, fp, sb.buf, s ? "; did you mean " : "", s ? s : "", s ? "?" : "");
		sb_free(&sb);
	}
out:
	free(p);
}

static const struct spec_container *find_container(const struct spec_pod *pod, const char *name)
{
	for (size_t i = 0; i < pod->ncont; i++)
		if (pod->containers[i].name && !strcmp(pod->containers[i].name, name))
			return &pod->containers[i];
	for (size_t i = 0; i < pod->ninit; i++)
		if (pod->init_containers[i].name && !strcmp(pod->init_containers[i].name, name))
			return &pod->init_containers[i];
	return NULL;
}

/* Is V equal to BASE^k for some k in [kmin, kmax]? */
static bool is_pow(__int128 v, __int128 base, int kmin, int kmax)
{
	__int128 p = 1;
	for (int k = 0; k <= kmax; k++, p *= base)
		if (k >= kmin && v == p)
			return true;
	return false;
}

/* Kubernetes accepts a divisor whose canonical form is one of "1m", "1" (cpu)
 * or "1", "1k".."1E", "1Ki".."1Ei" (memory, ephemeral-storage). The canonical
 * form keeps the written format: a binary suffix (Ki..Ei) renders powers of
 * 1024 as "1Ki".. (below 1Ki, or fractional, it renders as decimal); an
 * exponent (1e3) renders as "1e3", so only a value of 1 passes; a decimal
 * suffix renders powers of 1000 as "1m", "1", "1k".. */
static bool divisor_ok(const char *s, __int128 milli, bool cpu)
{
	const char *q = s;
	if (*q == '+' || *q == '-')
		q++;
	while ((*q >= '0' && *q <= '9') || *q == '.')
		q++;
	size_t sl = strlen(q);
	bool exponent = (q[0] == 'e' || q[0] == 'E') && q[1] != '\0' && q[1] != 'i';
	bool binary = sl == 2 && q[1] == 'i';
	if (exponent)
		return milli == 1000;
	if (binary && milli >= 1024 * 1000 && milli % 1000 == 0)
		return !cpu && is_pow(milli / 1000, 1024, 1, 6);
	/* decimal rendering: 1m, 1, 1k, 1M, ... 1E are 1000^0..1000^7 milli */
	return cpu ? is_pow(milli, 1000, 0, 1) : is_pow(milli, 1000, 1, 7);
}

static void validate_resource_ref(struct vctx *v, const char *path, const struct spec_pod *pod,
				  const struct spec_container *self, struct spec_env *e)
{
	static const char *const resources[] = {
		"limits.cpu",		     "limits.memory",	"limits.ephemeral-storage",
		"requests.cpu",		     "requests.memory", "requests.ephemeral-storage",
		NULL};
	char *p = xasprintf("%s.resource", path);
	check_enum(v, p, e->resource, resources);
	free(p);
	if (e->container_name && !find_container(pod, e->container_name)) {
		p = xasprintf("%s.containerName", path);
		verr(v, p, "Not found: \"%s\": no container of that name in this pod",
		     e->container_name);
		free(p);
	}
	(void)self;
	__int128 milli;
	char why[256];
	p = xasprintf("%s.divisor", path);
	if (qty_parse(e->divisor, &milli, why, sizeof(why)) < 0) {
		verr(v, p, "%s", why);
	} else if (milli == 0) {
		/* a zero divisor is an unset one, which means 1 */
		free(e->divisor);
		e->divisor = xstrdup("1");
		e->divisor_milli = 1000;
	} else if (e->resource && one_of(e->resource, resources)) {
		bool cpu = strstr(e->resource, "cpu") != NULL;
		if (!divisor_ok(e->divisor, milli, cpu))
			verr(v, p, "Unsupported value: \"%s\": only divisor's values %s are supported "
				   "with the %s resource",
			     e->divisor,
			     cpu ? "1m and 1"
				 : "1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei",
			     cpu ? "cpu" : strstr(e->resource, "memory") ? "memory"
									 : "ephemeral-storage");
		else
			e->divisor_milli = milli;
	}
	free(p);
}

static void validate_handler(struct vctx *v, const char *path, const struct spec_handler *h,
			     const struct spec_container *c, const struct spec_pod *pod)
{
	char *p = NULL;
	switch (h->kind) {
	case SPEC_H_EXEC:
		if (h->exec_command.n == 0) {
			p = xasprintf("%s.exec.command", path);
			verr(v, p, "required value");
		}
		break;
	case SPEC_H_HTTP:
	case SPEC_H_TCP: {
		const char *what = h->kind == SPEC_H_HTTP ? "httpGet" : "tcpSocket";
		p = xasprintf("%s.%s.port", path, what);
		if (!h->port.set) {
			verr(v, p, "required value");
		} else if (h->port.is_name) {
			if (!is_iana_svc_name(h->port.name))
				verr(v, p, "Invalid value: \"%s\": a port name must be no more than 15 "
					   "characters, lowercase letters, digits and '-', with at least "
					   "one letter",
				     h->port.name);
			else {
				bool found = false;
				for (size_t i = 0; i < c->nports; i++)
					if (c->ports[i].name && !strcmp(c->ports[i].name, h->port.name))
						found = true;
				/* Kubernetes accepts an unknown name here and reports the probe
				 * as errored at run time; so do we, but say so now too? No:
				 * keep the API server's behaviour. */
				(void)found;
			}
		} else if (h->port.num < 1 || h->port.num > 65535) {
			verr(v, p, "Invalid value: %lld: must be between 1 and 65535, inclusive",
			     (long long)h->port.num);
		}
		if (h->kind == SPEC_H_HTTP) {
			static const char *const schemes[] = {"HTTP", "HTTPS", NULL};
			free(p);
			p = xasprintf("%s.httpGet.scheme", path);
			check_enum(v, p, h->scheme, schemes);
			for (size_t i = 0; i < h->http_headers.n; i++) {
				const char *name = h->http_headers.v[i].key;
				bool ok = name && *name;
				for (const char *s = name; ok && *s; s++)
					if (*s <= ' ' || *s >= 127 || strchr("()<>@,;:\\\"/[]?={}", *s))
						ok = false;
				if (!ok && name) {
					free(p);
					p = xasprintf("%s.httpGet.httpHeaders[%zu].name", path, i);
					verr(v, p, "Invalid value: \"%s\": a valid HTTP header must "
						   "consist of alphanumeric characters or '-'",
					     name);
				}
			}
		}
		break;
	}
	case SPEC_H_GRPC:
		p = xasprintf("%s.grpc.port", path);
		if (!h->port.set)
			verr(v, p, "required value");
		else if (h->port.num < 1 || h->port.num > 65535)
			verr(v, p, "Invalid value: %lld: must be between 1 and 65535, inclusive",
			     (long long)h->port.num);
		break;
	case SPEC_H_SLEEP:
		p = xasprintf("%s.sleep.seconds", path);
		if (h->sleep_seconds < 0)
			verr(v, p, "Invalid value: %lld: must be greater than or equal to 0",
			     (long long)h->sleep_seconds);
		else if (h->sleep_seconds > pod->termination_grace_seconds)
			verr(v, p, "Invalid value: %lld: must be less than or equal to the pod's "
				   "terminationGracePeriodSeconds (%lld)",
			     (long long)h->sleep_seconds, (long long)pod->termination_grace_seconds);
		break;
	case SPEC_H_NONE:
		break;
	}
	free(p);
}

static void validate_probe(struct vctx *v, const char *path, const struct spec_probe *pr,
			   const char *which, const struct spec_container *c,
			   const struct spec_pod *pod)
{
	if (!pr)
		return;
	struct {
		const char *name;
		int64_t val;
	} nums[] = {{"initialDelaySeconds", pr->initial_delay_seconds},
		    {"timeoutSeconds", pr->timeout_seconds},
		    {"periodSeconds", pr->period_seconds},
		    {"successThreshold", pr->success_threshold},
		    {"failureThreshold", pr->failure_threshold}};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (nums[i].val < 0) {
			char *p = xasprintf("%s.%s", path, nums[i].name);
			verr(v, p, "Invalid value: %lld: must be greater than or equal to 0",
			     (long long)nums[i].val);
			free(p);
		}
	if (strcmp(which, "readinessProbe") && pr->success_threshold != 1 &&
	    pr->success_threshold > 0) {
		char *p = xasprintf("%s.successThreshold", path);
		verr(v, p, "Invalid value: %lld: must be 1", (long long)pr->success_threshold);
		free(p);
	}
	if (pr->has_termination_grace) {
		char *p = xasprintf("%s.terminationGracePeriodSeconds", path);
		if (!strcmp(which, "readinessProbe"))
			verr(v, p, "Invalid value: %lld: must not be set for readinessProbes",
			     (long long)pr->termination_grace_seconds);
		else if (pr->termination_grace_seconds <= 0)
			verr(v, p, "Invalid value: %lld: must be greater than 0",
			     (long long)pr->termination_grace_seconds);
		free(p);
	}
	if (pr->h.kind == SPEC_H_SLEEP) {
		verr(v, path, "sleep is a lifecycle action, not a probe handler");
		return;
	}
	validate_handler(v, path, &pr->h, c, pod);
}

static void validate_rlist_nonneg(struct vctx *v, const char *path, const struct spec_rlist *rl)
{
	struct {
		bool has;
		int64_t val;
		const char *name;
	} r[] = {{rl->has_cpu, rl->cpu_milli, "cpu"},
		 {rl->has_memory, rl->memory, "memory"},
		 {rl->has_ephemeral, rl->ephemeral, "ephemeral-storage"}};
	for (size_t i = 0; i < 3; i++)
		if (r[i].has && r[i].val < 0) {
			char *p = xasprintf("%s.%s", path, r[i].name);
			char buf[64];
			verr(v, p, "Invalid value: \"%s\": must be greater than or equal to 0",
			     i == 0 ? qty_format_milli(r[i].val, buf, sizeof(buf))
				    : qty_format_bytes(r[i].val, buf, sizeof(buf)));
			free(p);
		}
}

static void validate_resources(struct vctx *v, const char *path, const struct spec_resources *r)
{
	char *p = xasprintf("%s.requests", path);
	validate_rlist_nonneg(v, p, &r->requests);
	free(p);
	p = xasprintf("%s.limits", path);
	validate_rlist_nonneg(v, p, &r->limits);
	free(p);
	char a[64], b[64];
	if (r->requests.has_cpu && r->limits.has_cpu && r->requests.cpu_milli > r->limits.cpu_milli) {
		p = xasprintf("%s.requests.cpu", path);
		verr(v, p, "Invalid value: \"%s\": must be less than or equal to cpu limit of %s",
		     qty_format_milli(r->requests.cpu_milli, a, sizeof(a)),
		     qty_format_milli(r->limits.cpu_milli, b, sizeof(b)));
		free(p);
	}
	if (r->requests.has_memory && r->limits.has_memory && r->requests.memory > r->limits.memory) {
		p = xasprintf("%s.requests.memory", path);
		verr(v, p, "Invalid value: \"%s\": must be less than or equal to memory limit of %s",
		     qty_format_bytes(r->requests.memory, a, sizeof(a)),
		     qty_format_bytes(r->limits.memory, b, sizeof(b)));
		free(p);
	}
	if (r->requests.has_ephemeral && r->limits.has_ephemeral &&
	    r->requests.ephemeral > r->limits.ephemeral) {
		p = xasprintf("%s.requests.ephemeral-storage", path);
		verr(v, p, "Invalid value: \"%s\": must be less than or equal to ephemeral-storage "
			   "limit of %s",
		     qty_format_bytes(r->requests.ephemeral, a, sizeof(a)),
		     qty_format_bytes(r->limits.ephemeral, b, sizeof(b)));
		free(p);
	}
}

static bool path_has_dotdot(const char *s)
{
	const char *p = s;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return true;
		if (!slash)
			break;
		p = slash + 1;
	}
	return false;
}

/* runAsUser, runAsGroup (and the pod's fsGroup) are IDs in [0, 2^31-1]. */
static void validate_ids(struct vctx *v, const char *path, const struct spec_security *s,
			 const struct spec_pod *pod)
{
	struct {
		bool has;
		int64_t val;
		const char *name;
	} ids[] = {{s->has_run_as_user, s->run_as_user, "runAsUser"},
		   {s->has_run_as_group, s->run_as_group, "runAsGroup"},
		   {pod && pod->has_fs_group, pod ? pod->fs_group : 0, "fsGroup"}};
	for (size_t i = 0; i < 3; i++)
		if (ids[i].has && (ids[i].val < 0 || ids[i].val > 2147483647)) {
			char *p = xasprintf("%s.%s", path, ids[i].name);
			verr(v, p, "Invalid value: %lld: must be between 0 and 2147483647, inclusive",
			     (long long)ids[i].val);
			free(p);
		}
}

static void validate_container(struct vctx *v, const char *path, struct spec_container *c,
			       const struct spec_pod *pod, ssize_t dup_of)
{
	char *p = xasprintf("%s.name", path);
	if (!c->name || !*c->name)
		verr(v, p, "required value");
	else if (!spec_is_dns1123_label(c->name))
		verr(v, p, "Invalid value: \"%s\": must be a DNS-1123 label " DNS1123_LABEL_RULE,
		     c->name);
	else if (dup_of >= 0) {
		size_t i = (size_t)dup_of;
		bool init = i < pod->ninit;
		verr(v, p, "Duplicate value: \"%s\": spec.%s[%zu] has that name; "
			   "container names must be unique across initContainers and "
			   "containers",
		     c->name, init ? "initContainers" : "containers", init ? i : i - pod->ninit);
	}
	free(p);

	p = xasprintf("%s.image", path);
	if (!c->image || !*c->image)
		verr(v, p, "required value");
	else if (isspace((unsigned char)c->image[0]) ||
		 isspace((unsigned char)c->image[strlen(c->image) - 1]))
		verr(v, p, "Invalid value: \"%s\": must not have leading or trailing whitespace",
		     c->image);
	free(p);

	static const char *const pull[] = {"Always", "IfNotPresent", "Never", NULL};
	p = xasprintf("%s.imagePullPolicy", path);
	check_enum(v, p, c->image_pull_policy, pull);
	free(p);

	static const char *const tmp[] = {"File", "FallbackToLogsOnError", NULL};
	p = xasprintf("%s.terminationMessagePolicy", path);
	check_enum(v, p, c->termination_message_policy, tmp);
	free(p);
	p = xasprintf("%s.terminationMessagePath", path);
	if (c->termination_message_path[0] != '/')
		verr(v, p, "Invalid value: \"%s\": must be an absolute path",
		     c->termination_message_path);
	free(p);

	/* ports */
	const char **pnames = xcalloc(c->nports + 1, sizeof(char *));
	for (size_t i = 0; i < c->nports; i++)
		pnames[i] = c->ports[i].name;
	ssize_t *port_dup = find_dups(pnames, c->nports);
	free(pnames);
	for (size_t i = 0; i < c->nports; i++) {
		struct spec_port *pt = &c->ports[i];
		p = xasprintf("%s.ports[%zu].containerPort", path, i);
		if (pt->container_port == 0)
			verr(v, p, "required value");
		else if (pt->container_port < 1 || pt->container_port > 65535)
			verr(v, p, "Invalid value: %lld: must be between 1 and 65535, inclusive",
			     (long long)pt->container_port);
		free(p);
		p = xasprintf("%s.ports[%zu].hostPort", path, i);
		if (pt->host_port < 0 || pt->host_port > 65535)
			verr(v, p, "Invalid value: %lld: must be between 1 and 65535, inclusive",
			     (long long)pt->host_port);
		else if (pod->host_network && pt->host_port && pt->host_port != pt->container_port)
			verr(v, p, "Invalid value: %lld: must match `containerPort` when "
				   "`hostNetwork` is true",
			     (long long)pt->host_port);
		free(p);
		static const char *const protos[] = {"TCP", "UDP", "SCTP", NULL};
		p = xasprintf("%s.ports[%zu].protocol", path, i);
		check_enum(v, p, pt->protocol, protos);
		free(p);
		if (pt->host_ip && !is_ip(pt->host_ip)) {
			p = xasprintf("%s.ports[%zu].hostIP", path, i);
			verr(v, p, "Invalid value: \"%s\": must be a valid IP address", pt->host_ip);
			free(p);
		}
		if (pt->name) {
			p = xasprintf("%s.ports[%zu].name", path, i);
			if (!is_iana_svc_name(pt->name))
				verr(v, p, "Invalid value: \"%s\": must be no more than 15 characters, "
					   "lowercase letters, digits and '-', with at least one letter",
				     pt->name);
			if (port_dup[i] >= 0)
				verr(v, p, "Duplicate value: \"%s\"", pt->name);
			free(p);
		}
	}

	free(port_dup);

	/* env */
	for (size_t i = 0; i < c->nenv; i++) {
		struct spec_env *e = &c->env[i];
		char *ep = xasprintf("%s.env[%zu]", path, i);
		p = xasprintf("%s.name", ep);
		if (!e->name || !*e->name)
			verr(v, p, "required value");
		else if (!is_env_name(e->name))
			verr(v, p, "Invalid value: \"%s\": a valid environment variable name must "
				   "consist of alphabetic characters, digits, '_', '-', or '.', and "
				   "must not start with a digit",
			     e->name);
		free(p);
		if (e->source == SPEC_ENV_FIELD && e->field_path) {
			p = xasprintf("%s.valueFrom.fieldRef", ep);
			validate_field_path(v, p, e);
			free(p);
		} else if (e->source == SPEC_ENV_RESOURCE && e->resource) {
			p = xasprintf("%s.valueFrom.resourceFieldRef", ep);
			validate_resource_ref(v, p, pod, c, e);
			free(p);
		}
		free(ep);
	}

	p = xasprintf("%s.resources", path);
	validate_resources(v, p, &c->resources);
	free(p);

	/* probes and hooks */
	bool sidecar = c->is_init && c->restart_policy && !strcmp(c->restart_policy, "Always");
	struct {
		const char *name;
		const struct spec_probe *pr;
	} probes[] = {{"livenessProbe", c->liveness},
		      {"readinessProbe", c->readiness},
		      {"startupProbe", c->startup}};
	for (size_t i = 0; i < 3; i++) {
		if (!probes[i].pr)
			continue;
		p = xasprintf("%s.%s", path, probes[i].name);
		if (c->is_init && !sidecar)
			verr(v, p, "Forbidden: may not be set for init containers without "
				   "restartPolicy=Always");
		else
			validate_probe(v, p, probes[i].pr, probes[i].name, c, pod);
		free(p);
	}
	if (c->post_start || c->pre_stop) {
		p = xasprintf("%s.lifecycle", path);
		if (c->is_init && !sidecar) {
			verr(v, p, "Forbidden: may not be set for init containers without "
				   "restartPolicy=Always");
		} else {
			char *hp;
			if (c->post_start) {
				hp = xasprintf("%s.postStart", p);
				validate_handler(v, hp, c->post_start, c, pod);
				free(hp);
			}
			if (c->pre_stop) {
				hp = xasprintf("%s.preStop", p);
				validate_handler(v, hp, c->pre_stop, c, pod);
				free(hp);
			}
		}
		free(p);
	}

	if (c->restart_policy) {
		p = xasprintf("%s.restartPolicy", path);
		if (!c->is_init)
			verr(v, p, "Forbidden: may not be set for non-init containers");
		else if (strcmp(c->restart_policy, "Always"))
			verr(v, p, "Unsupported value: \"%s\": supported values: \"Always\"",
			     c->restart_policy);
		free(p);
	}

	/* volume mounts */
	const char **mpaths = xcalloc(c->nmounts + 1, sizeof(char *));
	for (size_t i = 0; i < c->nmounts; i++)
		mpaths[i] = c->mounts[i].mount_path;
	ssize_t *mount_dup = find_dups(mpaths, c->nmounts);
	free(mpaths);
	for (size_t i = 0; i < c->nmounts; i++) {
		struct spec_mount *m = &c->mounts[i];
		char *mp = xasprintf("%s.volumeMounts[%zu]", path, i);
		p = xasprintf("%s.name", mp);
		if (!m->name || !*m->name) {
			verr(v, p, "required value");
		} else {
			bool found = false;
			for (size_t j = 0; j < pod->nvolumes; j++)
				if (pod->volumes[j].name && !strcmp(pod->volumes[j].name, m->name))
					found = true;
			if (!found)
				verr(v, p, "Not found: \"%s\": no volume of that name in "
					   "spec.volumes",
				     m->name);
		}
		free(p);
		p = xasprintf("%s.mountPath", mp);
		if (!m->mount_path || !*m->mount_path)
			verr(v, p, "required value");
		else if (m->mount_path[0] != '/')
			verr(v, p, "Invalid value: \"%s\": must be an absolute path", m->mount_path);
		else if (mount_dup[i] >= 0)
			verr(v, p, "Invalid value: \"%s\": must be unique", m->mount_path);
		free(p);
		if (m->sub_path) {
			p = xasprintf("%s.subPath", mp);
			if (m->sub_path[0] == '/')
				verr(v, p, "Invalid value: \"%s\": must be a relative path",
				     m->sub_path);
			else if (path_has_dotdot(m->sub_path))
				verr(v, p, "Invalid value: \"%s\": must not contain '..'", m->sub_path);
			free(p);
		}
		free(mp);
	}

	free(mount_dup);

	/* security context */
	if (c->security.set) {
		const struct spec_security *s = &c->security;
		p = xasprintf("%s.securityContext", path);
		validate_ids(v, p, s, NULL);
		free(p);
		if (s->has_privileged && s->privileged && s->has_allow_priv_esc && !s->allow_priv_esc) {
			p = xasprintf("%s.securityContext", path);
			verr(v, p, "Invalid value: cannot set `allowPrivilegeEscalation` to false and "
				   "`privileged` to true");
			free(p);
		}
		/* as Kubernetes, which compares the name exactly as written */
		bool no_esc = s->has_allow_priv_esc && !s->allow_priv_esc;
		for (size_t i = 0; no_esc && i < s->cap_add.n; i++)
			if (!strcmp(s->cap_add.v[i], "CAP_SYS_ADMIN")) {
				p = xasprintf("%s.securityContext", path);
				verr(v, p, "Invalid value: cannot set `allowPrivilegeEscalation` to false "
					   "and `capabilities.Add` CAP_SYS_ADMIN");
				free(p);
			}
		const struct spec_strlist *caps[] = {&s->cap_add, &s->cap_drop};
		for (size_t k = 0; k < 2; k++)
			for (size_t i = 0; i < caps[k]->n; i++) {
				const char *cap = caps[k]->v[i];
				bool ok = *cap != '\0';
				for (const char *q = cap; *q; q++)
					if (!isupper((unsigned char)*q) && *q != '_' &&
					    !isdigit((unsigned char)*q))
						ok = false;
				if (!ok) {
					p = xasprintf("%s.securityContext.capabilities.%s[%zu]", path,
						      k ? "drop" : "add", i);
					verr(v, p, "Invalid value: \"%s\": a capability is written "
						   "in capitals, like NET_ADMIN or ALL",
					     cap);
					free(p);
				}
			}
	}
}

void spec_validate(const struct spec_pod *cpod, const struct yt_node *root, struct diag_list *errs)
{
	struct spec_pod *pod = (struct spec_pod *)cpod; /* divisors are resolved here */
	struct vctx vc = {.root = root, .errs = errs};
	struct vctx *v = &vc;

	if (pod->name && !spec_is_dns1123_label(pod->name))
		verr(v, "metadata.name", "\"%s\" must be a DNS-1123 label " DNS1123_LABEL_RULE,
		     pod->name);
	if (pod->namespace && !spec_is_dns1123_label(pod->namespace))
		verr(v, "metadata.namespace", "\"%s\" must be a DNS-1123 label " DNS1123_LABEL_RULE,
		     pod->namespace);
	for (size_t i = 0; i < pod->labels.n; i++) {
		struct spec_kv *kv = &pod->labels.v[i];
		char *p = xasprintf("metadata.labels[%s]", kv->key);
		if (!is_qualified_name(kv->key))
			verr(v, p, "Invalid value: \"%s\": a label key must be a qualified name "
				   "([prefix/]name, name at most 63 characters of letters, digits, "
				   "'-', '_' and '.')",
			     kv->key);
		if (!is_label_value(kv->value))
			verr(v, p, "Invalid value: \"%s\": a label value must be empty or at most 63 "
				   "characters of letters, digits, '-', '_' and '.', starting and "
				   "ending with a letter or digit",
			     kv->value);
		free(p);
	}
	size_t ann_total = 0;
	for (size_t i = 0; i < pod->annotations.n; i++) {
		struct spec_kv *kv = &pod->annotations.v[i];
		ann_total += strlen(kv->key) + strlen(kv->value);
		if (!is_qualified_name(kv->key)) {
			char *p = xasprintf("metadata.annotations[%s]", kv->key);
			verr(v, p, "Invalid value: \"%s\": an annotation key must be a qualified name "
				   "([prefix/]name, name at most 63 characters of letters, digits, "
				   "'-', '_' and '.')",
			     kv->key);
			free(p);
		}
	}
	if (ann_total > 256 * 1024)
		verr(v, "metadata.annotations", "Too long: must have at most 262144 bytes");

	static const char *const policies[] = {"Always", "OnFailure", "Never", NULL};
	check_enum(v, "spec.restartPolicy", pod->restart_policy, policies);
	if (pod->termination_grace_seconds < 0)
		verr(v, "spec.terminationGracePeriodSeconds",
		     "Invalid value: %lld: must be greater than or equal to 0",
		     (long long)pod->termination_grace_seconds);
	if (pod->has_active_deadline &&
	    (pod->active_deadline_seconds < 1 || pod->active_deadline_seconds > 2147483647))
		verr(v, "spec.activeDeadlineSeconds",
		     "Invalid value: %lld: must be between 1 and 2147483647, inclusive",
		     (long long)pod->active_deadline_seconds);
	if (pod->hostname && !spec_is_dns1123_label(pod->hostname))
		verr(v, "spec.hostname",
		     "Invalid value: \"%s\": must be a DNS-1123 label " DNS1123_LABEL_RULE,
		     pod->hostname);
	if (pod->subdomain && !spec_is_dns1123_label(pod->subdomain))
		verr(v, "spec.subdomain",
		     "Invalid value: \"%s\": must be a DNS-1123 label " DNS1123_LABEL_RULE,
		     pod->subdomain);
	if (pod->node_name && !spec_is_dns1123_subdomain(pod->node_name))
		verr(v, "spec.nodeName", "Invalid value: \"%s\": must be a DNS-1123 subdomain",
		     pod->node_name);
	if (pod->service_account_name && !spec_is_dns1123_subdomain(pod->service_account_name))
		verr(v, "spec.serviceAccountName",
		     "Invalid value: \"%s\": must be a DNS-1123 subdomain",
		     pod->service_account_name);
	validate_ids(v, "spec.securityContext", &pod->security, pod);

	for (size_t i = 0; i < pod->nhost_aliases; i++) {
		struct spec_host_alias *ha = &pod->host_aliases[i];
		char *p = xasprintf("spec.hostAliases[%zu].ip", i);
		if (!ha->ip || !*ha->ip)
			verr(v, p, "required value");
		else if (!is_ip(ha->ip))
			verr(v, p, "Invalid value: \"%s\": must be a valid IP address", ha->ip);
		free(p);
		p = xasprintf("spec.hostAliases[%zu].hostnames", i);
		if (ha->hostnames.n == 0)
			verr(v, p, "required value");
		for (size_t j = 0; j < ha->hostnames.n; j++)
			if (!spec_is_dns1123_subdomain(ha->hostnames.v[j])) {
				char *hp = xasprintf("%s[%zu]", p, j);
				verr(v, hp, "Invalid value: \"%s\": must be a DNS-1123 subdomain",
				     ha->hostnames.v[j]);
				free(hp);
			}
		free(p);
	}

	/* volumes */
	const char **vnames = xcalloc(pod->nvolumes + 1, sizeof(char *));
	for (size_t i = 0; i < pod->nvolumes; i++)
		vnames[i] = pod->volumes[i].name;
	ssize_t *vol_dup = find_dups(vnames, pod->nvolumes);
	free(vnames);
	for (size_t i = 0; i < pod->nvolumes; i++) {
		struct spec_volume *vol = &pod->volumes[i];
		char *p = xasprintf("spec.volumes[%zu].name", i);
		if (!vol->name || !*vol->name)
			verr(v, p, "required value");
		else if (!spec_is_dns1123_label(vol->name))
			verr(v, p, "Invalid value: \"%s\": must be a DNS-1123 label " DNS1123_LABEL_RULE,
			     vol->name);
		else if (vol_dup[i] >= 0)
			verr(v, p, "Duplicate value: \"%s\"", vol->name);
		free(p);
		if (vol->kind == SPEC_VOL_EMPTYDIR) {
			static const char *const media[] = {"", "Memory", NULL};
			p = xasprintf("spec.volumes[%zu].emptyDir.medium", i);
			check_enum(v, p, vol->medium, media);
			free(p);
			if (vol->has_size_limit && vol->size_limit < 0) {
				p = xasprintf("spec.volumes[%zu].emptyDir.sizeLimit", i);
				char buf[64];
				verr(v, p, "Invalid value: \"%s\": must be greater than or equal to 0",
				     qty_format_bytes(vol->size_limit, buf, sizeof(buf)));
				free(p);
			}
		} else if (vol->host_path) {
			p = xasprintf("spec.volumes[%zu].hostPath.path", i);
			if (vol->host_path[0] != '/')
				verr(v, p, "Invalid value: \"%s\": must be an absolute path",
				     vol->host_path);
			else if (path_has_dotdot(vol->host_path))
				verr(v, p, "Invalid value: \"%s\": must not contain '..'",
				     vol->host_path);
			free(p);
			static const char *const types[] = {
				"", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket",
				"CharDevice", "BlockDevice", NULL};
			p = xasprintf("spec.volumes[%zu].hostPath.type", i);
			check_enum(v, p, vol->host_path_type, types);
			free(p);
		}
	}

	free(vol_dup);

	/* containers */
	if (pod->ncont == 0)
		verr(v, "spec.containers", "required value: a pod needs at least one container");
	size_t total = pod->ninit + pod->ncont;
	const char **names = xcalloc(total + 1, sizeof(char *));
	for (size_t i = 0; i < total; i++) {
		const char *nm = i < pod->ninit ? pod->init_containers[i].name
						: pod->containers[i - pod->ninit].name;
		names[i] = nm && *nm && spec_is_dns1123_label(nm) ? nm : NULL;
	}
	ssize_t *dup = find_dups(names, total);
	for (size_t i = 0; i < pod->ninit; i++) {
		char *p = xasprintf("spec.initContainers[%zu]", i);
		validate_container(v, p, &pod->init_containers[i], pod, dup[i]);
		free(p);
	}
	for (size_t i = 0; i < pod->ncont; i++) {
		char *p = xasprintf("spec.containers[%zu]", i);
		validate_container(v, p, &pod->containers[i], pod, dup[pod->ninit + i]);
		free(p);
	}
	free(dup);
	free(names);

	/* host ports must not collide across the pod */
	size_t nhp = 0;
	for (size_t i = 0; i < total; i++) {
		const struct spec_container *c = i < pod->ninit ? &pod->init_containers[i]
							       : &pod->containers[i - pod->ninit];
		nhp += c->nports;
	}
	char **hp = xcalloc(nhp + 1, sizeof(char *));
	char **hpath = xcalloc(nhp + 1, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < total; i++) {
		bool init = i < pod->ninit;
		const struct spec_container *c = init ? &pod->init_containers[i]
						      : &pod->containers[i - pod->ninit];
		for (size_t j = 0; j < c->nports; j++, k++) {
			const struct spec_port *pt = &c->ports[j];
			if (!pt->host_port || !pt->protocol)
				continue;
			hp[k] = xasprintf("%lld/%s", (long long)pt->host_port, pt->protocol);
			hpath[k] = xasprintf("spec.%s[%zu].ports[%zu].hostPort",
					     init ? "initContainers" : "containers",
					     init ? i : i - pod->ninit, j);
		}
	}
	ssize_t *hdup = find_dups((const char *const *)hp, nhp);
	for (size_t i = 0; i < nhp; i++) {
		if (hdup[i] >= 0)
			verr(v, hpath[i], "Duplicate value: \"%s\"", hp[i]);
		free(hp[i]);
		free(hpath[i]);
	}
	free(hdup);
	free(hp);
	free(hpath);
	const char *def = spec_annotation(pod, "kubectl.kubernetes.io/default-container");
	(void)def; /* an unknown name falls back to the first container, as kubectl does */
}
