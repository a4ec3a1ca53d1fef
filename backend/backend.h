/* backend.h: the narrow API the FUSE layer (fs/) and the command line use.
 * Everything behind it (manifests, pods, runtime, images) is the backend's;
 * the backend owns every pod, every lock and every process. Calls are
 * thread-safe. Errors are -errno, with a message for the user where one is
 * useful. */
#ifndef PODFS_BACKEND_H
#define PODFS_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct backend;

struct backend_opts {
	const char *state_dir;	  /* default /var/lib/podfs */
	const char *node_name;	  /* default: the hostname */
	double backoff_scale;	  /* 1.0 = Kubernetes' 10 s .. 300 s; tests shorten it */
	const char *pod_cidr;	  /* the pod network's IPv4 range; default 10.88.0.0/16 */
	const char *cni_bin_dir;  /* the CNI plugins; default /usr/lib/cni */
	const char *manifest_dir; /* static pods, as kubelet's --pod-manifest-path; or NULL */
	int lock_fd; /* > 0: the state dir's lock, already taken by backend_lock_state */
	const char **registry_mirrors;	  /* "REG=URL", NULL-terminated; may be NULL */
	const char **insecure_registries; /* "HOST[:PORT]", NULL-terminated; may be NULL */
	const char *registry_auth;	  /* credentials file; default STATE/auth.json */
	const char *registry_certs_dir;	  /* TLS per registry; default STATE/certs.d */
};

/* Check a --pod-cidr value (IPv4 a.b.c.d/N, N from 8 to 30, the network
 * address). 0, or -EINVAL with *err for the user. */
int backend_check_pod_cidr(const char *cidr, char **err);

/* Take the state dir's lock (one podfs per state dir) before mounting, so a
 * second podfs is refused before it touches the mount point. Returns the
 * locked descriptor (kept for the process's life) or -errno with *err. */
int backend_lock_state(const char *state_dir, char **err);

/* The files of the tree, per pod or per container. */
enum backend_file {
	BF_SPEC,   /* pods/N/spec.yaml */
	BF_STATUS, /* pods/N/status (YAML) */
	BF_STATUS_JSON,
	BF_PHASE,
	BF_LOGS,	 /* pods/N/logs, or containers/C/logs */
	BF_PREVIOUS_LOG, /* containers/C/previous.log */
	BF_ENV,
	BF_EVENTS,
	BF_CSTATUS, /* containers/C/status */
	BF_PS,	    /* top-level ps */
	BF_NODE,    /* top-level node */
};

/* Change announcements: the backend calls CB (from its own thread, never
 * with a lock held that a FUSE operation needs) when a file's content
 * changes or a pod directory appears or goes. POD may be NULL for top-level
 * files, CONTAINER NULL for pod-level ones. */
enum backend_change { BC_MODIFIED, BC_POD_ADDED, BC_POD_REMOVED };
typedef void (*backend_change_cb)(void *arg, enum backend_change what, const char *pod,
				  const char *container, enum backend_file file);

int backend_open(const struct backend_opts *opts, struct backend **out, char **err);
/* Stop the supervisor; pods keep running (their conmons own them). With
 * STOP_PODS, every pod is first stopped gracefully (preStop, grace period)
 * and its sandbox torn down, as on a node shutdown; specs, logs and
 * restart counts stay, and the next podfs starts the pods again by their
 * restart policy. */
void backend_close(struct backend *b, bool stop_pods);
/* No pods at all: closing then also removes the run dir. */
bool backend_idle(struct backend *b);
void backend_set_change_cb(struct backend *b, backend_change_cb cb, void *arg);

/* Pod names, sorted. Caller frees with backend_free_names. */
char **backend_pod_names(struct backend *b);
void backend_free_names(char **names);
bool backend_pod_exists(struct backend *b, const char *pod);
/* Container names of a pod (init first, then app), NULL if none. */
char **backend_container_names(struct backend *b, const char *pod);

/* mkdir pods/NAME: an empty slot. -EEXIST, -EINVAL (not a DNS-1123 label). */
int backend_pod_create(struct backend *b, const char *pod, char **err);
/* rmdir: delete gracefully and return when the pod's processes are gone.
 * -EPERM for a static pod (its manifest file decides). */
int backend_pod_delete(struct backend *b, const char *pod);
/* Apply a manifest to a pod: validated, stored durably, then acted on.
 * -EINVAL with the errors in *err (the running pod is untouched). */
int backend_pod_apply(struct backend *b, const char *pod, const char *buf, size_t len, char **err);

/* May spec.yaml of POD be written? 0, -ENOENT, or -EROFS for a static pod
 * (with REPORT, an events line then says which file to edit instead). */
int backend_spec_writable(struct backend *b, const char *pod, bool report);

/* Snapshot of a generated file (or the applied spec) for reading: a copy
 * the caller frees, its size and mtime. -ENOENT if there is no such file. */
int backend_read(struct backend *b, const char *pod, const char *container, enum backend_file file,
		 char **buf, size_t *len, struct timespec *mtime);
/* Log files are served from disk: the path of the plain-text log, its
 * current size and mtime (from memory). -ENOENT if none yet. */
int backend_log(struct backend *b, const char *pod, const char *container, enum backend_file file,
		char **path, size_t *len, struct timespec *mtime);
/* Size and mtime of any file without copying it. */
int backend_stat(struct backend *b, const char *pod, const char *container, enum backend_file file,
		 size_t *len, struct timespec *mtime);

/* Check a manifest. On success return 0 and the normalized spec as JSON in
 * *json; on failure return -EINVAL (or -errno reading the file) and the
 * errors, one per line, "FILE:LINE:COL: PATH: MESSAGE", in *errors. The
 * caller frees both. FILE "-" reads standard input. */
int backend_validate_file(const char *file, char **json, char **errors);
/* The same for a manifest already in memory; NAME labels the messages. */
int backend_validate_buf(const char *name, const char *buf, size_t len, char **json, char **errors);

/* `podfs image ...` subcommands against OPTS' state dir (and registry
 * settings); print to stdout/stderr and return the process exit status. */
int backend_image_cmd(const struct backend_opts *opts, int argc, char **argv);

#endif
