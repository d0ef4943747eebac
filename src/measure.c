/* The barrier and its log: see measure.h. Written against systemd v255's
 * src/shared/tpm2-util.c (tpm2_extend_bytes, tpm2_userspace_log_open,
 * tpm2_userspace_log) for the writer and src/pcrlock/pcrlock.c
 * (event_log_load_userspace, event_log_record_parse_json) for what a
 * reader expects; the reader here is stricter than pcrlock's. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log.h"
#include "measure.h"
#include "tpm.h"
#include "util.h"

#define STAGE "barrier"
#define RS '\x1e'		/* RFC 7464's record separator */
#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

static const char hex_digits[] = "0123456789abcdef";

/* ---- digests ---- */

static int sha256(const void *data, size_t size, uint8_t ret[TPM_DIGEST_SIZE])
{
	unsigned int len = 0;

	if (!EVP_Digest(data, size, ret, &len, EVP_sha256(), NULL) ||
	    len != TPM_DIGEST_SIZE)
		return -EIO;
	return 0;
}

static int event_digest(uint8_t ret[TPM_DIGEST_SIZE])
{
	return sha256(MEASURE_EVENT_STRING, strlen(MEASURE_EVENT_STRING), ret);
}

/* What a PCR holds after an extend: SHA-256(old || digest). */
static int extended(const uint8_t old[TPM_DIGEST_SIZE],
		    const uint8_t digest[TPM_DIGEST_SIZE],
		    uint8_t ret[TPM_DIGEST_SIZE])
{
	uint8_t cat[2 * TPM_DIGEST_SIZE];

	memcpy(cat, old, TPM_DIGEST_SIZE);
	memcpy(cat + TPM_DIGEST_SIZE, digest, TPM_DIGEST_SIZE);
	return sha256(cat, sizeof(cat), ret);
}

static void hex_encode(const uint8_t *src, size_t n, char *dst)
{
	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = hex_digits[src[i] >> 4];
		dst[2 * i + 1] = hex_digits[src[i] & 0xf];
	}
	dst[2 * n] = 0;
}

/* Lower case only, as systemd writes it. */
static int hex_value(char c)
{
	const char *p = c ? memchr(hex_digits, c, 16) : NULL;

	return p ? (int)(p - hex_digits) : -1;
}

static int hex_decode(const char *s, size_t len, uint8_t *dst, size_t n)
{
	if (len != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		dst[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* ---- the barrier ---- */

static bool mask_valid(uint32_t mask)
{
	return mask != 0 && (mask & ~TPM_PCR_MASK_ALL) == 0;
}

static int extend_all(struct tpm *t, uint32_t mask,
		      const uint8_t digest[TPM_DIGEST_SIZE])
{
	for (unsigned pcr = 0; pcr < TPM_PCR_COUNT; pcr++) {
		int r = mask & (1u << pcr) ? tpm_pcr_extend(t, pcr, digest) : 0;

		if (r < 0)
			return r;
	}
	return 0;
}

/* The values after the barrier, computed: SHA-256(before || digest). */
static int compute_after(struct measure_barrier *b,
			 const uint8_t digest[TPM_DIGEST_SIZE])
{
	for (unsigned pcr = 0; pcr < TPM_PCR_COUNT; pcr++) {
		if (!(b->before.mask & (1u << pcr)))
			continue;
		if (extended(b->before.values[pcr], digest,
			     b->after.values[pcr]) < 0) {
			log_err(STAGE, "cannot compute 'PCR %u': SHA-256 "
				"failed", pcr);
			return -EIO;
		}
	}
	return 0;
}

/* One PCR_Read, then the extends: the extends succeeding is what puts
 * the barrier in place; the values after it are computed, not read back.
 * They are what the PCRs hold because nothing else extends a sealed PCR
 * in the initramfs: sealroot is the only process, and the kernel's IMA
 * extends PCR 10 alone (CONFIG_IMA_MEASURE_PCR_IDX; sealroot loads no
 * IMA policy naming another), which tpm.pcrs refuses. */
int measure_barrier(struct tpm *t, uint32_t pcr_mask,
		    struct measure_barrier *ret)
{
	struct measure_barrier b = {
		.before.mask = pcr_mask,
		.after.mask = pcr_mask,
	};
	uint8_t digest[TPM_DIGEST_SIZE];
	int r;

	if (!mask_valid(pcr_mask))
		return -EINVAL;
	if (event_digest(digest) < 0) {
		log_err(STAGE, "cannot compute 'event digest': SHA-256 failed");
		return -EIO;
	}
	r = tpm_pcr_read(t, pcr_mask, b.before.values);
	if (r == 0)
		r = extend_all(t, pcr_mask, digest);
	if (r == 0)
		r = compute_after(&b, digest);
	if (r < 0)
		return r;
	*ret = b;
	return 0;
}

/* ---- a record ---- */

int measure_record_format(unsigned pcr, const uint8_t before[TPM_DIGEST_SIZE],
			  const uint8_t boot_id[16], uint64_t timestamp_usec,
			  char *buf, size_t size, size_t *ret_len)
{
	char digest_hex[2 * TPM_DIGEST_SIZE + 1];
	char before_hex[2 * TPM_DIGEST_SIZE + 1], boot_hex[33];
	uint8_t digest[TPM_DIGEST_SIZE];
	int n;

	if (pcr >= TPM_PCR_COUNT)
		return -EINVAL;
	if (event_digest(digest) < 0)
		return -EIO;
	hex_encode(digest, sizeof(digest), digest_hex);
	hex_encode(before, TPM_DIGEST_SIZE, before_hex);
	hex_encode(boot_id, 16, boot_hex);
	n = snprintf(buf, size,
		     "%c{\"pcr\":%u,\"digests\":[{\"hashAlg\":\"sha256\","
		     "\"digest\":\"%s\"}],\"content_type\":\"systemd\","
		     "\"content\":{\"string\":\"%s\",\"bootId\":\"%s\","
		     "\"timestamp\":%" PRIu64 ",\"eventType\":\"%s\","
		     "\"sealroot\":{\"pcrBefore\":\"%s\"}}}\n",
		     RS, pcr, digest_hex, MEASURE_EVENT_STRING, boot_hex,
		     timestamp_usec, MEASURE_EVENT_TYPE, before_hex);
	if (n < 0 || (size_t)n >= size)
		return -ENOBUFS;
	*ret_len = (size_t)n;
	return 0;
}

/* ---- the log file ---- */

static int fail_errno(const char *verb, const char *object, int err)
{
	log_err(STAGE, "cannot %s '%s': %s", verb, object, strerror(-err));
	return err;
}

/* The kernel's boot ID, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\n", as the
 * 16 bytes systemd writes in hex as "bootId". */
static int read_boot_id(uint8_t ret[16])
{
	char text[64], hex[33];
	size_t len, n = 0;
	int r;

	r = read_file(BOOT_ID_PATH, text, sizeof(text) - 1, &len);
	if (r < 0)
		return fail_errno("read", BOOT_ID_PATH, r);
	for (size_t i = 0; i < len && text[i] != '\n'; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash != (text[i] == '-') || n >= 32)
			goto bad;
		if (!dash)
			hex[n++] = text[i];
	}
	if (n != 32 || len != 37 || text[36] != '\n' ||
	    hex_decode(hex, n, ret, 16) < 0)
		goto bad;
	return 0;
bad:
	log_err(STAGE, "cannot read '%s': not a boot ID", BOOT_ID_PATH);
	return -EBADMSG;
}

/* mkdir -p of path's directory, 0755 as systemd's mkdir_parents. */
static int make_parents(const char *path)
{
	char dir[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(dir))
		return fail_errno("create", path, -ENAMETOOLONG);
	memcpy(dir, path, n + 1);
	for (char *p = strchr(dir + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = 0;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return fail_errno("create", dir, -errno);
		*p = '/';
	}
	return 0;
}

/* Open the log for appending, as systemd's tpm2_userspace_log_open: 0600
 * (whoever can open it can lock it), no symlink, a regular file, locked,
 * not left marked by a writer that stopped half-way; then marked. Not
 * blocking: PID 1 must not wait on a lock or a FIFO. */
static int log_open(const char *path, int *ret_fd)
{
	struct stat st;
	int fd, r;

	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY |
			O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd < 0)
		return fail_errno("open", path, -errno);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = fail_errno("lock", path, -errno);
		goto out_close;
	}
	if (fstat(fd, &st) < 0) {
		r = fail_errno("stat", path, -errno);
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		log_err(STAGE, "cannot append to '%s': not a regular file",
			path);
		r = -EBADFD;
		goto out_close;
	}
	if (st.st_mode & S_ISVTX) {
		log_err(STAGE, "cannot append to '%s': marked as cut short "
			"by an earlier writer", path);
		r = -ESTALE;
		goto out_close;
	}
	if (fchmod(fd, 0600 | S_ISVTX) < 0) {
		r = fail_errno("mark", path, -errno);
		goto out_close;
	}
	*ret_fd = fd;
	return 0;
out_close:
	close(fd);
	return r;
}

static uint64_t boottime_usec(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int write_record(int fd, const char *path, unsigned pcr,
			const uint8_t before[TPM_DIGEST_SIZE],
			const uint8_t boot_id[16])
{
	char buf[MEASURE_RECORD_MAX];
	size_t len;
	ssize_t n;
	int r;

	r = measure_record_format(pcr, before, boot_id, boottime_usec(), buf,
				  sizeof(buf), &len);
	if (r < 0)
		return fail_errno("format", "record", r);
	n = write(fd, buf, len);
	if (n < 0)
		return fail_errno("write", path, -errno);
	if ((size_t)n != len) {
		log_err(STAGE, "cannot write '%s': %zd of %zu bytes written",
			path, n, len);
		return -EIO;
	}
	return 0;
}

/* The mark stays on a log cut short: a reader must not trust it. */
int measure_log_append(const char *path, const struct measure_barrier *b)
{
	uint8_t boot_id[16];
	int fd = -1, r;

	if (!mask_valid(b->before.mask))
		return -EINVAL;
	r = read_boot_id(boot_id);
	if (r == 0)
		r = make_parents(path);
	if (r == 0)
		r = log_open(path, &fd);
	if (r < 0)
		return r;
	for (unsigned pcr = 0; pcr < TPM_PCR_COUNT && r == 0; pcr++)
		if (b->before.mask & (1u << pcr))
			r = write_record(fd, path, pcr, b->before.values[pcr],
					 boot_id);
	if (r == 0 && fchmod(fd, 0600) < 0)
		r = fail_errno("unmark", path, -errno);
	close(fd);
	return r;
}

/* ---- reading a log: a strict, bounded JSON reader ---- */

#define KEY_MAX 32		/* longer keys are none of those we know */
#define VALUE_MAX 160		/* longer strings are none we read */

struct json {
	const char *start, *p, *end;	/* log, cursor, end of record */
	unsigned depth;
	unsigned record;
	char *msg;
};

static int jfail(struct json *j, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int jfail(struct json *j, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	/* at most 46 bytes: the messages below fit in what is left */
	n = j->record ? snprintf(j->msg, MEASURE_MSG_MAX, "record %u, byte "
				 "%zu: ", j->record,
				 (size_t)(j->p - j->start)) :
			snprintf(j->msg, MEASURE_MSG_MAX, "log: ");
	if (n < 0 || n >= MEASURE_MSG_MAX)
		return err;
	va_start(ap, fmt);
	vsnprintf(j->msg + n, MEASURE_MSG_MAX - (size_t)n, fmt, ap);
	va_end(ap);
	return err;
}

static void skip_space(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool eat(struct json *j, char c)
{
	skip_space(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return true;
	}
	return false;
}

static int peek(struct json *j)
{
	skip_space(j);
	return j->p < j->end ? (unsigned char)*j->p : -1;
}

/* The length of a valid UTF-8 sequence at s (no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
	uint32_t c;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return n;
}

/* Decoded output of a string: kept while it fits, counted always. */
struct sbuf {
	char *out;
	size_t size, len;
};

static void put(struct sbuf *b, const char *s, size_t n)
{
	if (b->out && b->len + n < b->size)
		memcpy(b->out + b->len, s, n);
	b->len += n;
}

static void put_code_point(struct sbuf *b, uint32_t c)
{
	char u[4];
	size_t n;

	if (c < 0x80) {
		u[0] = (char)c, n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | c >> 6), n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | c >> 12), n = 3;
	} else {
		u[0] = (char)(0xf0 | c >> 18), n = 4;
	}
	for (size_t i = 1; i < n; i++)
		u[i] = (char)(0x80 | ((c >> (6 * (n - 1 - i))) & 0x3f));
	put(b, u, n);
}

static int hex4(struct json *j, uint32_t *ret)
{
	uint32_t v = 0;

	if (j->end - j->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = *j->p++;

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*ret = v;
	return 0;
}

/* \uXXXX, a surrogate pair joined; never U+0000. */
static int unicode_escape(struct json *j, struct sbuf *b)
{
	uint32_t c, lo;

	if (hex4(j, &c) < 0)
		return jfail(j, -EBADMSG, "bad \\u escape");
	if (c >= 0xdc00 && c <= 0xdfff)
		return jfail(j, -EBADMSG, "lone low surrogate");
	if (c >= 0xd800 && c <= 0xdbff) {
		if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
			return jfail(j, -EBADMSG, "lone high surrogate");
		j->p += 2;
		if (hex4(j, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
			return jfail(j, -EBADMSG, "bad surrogate pair");
		c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (c == 0)
		return jfail(j, -EBADMSG, "NUL in a string");
	put_code_point(b, c);
	return 0;
}

static int escape(struct json *j, struct sbuf *b)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;

	if (j->p >= j->end)
		return jfail(j, -EBADMSG, "unterminated string");
	if (*j->p == 'u') {
		j->p++;
		return unicode_escape(j, b);
	}
	e = *j->p ? memchr(from, *j->p, sizeof(from) - 1) : NULL;
	if (!e)
		return jfail(j, -EBADMSG, "bad escape");
	j->p++;
	put(b, &to[e - from], 1);
	return 0;
}

/* A string at the cursor, decoded into out (size, NUL-terminated) when
 * it fits; *ret_len its decoded length, also when it did not fit. */
static int json_string(struct json *j, char *out, size_t size,
		       size_t *ret_len)
{
	struct sbuf b = { .out = out, .size = size };
	int r;

	if (!eat(j, '"'))
		return jfail(j, -EBADMSG, "not a string");
	while (j->p < j->end && *j->p != '"') {
		const unsigned char *s = (const unsigned char *)j->p;
		size_t n;

		if (*s == '\\') {
			j->p++;
			r = escape(j, &b);
			if (r < 0)
				return r;
			continue;
		}
		n = *s < 0x20 ? 0 : utf8_seq(s, (size_t)(j->end - j->p));
		if (n == 0)
			return jfail(j, -EBADMSG, "control byte or bad UTF-8 "
				     "in a string");
		put(&b, j->p, n);
		j->p += n;
	}
	if (j->p >= j->end)
		return jfail(j, -EBADMSG, "unterminated string");
	j->p++;
	if (out && size)
		out[b.len < size ? b.len : 0] = 0;
	if (ret_len)
		*ret_len = b.len;
	return 0;
}

static bool is_digit(struct json *j)
{
	return j->p < j->end && *j->p >= '0' && *j->p <= '9';
}

/* A number per RFC 8259. *ret_plain: a non-negative integer, no fraction
 * or exponent, below 2^32 (its value in *ret_value). */
static int json_number(struct json *j, bool *ret_plain, uint32_t *ret_value)
{
	bool plain = !eat(j, '-');
	uint64_t v = 0;

	if (!is_digit(j))
		return jfail(j, -EBADMSG, "bad number");
	if (*j->p == '0')
		j->p++;
	else
		for (; is_digit(j); j->p++)
			if (v <= UINT32_MAX)
				v = v * 10 + (uint64_t)(*j->p - '0');
	if (j->p < j->end && *j->p == '.') {
		j->p++, plain = false;
		if (!is_digit(j))
			return jfail(j, -EBADMSG, "bad number");
		while (is_digit(j))
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++, plain = false;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!is_digit(j))
			return jfail(j, -EBADMSG, "bad number");
		while (is_digit(j))
			j->p++;
	}
	*ret_plain = plain && v <= UINT32_MAX;
	*ret_value = (uint32_t)(v <= UINT32_MAX ? v : 0);
	return 0;
}

static int json_literal(struct json *j)
{
	static const char *const words[] = { "true", "false", "null" };

	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(words[i]);

		if ((size_t)(j->end - j->p) >= n &&
		    memcmp(j->p, words[i], n) == 0) {
			j->p += n;
			return 0;
		}
	}
	return jfail(j, -EBADMSG, "not a JSON value");
}

static int enter(struct json *j, char open)
{
	if (!eat(j, open))
		return jfail(j, -EBADMSG, "not %s",
			     open == '{' ? "an object" : "an array");
	if (++j->depth > MEASURE_JSON_DEPTH)
		return jfail(j, -E2BIG, "nested deeper than %d",
			     MEASURE_JSON_DEPTH);
	return 0;
}

/* Before the next member of an object: 1 and its key (decoded into key
 * when it fits, *ret_len its length), or 0 at the closing brace. */
static int object_next(struct json *j, bool *first, char key[KEY_MAX],
		       size_t *ret_len)
{
	int r;

	if (eat(j, '}')) {
		j->depth--;
		return 0;
	}
	if (!*first && !eat(j, ','))
		return jfail(j, -EBADMSG, "expected ',' or '}'");
	*first = false;
	r = json_string(j, key, KEY_MAX, ret_len);
	if (r < 0)
		return r;
	if (!eat(j, ':'))
		return jfail(j, -EBADMSG, "expected ':'");
	return 1;
}

/* Before the next element of an array: 1, or 0 at the closing bracket. */
static int array_next(struct json *j, bool *first)
{
	if (eat(j, ']')) {
		j->depth--;
		return 0;
	}
	if (!*first && !eat(j, ','))
		return jfail(j, -EBADMSG, "expected ',' or ']'");
	*first = false;
	return 1;
}

static int json_skip(struct json *j);

static int skip_object(struct json *j)
{
	char key[KEY_MAX];
	bool first = true;
	size_t n;
	int r;

	r = enter(j, '{');
	while (r == 0 && (r = object_next(j, &first, key, &n)) > 0)
		r = json_skip(j);
	return r;
}

static int skip_array(struct json *j)
{
	bool first = true;
	int r;

	r = enter(j, '[');
	while (r == 0 && (r = array_next(j, &first)) > 0)
		r = json_skip(j);
	return r;
}

/* Any one value, read in full. */
static int json_skip(struct json *j)
{
	bool plain;
	uint32_t v;
	int c = peek(j);

	if (c == '{')
		return skip_object(j);
	if (c == '[')
		return skip_array(j);
	if (c == '"')
		return json_string(j, NULL, 0, NULL);
	if (c == '-' || (c >= '0' && c <= '9'))
		return json_number(j, &plain, &v);
	return json_literal(j);
}

static bool key_is(const char *key, size_t len, const char *name)
{
	return len == strlen(name) && memcmp(key, name, len) == 0;
}

/* A known key, at most once per object: systemd's reader takes the first
 * of two, json-c the last; two readers must not see two logs. */
static int once(struct json *j, unsigned *seen, unsigned bit,
		const char *name)
{
	if (*seen & bit)
		return jfail(j, -EBADMSG, "'%s' twice", name);
	*seen |= bit;
	return 0;
}

/* A string value of one of the lengths we read, or -EBADMSG. */
static int short_string(struct json *j, const char *name, char *out,
			size_t size, size_t *ret_len)
{
	if (peek(j) != '"')
		return jfail(j, -EBADMSG, "'%s' is not a string", name);
	return json_string(j, out, size, ret_len);
}

static int sha256_hex(struct json *j, const char *name, const char *s,
		      size_t len, uint8_t ret[TPM_DIGEST_SIZE])
{
	if (hex_decode(s, len, ret, TPM_DIGEST_SIZE) < 0)
		return jfail(j, -EBADMSG, "'%s' is not 64 lower-case hex "
			     "digits", name);
	return 0;
}

/* ---- the records ---- */

struct record {
	unsigned pcr;
	bool has_digest;		/* a SHA-256 digest */
	bool has_before;		/* a sealroot record */
	uint8_t digest[TPM_DIGEST_SIZE];
	uint8_t before[TPM_DIGEST_SIZE];
};

static int parse_pcr(struct json *j, struct record *rec)
{
	bool plain;
	uint32_t v;
	int c = peek(j), r;

	if (c != '-' && (c < '0' || c > '9'))
		return jfail(j, -EBADMSG, "'pcr' is not a number");
	r = json_number(j, &plain, &v);
	if (r < 0)
		return r;
	if (!plain || v >= TPM_PCR_COUNT)
		return jfail(j, -EBADMSG, "'pcr' is not an integer 0..%d",
			     TPM_PCR_COUNT - 1);
	rec->pcr = v;
	return 0;
}

/* One {"hashAlg":..., "digest":...}; the digest read when the algorithm
 * is SHA-256, other banks' left alone as systemd's reader does. */
static int parse_digest(struct json *j, struct record *rec)
{
	char key[KEY_MAX], alg[VALUE_MAX], dig[VALUE_MAX];
	size_t klen, alen = 0, dlen = 0;
	bool first = true, dig_string = false;
	unsigned seen = 0;
	int r;

	r = enter(j, '{');
	while (r == 0 && (r = object_next(j, &first, key, &klen)) > 0) {
		if (key_is(key, klen, "hashAlg")) {
			r = once(j, &seen, 1, "hashAlg");
			if (r == 0)
				r = short_string(j, "hashAlg", alg, sizeof(alg),
						 &alen);
		} else if (key_is(key, klen, "digest")) {
			r = once(j, &seen, 2, "digest");
			dig_string = peek(j) == '"';
			if (r == 0 && dig_string)
				r = json_string(j, dig, sizeof(dig), &dlen);
			else if (r == 0)
				r = json_skip(j);
		} else {
			r = json_skip(j);
		}
	}
	if (r < 0)
		return r;
	if (!(seen & 1))
		return jfail(j, -EBADMSG, "a digest without 'hashAlg'");
	if (!key_is(alg, alen, "sha256"))
		return 0;
	if (rec->has_digest)
		return jfail(j, -EBADMSG, "two SHA-256 digests");
	if (!dig_string)
		return jfail(j, -EBADMSG, "a SHA-256 'digest' missing or not "
			     "a string");
	rec->has_digest = true;
	return sha256_hex(j, "digest", dig, dlen, rec->digest);
}

static int parse_digests(struct json *j, struct record *rec)
{
	bool first = true;
	int r;

	if (peek(j) != '[')
		return jfail(j, -EBADMSG, "'digests' is not an array");
	r = enter(j, '[');
	while (r == 0 && (r = array_next(j, &first)) > 0)
		r = peek(j) == '{' ? parse_digest(j, rec) :
			jfail(j, -EBADMSG, "a digest is not an object");
	return r;
}

/* "sealroot":{"pcrBefore":"<hex>"}; later keys of ours are allowed. */
static int parse_sealroot(struct json *j, struct record *rec)
{
	char key[KEY_MAX], hex[VALUE_MAX];
	size_t klen, hlen;
	bool first = true;
	unsigned seen = 0;
	int r;

	if (peek(j) != '{')
		return jfail(j, -EBADMSG, "'sealroot' is not an object");
	r = enter(j, '{');
	while (r == 0 && (r = object_next(j, &first, key, &klen)) > 0) {
		if (!key_is(key, klen, "pcrBefore")) {
			r = json_skip(j);
			continue;
		}
		r = once(j, &seen, 1, "pcrBefore");
		if (r == 0)
			r = short_string(j, "pcrBefore", hex, sizeof(hex),
					 &hlen);
		if (r == 0)
			r = sha256_hex(j, "pcrBefore", hex, hlen, rec->before);
	}
	if (r < 0)
		return r;
	if (!seen)
		return jfail(j, -EBADMSG, "'sealroot' without 'pcrBefore'");
	rec->has_before = true;
	return 0;
}

/* systemd's "content": "string" and "eventType" strings (read, not
 * used), "sealroot" ours; the rest ("bootId", "timestamp") any value. */
static int parse_content(struct json *j, struct record *rec)
{
	static const char *const names[] = { "string", "eventType",
					      "sealroot" };
	char key[KEY_MAX];
	bool first = true;
	unsigned seen = 0;
	size_t klen, i;
	int r;

	if (peek(j) != '{')
		return jfail(j, -EBADMSG, "'content' is not an object");
	r = enter(j, '{');
	while (r == 0 && (r = object_next(j, &first, key, &klen)) > 0) {
		for (i = 0; i < 3 && !key_is(key, klen, names[i]); i++)
			;
		r = i < 3 ? once(j, &seen, 1u << i, names[i]) : 0;
		if (r < 0)
			break;
		if (i == 2)
			r = parse_sealroot(j, rec);
		else if (i < 2)
			r = short_string(j, names[i], NULL, 0, NULL);
		else
			r = json_skip(j);
	}
	return r;
}

enum { SEEN_PCR = 1, SEEN_DIGESTS = 2, SEEN_TYPE = 4, SEEN_CONTENT = 8 };

/* The top-level keys; "content" is read after, once its type is known
 * ("content_type" may come after it). */
static int parse_top(struct json *j, struct record *rec, bool *ret_systemd,
		     const char **ret_content)
{
	char key[KEY_MAX], type[VALUE_MAX];
	size_t klen, tlen;
	bool first = true;
	unsigned seen = 0;
	int r;

	r = enter(j, '{');
	while (r == 0 && (r = object_next(j, &first, key, &klen)) > 0) {
		if (key_is(key, klen, "pcr")) {
			r = once(j, &seen, SEEN_PCR, "pcr");
			r = r ? r : parse_pcr(j, rec);
		} else if (key_is(key, klen, "digests")) {
			r = once(j, &seen, SEEN_DIGESTS, "digests");
			r = r ? r : parse_digests(j, rec);
		} else if (key_is(key, klen, "content_type")) {
			r = once(j, &seen, SEEN_TYPE, "content_type");
			r = r ? r : short_string(j, "content_type", type,
						 sizeof(type), &tlen);
			*ret_systemd = r == 0 && key_is(type, tlen, "systemd");
		} else if (key_is(key, klen, "content")) {
			r = once(j, &seen, SEEN_CONTENT, "content");
			skip_space(j);
			*ret_content = j->p;
			r = r ? r : json_skip(j);
		} else {
			r = json_skip(j);
		}
	}
	if (r < 0)
		return r;
	if ((seen & (SEEN_PCR | SEEN_DIGESTS)) != (SEEN_PCR | SEEN_DIGESTS))
		return jfail(j, -EBADMSG, "'pcr' or 'digests' missing");
	return 0;
}

/* One record's JSON text, up to its closing line feed. */
static int parse_record(struct json *j, struct record *ret)
{
	struct record rec = { 0 };
	const char *content = NULL, *end;
	bool systemd = false;
	int r;

	r = parse_top(j, &rec, &systemd, &content);
	if (r < 0)
		return r;
	skip_space(j);
	if (j->p != j->end)
		return jfail(j, -EBADMSG, "more after the JSON text");
	if (systemd && !content)
		return jfail(j, -EBADMSG, "'content' missing");
	if (systemd) {
		end = j->p;
		j->p = content;
		j->depth = 1;
		r = parse_content(j, &rec);
		j->p = end;
		if (r < 0)
			return r;
	}
	if (rec.has_before && !rec.has_digest)
		return jfail(j, -EBADMSG, "a sealroot record without a "
			     "SHA-256 digest");
	*ret = rec;
	return 0;
}

static int replay_record(struct json *j, const struct record *rec,
			 struct measure_replay *rp)
{
	uint32_t bit = 1u << rec->pcr;
	uint8_t *value = rp->values.values[rec->pcr];

	if (rec->has_before && !(rp->before.mask & bit)) {
		memcpy(rp->before.values[rec->pcr], rec->before,
		       TPM_DIGEST_SIZE);
		rp->before.mask |= bit;
	}
	if (rec->has_before && !(rp->values.mask & bit)) {
		memcpy(value, rec->before, TPM_DIGEST_SIZE);
		rp->values.mask |= bit;
	}
	if (rec->has_before && memcmp(value, rec->before, TPM_DIGEST_SIZE))
		return jfail(j, -EBADMSG, "'pcrBefore' of PCR %u is not its "
			     "replayed value", rec->pcr);
	if (!rec->has_digest)
		return 0;
	rp->extends[rec->pcr]++;
	if (!(rp->values.mask & bit))
		return 0;
	if (extended(value, rec->digest, value) < 0)
		return jfail(j, -EIO, "SHA-256 failed");
	return 0;
}

/* The record between the separator at text[-1] and the next one. */
static int replay_one(struct json *j, const char *text, size_t n,
		      struct measure_replay *rp)
{
	struct record rec;
	int r;

	j->p = text;
	j->end = text + n;
	j->depth = 0;
	if (n > MEASURE_LOG_RECORD_MAX)
		return jfail(j, -E2BIG, "more than %d bytes",
			     MEASURE_LOG_RECORD_MAX);
	if (n == 0)
		return jfail(j, -EBADMSG, "empty");
	if (text[n - 1] != '\n')
		return jfail(j, -EBADMSG, "cut short (no line feed at the "
			     "end)");
	r = parse_record(j, &rec);
	if (r == 0)
		r = replay_record(j, &rec, rp);
	return r;
}

int measure_replay(const char *log, size_t len,
		   const struct measure_pcrs *start,
		   struct measure_replay *ret, char msg[MEASURE_MSG_MAX])
{
	struct measure_replay rp = { 0 };
	struct json j = { .start = log, .p = log, .msg = msg };
	const char *p = log, *end = log + len;
	int r;

	msg[0] = 0;
	if (len > MEASURE_LOG_MAX)
		return jfail(&j, -E2BIG, "log of %zu bytes, more than %u", len,
			     MEASURE_LOG_MAX);
	if (start) {
		rp.values = *start;
		rp.values.mask &= TPM_PCR_MASK_ALL;
	}
	if (len > 0 && log[0] != RS)
		return jfail(&j, -EBADMSG, "no record separator at the start");
	while (p < end) {
		const char *text = p + 1;
		const char *next = memchr(text, RS, (size_t)(end - text));

		p = next ? next : end;
		j.record = ++rp.records;
		r = replay_one(&j, text, (size_t)(p - text), &rp);
		if (r < 0)
			return r;
	}
	*ret = rp;
	return 0;
}
