/* volume.h: a pod's volumes on the host, as the kubelet's emptyDir and
 * hostPath plugins and its subPath handling make them. emptyDir on disk
 * lives under the pod's state, emptyDir with medium Memory is a tmpfs
 * mounted once per pod; both are shared by every container (init
 * containers too) and removed with the pod. hostPath is checked against
 * its type. A subPath is resolved beneath its volume (symlinks may not
 * lead out) to an O_PATH descriptor, which is bind-mounted (through
 * /proc/self/fd) under the pod's run dir: runc mounts that, so what is
 * mounted is what was checked, whatever changes in the volume meanwhile
 * (the kubelet's volume-subpaths). */
#ifndef PODFS_VOLUME_H
#define PODFS_VOLUME_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/spec.h"

/* One pod instance's volumes. */
struct vol_pod {
	const struct spec_pod *spec;
	const char *disk_dir;	 /* emptyDir on disk: DISK_DIR/<name> */
	const char *mem_dir;	 /* emptyDir medium Memory: MEM_DIR/<name>, a tmpfs */
	const char *subpath_dir; /* subPath binds: SUBPATH_DIR/<container>/<mount index> */
	int64_t node_memory;	 /* allocatable, for a Memory volume's default size */
};

/* The host path of each of spec->volumes (nvolumes entries, then NULL).
 * Free with vol_paths_free. */
char **vol_paths(const struct vol_pod *vp);
void vol_paths_free(char **paths);

/* Make every volume ready: emptyDir directories (mode 0777), Memory
 * tmpfs mounts with their size (left alone if already mounted), hostPath
 * type checks and creation (DirectoryOrCreate 0755, FileOrCreate 0644; an
 * unset type creates a missing directory, as containerd does). On failure
 * -errno and *err in the kubelet's words: `MountVolume.SetUp failed for
 * volume "data" : hostPath type check failed: /srv is not a directory`. */
int vol_setup(const struct vol_pod *vp, char **err);

/* Unmount the tmpfs mounts in MEM_DIR and the subPath binds, and remove
 * the three directories (SPEC may be NULL). */
void vol_teardown(const struct vol_pod *vp);

/* The bind sources of container C's volumeMounts, given the volumes'
 * host paths: NULL where the volume's own path is used, the bind under
 * SUBPATH_DIR for a subPath (its directories created if missing, as the
 * kubelet does). -EINVAL and *err in the kubelet's words ("failed to
 * prepare subPath for volumeMount \"v\" of container \"c\""; the details
 * go to podfs's log, as the kubelet keeps them from the pod). */
struct vol_sources {
	char **src; /* c->nmounts entries */
	size_t n;
};
int vol_container_sources(const struct vol_pod *vp, const struct spec_container *c,
			  char *const *vpaths, struct vol_sources *out, char **err);
void vol_sources_free(struct vol_sources *s);

/* Open SUB (relative) beneath the directory ROOTFD as O_PATH, creating
 * missing directories (mode 0755) if CREATE. A ".." or a symlink that
 * would leave ROOTFD gives -EXDEV. Returns an fd or -errno. Exposed for
 * tests. */
int vol_open_beneath(int rootfd, const char *sub, bool create);

/* Tests only: resolve by hand, as on kernels without openat2. */
extern bool vol_no_openat2;

#endif
