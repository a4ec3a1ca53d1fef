/* image_parse.h: the parsers image.c applies to image JSON from layouts,
 * archives and registries (hostile input): descriptors, image manifests,
 * image indexes (with the platform choice) and image configs. Internal to
 * image.c and imagepull.c; exposed for tests/fuzz/fuzz_image.c and unit
 * tests. */
#ifndef PODFS_IMAGE_PARSE_H
#define PODFS_IMAGE_PARSE_H

#include "backend/image.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A descriptor: digest is "sha256:" + 64 lowercase hex, size >= 0; the
 * rest may be NULL. */
struct desc {
	char *media_type, *digest, *ref_name, *os, *arch;
	int64_t size;
	bool attestation;
};

struct manifest {
	struct desc config;
	struct desc *layers;
	size_t nlayers;
};

struct parsed_config {
	struct image_config cfg;
	char **diff_ids; /* NULL-terminated, ndiff of them, each a sha256 digest */
	size_t ndiff;
	char *os, *arch;
};

/* Each returns 0, or -errno with *err (caller frees) and nothing to free. */
/* An image manifest (schemaVersion 2, config and at most 256 layers). */
int image_parse_manifest(const char *buf, size_t len, struct manifest *m, char **err);
void image_manifest_free(struct manifest *m);
/* An image config (config.Entrypoint/Cmd/Env/WorkingDir/User/StopSignal,
 * rootfs.diff_ids). */
int image_parse_config(const char *buf, size_t len, struct parsed_config *pc, char **err);
void image_parsed_config_free(struct parsed_config *pc);
/* An image index as a pull or import follows one: its manifests[] (at
 * most 4096) and the one chosen for linux and this machine's architecture
 * (*PICK). */
int image_parse_index(const char *buf, size_t len, struct desc **ds, size_t *n, size_t *pick,
		      char **err);
void image_descs_free(struct desc *ds, size_t n);
/* Is MT a layer media type podfs unpacks? */
bool image_layer_type_ok(const char *mt);

#endif
