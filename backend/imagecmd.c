/* imagecmd.c: `podfs image import|ls|rm` against the state dir's store. */
#include "backend/backend.h"
#include "backend/image.h"
#include "backend/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int usage(void)
{
	fputs("usage: podfs image import PATH [REF]   add an OCI layout dir or OCI archive\n"
	      "       podfs image ls                  list local images\n"
	      "       podfs image rm REF              remove an image\n",
	      stderr);
	return 2;
}

int backend_image_cmd(const char *state_dir, int argc, char **argv)
{
	if (argc < 1)
		return usage();
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
	} else if (!strcmp(argv[0], "ls") && argc == 1) {
		char *t = image_list_table(st);
		fputs(t, stdout);
		free(t);
	} else if (!strcmp(argv[0], "rm") && argc == 2) {
		/* refusing images in use needs the running podfs; the store
		 * itself keeps layers that other images share */
		if (image_remove(st, argv[1], false, &err) < 0) {
			fprintf(stderr, "podfs: image rm %s: %s\n", argv[1], err);
			ret = 1;
		}
	} else {
		ret = usage();
	}
	free(err);
	image_store_close(st);
	return ret;
}
