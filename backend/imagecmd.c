/* imagecmd.c: `podfs image import|pull|ls|rm` against the state dir's
 * store: a progress bar for pulls on a terminal, and rm refusing images
 * that a pod's applied spec (STATE/pods/NAME/spec.yaml) names. */
#include "backend/backend.h"
#include "backend/image.h"
#include "backend/registry.h"
#include "backend/spec.h"
#include "backend/util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int usage(void)
{
	fputs("usage: podfs image import PATH [REF]   add an OCI layout dir or OCI archive\n"
	      "       podfs image pull REF            fetch an image from its registry\n"
	      "       podfs image ls                  list local images\n"
	      "       podfs image rm REF              remove an image no pod uses\n",
	      stderr);
	return 2;
}

int backend_registry_setup(const struct backend_opts *o, const char *state_dir,
			   struct registry **out, char **err)
{
	struct registry *r = registry_new();
	int rc = 0;
	for (size_t i = 0; rc == 0 && o->registry_mirrors && o->registry_mirrors[i]; i++)
		rc = registry_add_mirror(r, o->registry_mirrors[i], err);
	for (size_t i = 0; rc == 0 && o->insecure_registries && o->insecure_registries[i]; i++)
		rc = registry_add_insecure(r, o->insecure_registries[i], err);
	if (rc < 0) {
		registry_free(r);
		return rc;
	}
	if (o->registry_auth) {
		registry_set_auth_file(r, o->registry_auth);
	} else {
		char *p = xasprintf("%s/auth.json", state_dir);
		registry_set_auth_file(r, p);
		free(p);
	}
	char *certs = o->registry_certs_dir ? xstrdup(o->registry_certs_dir)
					    : xasprintf("%s/certs.d", state_dir);
	registry_set_certs_dir(r, certs);
	free(certs);
	*out = r;
	return 0;
}

struct bar {
	const char *ref;
	bool tty;
	int last_quarter;
	bool drawn;
};

static void bar_cb(void *arg, int64_t done, int64_t total)
{
	struct bar *b = arg;
	char d[32], t[32];
	util_human_bytes(done, d, sizeof(d));
	util_human_bytes(total, t, sizeof(t));
	int pct = total > 0 ? (int)(done * 100 / total) : 100;
	if (b->tty) {
		int w = 30, fill = total > 0 ? (int)(done * w / total) : w;
		char bar[64];
		for (int i = 0; i < w; i++)
			bar[i] = i < fill ? '#' : ' ';
		bar[w] = '\0';
		fprintf(stderr, "\r%s [%s] %s / %s %3d%%\033[K", b->ref, bar, d, t, pct);
		b->drawn = true;
	} else if (total > 0 && pct / 25 > b->last_quarter) {
		b->last_quarter = pct / 25;
		fprintf(stderr, "%s: %s of %s (%d%%)\n", b->ref, d, t, pct);
	}
	fflush(stderr);
}

static int cmd_pull(const struct backend_opts *o, const char *state, struct image_store *st,
		    const char *ref)
{
	struct registry *r = NULL;
	char *err = NULL;
	if (backend_registry_setup(o, state, &r, &err) < 0) {
		fprintf(stderr, "podfs: %s\n", err);
		free(err);
		return 2;
	}
	char *norm = image_normalize_ref(ref, &err);
	if (!norm) {
		fprintf(stderr, "podfs: image pull: %s\n", err);
		free(err);
		registry_free(r);
		return 1;
	}
	struct bar b = {.ref = norm, .tty = isatty(2) == 1, .last_quarter = 0};
	struct registry_progress prog = {.cb = bar_cb, .arg = &b};
	if (!b.tty)
		fprintf(stderr, "pulling %s\n", norm);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct image_ingest_result res;
	int rc = registry_pull(r, st, norm, &prog, &res, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (b.drawn)
		fputc('\n', stderr);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (rc < 0) {
		fprintf(stderr, "podfs: image pull %s: %s\n", norm, err);
	} else {
		char sz[32], dl[32];
		util_human_bytes(res.size, sz, sizeof(sz));
		util_human_bytes(res.downloaded, dl, sizeof(dl));
		printf("pulled %s (%s, %s, %s downloaded in %.1fs)\n", norm, res.digest, sz, dl,
		       secs);
	}
	free(res.digest);
	free(err);
	free(norm);
	registry_free(r);
	return rc < 0 ? 1 : 0;
}

/* Does the spec of a pod in STATE/pods name image REF? (What a running
 * podfs has applied is always there: specs are stored before they act.) */
static bool image_in_use(const char *state, struct image_store *st, const char *ref, char **who)
{
	char *norm = image_normalize_ref(ref, NULL);
	if (!norm)
		return false;
	char *want_digest = NULL;
	struct image_info *info = NULL;
	char *e = NULL;
	if (image_lookup(st, norm, &info, &e) == 0)
		want_digest = xstrdup(info->digest);
	image_info_free(info);
	free(e);
	bool used = false;
	char *dir = xasprintf("%s/pods", state);
	DIR *d = opendir(dir);
	struct dirent *de;
	while (!used && d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *path = xasprintf("%s/%s/spec.yaml", dir, de->d_name);
		char *buf = NULL;
		size_t len = 0;
		struct spec_pod *pod = NULL;
		struct diag_list errs = {0};
		if (util_read_file(path, 1 << 20, &buf, &len) == 0 &&
		    spec_parse(buf, len, &pod, &errs) == 0) {
			for (size_t i = 0; !used && i < pod->ninit + pod->ncont; i++) {
				const struct spec_container *c =
				    i < pod->ninit ? &pod->init_containers[i]
						   : &pod->containers[i - pod->ninit];
				char *n = c->image ? image_normalize_ref(c->image, NULL) : NULL;
				if (n && !strcmp(n, norm))
					used = true;
				/* "x@sha256:..." asks for every tag with that digest */
				if (n && !used && strchr(norm, '@') && want_digest) {
					struct image_info *ci = NULL;
					if (image_lookup(st, n, &ci, &e) == 0 &&
					    !strcmp(ci->digest, want_digest))
						used = true;
					image_info_free(ci);
					free(e);
					e = NULL;
				}
				if (used)
					*who = xasprintf("%s (container %s)", de->d_name, c->name);
				free(n);
			}
		}
		spec_pod_free(pod);
		diag_list_free(&errs);
		free(buf);
		free(path);
	}
	if (d)
		closedir(d);
	free(dir);
	free(want_digest);
	free(norm);
	return used;
}

int backend_image_cmd(const struct backend_opts *o, int argc, char **argv)
{
	if (argc < 1)
		return usage();
	const char *state_dir = o->state_dir ? o->state_dir : "/var/lib/podfs";
	struct image_store *st = NULL;
	char *err = NULL;
	if (util_mkdir_p(state_dir, 0700) < 0 || image_store_open(state_dir, &st, &err) < 0) {
		fprintf(stderr, "podfs: %s\n", err ? err : strerror(errno));
		free(err);
		return 1;
	}
	int ret = 0;
	if (!strcmp(argv[0], "import") && (argc == 2 || argc == 3)) {
		if (image_import(st, argv[1], argc == 3 ? argv[2] : NULL, &err) < 0) {
			fprintf(stderr, "podfs: image import %s: %s\n", argv[1], err);
			ret = 1;
		} else {
			char *ref = argc == 3 ? image_normalize_ref(argv[2], NULL) : NULL;
			printf("imported %s\n", ref ? ref : argv[1]);
			free(ref);
		}
	} else if (!strcmp(argv[0], "pull") && argc == 2) {
		ret = cmd_pull(o, state_dir, st, argv[1]);
	} else if (!strcmp(argv[0], "ls") && argc == 1) {
		char *t = image_list_table(st);
		fputs(t, stdout);
		free(t);
	} else if (!strcmp(argv[0], "rm") && argc == 2) {
		char *who = NULL;
		int ul = image_use_lock(st, true);
		bool used = image_in_use(state_dir, st, argv[1], &who);
		int rr = image_remove(st, argv[1], used, &err);
		image_use_unlock(ul);
		if (rr < 0) {
			fprintf(stderr, "podfs: image rm %s: %s%s%s\n", argv[1], err,
				who ? ": pod " : "", who ? who : "");
			ret = 1;
		}
		free(who);
	} else {
		ret = usage();
	}
	free(err);
	image_store_close(st);
	return ret;
}
