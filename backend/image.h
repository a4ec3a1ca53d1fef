/* image.h: the local, content-addressed image store under STATE/images.
 *
 *   STATE/images/blobs/sha256/<hex>     manifests, configs, compressed layers
 *   STATE/images/layers/<diffid-hex>/   each layer unpacked once, as an overlayfs
 *                                       lower dir (whiteouts as 0:0 char devices,
 *                                       opaque dirs with trusted.overlay.opaque=y)
 *   STATE/images/refs.json              normalized reference -> manifest digest
 *   STATE/images/tmp/                   imports in progress (emptied on open)
 *
 * Images come in with image_import (an OCI layout dir or OCI archive); the
 * registry client (a later module) feeds the same store. Layer archives are
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

#endif
