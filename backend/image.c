/* image.c: the local image store: reference normalization, import of OCI
 * layouts and archives with every digest checked, hostile-input-safe layer
 * unpacking into overlayfs lower dirs, lookup, listing and removal.
 *
 * Locking. Inside one process: ST->gc is a rwlock taken shared by import,
 * lookup and list and exclusively by remove (whose garbage collection must
 * not delete a layer an import has just put in place but not yet named in
 * refs.json); ST->lock serializes the read-modify-write of refs.json. Across
 * processes the same two roles are played by flock() on images/lock and
 * images/refs.lock. Lock order: gc, then lock. Readers of refs.json take no
 * lock: it is only ever replaced by rename. */
#include "backend/image.h"
#include "backend/image_parse.h"
#include "backend/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>

#if defined(__x86_64__)
#define HOST_ARCH "amd64"
#elif defined(__aarch64__)
#define HOST_ARCH "arm64"
#else
#define HOST_ARCH "amd64"
#endif

#define DIGEST_LEN		  71	      /* "sha256:" + 64 hex */
#define MAX_JSON_BLOB		  (8u << 20)  /* index.json, indexes, manifests */
#define MAX_CONFIG_BLOB		  (32u << 20) /* configs carry history */
#define MAX_INDEX_DEPTH		  4
#define MAX_LAYERS		  256
#define MAX_ENTRY_PATH		  4096
#define MAX_ENTRY_DEPTH		  256 /* bounds rm_rf_at's recursion and fds */
#define DEFAULT_MAX_LAYER_BYTES	  (8ULL << 30)
#define DEFAULT_MAX_LAYER_ENTRIES 1000000ULL
#define MAX_ARCHIVE_FILES	  100000
#define IOBUF			  (128 * 1024)

#define REF_NAME_ANNOTATION "org.opencontainers.image.ref.name"
#define OPAQUE_XATTR	    "trusted.overlay.opaque"

struct image_store {
	char *root;	      /* absolute STATE/images */
	char *blobs;	      /* root/blobs/sha256 */
	char *layers;	      /* root/layers */
	char *tmp;	      /* root/tmp: imports in progress, removed layers */
	char *refs_path;      /* root/refs.json */
	char *gc_lock_path;   /* root/lock */
	char *refs_lock_path; /* root/refs.lock */
	uint64_t max_layer_bytes, max_layer_entries;
	pthread_rwlock_t gc;  /* see the top of the file */
	pthread_mutex_t lock; /* refs.json read-modify-write */
};

/* ---- errors ------------------------------------------------------------ */

/* fail(err, rc, fmt, ...): util_fail, by the short name this file uses */
#define fail(...) util_fail(__VA_ARGS__)

/* Put "CONTEXT: " in front of *err (if there is one). */
static void err_prefix(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void err_prefix(char **err, const char *fmt, ...)
{
	if (!err || !*err)
		return;
	va_list ap;
	va_start(ap, fmt);
	cleanup_free char *ctx = xvasprintf(fmt, ap);
	va_end(ap);
	char *n = xasprintf("%s: %s", ctx, *err);
	free(*err);
	*err = n;
}

/* ---- sha256 ------------------------------------------------------------ */

struct sha256 {
	EVP_MD_CTX *ctx;
};

static void sha_die(void)
{
	fprintf(stderr, "podfs: sha256 (openssl) failed\n");
	abort();
}

static void sha_init(struct sha256 *h)
{
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		sha_die();
}

static void sha_update(struct sha256 *h, const void *p, size_t n)
{
	if (n && EVP_DigestUpdate(h->ctx, p, n) != 1)
		sha_die();
}

/* Finish as "sha256:<hex>" and free the context. */
static void sha_final(struct sha256 *h, char out[DIGEST_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != 32)
		sha_die();
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[DIGEST_LEN] = '\0';
}

static void sha_free(struct sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

static void sha_buf(const void *p, size_t n, char out[DIGEST_LEN + 1])
{
	struct sha256 h;
	sha_init(&h);
	sha_update(&h, p, n);
	sha_final(&h, out);
}

static bool is_hex64(const char *s)
{
	size_t i;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[i] == '\0';
}

static bool digest_ok(const char *d)
{
	return d && strncmp(d, "sha256:", 7) == 0 && is_hex64(d + 7);
}

/* ---- files ------------------------------------------------------------- */

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int pwrite_all(int fd, const void *p, size_t n, off_t off)
{
	const char *c = p;
	while (n) {
		ssize_t w = pwrite(fd, c, n, off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
	cleanup_free char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int fsync_path(const char *path)
{
	cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

/* Replace DIR/NAME durably: write a temporary file, fsync it, rename it over
 * NAME, fsync DIR. */
static int write_file_durable(const char *dir, const char *name, const void *data, size_t len)
{
	cleanup_free char *tmp = xasprintf("%s/.%s.tmp.%d", dir, name, (int)getpid());
	cleanup_free char *dst = xasprintf("%s/%s", dir, name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	int rc = write_all(fd, data, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, dst) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	return fsync_path(dir);
}

/* Remove AT/NAME and everything below it, never following a symlink. */
static int rm_rf_at(int at, const char *name)
{
	struct stat s;
	if (fstatat(at, name, &s, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(s.st_mode)) {
		if (unlinkat(at, name, 0) < 0 && errno != ENOENT)
			return -errno;
		return 0;
	}
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = -errno;
		close(fd);
		return e;
	}
	/* Names first, removal after: unlinking while readdir() walks the
	 * directory may skip entries. */
	struct strv names = {0};
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			strv_push(&names, de->d_name);
	int rc = 0;
	for (size_t i = 0; i < names.n; i++) {
		int r = rm_rf_at(dirfd(d), names.v[i]);
		if (r < 0 && rc == 0)
			rc = r;
	}
	strv_free(&names);
	closedir(d);
	if (unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT && rc == 0)
		rc = -errno;
	return rc;
}

static int rm_rf(const char *path)
{
	return rm_rf_at(AT_FDCWD, path);
}

static char **strv_dup_null(void)
{
	return xcalloc(1, sizeof(char *));
}

static void strv_free_null(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* ---- references -------------------------------------------------------- */

struct ref_parts {
	char *domain, *path, *tag, *digest; /* tag, digest may be NULL */
};

static void ref_parts_free(struct ref_parts *p)
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

static int ref_parse(const char *ref, struct ref_parts *out, char **err)
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
		if (!digest_ok(d))
			return ref_bad(err, ref,
				       "invalid digest \"%s\" (want sha256:<64 hex digits>)", d);
		p.digest = xstrdup(d);
	}
	char *slash = strrchr(s, '/');
	char *colon = strrchr(slash ? slash : s, ':');
	if (colon) {
		*colon = '\0';
		if (!tag_ok(colon + 1)) {
			ref_parts_free(&p);
			return ref_bad(err, ref,
				       "invalid tag \"%s\" (want [A-Za-z0-9_][A-Za-z0-9._-]*, "
				       "at most 128 characters)",
				       colon + 1);
		}
		p.tag = xstrdup(colon + 1);
	}
	if (!*s) {
		ref_parts_free(&p);
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
			ref_parts_free(&p);
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
			ref_parts_free(&p);
			return ref_bad(err, ref, "repository name must be lowercase");
		}
	}
	if (!first && strlen(rest) == 64 && is_hex64(rest)) {
		ref_parts_free(&p);
		return ref_bad(err, ref,
			       "a 64-character hexadecimal string is an image id, "
			       "not a repository name");
	}
	for (const char *c = rest;;) {
		const char *e = strchr(c, '/');
		size_t n = e ? (size_t)(e - c) : strlen(c);
		if (n == 0) {
			ref_parts_free(&p);
			return ref_bad(err, ref, "repository path has an empty component");
		}
		if (!path_component_ok(c, n)) {
			cleanup_free char *comp = xstrndup(c, n);
			ref_parts_free(&p);
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
		ref_parts_free(&p);
		return ref_bad(err, ref, "repository name is longer than 255 characters");
	}
	if (!p.tag && !p.digest)
		p.tag = xstrdup("latest");
	*out = p;
	return 0;
}

/* "domain/path[:tag][@digest]"; WITH_DIGEST false leaves the digest out. */
static char *ref_format(const struct ref_parts *p, bool with_digest)
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
	if (ref_parse(ref, &p, err) < 0)
		return NULL;
	char *s = ref_format(&p, true);
	ref_parts_free(&p);
	return s;
}

/* The key refs.json files an image under: "name:tag", or "name@digest" for
 * a reference with a digest only. */
static char *ref_key(const struct ref_parts *p)
{
	if (p->tag)
		return ref_format(p, false);
	return ref_format(p, true);
}

static bool same_repo(const struct ref_parts *a, const struct ref_parts *b)
{
	return strcmp(a->domain, b->domain) == 0 && strcmp(a->path, b->path) == 0;
}

/* ---- refs.json --------------------------------------------------------- */

struct ref_rec {
	char *key;    /* normalized "name:tag" or "name@digest" */
	char *digest; /* manifest digest */
	char *index;  /* digest of the index it was chosen from, or NULL */
	bool pulled;  /* came from a registry (else from image_import) */
};

struct refs {
	struct ref_rec *v;
	size_t n;
};

static void refs_free(struct refs *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].key);
		free(r->v[i].digest);
		free(r->v[i].index);
	}
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

static void refs_add(struct refs *r, const char *key, const char *digest, const char *index,
		     bool pulled)
{
	r->v = xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
	r->v[r->n].key = xstrdup(key);
	r->v[r->n].digest = xstrdup(digest);
	r->v[r->n].index = index ? xstrdup(index) : NULL;
	r->v[r->n].pulled = pulled;
	r->n++;
}

static int refs_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ref_rec *)a)->key, ((const struct ref_rec *)b)->key);
}

/* Read refs.json (a missing file is an empty store), sorted by key. */
static int refs_load(struct image_store *st, struct refs *r, char **err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	r->v = NULL;
	r->n = 0;
	int rc = util_read_file(st->refs_path, MAX_JSON_BLOB, &buf, &len);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return fail(err, rc, "read \"%s\": %s", st->refs_path, strerror(-rc));
	json_error_t je;
	json_t *root = json_loadb(buf, len, 0, &je);
	json_t *map = root ? json_object_get(root, "refs") : NULL;
	if (!json_is_object(map)) {
		json_decref(root);
		return fail(err, -EINVAL, "\"%s\" is damaged: %s", st->refs_path,
			    root ? "no \"refs\" object" : je.text);
	}
	const char *key;
	json_t *v;
	json_object_foreach(map, key, v)
	{
		const char *d = json_string_value(json_object_get(v, "digest"));
		const char *ix = json_string_value(json_object_get(v, "index"));
		const char *src = json_string_value(json_object_get(v, "source"));
		if (!digest_ok(d) || (ix && !digest_ok(ix)))
			continue;
		refs_add(r, key, d, ix, src && strcmp(src, "pull") == 0);
	}
	json_decref(root);
	if (r->n)
		qsort(r->v, r->n, sizeof(*r->v), refs_cmp);
	return 0;
}

static int refs_save(struct image_store *st, const struct refs *r, char **err)
{
	json_t *map = json_object();
	for (size_t i = 0; i < r->n; i++) {
		json_t *v = json_pack("{s:s}", "digest", r->v[i].digest);
		if (r->v[i].index)
			json_object_set_new(v, "index", json_string(r->v[i].index));
		json_object_set_new(v, "source", json_string(r->v[i].pulled ? "pull" : "import"));
		json_object_set_new(map, r->v[i].key, v);
	}
	json_t *root = json_pack("{s:i,s:o}", "version", 1, "refs", map);
	char *s = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	if (!s) {
		fprintf(stderr, "podfs: out of memory\n");
		abort();
	}
	int rc = write_file_durable(st->root, "refs.json", s, strlen(s));
	free(s);
	if (rc < 0)
		return fail(err, rc, "write \"%s\": %s", st->refs_path, strerror(-rc));
	return 0;
}

/* ---- locks ------------------------------------------------------------- */

struct guard {
	struct image_store *st;
	int fd;
	bool rw;
};

static int flock_open(const char *path, int op)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, op) < 0) {
		if (errno == EINTR)
			continue;
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* Enter the store: shared (import, lookup, list) or exclusive (remove). */
static int guard_enter(struct image_store *st, bool exclusive, struct guard *g, char **err)
{
	if (exclusive)
		pthread_rwlock_wrlock(&st->gc);
	else
		pthread_rwlock_rdlock(&st->gc);
	int fd = flock_open(st->gc_lock_path, exclusive ? LOCK_EX : LOCK_SH);
	if (fd < 0) {
		pthread_rwlock_unlock(&st->gc);
		return fail(err, fd, "lock \"%s\": %s", st->gc_lock_path, strerror(-fd));
	}
	g->st = st;
	g->fd = fd;
	g->rw = true;
	return 0;
}

static void guard_leave(struct guard *g)
{
	if (!g->st)
		return;
	close(g->fd);
	if (g->rw)
		pthread_rwlock_unlock(&g->st->gc);
	else
		pthread_mutex_unlock(&g->st->lock);
	g->st = NULL;
}

/* Hold refs.json for a read-modify-write. */
static int refs_enter(struct image_store *st, struct guard *g, char **err)
{
	pthread_mutex_lock(&st->lock);
	int fd = flock_open(st->refs_lock_path, LOCK_EX);
	if (fd < 0) {
		pthread_mutex_unlock(&st->lock);
		return fail(err, fd, "lock \"%s\": %s", st->refs_lock_path, strerror(-fd));
	}
	g->st = st;
	g->fd = fd;
	g->rw = false;
	return 0;
}

/* ---- store ------------------------------------------------------------- */

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return def;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || *end || n == 0)
		return def;
	return n;
}

/* Leftovers of interrupted imports and removals in tmp/. With the store to
 * ourselves (no other process inside: images/lock is free) everything goes.
 * Otherwise only the import dirs nobody holds (an import flock()s its dir
 * until it has removed it): a podfs killed during a pull and started again
 * while a `podfs image pull` runs must not keep the dead pull's files. */
static void tmp_sweep(struct image_store *st)
{
	int fd = open(st->gc_lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	bool alone = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0;
	DIR *d = opendir(st->tmp);
	struct strv names = {0};
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			strv_push(&names, de->d_name);
	if (d)
		closedir(d);
	int tfd = open(st->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; tfd >= 0 && i < names.n; i++) {
		if (alone) {
			rm_rf_at(tfd, names.v[i]);
			continue;
		}
		if (strncmp(names.v[i], "import-", 7) != 0)
			continue;
		int dfd = openat(tfd, names.v[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd >= 0 && flock(dfd, LOCK_EX | LOCK_NB) == 0)
			rm_rf_at(tfd, names.v[i]);
		if (dfd >= 0)
			close(dfd);
	}
	if (tfd >= 0)
		close(tfd);
	strv_free(&names);
	if (fd >= 0)
		close(fd);
}

int image_store_open(const char *state_dir, struct image_store **out, char **err)
{
	*err = NULL;
	*out = NULL;
	cleanup_free char *dir = xasprintf("%s/images", state_dir);
	int rc = mkdir_p(dir, 0700);
	if (rc < 0)
		return fail(err, rc, "open image store \"%s\": %s", dir, strerror(-rc));
	char *real = realpath(dir, NULL);
	if (!real)
		return fail(err, -errno, "open image store \"%s\": %s", dir, strerror(errno));

	struct image_store *st = xcalloc(1, sizeof(*st));
	st->root = real;
	st->blobs = xasprintf("%s/blobs/sha256", real);
	st->layers = xasprintf("%s/layers", real);
	st->tmp = xasprintf("%s/tmp", real);
	st->refs_path = xasprintf("%s/refs.json", real);
	st->gc_lock_path = xasprintf("%s/lock", real);
	st->refs_lock_path = xasprintf("%s/refs.lock", real);
	st->max_layer_bytes = env_u64("PODFS_MAX_LAYER_BYTES", DEFAULT_MAX_LAYER_BYTES);
	st->max_layer_entries = env_u64("PODFS_MAX_LAYER_ENTRIES", DEFAULT_MAX_LAYER_ENTRIES);
	/* Writer-preferring, so a stream of imports and lookups cannot starve
	 * a removal; nothing takes the read side recursively. */
	pthread_rwlockattr_t attr;
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&st->gc, &attr);
	pthread_rwlockattr_destroy(&attr);
	pthread_mutex_init(&st->lock, NULL);

	const char *dirs[] = {st->blobs, st->layers, st->tmp};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		rc = mkdir_p(dirs[i], 0700);
		if (rc < 0) {
			fail(err, rc, "open image store \"%s\": create \"%s\": %s", real, dirs[i],
			     strerror(-rc));
			image_store_close(st);
			return rc;
		}
	}

	tmp_sweep(st);
	*out = st;
	return 0;
}

void image_store_close(struct image_store *st)
{
	if (!st)
		return;
	pthread_rwlock_destroy(&st->gc);
	pthread_mutex_destroy(&st->lock);
	free(st->root);
	free(st->blobs);
	free(st->layers);
	free(st->tmp);
	free(st->refs_path);
	free(st->gc_lock_path);
	free(st->refs_lock_path);
	free(st);
}

/* ---- descriptors, manifests, configs ------------------------------------ */

static void desc_free(struct desc *d)
{
	free(d->media_type);
	free(d->digest);
	free(d->ref_name);
	free(d->os);
	free(d->arch);
	memset(d, 0, sizeof(*d));
}

static void descs_free(struct desc *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		desc_free(&v[i]);
	free(v);
}

static char *json_strdup(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? xstrdup(s) : NULL;
}

static int desc_parse(json_t *j, const char *what, struct desc *d, char **err)
{
	memset(d, 0, sizeof(*d));
	if (!json_is_object(j))
		return fail(err, -EINVAL, "%s is not an object", what);
	const char *dg = json_string_value(json_object_get(j, "digest"));
	if (!dg)
		return fail(err, -EINVAL, "%s has no digest", what);
	if (strncmp(dg, "sha256:", 7) != 0)
		return fail(err, -ENOTSUP, "%s: unsupported digest \"%s\" (only sha256)", what, dg);
	if (!digest_ok(dg))
		return fail(err, -EINVAL, "%s: invalid digest \"%s\"", what, dg);
	json_t *sz = json_object_get(j, "size");
	if (!json_is_integer(sz) || json_integer_value(sz) < 0)
		return fail(err, -EINVAL, "%s (\"%s\") has no valid size", what, dg);
	json_t *mt = json_object_get(j, "mediaType");
	if (mt && !json_is_string(mt))
		return fail(err, -EINVAL, "%s (\"%s\"): mediaType is not a string", what, dg);
	d->digest = xstrdup(dg);
	d->size = json_integer_value(sz);
	d->media_type = json_strdup(j, "mediaType");
	json_t *ann = json_object_get(j, "annotations");
	d->ref_name = json_strdup(ann, REF_NAME_ANNOTATION);
	const char *rt = json_string_value(json_object_get(ann, "vnd.docker.reference.type"));
	d->attestation = rt && strcmp(rt, "attestation-manifest") == 0;
	json_t *pf = json_object_get(j, "platform");
	d->os = json_strdup(pf, "os");
	d->arch = json_strdup(pf, "architecture");
	return 0;
}

static int descs_parse(json_t *arr, const char *what, size_t max, struct desc **out, size_t *n,
		       char **err)
{
	*out = NULL;
	*n = 0;
	if (!json_is_array(arr))
		return fail(err, -EINVAL, "%s is not an array", what);
	size_t cnt = json_array_size(arr);
	if (cnt > max)
		return fail(err, -E2BIG, "%s has %zu entries, more than %zu", what, cnt, max);
	struct desc *v = xcalloc(cnt ? cnt : 1, sizeof(*v));
	for (size_t i = 0; i < cnt; i++) {
		cleanup_free char *w = xasprintf("%s[%zu]", what, i);
		int rc = desc_parse(json_array_get(arr, i), w, &v[i], err);
		if (rc < 0) {
			descs_free(v, cnt);
			return rc;
		}
	}
	*out = v;
	*n = cnt;
	return 0;
}

static bool mt_is_index(const char *mt)
{
	return mt && (strcmp(mt, "application/vnd.oci.image.index.v1+json") == 0 ||
		      strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json") == 0);
}

static bool mt_is_manifest(const char *mt)
{
	return mt && (strcmp(mt, "application/vnd.oci.image.manifest.v1+json") == 0 ||
		      strcmp(mt, "application/vnd.docker.distribution.manifest.v2+json") == 0);
}

enum layer_comp { COMP_BAD, COMP_NONE, COMP_GZIP, COMP_ZSTD };

static enum layer_comp layer_compression(const char *mt)
{
	static const struct {
		const char *mt;
		enum layer_comp c;
	} tab[] = {
	    {"application/vnd.oci.image.layer.v1.tar", COMP_NONE},
	    {"application/vnd.oci.image.layer.v1.tar+gzip", COMP_GZIP},
	    {"application/vnd.oci.image.layer.v1.tar+zstd", COMP_ZSTD},
	    {"application/vnd.oci.image.layer.nondistributable.v1.tar", COMP_NONE},
	    {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", COMP_GZIP},
	    {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", COMP_ZSTD},
	    {"application/vnd.docker.image.rootfs.diff.tar", COMP_NONE},
	    {"application/vnd.docker.image.rootfs.diff.tar.gzip", COMP_GZIP},
	    {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", COMP_GZIP},
	};
	for (size_t i = 0; mt && i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(mt, tab[i].mt) == 0)
			return tab[i].c;
	return COMP_BAD;
}

static void manifest_free(struct manifest *m)
{
	desc_free(&m->config);
	descs_free(m->layers, m->nlayers);
	memset(m, 0, sizeof(*m));
}

static int manifest_parse(const char *buf, size_t len, struct manifest *m, char **err)
{
	memset(m, 0, sizeof(*m));
	json_error_t je;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(root)) {
		json_decref(root);
		return fail(err, -EINVAL, "manifest is not a json object: %s",
			    root ? "wrong type" : je.text);
	}
	int rc;
	json_t *sv = json_object_get(root, "schemaVersion");
	const char *mt = json_string_value(json_object_get(root, "mediaType"));
	if (!json_is_integer(sv) || json_integer_value(sv) != 2) {
		rc = fail(err, -ENOTSUP,
			  "manifest schemaVersion is not 2 (docker schema 1 "
			  "images are not supported)");
		goto out;
	}
	if (mt && !mt_is_manifest(mt)) {
		rc = fail(err, -ENOTSUP, "unsupported manifest media type \"%s\"", mt);
		goto out;
	}
	rc = desc_parse(json_object_get(root, "config"), "manifest config", &m->config, err);
	if (rc < 0)
		goto out;
	rc = descs_parse(json_object_get(root, "layers"), "manifest layers", MAX_LAYERS, &m->layers,
			 &m->nlayers, err);
out:
	json_decref(root);
	if (rc < 0)
		manifest_free(m);
	return rc;
}

static void image_config_clear(struct image_config *c)
{
	strv_free_null(c->entrypoint);
	strv_free_null(c->cmd);
	strv_free_null(c->env);
	free(c->working_dir);
	free(c->user);
	free(c->stop_signal);
	memset(c, 0, sizeof(*c));
}

static void parsed_config_free(struct parsed_config *pc)
{
	image_config_clear(&pc->cfg);
	strv_free_null(pc->diff_ids);
	free(pc->os);
	free(pc->arch);
	memset(pc, 0, sizeof(*pc));
}

static int json_strv(json_t *arr, const char *what, char ***out, char **err)
{
	if (!json_is_array(arr))
		return fail(err, -EINVAL, "image config: %s is not an array of strings", what);
	size_t n = json_array_size(arr);
	char **v = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(arr, i);
		if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s)) {
			strv_free_null(v);
			return fail(err, -EINVAL, "image config: %s[%zu] is not a string", what, i);
		}
		v[i] = xstrdup(json_string_value(s));
	}
	*out = v;
	return 0;
}

/* An optional string field; "" counts as absent, as in Docker. */
static int json_opt_str(json_t *o, const char *key, char **out, char **err)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return fail(err, -EINVAL, "image config: config.%s is not a string", key);
	if (*json_string_value(v))
		*out = xstrdup(json_string_value(v));
	return 0;
}

static int config_parse(const char *buf, size_t len, struct parsed_config *pc, char **err)
{
	memset(pc, 0, sizeof(*pc));
	json_error_t je;
	json_t *root = json_loadb(buf, len, 0, &je);
	int rc = 0;
	if (!json_is_object(root)) {
		json_decref(root);
		return fail(err, -EINVAL, "image config is not a json object: %s",
			    root ? "wrong type" : je.text);
	}
	pc->os = json_strdup(root, "os");
	pc->arch = json_strdup(root, "architecture");
	json_t *c = json_object_get(root, "config");
	if (c && !json_is_null(c) && !json_is_object(c)) {
		rc = fail(err, -EINVAL, "image config: config is not an object");
		goto out;
	}
	json_t *v = json_object_get(c, "Entrypoint");
	if (v && !json_is_null(v)) {
		if ((rc = json_strv(v, "config.Entrypoint", &pc->cfg.entrypoint, err)) < 0)
			goto out;
		pc->cfg.has_entrypoint = true;
	}
	v = json_object_get(c, "Cmd");
	if (v && !json_is_null(v)) {
		if ((rc = json_strv(v, "config.Cmd", &pc->cfg.cmd, err)) < 0)
			goto out;
		pc->cfg.has_cmd = true;
	}
	v = json_object_get(c, "Env");
	if (v && !json_is_null(v)) {
		if ((rc = json_strv(v, "config.Env", &pc->cfg.env, err)) < 0)
			goto out;
	} else {
		pc->cfg.env = strv_dup_null();
	}
	if ((rc = json_opt_str(c, "WorkingDir", &pc->cfg.working_dir, err)) < 0 ||
	    (rc = json_opt_str(c, "User", &pc->cfg.user, err)) < 0 ||
	    (rc = json_opt_str(c, "StopSignal", &pc->cfg.stop_signal, err)) < 0)
		goto out;

	json_t *rootfs = json_object_get(root, "rootfs");
	const char *type = json_string_value(json_object_get(rootfs, "type"));
	if (!type || strcmp(type, "layers") != 0) {
		rc = fail(err, -EINVAL, "image config: rootfs.type is not \"layers\"");
		goto out;
	}
	rc = json_strv(json_object_get(rootfs, "diff_ids"), "rootfs.diff_ids", &pc->diff_ids, err);
	if (rc < 0)
		goto out;
	for (pc->ndiff = 0; pc->diff_ids[pc->ndiff]; pc->ndiff++) {
		if (!digest_ok(pc->diff_ids[pc->ndiff])) {
			rc = fail(err, -EINVAL,
				  "image config: rootfs.diff_ids[%zu] \"%s\" is not a "
				  "sha256 digest",
				  pc->ndiff, pc->diff_ids[pc->ndiff]);
			goto out;
		}
	}
out:
	json_decref(root);
	if (rc < 0)
		parsed_config_free(pc);
	return rc;
}

/* ---- blobs ------------------------------------------------------------- */

static int digest_mismatch(char **err, const char *want, const char *got)
{
	return fail(err, -EBADMSG,
		    "blob \"%s\" does not match its digest: its content hashes to \"%s\"", want,
		    got);
}

/* Read the small blob DIGEST from BLOBDIR into memory, checking its size
 * (unless SIZE < 0) and digest. */
static int blob_read(const char *blobdir, const char *digest, int64_t size, size_t max, char **out,
		     size_t *len, char **err)
{
	cleanup_free char *path = xasprintf("%s/%s", blobdir, digest + 7);
	char *buf = NULL;
	size_t n = 0;
	int rc = util_read_file(path, max, &buf, &n);
	if (rc == -ENOENT)
		return fail(err, rc, "blob \"%s\" is missing", digest);
	if (rc == -EFBIG)
		return fail(err, rc, "blob \"%s\" is larger than %zu bytes", digest, max);
	if (rc < 0)
		return fail(err, rc, "read blob \"%s\": %s", digest, strerror(-rc));
	if (size >= 0 && (int64_t)n != size) {
		free(buf);
		return fail(err, -EBADMSG, "blob \"%s\" has %zu bytes, its descriptor says %lld",
			    digest, n, (long long)size);
	}
	char got[DIGEST_LEN + 1];
	sha_buf(buf, n, got);
	if (strcmp(got, digest) != 0) {
		free(buf);
		return digest_mismatch(err, digest, got);
	}
	*out = buf;
	*len = n;
	return 0;
}

/* Copy blob DIGEST from SRC to the new file DST, checking size and digest on
 * the way; DST is removed on mismatch. */
static int blob_copy(const char *src, const char *dst, const char *digest, int64_t size, char **err)
{
	cleanup_close int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		if (errno == ENOENT)
			return fail(err, -ENOENT, "blob \"%s\" is missing", digest);
		return fail(err, -errno, "read blob \"%s\": %s", digest, strerror(errno));
	}
	cleanup_close int outfd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (outfd < 0)
		return fail(err, -errno, "create \"%s\": %s", dst, strerror(errno));
	cleanup_free char *buf = xmalloc(IOBUF);
	struct sha256 h;
	int64_t total = 0;
	int rc = 0;
	sha_init(&h);
	for (;;) {
		ssize_t r = read(in, buf, IOBUF);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = fail(err, -errno, "read blob \"%s\": %s", digest, strerror(errno));
			break;
		}
		if (r == 0)
			break;
		total += r;
		if (total > size) {
			rc = fail(err, -EBADMSG,
				  "blob \"%s\" is larger than the %lld bytes its "
				  "descriptor says",
				  digest, (long long)size);
			break;
		}
		sha_update(&h, buf, (size_t)r);
		if ((rc = write_all(outfd, buf, (size_t)r)) < 0) {
			fail(err, rc, "write \"%s\": %s", dst, strerror(-rc));
			break;
		}
	}
	if (rc == 0 && total != size)
		rc = fail(err, -EBADMSG, "blob \"%s\" has %lld bytes, its descriptor says %lld",
			  digest, (long long)total, (long long)size);
	if (rc == 0) {
		char got[DIGEST_LEN + 1];
		sha_final(&h, got);
		if (strcmp(got, digest) != 0)
			rc = digest_mismatch(err, digest, got);
	}
	sha_free(&h);
	if (rc < 0)
		unlink(dst);
	return rc;
}

/* ---- layer unpacking --------------------------------------------------- */

/* Clean a layer entry name: drop leading "/" and "./", empty and "."
 * components. "" is the layer root. -EINVAL for a ".." component. */
static int clean_path(const char *raw, char **out)
{
	if (strlen(raw) > MAX_ENTRY_PATH)
		return -ENAMETOOLONG;
	struct strbuf sb;
	size_t depth = 0;
	sb_init(&sb);
	for (const char *p = raw; *p;) {
		while (*p == '/')
			p++;
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t n = (size_t)(p - s);
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			sb_free(&sb);
			return -EINVAL;
		}
		if (++depth > MAX_ENTRY_DEPTH) {
			sb_free(&sb);
			return -ENAMETOOLONG;
		}
		if (sb.len)
			sb_putc(&sb, '/');
		sb_add(&sb, s, n);
	}
	*out = sb_steal(&sb);
	return 0;
}

/* Open directory PATH ("" is the root) below ROOTFD without following any
 * symlink, creating missing components (0755, root) if CREATE. Returns an
 * owned fd, or -errno with a message about ENTRY. */
static int open_dir_below(int rootfd, const char *path, bool create, const char *entry, char **err)
{
	int cur = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return fail(err, -errno, "open layer root: %s", strerror(errno));
	cleanup_free char *copy = xstrdup(path);
	char *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int fd = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && create) {
			if (mkdirat(cur, c, 0755) == 0 || errno == EEXIST)
				fd =
				    openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0) {
			int e = errno, rc;
			struct stat s;
			cleanup_free char *prefix = xstrndup(path, (size_t)(c - copy) + strlen(c));
			bool is_link =
			    fstatat(cur, c, &s, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(s.st_mode);
			if (is_link)
				rc = fail(err, -ELOOP,
					  "entry \"%s\": parent \"%s\" is a symlink; refusing to "
					  "write through it",
					  entry, prefix);
			else if (e == ENOTDIR || e == ELOOP)
				rc = fail(err, -ENOTDIR,
					  "entry \"%s\": parent \"%s\" is not a directory", entry,
					  prefix);
			else if (e == ENOENT)
				rc = fail(err, -ENOENT,
					  "entry \"%s\": \"%s\" does not exist in the layer", entry,
					  prefix);
			else
				rc = fail(err, -e, "entry \"%s\": open \"%s\": %s", entry, prefix,
					  strerror(e));
			close(cur);
			return rc;
		}
		close(cur);
		cur = fd;
	}
	return cur;
}

struct dirtime {
	char *path;
	struct timespec ts[2];
};

struct unpack {
	struct archive *outer; /* decompressor, format "raw" */
	int rootfd;
	char *buf;
	struct sha256 sha; /* of the uncompressed stream: the diff_id */
	uint64_t bytes, logical, entries;
	uint64_t max_bytes, max_entries;
	bool too_big, read_failed;
	char *ioerr;
	char *cache_path; /* the parent dir of the previous entry */
	int cache_fd;
	struct dirtime *dirs;
	size_t ndirs, capdirs;
	char **err;
};

static void cache_drop(struct unpack *u)
{
	if (u->cache_fd >= 0)
		close(u->cache_fd);
	u->cache_fd = -1;
	free(u->cache_path);
	u->cache_path = NULL;
}

/* The parent dir PARENT of an entry, created if needed; a borrowed fd. Only
 * removal of an existing path can change what a cached path resolves to,
 * so that drops the cache. */
static int unpack_parent(struct unpack *u, const char *parent, const char *entry)
{
	if (u->cache_fd >= 0 && strcmp(u->cache_path, parent) == 0)
		return u->cache_fd;
	cache_drop(u);
	int fd = open_dir_below(u->rootfd, parent, true, entry, u->err);
	if (fd < 0)
		return fd;
	u->cache_fd = fd;
	u->cache_path = xstrdup(parent);
	return fd;
}

static la_ssize_t inner_read(struct archive *a, void *arg, const void **out)
{
	struct unpack *u = arg;
	la_ssize_t n = archive_read_data(u->outer, u->buf, IOBUF);
	if (n < 0) {
		free(u->ioerr);
		u->ioerr = xstrdup(archive_error_string(u->outer) ? archive_error_string(u->outer)
								  : "decompression failed");
		archive_set_error(a, EIO, "%s", u->ioerr);
		return -1;
	}
	sha_update(&u->sha, u->buf, (size_t)n);
	u->bytes += (uint64_t)n;
	if (u->bytes > u->max_bytes) {
		u->too_big = true;
		archive_set_error(a, EFBIG, "layer too large");
		return -1;
	}
	*out = u->buf;
	return n;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
	ts[1].tv_sec = archive_entry_mtime_is_set(e) ? archive_entry_mtime(e) : 0;
	ts[1].tv_nsec = archive_entry_mtime_is_set(e) ? archive_entry_mtime_nsec(e) : 0;
	if (ts[1].tv_nsec < 0 || ts[1].tv_nsec > 999999999)
		ts[1].tv_nsec = 0;
	ts[0] = ts[1];
	if (archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = archive_entry_atime(e);
		ts[0].tv_nsec = archive_entry_atime_nsec(e);
		if (ts[0].tv_nsec < 0 || ts[0].tv_nsec > 999999999)
			ts[0].tv_nsec = 0;
	}
}

static int entry_ids(struct unpack *u, struct archive_entry *e, const char *name, uid_t *uid,
		     gid_t *gid)
{
	la_int64_t a = archive_entry_uid(e), b = archive_entry_gid(e);
	if (a < 0 || a >= (la_int64_t)UINT32_MAX || b < 0 || b >= (la_int64_t)UINT32_MAX)
		return fail(u->err, -EINVAL, "entry \"%s\": uid or gid out of range", name);
	*uid = (uid_t)a;
	*gid = (gid_t)b;
	return 0;
}

/* Extended attributes worth keeping: user.* and file capabilities. Never
 * trusted.* (overlayfs reads trusted.overlay.* from lower dirs) or
 * security.selinux. */
static void apply_xattrs(int fd, struct archive_entry *e)
{
	const char *name;
	const void *val;
	size_t size;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &val, &size) == ARCHIVE_OK) {
		if (strncmp(name, "user.", 5) == 0 || strcmp(name, "security.capability") == 0)
			(void)fsetxattr(fd, name, val, size, 0);
	}
}

/* Owner, mode, xattrs and times of an open file or dir. chown before
 * chmod (chown clears set-id bits) and before xattrs (it clears caps). */
static int meta_fd(struct unpack *u, int fd, struct archive_entry *e, const char *name)
{
	uid_t uid = 0;
	gid_t gid = 0;
	int rc = entry_ids(u, e, name, &uid, &gid);
	if (rc < 0)
		return rc;
	if (fchown(fd, uid, gid) < 0 || fchmod(fd, archive_entry_perm(e) & 07777) < 0)
		return fail(u->err, -errno, "entry \"%s\": set owner or mode: %s", name,
			    strerror(errno));
	apply_xattrs(fd, e);
	struct timespec ts[2];
	entry_times(e, ts);
	if (futimens(fd, ts) < 0)
		return fail(u->err, -errno, "entry \"%s\": set times: %s", name, strerror(errno));
	return 0;
}

/* The same for a node we just created at DFD/BASE and cannot open
 * (symlinks, devices, fifos). */
static int meta_at(struct unpack *u, int dfd, const char *base, struct archive_entry *e,
		   const char *name, bool is_link)
{
	uid_t uid = 0;
	gid_t gid = 0;
	int rc = entry_ids(u, e, name, &uid, &gid);
	if (rc < 0)
		return rc;
	if (fchownat(dfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(u->err, -errno, "entry \"%s\": set owner: %s", name, strerror(errno));
	if (!is_link && fchmodat(dfd, base, archive_entry_perm(e) & 07777, 0) < 0)
		return fail(u->err, -errno, "entry \"%s\": set mode: %s", name, strerror(errno));
	struct timespec ts[2];
	entry_times(e, ts);
	if (utimensat(dfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(u->err, -errno, "entry \"%s\": set times: %s", name, strerror(errno));
	return 0;
}

static void dirtime_add(struct unpack *u, const char *path, struct archive_entry *e)
{
	if (u->ndirs == u->capdirs) {
		u->capdirs = u->capdirs ? u->capdirs * 2 : 64;
		u->dirs = xrealloc(u->dirs, u->capdirs * sizeof(*u->dirs));
	}
	u->dirs[u->ndirs].path = xstrdup(path);
	entry_times(e, u->dirs[u->ndirs].ts);
	u->ndirs++;
}

/* Directory mtimes last: creating children changed them. A dir replaced
 * since (by a symlink, say) is skipped: nothing is followed. */
static void dirtimes_apply(struct unpack *u)
{
	for (size_t i = 0; i < u->ndirs; i++) {
		int fd = open_dir_below(u->rootfd, u->dirs[i].path, false, u->dirs[i].path, NULL);
		if (fd < 0)
			continue;
		(void)futimens(fd, u->dirs[i].ts);
		close(fd);
	}
}

static int write_file_data(struct unpack *u, struct archive *in, int fd, struct archive_entry *e,
			   const char *name)
{
	const void *p;
	size_t n;
	la_int64_t off;
	off_t kicked = 0; /* written back up to here */
	for (;;) {
		int r = archive_read_data_block(in, &p, &n, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			u->read_failed = true; /* reported by the caller */
			return -EIO;
		}
		if (off < 0 || (uint64_t)off + n > u->max_bytes) {
			u->too_big = true;
			return -EFBIG;
		}
		int rc = pwrite_all(fd, p, n, (off_t)off);
		if (rc < 0)
			return fail(u->err, rc, "entry \"%s\": write: %s", name, strerror(-rc));
		/* start writeback as we go, so the commit's syncfs waits for less */
		if ((off_t)off + (off_t)n - kicked >= (8 << 20)) {
			sync_file_range(fd, kicked, (off_t)off + (off_t)n - kicked,
					SYNC_FILE_RANGE_WRITE);
			kicked = (off_t)off + (off_t)n;
		}
	}
	/* A sparse file may end in a hole. */
	if (archive_entry_size_is_set(e) && ftruncate(fd, archive_entry_size(e)) < 0)
		return fail(u->err, -errno, "entry \"%s\": truncate: %s", name, strerror(errno));
	/* Start writing big files back now: the commit's syncfs then waits
	 * for less. */
	if (archive_entry_size_is_set(e) && archive_entry_size(e) >= (1 << 20))
		sync_file_range(fd, kicked, 0, SYNC_FILE_RANGE_WRITE);
	return 0;
}

static int unpack_whiteout(struct unpack *u, const char *parent, const char *base, const char *name)
{
	int dfd = unpack_parent(u, parent, name);
	if (dfd < 0)
		return dfd;
	if (strcmp(base, ".wh..wh..opq") == 0) {
		if (fsetxattr(dfd, OPAQUE_XATTR, "y", 1, 0) < 0)
			return fail(u->err, -errno, "entry \"%s\": set %s: %s", name, OPAQUE_XATTR,
				    strerror(errno));
		return 0;
	}
	if (strncmp(base, ".wh..wh.", 8) == 0)
		return 0; /* aufs bookkeeping (.wh..wh.plnk and the like) */
	const char *victim = base + 4;
	if (!*victim || strcmp(victim, ".") == 0 || strcmp(victim, "..") == 0)
		return fail(u->err, -EINVAL, "entry \"%s\": invalid whiteout", name);
	/* A whiteout hides lower layers only; if this layer has the name
	 * itself, that entry already hides the lower one. */
	struct stat s;
	if (fstatat(dfd, victim, &s, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (mknodat(dfd, victim, S_IFCHR | 0600, makedev(0, 0)) < 0 ||
	    fchownat(dfd, victim, 0, 0, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(u->err, -errno, "entry \"%s\": create whiteout: %s", name,
			    strerror(errno));
	return 0;
}

static int unpack_hardlink(struct unpack *u, int dfd, const char *base, const char *name,
			   const char *target_raw)
{
	cleanup_free char *target = NULL;
	int rc = clean_path(target_raw, &target);
	if (rc == -EINVAL)
		return fail(u->err, -EINVAL,
			    "entry \"%s\": hardlink to \"%s\" points outside the layer", name,
			    target_raw);
	if (rc < 0 || !*target)
		return fail(u->err, -EINVAL, "entry \"%s\": invalid hardlink target \"%s\"", name,
			    target_raw);
	char *slash = strrchr(target, '/');
	const char *tbase = slash ? slash + 1 : target;
	if (slash)
		*slash = '\0';
	int tfd = open_dir_below(u->rootfd, slash ? target : "", false, name, u->err);
	if (tfd < 0)
		return tfd;
	struct stat s;
	if (fstatat(tfd, tbase, &s, AT_SYMLINK_NOFOLLOW) < 0) {
		close(tfd);
		return fail(u->err, -ENOENT,
			    "entry \"%s\": hardlink target \"%s\" does not exist in "
			    "the layer",
			    name, target_raw);
	}
	if (S_ISDIR(s.st_mode)) {
		close(tfd);
		return fail(u->err, -EPERM, "entry \"%s\": hardlink target \"%s\" is a directory",
			    name, target_raw);
	}
	/* No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink. */
	rc = linkat(tfd, tbase, dfd, base, 0) < 0 ? -errno : 0;
	close(tfd);
	if (rc < 0)
		return fail(u->err, rc, "entry \"%s\": hardlink to \"%s\": %s", name, target_raw,
			    strerror(-rc));
	return 0;
}

static int unpack_entry(struct unpack *u, struct archive *in, struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e);
	if (!name)
		return fail(u->err, -EINVAL, "entry with an unreadable name");
	cleanup_free char *path = NULL;
	int rc = clean_path(name, &path);
	if (rc == -EINVAL)
		return fail(u->err, rc, "entry \"%s\": path escapes the layer (\"..\")", name);
	if (rc < 0)
		return fail(u->err, rc, "entry \"%s\": path too long or too deep", name);
	const char *hardlink = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);

	if (!*path) {
		/* "./": the layer root's own attributes. */
		if (type != AE_IFDIR || hardlink)
			return 0;
		rc = meta_fd(u, u->rootfd, e, name);
		if (rc == 0)
			dirtime_add(u, "", e);
		return rc;
	}

	char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (slash)
		*slash = '\0';
	const char *parent = slash ? path : "";
	if (strstr(parent, ".wh..wh.") == parent || strstr(parent, "/.wh..wh."))
		return 0; /* inside aufs bookkeeping dirs */
	if (strncmp(base, ".wh.", 4) == 0)
		return unpack_whiteout(u, parent, base, name);

	int dfd = unpack_parent(u, parent, name);
	if (dfd < 0)
		return dfd;

	struct stat s;
	if (fstatat(dfd, base, &s, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(s.st_mode) && type == AE_IFDIR && !hardlink) {
			int fd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				return fail(u->err, -errno, "entry \"%s\": %s", name,
					    strerror(errno));
			rc = meta_fd(u, fd, e, name);
			close(fd);
			if (rc == 0) {
				if (slash)
					*slash = '/';
				dirtime_add(u, path, e);
			}
			return rc;
		}
		/* Otherwise the old node goes. The cache (its parent) stays
		 * valid: only paths below BASE change. */
		if ((rc = rm_rf_at(dfd, base)) < 0)
			return fail(u->err, rc, "entry \"%s\": replace existing: %s", name,
				    strerror(-rc));
	}

	if (hardlink)
		return unpack_hardlink(u, dfd, base, name, hardlink);

	switch (type) {
	case AE_IFREG: {
		u->logical += archive_entry_size_is_set(e) && archive_entry_size(e) > 0
				  ? (uint64_t)archive_entry_size(e)
				  : 0;
		if (u->logical > u->max_bytes) {
			u->too_big = true;
			return -EFBIG;
		}
		int fd =
		    openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return fail(u->err, -errno, "entry \"%s\": create: %s", name,
				    strerror(errno));
		rc = write_file_data(u, in, fd, e, name);
		if (rc == 0)
			rc = meta_fd(u, fd, e, name);
		close(fd);
		return rc;
	}
	case AE_IFDIR: {
		if (mkdirat(dfd, base, 0700) < 0)
			return fail(u->err, -errno, "entry \"%s\": mkdir: %s", name,
				    strerror(errno));
		int fd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return fail(u->err, -errno, "entry \"%s\": %s", name, strerror(errno));
		rc = meta_fd(u, fd, e, name);
		close(fd);
		if (rc == 0) {
			if (slash)
				*slash = '/';
			dirtime_add(u, path, e);
		}
		return rc;
	}
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);
		if (!target || !*target)
			return fail(u->err, -EINVAL, "entry \"%s\": symlink without a target",
				    name);
		if (symlinkat(target, dfd, base) < 0)
			return fail(u->err, -errno, "entry \"%s\": symlink: %s", name,
				    strerror(errno));
		return meta_at(u, dfd, base, e, name, true);
	}
	case AE_IFIFO:
		if (mkfifoat(dfd, base, 0600) < 0)
			return fail(u->err, -errno, "entry \"%s\": mkfifo: %s", name,
				    strerror(errno));
		return meta_at(u, dfd, base, e, name, false);
	case AE_IFCHR:
	case AE_IFBLK:
		if (mknodat(dfd, base, (type == AE_IFCHR ? S_IFCHR : S_IFBLK) | 0600,
			    makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e))) < 0)
			return fail(u->err, -errno, "entry \"%s\": mknod: %s", name,
				    strerror(errno));
		return meta_at(u, dfd, base, e, name, false);
	default:
		return 0; /* sockets and unknown types are not layer content */
	}
}

static int too_big(char **err, uint64_t max)
{
	return fail(err, -EFBIG,
		    "unpacks to more than %llu bytes (the limit, PODFS_MAX_LAYER_BYTES; a "
		    "decompression bomb?)",
		    (unsigned long long)max);
}

/* Unpack the layer blob at BLOB, or read from FD if BLOB is NULL (media
 * type MT) into the new dir DEST and check that the uncompressed stream
 * hashes to DIFF_ID. On failure DEST may be left partly filled; the caller
 * removes it. */
static int layer_unpack_from(struct image_store *st, const char *blob, int fd, const char *mt,
			     const char *dest, const char *diff_id, char **err)
{
	struct unpack u = {
	    .rootfd = -1,
	    .cache_fd = -1,
	    .max_bytes = st->max_layer_bytes,
	    .max_entries = st->max_layer_entries,
	    .err = err,
	};
	struct archive *in = NULL;
	struct archive_entry *e;
	int rc = 0, r;

	if (mkdir(dest, 0700) < 0)
		return fail(err, -errno, "mkdir \"%s\": %s", dest, strerror(errno));
	u.rootfd = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (u.rootfd < 0 || fchmod(u.rootfd, 0755) < 0) {
		rc = fail(err, -errno, "open \"%s\": %s", dest, strerror(errno));
		goto out;
	}
	u.buf = xmalloc(IOBUF);
	sha_init(&u.sha);

	u.outer = archive_read_new();
	archive_read_support_format_raw(u.outer);
	switch (layer_compression(mt)) {
	case COMP_GZIP:
		archive_read_support_filter_gzip(u.outer);
		break;
	case COMP_ZSTD:
		archive_read_support_filter_zstd(u.outer);
		break;
	default:
		break;
	}
	if ((blob ? archive_read_open_filename(u.outer, blob, IOBUF)
		  : archive_read_open_fd(u.outer, fd, IOBUF)) != ARCHIVE_OK ||
	    archive_read_next_header(u.outer, &e) != ARCHIVE_OK) {
		rc = fail(err, -EIO, "cannot decompress: %s",
			  archive_error_string(u.outer) ? archive_error_string(u.outer) : "empty");
		goto out;
	}

	in = archive_read_new();
	archive_read_support_format_tar(in);
	r = archive_read_open(in, &u, NULL, inner_read, NULL);
	while (r == ARCHIVE_OK) {
		r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			break;
		if (++u.entries > u.max_entries) {
			rc = fail(err, -EFBIG,
				  "more than %llu entries (the limit, PODFS_MAX_LAYER_ENTRIES)",
				  (unsigned long long)u.max_entries);
			goto out;
		}
		rc = unpack_entry(&u, in, e);
		if (rc < 0 && !u.too_big && !u.read_failed)
			goto out;
		if (rc < 0)
			r = ARCHIVE_FATAL;
		else
			r = ARCHIVE_OK;
	}
	if (u.too_big) {
		rc = too_big(err, u.max_bytes);
		goto out;
	}
	if (r != ARCHIVE_EOF) {
		const char *why = u.ioerr ? u.ioerr : archive_error_string(in);
		rc = fail(err, -EIO, "not a valid tar stream: %s", why ? why : "read error");
		goto out;
	}
	/* The diff_id covers the whole stream, padding after the end marker
	 * included. */
	for (;;) {
		la_ssize_t n = archive_read_data(u.outer, u.buf, IOBUF);
		if (n < 0) {
			rc = fail(err, -EIO, "cannot decompress: %s",
				  archive_error_string(u.outer) ? archive_error_string(u.outer)
								: "read error");
			goto out;
		}
		if (n == 0)
			break;
		sha_update(&u.sha, u.buf, (size_t)n);
		u.bytes += (uint64_t)n;
		if (u.bytes > u.max_bytes) {
			rc = too_big(err, u.max_bytes);
			goto out;
		}
	}
	cache_drop(&u);
	dirtimes_apply(&u);
	char got[DIGEST_LEN + 1];
	sha_final(&u.sha, got);
	if (strcmp(got, diff_id) != 0)
		rc = fail(err, -EBADMSG,
			  "uncompressed content hashes to \"%s\", but the image config's diff_id "
			  "is \"%s\"",
			  got, diff_id);
out:
	cache_drop(&u);
	sha_free(&u.sha);
	if (in)
		archive_read_free(in);
	if (u.outer)
		archive_read_free(u.outer);
	if (u.rootfd >= 0)
		close(u.rootfd);
	for (size_t i = 0; i < u.ndirs; i++)
		free(u.dirs[i].path);
	free(u.dirs);
	free(u.buf);
	free(u.ioerr);
	return rc;
}

static int layer_unpack(struct image_store *st, const char *blob, const char *mt, const char *dest,
			const char *diff_id, char **err)
{
	return layer_unpack_from(st, blob, -1, mt, dest, diff_id, err);
}

/* ---- OCI archives -------------------------------------------------------- */

/* Extract the OCI layout inside the tar ARCHIVE into the new dir DEST. Only
 * oci-layout, index.json and blobs/sha256/<hex> are taken, as plain files
 * created by us: nothing in the archive can make us follow a link. */
static int extract_layout(struct image_store *st, const char *archive_path, const char *dest,
			  char **err)
{
	cleanup_free char *blobs = xasprintf("%s/blobs/sha256", dest);
	int rc = mkdir_p(blobs, 0700);
	if (rc < 0)
		return fail(err, rc, "mkdir \"%s\": %s", blobs, strerror(-rc));
	cleanup_close int topfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_close int blobfd = open(blobs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (topfd < 0 || blobfd < 0)
		return fail(err, -errno, "open \"%s\": %s", dest, strerror(errno));

	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	if (archive_read_open_filename(a, archive_path, IOBUF) != ARCHIVE_OK) {
		rc = fail(err, -EIO, "not an oci archive: %s",
			  archive_error_string(a) ? archive_error_string(a) : "unknown error");
		archive_read_free(a);
		return rc;
	}
	struct archive_entry *e;
	size_t files = 0;
	int r;
	uint64_t max = st->max_layer_bytes + (1u << 20);
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		cleanup_free char *path = NULL;
		const char *name = archive_entry_pathname(e);
		if (!name || archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) ||
		    clean_path(name, &path) < 0)
			continue;
		int dfd;
		const char *base;
		if (strcmp(path, "oci-layout") == 0 || strcmp(path, "index.json") == 0) {
			dfd = topfd;
			base = path;
		} else if (strncmp(path, "blobs/sha256/", 13) == 0 && is_hex64(path + 13)) {
			dfd = blobfd;
			base = path + 13;
		} else {
			continue;
		}
		if (++files > MAX_ARCHIVE_FILES) {
			rc = fail(err, -EFBIG, "archive has more than %d files", MAX_ARCHIVE_FILES);
			break;
		}
		int fd =
		    openat(dfd, base, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			rc = fail(err, -errno, "extract \"%s\": %s", name, strerror(errno));
			break;
		}
		const void *p;
		size_t n;
		la_int64_t off;
		while ((r = archive_read_data_block(a, &p, &n, &off)) == ARCHIVE_OK ||
		       r == ARCHIVE_WARN) {
			if (off < 0 || (uint64_t)off + n > max) {
				rc = fail(err, -EFBIG, "archive member \"%s\" is too large", name);
				break;
			}
			if ((rc = pwrite_all(fd, p, n, (off_t)off)) < 0) {
				fail(err, rc, "extract \"%s\": %s", name, strerror(-rc));
				break;
			}
		}
		close(fd);
		if (rc < 0)
			break;
		if (r != ARCHIVE_EOF) {
			rc = fail(err, -EIO, "read archive: %s",
				  archive_error_string(a) ? archive_error_string(a) : "read error");
			break;
		}
	}
	if (rc == 0 && r != ARCHIVE_EOF)
		rc = fail(err, -EIO, "read archive: %s",
			  archive_error_string(a) ? archive_error_string(a) : "read error");
	archive_read_free(a);
	return rc;
}

/* ---- import ------------------------------------------------------------ */

struct jblob {
	char digest[DIGEST_LEN + 1];
	char *buf;
	size_t len;
};

struct import {
	char *tmpdir;	      /* STORE/tmp/import-XXXXXX */
	int tmpfd;	      /* tmpdir, flock()ed while in use, or -1 */
	char *layout;	      /* the layout dir we read */
	char *blobdir;	      /* layout/blobs/sha256 */
	struct desc *entries; /* index.json's manifests */
	size_t nentries;
	struct ref_parts want;
	bool have_want;
	char *index_digest; /* top-level index, if the entry was one */
	char manifest_digest[DIGEST_LEN + 1];
	struct manifest m;
	struct parsed_config pc;
	struct jblob jb[MAX_INDEX_DEPTH + 2];
	size_t njb;
	struct strv placed_layers; /* diff-id hexes unpacked here, in tmpdir */
	/* a pull: blobs come from SRC, the top manifest is given */
	const struct image_source *src;
	const char *top_buf;
	size_t top_len;
	int64_t prog_done, prog_total;
	pthread_mutex_t prog_mu; /* prog_done, res->downloaded: layers fetched in parallel */
	bool prog_mu_init;
	int *lock_fds; /* per-blob locks held until the commit */
	size_t nlocks;
	bool pulled;
	struct image_ingest_result *res;
};

static void import_free(struct import *im)
{
	if (im->tmpdir)
		rm_rf(im->tmpdir);
	if (im->tmpfd >= 0)
		close(im->tmpfd);
	free(im->tmpdir);
	free(im->layout);
	free(im->blobdir);
	descs_free(im->entries, im->nentries);
	ref_parts_free(&im->want);
	free(im->index_digest);
	manifest_free(&im->m);
	parsed_config_free(&im->pc);
	for (size_t i = 0; i < im->njb; i++)
		free(im->jb[i].buf);
	strv_free(&im->placed_layers);
	for (size_t i = 0; i < im->nlocks; i++)
		close(im->lock_fds[i]);
	free(im->lock_fds);
	if (im->prog_mu_init)
		pthread_mutex_destroy(&im->prog_mu);
}

/* ---- blobs from a source (the registry) ---------------------------------- */

/* The verifying writer a source feeds: counts, hashes, and stores into
 * memory (small JSON blobs) or a file (layers). */
struct image_sink {
	struct sha256 h;
	const char *digest;
	int64_t size, got;
	int fd;	   /* file mode, or -1 */
	char *buf; /* memory mode: SIZE bytes */
	bool layer;
	struct import *im;
	int stream_fd; /* a copy goes to the unpacker (socket), or -1 */
};

int image_sink_write(struct image_sink *s, const void *p, size_t n)
{
	if ((int64_t)n > s->size - s->got) {
		s->got = s->size + 1;
		return -EFBIG;
	}
	sha_update(&s->h, p, n);
	if (s->fd >= 0) {
		int rc = write_all(s->fd, p, n);
		if (rc < 0)
			return rc;
	} else if (s->buf) {
		memcpy(s->buf + s->got, p, n);
	}
	s->got += (int64_t)n;
	/* the unpacker gave up (it says why later): keep downloading, since a
	 * digest mismatch is the better message */
	for (size_t off = 0; s->stream_fd >= 0 && off < n;) {
		ssize_t w = send(s->stream_fd, (const char *)p + off, n - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			close(s->stream_fd);
			s->stream_fd = -1;
			break;
		}
		off += (size_t)w;
	}
	if (s->layer && s->im->src->progress) {
		pthread_mutex_lock(&s->im->prog_mu);
		s->im->prog_done += (int64_t)n;
		int64_t done = s->im->prog_done;
		pthread_mutex_unlock(&s->im->prog_mu);
		s->im->src->progress(s->im->src->arg, done, s->im->prog_total);
	}
	return 0;
}

int64_t image_sink_received(const struct image_sink *s)
{
	return s->got;
}

/* Fetch DIGEST (SIZE bytes) from the source into FD (>= 0) or memory, and
 * check size and digest. On success a memory fetch leaves the bytes in
 * *OUT (NUL-terminated). */
static int source_fetch(struct import *im, enum image_blob_kind kind, const char *digest,
			int64_t size, const char *mt, int fd, int stream_fd, char **out, char **err)
{
	struct image_sink s = {
	    .digest = digest, .size = size, .fd = fd, .im = im, .stream_fd = stream_fd};
	s.layer = kind == IMAGE_BLOB_LAYER;
	if (fd < 0 && out)
		s.buf = xmalloc((size_t)size + 1);
	sha_init(&s.h);
	int rc = im->src->fetch(im->src->arg, kind, digest, size, mt, &s, err);
	if (rc == 0 && s.got > size)
		rc = fail(err, -EBADMSG, "blob \"%s\" is larger than the %lld bytes its descriptor says",
			  digest, (long long)size);
	else if (rc == 0 && s.got != size)
		rc = fail(err, -EBADMSG,
			  "blob \"%s\" is truncated: got %lld bytes, its descriptor says %lld",
			  digest, (long long)s.got, (long long)size);
	if (rc == 0) {
		char got[DIGEST_LEN + 1];
		sha_final(&s.h, got);
		if (strcmp(got, digest) != 0)
			rc = digest_mismatch(err, digest, got);
	}
	sha_free(&s.h);
	if (s.stream_fd >= 0)
		close(s.stream_fd); /* EOF for the unpacker */
	if (rc == 0 && s.buf) {
		s.buf[size] = '\0';
		*out = s.buf;
	} else {
		free(s.buf);
	}
	return rc;
}

/* A small JSON blob (manifest, index, config), from the layout or the
 * source, verified. */
static int im_json(struct import *im, enum image_blob_kind kind, const char *digest, int64_t size,
		   size_t max, const char *mt, char **buf, size_t *len, char **err)
{
	if (!im->src)
		return blob_read(im->blobdir, digest, size, max, buf, len, err);
	if (size < 0 || (uint64_t)size > max)
		return fail(err, -EFBIG, "blob \"%s\": its descriptor says %lld bytes, more than %zu",
			    digest, (long long)size, max);
	int rc = source_fetch(im, kind, digest, size, mt, -1, -1, buf, err);
	if (rc == 0)
		*len = (size_t)size;
	return rc;
}

/* A layer blob into the new file DST, verified; DST is removed on failure.
 * From a source, a copy of the bytes also goes to STREAM_FD (closed here),
 * or -1. */
static int im_layer_blob(struct image_store *st, struct import *im, const struct desc *l,
			 const char *dst, int stream_fd, char **err)
{
	if (!im->src) {
		cleanup_free char *from = xasprintf("%s/%s", im->blobdir, l->digest + 7);
		if (stream_fd >= 0)
			close(stream_fd);
		return blob_copy(from, dst, l->digest, l->size, err);
	}
	if ((uint64_t)l->size > st->max_layer_bytes) {
		if (stream_fd >= 0)
			close(stream_fd);
		return fail(err, -EFBIG, "blob \"%s\" is %lld bytes, more than the limit %llu",
			    l->digest, (long long)l->size, (unsigned long long)st->max_layer_bytes);
	}
	/* DST NULL: only hashed and streamed (the unpacked layer is what the
	 * store keeps of a pulled layer) */
	int fd = dst ? open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) : -1;
	if (dst && fd < 0) {
		if (stream_fd >= 0)
			close(stream_fd);
		return fail(err, -errno, "create \"%s\": %s", dst, strerror(errno));
	}
	int rc = source_fetch(im, IMAGE_BLOB_LAYER, l->digest, l->size, l->media_type, fd,
			      stream_fd, NULL, err);
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = fail(err, -errno, "write \"%s\": %s", dst, strerror(errno));
	if (rc < 0 && dst)
		unlink(dst);
	return rc;
}

static int str_cmp(const void *a, const void *b);
static int layer_unpack_from(struct image_store *st, const char *blob, int fd, const char *mt,
			     const char *dest, const char *diff_id, char **err);

/* A layer unpacked while it downloads: the sink sends a copy of the bytes
 * to this thread through a socket. Nothing is trusted before both the blob
 * digest (the sink) and the diff_id (the unpacker) are checked. */
struct stream_unpack {
	struct image_store *st;
	int fd;
	const char *mt, *dest, *diff_id;
	int rc;
	char *err;
};

static void *stream_unpack_thread(void *arg)
{
	struct stream_unpack *su = arg;
	su->rc = layer_unpack_from(su->st, NULL, su->fd, su->mt, su->dest, su->diff_id, &su->err);
	/* drain, so the sender never blocks on an unpacker that stopped early */
	char buf[8192];
	while (su->rc == 0 && read(su->fd, buf, sizeof(buf)) > 0)
		;
	close(su->fd);
	return NULL;
}

/* Lock every layer blob of the manifest (sorted, so two pulls sharing
 * layers cannot deadlock) until the commit: a second pull of the same
 * layer waits and then finds it in the store. flock() works between
 * threads too, since each open() is its own lock owner. */
static int lock_layers(struct image_store *st, struct import *im, char **err)
{
	struct strv hex = {0};
	for (size_t i = 0; i < im->m.nlayers; i++)
		strv_push(&hex, im->m.layers[i].digest + 7);
	if (hex.n)
		qsort(hex.v, hex.n, sizeof(char *), str_cmp);
	cleanup_free char *dir = xasprintf("%s/locks", st->root);
	int rc = mkdir_p(dir, 0700);
	im->lock_fds = xcalloc(hex.n + 1, sizeof(int));
	for (size_t i = 0; rc == 0 && i < hex.n; i++) {
		if (i && strcmp(hex.v[i], hex.v[i - 1]) == 0)
			continue;
		cleanup_free char *p = xasprintf("%s/%s", dir, hex.v[i]);
		int fd = flock_open(p, LOCK_EX);
		if (fd < 0)
			rc = fail(err, fd, "lock \"%s\": %s", p, strerror(-fd));
		else
			im->lock_fds[im->nlocks++] = fd;
	}
	strv_free(&hex);
	return rc;
}

static int read_layout_index(struct import *im, char **err)
{
	cleanup_free char *p = xasprintf("%s/oci-layout", im->layout);
	cleanup_free char *buf = NULL;
	size_t len;
	int rc = util_read_file(p, 65536, &buf, &len);
	if (rc < 0)
		return fail(err, rc, "not an oci image layout: cannot read oci-layout: %s",
			    strerror(-rc));
	json_t *j = json_loadb(buf, len, 0, NULL);
	const char *v = json_string_value(json_object_get(j, "imageLayoutVersion"));
	if (!v || strncmp(v, "1.", 2) != 0) {
		rc = fail(err, -EINVAL, "not an oci image layout: oci-layout has %s%s%s",
			  v ? "imageLayoutVersion \"" : "no imageLayoutVersion", v ? v : "",
			  v ? "\"" : "");
		json_decref(j);
		return rc;
	}
	json_decref(j);

	free(p);
	p = xasprintf("%s/index.json", im->layout);
	free(buf);
	buf = NULL;
	rc = util_read_file(p, MAX_JSON_BLOB, &buf, &len);
	if (rc < 0)
		return fail(err, rc, "read index.json: %s", strerror(-rc));
	json_error_t je;
	j = json_loadb(buf, len, 0, &je);
	if (!json_is_object(j)) {
		rc = fail(err, -EINVAL, "index.json is not a json object: %s",
			  j ? "wrong type" : je.text);
		json_decref(j);
		return rc;
	}
	rc = descs_parse(json_object_get(j, "manifests"), "index.json manifests", 4096,
			 &im->entries, &im->nentries, err);
	json_decref(j);
	return rc;
}

/* Does index.json's ref name RN name the image WANT? RN is a tag ("latest")
 * or a full reference. */
static bool ref_name_matches(const char *rn, const struct ref_parts *want)
{
	if (!rn || !want->tag)
		return false;
	if (strcmp(rn, want->tag) == 0)
		return true;
	struct ref_parts p;
	if (ref_parse(rn, &p, NULL) < 0)
		return false;
	bool ok = same_repo(&p, want) && p.tag && strcmp(p.tag, want->tag) == 0;
	ref_parts_free(&p);
	return ok;
}

static int select_entry(struct import *im, size_t *pick, char **err)
{
	if (im->nentries == 0)
		return fail(err, -ENOENT, "index.json lists no images");
	if (im->have_want) {
		for (size_t i = 0; i < im->nentries; i++) {
			if (ref_name_matches(im->entries[i].ref_name, &im->want)) {
				*pick = i;
				return 0;
			}
		}
		for (size_t i = 0; im->want.digest && i < im->nentries; i++) {
			if (strcmp(im->entries[i].digest, im->want.digest) == 0) {
				*pick = i;
				return 0;
			}
		}
	}
	if (im->nentries == 1) {
		*pick = 0;
		return 0;
	}
	struct strbuf sb;
	sb_init(&sb);
	for (size_t i = 0; i < im->nentries; i++)
		sb_printf(&sb, "%s\"%s\"", i ? ", " : "",
			  im->entries[i].ref_name ? im->entries[i].ref_name
						  : im->entries[i].digest);
	int rc;
	if (im->have_want && im->want.tag)
		rc = fail(err, -ENOENT, "the layout has no image tagged \"%s\" (it has %s)",
			  im->want.tag, sb.buf);
	else if (im->have_want)
		rc = fail(err, -ENOENT, "the layout has no image with digest \"%s\" (it has %s)",
			  im->want.digest, sb.buf);
	else
		rc = fail(err, -EINVAL, "the layout holds %zu images (%s); name the one to import",
			  im->nentries, sb.buf);
	sb_free(&sb);
	return rc;
}

/* Pick linux/HOST_ARCH from an index's manifests, skipping attestations. */
static int pick_platform(const struct desc *ds, size_t n, size_t *pick, char **err)
{
	size_t unplatformed = 0, last = 0;
	for (size_t i = 0; i < n; i++) {
		if (ds[i].attestation)
			continue;
		if ((ds[i].os && strcmp(ds[i].os, "unknown") == 0) ||
		    (ds[i].arch && strcmp(ds[i].arch, "unknown") == 0))
			continue;
		if (ds[i].os && ds[i].arch && strcmp(ds[i].os, "linux") == 0 &&
		    strcmp(ds[i].arch, HOST_ARCH) == 0) {
			*pick = i;
			return 0;
		}
		if (!ds[i].os && !ds[i].arch) {
			unplatformed++;
			last = i;
		}
	}
	if (unplatformed == 1) {
		*pick = last;
		return 0;
	}
	struct strbuf sb;
	sb_init(&sb);
	for (size_t i = 0; i < n; i++)
		sb_printf(&sb, "%s%s/%s", i ? ", " : "", ds[i].os ? ds[i].os : "?",
			  ds[i].arch ? ds[i].arch : "?");
	int rc = fail(err, -ENOENT, "the image index has no linux/%s image (it has %s)", HOST_ARCH,
		      n ? sb.buf : "none");
	sb_free(&sb);
	return rc;
}

/* Follow the chosen index.json entry through image indexes down to one
 * manifest; every blob read is verified and kept in IM->jb for the store. */
static int resolve_manifest(struct import *im, const struct desc *top, char **err)
{
	struct desc cur = {0};
	int rc = 0;
	cur.digest = xstrdup(top->digest);
	cur.size = top->size;
	cur.media_type = top->media_type ? xstrdup(top->media_type) : NULL;
	for (int depth = 0;; depth++) {
		if (depth > MAX_INDEX_DEPTH) {
			rc = fail(err, -ELOOP, "image indexes nested more than %d deep",
				  MAX_INDEX_DEPTH);
			break;
		}
		char *buf;
		size_t len;
		if (depth == 0 && im->top_buf) {
			buf = xmalloc(im->top_len + 1);
			memcpy(buf, im->top_buf, im->top_len);
			buf[im->top_len] = '\0';
			len = im->top_len;
		} else {
			rc = im_json(im, IMAGE_BLOB_MANIFEST, cur.digest, cur.size, MAX_JSON_BLOB,
				     cur.media_type, &buf, &len, err);
			if (rc < 0)
				break;
		}
		struct jblob *jb = &im->jb[im->njb++];
		memcpy(jb->digest, cur.digest, DIGEST_LEN + 1);
		jb->buf = buf;
		jb->len = len;

		json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
		const char *own = json_string_value(json_object_get(j, "mediaType"));
		bool is_index = mt_is_index(cur.media_type) || mt_is_index(own) ||
				(!cur.media_type && !own && json_object_get(j, "manifests"));
		if (!is_index) {
			json_decref(j);
			if (cur.media_type && !mt_is_manifest(cur.media_type)) {
				rc = fail(err, -ENOTSUP, "unsupported manifest media type \"%s\"",
					  cur.media_type);
				break;
			}
			memcpy(im->manifest_digest, cur.digest, DIGEST_LEN + 1);
			rc = manifest_parse(buf, len, &im->m, err);
			if (rc < 0)
				err_prefix(err, "manifest \"%s\"", cur.digest);
			break;
		}
		if (depth == 0)
			im->index_digest = xstrdup(cur.digest);
		struct desc *ds = NULL;
		size_t n = 0, pick = 0;
		rc = descs_parse(json_object_get(j, "manifests"), "image index manifests", 4096,
				 &ds, &n, err);
		json_decref(j);
		if (rc == 0)
			rc = pick_platform(ds, n, &pick, err);
		if (rc < 0) {
			descs_free(ds, n);
			err_prefix(err, "image index \"%s\"", cur.digest);
			break;
		}
		desc_free(&cur);
		cur = ds[pick];
		memset(&ds[pick], 0, sizeof(ds[pick]));
		descs_free(ds, n);
	}
	desc_free(&cur);
	return rc;
}

static bool exists(const char *path)
{
	struct stat s;
	return lstat(path, &s) == 0;
}

/* The repository name for an import without REF: the archive's or dir's
 * base name, minus an archive suffix. */
static char *name_from_path(const char *path)
{
	cleanup_free char *copy = xstrdup(path);
	size_t n = strlen(copy);
	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = '\0';
	const char *b = strrchr(copy, '/') ? strrchr(copy, '/') + 1 : copy;
	char *s = xstrdup(b);
	static const char *const sfx[] = {".tar.gz", ".tgz", ".tar", ".oci"};
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		size_t l = strlen(s), k = strlen(sfx[i]);
		if (l > k && strcmp(s + l - k, sfx[i]) == 0) {
			s[l - k] = '\0';
			break;
		}
	}
	return s;
}

/* Fill IM->want when the caller gave no reference. */
static int want_from_layout(struct import *im, const char *path, const struct desc *entry,
			    char **err)
{
	const char *rn = entry->ref_name;
	cleanup_free char *base = name_from_path(path);
	cleanup_free char *cand = NULL;
	if (rn && (strchr(rn, '/') || strchr(rn, '@')))
		cand = xstrdup(rn);
	else
		cand = xasprintf("%s:%s", base, rn ? rn : "latest");
	int rc = ref_parse(cand, &im->want, err);
	if (rc < 0)
		err_prefix(err, "no image reference given, and the one made from the file name "
				"and the layout's ref name does not parse");
	else
		im->have_want = true;
	return rc;
}

static int commit_import(struct image_store *st, struct import *im, char **err)
{
	cleanup_free char *tblobs = xasprintf("%s/blobs", im->tmpdir);
	DIR *d = opendir(tblobs);
	struct dirent *de;
	int rc = 0;
	/* Nothing new (a pull finding the image unchanged): no sync needed. */
	bool news = im->placed_layers.n > 0;
	while (!news && d && (de = readdir(d)))
		news = is_hex64(de->d_name);
	if (d)
		rewinddir(d);
	/* Everything unpacked must be on disk before it gets a name that
	 * says "complete". */
	cleanup_close int rootfd = open(st->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (news && (rootfd < 0 || syncfs(rootfd) < 0)) {
		if (d)
			closedir(d);
		return fail(err, -errno, "sync \"%s\": %s", st->root, strerror(errno));
	}
	while (d && (de = readdir(d))) {
		if (!is_hex64(de->d_name))
			continue;
		cleanup_free char *from = xasprintf("%s/%s", tblobs, de->d_name);
		cleanup_free char *to = xasprintf("%s/%s", st->blobs, de->d_name);
		if (rename(from, to) < 0) {
			rc = fail(err, -errno, "store blob \"sha256:%s\": %s", de->d_name,
				  strerror(errno));
			break;
		}
	}
	if (d)
		closedir(d);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < im->placed_layers.n; i++) {
		const char *hex = im->placed_layers.v[i];
		cleanup_free char *from = xasprintf("%s/layer-%s", im->tmpdir, hex);
		cleanup_free char *to = xasprintf("%s/%s", st->layers, hex);
		/* A concurrent import of the same layer may have won. */
		if (rename(from, to) < 0 && errno != EEXIST && errno != ENOTEMPTY)
			return fail(err, -errno, "store layer \"sha256:%s\": %s", hex,
				    strerror(errno));
	}
	if (news && ((rc = fsync_path(st->blobs)) < 0 || (rc = fsync_path(st->layers)) < 0))
		return fail(err, rc, "sync \"%s\": %s", st->root, strerror(-rc));

	struct guard g = {0};
	if ((rc = refs_enter(st, &g, err)) < 0)
		return rc;
	struct refs r;
	cleanup_free char *key = ref_key(&im->want);
	rc = refs_load(st, &r, err);
	if (rc == 0) {
		size_t i;
		for (i = 0; i < r.n && strcmp(r.v[i].key, key) != 0; i++)
			;
		if (i < r.n && !strcmp(r.v[i].digest, im->manifest_digest) &&
		    !(r.v[i].index ? !im->index_digest || strcmp(r.v[i].index, im->index_digest)
				   : im->index_digest != NULL) &&
		    r.v[i].pulled == im->pulled) {
			/* unchanged: no rewrite */
			refs_free(&r);
			guard_leave(&g);
			return 0;
		}
		if (i < r.n) {
			free(r.v[i].digest);
			free(r.v[i].index);
			r.v[i].digest = xstrdup(im->manifest_digest);
			r.v[i].index = im->index_digest ? xstrdup(im->index_digest) : NULL;
			r.v[i].pulled = im->pulled;
		} else {
			refs_add(&r, key, im->manifest_digest, im->index_digest, im->pulled);
		}
		rc = refs_save(st, &r, err);
		refs_free(&r);
	}
	guard_leave(&g);
	return rc;
}

/* A pull fetches the layers the store lacks several at a time, each
 * unpacked while it streams in (stream_unpack_thread). */
#define PARALLEL_LAYERS 3

struct layer_job {
	size_t idx;
	int rc;
	char *err;
};

struct parallel {
	struct image_store *st;
	struct import *im;
	struct layer_job *jobs;
	size_t njobs, next;
	pthread_mutex_t mu;
};

static void *layer_worker(void *arg)
{
	struct parallel *pa = arg;
	struct import *im = pa->im;
	for (;;) {
		pthread_mutex_lock(&pa->mu);
		size_t k = pa->next < pa->njobs ? pa->next++ : pa->njobs;
		pthread_mutex_unlock(&pa->mu);
		if (k == pa->njobs)
			return NULL;
		struct layer_job *j = &pa->jobs[k];
		const struct desc *l = &im->m.layers[j->idx];
		const char *diff_id = im->pc.diff_ids[j->idx];
		cleanup_free char *dest = xasprintf("%s/layer-%s", im->tmpdir, diff_id + 7);
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
			j->rc = fail(&j->err, -errno, "socketpair: %s", strerror(errno));
			continue;
		}
		struct stream_unpack su = {
		    .st = pa->st, .fd = sv[1], .mt = l->media_type, .dest = dest, .diff_id = diff_id};
		pthread_t th;
		if (pthread_create(&th, NULL, stream_unpack_thread, &su) != 0) {
			close(sv[0]);
			close(sv[1]);
			j->rc = fail(&j->err, -EAGAIN, "cannot start an unpack thread");
			continue;
		}
		j->rc = im_layer_blob(pa->st, im, l, NULL, sv[0], &j->err);
		pthread_join(th, NULL);
		if (j->rc == 0 && su.rc < 0) {
			j->rc = su.rc;
			free(j->err);
			j->err = steal_pointer(&su.err);
			err_prefix(&j->err, "layer %zu (\"%s\")", j->idx, l->digest);
		} else if (j->rc < 0) {
			err_prefix(&j->err, "layer %zu", j->idx);
		}
		free(su.err);
		if (j->rc < 0)
			rm_rf(dest);
	}
}

static int fetch_layers_parallel(struct image_store *st, struct import *im, char **err)
{
	struct manifest *m = &im->m;
	struct parallel pa = {.st = st, .im = im};
	pa.jobs = xcalloc(m->nlayers + 1, sizeof(*pa.jobs));
	for (size_t i = 0; i < m->nlayers; i++) {
		const char *dhex = im->pc.diff_ids[i] + 7;
		cleanup_free char *have = xasprintf("%s/%s", st->blobs, m->layers[i].digest + 7);
		cleanup_free char *done = xasprintf("%s/%s", st->layers, dhex);
		bool again = false; /* the same layer earlier in this image */
		for (size_t k = 0; k < i; k++)
			again |= !strcmp(im->pc.diff_ids[k], im->pc.diff_ids[i]) ||
				 !strcmp(m->layers[k].digest, m->layers[i].digest);
		if (again || exists(done) || exists(have))
			continue;
		pa.jobs[pa.njobs++].idx = i;
	}
	int rc = 0;
	if (pa.njobs > 0) {
		pthread_mutex_init(&pa.mu, NULL);
		size_t nt = pa.njobs < PARALLEL_LAYERS ? pa.njobs : PARALLEL_LAYERS;
		pthread_t th[PARALLEL_LAYERS];
		size_t started = 0;
		for (; started < nt; started++)
			if (pthread_create(&th[started], NULL, layer_worker, &pa) != 0)
				break;
		if (started == 0)
			layer_worker(&pa);
		for (size_t t = 0; t < started; t++)
			pthread_join(th[t], NULL);
		pthread_mutex_destroy(&pa.mu);
		/* the first failure in image order is the one reported */
		for (size_t k = 0; k < pa.njobs; k++) {
			struct layer_job *j = &pa.jobs[k];
			if (j->rc < 0 && rc == 0) {
				rc = j->rc;
				free(*err);
				*err = steal_pointer(&j->err);
			} else if (j->rc == 0) {
				strv_push(&im->placed_layers, im->pc.diff_ids[j->idx] + 7);
				if (im->res)
					im->res->downloaded += m->layers[j->idx].size;
			}
			free(j->err);
		}
	}
	free(pa.jobs);
	return rc;
}

/* STORE/tmp/import-XXXXXX, locked (see tmp_sweep) before it appears under
 * that name: made as .new-XXXXXX, locked, renamed. */
static int make_tmpdir(struct image_store *st, struct import *im, char **err)
{
	cleanup_free char *tmpl = xasprintf("%s/.new-XXXXXX", st->tmp);
	if (!mkdtemp(tmpl))
		return fail(err, -errno, "create temporary dir in \"%s\": %s", st->tmp,
			    strerror(errno));
	int fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		rmdir(tmpl);
		return fail(err, -e, "lock \"%s\": %s", tmpl, strerror(e));
	}
	cleanup_free char *name = xasprintf("%s/import-%s", st->tmp, strrchr(tmpl, '-') + 1);
	if (renameat2(AT_FDCWD, tmpl, AT_FDCWD, name, RENAME_NOREPLACE) < 0) {
		int e = errno;
		close(fd);
		rmdir(tmpl);
		return fail(err, -e, "rename \"%s\": %s", tmpl, strerror(e));
	}
	im->tmpfd = fd;
	im->tmpdir = xstrdup(name);
	cleanup_free char *tblobs = xasprintf("%s/blobs", im->tmpdir);
	if (mkdir(tblobs, 0700) < 0)
		return fail(err, -errno, "mkdir \"%s\": %s", tblobs, strerror(errno));
	return 0;
}

/* From the chosen top manifest or index (IM->top_buf, or the layout entry
 * TOP) down to the layers in the store and the reference in refs.json:
 * the path every import and every pull takes. */
static int ingest(struct image_store *st, struct import *im, const struct desc *top, char **err)
{
	int rc;
	cleanup_free char *tblobs = xasprintf("%s/blobs", im->tmpdir);
	if ((rc = resolve_manifest(im, top, err)) < 0)
		return rc;
	if (im->want.digest && strcmp(im->want.digest, im->manifest_digest) != 0 &&
	    (!im->index_digest || strcmp(im->want.digest, im->index_digest) != 0))
		return fail(err, -EBADMSG,
			    "the reference asks for digest \"%s\", but the image is \"%s\"",
			    im->want.digest,
			    im->index_digest ? im->index_digest : im->manifest_digest);

	/* The config. */
	struct manifest *m = &im->m;
	char *cbuf;
	size_t clen;
	if ((rc = im_json(im, IMAGE_BLOB_CONFIG, m->config.digest, m->config.size,
			  MAX_CONFIG_BLOB, m->config.media_type, &cbuf, &clen, err)) < 0) {
		err_prefix(err, "image config");
		return rc;
	}
	struct jblob *jb = &im->jb[im->njb++];
	memcpy(jb->digest, m->config.digest, DIGEST_LEN + 1);
	jb->buf = cbuf;
	jb->len = clen;
	if ((rc = config_parse(cbuf, clen, &im->pc, err)) < 0)
		return rc;
	if (im->pc.os && strcmp(im->pc.os, "linux") != 0)
		return fail(err, -ENOEXEC, "the image is for os \"%s\", not linux", im->pc.os);
	if (im->pc.arch && strcmp(im->pc.arch, HOST_ARCH) != 0)
		return fail(err, -ENOEXEC,
			    "the image is for architecture \"%s\", this machine is %s", im->pc.arch,
			    HOST_ARCH);
	if (im->pc.ndiff != m->nlayers)
		return fail(err, -EINVAL, "the manifest has %zu layers but the config %zu diff_ids",
			    m->nlayers, im->pc.ndiff);
	for (size_t i = 0; i < m->nlayers; i++)
		if (layer_compression(m->layers[i].media_type) == COMP_BAD)
			return fail(err, -ENOTSUP, "layer %zu: unsupported media type \"%s\"", i,
				    m->layers[i].media_type ? m->layers[i].media_type : "(none)");

	/* The small blobs, verified above, from memory. */
	for (size_t i = 0; i < im->njb; i++) {
		cleanup_free char *dst = xasprintf("%s/%s", tblobs, im->jb[i].digest + 7);
		cleanup_free char *have = xasprintf("%s/%s", st->blobs, im->jb[i].digest + 7);
		if (exists(have) || exists(dst))
			continue;
		int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			return fail(err, -errno, "create \"%s\": %s", dst, strerror(errno));
		rc = write_all(fd, im->jb[i].buf, im->jb[i].len);
		close(fd);
		if (rc < 0)
			return fail(err, rc, "write \"%s\": %s", dst, strerror(-rc));
	}

	/* Layers: one download and one unpack per layer, even across pulls. */
	if ((rc = lock_layers(st, im, err)) < 0)
		return rc;
	im->prog_total = 0;
	for (size_t i = 0; i < m->nlayers; i++) {
		cleanup_free char *have = xasprintf("%s/%s", st->blobs, m->layers[i].digest + 7);
		cleanup_free char *ldir = xasprintf("%s/%s", st->layers, im->pc.diff_ids[i] + 7);
		bool dup = false;
		for (size_t k = 0; k < i; k++)
			dup |= strcmp(m->layers[k].digest, m->layers[i].digest) == 0;
		if (!dup && !exists(have) && !(im->src && exists(ldir)))
			im->prog_total += m->layers[i].size;
	}
	if (im->src && im->src->progress)
		im->src->progress(im->src->arg, 0, im->prog_total);
	if (im->src && (rc = fetch_layers_parallel(st, im, err)) < 0)
		return rc;
	for (size_t i = 0; i < m->nlayers; i++) {
		const struct desc *l = &m->layers[i];
		const char *hex = l->digest + 7, *dhex = im->pc.diff_ids[i] + 7;
		cleanup_free char *have = xasprintf("%s/%s", st->blobs, hex);
		cleanup_free char *src = NULL;
		cleanup_free char *done = xasprintf("%s/%s", st->layers, dhex);
		cleanup_free char *dest = xasprintf("%s/layer-%s", im->tmpdir, dhex);
		bool placed = false;
		for (size_t k = 0; k < im->placed_layers.n; k++)
			placed |= strcmp(im->placed_layers.v[k], dhex) == 0;
		bool need_unpack = !placed && !exists(done);
		if (im->src && !need_unpack)
			continue; /* a pull needs no blob of a layer the store has */
		if (exists(have)) {
			src = steal_pointer(&have);
		} else {
			src = xasprintf("%s/%s", tblobs, hex);
			if (!exists(src)) {
				int sv[2] = {-1, -1};
				struct stream_unpack su = {.st = st, .mt = l->media_type,
							   .dest = dest, .diff_id = im->pc.diff_ids[i]};
				pthread_t th;
				bool streamed = false;
				if (im->src && need_unpack &&
				    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
					su.fd = sv[1];
					if (pthread_create(&th, NULL, stream_unpack_thread, &su) == 0) {
						streamed = true;
					} else {
						close(sv[0]);
						close(sv[1]);
						sv[0] = -1;
					}
				}
				rc = im_layer_blob(st, im, l, streamed ? NULL : src,
						   streamed ? sv[0] : -1, err);
				if (streamed) {
					pthread_join(th, NULL);
					if (rc == 0 && su.rc < 0) {
						rc = su.rc;
						free(*err);
						*err = steal_pointer(&su.err);
						rm_rf(dest);
						err_prefix(err, "layer %zu (\"%s\")", i, l->digest);
						return rc;
					}
					free(su.err);
					if (rc < 0)
						rm_rf(dest);
				}
				if (rc < 0) {
					err_prefix(err, "layer %zu", i);
					return rc;
				}
				if (im->res)
					im->res->downloaded += l->size;
				if (streamed) {
					strv_push(&im->placed_layers, dhex);
					continue;
				}
			}
		}
		if (!need_unpack)
			continue;
		rc = layer_unpack(st, src, l->media_type, dest, im->pc.diff_ids[i], err);
		if (rc < 0) {
			rm_rf(dest);
			err_prefix(err, "layer %zu (\"%s\")", i, l->digest);
			return rc;
		}
		strv_push(&im->placed_layers, dhex);
	}
	if (im->res) {
		im->res->digest = xstrdup(im->manifest_digest);
		im->res->size = m->config.size;
		for (size_t i = 0; i < m->nlayers; i++)
			im->res->size += m->layers[i].size;
	}
	return commit_import(st, im, err);
}

static int do_import(struct image_store *st, struct import *im, const char *path, char **err)
{
	int rc;
	if ((rc = make_tmpdir(st, im, err)) < 0)
		return rc;
	struct stat s;
	if (stat(path, &s) < 0)
		return fail(err, -errno, "%s", strerror(errno));
	if (S_ISDIR(s.st_mode)) {
		im->layout = xstrdup(path);
	} else if (S_ISREG(s.st_mode)) {
		im->layout = xasprintf("%s/layout", im->tmpdir);
		if ((rc = extract_layout(st, path, im->layout, err)) < 0)
			return rc;
	} else {
		return fail(err, -EINVAL, "neither an oci layout directory nor an oci archive");
	}
	im->blobdir = xasprintf("%s/blobs/sha256", im->layout);
	if ((rc = read_layout_index(im, err)) < 0)
		return rc;

	size_t pick = 0;
	if ((rc = select_entry(im, &pick, err)) < 0)
		return rc;
	if (!im->have_want && (rc = want_from_layout(im, path, &im->entries[pick], err)) < 0)
		return rc;
	return ingest(st, im, &im->entries[pick], err);
}

int image_import(struct image_store *st, const char *path, const char *ref, char **err)
{
	struct import im = {.tmpfd = -1};
	struct guard g = {0};
	int rc;

	*err = NULL;
	if (ref) {
		if ((rc = ref_parse(ref, &im.want, err)) < 0)
			return rc;
		im.have_want = true;
	}
	if ((rc = guard_enter(st, false, &g, err)) == 0) {
		rc = do_import(st, &im, path, err);
		/* Temporary files go before the store is left to a remover. */
		import_free(&im);
		guard_leave(&g);
	} else {
		import_free(&im);
	}
	if (rc < 0)
		err_prefix(err, "import \"%s\"", path);
	return rc;
}

static const struct ref_rec *refs_find(const struct refs *r, const struct ref_parts *want);

int image_ingest(struct image_store *st, const char *ref, const char *top, size_t len,
		 const char *media_type, const struct image_source *src,
		 struct image_ingest_result *res, char **err)
{
	struct import im = {
	    .src = src, .top_buf = top, .top_len = len, .pulled = true, .res = res, .tmpfd = -1};
	pthread_mutex_init(&im.prog_mu, NULL);
	im.prog_mu_init = true;
	struct guard g = {0};
	struct desc d = {0};
	char dg[DIGEST_LEN + 1];
	int rc;

	*err = NULL;
	memset(res, 0, sizeof(*res));
	if ((rc = ref_parse(ref, &im.want, err)) < 0)
		return rc;
	im.have_want = true;
	sha_buf(top, len, dg);
	d.digest = dg;
	d.size = (int64_t)len;
	d.media_type = (char *)media_type;
	if ((rc = guard_enter(st, false, &g, err)) == 0) {
		rc = make_tmpdir(st, &im, err);
		if (rc == 0)
			rc = ingest(st, &im, &d, err);
		import_free(&im);
		guard_leave(&g);
	} else {
		import_free(&im);
	}
	if (rc < 0) {
		free(res->digest);
		res->digest = NULL;
	}
	return rc;
}

int image_lock_ref(struct image_store *st, const char *ref, char **err)
{
	char dg[DIGEST_LEN + 1];
	sha_buf(ref, strlen(ref), dg);
	cleanup_free char *dir = xasprintf("%s/locks", st->root);
	int rc = mkdir_p(dir, 0700);
	if (rc < 0)
		return fail(err, rc, "mkdir \"%s\": %s", dir, strerror(-rc));
	cleanup_free char *p = xasprintf("%s/ref-%s", dir, dg + 7);
	int fd = flock_open(p, LOCK_EX);
	if (fd < 0)
		return fail(err, fd, "lock \"%s\": %s", p, strerror(-fd));
	return fd;
}

int image_present(struct image_store *st, const char *ref, bool *pulled, char **err)
{
	struct ref_parts want;
	struct refs r = {0};
	*err = NULL;
	int rc = ref_parse(ref, &want, err);
	if (rc < 0)
		return rc;
	if ((rc = refs_load(st, &r, err)) == 0) {
		const struct ref_rec *rec = refs_find(&r, &want);
		rc = rec != NULL;
		if (rec && pulled)
			*pulled = rec->pulled;
	}
	refs_free(&r);
	ref_parts_free(&want);
	return rc;
}

/* ---- lookup ------------------------------------------------------------ */

/* The record for WANT: an exact "name:tag" key, or for a reference with a
 * digest any key of the same repository whose manifest or index has it. */
static const struct ref_rec *refs_find(const struct refs *r, const struct ref_parts *want)
{
	cleanup_free char *key = ref_key(want);
	for (size_t i = 0; i < r->n; i++) {
		if (!want->digest) {
			if (strcmp(r->v[i].key, key) == 0)
				return &r->v[i];
			continue;
		}
		struct ref_parts p;
		if (ref_parse(r->v[i].key, &p, NULL) < 0)
			continue;
		bool same = same_repo(&p, want);
		ref_parts_free(&p);
		if (same && (strcmp(r->v[i].digest, want->digest) == 0 ||
			     (r->v[i].index && strcmp(r->v[i].index, want->digest) == 0)))
			return &r->v[i];
	}
	return NULL;
}

void image_info_free(struct image_info *info)
{
	if (!info)
		return;
	free(info->ref);
	free(info->digest);
	free(info->config_digest);
	strv_free_null(info->layer_dirs);
	image_config_clear(&info->config);
	free(info);
}

/* Build the info for manifest DIGEST from the store's blobs. */
static int info_build(struct image_store *st, const char *ref, const char *digest,
		      struct image_info **out, char **err)
{
	char *buf = NULL;
	size_t len;
	struct manifest m = {0};
	struct parsed_config pc = {0};
	int rc = blob_read(st->blobs, digest, -1, MAX_JSON_BLOB, &buf, &len, err);
	if (rc == 0)
		rc = manifest_parse(buf, len, &m, err);
	free(buf);
	buf = NULL;
	if (rc == 0)
		rc = blob_read(st->blobs, m.config.digest, m.config.size, MAX_CONFIG_BLOB, &buf,
			       &len, err);
	if (rc == 0)
		rc = config_parse(buf, len, &pc, err);
	free(buf);
	if (rc == 0 && pc.ndiff != m.nlayers)
		rc = fail(err, -EINVAL, "manifest and config disagree on the number of layers");
	if (rc < 0) {
		err_prefix(err, "image \"%s\" is damaged in the store", ref);
		manifest_free(&m);
		parsed_config_free(&pc);
		return rc;
	}
	struct image_info *info = xcalloc(1, sizeof(*info));
	info->ref = xstrdup(ref);
	info->digest = xstrdup(digest);
	info->config_digest = xstrdup(m.config.digest);
	info->nlayers = m.nlayers;
	info->layer_dirs = xcalloc(m.nlayers + 1, sizeof(char *));
	info->size = m.config.size;
	for (size_t i = 0; i < m.nlayers; i++) {
		info->size += m.layers[i].size;
		info->layer_dirs[i] = xasprintf("%s/%s", st->layers, pc.diff_ids[i] + 7);
		if (!exists(info->layer_dirs[i]) && rc == 0)
			rc = fail(err, -EIO,
				  "image \"%s\": layer \"%s\" is missing from the store; "
				  "remove the image and import it again",
				  ref, pc.diff_ids[i]);
	}
	info->config = pc.cfg;
	memset(&pc.cfg, 0, sizeof(pc.cfg));
	parsed_config_free(&pc);
	manifest_free(&m);
	if (rc < 0) {
		image_info_free(info);
		return rc;
	}
	*out = info;
	return 0;
}

static int not_found(char **err, const struct ref_parts *p)
{
	cleanup_free char *s = ref_format(p, true);
	return fail(err, -ENOENT,
		    "image \"%s\" is not in the local store (podfs image import PATH REF adds it)",
		    s);
}

int image_lookup(struct image_store *st, const char *ref, struct image_info **out, char **err)
{
	struct ref_parts want;
	struct guard g = {0};
	struct refs r = {0};
	cleanup_free char *name = NULL;
	*err = NULL;
	*out = NULL;
	int rc = ref_parse(ref, &want, err);
	if (rc < 0)
		return rc;
	if ((rc = guard_enter(st, false, &g, err)) < 0)
		goto out;
	if ((rc = refs_load(st, &r, err)) < 0)
		goto out;
	const struct ref_rec *rec = refs_find(&r, &want);
	if (!rec) {
		rc = not_found(err, &want);
		goto out;
	}
	name = ref_format(&want, true);
	rc = info_build(st, name, rec->digest, out, err);
out:
	guard_leave(&g);
	refs_free(&r);
	ref_parts_free(&want);
	return rc;
}

/* ---- list -------------------------------------------------------------- */

static void human_size(int64_t n, char *buf, size_t len)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	double v = (double)n;
	size_t u = 0;
	while (v >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%lldB", (long long)n);
	else if (v < 99.95)
		snprintf(buf, len, "%.1f%s", v, units[u]);
	else
		snprintf(buf, len, "%.0f%s", v, units[u]);
}

char *image_list_table(struct image_store *st)
{
	struct guard g = {0};
	struct refs r = {0};
	struct strbuf sb;
	cleanup_free char *err = NULL;
	sb_init(&sb);
	if (guard_enter(st, false, &g, &err) == 0) {
		if (refs_load(st, &r, &err) < 0)
			refs_free(&r);
	}
	size_t w = strlen("IMAGE");
	for (size_t i = 0; i < r.n; i++)
		if (strlen(r.v[i].key) > w)
			w = strlen(r.v[i].key);
	sb_printf(&sb, "%-*s   %-12s   %s\n", (int)w, "IMAGE", "DIGEST", "SIZE");
	for (size_t i = 0; i < r.n; i++) {
		char size[32] = "?";
		char *buf = NULL;
		size_t len;
		struct manifest m;
		cleanup_free char *e2 = NULL;
		if (blob_read(st->blobs, r.v[i].digest, -1, MAX_JSON_BLOB, &buf, &len, &e2) == 0 &&
		    manifest_parse(buf, len, &m, &e2) == 0) {
			int64_t total = m.config.size;
			for (size_t k = 0; k < m.nlayers; k++)
				total += m.layers[k].size;
			human_size(total, size, sizeof(size));
			manifest_free(&m);
		}
		free(buf);
		sb_printf(&sb, "%-*s   %-12.12s   %s\n", (int)w, r.v[i].key, r.v[i].digest + 7,
			  size);
	}
	guard_leave(&g);
	refs_free(&r);
	return sb_steal(&sb);
}

/* ---- remove ------------------------------------------------------------ */

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool in_set(const struct strv *set, const char *s)
{
	return set->n && bsearch(&s, set->v, set->n, sizeof(char *), str_cmp);
}

/* Mark what the images in R use: blob hexes in BLOBS, layer dirs in LAYERS.
 * Fails if any image cannot be read: then nothing may be swept. */
static int gc_mark(struct image_store *st, const struct refs *r, struct strv *blobs,
		   struct strv *layers, char **err)
{
	for (size_t i = 0; i < r->n; i++) {
		char *buf = NULL;
		size_t len;
		struct manifest m;
		struct parsed_config pc;
		strv_push(blobs, r->v[i].digest + 7);
		if (r->v[i].index)
			strv_push(blobs, r->v[i].index + 7);
		int rc = blob_read(st->blobs, r->v[i].digest, -1, MAX_JSON_BLOB, &buf, &len, err);
		if (rc == 0)
			rc = manifest_parse(buf, len, &m, err);
		free(buf);
		if (rc < 0) {
			err_prefix(err, "image \"%s\"", r->v[i].key);
			return rc;
		}
		strv_push(blobs, m.config.digest + 7);
		for (size_t k = 0; k < m.nlayers; k++)
			strv_push(blobs, m.layers[k].digest + 7);
		rc = blob_read(st->blobs, m.config.digest, m.config.size, MAX_CONFIG_BLOB, &buf,
			       &len, err);
		manifest_free(&m);
		if (rc == 0)
			rc = config_parse(buf, len, &pc, err);
		free(buf);
		if (rc < 0) {
			err_prefix(err, "image \"%s\"", r->v[i].key);
			return rc;
		}
		for (size_t k = 0; k < pc.ndiff; k++)
			strv_push(layers, pc.diff_ids[k] + 7);
		parsed_config_free(&pc);
	}
	if (blobs->n)
		qsort(blobs->v, blobs->n, sizeof(char *), str_cmp);
	if (layers->n)
		qsort(layers->v, layers->n, sizeof(char *), str_cmp);
	return 0;
}

/* Delete every blob and layer of the store not in the marked sets. A layer
 * is first renamed into tmp/, so a half-deleted one never looks complete. */
static void gc_sweep(struct image_store *st, const struct strv *blobs, const struct strv *layers)
{
	struct strv names = {0};
	DIR *d = opendir(st->blobs);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (is_hex64(de->d_name) && !in_set(blobs, de->d_name))
			strv_push(&names, de->d_name);
	if (d)
		closedir(d);
	for (size_t i = 0; i < names.n; i++) {
		cleanup_free char *p = xasprintf("%s/%s", st->blobs, names.v[i]);
		unlink(p);
	}
	strv_free(&names);

	d = opendir(st->layers);
	while (d && (de = readdir(d)))
		if (is_hex64(de->d_name) && !in_set(layers, de->d_name))
			strv_push(&names, de->d_name);
	if (d)
		closedir(d);
	for (size_t i = 0; i < names.n; i++) {
		cleanup_free char *from = xasprintf("%s/%s", st->layers, names.v[i]);
		cleanup_free char *to = xasprintf("%s/gc-%s", st->tmp, names.v[i]);
		rm_rf(to);
		if (rename(from, to) == 0)
			rm_rf(to);
	}
	strv_free(&names);
	fsync_path(st->blobs);
	fsync_path(st->layers);
}

int image_remove(struct image_store *st, const char *ref, bool in_use, char **err)
{
	struct ref_parts want;
	struct guard g = {0}, rg = {0};
	struct refs r = {0};
	struct strv blobs = {0}, layers = {0};
	cleanup_free char *gc_err = NULL;
	*err = NULL;
	int rc = ref_parse(ref, &want, err);
	if (rc < 0)
		return rc;
	cleanup_free char *name = ref_format(&want, true);
	if (in_use) {
		rc = fail(err, -EBUSY, "remove image \"%s\": it is in use by a pod", name);
		goto out;
	}
	if ((rc = guard_enter(st, true, &g, err)) < 0 || (rc = refs_enter(st, &rg, err)) < 0 ||
	    (rc = refs_load(st, &r, err)) < 0) {
		err_prefix(err, "remove image \"%s\"", name);
		goto out;
	}
	size_t removed = 0;
	for (;;) {
		const struct ref_rec *rec = refs_find(&r, &want);
		if (!rec)
			break;
		size_t i = (size_t)(rec - r.v);
		free(r.v[i].key);
		free(r.v[i].digest);
		free(r.v[i].index);
		memmove(&r.v[i], &r.v[i + 1], (r.n - i - 1) * sizeof(*r.v));
		r.n--;
		removed++;
	}
	if (!removed) {
		rc = not_found(err, &want);
		goto out;
	}
	if ((rc = refs_save(st, &r, err)) < 0) {
		err_prefix(err, "remove image \"%s\"", name);
		goto out;
	}
	guard_leave(&rg);
	/* The reference is gone; what it alone used goes too. If any other
	 * image is unreadable, keep everything rather than guess. */
	if (gc_mark(st, &r, &blobs, &layers, &gc_err) == 0)
		gc_sweep(st, &blobs, &layers);
out:
	guard_leave(&rg);
	guard_leave(&g);
	refs_free(&r);
	strv_free(&blobs);
	strv_free(&layers);
	ref_parts_free(&want);
	return rc;
}

/* ---- the parsers, for tests (image_parse.h) ----------------------------- */

int image_parse_manifest(const char *buf, size_t len, struct manifest *m, char **err)
{
	return manifest_parse(buf, len, m, err);
}

void image_manifest_free(struct manifest *m)
{
	manifest_free(m);
}

int image_parse_config(const char *buf, size_t len, struct parsed_config *pc, char **err)
{
	return config_parse(buf, len, pc, err);
}

void image_parsed_config_free(struct parsed_config *pc)
{
	parsed_config_free(pc);
}

/* As resolve_manifest takes one step down an index. */
int image_parse_index(const char *buf, size_t len, struct desc **ds, size_t *n, size_t *pick,
		      char **err)
{
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	int rc = descs_parse(json_object_get(j, "manifests"), "image index manifests", 4096, ds, n,
			     err);
	json_decref(j);
	if (rc == 0)
		rc = pick_platform(*ds, *n, pick, err);
	if (rc < 0) {
		descs_free(*ds, *n);
		*ds = NULL;
		*n = 0;
	}
	return rc;
}

void image_descs_free(struct desc *ds, size_t n)
{
	descs_free(ds, n);
}

bool image_layer_type_ok(const char *mt)
{
	return layer_compression(mt) != COMP_BAD;
}
