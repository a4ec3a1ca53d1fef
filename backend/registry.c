/* registry.c: pull images over the OCI distribution API v2 with libcurl
 * (see registry.h). One curl handle per pull (connections are reused
 * within it); tokens are shared between pulls until they expire. */
#include "backend/registry.h"
#include "backend/util.h"

#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_MANIFEST	  (8u << 20)
#define MAX_SMALL_BODY	  (4u << 20) /* tags lists, tokens */
#define MAX_ERROR_BODY	  (64u << 10)
#define TOKEN_DEFAULT_TTL 60
#define USER_AGENT	  "podfs/0.1"

static const char *const manifest_types[] = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
};
#define ACCEPT_MANIFESTS                                                                           \
	"Accept: application/vnd.oci.image.index.v1+json, "                                        \
	"application/vnd.oci.image.manifest.v1+json, "                                             \
	"application/vnd.docker.distribution.manifest.list.v2+json, "                              \
	"application/vnd.docker.distribution.manifest.v2+json"

struct mirror {
	char *reg, *url;
};

struct token {
	char *key, *value;
	int64_t expires_ms;
};

struct registry {
	pthread_mutex_t lock; /* tokens */
	struct mirror *mirrors;
	size_t nmirrors;
	struct strv insecure;
	char *auth_file;
	char *certs_dir; /* Docker-style certs.d, or NULL */
	struct token *tokens;
	size_t ntokens;
	atomic_int cancel;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* fail(err, rc, fmt, ...): util_fail, by the short name this file uses */
#define fail(...) util_fail(__VA_ARGS__)

struct registry *registry_new(void)
{
	pthread_once(&curl_once, curl_init_once);
	struct registry *r = xcalloc(1, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nmirrors; i++) {
		free(r->mirrors[i].reg);
		free(r->mirrors[i].url);
	}
	free(r->mirrors);
	strv_free(&r->insecure);
	free(r->auth_file);
	free(r->certs_dir);
	for (size_t i = 0; i < r->ntokens; i++) {
		free(r->tokens[i].key);
		free(r->tokens[i].value);
	}
	free(r->tokens);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

void registry_cancel(struct registry *r)
{
	atomic_store(&r->cancel, 1);
}

/* "docker.io", "index.docker.io", "registry-1.docker.io" are one registry. */
static char *host_key(const char *h)
{
	const char *s = h;
	if (!strncmp(s, "https://", 8))
		s += 8;
	else if (!strncmp(s, "http://", 7))
		s += 7;
	size_t n = strcspn(s, "/");
	char *k = xstrndup(s, n);
	for (char *c = k; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (!strcmp(k, "index.docker.io") || !strcmp(k, "registry-1.docker.io")) {
		free(k);
		k = xstrdup("docker.io");
	}
	return k;
}

int registry_add_mirror(struct registry *r, const char *spec, char **err)
{
	const char *eq = strchr(spec, '=');
	if (!eq || eq == spec || !eq[1])
		return fail(err, -EINVAL, "--registry-mirror wants REG=URL, got \"%s\"", spec);
	const char *url = eq + 1;
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		return fail(err, -EINVAL,
			    "--registry-mirror %s: the URL must start with http:// or https://",
			    spec);
	r->mirrors = xrealloc(r->mirrors, (r->nmirrors + 1) * sizeof(*r->mirrors));
	cleanup_free char *reg = xstrndup(spec, (size_t)(eq - spec));
	r->mirrors[r->nmirrors].reg = host_key(reg);
	char *u = xstrdup(url);
	size_t n = strlen(u);
	while (n > 0 && u[n - 1] == '/')
		u[--n] = '\0';
	r->mirrors[r->nmirrors].url = u;
	r->nmirrors++;
	return 0;
}

int registry_add_insecure(struct registry *r, const char *hostport, char **err)
{
	if (!*hostport || strchr(hostport, '/'))
		return fail(err, -EINVAL, "--insecure-registry wants HOST[:PORT], got \"%s\"",
			    hostport);
	cleanup_free char *k = host_key(hostport);
	strv_push(&r->insecure, k);
	return 0;
}

void registry_set_auth_file(struct registry *r, const char *path)
{
	free(r->auth_file);
	r->auth_file = path ? xstrdup(path) : NULL;
}

static bool is_loopback(const char *hostport)
{
	cleanup_free char *h = NULL;
	if (hostport[0] == '[') {
		size_t n = strcspn(hostport, "]");
		h = xstrndup(hostport + 1, n > 0 ? n - 1 : 0);
	} else {
		h = xstrndup(hostport, strcspn(hostport, ":"));
	}
	return !strcmp(h, "localhost") || !strncmp(h, "127.", 4) || !strcmp(h, "::1");
}

void registry_set_certs_dir(struct registry *r, const char *dir)
{
	free(r->certs_dir);
	r->certs_dir = dir ? xstrdup(dir) : NULL;
}

/* CERTS/HOSTPORT, if that directory exists; NULL otherwise. A host:port
 * comes from a reference or a URL, but is checked anyway: no '/', never
 * "." or "..". */
static char *certs_for(const struct registry *r, const char *hostport)
{
	if (!r->certs_dir || !*hostport || strchr(hostport, '/') || !strcmp(hostport, ".") ||
	    !strcmp(hostport, ".."))
		return NULL;
	char *d = xasprintf("%s/%s", r->certs_dir, hostport);
	struct stat st;
	if (stat(d, &st) == 0 && S_ISDIR(st.st_mode))
		return d;
	free(d);
	return NULL;
}

/* The system's CA bundle plus every DIR/\*.crt, as one PEM blob: the
 * registry's own CA is trusted on top of the usual ones, as Docker does. */
static char *ca_blob(const char *dir, size_t *len)
{
	struct strbuf sb;
	sb_init(&sb);
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	const char *sys = v->cainfo ? v->cainfo : "/etc/ssl/certs/ca-certificates.crt";
	size_t n = 0;
	char *buf = NULL;
	if (util_read_file(sys, 4 << 20, &buf, &n) == 0) {
		sb_add(&sb, buf, n);
		sb_putc(&sb, '\n');
		free(buf);
	}
	struct dirent **names = NULL;
	int k = scandir(dir, &names, NULL, alphasort);
	for (int i = 0; i < k; i++) {
		size_t l = strlen(names[i]->d_name);
		if (l > 4 && !strcmp(names[i]->d_name + l - 4, ".crt")) {
			cleanup_free char *p = xasprintf("%s/%s", dir, names[i]->d_name);
			if (util_read_file(p, 1 << 20, &buf, &n) == 0) {
				sb_add(&sb, buf, n);
				sb_putc(&sb, '\n');
				free(buf);
			}
		}
		free(names[i]);
	}
	free(names);
	*len = sb.len;
	return sb_steal(&sb);
}

/* DIR/NAME.cert with DIR/NAME.key: a client certificate (the first pair,
 * by name). */
static bool client_cert(const char *dir, char **cert, char **key)
{
	struct dirent **names = NULL;
	int k = scandir(dir, &names, NULL, alphasort);
	bool found = false;
	for (int i = 0; i < k; i++) {
		size_t l = strlen(names[i]->d_name);
		if (!found && l > 5 && !strcmp(names[i]->d_name + l - 5, ".cert")) {
			char *c = xasprintf("%s/%s", dir, names[i]->d_name);
			char *y = xasprintf("%s/%.*s.key", dir, (int)(l - 5), names[i]->d_name);
			if (access(y, R_OK) == 0) {
				*cert = c;
				*key = y;
				found = true;
			} else {
				free(c);
				free(y);
			}
		}
		free(names[i]);
	}
	free(names);
	return found;
}

char *registry_endpoint_url(struct registry *r, const char *host)
{
	cleanup_free char *k = host_key(host);
	if (!strcmp(k, "docker.io"))
		return xstrdup("https://registry-1.docker.io");
	cleanup_free char *certs = certs_for(r, k);
	if (certs)
		return xasprintf("https://%s", k); /* its own TLS, even on loopback */
	bool insecure = is_loopback(k);
	for (size_t i = 0; i < r->insecure.n; i++)
		insecure |= !strcmp(r->insecure.v[i], k);
	return xasprintf("%s://%s", insecure ? "http" : "https", k);
}

/* ---- base64 and credentials ----------------------------------------------- */

static char *b64_encode(const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

static char *b64_decode(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n % 4 || n > 65536)
		return NULL;
	unsigned char *out = xmalloc(n / 4 * 3 + 1);
	int len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	if (len < 0) {
		free(out);
		return NULL;
	}
	if (s[n - 1] == '=')
		len--;
	if (s[n - 2] == '=')
		len--;
	out[len] = '\0';
	if (strlen((char *)out) != (size_t)len) {
		free(out);
		return NULL;
	}
	return (char *)out;
}

char *registry_auth_lookup(const char *json, size_t len, const char *host)
{
	json_t *root = json_loadb(json, len, 0, NULL);
	json_t *auths = json_object_get(root, "auths");
	cleanup_free char *want = host_key(host);
	char *found = NULL;
	const char *key;
	json_t *v;
	json_object_foreach(auths, key, v)
	{
		cleanup_free char *k = host_key(key);
		if (strcmp(k, want) != 0 || !json_is_object(v))
			continue;
		const char *a = json_string_value(json_object_get(v, "auth"));
		const char *u = json_string_value(json_object_get(v, "username"));
		const char *p = json_string_value(json_object_get(v, "password"));
		if (a && *a) {
			char *d = b64_decode(a);
			if (d && strchr(d, ':')) {
				found = d;
				break;
			}
			free(d);
		} else if (u && p) {
			found = xasprintf("%s:%s", u, p);
			break;
		}
	}
	json_decref(root);
	return found;
}

/* ---- WWW-Authenticate ----------------------------------------------------- */

void registry_challenge_clear(struct registry_challenge *c)
{
	free(c->scheme);
	free(c->realm);
	free(c->service);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

static bool tchar(char c)
{
	/* not NUL: strchr() finds the terminator */
	return c && (isalnum((unsigned char)c) || strchr("!#$%&'*+-.^_`|~", c));
}

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

/* RFC 7235: challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ],
 * challenges comma-separated; auth-param = token "=" ( token /
 * quoted-string ). */
int registry_parse_challenge(const char *header, struct registry_challenge *out)
{
	struct registry_challenge cur = {0}, basic = {0};
	const char *p = header;
	bool have_basic = false;
	memset(out, 0, sizeof(*out));
	for (;;) {
		skip_ws(&p);
		while (*p == ',') {
			p++;
			skip_ws(&p);
		}
		if (!*p)
			break;
		const char *s = p;
		while (tchar(*p))
			p++;
		if (p == s)
			break; /* garbage */
		cleanup_free char *word = xstrndup(s, (size_t)(p - s));
		skip_ws(&p);
		if (*p == '=' && cur.scheme) {
			/* a parameter of the current challenge */
			p++;
			skip_ws(&p);
			struct strbuf v;
			sb_init(&v);
			if (*p == '"') {
				p++;
				while (*p && *p != '"') {
					if (*p == '\\' && p[1])
						p++;
					sb_putc(&v, *p++);
				}
				if (*p == '"')
					p++;
			} else {
				while (tchar(*p) || *p == '/' || *p == ':')
					sb_putc(&v, *p++);
			}
			char **slot = !strcasecmp(word, "realm")     ? &cur.realm
				      : !strcasecmp(word, "service") ? &cur.service
				      : !strcasecmp(word, "scope")   ? &cur.scope
								     : NULL;
			if (slot && !*slot)
				*slot = sb_steal(&v);
			else
				sb_free(&v);
			skip_ws(&p);
			continue;
		}
		/* a new challenge: keep the one before */
		if (cur.scheme) {
			if (!strcasecmp(cur.scheme, "Bearer")) {
				*out = cur;
				registry_challenge_clear(&basic);
				return 0;
			}
			if (!strcasecmp(cur.scheme, "Basic") && !have_basic) {
				basic = cur;
				have_basic = true;
			} else {
				registry_challenge_clear(&cur);
			}
			memset(&cur, 0, sizeof(cur));
		}
		cur.scheme = steal_pointer(&word);
		/* token68 (e.g. "Negotiate abc=="): skip it */
		if (*p && *p != ',') {
			const char *q = p;
			while (tchar(*q) || *q == '/')
				q++;
			while (*q == '=')
				q++;
			skip_ws(&q);
			if (!*q || *q == ',')
				p = q;
		}
	}
	if (cur.scheme && !strcasecmp(cur.scheme, "Bearer")) {
		*out = cur;
		registry_challenge_clear(&basic);
		return 0;
	}
	if (cur.scheme && !strcasecmp(cur.scheme, "Basic") && !have_basic) {
		basic = cur;
		have_basic = true;
	} else {
		registry_challenge_clear(&cur);
	}
	if (have_basic) {
		free(basic.scheme);
		basic.scheme = xstrdup("Basic");
		*out = basic;
		return 0;
	}
	return -EINVAL;
}

char *registry_close_tags(const char *want, char *const *tags)
{
	const char *best = util_suggest(want, (const char *const *)tags);
	return best ? xasprintf("\"%s\"", best) : NULL;
}

/* ---- HTTP ------------------------------------------------------------------ */

struct pull {
	struct registry *r;
	CURL *curl;
	struct image_store *st;
	char *domain, *repo, *tag, *digest; /* of the reference */
	char *name;			    /* domain/repo, for messages */
	char *base;			    /* endpoint, e.g. http://127.0.0.1:5000 */
	char *auth;			    /* "Authorization: ..." or NULL */
	char *basic;			    /* "user:pass" for the registry, or NULL */
	pthread_mutex_t mu;		    /* auth, and the handle for token requests */
	const struct registry_progress *prog;
	int64_t last_prog_ms;
	/* TLS material of the last host with a certs.d entry, built once per
	 * pull rather than per request (the system bundle is ~200 KB) */
	pthread_mutex_t tls_mu;
	struct pull_tls {
		char *host, *certs, *cas, *ccert, *ckey;
		size_t cas_len;
	} tls;
};

struct resp {
	long status;
	char *content_type, *digest, *www_auth;
	struct strbuf body;
	size_t max;
	bool too_big;
	struct image_sink *sink;
	int sink_rc;
	CURLcode cc;
	char errbuf[CURL_ERROR_SIZE];
	struct pull *pl;
	CURL *curl; /* the handle used: pl->curl, or a blob fetch's own */
};

static void resp_clear(struct resp *rs)
{
	free(rs->content_type);
	free(rs->digest);
	free(rs->www_auth);
	sb_free(&rs->body);
	struct image_sink *sink = rs->sink;
	size_t max = rs->max;
	struct pull *pl = rs->pl;
	CURL *curl = rs->curl;
	memset(rs, 0, sizeof(*rs));
	sb_init(&rs->body);
	rs->sink = sink;
	rs->max = max;
	rs->pl = pl;
	rs->curl = curl;
}

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct resp *rs = arg;
	size_t len = size * n;
	if (len >= 5 && !strncmp(buf, "HTTP/", 5)) {
		/* a new response (after a redirect or 100): forget the old one */
		free(rs->content_type);
		free(rs->digest);
		free(rs->www_auth);
		rs->content_type = rs->digest = rs->www_auth = NULL;
		return len;
	}
	const char *colon = memchr(buf, ':', len);
	if (!colon)
		return len;
	size_t nl = (size_t)(colon - buf);
	const char *v = colon + 1;
	const char *end = buf + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	char **slot = NULL;
	if (nl == 12 && !strncasecmp(buf, "Content-Type", 12))
		slot = &rs->content_type;
	else if (nl == 21 && !strncasecmp(buf, "Docker-Content-Digest", 21))
		slot = &rs->digest;
	else if (nl == 16 && !strncasecmp(buf, "WWW-Authenticate", 16))
		slot = &rs->www_auth;
	if (slot && !*slot && end - v < 8192)
		*slot = xstrndup(v, (size_t)(end - v));
	return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct resp *rs = arg;
	size_t len = size * n;
	long code = 0;
	curl_easy_getinfo(rs->curl, CURLINFO_RESPONSE_CODE, &code);
	if (rs->sink && code == 200) {
		int rc = image_sink_write(rs->sink, buf, len);
		if (rc < 0) {
			rs->sink_rc = rc;
			return 0; /* abort the transfer */
		}
		return len;
	}
	size_t max = rs->sink || code != 200 ? MAX_ERROR_BODY : rs->max;
	if (rs->body.len + len > max) {
		/* stop: a 200 too big to be what we asked for, or an error
		 * body we have read enough of (http_get treats this as an
		 * answer; callers look at too_big and the status) */
		rs->too_big = true;
		return 0;
	}
	sb_add(&rs->body, buf, len);
	return len;
}

static int on_xfer(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		   curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	struct pull *pl = arg;
	return atomic_load(&pl->r->cancel) ? 1 : 0;
}

static void pull_tls_clear(struct pull_tls *t)
{
	free(t->host);
	free(t->certs);
	free(t->cas);
	free(t->ccert);
	free(t->ckey);
	memset(t, 0, sizeof(*t));
}

/* Sets HOST's certs.d material (CA blob, client certificate) on handle C,
 * building it when the pull first talks to HOST. *CERTS and *CCERT get
 * copies of the directory and the certificate path (NULL when none), for
 * the messages of a failed request. */
static void pull_tls_apply(struct pull *pl, CURL *c, const char *host, char **certs,
			   char **ccert)
{
	pthread_mutex_lock(&pl->tls_mu);
	struct pull_tls *t = &pl->tls;
	if (!t->host || strcmp(t->host, host)) {
		pull_tls_clear(t);
		t->host = xstrdup(host);
		t->certs = certs_for(pl->r, host);
		if (t->certs) {
			t->cas = ca_blob(t->certs, &t->cas_len);
			client_cert(t->certs, &t->ccert, &t->ckey); /* (or none) */
		}
	}
	if (t->certs) {
		struct curl_blob blob = {.data = t->cas, .len = t->cas_len};
		blob.flags = CURL_BLOB_COPY; /* the handle outlives this request */
		curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
		if (t->ccert) {
			/* curl copies option strings */
			curl_easy_setopt(c, CURLOPT_SSLCERT, t->ccert);
			curl_easy_setopt(c, CURLOPT_SSLKEY, t->ckey);
		}
		*certs = xstrdup(t->certs);
		*ccert = t->ccert ? xstrdup(t->ccert) : NULL;
	}
	pthread_mutex_unlock(&pl->tls_mu);
}

/* One GET of URL. Fills RS (status, headers, body or the sink). Returns 0
 * when an HTTP answer came, or -EHOSTUNREACH/-ECANCELED with *err. */
static int http_get(struct pull *pl, const char *url, const char *accept, const char *auth,
		    struct resp *rs, char **err)
{
	if (!rs->curl)
		rs->curl = pl->curl;
	CURL *c = rs->curl;
	struct curl_slist *h = NULL;
	if (accept)
		h = curl_slist_append(h, accept);
	if (auth)
		h = curl_slist_append(h, auth);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	/* credentials never follow a redirect to another host */
	curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1000L); /* bytes/s, over: */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, NULL);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, rs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, rs);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_xfer);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, pl);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, rs->errbuf);
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);
	const char *hs = strstr(url, "://") ? strstr(url, "://") + 3 : url;
	cleanup_free char *host = xstrndup(hs, strcspn(hs, "/"));
	cleanup_free char *certs = NULL, *ccert = NULL;
	pull_tls_apply(pl, c, host, &certs, &ccert);
	rs->errbuf[0] = '\0';
	rs->cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
	curl_slist_free_all(h);
	if (rs->cc == CURLE_OK)
		return 0;
	if (rs->cc == CURLE_WRITE_ERROR && (rs->sink_rc || rs->too_big))
		return 0; /* ours: the caller looks at sink_rc / too_big */
	if (rs->cc == CURLE_ABORTED_BY_CALLBACK)
		return fail(err, -ECANCELED, "cancelled");
	const char *why = rs->errbuf[0] ? rs->errbuf : curl_easy_strerror(rs->cc);
	if (rs->cc == CURLE_PEER_FAILED_VERIFICATION || rs->cc == CURLE_SSL_CACERT_BADFILE)
		return fail(err, -EHOSTUNREACH,
			    "cannot reach %s (GET %s): %s; a registry with its own CA: put the "
			    "CA certificate in %s/%s/ca.crt",
			    host, url, why, pl->r->certs_dir ? pl->r->certs_dir : "CERTS_DIR",
			    host);
	/* a server refusing us for want of a client certificate: with TLS 1.3
	 * that is an alert, or just a reset once the handshake looked done */
	if (certs && !ccert && strncmp(url, "http://", 7) &&
	    (rs->cc == CURLE_SSL_CONNECT_ERROR || rs->cc == CURLE_SEND_ERROR ||
	     rs->cc == CURLE_RECV_ERROR))
		return fail(err, -EHOSTUNREACH,
			    "cannot reach %s (GET %s): %s; if the registry wants a client "
			    "certificate, put NAME.cert and NAME.key in %s",
			    host, url, why, certs);
	return fail(err, -EHOSTUNREACH, "cannot reach %s (GET %s): %s", host, url, why);
}

char *registry_error_message(const char *body, size_t len, char *code_out, size_t code_len)
{
	json_t *j = json_loadb(body ? body : "", len, 0, NULL);
	json_t *e = json_array_get(json_object_get(j, "errors"), 0);
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	if (code_out) {
		snprintf(code_out, code_len, "%s", code ? code : "");
	}
	char *s = msg && code ? xasprintf("%s (%s)", msg, code)
		  : msg	      ? xstrdup(msg)
		  : code      ? xstrdup(code)
			      : xstrdup("");
	/* keep it printable and short */
	for (char *c = s; *c; c++)
		if ((unsigned char)*c < ' ')
			*c = ' ';
	if (strlen(s) > 300)
		s[300] = '\0';
	json_decref(j);
	return s;
}

/* The registry's own words from an error body ({"errors":[{"code",
 * "message"}]}), or "". */
static char *registry_message(const struct resp *rs, char *code_out, size_t code_len)
{
	return registry_error_message(rs->body.buf, rs->body.len, code_out, code_len);
}

static int64_t token_cache_get(struct registry *r, const char *key, char **out)
{
	int64_t now = util_now_ms();
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->ntokens; i++) {
		if (!strcmp(r->tokens[i].key, key) && r->tokens[i].expires_ms > now) {
			*out = xstrdup(r->tokens[i].value);
			pthread_mutex_unlock(&r->lock);
			return 1;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static void token_cache_put(struct registry *r, const char *key, const char *value, int64_t ttl_s)
{
	int64_t exp = util_now_ms() + (ttl_s > 10 ? ttl_s - 5 : ttl_s) * 1000;
	pthread_mutex_lock(&r->lock);
	size_t i;
	for (i = 0; i < r->ntokens && strcmp(r->tokens[i].key, key); i++)
		;
	if (i == r->ntokens) {
		if (r->ntokens >= 256) { /* bounded: drop the oldest */
			free(r->tokens[0].key);
			free(r->tokens[0].value);
			memmove(r->tokens, r->tokens + 1, (r->ntokens - 1) * sizeof(*r->tokens));
			r->ntokens--;
			i = r->ntokens;
		}
		r->tokens = xrealloc(r->tokens, (r->ntokens + 1) * sizeof(*r->tokens));
		r->tokens[i].key = xstrdup(key);
		r->tokens[i].value = NULL;
		r->ntokens++;
	}
	free(r->tokens[i].value);
	r->tokens[i].value = xstrdup(value);
	r->tokens[i].expires_ms = exp;
	pthread_mutex_unlock(&r->lock);
}

int registry_parse_token(const char *body, size_t len, char **token, int64_t *ttl_s)
{
	*token = NULL;
	json_t *j = json_loadb(body ? body : "", len, 0, NULL);
	const char *t = json_string_value(json_object_get(j, "token"));
	if (!t || !*t)
		t = json_string_value(json_object_get(j, "access_token"));
	json_t *ex = json_object_get(j, "expires_in");
	int64_t ttl = json_is_integer(ex) && json_integer_value(ex) > 0 ? json_integer_value(ex)
									: TOKEN_DEFAULT_TTL;
	if (ttl > 86400)
		ttl = 86400;
	bool ok = t && *t && strlen(t) < 16384;
	for (const char *c = t; ok && *c; c++)
		ok = (unsigned char)*c > ' ' && (unsigned char)*c < 0x7f;
	if (ok) {
		*token = xstrdup(t);
		*ttl_s = ttl;
	}
	json_decref(j);
	return ok ? 0 : -EINVAL;
}

/* Answer challenge WWW (from a 401 to a request made with USED, the
 * Authorization header or NULL): Basic with the auths file's credentials,
 * or a Bearer token (cached, unless it is the one just refused). SECOND:
 * the request was refused again with the answer, so say what was refused.
 * Called with pl->mu held. */
static int authenticate(struct pull *pl, const char *www, const char *used, bool second, char **err)
{
	struct registry_challenge ch;
	cleanup_free char *host = host_key(pl->base);
	if (!www || registry_parse_challenge(www, &ch) < 0)
		return fail(err, -EACCES,
			    "%s asks for authentication with a challenge podfs does not "
			    "understand: \"%s\"",
			    host, www ? www : "(no WWW-Authenticate header)");
	int rc = 0;
	if (!strcasecmp(ch.scheme, "Basic")) {
		if (!pl->basic) {
			rc = fail(err, -EACCES,
				  "%s requires authentication, and the credentials file (%s) has "
				  "none for it",
				  host, pl->r->auth_file ? pl->r->auth_file : "none set");
		} else if (second) {
			rc = fail(err, -EACCES, "%s refused the credentials from %s", host,
				  pl->r->auth_file);
		} else {
			cleanup_free char *b = b64_encode(pl->basic);
			free(pl->auth);
			pl->auth = xasprintf("Authorization: Basic %s", b);
		}
		registry_challenge_clear(&ch);
		return rc;
	}
	if (!ch.realm || (strncmp(ch.realm, "https://", 8) && strncmp(ch.realm, "http://", 7))) {
		rc = fail(err, -EACCES, "%s: Bearer challenge without a usable realm", host);
		registry_challenge_clear(&ch);
		return rc;
	}
	if (second) {
		rc = fail(err, -EACCES, "%s refused the token from %s%s", host, ch.realm,
			  pl->basic ? "" : " (anonymous; no credentials for it)");
		registry_challenge_clear(&ch);
		return rc;
	}
	cleanup_free char *scope =
	    ch.scope ? xstrdup(ch.scope) : xasprintf("repository:%s:pull", pl->repo);
	cleanup_free char *key = xasprintf("%s|%s|%s|%s", ch.realm, ch.service ? ch.service : "",
					   scope, pl->basic ? pl->basic : "");
	char *tok = NULL;
	if (token_cache_get(pl->r, key, &tok) && used &&
	    !strncmp(used, "Authorization: Bearer ", 22) && !strcmp(used + 22, tok)) {
		free(tok); /* the cached one was just refused (expired early?) */
		tok = NULL;
	}
	if (!tok) {
		struct strbuf url;
		sb_init(&url);
		sb_puts(&url, ch.realm);
		char sep = strchr(ch.realm, '?') ? '&' : '?';
		if (ch.service) {
			char *e = curl_easy_escape(pl->curl, ch.service, 0);
			sb_printf(&url, "%cservice=%s", sep, e);
			curl_free(e);
			sep = '&';
		}
		/* several scopes are space-separated in a challenge */
		cleanup_free char *sc = xstrdup(scope);
		char *save = NULL;
		for (char *s = strtok_r(sc, " ", &save); s; s = strtok_r(NULL, " ", &save)) {
			char *e = curl_easy_escape(pl->curl, s, 0);
			sb_printf(&url, "%cscope=%s", sep, e);
			curl_free(e);
			sep = '&';
		}
		cleanup_free char *basic_hdr = NULL;
		if (pl->basic) {
			cleanup_free char *b = b64_encode(pl->basic);
			basic_hdr = xasprintf("Authorization: Basic %s", b);
		}
		struct resp rs = {.max = MAX_SMALL_BODY, .pl = pl};
		sb_init(&rs.body);
		rc = http_get(pl, url.buf, "Accept: application/json", basic_hdr, &rs, err);
		if (rc == 0 && rs.status != 200) {
			cleanup_free char *m = registry_message(&rs, NULL, 0);
			rc = fail(err, -EACCES, "token service %s refused: HTTP %ld%s%s", ch.realm,
				  rs.status, *m ? ": " : "", m);
		} else if (rc == 0) {
			int64_t ttl;
			if (registry_parse_token(rs.body.buf, rs.body.len, &tok, &ttl) < 0)
				rc = fail(err, -EACCES, "token service %s sent no usable token",
					  ch.realm);
			else
				token_cache_put(pl->r, key, tok, ttl);
		}
		resp_clear(&rs);
		sb_free(&rs.body);
		sb_free(&url);
	}
	if (tok) {
		free(pl->auth);
		pl->auth = xasprintf("Authorization: Bearer %s", tok);
		free(tok);
	}
	registry_challenge_clear(&ch);
	return rc;
}

/* GET PATH (below the endpoint) with authentication: on a 401, answer the
 * challenge once and ask again. */
static int request(struct pull *pl, const char *path, const char *accept, struct resp *rs,
		   char **err)
{
	cleanup_free char *url = xasprintf("%s%s", pl->base, path);
	for (int attempt = 0;; attempt++) {
		pthread_mutex_lock(&pl->mu);
		cleanup_free char *auth = pl->auth ? xstrdup(pl->auth) : NULL;
		pthread_mutex_unlock(&pl->mu);
		int rc = http_get(pl, url, accept, auth, rs, err);
		if (rc < 0 || rs->status != 401 || rs->sink_rc)
			return rc;
		cleanup_free char *www = rs->www_auth ? xstrdup(rs->www_auth) : NULL;
		pthread_mutex_lock(&pl->mu);
		/* another thread may have answered the challenge meanwhile */
		bool renewed = attempt == 0 && pl->auth && (!auth || strcmp(auth, pl->auth) != 0);
		if (!renewed)
			rc = authenticate(pl, www, auth, attempt > 0, err);
		pthread_mutex_unlock(&pl->mu);
		if (rc < 0)
			return rc;
		if (attempt > 0)
			return 0;
		resp_clear(rs);
	}
}

static bool retryable(const struct resp *rs)
{
	return rs->status >= 500 || rs->status == 429;
}

/* ---- manifests, tags, blobs ------------------------------------------------ */

static char *sha256_of(const char *buf, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL);
	char *out = xmalloc(7 + 64 + 1);
	strcpy(out, "sha256:");
	for (unsigned int i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", md[i]);
	return out;
}

static bool known_manifest_type(const char *t)
{
	for (size_t i = 0; i < sizeof(manifest_types) / sizeof(manifest_types[0]); i++)
		if (!strcmp(t, manifest_types[i]))
			return true;
	return false;
}

void registry_parse_tags(const char *body, size_t len, struct strv *tags)
{
	json_t *j = json_loadb(body ? body : "", len, 0, NULL);
	json_t *arr = json_object_get(j, "tags");
	size_t i;
	json_t *t;
	json_array_foreach(arr, i, t)
	{
		const char *s = json_string_value(t);
		if (s && strlen(s) <= 128 && tags->n < 100000)
			strv_push(tags, s);
	}
	json_decref(j);
}

/* The tag-not-found message, with the tags that do exist when the
 * registry lists them. */
static int tag_not_found(struct pull *pl, char **err)
{
	cleanup_free char *path = xasprintf("/v2/%s/tags/list", pl->repo);
	struct resp rs = {.max = MAX_SMALL_BODY, .pl = pl};
	sb_init(&rs.body);
	cleanup_free char *e2 = NULL;
	int rc = request(pl, path, "Accept: application/json", &rs, &e2);
	char code[64] = "";
	if (rc == 0 && rs.status == 404) {
		free(registry_message(&rs, code, sizeof(code))); /* for the code */
		resp_clear(&rs);
		sb_free(&rs.body);
		if (!strcmp(code, "NAME_UNKNOWN"))
			return fail(err, -ENOENT, "repository %s not found", pl->name);
		return fail(err, -ENOENT, "tag \"%s\" not found in %s", pl->tag, pl->name);
	}
	struct strv tags = {0};
	if (rc == 0 && rs.status == 200)
		registry_parse_tags(rs.body.buf, rs.body.len, &tags);
	resp_clear(&rs);
	sb_free(&rs.body);
	if (tags.n == 0) {
		strv_free(&tags);
		return fail(err, -ENOENT, "tag \"%s\" not found in %s", pl->tag, pl->name);
	}
	char **v = xcalloc(tags.n + 1, sizeof(char *));
	memcpy(v, tags.v, tags.n * sizeof(char *));
	cleanup_free char *close = registry_close_tags(pl->tag, v);
	free(v);
	if (close) {
		rc = fail(err, -ENOENT, "tag \"%s\" not found in %s; did you mean %s?", pl->tag,
			  pl->name, close);
	} else {
		struct strbuf sb;
		sb_init(&sb);
		for (size_t i = 0; i < tags.n && i < 10; i++)
			sb_printf(&sb, "%s\"%s\"", i ? ", " : "", tags.v[i]);
		if (tags.n > 10)
			sb_printf(&sb, " and %zu more", tags.n - 10);
		rc = fail(err, -ENOENT, "tag \"%s\" not found in %s (it has %s)", pl->tag, pl->name,
			  sb.buf);
		sb_free(&sb);
	}
	strv_free(&tags);
	return rc;
}

/* Fetch the reference's top manifest or index from the current endpoint.
 * *RETRY is set when another endpoint may do better. */
static int fetch_top(struct pull *pl, char **buf, size_t *len, char **mt, bool *retry, char **err)
{
	cleanup_free char *path = NULL, *got = NULL, *ct = NULL;
	*retry = false;
	/* ping: is it there, and is it a registry? (also learns the challenge) */
	struct resp rs = {.max = MAX_ERROR_BODY, .pl = pl};
	sb_init(&rs.body);
	int rc = request(pl, "/v2/", NULL, &rs, err);
	if (rc == -EHOSTUNREACH || (rc == 0 && retryable(&rs))) {
		if (rc == 0)
			rc = fail(err, -EHOSTUNREACH, "%s/v2/ answered HTTP %ld", pl->base,
				  rs.status);
		*retry = true;
		goto out;
	}
	if (rc < 0)
		goto out;
	if (rs.status == 400 && !strncmp(pl->base, "http://", 7) && rs.body.buf &&
	    strstr(rs.body.buf, "HTTPS server")) {
		/* Go's answer to plain HTTP on a TLS port */
		rc =
		    fail(err, -EPROTO,
			 "%s/v2/ answered HTTP 400: the registry speaks HTTPS; to use it, put "
			 "its CA certificate in %s/%s/ca.crt",
			 pl->base, pl->r->certs_dir ? pl->r->certs_dir : "CERTS_DIR", pl->base + 7);
		goto out;
	}
	if (rs.status != 200) {
		rc = fail(err, rs.status == 401 || rs.status == 403 ? -EACCES : -EPROTO,
			  "%s/v2/ answered HTTP %ld: not an OCI registry, or access denied",
			  pl->base, rs.status);
		goto out;
	}
	resp_clear(&rs);
	rs.max = MAX_MANIFEST;
	path = xasprintf("/v2/%s/manifests/%s", pl->repo, pl->digest ? pl->digest : pl->tag);
	rc = request(pl, path, ACCEPT_MANIFESTS, &rs, err);
	if (rc == -EHOSTUNREACH || (rc == 0 && retryable(&rs))) {
		if (rc == 0)
			rc = fail(err, -EHOSTUNREACH, "%s%s answered HTTP %ld", pl->base, path,
				  rs.status);
		*retry = true;
		goto out;
	}
	if (rc < 0)
		goto out;
	if (rs.too_big && rs.status == 200) {
		rc = fail(err, -EFBIG, "the manifest of %s is larger than %u bytes", pl->name,
			  MAX_MANIFEST);
		goto out;
	}
	if (rs.status == 404) {
		char code[64] = "";
		free(registry_message(&rs, code, sizeof(code))); /* for the code */
		if (!strcmp(code, "NAME_UNKNOWN"))
			rc = fail(err, -ENOENT, "repository %s not found", pl->name);
		else if (pl->digest)
			rc = fail(err, -ENOENT, "manifest \"%s\" not found in %s", pl->digest,
				  pl->name);
		else
			rc = tag_not_found(pl, err);
		goto out;
	}
	if (rs.status == 401 || rs.status == 403) {
		cleanup_free char *m = registry_message(&rs, NULL, 0);
		rc = fail(err, -EACCES, "access to %s denied (HTTP %ld)%s%s", pl->name, rs.status,
			  *m ? ": " : "", m);
		goto out;
	}
	if (rs.status != 200) {
		cleanup_free char *m = registry_message(&rs, NULL, 0);
		rc = fail(err, -EPROTO, "GET %s%s: HTTP %ld%s%s", pl->base, path, rs.status,
			  *m ? ": " : "", m);
		goto out;
	}
	/* what was received is what gets hashed: never re-serialized */
	got = sha256_of(rs.body.buf ? rs.body.buf : "", rs.body.len);
	if (pl->digest && strcmp(got, pl->digest) != 0) {
		rc = fail(err, -EBADMSG,
			  "manifest digest mismatch for %s: asked for \"%s\", the content hashes "
			  "to \"%s\"",
			  pl->name, pl->digest, got);
		goto out;
	}
	if (rs.digest && !strncmp(rs.digest, "sha256:", 7) && strcmp(rs.digest, got) != 0) {
		rc = fail(err, -EBADMSG,
			  "manifest digest mismatch for %s: the registry says \"%s\" "
			  "(Docker-Content-Digest), the content hashes to \"%s\"",
			  pl->name, rs.digest, got);
		goto out;
	}
	/* the media type: Content-Type, which the body must not contradict */
	ct = rs.content_type ? xstrndup(rs.content_type, strcspn(rs.content_type, "; "))
			     : xstrdup("");
	json_t *j = json_loadb(rs.body.buf ? rs.body.buf : "", rs.body.len, 0, NULL);
	const char *own = json_string_value(json_object_get(j, "mediaType"));
	if (!j) {
		rc = fail(err, -EBADMSG, "the manifest of %s is not JSON", pl->name);
	} else if (strstr(ct, "distribution.manifest.v1") ||
		   (json_integer_value(json_object_get(j, "schemaVersion")) == 1)) {
		rc = fail(err, -ENOTSUP,
			  "%s is a Docker schema 1 image, which podfs does not support", pl->name);
	} else if (own && known_manifest_type(ct) && strcmp(own, ct) != 0) {
		rc = fail(err, -EBADMSG,
			  "the manifest of %s says mediaType \"%s\" but was served as \"%s\"",
			  pl->name, own, ct);
	} else {
		*mt = own ? xstrdup(own) : known_manifest_type(ct) ? xstrdup(ct) : NULL;
		*len = rs.body.len;
		*buf = sb_steal(&rs.body);
	}
	json_decref(j);
out:
	resp_clear(&rs);
	sb_free(&rs.body);
	return rc;
}

static void pull_progress(void *arg, int64_t done, int64_t total)
{
	struct pull *pl = arg;
	if (!pl->prog || !pl->prog->cb)
		return;
	int64_t now = util_now_ms();
	pthread_mutex_lock(&pl->mu); /* layers may download in parallel */
	if (done == 0 || done == total || now - pl->last_prog_ms >= 200) {
		pl->last_prog_ms = now;
		pl->prog->cb(pl->prog->arg, done, total);
	}
	pthread_mutex_unlock(&pl->mu);
}

static int pull_fetch(void *arg, enum image_blob_kind kind, const char *digest, int64_t size,
		      const char *mt, struct image_sink *sink, char **err)
{
	(void)size, (void)mt;
	struct pull *pl = arg;
	bool manifest = kind == IMAGE_BLOB_MANIFEST;
	cleanup_free char *path =
	    xasprintf("/v2/%s/%s/%s", pl->repo, manifest ? "manifests" : "blobs", digest);
	/* fetches may run in parallel (image_ingest): a handle of its own */
	struct resp rs = {.max = MAX_ERROR_BODY, .pl = pl, .sink = sink, .curl = curl_easy_init()};
	if (!rs.curl) {
		fprintf(stderr, "podfs: curl_easy_init failed\n");
		abort();
	}
	sb_init(&rs.body);
	int rc = request(pl, path, manifest ? ACCEPT_MANIFESTS : NULL, &rs, err);
	if (rc < 0) {
		if (rc == -EHOSTUNREACH)
			rc = fail(err, rc, "download of %s failed: %s", digest, *err);
	} else if (rs.sink_rc == -EFBIG) {
		rc = 0; /* the store reports the size */
	} else if (rs.sink_rc) {
		rc = fail(err, rs.sink_rc, "store %s: %s", digest, strerror(-rs.sink_rc));
	} else if (rs.status == 404) {
		rc = fail(err, -ENOENT, "%s \"%s\" not found in %s", manifest ? "manifest" : "blob",
			  digest, pl->name);
	} else if (rs.status != 200) {
		cleanup_free char *m = registry_message(&rs, NULL, 0);
		rc = fail(err, rs.status == 401 || rs.status == 403 ? -EACCES : -EPROTO,
			  "GET %s%s: HTTP %ld%s%s", pl->base, path, rs.status, *m ? ": " : "", m);
	} else if (rs.digest && !strncmp(rs.digest, "sha256:", 7) && strcmp(rs.digest, digest)) {
		rc = fail(err, -EBADMSG,
			  "asked for blob \"%s\", the registry says it sent \"%s\" "
			  "(Docker-Content-Digest)",
			  digest, rs.digest);
	}
	CURL *own = rs.curl;
	resp_clear(&rs);
	sb_free(&rs.body);
	curl_easy_cleanup(own);
	return rc;
}

/* Split a normalized reference "domain/path[:tag][@digest]". */
static void split_ref(const char *norm, struct pull *pl)
{
	cleanup_free char *s = xstrdup(norm);
	char *at = strchr(s, '@');
	if (at) {
		*at = '\0';
		pl->digest = xstrdup(at + 1);
	}
	char *slash = strchr(s, '/');
	char *colon = strrchr(slash, ':');
	if (colon) {
		*colon = '\0';
		pl->tag = xstrdup(colon + 1);
	}
	pl->domain = xstrndup(s, (size_t)(slash - s));
	pl->repo = xstrdup(slash + 1);
	pl->name = xstrdup(s);
}

static char *read_auth(struct registry *r, const char *domain)
{
	if (!r->auth_file)
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	if (util_read_file(r->auth_file, 1 << 20, &buf, &len) < 0)
		return NULL;
	char *c = registry_auth_lookup(buf, len, domain);
	free(buf);
	return c;
}

int registry_pull(struct registry *r, struct image_store *st, const char *ref,
		  const struct registry_progress *prog, struct image_ingest_result *res, char **err)
{
	*err = NULL;
	memset(res, 0, sizeof(*res));
	cleanup_free char *norm = image_normalize_ref(ref, err);
	if (!norm)
		return -EINVAL;
	struct pull pl = {.r = r, .st = st, .prog = prog};
	pthread_mutex_init(&pl.mu, NULL);
	pthread_mutex_init(&pl.tls_mu, NULL);
	split_ref(norm, &pl);
	pl.curl = curl_easy_init();
	if (!pl.curl) {
		fprintf(stderr, "podfs: curl_easy_init failed\n");
		abort();
	}
	pl.basic = read_auth(r, pl.domain);

	/* one pull of a reference at a time, across processes */
	cleanup_free char *origin = NULL;
	int lockfd = image_lock_ref(st, norm, err);
	int rc = lockfd;
	char *top = NULL, *mt = NULL;
	size_t len = 0;
	struct strbuf errs;
	sb_init(&errs);
	if (lockfd < 0)
		goto out;

	struct strv eps = {0};
	for (size_t i = 0; i < r->nmirrors; i++)
		if (!strcmp(r->mirrors[i].reg, pl.domain))
			strv_push(&eps, r->mirrors[i].url);
	origin = registry_endpoint_url(r, pl.domain);
	strv_push(&eps, origin);
	rc = -EHOSTUNREACH;
	for (size_t i = 0; i < eps.n; i++) {
		free(pl.base);
		pl.base = xstrdup(eps.v[i]);
		free(pl.auth);
		pl.auth = NULL;
		bool retry = false;
		cleanup_free char *e = NULL;
		rc = fetch_top(&pl, &top, &len, &mt, &retry, &e);
		if (rc == 0)
			break;
		sb_printf(&errs, "%s%s", errs.len ? "; " : "", e);
		if (!retry || atomic_load(&r->cancel))
			break;
	}
	strv_free(&eps);
	if (rc < 0) {
		*err = sb_steal(&errs);
		goto out;
	}
	struct image_source src = {.arg = &pl, .fetch = pull_fetch, .progress = pull_progress};
	rc = image_ingest(st, norm, top, len, mt, &src, res, err);
out:
	if (lockfd >= 0)
		image_unlock_ref(st, norm, lockfd);
	sb_free(&errs);
	free(top);
	free(mt);
	curl_easy_cleanup(pl.curl);
	free(pl.domain);
	free(pl.repo);
	free(pl.tag);
	free(pl.digest);
	free(pl.name);
	free(pl.base);
	free(pl.auth);
	pthread_mutex_destroy(&pl.mu);
	pull_tls_clear(&pl.tls);
	pthread_mutex_destroy(&pl.tls_mu);
	if (pl.basic) {
		explicit_bzero(pl.basic, strlen(pl.basic));
		free(pl.basic);
	}
	return rc;
}
