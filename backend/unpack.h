/* unpack.h: one image layer (a tar stream, uncompressed, gzip or zstd)
 * unpacked into a new directory as an overlayfs lower dir: whiteouts as 0:0
 * char devices, opaque dirs with trusted.overlay.opaque=y. Layers are
 * hostile input: paths are cleaned, ".." refused, nothing is ever written
 * through a symlink, the uncompressed size and the entry count are capped,
 * and the uncompressed stream must hash to the layer's diff_id. */
#ifndef PODFS_UNPACK_H
#define PODFS_UNPACK_H

#include <stdint.h>

enum unpack_comp { UNPACK_COMP_BAD, UNPACK_COMP_NONE, UNPACK_COMP_GZIP, UNPACK_COMP_ZSTD };

/* The compression of layer media type MT; UNPACK_COMP_BAD for one podfs does not
 * unpack. */
enum unpack_comp unpack_compression(const char *mt);

/* Clean a layer entry name: drop leading "/" and "./", empty and "."
 * components. "" is the layer root. -EINVAL for a ".." component,
 * -ENAMETOOLONG for a name too long or too deep. */
int unpack_clean_path(const char *raw, char **out);

/* Limits per layer (the store's PODFS_MAX_LAYER_BYTES and
 * PODFS_MAX_LAYER_ENTRIES). */
struct unpack_limits {
	uint64_t max_bytes;   /* uncompressed, and of all its files */
	uint64_t max_entries; /* tar entries */
};

/* Unpack the layer blob at BLOB, or read from FD if BLOB is NULL (media
 * type MT) into the new dir DEST and check that the uncompressed stream
 * hashes to DIFF_ID. On failure DEST may be left partly filled; the caller
 * removes it. 0, or -errno with *err. */
int unpack_layer(const char *blob, int fd, const char *mt, const char *dest, const char *diff_id,
		 const struct unpack_limits *lim, char **err);

#endif
