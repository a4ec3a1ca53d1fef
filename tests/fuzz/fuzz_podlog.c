/* fuzz_podlog.c: libFuzzer target for the CRI log reader in
 * backend/podlog.c. What conmon writes frames what a container prints,
 * and a container prints anything. The input is written to a CRI log
 * file in up to three pieces (cut where its first two bytes say), with a
 * pump after each, as inotify would; then the promises of podlog.h are
 * checked: every byte consumed, the plain file as long as plain_size, and
 * a tail no longer than asked. See docs/fuzzing.md. */
#include "backend/podlog.h"
#include "backend/util.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/podfs-fuzz-podlog.XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	struct plainlog l;
	memset(&l, 0, sizeof(l));
	l.wd = -1;
	l.cri_path = xasprintf("%s/0.log", dir);
	l.plain_path = xasprintf("%s/0.plain", dir);
	unlink(l.cri_path);
	unlink(l.plain_path);
	size_t cut1 = size ? data[0] % (size + 1) : 0;
	size_t cut2 = size > 1 ? data[1] % (size + 1) : size;
	if (cut2 < cut1) {
		size_t t = cut1;
		cut1 = cut2;
		cut2 = t;
	}
	size_t cuts[] = {cut1, cut2, size};
	size_t done = 0;
	int fd = open(l.cri_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		abort();
	for (int i = 0; i < 3; i++) {
		if (cuts[i] > done) {
			if (write(fd, data + done, cuts[i] - done) != (ssize_t)(cuts[i] - done))
				abort();
			done = cuts[i];
		}
		podlog_pump(&l);
	}
	close(fd);
	if ((size_t)l.cri_off != size)
		abort();
	struct stat st;
	if (stat(l.plain_path, &st) == 0 ? (size_t)st.st_size != l.plain_size : l.plain_size != 0)
		abort();
	char *t = podlog_tail(&l, 80, 2048);
	if (t && strlen(t) > 2048)
		abort();
	free(t);
	podlog_reset(&l);
	return 0;
}
