/* fs.h: the FUSE layer. Maps the tree of interface.md onto the backend:
 * paths to nodes, snapshots for reads, writes of spec.yaml to applies, and
 * change announcements that watchers (inotify) can see. */
#ifndef PODFS_FS_H
#define PODFS_FS_H

#include <stdbool.h>

struct backend;

struct fs_opts {
	const char *mountpoint;
	bool foreground;
	bool debug;
	int max_threads;
	char **fuse_argv; /* -o options etc., passed to libfuse */
	int fuse_argc;
};

/* Mount, serve until unmounted or signalled, return the exit status.
 * OPEN_BACKEND is called after daemonizing (threads do not survive fork). */
int fs_main(const struct fs_opts *opts, int (*open_backend)(void *arg, struct backend **b),
	    void *arg);

/* The backend fs_main opened (NULL if none), for the shutdown after it. */
struct backend *fs_backend(void);

#endif
