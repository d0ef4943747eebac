/* Starting swtpm (a real TPM 2.0, libtpms) for the host tests that talk
 * to a TPM (test-tpm, test-interop, test-measure): a TCP command port P and control
 * port P+1 on loopback, state in a directory of the test's own. */
#ifndef SEALROOT_UNIT_SWTPM_H
#define SEALROOT_UNIT_SWTPM_H

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static int bind_port(int port)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		.sin_port = htons(port),
	};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return ntohs(a.sin_port);
}

/* A port P the kernel just gave out, with P+1 free too (swtpm's control
 * channel). Another process could take them before swtpm does: the
 * connection attempts that follow would then fail, and the test says so. */
static int free_port_pair(void)
{
	for (int i = 0; i < 50; i++) {
		int p = bind_port(0);

		if (p > 0 && p < 65535 && bind_port(p + 1) == p + 1)
			return p;
	}
	return -1;
}

/* Fork swtpm on PORT and PORT+1 with its state in STATE_DIR; it dies with
 * the test. Returns its pid, or -errno. */
static pid_t swtpm_spawn(const char *state_dir, int port)
{
	char server[64], ctrl[64], state[PATH_MAX + 16];
	pid_t pid;

	snprintf(server, sizeof(server), "type=tcp,port=%d,bindaddr=127.0.0.1", port);
	snprintf(ctrl, sizeof(ctrl), "type=tcp,port=%d,bindaddr=127.0.0.1", port + 1);
	snprintf(state, sizeof(state), "dir=%s", state_dir);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execlp("swtpm", "swtpm", "socket", "--tpm2", "--server", server,
		       "--ctrl", ctrl, "--tpmstate", state, "--flags",
		       "not-need-init,startup-clear", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static inline bool swtpm_listening(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

/* swtpm takes a moment to listen: wait up to 5 s with plain connects
 * (a failed Tss2_Tcti_Swtpm_Init leaks its copy of conf). */
static inline int swtpm_wait_listening(int port)
{
	struct timespec pause = { .tv_nsec = 50 * 1000 * 1000 };

	for (int i = 0; i < 100; i++) {
		if (swtpm_listening(port))
			return 0;
		nanosleep(&pause, NULL);
	}
	return -ETIMEDOUT;
}

#endif
