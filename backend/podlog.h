/* podlog.h: containers' logs as plain text. conmon writes the CRI format
 * (timestamp, stream, P/F tag, content) to STATE/pods/POD/logs/C/N.log;
 * podlog follows it through inotify and keeps N.plain beside it, the text
 * that `logs` shows, with partial lines joined. It owns struct plainlog's
 * files and watch; the supervisor (pod.c) decides when to call it. */
#ifndef PODFS_PODLOG_H
#define PODFS_PODLOG_H

#include "backend/pod.h"

#include <stdbool.h>
#include <stddef.h>

/* STATE/pods/POD/logs/C: where a container's instances log. */
char *podlog_dir(struct backend *b, struct pod *p, struct container *c);
/* Point L at instance ATTEMPT's files, converting what is already there
 * (after a podfs restart the plain file is rebuilt from the CRI log). */
void podlog_open(struct backend *b, struct pod *p, struct container *c, struct plainlog *l,
		 int attempt);
/* Watch L's CRI log for changes (b->ino_fd). A write between the open's
 * pump and the watch raised no event: callers pump once more after it. */
void podlog_watch(struct backend *b, struct plainlog *l);
void podlog_unwatch(struct backend *b, struct plainlog *l);
/* Convert what conmon appended since the last call; true if the plain log
 * grew. */
bool podlog_pump(struct plainlog *l);
/* Forget L's paths and partial line (the files stay). */
void podlog_reset(struct plainlog *l);
/* The last LINES lines of the plain log, at most MAX bytes (the tail
 * wins); NULL if empty. */
char *podlog_tail(const struct plainlog *l, int lines, size_t max);

#endif
