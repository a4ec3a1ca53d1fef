/* imageref.c: image references: the grammar of Docker's reference
 * package (domains, lowercase path components, tags, sha256 digests), the
 * normalization Kubernetes applies, and the error messages for names that
 * do not parse. */
#include "backend/imageref.h"
#include "backend/image.h"
#include "backend/sha256.h"
#include "backend/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* fail(err, rc, fmt, ...): util_fail, by the short name this file uses */
#define fail(...) util_fail(__VA_ARGS__)

void imageref_free(struct ref_parts *p)
{
	free(p->domain);
	free(p->path);
	free(p->tag);
	free(p->digest);
	memset(p, 0, sizeof(*p));
}

static bool tag_ok(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 128)
		return false;
	if (!(isalnum((unsigned char)t[0]) || t[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'))
			return false;
	return true;
}

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static bool path_component_ok(const char *c, size_t n)
{
	size_t i = 0;
	if (n == 0)
		return false;
	while (i < n) {
		if (!lower_alnum(c[i]))
			return false;
		while (i < n && lower_alnum(c[i]))
			i++;
		if (i == n)
			return true;
		if (c[i] == '.') {
			i++;
		} else if (c[i] == '_') {
			i++;
			if (i < n && c[i] == '_')
				i++;
		} else if (c[i] == '-') {
			while (i < n && c[i] == '-')
				i++;
		} else {
			return false;
		}
		if (i == n)
			return false;
	}
	return true;
}

/* host ("a.b-c.d" or "[v6]") with an optional ":port". */
static bool domain_ok(const char *d)
{
	const char *p = d;
	if (*p == '[') {
		p++;
		const char *s = p;
		while (*p && (isxdigit((unsigned char)*p) || *p == ':'))
			p++;
		if (p == s || *p != ']')
			return false;
		p++;
	} else {
		for (;;) {
			const char *s = p;
			while (isalnum((unsigned char)*p) || *p == '-')
				p++;
			if (p == s || s[0] == '-' || p[-1] == '-')
				return false;
			if (*p != '.')
				break;
			p++;
		}
	}
	if (*p == ':') {
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

static int ref_bad(char **err, const char *ref, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int ref_bad(char **err, const char *ref, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cleanup_free char *why = xvasprintf(fmt, ap);
	va_end(ap);
	return fail(err, -EINVAL, "invalid image name \"%s\": %s", ref, why);
}

int imageref_parse(const char *ref, struct ref_parts *out, char **err)
{
	struct ref_parts p = {0};
	if (!ref || !*ref)
		return ref_bad(err, ref ? ref : "", "empty reference");
	for (const char *c = ref; *c; c++)
		if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f)
			return ref_bad(err, ref, "contains whitespace or a non-ascii character");
	if (strlen(ref) > 1024)
		return ref_bad(err, ref, "too long");

	cleanup_free char *s = xstrdup(ref);
	char *at = strchr(s, '@');
	if (at) {
		*at = '\0';
		const char *d = at + 1;
		if (strncmp(d, "sha256:", 7) != 0 && strchr(d, ':') && d[0] != ':')
			return ref_bad(err, ref,
				       "unsupported digest algorithm in \"%s\" (only sha256)", d);
		if (!sha256_digest_ok(d))
			return ref_bad(err, ref,
				       "invalid digest \"%s\" (want sha256:<64 hex digits>)", d);
		p.digest = xstrdup(d);
	}
	char *slash = strrchr(s, '/');
	char *colon = strrchr(slash ? slash : s, ':');
	if (colon) {
		*colon = '\0';
		if (!tag_ok(colon + 1)) {
			imageref_free(&p);
			return ref_bad(err, ref,
				       "invalid tag \"%s\" (want [A-Za-z0-9_][A-Za-z0-9._-]*, "
				       "at most 128 characters)",
				       colon + 1);
		}
		p.tag = xstrdup(colon + 1);
	}
	if (!*s) {
		imageref_free(&p);
		return ref_bad(err, ref, "repository name is empty");
	}

	const char *rest = s;
	char *first = strchr(s, '/');
	if (first && (memchr(s, '.', (size_t)(first - s)) || memchr(s, ':', (size_t)(first - s)) ||
		      (first - s == 9 && strncmp(s, "localhost", 9) == 0))) {
		p.domain = xstrndup(s, (size_t)(first - s));
		rest = first + 1;
		if (!domain_ok(p.domain)) {
			int rc = ref_bad(err, ref, "invalid registry host \"%s\"", p.domain);
			imageref_free(&p);
			return rc;
		}
		if (strcmp(p.domain, "index.docker.io") == 0) {
			free(p.domain);
			p.domain = xstrdup("docker.io");
		}
	} else {
		p.domain = xstrdup("docker.io");
	}
	for (const char *c = rest; *c; c++) {
		if (isupper((unsigned char)*c)) {
			imageref_free(&p);
			return ref_bad(err, ref, "repository name must be lowercase");
		}
	}
	if (!first && strlen(rest) == 64 && sha256_is_hex64(rest)) {
		imageref_free(&p);
		return ref_bad(err, ref,
			       "a 64-character hexadecimal string is an image id, "
			       "not a repository name");
	}
	for (const char *c = rest;;) {
		const char *e = strchr(c, '/');
		size_t n = e ? (size_t)(e - c) : strlen(c);
		if (n == 0) {
			imageref_free(&p);
			return ref_bad(err, ref, "repository path has an empty component");
		}
		if (!path_component_ok(c, n)) {
			cleanup_free char *comp = xstrndup(c, n);
			imageref_free(&p);
			return ref_bad(err, ref,
				       "invalid repository path component \"%s\" (want lowercase "
				       "letters and digits separated by '.', '_', '__' or '-')",
				       comp);
		}
		if (!e)
			break;
		c = e + 1;
	}
	if (strcmp(p.domain, "docker.io") == 0 && !strchr(rest, '/'))
		p.path = xasprintf("library/%s", rest);
	else
		p.path = xstrdup(rest);
	if (strlen(p.domain) + 1 + strlen(p.path) > 255) {
		imageref_free(&p);
		return ref_bad(err, ref, "repository name is longer than 255 characters");
	}
	if (!p.tag && !p.digest)
		p.tag = xstrdup("latest");
	*out = p;
	return 0;
}

char *imageref_format(const struct ref_parts *p, bool with_digest)
{
	struct strbuf sb;
	sb_init(&sb);
	sb_printf(&sb, "%s/%s", p->domain, p->path);
	if (p->tag)
		sb_printf(&sb, ":%s", p->tag);
	if (with_digest && p->digest)
		sb_printf(&sb, "@%s", p->digest);
	return sb_steal(&sb);
}

char *image_normalize_ref(const char *ref, char **err)
{
	struct ref_parts p;
	if (err)
		*err = NULL;
	if (imageref_parse(ref, &p, err) < 0)
		return NULL;
	char *s = imageref_format(&p, true);
	imageref_free(&p);
	return s;
}

char *imageref_key(const struct ref_parts *p)
{
	if (p->tag)
		return imageref_format(p, false);
	return imageref_format(p, true);
}

bool imageref_same_repo(const struct ref_parts *a, const struct ref_parts *b)
{
	return strcmp(a->domain, b->domain) == 0 && strcmp(a->path, b->path) == 0;
}
