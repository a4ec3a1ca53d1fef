/* imagefile.h: file helpers of the image store and the layer unpacker:
 * writes that finish, mkdir -p, a durable replace, and rm -rf that never
 * follows a symlink. Each returns 0 or -errno. */
#ifndef PODFS_IMAGEFILE_H
#define PODFS_IMAGEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

int imagefile_write_all(int fd, const void *p, size_t n);
int imagefile_pwrite_all(int fd, const void *p, size_t n, off_t off);
int imagefile_mkdir_p(const char *path, mode_t mode);
int imagefile_fsync_path(const char *path);
/* Replace DIR/NAME durably: write a temporary file, fsync it, rename it over
 * NAME, fsync DIR. */
int imagefile_write_durable(const char *dir, const char *name, const void *data, size_t len);
/* Remove AT/NAME and everything below it, never following a symlink (nor
 * stopping at a mount point, unlike util_rm_rf). */
int imagefile_rm_rf_at(int at, const char *name);
int imagefile_rm_rf(const char *path);
/* Is there anything (a dangling symlink too) at PATH? */
bool imagefile_exists(const char *path);

#endif
