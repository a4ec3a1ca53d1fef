/* pod.h: the backend's model of pods and containers, shared by the
 * lifecycle (pod.c), persistence (podstore.c) and rendering (status.c).
 * Internal to backend/: fs/ sees only backend.h.
 *
 * Locking: one mutex, backend.lock, guards the pod table and everything in
 * it. FUSE threads only read rendered snapshots and post requests (a new
 * spec, a deletion); the supervisor thread alone changes runtime state, and
 * it drops the lock around slow runtime calls (runc, conmon). */
#ifndef PODFS_POD_H
#define PODFS_POD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "backend/backend.h"
#include "backend/cni.h"
#include "backend/image.h"
#include "backend/runtime.h"
#include "backend/spec.h"

struct json_t; /* jansson */

enum pod_phase { PHASE_NONE, PHASE_PENDING, PHASE_RUNNING, PHASE_SUCCEEDED, PHASE_FAILED };

/* A terminated container instance (state.terminated / lastState). */
struct cterm {
	int exit_code;
	char *reason; /* Completed, Error, OOMKilled, StartError */
	char *message;
	struct timespec started_at, finished_at;
	char cid[40];
};

enum cphase { C_WAITING, C_RUNNING, C_TERMINATED };

enum probe_kind { PK_STARTUP, PK_LIVENESS, PK_READINESS, PK_COUNT };

/* One probe's state (podfs shows all of it; the kubelet keeps it inside). */
struct probe_state {
	const struct spec_probe *spec; /* NULL: no such probe */
	int result;		       /* -1 unknown (not yet decided), 0 failure, 1 success */
	int successes, failures;       /* consecutive */
	int errors;		       /* consecutive probes that could not run */
	bool has_last;
	struct timespec last_time;
	int last_outcome;   /* the latest single probe: 1 success, 0 failure, -1 error */
	char *last_failure; /* the last failure's message */
	struct timespec last_failure_time;
	int64_t next_ms; /* monotonic: when the next probe is due */
	bool in_flight;
};

/* Stopping a container, as kubelet's killContainer: preStop hook (within
 * the grace period), then the stop signal, then SIGKILL at the deadline. */
enum stop_state { STOP_NONE, STOP_PRESTOP, STOP_TERM, STOP_KILL };

/* A log file being converted from conmon's CRI format to plain text. */
struct plainlog {
	char *cri_path, *plain_path;
	off_t cri_off; /* bytes of the CRI log consumed */
	size_t plain_size;
	struct timespec mtime;
	int wd;	       /* inotify watch on the CRI log, -1 when none */
	char *partial; /* a CRI line read without its newline yet */
	size_t partial_len;
};

struct container {
	const struct spec_container *spec; /* into pod->spec */
	char *name;
	bool init, sidecar;
	enum cphase phase;
	char *waiting_reason, *waiting_message;
	struct timespec started_at; /* running */
	struct cterm term;	    /* when C_TERMINATED */
	bool has_last;
	struct cterm last;
	int restart_count;
	int attempt; /* instance number; logs/<name>/<attempt>.log */
	bool ever_started;
	bool ready, started;
	char cid[40]; /* current instance, "" if none */
	pid_t pid;
	char *image_ref, *image_id;
	char **env; /* the environment it got, for the env file */
	/* CrashLoopBackOff, as kubelet's flowcontrol.Backoff */
	int64_t backoff_ms, backoff_updated_ms;
	int64_t next_start_ms; /* monotonic; 0 = now */
	bool killing;	       /* SIGTERM sent */
	struct plainlog log, prevlog;
	int stop_signal; /* the image's StopSignal, default SIGTERM */
	struct probe_state probes[PK_COUNT];
	enum stop_state stop;
	int64_t stop_deadline_ms; /* end of the grace period (STOP_PRESTOP) or of the wait */
	bool prestop_done;
	bool poststart_pending; /* running, but postStart has not finished */
	char *kill_message;	/* why podfs stopped it (liveness, postStart, ...) */
	char *kill_reason;	/* the terminated reason to report instead of Error */
	bool probes_loaded;	/* probes, ready, started came from state.json */
	bool spec_restart;	/* killed for a new definition: starts again, whatever the policy */
	/* image pulls (podimage.c) */
	struct pull_job *pull;		       /* in flight, or finished and not yet looked at */
	int64_t pull_backoff_ms, pull_next_ms; /* ImagePullBackOff; monotonic */
	int64_t pull_note_ms;		       /* when progress was last put in the status */
};

struct event {
	struct timespec when;
	bool warning;
	char *reason, *object, *message;
	int count;
};

struct pod {
	char *name;
	char uid[40];
	struct timespec created;
	/* the applied manifest */
	char *spec_yaml;
	size_t spec_len;
	struct timespec spec_mtime;
	struct spec_pod *spec;
	/* a manifest waiting for the old pod to stop */
	char *pending_yaml;
	size_t pending_len;
	struct spec_pod *pending;
	/* specs replaced in place (an image changed): kept until the pod is
	 * replaced or freed, as jobs and starts may still point into them */
	struct spec_pod **old_specs;
	size_t nold_specs;
	struct container *c;
	size_t nc; /* init containers first */
	size_t ninit;
	enum pod_phase phase;
	char *reason, *message;
	struct timespec start_time;
	bool has_start_time;
	/* sandbox */
	char infra_cid[40];
	pid_t infra_pid;
	bool sandbox_ready;
	char *rundir; /* RUN/pods/<uid> */
	/* the pod's IPs (IPv4 first), NULL-terminated; NULL until its first
	 * sandbox has a network. Kept after the sandbox goes, as the kubelet
	 * keeps a finished pod's IPs. Written by the supervisor thread only. */
	char **pod_ips;
	/* deletion */
	bool deleting;
	int64_t kill_deadline_ms;
	bool gone;
	int deleters; /* threads waiting in backend_pod_delete */
	int jobs;     /* probe, hook and kill jobs in flight: the pod and its spec
		       * stay until they are done */
	bool deadline_exceeded;
	bool evicted; /* evict.c: stop with the eviction's grace (2 s, no preStop) */
	struct timespec evicted_at;
	char *apply_error; /* the last refused manifest's errors */
	/* events */
	struct event *ev;
	size_t nev;
	struct timespec events_mtime;
	size_t events_size;
	/* rendered: the status document is kept as a tree (to tell what
	 * changed) and turned into text when read (status_pod_text) */
	struct json_t *r_tree;
	bool r_stale; /* r_status and r_json are older than r_tree */
	char *r_status, *r_json, *r_phase;
	char *r_pskey; /* its ps line without AGE, to know when ps changed */
	struct timespec r_mtime;
	char *saved_state;	/* the last state.json written, to skip rewrites */
	int64_t state_saved_ms; /* monotonic: when state.json was last brought up to date */
	bool events_unsaved; /* events newer than state.json (saved within EVENTS_SAVE_DELAY_MS) */
	int64_t wake_ms;     /* supervisor: sync again at this time (0 = none) */
	int64_t probe_wake_ms; /* supervisor: the next probe is due (0 = none) */
	bool dirty;	       /* supervisor: sync soon */
	/* static pods (static.c) */
	char *static_src;	   /* the manifest file it comes from; NULL: not static */
	int64_t static_missing_ms; /* monotonic: when its file was first seen gone */
	bool shut_down;		   /* stopped for podfs's clean shutdown (--stop-pods-on-exit) */
	bool probed;		   /* supervisor: a probe result moved only probe counters */
};

struct backend {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* signalled when a pod goes */
	char *state_dir, *node_name;
	char host_ip[64]; /* the node's first non-loopback IPv4 address, or "" */
	double backoff_scale;
	struct cni_net net; /* the pod network (--pod-cidr) */
	struct rt rt;
	struct image_store *images;
	char *infra_rootfs;
	struct pod **pods;
	size_t npods, cappods;
	int wake_fd; /* eventfd: wake the supervisor */
	int ino_fd;  /* inotify: exit dir and logs */
	int exit_wd;
	pthread_t thread;
	bool stop;
	struct probe_pool *pool;   /* probes, hooks, kills */
	struct registry *registry; /* image pulls */
	struct pull_job *pulls;	   /* pulls in flight (podimage.c) */
	int npulls;		   /* their threads; b->cond is broadcast when one ends */
	backend_change_cb change_cb;
	void *change_arg;
	/* node-wide renders */
	char *r_node;
	struct timespec r_ps_mtime, r_node_mtime;
	int64_t node_milli_cpu, node_memory;
	int64_t node_ephemeral; /* the state dir's file system, bytes (-1: unknown) */
	int64_t alloc_memory, alloc_ephemeral; /* allocatable (res_node_allocatable) */
	struct timespec boot;
	struct static_dir *statics; /* --manifest-dir, or NULL */
	bool shutting_down;	    /* backend_close(b, true): stop every pod, keep its spec */
	struct evictor *evictor;    /* local storage eviction (evict.c) */
};

/* pod.c */
struct pod *pod_find(struct backend *b, const char *name);
void pod_wake(struct backend *b);
void *pod_supervisor(void *arg);
int pod_load_all(struct backend *b, char **err);
void pod_check_exits(struct backend *b);
void pod_free(struct pod *p);
/* Give an empty pod its spec (owned) and container table. */
void pod_install_spec(struct pod *p, struct spec_pod *spec, char *yaml, size_t len);
/* Take SPEC (owned), which differs from the pod's at most in containers'
 * images (spec_compare), without replacing the pod: the next sync restarts
 * the running containers whose image changed, as the kubelet does. */
void pod_update_in_place(struct pod *p, struct spec_pod *spec, char *yaml, size_t len);
void pod_event(struct backend *b, struct pod *p, bool warning, const char *reason,
	       const char *object, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Put C in Waiting with REASON and MESSAGE (a terminated instance moves to
 * lastState). Lock held. */
void pod_container_wait(struct container *c, const char *reason, const char *message);

/* podimage.c: the image a container needs, by its imagePullPolicy. Lock
 * held. True when C may start now; else C is Waiting (pull in progress
 * with its progress in the message, ErrImagePull, ImagePullBackOff,
 * ErrImageNeverPull, InvalidImageName) and *WAKE says when to look again.
 * Pulls run on their own threads and wake the supervisor. */
bool podimage_ready(struct backend *b, struct pod *p, struct container *c, int64_t *wake);
/* A container going away drops its pull (which runs on to its end). */
void podimage_release(struct container *c);
/* backend_close: cancel pulls in flight and wait for their threads. */
void podimage_shutdown(struct backend *b);

/* podprobe.c: probes, hooks and stops, run on the pool; results come back
 * under the lock and mark the pod dirty. */
void podprobe_reset(struct container *c);
/* CS's probe of KIND (enum probe_kind), or NULL. */
const struct spec_probe *podprobe_spec_of(const struct spec_container *cs, int kind);
void podprobe_schedule(struct backend *b, struct pod *p, struct container *c, int64_t *wake);
void podprobe_poststart(struct backend *b, struct pod *p, struct container *c);
void podprobe_kill(struct backend *b, struct pod *p, const char *cid, int sig);
void container_stop_begin(struct backend *b, struct pod *p, struct container *c, int64_t grace_ms,
			  const char *why);
void container_stop_advance(struct backend *b, struct pod *p, struct container *c, int64_t *wake);
const char *probe_kind_name(enum probe_kind k);

/* status.c: re-render a pod's status files and the node files; returns
 * true (and calls the change callback) when something changed. Lock held. */
void status_render_pod(struct backend *b, struct pod *p);
void status_render_node(struct backend *b);
char *status_ps_table(struct backend *b);
void status_ps_changed(struct backend *b);
char *status_events_text(const struct pod *p);
char *status_container_text(const struct pod *p, const struct container *c);
/* The text of status (BF_STATUS) or status.json (BF_STATUS_JSON), rendered
 * from the tree if it is stale. Lock held. */
const char *status_pod_text(struct pod *p, enum backend_file file);
/* Only probe states moved (light probe results, podprobe.c): update the
 * probes of the status document in place and announce. Lock held. */
void status_probes_changed(struct backend *b, struct pod *p);
const char *status_phase_name(enum pod_phase ph);
void status_timefmt(const struct timespec *ts, char *buf, size_t len);

/* podres.c: resources and volumes of a pod (resources.c, cgroup.c and
 * volume.c applied to it). Admission and totals with the lock held; the
 * rest touches only the pod's fixed fields and may run without it. */
struct res_amount;
struct spec_container;
bool podres_admit(struct backend *b, struct pod *p);
void podres_node_totals(struct backend *b, struct res_amount *req, struct res_amount *lim,
			int64_t *npods);
char *podres_cgroup_path(const struct pod *p);
int podres_cgroup_setup(struct backend *b, struct pod *p, char **err);
void podres_cgroup_remove(const struct pod *p);
char **podres_volume_paths(struct backend *b, const struct pod *p);
struct vol_sources;
int podres_subpaths(struct backend *b, const struct pod *p, const struct spec_container *c,
		    char *const *vpaths, struct vol_sources *out, char **err);
int podres_volumes_setup(struct backend *b, struct pod *p, char **err);
void podres_volumes_teardown(struct backend *b, struct pod *p);
bool podres_oom_killed(const struct pod *p, const char *cid);
int podres_oom_score_adj(struct backend *b, const struct pod *p, const struct spec_container *c);
int podres_sandbox_oom_score_adj(void);
bool podres_no_swap(void);

/* podstore.c: the durable per-pod state (STATE/pods/NAME/). */
int podstore_save_spec(struct backend *b, const char *name, const char *buf, size_t len,
		       char **err);
int podstore_save_state(struct backend *b, struct pod *p);
int podstore_load(struct backend *b, const char *name, struct pod **out, char **err);
void podstore_remove(struct backend *b, const char *name);
/* A deletion asked for is durable: STATE/pods/NAME/deleting, so a podfs
 * killed meanwhile finishes it when it starts again. */
int podstore_mark_deleting(struct backend *b, const char *name);
char *podstore_pod_dir(struct backend *b, const char *name);

int podstore_save_source(struct backend *b, const char *name, const char *source);

/* backend.c: the pieces of a create and an apply the static pods share
 * with the tree (lock held). */
struct pod *pod_new(struct backend *b, const char *name);
void pod_apply_parsed(struct backend *b, struct pod *p, struct spec_pod *spec, const char *buf,
		      size_t len);

int64_t mono_ms(void);
void realtime_now(struct timespec *ts);

#endif
