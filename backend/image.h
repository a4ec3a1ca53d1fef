/* image.h: the local, content-addressed image store under STATE/images.
 *
 *   STATE/images/blobs/sha256/<hex>     manifests, configs, compressed layers
 *   STATE/images/layers/<diffid-hex>/   each layer unpacked once, as an overlayfs
 *                                       lower dir (whiteouts as 0:0 char devices,
 *                                       opaque dirs with trusted.overlay.opaque=y)
 *   STATE/images/refs.json              normalized reference -> manifest digest
 *   STATE/images/tmp/                   imports in progress (emptied on open)
 *   STATE/images/locks/                 flock files: per layer blob, per pulled ref
 *
 * Images come in with image_import (an OCI layout dir or OCI archive) or
 * image_ingest (registry.c's pulls), through the same checks and commit. Layer archives are
 * hostile input: paths are cleaned (leading "/" and "./" dropped), `..`
 * refused, nothing is ever written through a symlink, digests and diff_ids
 * are verified, uncompressed size and entry count are capped. */
#ifndef PODFS_IMAGE_H
#define PODFS_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct image_store;

/* What the image config contributes to a container. */
struct image_config {
	bool has_entrypoint, has_cmd;
	char **entrypoint; /* NULL-terminated; NULL if absent */
	char **cmd;
	char **env;	   /* "K=V", NULL-terminated; never NULL (empty if absent) */
	char *working_dir; /* NULL if absent */
	char *user;	   /* NULL if absent */
	char *stop_signal; /* NULL if absent */
};

struct image_info {
	char *ref;    /* normalized: docker.io/library/busybox:latest */
	char *digest; /* manifest digest, "sha256:<hex>" */
	char *config_digest;
	char **layer_dirs; /* absolute paths, base layer first, NULL-terminated */
	size_t nlayers;
	int64_t size; /* compressed bytes of config + layers */
	struct image_config config;
};

/* Open (creating if needed) the store under STATE_DIR/images. Returns 0 or
 * -errno with a message in *err (caller frees). */
int image_store_open(const char *state_dir, struct image_store **out, char **err);
void image_store_close(struct image_store *st);

/* Normalize a reference as Docker and Kubernetes do: "busybox" ->
 * "docker.io/library/busybox:latest", "localhost:5000/a/b" ->
 * "localhost:5000/a/b:latest", digests kept ("x@sha256:..."). Returns NULL
 * and a message (InvalidImageName material) if it cannot parse. */
char *image_normalize_ref(const char *ref, char **err);

/* Import an OCI image layout directory or an OCI archive (tar, optionally
 * compressed). REF names the image; it also picks the layout's entry whose
 * org.opencontainers.image.ref.name is REF's tag (or the full reference),
 * else the only entry. If REF is NULL the layout must hold one image, named
 * BASENAME:REFNAME (BASENAME from PATH minus .tar/.tgz/.tar.gz/.oci,
 * REFNAME the entry's ref name or "latest"; a ref name that is a full
 * reference is used as is). An image index resolves to linux/amd64. If REF
 * has a digest, the manifest's or index's digest must equal it. Every blob
 * is checked against its descriptor's digest and size and every layer
 * against its diff_id; on any failure nothing is kept. Limits per layer:
 * PODFS_MAX_LAYER_BYTES (default 8 GiB uncompressed) and
 * PODFS_MAX_LAYER_ENTRIES (default 1000000), read by image_store_open.
 * Importing an existing tag re-points it. Returns 0 or -errno with *err. */
int image_import(struct image_store *st, const char *path, const char *ref, char **err);

/* Pulls: the registry client resolves a reference to its top manifest or
 * index and hands it over with a source for the rest; the store does the
 * same checks, unpacking and commit as for an import. */
enum image_blob_kind { IMAGE_BLOB_MANIFEST, IMAGE_BLOB_CONFIG, IMAGE_BLOB_LAYER };

/* The verifying writer a source feeds a blob into, in order. Returns 0, or
 * -EFBIG once more bytes arrive than the descriptor's size (stop then), or
 * -errno of a write. Size and digest are checked by the store afterwards. */
struct image_sink;
int image_sink_write(struct image_sink *s, const void *p, size_t n);
int64_t image_sink_received(const struct image_sink *s);

struct image_source {
	void *arg;
	/* Feed blob DIGEST (SIZE bytes, media type MT or NULL) to SINK. A
	 * manifest (an index's child) is fetched as a manifest, the rest as
	 * blobs. 0, or -errno with *err. */
	int (*fetch)(void *arg, enum image_blob_kind kind, const char *digest, int64_t size,
		     const char *mt, struct image_sink *sink, char **err);
	/* Optional: layer bytes received so far of TOTAL the store lacks. */
	void (*progress)(void *arg, int64_t done, int64_t total);
};

struct image_ingest_result {
	char *digest;	    /* manifest digest (caller frees) */
	int64_t size;	    /* compressed bytes of config + layers */
	int64_t downloaded; /* layer bytes fetched (not already in the store) */
};

/* Store the image whose top manifest or index is TOP (LEN bytes as
 * received, media type MEDIA_TYPE or NULL) under REF, fetching what the
 * store lacks from SRC. Every layer blob is locked (flock, so also between
 * processes) from before its download to the commit: two pulls sharing a
 * layer download and unpack it once. On any failure nothing is kept.
 * Records the image as pulled (see image_present). */
int image_ingest(struct image_store *st, const char *ref, const char *top, size_t len,
		 const char *media_type, const struct image_source *src,
		 struct image_ingest_result *res, char **err);

/* Take the per-reference pull lock (REF normalized; blocks). Returns the
 * fd to give to image_unlock_ref, or -errno with *err. */
int image_lock_ref(struct image_store *st, const char *ref, char **err);
/* Release it; its lock file goes (STATE/images/locks keeps nothing). */
void image_unlock_ref(struct image_store *st, const char *ref, int fd);

/* Is REF in the store? 1 (and *PULLED: it came from a registry rather
 * than from image_import), 0, or -EINVAL with *err if it does not parse. */
int image_present(struct image_store *st, const char *ref, bool *pulled, char **err);

/* Find an image by reference. A reference with a digest matches any tag of
 * the same repository whose manifest (or the index it came from) has that
 * digest. -ENOENT if it is not in the store (with *err saying so in the
 * user's terms), -EINVAL for a reference that does not parse, 0 and *out on
 * success; out->ref is the normalized REF. */
int image_lookup(struct image_store *st, const char *ref, struct image_info **out, char **err);
void image_info_free(struct image_info *info);

/* All images, for `podfs image ls`: a table with columns IMAGE (the
 * normalized reference), DIGEST (first 12 hex digits of the manifest
 * digest) and SIZE (compressed, e.g. "1.2MB"), one line each, sorted.
 * Caller frees. */
char *image_list_table(struct image_store *st);

/* Remove an image reference (and blobs/layers no other image uses). IN_USE
 * tells whether a pod uses it; then -EBUSY. A reference with a digest
 * removes every tag of that repository with that digest. -ENOENT if there
 * is no such image. */
int image_remove(struct image_store *st, const char *ref, bool in_use, char **err);

/* The use lock, between naming an image and removing one: taken shared
 * while a pod's spec is stored, exclusive by `image rm` from its check that
 * no stored spec names the image until the image is gone. A pod applied
 * meanwhile is either seen by the check or applied after the removal (and
 * then pulls by its policy). Returns an fd for image_use_unlock, or
 * -errno. */
int image_use_lock(struct image_store *st, bool exclusive);
void image_use_unlock(int fd);

#endif
