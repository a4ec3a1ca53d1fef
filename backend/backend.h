/* backend.h: the narrow API the FUSE layer (fs/) and the command line use.
 * Everything behind it (manifests, pods, runtime, images) is the backend's. */
#ifndef PODFS_BACKEND_H
#define PODFS_BACKEND_H

#include <stddef.h>

/* Check a manifest. On success return 0 and the normalized spec as JSON in
 * *json; on failure return -EINVAL (or -errno reading the file) and the
 * errors, one per line, "FILE:LINE:COL: PATH: MESSAGE", in *errors. The
 * caller frees both. FILE "-" reads standard input. */
int backend_validate_file(const char *file, char **json, char **errors);

/* The same for a manifest already in memory; NAME labels the messages. */
int backend_validate_buf(const char *name, const char *buf, size_t len, char **json,
			 char **errors);

#endif
