/* cgroup.h: the host's cgroup file systems as podfs uses them next to runc:
 * the pod-level cgroup (created with the pod's limits before any container,
 * removed under every controller when the pod goes), and a container's
 * OOM-kill counter. cgroup v1 (one hierarchy per controller, as on this
 * machine's hybrid layout) and the v2 unified tree. runc creates and
 * removes the containers' own cgroups; paths are runc's cgroupsPath form,
 * "/podfs/<pod-uid>[/<cid>]". See runtime-notes.md section 8. */
#ifndef PODFS_CGROUP_H
#define PODFS_CGROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/resources.h"

#define CG_MAX_MOUNTS 24

struct cg_host {
	int version; /* 1 or 2; 0 when no cgroup file system was found */
	/* v1: every hierarchy's mount point; cpu and memory point into it */
	char *mounts[CG_MAX_MOUNTS];
	size_t nmounts;
	const char *cpu, *memory; /* v1 mount points, NULL if not mounted */
	char *unified;		  /* v2: the tree's mount point */
	bool swap;		  /* swap accounting (memsw / memory.swap.max) */
};

/* Read MOUNTS (the format of /proc/self/mounts) and fill H. Free with
 * cg_host_free. A v2 mount counts only when no v1 memory hierarchy exists
 * (a hybrid host's /sys/fs/cgroup/unified has no controllers). */
int cg_host_detect(struct cg_host *h, const char *mounts_path);
void cg_host_free(struct cg_host *h);
/* The machine's, detected once. */
const struct cg_host *cg_host_default(void);

/* Create the pod cgroup PATH with its values: cpu.shares, cfs quota and
 * period, memory.limit_in_bytes (v1); cpu.weight, cpu.max, memory.max with
 * the controllers enabled down to it (v2). 0 or -errno with *err. */
int cg_pod_setup(const struct cg_host *h, const char *path, const struct res_cgroup *v, char **err);

/* Remove PATH and every empty cgroup below it, deepest first, under every
 * hierarchy. Returns how many directories are still there (a cgroup with
 * processes cannot be removed). */
int cg_remove(const struct cg_host *h, const char *path);

/* Does PATH exist under any hierarchy? */
bool cg_exists(const struct cg_host *h, const char *path);

/* OOM kills counted in PATH's memory cgroup (oom_kill in
 * memory.oom_control on v1, memory.events on v2): >= 0, or -errno. */
int64_t cg_oom_kills(const struct cg_host *h, const char *path);

/* runc's cpu.weight from shares on v2 (1 + (shares-2)*9999/262142). */
int64_t cg_shares_to_weight(int64_t shares);

#endif
