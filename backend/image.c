/* image.c: the local image store: reference normalization, refs.json, the
 * store's locks, descriptors, manifests and configs, blobs, import of OCI
 * layouts and archives, lookup, listing and removal. The path every import
 * and pull takes into the store (ingest) is imagepull.c's; layers are
 * unpacked by unpack.c.
 *
 * Locking. Inside one process: ST->gc is a rwlock taken shared by import,
 * lookup and list and exclusively by remove (whose garbage collection must
 * not delete a layer an import has just put in place but not yet named in
 * refs.json); ST->lock serializes the read-modify-write of refs.json. Across
 * processes the same two roles are played by flock() on images/lock and
 * images/refs.lock. Lock order: gc, then lock. Readers of refs.json take no
 * lock: it is only ever replaced by rename. */
#include "backend/image.h"
#include "backend/image_int.h"
#include "backend/image_parse.h"
#include "backend/imagefile.h"
#include "backend/imageref.h"
#include "backend/sha256.h"
#include "backend/unpack.h"
#include "backend/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#define MAX_LAYERS		  256
#define DEFAULT_MAX_LAYER_BYTES	  (8ULL << 30)
#define DEFAULT_MAX_LAYER_ENTRIES 1000000ULL
#define MAX_ARCHIVE_FILES	  100000
#define IOBUF			  (128 * 1024)

#define REF_NAME_ANNOTATION "org.opencontainers.image.ref.name"

/* ---- errors ------------------------------------------------------------ */

/* fail(err, rc, fmt, ...): util_fail, by the short name this file uses */
#define fail(...) util_fail(__VA_ARGS__)

void image_err_prefix(char **err, const char *fmt, ...)
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

/* ---- string vectors ---------------------------------------------------- */

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
		if (!sha256_digest_ok(d) || (ix && !sha256_digest_ok(ix)))
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
	int rc = imagefile_write_durable(st->root, "refs.json", s, strlen(s));
	free(s);
	if (rc < 0)
		return fail(err, rc, "write \"%s\": %s", st->refs_path, strerror(-rc));
	return 0;
}

/* ---- locks ------------------------------------------------------------- */

/* A lock file may be unlinked by its holder when done (image_flock_drop):
 * whoever got the lock on a file that is no longer at PATH holds nothing,
 * and opens PATH again. */
int image_flock_open(const char *path, int op)
{
	for (;;) {
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
		struct stat a, b;
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			return fd;
		close(fd); /* dropped while we waited: take the new one */
	}
}

void image_flock_drop(const char *path, int fd)
{
	if (fd < 0)
		return;
	unlink(path); /* while held: see image_flock_open */
	close(fd);
}

int image_guard_enter(struct image_store *st, bool exclusive, struct guard *g, char **err)
{
	if (exclusive)
		pthread_rwlock_wrlock(&st->gc);
	else
		pthread_rwlock_rdlock(&st->gc);
	int fd = image_flock_open(st->gc_lock_path, exclusive ? LOCK_EX : LOCK_SH);
	if (fd < 0) {
		pthread_rwlock_unlock(&st->gc);
		return fail(err, fd, "lock \"%s\": %s", st->gc_lock_path, strerror(-fd));
	}
	g->st = st;
	g->fd = fd;
	g->rw = true;
	return 0;
}

void image_guard_leave(struct guard *g)
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

int image_use_lock(struct image_store *st, bool exclusive)
{
	cleanup_free char *p = xasprintf("%s/use.lock", st->root);
	return image_flock_open(p, exclusive ? LOCK_EX : LOCK_SH);
}

void image_use_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Hold refs.json for a read-modify-write. */
static int refs_enter(struct image_store *st, struct guard *g, char **err)
{
	pthread_mutex_lock(&st->lock);
	int fd = image_flock_open(st->refs_lock_path, LOCK_EX);
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
			imagefile_rm_rf_at(tfd, names.v[i]);
			continue;
		}
		if (strncmp(names.v[i], "import-", 7) != 0)
			continue;
		int dfd = openat(tfd, names.v[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd >= 0 && flock(dfd, LOCK_EX | LOCK_NB) == 0)
			imagefile_rm_rf_at(tfd, names.v[i]);
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
	int rc = imagefile_mkdir_p(dir, 0700);
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
		rc = imagefile_mkdir_p(dirs[i], 0700);
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

void image_desc_free(struct desc *d)
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
		image_desc_free(&v[i]);
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
	if (!sha256_digest_ok(dg))
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

int image_descs_parse(json_t *arr, const char *what, size_t max, struct desc **out, size_t *n,
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

bool image_mt_is_index(const char *mt)
{
	return mt && (strcmp(mt, "application/vnd.oci.image.index.v1+json") == 0 ||
		      strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json") == 0);
}

bool image_mt_is_manifest(const char *mt)
{
	return mt && (strcmp(mt, "application/vnd.oci.image.manifest.v1+json") == 0 ||
		      strcmp(mt, "application/vnd.docker.distribution.manifest.v2+json") == 0);
}

int image_pick_platform(const struct desc *ds, size_t n, size_t *pick, char **err)
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

static void manifest_free(struct manifest *m)
{
	image_desc_free(&m->config);
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
	if (mt && !image_mt_is_manifest(mt)) {
		rc = fail(err, -ENOTSUP, "unsupported manifest media type \"%s\"", mt);
		goto out;
	}
	rc = desc_parse(json_object_get(root, "config"), "manifest config", &m->config, err);
	if (rc < 0)
		goto out;
	rc = image_descs_parse(json_object_get(root, "layers"), "manifest layers", MAX_LAYERS,
			       &m->layers, &m->nlayers, err);
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
		if (!sha256_digest_ok(pc->diff_ids[pc->ndiff])) {
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

int image_digest_mismatch(char **err, const char *want, const char *got)
{
	return fail(err, -EBADMSG,
		    "blob \"%s\" does not match its digest: its content hashes to \"%s\"", want,
		    got);
}

int image_blob_read(const char *blobdir, const char *digest, int64_t size, size_t max, char **out,
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
	char got[SHA256_DIGEST_LEN + 1];
	sha256_buf(buf, n, got);
	if (strcmp(got, digest) != 0) {
		free(buf);
		return image_digest_mismatch(err, digest, got);
	}
	*out = buf;
	*len = n;
	return 0;
}

int image_blob_copy(const char *src, const char *dst, const char *digest, int64_t size, char **err)
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
	sha256_init(&h);
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
		sha256_update(&h, buf, (size_t)r);
		if ((rc = imagefile_write_all(outfd, buf, (size_t)r)) < 0) {
			fail(err, rc, "write \"%s\": %s", dst, strerror(-rc));
			break;
		}
	}
	if (rc == 0 && total != size)
		rc = fail(err, -EBADMSG, "blob \"%s\" has %lld bytes, its descriptor says %lld",
			  digest, (long long)total, (long long)size);
	if (rc == 0) {
		char got[SHA256_DIGEST_LEN + 1];
		sha256_final(&h, got);
		if (strcmp(got, digest) != 0)
			rc = image_digest_mismatch(err, digest, got);
	}
	sha256_free(&h);
	if (rc < 0)
		unlink(dst);
	return rc;
}

/* ---- OCI archives -------------------------------------------------------- */

/* Extract the OCI layout inside the tar ARCHIVE into the new dir DEST. Only
 * oci-layout, index.json and blobs/sha256/<hex> are taken, as plain files
 * created by us: nothing in the archive can make us follow a link. */
static int extract_layout(struct image_store *st, const char *archive_path, const char *dest,
			  char **err)
{
	cleanup_free char *blobs = xasprintf("%s/blobs/sha256", dest);
	int rc = imagefile_mkdir_p(blobs, 0700);
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
		    unpack_clean_path(name, &path) < 0)
			continue;
		int dfd;
		const char *base;
		if (strcmp(path, "oci-layout") == 0 || strcmp(path, "index.json") == 0) {
			dfd = topfd;
			base = path;
		} else if (strncmp(path, "blobs/sha256/", 13) == 0 && sha256_is_hex64(path + 13)) {
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
			if ((rc = imagefile_pwrite_all(fd, p, n, (off_t)off)) < 0) {
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

void image_import_free(struct import *im)
{
	if (im->tmpdir)
		imagefile_rm_rf(im->tmpdir);
	if (im->tmpfd >= 0)
		close(im->tmpfd);
	free(im->tmpdir);
	free(im->layout);
	free(im->blobdir);
	descs_free(im->entries, im->nentries);
	imageref_free(&im->want);
	free(im->index_digest);
	manifest_free(&im->m);
	parsed_config_free(&im->pc);
	for (size_t i = 0; i < im->njb; i++)
		free(im->jb[i].buf);
	strv_free(&im->placed_layers);
	for (size_t i = 0; i < im->nlocks; i++)
		image_flock_drop(im->lock_paths.v[i], im->lock_fds[i]);
	free(im->lock_fds);
	strv_free(&im->lock_paths);
	if (im->prog_mu_init)
		pthread_mutex_destroy(&im->prog_mu);
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
	rc = image_descs_parse(json_object_get(j, "manifests"), "index.json manifests", 4096,
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
	if (imageref_parse(rn, &p, NULL) < 0)
		return false;
	bool ok = imageref_same_repo(&p, want) && p.tag && strcmp(p.tag, want->tag) == 0;
	imageref_free(&p);
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
	int rc = imageref_parse(cand, &im->want, err);
	if (rc < 0)
		image_err_prefix(err,
				 "no image reference given, and the one made from the file name "
				 "and the layout's ref name does not parse");
	else
		im->have_want = true;
	return rc;
}

int image_commit(struct image_store *st, struct import *im, char **err)
{
	cleanup_free char *tblobs = xasprintf("%s/blobs", im->tmpdir);
	DIR *d = opendir(tblobs);
	struct dirent *de;
	int rc = 0;
	/* Nothing new (a pull finding the image unchanged): no sync needed. */
	bool news = im->placed_layers.n > 0;
	while (!news && d && (de = readdir(d)))
		news = sha256_is_hex64(de->d_name);
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
		if (!sha256_is_hex64(de->d_name))
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
	if (news && ((rc = imagefile_fsync_path(st->blobs)) < 0 ||
		     (rc = imagefile_fsync_path(st->layers)) < 0))
		return fail(err, rc, "sync \"%s\": %s", st->root, strerror(-rc));

	struct guard g = {0};
	if ((rc = refs_enter(st, &g, err)) < 0)
		return rc;
	struct refs r;
	cleanup_free char *key = imageref_key(&im->want);
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
			image_guard_leave(&g);
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
	image_guard_leave(&g);
	return rc;
}

int image_make_tmpdir(struct image_store *st, struct import *im, char **err)
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

static int do_import(struct image_store *st, struct import *im, const char *path, char **err)
{
	int rc;
	if ((rc = image_make_tmpdir(st, im, err)) < 0)
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
	return imagepull_ingest(st, im, &im->entries[pick], err);
}

int image_import(struct image_store *st, const char *path, const char *ref, char **err)
{
	struct import im = {.tmpfd = -1};
	struct guard g = {0};
	int rc;

	*err = NULL;
	if (ref) {
		if ((rc = imageref_parse(ref, &im.want, err)) < 0)
			return rc;
		im.have_want = true;
	}
	if ((rc = image_guard_enter(st, false, &g, err)) == 0) {
		rc = do_import(st, &im, path, err);
		/* Temporary files go before the store is left to a remover. */
		image_import_free(&im);
		image_guard_leave(&g);
	} else {
		image_import_free(&im);
	}
	if (rc < 0)
		image_err_prefix(err, "import \"%s\"", path);
	return rc;
}

/* ---- lookup ------------------------------------------------------------ */

/* The record for WANT: an exact "name:tag" key, or for a reference with a
 * digest any key of the same repository whose manifest or index has it. */
static const struct ref_rec *refs_find(const struct refs *r, const struct ref_parts *want)
{
	cleanup_free char *key = imageref_key(want);
	for (size_t i = 0; i < r->n; i++) {
		if (!want->digest) {
			if (strcmp(r->v[i].key, key) == 0)
				return &r->v[i];
			continue;
		}
		struct ref_parts p;
		if (imageref_parse(r->v[i].key, &p, NULL) < 0)
			continue;
		bool same = imageref_same_repo(&p, want);
		imageref_free(&p);
		if (same && (strcmp(r->v[i].digest, want->digest) == 0 ||
			     (r->v[i].index && strcmp(r->v[i].index, want->digest) == 0)))
			return &r->v[i];
	}
	return NULL;
}

int image_present(struct image_store *st, const char *ref, bool *pulled, char **err)
{
	struct ref_parts want;
	struct refs r = {0};
	*err = NULL;
	int rc = imageref_parse(ref, &want, err);
	if (rc < 0)
		return rc;
	if ((rc = refs_load(st, &r, err)) == 0) {
		const struct ref_rec *rec = refs_find(&r, &want);
		rc = rec != NULL;
		if (rec && pulled)
			*pulled = rec->pulled;
	}
	refs_free(&r);
	imageref_free(&want);
	return rc;
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
	int rc = image_blob_read(st->blobs, digest, -1, MAX_JSON_BLOB, &buf, &len, err);
	if (rc == 0)
		rc = manifest_parse(buf, len, &m, err);
	free(buf);
	buf = NULL;
	if (rc == 0)
		rc = image_blob_read(st->blobs, m.config.digest, m.config.size, MAX_CONFIG_BLOB,
				     &buf, &len, err);
	if (rc == 0)
		rc = config_parse(buf, len, &pc, err);
	free(buf);
	if (rc == 0 && pc.ndiff != m.nlayers)
		rc = fail(err, -EINVAL, "manifest and config disagree on the number of layers");
	if (rc < 0) {
		image_err_prefix(err, "image \"%s\" is damaged in the store", ref);
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
		if (!imagefile_exists(info->layer_dirs[i]) && rc == 0)
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
	cleanup_free char *s = imageref_format(p, true);
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
	int rc = imageref_parse(ref, &want, err);
	if (rc < 0)
		return rc;
	if ((rc = image_guard_enter(st, false, &g, err)) < 0)
		goto out;
	if ((rc = refs_load(st, &r, err)) < 0)
		goto out;
	const struct ref_rec *rec = refs_find(&r, &want);
	if (!rec) {
		rc = not_found(err, &want);
		goto out;
	}
	name = imageref_format(&want, true);
	rc = info_build(st, name, rec->digest, out, err);
out:
	image_guard_leave(&g);
	refs_free(&r);
	imageref_free(&want);
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
	if (image_guard_enter(st, false, &g, &err) == 0) {
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
		if (image_blob_read(st->blobs, r.v[i].digest, -1, MAX_JSON_BLOB, &buf, &len, &e2) ==
			0 &&
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
	image_guard_leave(&g);
	refs_free(&r);
	return sb_steal(&sb);
}

/* ---- remove ------------------------------------------------------------ */

int image_str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool in_set(const struct strv *set, const char *s)
{
	return set->n && bsearch(&s, set->v, set->n, sizeof(char *), image_str_cmp);
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
		int rc =
		    image_blob_read(st->blobs, r->v[i].digest, -1, MAX_JSON_BLOB, &buf, &len, err);
		if (rc == 0)
			rc = manifest_parse(buf, len, &m, err);
		free(buf);
		if (rc < 0) {
			image_err_prefix(err, "image \"%s\"", r->v[i].key);
			return rc;
		}
		strv_push(blobs, m.config.digest + 7);
		for (size_t k = 0; k < m.nlayers; k++)
			strv_push(blobs, m.layers[k].digest + 7);
		rc = image_blob_read(st->blobs, m.config.digest, m.config.size, MAX_CONFIG_BLOB,
				     &buf, &len, err);
		manifest_free(&m);
		if (rc == 0)
			rc = config_parse(buf, len, &pc, err);
		free(buf);
		if (rc < 0) {
			image_err_prefix(err, "image \"%s\"", r->v[i].key);
			return rc;
		}
		for (size_t k = 0; k < pc.ndiff; k++)
			strv_push(layers, pc.diff_ids[k] + 7);
		parsed_config_free(&pc);
	}
	if (blobs->n)
		qsort(blobs->v, blobs->n, sizeof(char *), image_str_cmp);
	if (layers->n)
		qsort(layers->v, layers->n, sizeof(char *), image_str_cmp);
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
		if (sha256_is_hex64(de->d_name) && !in_set(blobs, de->d_name))
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
		if (sha256_is_hex64(de->d_name) && !in_set(layers, de->d_name))
			strv_push(&names, de->d_name);
	if (d)
		closedir(d);
	for (size_t i = 0; i < names.n; i++) {
		cleanup_free char *from = xasprintf("%s/%s", st->layers, names.v[i]);
		cleanup_free char *to = xasprintf("%s/gc-%s", st->tmp, names.v[i]);
		imagefile_rm_rf(to);
		if (rename(from, to) == 0)
			imagefile_rm_rf(to);
	}
	strv_free(&names);
	imagefile_fsync_path(st->blobs);
	imagefile_fsync_path(st->layers);
}

int image_remove(struct image_store *st, const char *ref, bool in_use, char **err)
{
	struct ref_parts want;
	struct guard g = {0}, rg = {0};
	struct refs r = {0};
	struct strv blobs = {0}, layers = {0};
	cleanup_free char *gc_err = NULL;
	*err = NULL;
	int rc = imageref_parse(ref, &want, err);
	if (rc < 0)
		return rc;
	cleanup_free char *name = imageref_format(&want, true);
	if (in_use) {
		rc = fail(err, -EBUSY, "remove image \"%s\": it is in use by a pod", name);
		goto out;
	}
	if ((rc = image_guard_enter(st, true, &g, err)) < 0 ||
	    (rc = refs_enter(st, &rg, err)) < 0 || (rc = refs_load(st, &r, err)) < 0) {
		image_err_prefix(err, "remove image \"%s\"", name);
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
		image_err_prefix(err, "remove image \"%s\"", name);
		goto out;
	}
	image_guard_leave(&rg);
	/* The reference is gone; what it alone used goes too. If any other
	 * image is unreadable, keep everything rather than guess. */
	if (gc_mark(st, &r, &blobs, &layers, &gc_err) == 0)
		gc_sweep(st, &blobs, &layers);
out:
	image_guard_leave(&rg);
	image_guard_leave(&g);
	refs_free(&r);
	strv_free(&blobs);
	strv_free(&layers);
	imageref_free(&want);
	return rc;
}

/* ---- the parsers, for imagepull.c and tests (image_parse.h) ------------- */

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
	int rc = image_descs_parse(json_object_get(j, "manifests"), "image index manifests", 4096,
				   ds, n, err);
	json_decref(j);
	if (rc == 0)
		rc = image_pick_platform(*ds, *n, pick, err);
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
	return unpack_compression(mt) != UNPACK_COMP_BAD;
}
