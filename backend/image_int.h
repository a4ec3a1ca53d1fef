/* image_int.h: what the image store (image.c) and the ingest of images
 * from a source (imagepull.c) share: the store itself, its locks, the state
 * of one import or pull, and the store's helpers the ingest calls.
 * Internal to those two files. */
#ifndef PODFS_IMAGE_INT_H
#define PODFS_IMAGE_INT_H

#include "backend/image.h"
#include "backend/image_parse.h"
#include "backend/imageref.h"
#include "backend/sha256.h"
#include "backend/util.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
#define HOST_ARCH "amd64"
#elif defined(__aarch64__)
#define HOST_ARCH "arm64"
#else
#define HOST_ARCH "amd64"
#endif

#define MAX_JSON_BLOB	(8u << 20)  /* index.json, indexes, manifests */
#define MAX_CONFIG_BLOB (32u << 20) /* configs carry history */
#define MAX_INDEX_DEPTH 4

struct image_store {
	char *root;	      /* absolute STATE/images */
	char *blobs;	      /* root/blobs/sha256 */
	char *layers;	      /* root/layers */
	char *tmp;	      /* root/tmp: imports in progress, removed layers */
	char *refs_path;      /* root/refs.json */
	char *gc_lock_path;   /* root/lock */
	char *refs_lock_path; /* root/refs.lock */
	uint64_t max_layer_bytes, max_layer_entries;
	pthread_rwlock_t gc;  /* see the top of image.c */
	pthread_mutex_t lock; /* refs.json read-modify-write */
};

/* Put "CONTEXT: " in front of *err (if there is one). */
void image_err_prefix(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Locks (image.c). */
struct guard {
	struct image_store *st;
	int fd;
	bool rw;
};
/* Open (creating) the lock file PATH and flock() it with OP: an fd, or
 * -errno. */
int image_flock_open(const char *path, int op);
/* Release a lock of image_flock_open and remove its file. */
void image_flock_drop(const char *path, int fd);
/* Enter the store: shared (import, lookup, list) or exclusive (remove). */
int image_guard_enter(struct image_store *st, bool exclusive, struct guard *g, char **err);
/* Leave the store or refs.json; nothing if G was never entered. */
void image_guard_leave(struct guard *g);

/* Descriptors, blobs (image.c). */
void image_desc_free(struct desc *d);
int image_descs_parse(json_t *arr, const char *what, size_t max, struct desc **out, size_t *n,
		      char **err);
bool image_mt_is_index(const char *mt);
bool image_mt_is_manifest(const char *mt);
/* Pick linux/HOST_ARCH from an index's manifests, skipping attestations. */
int image_pick_platform(const struct desc *ds, size_t n, size_t *pick, char **err);
int image_digest_mismatch(char **err, const char *want, const char *got);
/* Read the small blob DIGEST from BLOBDIR into memory, checking its size
 * (unless SIZE < 0) and digest. */
int image_blob_read(const char *blobdir, const char *digest, int64_t size, size_t max, char **out,
		    size_t *len, char **err);
/* Copy blob DIGEST from SRC to the new file DST, checking size and digest on
 * the way; DST is removed on mismatch. */
int image_blob_copy(const char *src, const char *dst, const char *digest, int64_t size, char **err);
/* strcmp for qsort and bsearch over char *. */
int image_str_cmp(const void *a, const void *b);

/* One import or pull. */
struct jblob {
	char digest[SHA256_DIGEST_LEN + 1];
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
	char manifest_digest[SHA256_DIGEST_LEN + 1];
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
	struct strv lock_paths; /* their files, removed on release */
	bool pulled;
	struct image_ingest_result *res;
};

/* Import or pull state (image.c). */
void image_import_free(struct import *im);
/* STORE/tmp/import-XXXXXX, locked (see tmp_sweep) before it appears under
 * that name: made as .new-XXXXXX, locked, renamed. */
int image_make_tmpdir(struct image_store *st, struct import *im, char **err);
/* Move what IM placed in its tmpdir into the store (synced first, if any
 * of it is new) and point its reference in refs.json at its manifest. */
int image_commit(struct image_store *st, struct import *im, char **err);

/* imagepull.c: from the chosen top manifest or index (IM->top_buf, or the
 * layout entry TOP) down to the layers in the store and the reference in
 * refs.json: the path every import and every pull takes. */
int imagepull_ingest(struct image_store *st, struct import *im, const struct desc *top, char **err);

#endif
