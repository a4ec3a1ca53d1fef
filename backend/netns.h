/* netns.h: pinned namespaces. A pod's network namespace is made before its
 * infra container and pinned by a bind mount on a file, so it outlives any
 * process (and podfs); the infra container's ipc and uts namespaces are
 * pinned the same way, so app containers join them by a stable path. */
#ifndef PODFS_NETNS_H
#define PODFS_NETNS_H

#include <sys/types.h>

/* Create a new network namespace with loopback up, pinned at PATH.
 * 0 or -errno with *err. */
int netns_create(const char *path, char **err);
/* Pin /proc/PID/ns/TYPE at PATH. */
int ns_pin(pid_t pid, const char *type, const char *path, char **err);
/* Unmount and remove a pinned namespace file; 0 if it was not there. */
int ns_unpin(const char *path);

#endif
