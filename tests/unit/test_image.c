/* test_image.c: unit tests for backend/image.c. Builds OCI layouts by hand
 * (layers written with libarchive, blobs hashed here) in a temp dir and
 * imports them, hostile ones included. Needs root: layers carry devices,
 * ownership and trusted.* xattrs. */
#include "backend/image.h"
#include "backend/image_int.h"
#include "backend/util.h"
#include "tests/unit/testhelp.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#define MTIME 1700000000

static char *top; /* everything the tests make lives here */

/* ---- small helpers ----------------------------------------------------- */

static void sha_hex(const void *p, size_t n, char out[72])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	strcpy(out, "sha256:");
	for (unsigned int i = 0; i < len; i++)
		sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		abort();
	}
	if (n && fwrite(p, 1, n, f) != n)
		abort();
	fclose(f);
}

static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t len;
	if (util_read_file(path, 1 << 20, &buf, &len) < 0)
		return NULL;
	return buf;
}

/* With TEST_IMAGE_VERBOSE set, show the messages the store produced. */
static void note(const char *msg)
{
	if (msg && getenv("TEST_IMAGE_VERBOSE"))
		fprintf(stderr, "  # %s\n", msg);
}

/* A fresh directory under TOP. */
static char *fresh_dir(const char *name)
{
	static int seq;
	char *d = xasprintf("%s/%s-%d", top, name, ++seq);
	if (mkdir(d, 0755) < 0) {
		perror(d);
		abort();
	}
	return d;
}

/* Entries in DIR, "." and ".." aside; -1 if it cannot be read. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* The store under STATE holds nothing at all: no blob, layer, temp file. */
static bool store_empty(const char *state)
{
	cleanup_free char *b = xasprintf("%s/images/blobs/sha256", state);
	cleanup_free char *l = xasprintf("%s/images/layers", state);
	cleanup_free char *t = xasprintf("%s/images/tmp", state);
	return count_entries(b) == 0 && count_entries(l) == 0 && count_entries(t) == 0;
}

static bool strv_eq(char **v, const char *const *want)
{
	size_t i;
	if (!v)
		return false;
	for (i = 0; want[i]; i++)
		if (!v[i] || strcmp(v[i], want[i]) != 0)
			return false;
	return v[i] == NULL;
}

/* ---- building layers --------------------------------------------------- */

/* One tar entry: f file (DATA), z zero-filled file (SIZE bytes), d dir,
 * l symlink (DATA = target), h hardlink (DATA = target), c char device
 * (SIZE = major*256+minor), p fifo. */
struct tent {
	char type;
	const char *path;
	const char *data;
	unsigned mode;
	int uid, gid;
	size_t size;
};

enum { C_NONE, C_GZIP, C_ZSTD, C_DOCKER /* gzip, Docker's media type */ };

static la_ssize_t sb_write_cb(struct archive *a, void *arg, const void *p, size_t n)
{
	(void)a;
	sb_add(arg, p, n);
	return (la_ssize_t)n;
}

static void make_tar(const struct tent *ents, size_t n, struct strbuf *out)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	sb_init(out);
	archive_write_open(a, out, NULL, sb_write_cb, NULL);
	for (size_t i = 0; i < n; i++) {
		const struct tent *t = &ents[i];
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, t->path);
		archive_entry_set_mtime(e, MTIME, 0);
		archive_entry_set_uid(e, t->uid);
		archive_entry_set_gid(e, t->gid);
		unsigned mode = t->mode;
		char *zeros = NULL;
		const char *data = NULL;
		size_t size = 0;
		switch (t->type) {
		case 'f':
			archive_entry_set_filetype(e, AE_IFREG);
			data = t->data;
			size = strlen(t->data);
			break;
		case 'z':
			archive_entry_set_filetype(e, AE_IFREG);
			zeros = xcalloc(1, t->size);
			data = zeros;
			size = t->size;
			break;
		case 'd':
			archive_entry_set_filetype(e, AE_IFDIR);
			break;
		case 'l':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, t->data);
			mode = mode ? mode : 0777;
			break;
		case 'h':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, t->data);
			break;
		case 'c':
			archive_entry_set_filetype(e, AE_IFCHR);
			archive_entry_set_rdevmajor(e, (dev_t)(t->size >> 8));
			archive_entry_set_rdevminor(e, (dev_t)(t->size & 255));
			break;
		case 'p':
			archive_entry_set_filetype(e, AE_IFIFO);
			break;
		}
		archive_entry_set_perm(e, mode ? mode : 0644);
		archive_entry_set_size(e, (la_int64_t)size);
		if (archive_write_header(a, e) != ARCHIVE_OK) {
			fprintf(stderr, "make_tar: %s\n", archive_error_string(a));
			abort();
		}
		if (size)
			archive_write_data(a, data, size);
		free(zeros);
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
}

static void compress(const struct strbuf *in, int comp, struct strbuf *out)
{
	sb_init(out);
	if (comp == C_NONE) {
		sb_add(out, in->buf, in->len);
		return;
	}
	struct archive *a = archive_write_new();
	archive_write_set_format_raw(a);
	if (comp == C_GZIP || comp == C_DOCKER)
		archive_write_add_filter_gzip(a);
	else
		archive_write_add_filter_zstd(a);
	archive_write_set_bytes_in_last_block(a, 1);
	archive_write_open(a, out, NULL, sb_write_cb, NULL);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "layer");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_size(e, (la_int64_t)in->len);
	archive_write_header(a, e);
	archive_write_data(a, in->buf, in->len);
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
}

static const char *layer_mt(int comp)
{
	if (comp == C_DOCKER)
		return "application/vnd.docker.image.rootfs.diff.tar.gzip";
	return comp == C_GZIP	? "application/vnd.oci.image.layer.v1.tar+gzip"
	       : comp == C_ZSTD ? "application/vnd.oci.image.layer.v1.tar+zstd"
				: "application/vnd.oci.image.layer.v1.tar";
}

/* ---- building layouts -------------------------------------------------- */

struct layer_spec {
	const struct tent *ents;
	size_t n;
	int comp;
};

struct built_layer {
	char digest[72], diff_id[72];
};

struct img_opts {
	const char *config;	 /* JSON text of the "config" object, or NULL */
	const char *arch;	 /* default amd64 */
	const char *bad_diff_id; /* replaces diff_ids[0] */
	bool corrupt_layer0;	 /* flip a byte of layer 0's blob (size kept) */
	char corrupt_got[72];	 /* out: what the corrupted blob hashes to */
};

struct layout {
	char *dir;
	json_t *manifests;
};

static void layout_init(struct layout *l, const char *dir)
{
	l->dir = xstrdup(dir);
	l->manifests = json_array();
	cleanup_free char *b = xasprintf("%s/blobs/sha256", dir);
	cleanup_free char *cmd = xasprintf("mkdir -p '%s'", b);
	if (system(cmd) != 0)
		abort();
	cleanup_free char *ol = xasprintf("%s/oci-layout", dir);
	write_file(ol, "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
}

static void put_blob(struct layout *l, const void *p, size_t n, char digest[72])
{
	sha_hex(p, n, digest);
	cleanup_free char *path = xasprintf("%s/blobs/sha256/%s", l->dir, digest + 7);
	write_file(path, p, n);
}

static json_t *put_json(struct layout *l, json_t *j, const char *mt)
{
	char *s = json_dumps(j, JSON_COMPACT);
	char d[72];
	put_blob(l, s, strlen(s), d);
	json_t *desc =
	    json_pack("{s:s,s:s,s:I}", "mediaType", mt, "digest", d, "size", (json_int_t)strlen(s));
	free(s);
	json_decref(j);
	return desc;
}

/* Add an image; returns its manifest descriptor (new reference). */
static json_t *image_add(struct layout *l, const struct layer_spec *ls, size_t nl,
			 struct img_opts *o, struct built_layer *bl)
{
	json_t *layers = json_array(), *diffs = json_array();
	for (size_t i = 0; i < nl; i++) {
		struct strbuf tar, blob;
		make_tar(ls[i].ents, ls[i].n, &tar);
		compress(&tar, ls[i].comp, &blob);
		sha_hex(tar.buf, tar.len, bl[i].diff_id);
		put_blob(l, blob.buf, blob.len, bl[i].digest);
		if (i == 0 && o && o->corrupt_layer0) {
			blob.buf[blob.len / 2] ^= 0x55;
			sha_hex(blob.buf, blob.len, o->corrupt_got);
			cleanup_free char *p =
			    xasprintf("%s/blobs/sha256/%s", l->dir, bl[i].digest + 7);
			write_file(p, blob.buf, blob.len);
		}
		json_array_append_new(
		    layers, json_pack("{s:s,s:s,s:I}", "mediaType", layer_mt(ls[i].comp), "digest",
				      bl[i].digest, "size", (json_int_t)blob.len));
		const char *d = (i == 0 && o && o->bad_diff_id) ? o->bad_diff_id : bl[i].diff_id;
		json_array_append_new(diffs, json_string(d));
		sb_free(&tar);
		sb_free(&blob);
	}
	json_t *cfg =
	    json_pack("{s:s,s:s,s:{s:s,s:o}}", "architecture", o && o->arch ? o->arch : "amd64",
		      "os", "linux", "rootfs", "type", "layers", "diff_ids", diffs);
	if (o && o->config) {
		json_t *c = json_loads(o->config, 0, NULL);
		if (!c)
			abort();
		json_object_set_new(cfg, "config", c);
	}
	json_t *cdesc = put_json(l, cfg, "application/vnd.oci.image.config.v1+json");
	json_t *m = json_pack("{s:i,s:s,s:o,s:o}", "schemaVersion", 2, "mediaType",
			      "application/vnd.oci.image.manifest.v1+json", "config", cdesc,
			      "layers", layers);
	return put_json(l, m, "application/vnd.oci.image.manifest.v1+json");
}

static void layout_add(struct layout *l, json_t *desc, const char *ref_name)
{
	if (ref_name)
		json_object_set_new(
		    desc, "annotations",
		    json_pack("{s:s}", "org.opencontainers.image.ref.name", ref_name));
	json_array_append_new(l->manifests, desc);
}

static void layout_finish(struct layout *l)
{
	json_t *ix = json_pack("{s:i,s:o}", "schemaVersion", 2, "manifests", l->manifests);
	char *s = json_dumps(ix, JSON_COMPACT);
	cleanup_free char *p = xasprintf("%s/index.json", l->dir);
	write_file(p, s, strlen(s));
	free(s);
	json_decref(ix);
	free(l->dir);
}

/* A one-image layout in a fresh dir; returns the dir. */
static char *one_image(const char *name, const struct layer_spec *ls, size_t nl, struct img_opts *o,
		       struct built_layer *bl, char mdigest[72])
{
	struct layout l;
	char *dir = fresh_dir(name);
	layout_init(&l, dir);
	json_t *d = image_add(&l, ls, nl, o, bl);
	if (mdigest)
		strcpy(mdigest, json_string_value(json_object_get(d, "digest")));
	layout_add(&l, d, "latest");
	layout_finish(&l);
	return dir;
}

static struct image_store *open_store(const char *state)
{
	struct image_store *st = NULL;
	cleanup_free char *err = NULL;
	if (image_store_open(state, &st, &err) < 0) {
		fprintf(stderr, "image_store_open: %s\n", err);
		abort();
	}
	return st;
}

/* ---- reference normalization ------------------------------------------- */

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

TEST(normalize_table)
{
	static const struct {
		const char *in, *want; /* want NULL: invalid, ERR must be in the message */
		const char *err;
	} cases[] = {
	    {"busybox", "docker.io/library/busybox:latest", NULL},
	    {"busybox:1.36", "docker.io/library/busybox:1.36", NULL},
	    {"library/busybox", "docker.io/library/busybox:latest", NULL},
	    {"docker.io/busybox", "docker.io/library/busybox:latest", NULL},
	    {"index.docker.io/library/busybox:x", "docker.io/library/busybox:x", NULL},
	    {"arisu1000/simple-container-app", "docker.io/arisu1000/simple-container-app:latest",
	     NULL},
	    {"localhost/foo", "localhost/foo:latest", NULL},
	    {"localhost:5000/a/b", "localhost:5000/a/b:latest", NULL},
	    {"127.0.0.1:5000/tiny/busybox:v1", "127.0.0.1:5000/tiny/busybox:v1", NULL},
	    {"quay.io/coreos/etcd:v3.5.0", "quay.io/coreos/etcd:v3.5.0", NULL},
	    {"registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9", NULL},
	    {"foo:5000", "docker.io/library/foo:5000", NULL},
	    {"a/b/c/d", "docker.io/a/b/c/d:latest", NULL},
	    {"my_app.v2__x--y", "docker.io/library/my_app.v2__x--y:latest", NULL},
	    {"[::1]:5000/foo", "[::1]:5000/foo:latest", NULL},
	    {"busybox:_T.a-g", "docker.io/library/busybox:_T.a-g", NULL},
	    {"busybox@sha256:" H64, "docker.io/library/busybox@sha256:" H64, NULL},
	    {"busybox:1.36@sha256:" H64, "docker.io/library/busybox:1.36@sha256:" H64, NULL},
	    {"Example.COM/foo", "Example.COM/foo:latest", NULL},
	    {"", NULL, "empty reference"},
	    {"Busybox", NULL, "invalid image name \"Busybox\": repository name must be lowercase"},
	    {"quay.io/Foo/bar", NULL, "must be lowercase"},
	    {"busy box", NULL, "whitespace"},
	    {" busybox", NULL, "whitespace"},
	    {"a//b", NULL, "invalid image name \"a//b\": repository path has an empty component"},
	    {"foo/", NULL, "empty component"},
	    {"/foo", NULL, "empty component"},
	    {"busybox:", NULL, "invalid tag \"\""},
	    {"busybox:-bad", NULL, "invalid tag \"-bad\""},
	    {"busybox:a/b", NULL, "invalid"},
	    {"busybox:"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	     NULL, "invalid tag"},
	    {"busybox@sha256:abc", NULL, "invalid digest \"sha256:abc\""},
	    {"busybox@sha512:" H64 H64, NULL, "unsupported digest algorithm"},
	    {"busybox@", NULL, "invalid digest"},
	    {"-foo", NULL, "invalid repository path component \"-foo\""},
	    {"foo-", NULL, "invalid repository path component"},
	    {"foo..bar", NULL, "invalid repository path component"},
	    {":tag", NULL, "repository name is empty"},
	    {"my-.registry.io/x", NULL, "invalid registry host"},
	    {H64, NULL, "image id"},
	    {"caf\xc3\xa9", NULL, "non-ascii"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *err = NULL;
		char *got = image_normalize_ref(cases[i].in, &err);
		if (cases[i].want) {
			CHECK_STREQ(got, cases[i].want);
			if (err)
				fprintf(stderr, "  case \"%s\": %s\n", cases[i].in, err);
			CHECK(err == NULL);
		} else {
			if (got)
				fprintf(stderr, "  case \"%s\": accepted as \"%s\"\n", cases[i].in,
					got);
			CHECK(got == NULL);
			CHECK_CONTAINS(err, cases[i].err);
		}
		free(got);
		free(err);
	}
	/* Normalizing twice changes nothing. */
	char *err = NULL;
	char *once = image_normalize_ref("busybox:1.36@sha256:" H64, &err);
	char *twice = image_normalize_ref(once, &err);
	CHECK_STREQ(once, twice);
	free(once);
	free(twice);
	note(err);
	free(err);
}

/* ---- a good two-layer image -------------------------------------------- */

static const struct tent base_ents[] = {
    {'d', "./", NULL, 0755, 0, 0, 0},
    {'d', "etc/", NULL, 0755, 0, 0, 0},
    {'f', "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0644, 0, 0, 0},
    {'d', "bin", NULL, 0755, 0, 0, 0},
    {'f', "bin/tool", "#!tool\n", 04755, 0, 0, 0},
    {'l', "bin/sh", "tool", 0, 0, 0, 0},
    {'l', "bin/abs", "/etc/passwd", 0, 0, 0, 0},
    {'h', "bin/tool2", "bin/tool", 0, 0, 0, 0},
    {'p', "run/fifo", NULL, 0600, 0, 0, 0},
    {'c', "dev/null", NULL, 0666, 0, 0, (1 << 8) | 3},
    {'d', "opq", NULL, 0755, 0, 0, 0},
    {'f', "opq/a", "a\n", 0644, 0, 0, 0},
    {'d', "data", NULL, 0750, 1000, 1001, 0},
    {'f', "data/own", "mine\n", 0640, 1000, 1001, 0},
    {'f', "gone", "soon gone\n", 0644, 0, 0, 0},
    {'f', "/abs/file", "absolute\n", 0644, 0, 0, 0},
};

static const struct tent top_ents[] = {
    {'f', ".wh.gone", "", 0, 0, 0, 0},	   {'d', "opq", NULL, 0755, 0, 0, 0},
    {'f', "opq/b", "b\n", 0644, 0, 0, 0},  {'f', "opq/.wh..wh..opq", "", 0, 0, 0, 0},
    {'f', "newdir/.wh.x", "", 0, 0, 0, 0},
};

static const char good_config[] =
    "{\"Entrypoint\":[\"/bin/tool\"],\"Cmd\":[\"-v\",\"x y\"],"
    "\"Env\":[\"PATH=/bin\",\"A=b\"],\"WorkingDir\":\"/data\",\"User\":\"1000:1001\","
    "\"StopSignal\":\"SIGQUIT\",\"ExposedPorts\":{\"80/tcp\":{}}}";

static bool is_mtime(const char *path, time_t t)
{
	struct stat s;
	return lstat(path, &s) == 0 && s.st_mtim.tv_sec == t;
}

static bool is_whiteout(const char *path)
{
	struct stat s;
	return lstat(path, &s) == 0 && S_ISCHR(s.st_mode) && s.st_rdev == makedev(0, 0) &&
	       s.st_uid == 0 && s.st_gid == 0;
}

static bool is_opaque(const char *path)
{
	char v[8] = "";
	ssize_t n = lgetxattr(path, "trusted.overlay.opaque", v, sizeof(v));
	return n == 1 && v[0] == 'y';
}

TEST(import_good_image)
{
	struct layer_spec ls[] = {
	    {base_ents, sizeof(base_ents) / sizeof(base_ents[0]), C_GZIP},
	    {top_ents, sizeof(top_ents) / sizeof(top_ents[0]), C_ZSTD},
	};
	struct built_layer bl[2];
	struct img_opts o = {.config = good_config};
	char md[72];
	cleanup_free char *layout = one_image("good", ls, 2, &o, bl, md);
	cleanup_free char *state = fresh_dir("state");
	struct image_store *st = open_store(state);
	char *err = NULL;

	int rc = image_import(st, layout, "example.com/test/app:v1", &err);
	CHECK(rc == 0);
	if (err)
		fprintf(stderr, "  %s\n", err);
	free(err);

	struct image_info *info = NULL;
	rc = image_lookup(st, "example.com/test/app:v1", &info, &err);
	CHECK(rc == 0 && info);
	if (!info) {
		fprintf(stderr, "  %s\n", err);
		free(err);
		image_store_close(st);
		return;
	}
	CHECK_STREQ(info->ref, "example.com/test/app:v1");
	CHECK_STREQ(info->digest, md);
	CHECK(info->nlayers == 2);
	CHECK(info->size > 0);
	CHECK(strncmp(info->config_digest, "sha256:", 7) == 0);
	cleanup_free char *l0 = xasprintf("%s/images/layers/%s", state, bl[0].diff_id + 7);
	cleanup_free char *l1 = xasprintf("%s/images/layers/%s", state, bl[1].diff_id + 7);
	char real0[PATH_MAX], real1[PATH_MAX];
	CHECK(realpath(l0, real0) && realpath(l1, real1));
	CHECK_STREQ(info->layer_dirs[0], real0);
	CHECK_STREQ(info->layer_dirs[1], real1);
	CHECK(info->layer_dirs[0][0] == '/');
	CHECK(info->layer_dirs[2] == NULL);

	/* Config. */
	struct image_config *c = &info->config;
	CHECK(c->has_entrypoint && c->has_cmd);
	CHECK(strv_eq(c->entrypoint, (const char *const[]){"/bin/tool", NULL}));
	CHECK(strv_eq(c->cmd, (const char *const[]){"-v", "x y", NULL}));
	CHECK(strv_eq(c->env, (const char *const[]){"PATH=/bin", "A=b", NULL}));
	CHECK_STREQ(c->working_dir, "/data");
	CHECK_STREQ(c->user, "1000:1001");
	CHECK_STREQ(c->stop_signal, "SIGQUIT");

	/* Base layer contents, with metadata. */
	struct stat s, s2;
	char buf[256];
	char *p = xasprintf("%s/etc/passwd", real0);
	cleanup_free char *content = slurp(p);
	CHECK_STREQ(content, "root:x:0:0:root:/root:/bin/sh\n");
	CHECK(is_mtime(p, MTIME));
	free(p);
	p = xasprintf("%s/bin/tool", real0);
	CHECK(lstat(p, &s) == 0 && S_ISREG(s.st_mode) && (s.st_mode & 07777) == 04755);
	free(p);
	p = xasprintf("%s/bin/tool2", real0);
	CHECK(lstat(p, &s2) == 0 && s2.st_ino == s.st_ino && s2.st_nlink == 2);
	free(p);
	p = xasprintf("%s/bin/sh", real0);
	ssize_t n = readlink(p, buf, sizeof(buf) - 1);
	CHECK(n == 4 && memcmp(buf, "tool", 4) == 0);
	CHECK(is_mtime(p, MTIME));
	free(p);
	p = xasprintf("%s/bin/abs", real0);
	n = readlink(p, buf, sizeof(buf) - 1);
	CHECK(n == 11 && memcmp(buf, "/etc/passwd", 11) == 0);
	free(p);
	p = xasprintf("%s/run/fifo", real0);
	CHECK(lstat(p, &s) == 0 && S_ISFIFO(s.st_mode) && (s.st_mode & 0777) == 0600);
	free(p);
	p = xasprintf("%s/dev/null", real0);
	CHECK(lstat(p, &s) == 0 && S_ISCHR(s.st_mode) && s.st_rdev == makedev(1, 3) &&
	      (s.st_mode & 0777) == 0666);
	free(p);
	p = xasprintf("%s/data", real0);
	CHECK(lstat(p, &s) == 0 && S_ISDIR(s.st_mode) && s.st_uid == 1000 && s.st_gid == 1001 &&
	      (s.st_mode & 0777) == 0750);
	CHECK(is_mtime(p, MTIME)); /* set after its child was created */
	free(p);
	p = xasprintf("%s/data/own", real0);
	CHECK(lstat(p, &s) == 0 && s.st_uid == 1000 && (s.st_mode & 0777) == 0640);
	free(p);
	p = xasprintf("%s/abs/file", real0);
	CHECK(lstat(p, &s) == 0 && S_ISREG(s.st_mode));
	free(p);
	CHECK(lstat(real0, &s) == 0 && (s.st_mode & 0777) == 0755 && is_mtime(real0, MTIME));

	/* Top layer: whiteouts as overlayfs expects them. */
	p = xasprintf("%s/gone", real1);
	CHECK(is_whiteout(p));
	free(p);
	p = xasprintf("%s/.wh.gone", real1);
	CHECK(lstat(p, &s) < 0);
	free(p);
	p = xasprintf("%s/opq", real1);
	CHECK(is_opaque(p));
	free(p);
	p = xasprintf("%s/opq/b", real1);
	CHECK(lstat(p, &s) == 0);
	free(p);
	p = xasprintf("%s/opq/.wh..wh..opq", real1);
	CHECK(lstat(p, &s) < 0);
	free(p);
	p = xasprintf("%s/newdir/x", real1);
	CHECK(is_whiteout(p));
	free(p);
	p = xasprintf("%s/opq", real0);
	CHECK(!is_opaque(p));
	free(p);
	image_info_free(info);
	info = NULL;

	/* By digest, and by a name that does not exist. */
	cleanup_free char *bydigest = xasprintf("example.com/test/app@%s", md);
	rc = image_lookup(st, bydigest, &info, &err);
	CHECK(rc == 0 && info && strcmp(info->digest, md) == 0);
	image_info_free(info);
	info = NULL;
	free(err);
	cleanup_free char *otherrepo = xasprintf("example.com/other/app@%s", md);
	rc = image_lookup(st, otherrepo, &info, &err);
	CHECK(rc == -ENOENT && info == NULL);
	free(err);
	rc = image_lookup(st, "docker.io/x/y:lastest", &info, &err);
	CHECK(rc == -ENOENT && info == NULL);
	CHECK_STREQ(err, "image \"docker.io/x/y:lastest\" is not in the local store "
			 "(podfs image import PATH REF adds it)");
	free(err);
	rc = image_lookup(st, "x/Y", &info, &err);
	CHECK(rc == -EINVAL);
	CHECK_CONTAINS(err, "must be lowercase");
	note(err);
	free(err);

	/* The table. */
	char *table = image_list_table(st);
	CHECK_CONTAINS(table, "IMAGE");
	CHECK_CONTAINS(table, "DIGEST");
	CHECK_CONTAINS(table, "SIZE");
	CHECK_CONTAINS(table, "example.com/test/app:v1");
	char short12[13];
	memcpy(short12, md + 7, 12);
	short12[12] = '\0';
	CHECK_CONTAINS(table, short12);
	CHECK(strstr(table, md + 7) == NULL);
	CHECK_CONTAINS(table, "B\n");
	free(table);

	/* refs.json survives a reopen. */
	image_store_close(st);
	st = open_store(state);
	rc = image_lookup(st, "example.com/test/app:v1", &info, &err);
	CHECK(rc == 0);
	image_info_free(info);
	info = NULL;
	free(err);
	cleanup_free char *refs = xasprintf("%s/images/refs.json", state);
	cleanup_free char *rj = slurp(refs);
	CHECK_CONTAINS(rj, "example.com/test/app:v1");
	CHECK_CONTAINS(rj, md);

	/* Removal: refused while in use, then everything goes. */
	rc = image_remove(st, "example.com/test/app:v1", true, &err);
	CHECK(rc == -EBUSY);
	CHECK_CONTAINS(err, "in use");
	note(err);
	free(err);
	rc = image_lookup(st, "example.com/test/app:v1", &info, &err);
	CHECK(rc == 0);
	image_info_free(info);
	info = NULL;
	free(err);
	rc = image_remove(st, "example.com/test/app:v1", false, &err);
	CHECK(rc == 0);
	free(err);
	rc = image_lookup(st, "example.com/test/app:v1", &info, &err);
	CHECK(rc == -ENOENT);
	free(err);
	CHECK(store_empty(state));
	rc = image_remove(st, "example.com/test/app:v1", false, &err);
	CHECK(rc == -ENOENT);
	CHECK_CONTAINS(err, "not in the local store");
	note(err);
	free(err);
	image_store_close(st);
}

/* ---- hostile layers ---------------------------------------------------- */

/* Import a one-layer image made of ENTS; return rc and the message. */
static int import_layer(const char *state, const struct tent *ents, size_t n, char **err)
{
	struct layer_spec ls = {ents, n, C_GZIP};
	struct built_layer bl;
	cleanup_free char *layout = one_image("hostile", &ls, 1, NULL, &bl, NULL);
	struct image_store *st = open_store(state);
	int rc = image_import(st, layout, "example.com/hostile:1", err);
	struct image_info *info = NULL;
	char *e2 = NULL;
	if (rc < 0)
		CHECK(image_lookup(st, "example.com/hostile:1", &info, &e2) == -ENOENT);
	free(e2);
	image_info_free(info);
	image_store_close(st);
	return rc;
}

TEST(hostile_dotdot)
{
	static const struct tent ents[] = {
	    {'f', "ok", "fine\n", 0644, 0, 0, 0},
	    {'f', "../etc/passwd", "pwned\n", 0644, 0, 0, 0},
	};
	cleanup_free char *state = fresh_dir("state");
	char *err = NULL;
	int rc = import_layer(state, ents, 2, &err);
	CHECK(rc < 0);
	CHECK_CONTAINS(err, "entry \"../etc/passwd\"");
	CHECK_CONTAINS(err, "\"..\"");
	CHECK_CONTAINS(err, "import \"");
	note(err);
	free(err);
	CHECK(store_empty(state));

	/* ".." in the middle too. */
	static const struct tent mid[] = {{'f', "a/../../x", "x", 0644, 0, 0, 0}};
	err = NULL;
	rc = import_layer(state, mid, 1, &err);
	CHECK(rc < 0);
	CHECK_CONTAINS(err, "escapes the layer");
	note(err);
	free(err);
	CHECK(store_empty(state));
}

TEST(absolute_path_is_relative_to_root)
{
	static const struct tent ents[] = {
	    {'f', "/etc/podfs-image-test-abs", "x\n", 0644, 0, 0, 0},
	    {'f', "//./usr/./podfs-image-test-abs", "y\n", 0644, 0, 0, 0},
	};
	struct stat s;
	CHECK(lstat("/etc/podfs-image-test-abs", &s) < 0);
	cleanup_free char *state = fresh_dir("state");
	char *err = NULL;
	int rc = import_layer(state, ents, 2, &err);
	CHECK(rc == 0);
	free(err);
	CHECK(lstat("/etc/podfs-image-test-abs", &s) < 0);
	CHECK(lstat("/usr/podfs-image-test-abs", &s) < 0);
	struct image_store *st = open_store(state);
	struct image_info *info = NULL;
	rc = image_lookup(st, "example.com/hostile:1", &info, &err);
	CHECK(rc == 0 && info);
	if (info) {
		cleanup_free char *p =
		    xasprintf("%s/etc/podfs-image-test-abs", info->layer_dirs[0]);
		cleanup_free char *q =
		    xasprintf("%s/usr/podfs-image-test-abs", info->layer_dirs[0]);
		cleanup_free char *c = slurp(p);
		CHECK_STREQ(c, "x\n");
		CHECK(lstat(q, &s) == 0);
	}
	image_info_free(info);
	image_store_close(st);
}

TEST(hostile_symlink_parent)
{
	cleanup_free char *outside = fresh_dir("outside");
	struct tent ents[] = {
	    {'l', "evil", outside, 0, 0, 0, 0},
	    {'f', "evil/file", "pwned\n", 0644, 0, 0, 0},
	};
	cleanup_free char *state = fresh_dir("state");
	char *err = NULL;
	int rc = import_layer(state, ents, 2, &err);
	CHECK(rc < 0);
	CHECK_CONTAINS(err, "entry \"evil/file\": parent \"evil\" is a symlink");
	note(err);
	free(err);
	CHECK(count_entries(outside) == 0);
	CHECK(store_empty(state));

	/* Deeper: a symlinked dir in the middle, and a relative escape. */
	struct tent deep[] = {
	    {'d', "a", NULL, 0755, 0, 0, 0},
	    {'l', "a/b", "../../../../../../../../..", 0, 0, 0, 0},
	    {'f', "a/b/tmp/pwned", "pwned\n", 0644, 0, 0, 0},
	};
	err = NULL;
	rc = import_layer(state, deep, 3, &err);
	CHECK(rc < 0);
	CHECK_CONTAINS(err, "parent \"a/b\" is a symlink");
	note(err);
	free(err);
	struct stat s;
	CHECK(lstat("/tmp/pwned", &s) < 0);
	CHECK(store_empty(state));

	/* A hardlink whose target path goes through a symlink. */
	struct tent hl[] = {
	    {'l', "etc", "/etc", 0, 0, 0, 0},
	    {'h', "shadow", "etc/shadow", 0, 0, 0, 0},
	};
	err = NULL;
	rc = import_layer(state, hl, 2, &err);
	CHECK(rc < 0);
	CHECK_CONTAINS(err, "is a symlink");
	note(err);
	free(err);
	CHECK(store_empty(state));
}

TEST(hostile_hardlink)
{
	static const struct tent ents[] = {
	    {'f', "x", "x\n", 0644, 0, 0, 0},
	    {'h', "link", "../../x", 0, 0, 0, 0},
	};
	cleanup_free char *state = fresh_dir("state");
	char *err = NULL;
	int rc = import_layer(state, ents, 2, &err);
	CHECK(rc < 0);
	CHECK_CONTAINS(err, "entry \"link\": hardlink to \"../../x\" points outside the layer");
	note(err);
	free(err);
	CHECK(store_empty(state));

	static const struct tent missing[] = {{'h', "link", "nothere", 0, 0, 0, 0}};
	err = NULL;
	rc = import_layer(state, missing, 1, &err);
	CHECK(rc < 0);
	CHECK_CONTAINS(err, "does not exist");
	note(err);
	free(err);
	CHECK(store_empty(state));

	/* A file under a regular file. */
	static const struct tent notdir[] = {
	    {'f', "a", "a\n", 0644, 0, 0, 0},
	    {'f', "a/b", "b\n", 0644, 0, 0, 0},
	};
	err = NULL;
	rc = import_layer(state, notdir, 2, &err);
	CHECK(rc < 0);
	CHECK_CONTAINS(err, "parent \"a\" is not a directory");
	note(err);
	free(err);
	CHECK(store_empty(state));
}

TEST(blob_digest_mismatch)
{
	static const struct tent ents[] = {{'f', "x", "some content\n", 0644, 0, 0, 0}};
	struct layer_spec ls = {ents, 1, C_GZIP};
	struct built_layer bl;
	struct img_opts o = {.corrupt_layer0 = true};
	cleanup_free char *layout = one_image("corrupt", &ls, 1, &o, &bl, NULL);
	cleanup_free char *state = fresh_dir("state");
	struct image_store *st = open_store(state);
	char *err = NULL;
	int rc = image_import(st, layout, "example.com/corrupt:1", &err);
	CHECK(rc == -EBADMSG);
	CHECK_CONTAINS(err, bl.digest);
	CHECK_CONTAINS(err, o.corrupt_got);
	note(err);
	free(err);
	CHECK(store_empty(state));

	/* A config blob with a wrong size in its descriptor. */
	image_store_close(st);
	st = open_store(state);
	cleanup_free char *ix = xasprintf("%s/index.json", layout);
	cleanup_free char *s = slurp(ix);
	json_t *j = json_loads(s, 0, NULL);
	json_t *m0 = json_array_get(json_object_get(j, "manifests"), 0);
	json_object_set_new(m0, "size",
			    json_integer(json_integer_value(json_object_get(m0, "size")) + 1));
	char *d = json_dumps(j, JSON_COMPACT);
	write_file(ix, d, strlen(d));
	free(d);
	json_decref(j);
	err = NULL;
	rc = image_import(st, layout, "example.com/corrupt:1", &err);
	CHECK(rc == -EBADMSG);
	CHECK_CONTAINS(err, "its descriptor says");
	note(err);
	free(err);
	CHECK(store_empty(state));
	image_store_close(st);
}

TEST(diff_id_mismatch)
{
	static const struct tent ents[] = {{'f', "x", "some content\n", 0644, 0, 0, 0}};
	struct layer_spec ls = {ents, 1, C_GZIP};
	struct built_layer bl;
	static const char bad[] = "sha256:" H64;
	struct img_opts o = {.bad_diff_id = bad};
	cleanup_free char *layout = one_image("diffid", &ls, 1, &o, &bl, NULL);
	cleanup_free char *state = fresh_dir("state");
	struct image_store *st = open_store(state);
	char *err = NULL;
	int rc = image_import(st, layout, "example.com/diffid:1", &err);
	CHECK(rc == -EBADMSG);
	CHECK_CONTAINS(err, bl.diff_id);
	CHECK_CONTAINS(err, bad);
	CHECK_CONTAINS(err, "layer 0");
	note(err);
	free(err);
	CHECK(store_empty(state));
	image_store_close(st);
}

TEST(decompression_bomb)
{
	static const struct tent ents[] = {
	    {'f', "small", "x\n", 0644, 0, 0, 0},
	    {'z', "big", NULL, 0644, 0, 0, 4 << 20},
	};
	struct layer_spec ls = {ents, 2, C_GZIP};
	struct built_layer bl;
	cleanup_free char *layout = one_image("bomb", &ls, 1, NULL, &bl, NULL);
	struct stat s;
	cleanup_free char *blob = xasprintf("%s/blobs/sha256/%s", layout, bl.digest + 7);
	CHECK(stat(blob, &s) == 0 && s.st_size < 64 * 1024); /* it is a bomb */

	cleanup_free char *state = fresh_dir("state");
	setenv("PODFS_MAX_LAYER_BYTES", "1048576", 1);
	struct image_store *st = open_store(state);
	unsetenv("PODFS_MAX_LAYER_BYTES");
	char *err = NULL;
	int rc = image_import(st, layout, "example.com/bomb:1", &err);
	CHECK(rc == -EFBIG);
	CHECK_CONTAINS(err, "more than 1048576 bytes");
	note(err);
	free(err);
	CHECK(store_empty(state));
	image_store_close(st);

	/* Many small entries: the stream counter and the entry limit. */
	struct tent many[400];
	char names[400][16];
	for (int i = 0; i < 400; i++) {
		snprintf(names[i], sizeof(names[i]), "f%03d", i);
		many[i] = (struct tent){'z', names[i], NULL, 0644, 0, 0, 4096};
	}
	struct layer_spec ls2 = {many, 400, C_GZIP};
	cleanup_free char *layout2 = one_image("bomb2", &ls2, 1, NULL, &bl, NULL);
	setenv("PODFS_MAX_LAYER_BYTES", "1048576", 1);
	st = open_store(state);
	unsetenv("PODFS_MAX_LAYER_BYTES");
	err = NULL;
	rc = image_import(st, layout2, "example.com/bomb:2", &err);
	CHECK(rc == -EFBIG);
	CHECK_CONTAINS(err, "the limit");
	note(err);
	free(err);
	CHECK(store_empty(state));
	image_store_close(st);

	setenv("PODFS_MAX_LAYER_ENTRIES", "100", 1);
	st = open_store(state);
	unsetenv("PODFS_MAX_LAYER_ENTRIES");
	err = NULL;
	rc = image_import(st, layout2, "example.com/bomb:2", &err);
	CHECK(rc == -EFBIG);
	CHECK_CONTAINS(err, "more than 100 entries");
	note(err);
	free(err);
	CHECK(store_empty(state));
	image_store_close(st);

	/* Under the default limits the same layer is fine. */
	st = open_store(state);
	err = NULL;
	rc = image_import(st, layout2, "example.com/bomb:2", &err);
	CHECK(rc == 0);
	free(err);
	image_store_close(st);
}

/* ---- sharing, selection, archives ---------------------------------------- */

static const struct tent shared_ents[] = {
    {'d', "bin", NULL, 0755, 0, 0, 0},
    {'f', "bin/base", "base\n", 0755, 0, 0, 0},
};
static const struct tent a_ents[] = {{'f', "a", "a\n", 0644, 0, 0, 0}};
static const struct tent b_ents[] = {{'f', "b", "b\n", 0644, 0, 0, 0}};

TEST(shared_layer_unpacked_once)
{
	struct layer_spec la[] = {{shared_ents, 2, C_GZIP}, {a_ents, 1, C_ZSTD}};
	struct layer_spec lb[] = {{shared_ents, 2, C_GZIP}, {b_ents, 1, C_NONE}};
	struct built_layer bla[2], blb[2];
	cleanup_free char *A = one_image("A", la, 2, NULL, bla, NULL);
	cleanup_free char *B = one_image("B", lb, 2, NULL, blb, NULL);
	CHECK_STREQ(bla[0].diff_id, blb[0].diff_id);
	cleanup_free char *state = fresh_dir("state");
	struct image_store *st = open_store(state);
	char *err = NULL;
	CHECK(image_import(st, A, "example.com/a", &err) == 0);
	free(err);
	cleanup_free char *base = xasprintf("%s/images/layers/%s", state, bla[0].diff_id + 7);
	cleanup_free char *marker = xasprintf("%s/marker", base);
	struct stat s1, s2;
	CHECK(stat(base, &s1) == 0);
	write_file(marker, "m", 1);
	CHECK(image_import(st, B, "example.com/b", &err) == 0);
	free(err);
	CHECK(stat(base, &s2) == 0 && s1.st_ino == s2.st_ino);
	CHECK(access(marker, F_OK) == 0); /* not unpacked again */
	cleanup_free char *layers = xasprintf("%s/images/layers", state);
	CHECK(count_entries(layers) == 3);

	struct image_info *ia = NULL, *ib = NULL;
	CHECK(image_lookup(st, "example.com/a:latest", &ia, &err) == 0);
	free(err);
	CHECK(image_lookup(st, "example.com/b", &ib, &err) == 0);
	free(err);
	CHECK(ia && ib && strcmp(ia->layer_dirs[0], ib->layer_dirs[0]) == 0);
	CHECK(ia && ib && strcmp(ia->layer_dirs[1], ib->layer_dirs[1]) != 0);
	if (ib) {
		cleanup_free char *p = xasprintf("%s/b", ib->layer_dirs[1]);
		CHECK(access(p, F_OK) == 0);
	}
	image_info_free(ia);
	image_info_free(ib);

	/* Removing A keeps the shared layer for B. */
	CHECK(image_remove(st, "example.com/a", false, &err) == 0);
	free(err);
	CHECK(access(marker, F_OK) == 0);
	CHECK(count_entries(layers) == 2);
	ib = NULL;
	CHECK(image_lookup(st, "example.com/b", &ib, &err) == 0);
	free(err);
	image_info_free(ib);
	CHECK(image_remove(st, "example.com/b", false, &err) == 0);
	free(err);
	CHECK(store_empty(state));
	image_store_close(st);
}

TEST(repeated_layer_and_docker_media_type)
{
	struct layer_spec ls[] = {
	    {shared_ents, 2, C_DOCKER}, {a_ents, 1, C_GZIP}, {shared_ents, 2, C_DOCKER}};
	struct built_layer bl[3];
	cleanup_free char *layout = one_image("rep", ls, 3, NULL, bl, NULL);
	cleanup_free char *state = fresh_dir("state");
	struct image_store *st = open_store(state);
	char *err = NULL;
	CHECK(image_import(st, layout, "example.com/rep:1", &err) == 0);
	note(err);
	free(err);
	struct image_info *info = NULL;
	CHECK(image_lookup(st, "example.com/rep:1", &info, &err) == 0);
	free(err);
	CHECK(info && info->nlayers == 3 && strcmp(info->layer_dirs[0], info->layer_dirs[2]) == 0);
	image_info_free(info);
	cleanup_free char *layers = xasprintf("%s/images/layers", state);
	cleanup_free char *blobs = xasprintf("%s/images/blobs/sha256", state);
	CHECK(count_entries(layers) == 2);
	CHECK(count_entries(blobs) == 4); /* manifest, config, two layers */

	image_store_close(st);
	st = open_store(state);
	CHECK(image_remove(st, "example.com/rep:1", false, &err) == 0);
	free(err);
	image_store_close(st);
	CHECK(store_empty(state));
}

TEST(select_by_tag_and_platform)
{
	struct layout l;
	cleanup_free char *dir = fresh_dir("multi");
	layout_init(&l, dir);
	struct layer_spec ls[] = {{a_ents, 1, C_GZIP}};
	struct built_layer bl[1];

	struct img_opts o1 = {.config = "{\"Cmd\":[\"one\"]}"};
	layout_add(&l, image_add(&l, ls, 1, &o1, bl), "v1");

	/* v2: an index with arm64, amd64 and an attestation. */
	struct img_opts oarm = {.config = "{\"Cmd\":[\"arm\"]}", .arch = "arm64"};
	struct img_opts oamd = {.config = "{\"Cmd\":[\"amd\"]}"};
	json_t *arm = image_add(&l, ls, 1, &oarm, bl);
	json_t *amd = image_add(&l, ls, 1, &oamd, bl);
	json_t *att = image_add(&l, ls, 1, NULL, bl);
	cleanup_free char *amd_digest = xstrdup(json_string_value(json_object_get(amd, "digest")));
	json_object_set_new(arm, "platform",
			    json_pack("{s:s,s:s}", "os", "linux", "architecture", "arm64"));
	json_object_set_new(amd, "platform",
			    json_pack("{s:s,s:s}", "os", "linux", "architecture", "amd64"));
	json_object_set_new(att, "platform",
			    json_pack("{s:s,s:s}", "os", "unknown", "architecture", "unknown"));
	json_object_set_new(
	    att, "annotations",
	    json_pack("{s:s}", "vnd.docker.reference.type", "attestation-manifest"));
	json_t *ix =
	    json_pack("{s:i,s:s,s:[o,o,o]}", "schemaVersion", 2, "mediaType",
		      "application/vnd.oci.image.index.v1+json", "manifests", att, arm, amd);
	json_t *ixd = put_json(&l, ix, "application/vnd.oci.image.index.v1+json");
	cleanup_free char *ix_digest = xstrdup(json_string_value(json_object_get(ixd, "digest")));
	layout_add(&l, ixd, "v2");
	layout_finish(&l);

	cleanup_free char *state = fresh_dir("state");
	struct image_store *st = open_store(state);
	char *err = NULL;
	struct image_info *info = NULL;
	CHECK(image_import(st, dir, "example.com/multi:v2", &err) == 0);
	free(err);
	CHECK(image_lookup(st, "example.com/multi:v2", &info, &err) == 0);
	free(err);
	CHECK(info && strv_eq(info->config.cmd, (const char *const[]){"amd", NULL}));
	CHECK(info && strcmp(info->digest, amd_digest) == 0);
	image_info_free(info);
	info = NULL;
	/* The index digest finds it too. */
	cleanup_free char *byix = xasprintf("example.com/multi@%s", ix_digest);
	CHECK(image_lookup(st, byix, &info, &err) == 0);
	free(err);
	image_info_free(info);
	info = NULL;

	CHECK(image_import(st, dir, "example.com/multi:v1", &err) == 0);
	free(err);
	CHECK(image_lookup(st, "example.com/multi:v1", &info, &err) == 0);
	free(err);
	CHECK(info && strv_eq(info->config.cmd, (const char *const[]){"one", NULL}));
	image_info_free(info);

	err = NULL;
	CHECK(image_import(st, dir, "example.com/multi:v3", &err) == -ENOENT);
	CHECK_CONTAINS(err, "no image tagged \"v3\"");
	CHECK_CONTAINS(err, "\"v1\", \"v2\"");
	note(err);
	free(err);
	err = NULL;
	CHECK(image_import(st, dir, NULL, &err) < 0);
	CHECK_CONTAINS(err, "holds 2 images");
	note(err);
	free(err);
	/* A digest that is not the layout's. */
	err = NULL;
	CHECK(image_import(st, dir, "example.com/multi:v1@sha256:" H64, &err) == -EBADMSG);
	CHECK_CONTAINS(err, "asks for digest");
	note(err);
	free(err);
	image_store_close(st);
}

TEST(import_oci_archive)
{
	struct layer_spec ls[] = {{shared_ents, 2, C_GZIP}, {a_ents, 1, C_NONE}};
	struct built_layer bl[2];
	struct layout l;
	cleanup_free char *dir = fresh_dir("arch");
	layout_init(&l, dir);
	struct img_opts o = {.config = "{\"Cmd\":[\"arch\"]}"};
	layout_add(&l, image_add(&l, ls, 2, &o, bl), "1.0");
	layout_finish(&l);
	cleanup_free char *tar = xasprintf("%s/myapp.tar", top);
	cleanup_free char *cmd = xasprintf("tar -C '%s' -cf '%s' .", dir, tar);
	CHECK(system(cmd) == 0);

	cleanup_free char *state = fresh_dir("state");
	struct image_store *st = open_store(state);
	char *err = NULL;
	/* No REF: the file's name and the layout's ref name. */
	CHECK(image_import(st, tar, NULL, &err) == 0);
	if (err)
		fprintf(stderr, "  %s\n", err);
	free(err);
	struct image_info *info = NULL;
	CHECK(image_lookup(st, "myapp:1.0", &info, &err) == 0);
	free(err);
	CHECK(info && info->nlayers == 2 &&
	      strv_eq(info->config.cmd, (const char *const[]){"arch", NULL}));
	image_info_free(info);
	cleanup_free char *tmp = xasprintf("%s/images/tmp", state);
	CHECK(count_entries(tmp) == 0);

	/* Not a layout at all. */
	cleanup_free char *junk = xasprintf("%s/junk.tar", top);
	write_file(junk, "not a tar", 9);
	err = NULL;
	CHECK(image_import(st, junk, "x", &err) < 0);
	CHECK_CONTAINS(err, "import \"");
	note(err);
	free(err);
	err = NULL;
	CHECK(image_import(st, top, "x", &err) < 0);
	CHECK_CONTAINS(err, "not an oci image layout");
	note(err);
	free(err);
	CHECK(count_entries(tmp) == 0);
	image_store_close(st);
}

TEST(leftovers_removed_on_open)
{
	cleanup_free char *state = fresh_dir("state");
	struct image_store *st = open_store(state);
	image_store_close(st);
	cleanup_free char *junk = xasprintf("%s/images/tmp/import-XXXX/layer-1/x", state);
	cleanup_free char *cmd =
	    xasprintf("mkdir -p \"$(dirname '%s')\" && touch '%s'", junk, junk);
	CHECK(system(cmd) == 0);
	st = open_store(state);
	cleanup_free char *tmp = xasprintf("%s/images/tmp", state);
	CHECK(count_entries(tmp) == 0);
	image_store_close(st);
	image_store_close(NULL);
	image_info_free(NULL);
}

/* Another process inside the store (images/lock held shared, as by a
 * `podfs image pull`): its import dir, flock()ed, stays; a dead import's
 * dir, nobody's lock, goes; anything else waits for a store alone. */
TEST(leftovers_removed_while_store_busy)
{
	cleanup_free char *state = fresh_dir("state");
	struct image_store *st = open_store(state);
	image_store_close(st);
	cleanup_free char *cmd =
	    xasprintf("cd '%s/images/tmp' && mkdir -p import-dead/layer-1 import-live gc-x && "
		      "touch import-dead/layer-1/x import-live/y gc-x/z",
		      state);
	CHECK(system(cmd) == 0);
	cleanup_free char *live = xasprintf("%s/images/tmp/import-live", state);
	cleanup_free char *lock = xasprintf("%s/images/lock", state);
	int lfd = open(live, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int gfd = open(lock, O_RDWR | O_CLOEXEC);
	CHECK(lfd >= 0 && flock(lfd, LOCK_EX) == 0);
	CHECK(gfd >= 0 && flock(gfd, LOCK_SH) == 0);
	st = open_store(state);
	cleanup_free char *dead = xasprintf("%s/images/tmp/import-dead", state);
	cleanup_free char *gc = xasprintf("%s/images/tmp/gc-x", state);
	struct stat s;
	CHECK(lstat(dead, &s) < 0 && errno == ENOENT);
	CHECK(lstat(live, &s) == 0);
	CHECK(lstat(gc, &s) == 0);
	image_store_close(st);
	/* once alone, everything goes */
	close(lfd);
	close(gfd);
	st = open_store(state);
	cleanup_free char *tmp = xasprintf("%s/images/tmp", state);
	CHECK(count_entries(tmp) == 0);
	image_store_close(st);
}

struct thread_arg {
	struct image_store *st;
	const char *layout;
	char ref[64];
	int rc;
};

static void *import_thread(void *p)
{
	struct thread_arg *a = p;
	char *err = NULL;
	a->rc = image_import(a->st, a->layout, a->ref, &err);
	if (a->rc == 0) {
		struct image_info *info = NULL;
		a->rc = image_lookup(a->st, a->ref, &info, &err);
		image_info_free(info);
	}
	if (err)
		fprintf(stderr, "  %s: %s\n", a->ref, err);
	free(err);
	return NULL;
}

TEST(concurrent_imports)
{
	struct layer_spec ls[] = {{base_ents, sizeof(base_ents) / sizeof(base_ents[0]), C_GZIP},
				  {a_ents, 1, C_ZSTD}};
	struct built_layer bl[2];
	cleanup_free char *layout = one_image("conc", ls, 2, NULL, bl, NULL);
	cleanup_free char *state = fresh_dir("state");
	struct image_store *st = open_store(state);
	enum { N = 6 };
	pthread_t t[N];
	struct thread_arg a[N];
	for (int i = 0; i < N; i++) {
		a[i] = (struct thread_arg){.st = st, .layout = layout};
		snprintf(a[i].ref, sizeof(a[i].ref), "example.com/conc:t%d", i);
		pthread_create(&t[i], NULL, import_thread, &a[i]);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		CHECK(a[i].rc == 0);
	}
	cleanup_free char *layers = xasprintf("%s/images/layers", state);
	cleanup_free char *tmp = xasprintf("%s/images/tmp", state);
	CHECK(count_entries(layers) == 2);
	CHECK(count_entries(tmp) == 0);
	char *table = image_list_table(st);
	for (int i = 0; i < N; i++) {
		char want[64];
		snprintf(want, sizeof(want), "example.com/conc:t%d ", i);
		CHECK_CONTAINS(table, want);
	}
	free(table);
	image_store_close(st);
}

/* ---- the real test images (scripts/build-images.sh) ---------------------- */

static char *find_build_script(void)
{
	if (access("scripts/build-images.sh", X_OK) == 0)
		return realpath("scripts/build-images.sh", NULL);
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	/* BUILD/tests/test_image -> BUILD/../scripts */
	for (int i = 0; i < 3; i++) {
		char *s = strrchr(exe, '/');
		if (s)
			*s = '\0';
	}
	char *p = xasprintf("%s/scripts/build-images.sh", exe);
	if (access(p, X_OK) == 0)
		return p;
	free(p);
	return NULL;
}

TEST(real_test_images)
{
	cleanup_free char *script = find_build_script();
	CHECK(script != NULL);
	if (!script) {
		fprintf(stderr, "  scripts/build-images.sh not found (run from the repo root)\n");
		return;
	}
	cleanup_free char *out = xasprintf("%s/real-images", top);
	cleanup_free char *cmd = xasprintf("'%s' '%s' >'%s.log' 2>&1", script, out, out);
	int rc = system(cmd);
	CHECK(rc == 0);
	if (rc != 0) {
		cleanup_free char *logp = xasprintf("%s.log", out);
		cleanup_free char *log = slurp(logp);
		fprintf(stderr, "  build-images.sh failed:\n%s\n", log ? log : "");
		return;
	}
	cleanup_free char *state = fresh_dir("state");
	struct image_store *st = open_store(state);
	char *err = NULL;
	cleanup_free char *bb = xasprintf("%s/busybox", out);
	cleanup_free char *app = xasprintf("%s/simple-container-app", out);
	CHECK(image_import(st, bb, "busybox", &err) == 0);
	if (err)
		fprintf(stderr, "  %s\n", err);
	free(err);
	err = NULL;
	CHECK(image_import(st, app, "arisu1000/simple-container-app", &err) == 0);
	if (err)
		fprintf(stderr, "  %s\n", err);
	free(err);

	struct image_info *info = NULL;
	CHECK(image_lookup(st, "docker.io/library/busybox:latest", &info, &err) == 0);
	free(err);
	if (info) {
		bool found = false;
		for (size_t i = 0; i < info->nlayers; i++) {
			cleanup_free char *p = xasprintf("%s/bin/busybox", info->layer_dirs[i]);
			struct stat s;
			if (lstat(p, &s) == 0 && S_ISREG(s.st_mode) && (s.st_mode & 0111))
				found = true;
		}
		CHECK(found);
		CHECK(strv_eq(info->config.cmd, (const char *const[]){"sh", NULL}));
		CHECK(!info->config.has_entrypoint);
		cleanup_free char *sh = xasprintf("%s/bin/sh", info->layer_dirs[0]);
		char t[64];
		ssize_t n = readlink(sh, t, sizeof(t));
		CHECK(n == 7 && memcmp(t, "busybox", 7) == 0);
		image_info_free(info);
		info = NULL;
	}
	CHECK(image_lookup(st, "arisu1000/simple-container-app:latest", &info, &err) == 0);
	free(err);
	if (info) {
		CHECK(strv_eq(info->config.cmd, (const char *const[]){"httpd", "-f", "-p", "8080",
								      "-h", "/www", NULL}));
		cleanup_free char *www =
		    xasprintf("%s/www/index.html", info->layer_dirs[info->nlayers - 1]);
		CHECK(access(www, F_OK) == 0);
		image_info_free(info);
	}
	char *table = image_list_table(st);
	CHECK_CONTAINS(table, "docker.io/library/busybox:latest");
	CHECK_CONTAINS(table, "docker.io/arisu1000/simple-container-app:latest");
	CHECK_CONTAINS(table, "MB");
	free(table);
	image_store_close(st);
}

/* Lock files are removed by their holder; a waiter on the removed file
 * must notice and lock the file now at the path, so that two holders are
 * never at the same time. */
struct lockrace {
	const char *path;
	int fd;
	int64_t got_ms;
};

static void *take_lock(void *arg)
{
	struct lockrace *lr = arg;
	lr->fd = image_flock_open(lr->path, LOCK_EX);
	lr->got_ms = util_now_ms();
	return NULL;
}

TEST(lock_files_dropped_by_their_holder)
{
	char *path = xasprintf("%s/lockrace", top);
	int a = image_flock_open(path, LOCK_EX);
	CHECK(a >= 0);
	struct lockrace w1 = {path, -1, 0}, w2 = {path, -1, 0};
	pthread_t t1, t2;
	pthread_create(&t1, NULL, take_lock, &w1);
	pthread_create(&t2, NULL, take_lock, &w2);
	usleep(100 * 1000);
	CHECK(w1.fd == -1 && w2.fd == -1); /* both wait */
	int64_t dropped = util_now_ms();
	image_flock_drop(path, a);
	/* one of them gets it, on the file at the path; the other still waits */
	usleep(100 * 1000);
	struct lockrace *first = w1.fd >= 0 ? &w1 : &w2, *second = first == &w1 ? &w2 : &w1;
	CHECK(first->fd >= 0 && first->got_ms >= dropped);
	CHECK(second->fd == -1);
	struct stat fs, ps;
	CHECK(fstat(first->fd, &fs) == 0 && stat(path, &ps) == 0 && fs.st_ino == ps.st_ino);
	image_flock_drop(path, first->fd);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	CHECK(second->fd >= 0);
	image_flock_drop(path, second->fd);
	CHECK(access(path, F_OK) != 0); /* nothing left behind */
	free(path);
}

/* `image rm`'s use lock excludes the shared holders (specs being stored)
 * and they each other not */
TEST(use_lock)
{
	cleanup_free char *state = xasprintf("%s/uselock", top);
	struct image_store *st = open_store(state);
	int a = image_use_lock(st, false), b = image_use_lock(st, false);
	CHECK(a >= 0 && b >= 0);
	cleanup_free char *p = xasprintf("%s/images/use.lock", state);
	int x = open(p, O_RDWR | O_CLOEXEC);
	CHECK(x >= 0 && flock(x, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK);
	image_use_unlock(a);
	image_use_unlock(b);
	CHECK(flock(x, LOCK_EX | LOCK_NB) == 0);
	int s = open(p, O_RDWR | O_CLOEXEC);
	CHECK(s >= 0 && flock(s, LOCK_SH | LOCK_NB) < 0);
	close(s);
	close(x);
	image_store_close(st);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("0 passed, 0 failed (skipped: needs root)\n");
		return 77;
	}
	char tmpl[] = "/tmp/podfs-test-image.XXXXXX";
	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 1;
	}
	top = tmpl;

	RUN(normalize_table);
	RUN(import_good_image);
	RUN(hostile_dotdot);
	RUN(absolute_path_is_relative_to_root);
	RUN(hostile_symlink_parent);
	RUN(hostile_hardlink);
	RUN(blob_digest_mismatch);
	RUN(diff_id_mismatch);
	RUN(decompression_bomb);
	RUN(shared_layer_unpacked_once);
	RUN(repeated_layer_and_docker_media_type);
	RUN(select_by_tag_and_platform);
	RUN(import_oci_archive);
	RUN(leftovers_removed_on_open);
	RUN(leftovers_removed_while_store_busy);
	RUN(concurrent_imports);
	RUN(lock_files_dropped_by_their_holder);
	RUN(use_lock);
	RUN(real_test_images);

	char *cmd = xasprintf("rm -rf '%s'", top);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", top);
	free(cmd);
	return th_report();
}
