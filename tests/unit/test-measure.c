/* src/measure.c: the record text and the log reader on their own, then
 * the barrier against swtpm (a real TPM 2.0), its log written under a
 * scratch directory next to this binary (under the build tree) and
 * replayed to the PCR values the TPM holds. swtpm and the directory are
 * removed at the end; nothing else on the host is touched (the host's
 * boot ID is read, as on the device). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>
#include <tss2/tss2_tcti_swtpm.h>

#include "measure.h"
#include "tpm.h"
#include "unit.h"
#include "unit-files.h"
#include "unit-swtpm.h"
#include "util.h"

#define MASK ((1u << 7) | (1u << 14))
#define PCR_DEBUG 16	/* resettable, extendable by anyone */
#define LOG_REL "run/log/systemd/tpm2-measure.log"

/* SHA-256("leave-initrd"), SHA-256 and SHA-1 of "enter-initrd",
 * SHA-256("sysinit"). */
#define LEAVE_INITRD \
	"3be261aff7db92bf507eae947f4003ffa2bcad0bffe3524601d62d0bc8be7135"
#define ENTER_INITRD \
	"51e6b92f405d1f98d96e3de343d61d420ad6923b25de21d766f9298192f14fed"
#define ENTER_INITRD_SHA1 "b1b01d5f73f321eb70e76f8a0e241ac0a3fa4a6e"
#define SYSINIT \
	"730bb5a583ba880c277e656d2dc8aba1a314a11b14d25b05153d2bab82567a48"
#define ZERO_HEX \
	"0000000000000000000000000000000000000000000000000000000000000000"

static pid_t swtpm_pid = -1;
static int port;
static TSS2_TCTI_CONTEXT *tcti;

/* ---- swtpm ---- */

/* swtpm on a free port pair, once it listens (unit-swtpm.h), then the
 * swtpm TCTI on it. */
static int swtpm_start(void)
{
	char conf[64];
	size_t size = 0;

	port = free_port_pair();
	if (port < 0)
		return -EADDRINUSE;
	swtpm_pid = swtpm_spawn(path("tpm"), port);
	if (swtpm_pid < 0)
		return (int)swtpm_pid;
	(void)swtpm_wait_listening(port);
	snprintf(conf, sizeof(conf), "host=127.0.0.1,port=%d", port);
	if (Tss2_Tcti_Swtpm_Init(NULL, &size, conf) != TSS2_RC_SUCCESS)
		return -EIO;
	tcti = calloc(1, size);
	if (!tcti || Tss2_Tcti_Swtpm_Init(tcti, &size, conf) != TSS2_RC_SUCCESS)
		return -ECONNREFUSED;
	return 0;
}

static void swtpm_stop(void)
{
	if (tcti)
		Tss2_Tcti_Finalize(tcti);
	free(tcti);
	tcti = NULL;
	if (swtpm_pid > 0) {
		kill(swtpm_pid, SIGTERM);
		waitpid(swtpm_pid, NULL, 0);
	}
	swtpm_pid = -1;
	if (dir[0])
		sh("rm -rf '%s'", dir);
	dir[0] = 0;
}

static void open_tpm(struct tpm *t)
{
	int r = tpm_open_tcti(t, tcti);

	if (r < 0) {
		printf("FAIL open_tpm: cannot open the TPM: %s\n", strerror(-r));
		exit(1);
	}
}

/* ---- helpers ---- */

static bool all_poison(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != POISON)
			return false;
	return true;
}

static void unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sscanf(s + 2 * i, "%2hhx", &out[i]);
}

static void extend_value(const uint8_t old[32], const uint8_t digest[32],
			 uint8_t ret[32])
{
	uint8_t cat[64];

	memcpy(cat, old, 32);
	memcpy(cat + 32, digest, 32);
	SHA256(cat, sizeof(cat), ret);
}

static void event_digest(uint8_t ret[32])
{
	SHA256((const uint8_t *)MEASURE_EVENT_STRING,
	       strlen(MEASURE_EVENT_STRING), ret);
}

/* Replay text (a C string), expecting err; on error the output must be
 * untouched and the message say something, bounded. */
static int replay(const char *text, size_t len,
		  const struct measure_pcrs *start, struct measure_replay *ret)
{
	char msg[MEASURE_MSG_MAX];
	int r;

	memset(ret, POISON, sizeof(*ret));
	memset(msg, POISON, sizeof(msg));
	r = measure_replay(text, len, start, ret, msg);
	if (r < 0) {
		CHECK(all_poison(ret, sizeof(*ret)));
		CHECK(msg[0] && strnlen(msg, sizeof(msg)) < sizeof(msg));
	}
	return r;
}

static int replay_str(const char *text, struct measure_replay *ret)
{
	return replay(text, strlen(text), NULL, ret);
}

static int read_log(const char *p, char *buf, size_t size, size_t *ret_len)
{
	return read_file(p, buf, size, ret_len);
}

/* ---- the record text and the reader ---- */

static void test_record_format(void)
{
	static const char want[] =
		"\x1e{\"pcr\":7,\"digests\":[{\"hashAlg\":\"sha256\",\"digest\":"
		"\"" LEAVE_INITRD "\"}],\"content_type\":\"systemd\","
		"\"content\":{\"string\":\"leave-initrd\",\"bootId\":"
		"\"000102030405060708090a0b0c0d0e0f\",\"timestamp\":1234567,"
		"\"eventType\":\"phase\",\"sealroot\":{\"pcrBefore\":"
		"\"000102030405060708090a0b0c0d0e0f"
		"101112131415161718191a1b1c1d1e1f\"}}}\n";
	uint8_t before[32], boot_id[16], digest[32], value[32];
	struct measure_replay rp;
	char buf[MEASURE_RECORD_MAX];
	size_t len = 0x5a5a;

	for (unsigned i = 0; i < 32; i++)
		before[i] = (uint8_t)i;
	memcpy(boot_id, before, 16);
	event_digest(digest);
	unhex(LEAVE_INITRD, value, 32);
	CHECK(memcmp(digest, value, 32) == 0);
	CHECK(measure_record_format(7, before, boot_id, 1234567, buf,
				    sizeof(buf), &len) == 0);
	CHECK(len == strlen(want));
	CHECK_STR(buf, want);

	/* alone, it replays from its own pcrBefore */
	CHECK(replay(buf, len, NULL, &rp) == 0);
	CHECK(rp.records == 1 && rp.extends[7] == 1);
	CHECK(rp.before.mask == 1u << 7 && rp.values.mask == 1u << 7);
	CHECK(memcmp(rp.before.values[7], before, 32) == 0);
	extend_value(before, digest, value);
	CHECK(memcmp(rp.values.values[7], value, 32) == 0);

	len = 0x5a5a;
	CHECK(measure_record_format(TPM_PCR_COUNT, before, boot_id, 1, buf,
				    sizeof(buf), &len) == -EINVAL);
	CHECK(measure_record_format(7, before, boot_id, 1234567, buf,
				    strlen(want), &len) == -ENOBUFS);
	CHECK(len == 0x5a5a);
}

/* What systemd v255's systemd-pcrextend writes for "enter-initrd" (two
 * banks), with keys in another order and spacing: read, and replayed
 * only from a given start. */
static void test_replay_systemd_record(void)
{
	static const char log[] =
		"\x1e{\"pcr\":11,\"digests\":[{\"hashAlg\":\"sha1\",\"digest\":\""
		ENTER_INITRD_SHA1 "\"},{\"hashAlg\":\"sha256\",\"digest\":\""
		ENTER_INITRD "\"}],\"content_type\":\"systemd\",\"content\":"
		"{\"string\":\"enter-initrd\",\"bootId\":"
		"\"dfaa69a58cce42b8b0cf3c2c56978bc1\",\"timestamp\":4242,"
		"\"eventType\":\"phase\"}}\n"
		"\x1e { \"content\" : {\"string\":\"x\\u00e9\\ud83d\\ude00\\n\","
		"\"future\":[1,-2.5e3,true,false,null,{}]},\n"
		"\"digests\" : [ {\"digest\":\"ab\",\"hashAlg\":\"sha512\"} ],"
		"\"content_type\" : \"systemd\", \"\\u0070cr\" : 11 } \n"
		"\x1e{\"pcr\":3,\"digests\":[],\"content_type\":\"other\","
		"\"content\":\"anything\"}\n";
	struct measure_pcrs start = { .mask = 1u << 11 };
	uint8_t d[32], want[32];
	struct measure_replay rp;

	CHECK(replay_str(log, &rp) == 0);
	CHECK(rp.records == 3 && rp.extends[11] == 1 && rp.extends[3] == 0);
	CHECK(rp.before.mask == 0 && rp.values.mask == 0);

	CHECK(replay(log, strlen(log), &start, &rp) == 0);
	CHECK(rp.values.mask == 1u << 11);
	unhex(ENTER_INITRD, d, 32);
	extend_value(start.values[11], d, want);
	CHECK(memcmp(rp.values.values[11], want, 32) == 0);

	CHECK(replay("", 0, NULL, &rp) == 0);
	CHECK(rp.records == 0 && rp.values.mask == 0);
}

/* A log that names a value before and replays on from it. */
static void test_replay_chain(void)
{
	uint8_t before[32] = { 1 }, boot_id[16] = { 2 }, d[32], v1[32], v2[32];
	struct measure_pcrs start = { .mask = 1u << 7 };
	char log[4 * MEASURE_RECORD_MAX];
	struct measure_replay rp;
	size_t len, n;

	event_digest(d);
	extend_value(before, d, v1);
	extend_value(v1, d, v2);
	CHECK(measure_record_format(7, before, boot_id, 1, log, sizeof(log),
				    &len) == 0);
	CHECK(measure_record_format(7, v1, boot_id, 2, log + len,
				    sizeof(log) - len, &n) == 0);
	len += n;
	CHECK(replay(log, len, NULL, &rp) == 0);
	CHECK(rp.extends[7] == 2);
	CHECK(memcmp(rp.before.values[7], before, 32) == 0);
	CHECK(memcmp(rp.values.values[7], v2, 32) == 0);

	/* a start that is not the first pcrBefore: refused */
	CHECK(replay(log, len, &start, &rp) == -EBADMSG);
	memcpy(start.values[7], before, 32);
	CHECK(replay(log, len, &start, &rp) == 0);

	/* the second names a value the first did not lead to */
	CHECK(measure_record_format(7, before, boot_id, 3, log + len,
				    sizeof(log) - len, &n) == 0);
	CHECK(replay(log, len + n, NULL, &rp) == -EBADMSG);
}

#define REC(pcr, digests, rest) \
	"\x1e{\"pcr\":" pcr ",\"digests\":[" digests "]" rest "}\n"
#define SHA(hex) "{\"hashAlg\":\"sha256\",\"digest\":\"" hex "\"}"
#define SYSTEMD(content) ",\"content_type\":\"systemd\",\"content\":" content

static const struct hostile {
	const char *name, *text;
	int err;
} hostile[] = {
	{ "no separator", "{\"pcr\":7,\"digests\":[]}\n", -EBADMSG },
	{ "no line feed", "\x1e{\"pcr\":7,\"digests\":[]}", -EBADMSG },
	{ "empty record", "\x1e\x1e{\"pcr\":7,\"digests\":[]}\n", -EBADMSG },
	{ "two texts", "\x1e{\"pcr\":7,\"digests\":[]}{}\n", -EBADMSG },
	{ "pcr twice", REC("7", "", ",\"pcr\":8"), -EBADMSG },
	{ "pcr twice escaped", REC("7", "", ",\"\\u0070cr\":8"), -EBADMSG },
	{ "pcr 24", REC("24", "", ""), -EBADMSG },
	{ "pcr -1", REC("-1", "", ""), -EBADMSG },
	{ "pcr -0", REC("-0", "", ""), -EBADMSG },
	{ "pcr 7.0", REC("7.0", "", ""), -EBADMSG },
	{ "pcr 1e1", REC("1e1", "", ""), -EBADMSG },
	{ "pcr 07", REC("07", "", ""), -EBADMSG },
	{ "pcr huge", REC("99999999999999999999", "", ""), -EBADMSG },
	{ "pcr string", REC("\"7\"", "", ""), -EBADMSG },
	{ "no pcr", "\x1e{\"digests\":[]}\n", -EBADMSG },
	{ "no digests", "\x1e{\"pcr\":7}\n", -EBADMSG },
	{ "digests object", "\x1e{\"pcr\":7,\"digests\":{}}\n", -EBADMSG },
	{ "digest upper", REC("7", SHA("3BE261AFF7DB92BF507EAE947F4003FFA2BCAD0BFFE3524601D62D0BC8BE7135"), ""), -EBADMSG },
	{ "digest short", REC("7", SHA("3be261"), ""), -EBADMSG },
	{ "digest number", REC("7", "{\"hashAlg\":\"sha256\",\"digest\":1}", ""), -EBADMSG },
	{ "digest missing", REC("7", "{\"hashAlg\":\"sha256\"}", ""), -EBADMSG },
	{ "no hashAlg", REC("7", "{\"digest\":\"" LEAVE_INITRD "\"}", ""), -EBADMSG },
	{ "hashAlg twice", REC("7", "{\"hashAlg\":\"sha1\",\"hashAlg\":\"sha256\",\"digest\":\"" LEAVE_INITRD "\"}", ""), -EBADMSG },
	{ "two sha256", REC("7", SHA(LEAVE_INITRD) "," SHA(LEAVE_INITRD), ""), -EBADMSG },
	{ "digest not object", REC("7", "\"sha256\"", ""), -EBADMSG },
	{ "systemd no content", REC("7", "", ",\"content_type\":\"systemd\""), -EBADMSG },
	{ "content string", REC("7", "", SYSTEMD("\"x\"")), -EBADMSG },
	{ "content_type number", REC("7", "", ",\"content_type\":1"), -EBADMSG },
	{ "string twice", REC("7", "", SYSTEMD("{\"string\":\"a\",\"string\":\"b\"}")), -EBADMSG },
	{ "eventType number", REC("7", "", SYSTEMD("{\"eventType\":1}")), -EBADMSG },
	{ "sealroot no before", REC("7", SHA(LEAVE_INITRD), SYSTEMD("{\"sealroot\":{}}")), -EBADMSG },
	{ "sealroot bad before", REC("7", SHA(LEAVE_INITRD), SYSTEMD("{\"sealroot\":{\"pcrBefore\":\"00\"}}")), -EBADMSG },
	{ "sealroot no digest", REC("7", "", SYSTEMD("{\"sealroot\":{\"pcrBefore\":\"" ZERO_HEX "\"}}")), -EBADMSG },
	{ "sealroot string", REC("7", SHA(LEAVE_INITRD), SYSTEMD("{\"sealroot\":\"" ZERO_HEX "\"}")), -EBADMSG },
	{ "trailing comma", "\x1e{\"pcr\":7,\"digests\":[],}\n", -EBADMSG },
	{ "trailing comma array", REC("7", SHA(LEAVE_INITRD) ",", ""), -EBADMSG },
	{ "missing colon", "\x1e{\"pcr\" 7,\"digests\":[]}\n", -EBADMSG },
	{ "bad UTF-8", REC("7", "", ",\"x\":\"\xff\""), -EBADMSG },
	{ "overlong UTF-8", REC("7", "", ",\"x\":\"\xc0\xaf\""), -EBADMSG },
	{ "UTF-8 surrogate", REC("7", "", ",\"x\":\"\xed\xa0\x80\""), -EBADMSG },
	{ "cut UTF-8", REC("7", "", ",\"x\":\"\xe2\x82\""), -EBADMSG },
	{ "escaped NUL", REC("7", "", ",\"x\":\"a\\u0000\""), -EBADMSG },
	{ "lone high surrogate", REC("7", "", ",\"x\":\"\\ud800x\""), -EBADMSG },
	{ "lone low surrogate", REC("7", "", ",\"x\":\"\\udc00\""), -EBADMSG },
	{ "bad escape", REC("7", "", ",\"x\":\"\\x41\""), -EBADMSG },
	{ "short \\u", REC("7", "", ",\"x\":\"\\u12\""), -EBADMSG },
	{ "raw control", REC("7", "", ",\"x\":\"\x01\""), -EBADMSG },
	{ "unterminated", "\x1e{\"pcr\":7,\"digests\":[],\"x\":\"abc}\n", -EBADMSG },
	{ "bad literal", REC("7", "", ",\"x\":tru"), -EBADMSG },
	{ "bad number", REC("7", "", ",\"x\":1."), -EBADMSG },
	{ "bad exponent", REC("7", "", ",\"x\":1e"), -EBADMSG },
	{ "plus number", REC("7", "", ",\"x\":+1"), -EBADMSG },
	{ "single quotes", "\x1e{'pcr':7,\"digests\":[]}\n", -EBADMSG },
	{ "array top", "\x1e[7]\n", -EBADMSG },
	{ "deep", REC("7", "", ",\"x\":[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]"), -E2BIG },
};

static void test_replay_hostile(void)
{
	struct measure_replay rp;
	char *big;
	size_t n;

	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		int r = replay_str(hostile[i].text, &rp);

		if (r != hostile[i].err) {
			printf("  %s: %d, not %d\n", hostile[i].name, r,
			       hostile[i].err);
			CHECK(r == hostile[i].err);
		}
	}
	/* a NUL byte in the text */
	CHECK(replay("\x1e{\"pcr\":7,\0\"digests\":[]}\n", 25, NULL, &rp) ==
	      -EBADMSG);
	/* 15 levels inside the record's object: the limit, read */
	CHECK(replay_str(REC("7", "", ",\"x\":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]"),
			 &rp) == 0);

	big = malloc(MEASURE_LOG_MAX + 2);
	if (!big)
		return;
	n = (size_t)snprintf(big, 64, "\x1e{\"pcr\":7,\"digests\":[],\"x\":\"");
	memset(big + n, 'a', MEASURE_LOG_RECORD_MAX);
	strcpy(big + n + MEASURE_LOG_RECORD_MAX, "\"}\n");
	CHECK(replay_str(big, &rp) == -E2BIG);
	CHECK(replay(big, MEASURE_LOG_MAX + 1, NULL, &rp) == -E2BIG);
	free(big);
}

/* ---- the barrier on swtpm ---- */

static void check_log_replays(const char *log_path,
			      const struct measure_pcrs *before,
			      const struct measure_pcrs *now, unsigned barriers)
{
	static char text[65536];
	struct measure_replay rp;
	size_t len = 0;

	CHECK(read_log(log_path, text, sizeof(text), &len) == 0);
	CHECK(replay(text, len, NULL, &rp) == 0);
	CHECK(rp.records == 2 * barriers);
	CHECK(rp.extends[7] == barriers && rp.extends[14] == barriers);
	CHECK(rp.before.mask == MASK && rp.values.mask == MASK);
	for (unsigned pcr = 7; pcr <= 14; pcr += 7) {
		CHECK(memcmp(rp.before.values[pcr], before->values[pcr], 32) ==
		      0);
		CHECK(memcmp(rp.values.values[pcr], now->values[pcr], 32) == 0);
	}
	/* and from the values read before, given */
	CHECK(replay(text, len, before, &rp) == 0);
	CHECK(memcmp(rp.values.values[7], now->values[7], 32) == 0);
}

static void test_barrier(void)
{
	struct measure_pcrs read_before = { .mask = MASK };
	struct measure_pcrs now = { .mask = MASK };
	struct measure_barrier b, b2;
	uint8_t d[32], want[32];
	struct stat st;
	struct tpm t;

	open_tpm(&t);
	CHECK(tpm_pcr_read(&t, MASK, read_before.values) == 0);
	memset(&b, POISON, sizeof(b));
	t.commands = 0;
	memset(t.by_cc, 0, sizeof(t.by_cc));
	CHECK(measure_barrier(&t, MASK, &b) == 0);
	/* one PCR_Read, one PCR_Extend per PCR: the values after are
	 * computed (and checked here against the TPM's) */
	CHECK(t.commands == 3);
	CHECK(t.by_cc[0].cc == TPM2_CC_PCR_Read && t.by_cc[0].n == 1);
	CHECK(t.by_cc[1].cc == TPM2_CC_PCR_Extend && t.by_cc[1].n == 2);
	CHECK(b.before.mask == MASK && b.after.mask == MASK);
	CHECK(tpm_pcr_read(&t, MASK, now.values) == 0);
	event_digest(d);
	for (unsigned pcr = 7; pcr <= 14; pcr += 7) {
		CHECK(memcmp(b.before.values[pcr], read_before.values[pcr],
			     32) == 0);
		extend_value(read_before.values[pcr], d, want);
		CHECK(memcmp(now.values[pcr], want, 32) == 0);
		CHECK(memcmp(b.after.values[pcr], want, 32) == 0);
	}

	/* its directories made, 0755; the log 0600, unmarked */
	CHECK(stat(path("run"), &st) < 0 && errno == ENOENT);
	CHECK(measure_log_append(path(LOG_REL), &b) == 0);
	CHECK(stat(path("run/log/systemd"), &st) == 0 &&
	      (st.st_mode & 07777) == 0755);
	CHECK(stat(path(LOG_REL), &st) == 0 && S_ISREG(st.st_mode) &&
	      (st.st_mode & 07777) == 0600);
	check_log_replays(path(LOG_REL), &read_before, &now, 1);

	/* a second barrier: appended, two records per PCR */
	memset(&b2, POISON, sizeof(b2));
	CHECK(measure_barrier(&t, MASK, &b2) == 0);
	CHECK(memcmp(b2.before.values, b.after.values,
		     sizeof(b.after.values)) == 0);
	CHECK(measure_log_append(path(LOG_REL), &b2) == 0);
	CHECK(tpm_pcr_read(&t, MASK, now.values) == 0);
	CHECK(memcmp(b2.after.values, now.values, sizeof(now.values)) == 0);
	check_log_replays(path(LOG_REL), &read_before, &now, 2);
	tpm_close(&t);
}

/* The booted system's systemd appends its own records after ours (here:
 * "sysinit" into PCR 7, as systemd-pcrextend would): still replays. */
static void test_systemd_appends(void)
{
	static const char rec[] =
		"\x1e{\"pcr\":7,\"digests\":[{\"hashAlg\":\"sha256\",\"digest\":"
		"\"" SYSINIT "\"}],"
		"\"content_type\":\"systemd\",\"content\":{\"string\":\"sysinit\","
		"\"bootId\":\"dfaa69a58cce42b8b0cf3c2c56978bc1\",\"timestamp\":9,"
		"\"eventType\":\"phase\"}}\n";
	struct measure_pcrs now = { .mask = MASK };
	static char text[65536];
	struct measure_replay rp;
	struct measure_barrier b;
	uint8_t d[32];
	size_t len = 0;
	struct tpm t;
	int fd;

	open_tpm(&t);
	CHECK(measure_barrier(&t, MASK, &b) == 0);
	CHECK(measure_log_append(path("appends.log"), &b) == 0);
	unhex(SYSINIT, d, 32);
	CHECK(tpm_pcr_extend(&t, 7, d) == 0);
	fd = open(path("appends.log"), O_WRONLY | O_APPEND | O_CLOEXEC);
	CHECK(fd >= 0 && write(fd, rec, strlen(rec)) == (ssize_t)strlen(rec));
	if (fd >= 0)
		close(fd);
	CHECK(tpm_pcr_read(&t, MASK, now.values) == 0);
	CHECK(read_log(path("appends.log"), text, sizeof(text), &len) == 0);
	CHECK(replay(text, len, NULL, &rp) == 0);
	CHECK(rp.records == 3 && rp.extends[7] == 2 && rp.extends[14] == 1);
	CHECK(memcmp(rp.values.values[7], now.values[7], 32) == 0);
	CHECK(memcmp(rp.values.values[14], now.values[14], 32) == 0);
	CHECK(memcmp(rp.before.values[7], b.before.values[7], 32) == 0);
	tpm_close(&t);
}

/* Where the log cannot be written: -errno, nothing left marked or half
 * written, and the barrier stays in place. */
static void test_log_errors(void)
{
	struct measure_pcrs now = { .mask = MASK };
	uint8_t h1[32], h2[32];
	struct measure_barrier b;
	struct stat st;
	struct tpm t;
	int fd;

	open_tpm(&t);
	CHECK(measure_barrier(&t, MASK, &b) == 0);

	CHECK(sh("touch '%s'", path("file")) == 0);
	CHECK(measure_log_append(path("file/log/x.log"), &b) == -ENOTDIR);
	CHECK(sh("mkdir '%s'", path("adir")) == 0);
	CHECK(measure_log_append(path("adir"), &b) == -EISDIR);
	CHECK(symlink(path("elsewhere.log"), path("link.log")) == 0);
	CHECK(measure_log_append(path("link.log"), &b) == -ELOOP);
	CHECK(stat(path("elsewhere.log"), &st) < 0 && errno == ENOENT);
	CHECK(mkfifo(path("fifo"), 0600) == 0);
	CHECK(measure_log_append(path("fifo"), &b) == -ENXIO);

	/* left marked by a writer that stopped half-way: not appended to */
	fd = open(path("cut.log"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && write(fd, "\x1e{", 2) == 2);
	CHECK(fd >= 0 && fchmod(fd, 0600 | S_ISVTX) == 0);
	if (fd >= 0)
		close(fd);
	hash_file(path("cut.log"), h1);
	CHECK(measure_log_append(path("cut.log"), &b) == -ESTALE);
	hash_file(path("cut.log"), h2);
	CHECK(memcmp(h1, h2, 32) == 0);
	CHECK(stat(path("cut.log"), &st) == 0 && (st.st_mode & S_ISVTX));

	/* locked by another writer: not waited on */
	fd = open(path("locked.log"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && flock(fd, LOCK_EX) == 0);
	CHECK(measure_log_append(path("locked.log"), &b) == -EWOULDBLOCK);
	if (fd >= 0)
		close(fd);

	CHECK(tpm_pcr_read(&t, MASK, now.values) == 0);
	CHECK(memcmp(now.values, b.after.values, sizeof(now.values)) == 0);
	tpm_close(&t);
}

static void test_barrier_invalid(void)
{
	struct measure_barrier b, none = { 0 };
	struct tpm t;

	open_tpm(&t);
	memset(&b, POISON, sizeof(b));
	CHECK(measure_barrier(&t, 0, &b) == -EINVAL);
	CHECK(measure_barrier(&t, 1u << TPM_PCR_COUNT, &b) == -EINVAL);
	CHECK(all_poison(&b, sizeof(b)));
	CHECK(measure_log_append(path("none.log"), &none) == -EINVAL);
	tpm_close(&t);
}

/* Another PCR_Extend of PCR 16, sent raw just before the barrier's own,
 * as a process beside PID 1 could (there is none in the initramfs, and
 * IMA's PCR 10 is refused in tpm.pcrs). */
static void inject_extend(struct tpm *t, uint32_t cc, void *userdata)
{
	static const uint8_t cmd[] = {
		0x80, 0x02, 0x00, 0x00, 0x00, 0x41, 0x00, 0x00, 0x01, 0x82,
		0x00, 0x00, 0x00, PCR_DEBUG,
		0x00, 0x00, 0x00, 0x09, 0x40, 0x00, 0x00, 0x09, 0x00, 0x00,
		0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x01, 0x00, 0x0b,
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
	};
	unsigned *left = userdata;
	uint8_t resp[64];
	size_t size = sizeof(resp);

	if (cc != TPM2_CC_PCR_Extend || *left == 0)
		return;
	(*left)--;
	if (Tss2_Tcti_Transmit(t->tcti, sizeof(cmd), cmd) != 0 ||
	    Tss2_Tcti_Receive(t->tcti, &size, resp, TSS2_TCTI_TIMEOUT_BLOCK) !=
		    0 || size < 10 || memcmp(resp + 6, "\0\0\0\0", 4) != 0)
		printf("  injected PCR_Extend failed\n");
}

/* The barrier reads the PCRs once and computes the values after it: an
 * extend beside it goes unseen by measure_barrier (it once read the PCRs
 * back to catch one, -ESTALE; nothing in the initramfs can extend a
 * sealed PCR). The barrier is in place all the same (the PCR is past the
 * sealed value), and the log shows it: its pcrBefore chain does not
 * replay to the TPM's value. */
static void test_barrier_beside(void)
{
	struct measure_pcrs now = { .mask = 1u << PCR_DEBUG };
	struct measure_replay rp;
	struct measure_barrier b;
	char text[4096];
	unsigned left = 1;
	size_t len;
	struct tpm t;

	open_tpm(&t);
	t.before_command = inject_extend;
	t.userdata = &left;
	memset(&b, POISON, sizeof(b));
	CHECK(measure_barrier(&t, 1u << PCR_DEBUG, &b) == 0);
	CHECK(left == 0);
	t.before_command = NULL;
	CHECK(tpm_pcr_read(&t, now.mask, now.values) == 0);
	CHECK(memcmp(now.values[PCR_DEBUG], b.before.values[PCR_DEBUG],
		     32) != 0);
	CHECK(memcmp(now.values[PCR_DEBUG], b.after.values[PCR_DEBUG],
		     32) != 0);
	CHECK(measure_log_append(path("beside.log"), &b) == 0);
	CHECK(read_log(path("beside.log"), text, sizeof(text), &len) == 0);
	CHECK(replay(text, len, NULL, &rp) == 0);
	CHECK(memcmp(rp.values.values[PCR_DEBUG], now.values[PCR_DEBUG],
		     32) != 0);
	tpm_close(&t);
}

int main(int argc, char **argv)
{
	char d[PATH_MAX];
	int r;

	(void)argc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN(test_record_format);
	RUN(test_replay_systemd_record);
	RUN(test_replay_chain);
	RUN(test_replay_hostile);

	snprintf(d, sizeof(d), "%s", argv[0]);
	snprintf(dir, sizeof(dir), "%s/measure.XXXXXX", dirname(d));
	if (!mkdtemp(dir)) {
		printf("FAIL swtpm: cannot make a directory in %s\n", d);
		return 1;
	}
	atexit(swtpm_stop);	/* also when a test gives up with exit() */
	r = mkdir(path("tpm"), 0700) < 0 ? -errno : swtpm_start();
	if (r < 0) {
		printf("FAIL swtpm: cannot start or reach swtpm: %s\n",
		       strerror(-r));
		return 1;
	}
	RUN(test_barrier);
	RUN(test_systemd_appends);
	RUN(test_log_errors);
	RUN(test_barrier_invalid);
	RUN(test_barrier_beside);
	return UNIT_EXIT();
}
