/* notify.h: change announcements that inotify can see. The kernel raises
 * inotify events only for operations that pass through the VFS, and none
 * of libfuse's notify calls raise IN_MODIFY or IN_CREATE; so a helper
 * process of podfs performs a real operation on the changed file through
 * the mount itself (open for writing, write one byte, close: IN_MODIFY and
 * IN_CLOSE_WRITE; mkdir/rmdir for pods appearing or going), and the FUSE
 * handlers recognise its requests and ignore their effect. */
#ifndef PODFS_NOTIFY_H
#define PODFS_NOTIFY_H

#include <stdbool.h>
#include <sys/types.h>

struct notifier;

struct notifier *notify_start(const char *mountpoint);
void notify_stop(struct notifier *n);
/* Queue an announcement for PATH (relative to the mount, e.g.
 * "pods/web/phase"); repeated requests for a pending path coalesce. */
void notify_modified(struct notifier *n, const char *path);
void notify_dir_added(struct notifier *n, const char *path);
void notify_dir_removed(struct notifier *n, const char *path);
/* The directory announcement the helper is making now for PATH: 'd' (a
 * mkdir: lookups must not find PATH yet, or the kernel answers EEXIST
 * itself), 'r' (an rmdir: PATH must still be found), or 0. */
char notify_dir_op(struct notifier *n, const char *path);
/* Is TID the announcer (its FUSE requests are announcements)? */
bool notify_is_announcer(struct notifier *n, pid_t tid);

#endif
