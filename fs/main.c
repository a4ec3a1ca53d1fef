/* main.c: the podfs command line: the mount (podfs [options] MOUNTPOINT)
 * and the subcommands (validate, image). */
#include "backend/backend.h"
#include "fs/fs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fputs(
	    "usage: podfs [options] MOUNTPOINT    mount the pod tree and run the node agent\n"
	    "       podfs validate [-q] FILE...   check Pod manifests (normalized JSON or errors)\n"
	    "       podfs image import PATH [REF] | pull REF | ls | rm REF\n"
	    "\n"
	    "options:\n"
	    "  --state-dir DIR        specs, logs, images, pod state (default /var/lib/podfs,\n"
	    "                         or $PODFS_STATE_DIR)\n"
	    "  --manifest-dir DIR     static pods: every manifest file in DIR runs as pod\n"
	    "                         NAME-NODENAME (as kubelet's --pod-manifest-path)\n"
	    "  --stop-pods-on-exit    on unmount, SIGTERM or SIGINT, stop every pod first\n"
	    "                         (they start again with the next podfs); default:\n"
	    "                         pods keep running without podfs\n"
	    "  --node-name NAME       default: the hostname\n"
	    "  --backoff-scale F      multiply restart and image pull back-off times by F\n"
	    "                         (tests; default 1)\n"
	    "  --registry-mirror REG=URL   serve registry REG (e.g. docker.io) from URL\n"
	    "                         (repeatable; tried in order, then REG itself)\n"
	    "  --insecure-registry HOST:PORT   plain HTTP to that registry (repeatable;\n"
	    "                         localhost and 127.0.0.0/8 always are)\n"
	    "  --registry-auth FILE   Docker-style credentials ({\"auths\": ...});\n"
	    "                         default STATE/auth.json\n"
	    "  --registry-certs-dir DIR   TLS per registry, as Docker's certs.d:\n"
	    "                         DIR/HOST:PORT/ca.crt (and NAME.cert + NAME.key);\n"
	    "                         default STATE/certs.d\n"
	    "  --pod-cidr CIDR        pod network range for the CNI bridge (default 10.88.0.0/16)\n"
	    "  --cni-bin-dir DIR      the CNI plugins (default /usr/lib/cni)\n"
	    "  -f                     stay in the foreground\n"
	    "  -d                     FUSE debug output (implies -f)\n"
	    "  -o OPT[,OPT...]        mount options (allow_other, ...)\n"
	    "  -h, --help             this text\n",
	    f);
}

static int cmd_validate(int argc, char **argv)
{
	int quiet = 0, failed = 0, files = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			quiet = 1;
			continue;
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		files++;
		char *json = NULL, *errors = NULL;
		if (backend_validate_file(argv[i], &json, &errors) < 0) {
			fputs(errors, stderr);
			failed = 1;
		} else if (!quiet) {
			printf("%s\n", json);
		}
		free(json);
		free(errors);
	}
	if (!files) {
		usage(stderr);
		return 2;
	}
	return failed;
}

struct mount_args {
	struct backend_opts bo;
};

static int open_backend(void *arg, struct backend **b)
{
	struct mount_args *ma = arg;
	char *err = NULL;
	int r = backend_open(&ma->bo, b, &err);
	if (r < 0) {
		fprintf(stderr, "podfs: %s\n", err ? err : strerror(-r));
		free(err);
	}
	return r;
}

/* An absolute path for P (the daemon changes to / before it opens the
 * state); malloc'd, or NULL for NULL. */
static char *absolute(const char *p)
{
	if (!p)
		return NULL;
	char cwd[PATH_MAX];
	if (p[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return strdup(p);
	size_t n = strlen(cwd) + strlen(p) + 2;
	char *a = malloc(n);
	if (a)
		snprintf(a, n, "%s/%s", cwd, p);
	return a;
}

int main(int argc, char **argv)
{
	struct mount_args ma = {.bo = {.backoff_scale = 1.0}};
	bool stop_pods = false;
	ma.bo.state_dir = getenv("PODFS_STATE_DIR");
	struct fs_opts fo = {0};
	char **fargv = calloc((size_t)argc + 1, sizeof(char *));
	const char **mirrors = calloc((size_t)argc + 1, sizeof(char *));
	const char **insecure = calloc((size_t)argc + 1, sizeof(char *));
	size_t nmirrors = 0, ninsecure = 0;
	ma.bo.registry_mirrors = mirrors;
	ma.bo.insecure_registries = insecure;
	char *abs_state = NULL, *abs_manifests = NULL, *abs_auth = NULL, *abs_certs = NULL;
	int ret = 0;
	int fargc = 0;
	fargv[fargc++] = argv[0];
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			ret = 0;
			goto out;
		} else if (!strcmp(a, "--state-dir") && val) {
			ma.bo.state_dir = val;
			i++;
		} else if (!strcmp(a, "--manifest-dir") && val) {
			ma.bo.manifest_dir = val;
			i++;
		} else if (!strcmp(a, "--stop-pods-on-exit")) {
			stop_pods = true;
		} else if (!strcmp(a, "--node-name") && val) {
			ma.bo.node_name = val;
			i++;
		} else if (!strcmp(a, "--backoff-scale") && val) {
			ma.bo.backoff_scale = atof(val);
			if (ma.bo.backoff_scale <= 0) {
				fprintf(stderr, "podfs: --backoff-scale must be > 0\n");
				ret = 2;
				goto out;
			}
			i++;
		} else if (!strcmp(a, "--pod-cidr") && val) {
			char *err = NULL;
			if (backend_check_pod_cidr(val, &err) < 0) {
				fprintf(stderr, "podfs: --pod-cidr %s\n", err);
				free(err);
				ret = 2;
				goto out;
			}
			ma.bo.pod_cidr = val;
			i++;
		} else if (!strcmp(a, "--cni-bin-dir") && val) {
			ma.bo.cni_bin_dir = val;
			i++;
		} else if (!strcmp(a, "-f")) {
			fo.foreground = true;
		} else if (!strcmp(a, "-d")) {
			fo.foreground = fo.debug = true;
		} else if (!strcmp(a, "-o") && val) {
			fargv[fargc++] = argv[i];
			fargv[fargc++] = argv[++i];
		} else if (!strcmp(a, "--registry-mirror") && val) {
			mirrors[nmirrors++] = val;
			i++;
		} else if (!strcmp(a, "--insecure-registry") && val) {
			insecure[ninsecure++] = val;
			i++;
		} else if (!strcmp(a, "--registry-auth") && val) {
			ma.bo.registry_auth = val;
			i++;
		} else if (!strcmp(a, "--registry-certs-dir") && val) {
			ma.bo.registry_certs_dir = val;
			i++;
		} else if (a[0] == '-') {
			fprintf(stderr, "podfs: unknown option %s\n", a);
			usage(stderr);
			ret = 2;
			goto out;
		} else {
			break;
		}
	}
	const char *state = ma.bo.state_dir ? ma.bo.state_dir : "/var/lib/podfs";
	if (i < argc && !strcmp(argv[i], "validate")) {
		ret = cmd_validate(argc - i, argv + i);
		goto out;
	}
	if (i < argc && !strcmp(argv[i], "image")) {
		ma.bo.state_dir = state;
		ret = backend_image_cmd(&ma.bo, argc - i - 1, argv + i + 1);
		goto out;
	}
	if (i != argc - 1) {
		usage(stderr);
		ret = 2;
		goto out;
	}
	fo.mountpoint = argv[i];
	fo.fuse_argv = fargv;
	fo.fuse_argc = fargc;
	abs_state = absolute(state);
	abs_manifests = absolute(ma.bo.manifest_dir);
	ma.bo.state_dir = abs_state;
	ma.bo.manifest_dir = abs_manifests;
	abs_auth = absolute(ma.bo.registry_auth);
	abs_certs = absolute(ma.bo.registry_certs_dir);
	ma.bo.registry_auth = abs_auth;
	ma.bo.registry_certs_dir = abs_certs;
	/* refused before the mount point is touched, while stderr is still
	 * the user's terminal (the daemon's is /dev/null) */
	char *err = NULL;
	int lock = backend_lock_state(abs_state, &err);
	if (lock < 0) {
		fprintf(stderr, "podfs: %s\n", err);
		free(err);
		ret = 1;
		goto out;
	}
	ma.bo.lock_fd = lock;
	struct stat st;
	int serr = !abs_manifests		  ? 0
		   : stat(abs_manifests, &st) < 0 ? errno
		   : !S_ISDIR(st.st_mode)	  ? ENOTDIR
						  : 0;
	if (serr) {
		fprintf(stderr, "podfs: manifest dir %s: %s\n", abs_manifests, strerror(serr));
		close(lock);
		ret = 1;
		goto out;
	}
	ret = fs_main(&fo, open_backend, &ma);
	/* unmounted or signalled: the pods run on unless asked otherwise;
	 * with none left, closing tidies the run dir away */
	if (fs_backend() && (stop_pods || backend_idle(fs_backend())))
		backend_close(fs_backend(), stop_pods);
out:
	free(abs_state);
	free(abs_manifests);
	free(abs_auth);
	free(abs_certs);
	free(fargv);
	free(mirrors);
	free(insecure);
	return ret;
}
