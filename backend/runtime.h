/* runtime.h: the runc + conmon driver. Each container runs under its own
 * conmon (its monitor and log writer), so containers outlive podfs; exits
 * are learnt from conmon's exit files, not from being a parent. The argv
 * of every conmon and runc call is built by a pure function. */
#ifndef PODFS_RUNTIME_H
#define PODFS_RUNTIME_H

#include <stdbool.h>
#include <sys/types.h>

struct rt {
	char *run_dir;	     /* /run/podfs/<id> */
	char *runc_root;     /* run_dir/runc */
	char *exit_dir;	     /* run_dir/exits: conmon writes <cid> here */
	char *sock_dir;	     /* run_dir/s */
	char *runc, *conmon; /* binaries */
};

/* Set up the runtime directories under RUN_DIR. 0 or -errno with *err. */
int rt_init(struct rt *rt, const char *run_dir, char **err);
/* podfs stops with nothing running: remove the exit files and socket
 * links left, then rmdir the run dir and its subdirectories (what is not
 * empty stays). */
void rt_remove_dirs(const struct rt *rt);
void rt_fini(struct rt *rt);

/* conmon's argv for container CID with bundle BUNDLE (whose "persist"
 * subdirectory must exist) logging to LOG_PATH. NULL-terminated; free with
 * rt_argv_free. */
char **rt_conmon_argv(const struct rt *rt, const char *cid, const char *bundle,
		      const char *log_path);
void rt_argv_free(char **argv);

/* `runc create` the container under a new conmon and wait until it exists.
 * Returns 0 and the container's init pid, or -EIO with runc's own message
 * in *err ("runc create failed: ... no such file or directory"). */
int rt_create(const struct rt *rt, const char *cid, const char *bundle, const char *log_path,
	      pid_t *pid, char **err);
/* `runc start`: the created container runs its process. */
int rt_start(const struct rt *rt, const char *cid, char **err);
/* `runc kill [--all] CID SIG`; -ESRCH if it is not running. */
int rt_kill(const struct rt *rt, const char *cid, int sig, bool all, char **err);
/* `runc delete --force CID`; succeeds if the container is already gone. */
int rt_delete(const struct rt *rt, const char *cid, char **err);
/* `runc state`: "created", "running", "stopped", or NULL if unknown to runc. */
char *rt_state(const struct rt *rt, const char *cid, pid_t *pid);

/* The exit code conmon recorded for CID: 0 and *code if the file exists,
 * -ENOENT if the container has not exited (or conmon died first). */
int rt_read_exit(const struct rt *rt, const char *cid, int *code);
/* Did conmon see an OOM kill? (its persist dir holds "oom") */
bool rt_oom_killed(const char *bundle);

/* Run ARGV (argv[0] a path) to completion, collecting stdout+stderr (at
 * most 64 KiB kept) into *out if non-NULL; kill it after TIMEOUT_MS (0 =
 * none), then return -ETIMEDOUT. Returns -errno on spawn failure, else 0
 * with *status the exit code (128+signal if killed). */
int rt_run(char *const *argv, int timeout_ms, int *status, char **out);

#endif
