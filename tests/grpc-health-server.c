/* grpc-health-server.c: a gRPC health server (grpc.health.v1.Health/Check)
 * over HTTP/2 cleartext, for the integration tests of grpc probes. Built
 * static by tests/t0023-grpc-probe.sh and put into a test image.
 *
 *   grpc-health-server PORT DIR
 *
 * Each Check answers from DIR: the file named after the requested service
 * ("default" for the empty name) holds SERVING, NOT_SERVING, UNKNOWN or
 * SERVICE_UNKNOWN; a service without a file is not known (NotFound, "unknown
 * service", as grpc-go's health server answers). The files are read at each
 * request, so a test changes the answer by rewriting one.
 *
 * Just enough HTTP/2 for one unary call per connection: the preface,
 * SETTINGS (acknowledged), PING (answered), the request's HEADERS (not
 * decoded: HPACK is not needed to answer) and DATA up to END_STREAM; the
 * answer is HEADERS, DATA and trailers, with header blocks made of HPACK
 * literals without indexing or Huffman coding, which every decoder takes.
 * One process per connection (fork). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { F_DATA = 0, F_HEADERS = 1, F_SETTINGS = 4, F_PING = 6, F_GOAWAY = 7 };
enum { FL_END_STREAM = 1, FL_ACK = 1, FL_END_HEADERS = 4 };

#define MAX_FRAME 16384

/* Read exactly N bytes within 5 s; 0 on success. */
static int read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 5000) <= 0)
			return -1;
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

static int write_all(int fd, const void *buf, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(fd, (const char *)buf + done, n - done);
		if (w <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)w;
	}
	return 0;
}

static int frame(int fd, int type, int flags, unsigned sid, const void *p, size_t len)
{
	unsigned char h[9] = {(unsigned char)(len >> 16), (unsigned char)(len >> 8),
			      (unsigned char)len,	  (unsigned char)type,
			      (unsigned char)flags,	  (unsigned char)((sid >> 24) & 0x7f),
			      (unsigned char)(sid >> 16), (unsigned char)(sid >> 8),
			      (unsigned char)sid};
	if (write_all(fd, h, 9) < 0)
		return -1;
	return len ? write_all(fd, p, len) : 0;
}

struct block {
	unsigned char b[512];
	size_t n;
};

/* An HPACK literal header field without indexing, new name (RFC 7541 6.2.2);
 * names and values here are short (< 127 bytes). */
static void lit(struct block *bl, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);
	if (nl > 126 || vl > 126 || bl->n + 3 + nl + vl > sizeof(bl->b))
		return;
	bl->b[bl->n++] = 0x00;
	bl->b[bl->n++] = (unsigned char)nl;
	memcpy(bl->b + bl->n, name, nl);
	bl->n += nl;
	bl->b[bl->n++] = (unsigned char)vl;
	memcpy(bl->b + bl->n, value, vl);
	bl->n += vl;
}

/* The service named by a HealthCheckRequest: 5-byte gRPC prefix, then
 * protobuf field 1 (string). Returns -1 if the message is malformed. */
static int request_service(const unsigned char *m, size_t n, char *out, size_t outlen)
{
	out[0] = '\0';
	if (n < 5 || m[0] != 0)
		return -1;
	size_t len = (size_t)m[1] << 24 | (size_t)m[2] << 16 | (size_t)m[3] << 8 | m[4];
	if (len != n - 5)
		return -1;
	const unsigned char *p = m + 5, *end = m + n;
	while (p < end) {
		unsigned tag = *p++;
		if (tag != 0x0a || p >= end)
			return -1; /* only field 1, length-delimited, is expected */
		size_t sl = *p++;
		if (sl >= 128 || sl >= outlen || (size_t)(end - p) < sl)
			return -1;
		memcpy(out, p, sl);
		out[sl] = '\0';
		p += sl;
	}
	return 0;
}

/* ServingStatus of SERVICE from DIR: 0..3, or -1 if it is not known. */
static int lookup(const char *dir, const char *service)
{
	const char *name = *service ? service : "default";
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' || *c == '_'))
			return -1;
	if (name[0] == '.')
		return -1;
	char path[4096], word[64] = "";
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t r = read(fd, word, sizeof(word) - 1);
	close(fd);
	word[r > 0 ? r : 0] = '\0';
	word[strcspn(word, " \t\r\n")] = '\0';
	static const char *const names[] = {"UNKNOWN", "SERVING", "NOT_SERVING",
					    "SERVICE_UNKNOWN"};
	for (int i = 0; i < 4; i++)
		if (!strcmp(word, names[i]))
			return i;
	return 0;
}

static void serve(int fd, const char *dir)
{
	char preface[24];
	if (read_full(fd, preface, 24) < 0 ||
	    memcmp(preface, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24) != 0)
		return;
	if (frame(fd, F_SETTINGS, 0, 0, NULL, 0) < 0)
		return;
	static unsigned char payload[MAX_FRAME];
	unsigned char msg[512];
	size_t mlen = 0;
	unsigned sid = 0;
	for (bool done = false; !done;) {
		unsigned char fh[9];
		if (read_full(fd, fh, 9) < 0)
			return;
		size_t len = (size_t)fh[0] << 16 | (size_t)fh[1] << 8 | fh[2];
		unsigned stream = ((unsigned)fh[5] & 0x7f) << 24 | (unsigned)fh[6] << 16 |
				  (unsigned)fh[7] << 8 | fh[8];
		if (len > MAX_FRAME || (len && read_full(fd, payload, len) < 0))
			return;
		switch (fh[3]) {
		case F_SETTINGS:
			if (!(fh[4] & FL_ACK) && frame(fd, F_SETTINGS, FL_ACK, 0, NULL, 0) < 0)
				return;
			break;
		case F_PING:
			if (!(fh[4] & FL_ACK) && frame(fd, F_PING, FL_ACK, 0, payload, len) < 0)
				return;
			break;
		case F_HEADERS:
			sid = stream;
			done = fh[4] & FL_END_STREAM;
			break;
		case F_DATA:
			if (stream != sid || mlen + len > sizeof(msg))
				return;
			memcpy(msg + mlen, payload, len);
			mlen += len;
			done = fh[4] & FL_END_STREAM;
			break;
		case F_GOAWAY:
			return;
		default:
			break; /* WINDOW_UPDATE, PRIORITY, ... */
		}
	}
	char service[128];
	struct block h = {.n = 0};
	h.b[h.n++] = 0x88; /* indexed: ":status: 200" */
	lit(&h, "content-type", "application/grpc");
	if (request_service(msg, mlen, service, sizeof(service)) < 0) {
		lit(&h, "grpc-status", "13"); /* Internal */
		lit(&h, "grpc-message", "malformed%20HealthCheckRequest");
		frame(fd, F_HEADERS, FL_END_HEADERS | FL_END_STREAM, sid, h.b, h.n);
	} else {
		int st = lookup(dir, service);
		if (st < 0) {
			/* Trailers-Only, as grpc-go sends an error without a message */
			lit(&h, "grpc-status", "5"); /* NotFound */
			lit(&h, "grpc-message", "unknown%20service");
			frame(fd, F_HEADERS, FL_END_HEADERS | FL_END_STREAM, sid, h.b, h.n);
		} else {
			frame(fd, F_HEADERS, FL_END_HEADERS, sid, h.b, h.n);
			/* HealthCheckResponse{status: st}; field 1 varint, omitted at 0 */
			unsigned char resp[7] = {0, 0, 0, 0, 2, 0x08, (unsigned char)st};
			if (st == 0)
				resp[4] = 0;
			frame(fd, F_DATA, 0, sid, resp, st == 0 ? 5 : 7);
			struct block t = {.n = 0};
			lit(&t, "grpc-status", "0");
			frame(fd, F_HEADERS, FL_END_HEADERS | FL_END_STREAM, sid, t.b, t.n);
		}
	}
	/* let the client read everything and close first (a FIN now could
	 * end the connection before the client has taken the trailers) */
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (poll(&p, 1, 2000) > 0 && read(fd, payload, sizeof(payload)) > 0)
		;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s PORT DIR\n", argv[0]);
		return 2;
	}
	int port = atoi(argv[1]);
	signal(SIGCHLD, SIG_IGN); /* no zombies */
	signal(SIGPIPE, SIG_IGN);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int on = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				.sin_addr = {.s_addr = htonl(INADDR_ANY)}};
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 64) < 0) {
		perror("grpc-health-server: listen");
		return 1;
	}
	printf("grpc-health-server: listening on port %d, answers from %s\n", port, argv[2]);
	fflush(stdout);
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("grpc-health-server: accept");
			return 1;
		}
		pid_t pid = fork();
		if (pid == 0) {
			close(lfd);
			serve(fd, argv[2]);
			close(fd);
			_exit(0);
		}
		close(fd);
	}
}
