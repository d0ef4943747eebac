#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "tpm2token.h"
#include "util.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define B64_LEN(n) (((n) + 2) / 3 * 4)
#define TPM2TOKEN_CC_POLICY_PCR 0x0000017fu
#define TPM2TOKEN_SIZEOF_SELECT 3

static const char b64_alphabet[64] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char hex_digits[16] = "0123456789abcdef";
/* systemd's modhex alphabet (recovery-key.c): value i is modhex[i]. */
static const char modhex[16] = { 'c', 'b', 'd', 'e', 'f', 'g', 'h', 'i',
				 'j', 'k', 'l', 'n', 'r', 't', 'u', 'v' };

struct alg_name {
	uint16_t alg;
	const char *name;
	size_t digest_size;
};

static const struct alg_name banks[] = {
	{ TPM2TOKEN_ALG_SHA1, "sha1", 20 },
	{ TPM2TOKEN_ALG_SHA256, "sha256", 32 },
	{ TPM2TOKEN_ALG_SHA384, "sha384", 48 },
	{ TPM2TOKEN_ALG_SHA512, "sha512", 64 },
};

static const struct alg_name primary_algs[] = {
	{ TPM2TOKEN_ALG_ECC, "ecc", 0 },
	{ TPM2TOKEN_ALG_RSA, "rsa", 0 },
};

static const struct alg_name *alg_by_id(const struct alg_name *t, size_t n,
					uint16_t alg)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].alg == alg)
			return &t[i];
	return NULL;
}

/* Exact, case-sensitive: systemd writes these names in lower case. */
static const struct alg_name *alg_by_name(const struct alg_name *t, size_t n,
					  const char *s, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(t[i].name) == len && memcmp(t[i].name, s, len) == 0)
			return &t[i];
	return NULL;
}

__attribute__((format(printf, 3, 4)))
static int fail(char msg[TPM2TOKEN_MSG_MAX], int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, TPM2TOKEN_MSG_MAX, fmt, ap);
	va_end(ap);
	return err;
}

/* ---- base64 (RFC 4648 standard alphabet, padded) ---- */

static void b64_quad(uint32_t v, size_t chars, char out[4])
{
	for (size_t k = 0; k < 4; k++)
		out[k] = k < chars ? b64_alphabet[(v >> (18 - 6 * k)) & 63] : '=';
}

/* B64_LEN(n) characters and a NUL into dst. Also encodes secrets: the
 * accumulator is wiped. */
static void b64_encode(const uint8_t *src, size_t n, char *dst)
{
	size_t i, o = 0;
	uint32_t v = 0;

	for (i = 0; i + 3 <= n; i += 3, o += 4) {
		v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
		b64_quad(v, 4, dst + o);
	}
	if (i < n) {
		v = (uint32_t)src[i] << 16;
		if (n - i == 2)
			v |= (uint32_t)src[i + 1] << 8;
		b64_quad(v, n - i + 1, dst + o);
		o += 4;
	}
	dst[o] = 0;
	explicit_bzero(&v, sizeof(v));
}

/* One group of four characters, the last pad of them '=', into 3 - pad
 * bytes. The bits padding leaves unused must be zero. */
static int b64_group(const char s[4], size_t pad, uint8_t *dst)
{
	uint32_t v = 0;

	for (size_t k = 0; k < 4; k++) {
		int d = k < 4 - pad ? b64_value(s[k]) : 0;

		if (d < 0)
			return -EINVAL;
		v = v << 6 | (uint32_t)d;
	}
	if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))
		return -EINVAL;
	for (size_t k = 0; k < 3 - pad; k++)
		dst[k] = (uint8_t)(v >> (16 - 8 * k));
	return 0;
}

/* Strict decoding: a multiple of 4 characters, no whitespace, '=' only as
 * the last one or two, unused bits zero, so each byte string has exactly
 * one accepted encoding. -EINVAL, or -EMSGSIZE above size bytes. */
static int b64_decode(const char *s, size_t len, uint8_t *dst, size_t size,
		      size_t *ret_n)
{
	size_t pad, n;

	if (len == 0 || len % 4)
		return -EINVAL;
	pad = s[len - 1] != '=' ? 0 : s[len - 2] != '=' ? 1 : 2;
	n = len / 4 * 3 - pad;
	if (n > size)
		return -EMSGSIZE;
	for (size_t i = 0; i < len; i += 4) {
		size_t p = i + 4 == len ? pad : 0;

		if (b64_group(s + i, p, dst + i / 4 * 3) < 0)
			return -EINVAL;
	}
	*ret_n = n;
	return 0;
}

/* ---- hex (lower case only, as systemd writes it) ---- */

static int hex_value(char c)
{
	const char *p = c ? memchr(hex_digits, c, sizeof(hex_digits)) : NULL;

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

/* ---- JSON access ---- */

static bool only_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\r\n", s[i]))
			return false;
	return true;
}

/* The token text as a json-c object: strict JSON, valid UTF-8, bounded
 * size and depth, nothing but whitespace after it. */
static int json_load(const char *json, size_t len, json_object **ret,
		     char msg[TPM2TOKEN_MSG_MAX])
{
	enum json_tokener_error e;
	struct json_tokener *tok;
	json_object *obj;
	size_t end;

	if (len > TPM2TOKEN_JSON_MAX)
		return fail(msg, -E2BIG, "token: %zu bytes, more than %d", len,
			    TPM2TOKEN_JSON_MAX);
	if (len == 0 || memchr(json, 0, len))
		return fail(msg, -EBADMSG, "token: not JSON text");
	tok = json_tokener_new_ex(TPM2TOKEN_JSON_DEPTH);
	if (!tok)
		return fail(msg, -ENOMEM, "token: out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, json, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (e == json_tokener_error_depth)
		return fail(msg, -E2BIG, "token: nested deeper than %d",
			    TPM2TOKEN_JSON_DEPTH);
	if (!obj || e != json_tokener_success || end > len ||
	    !only_space(json + end, len - end) ||
	    !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return fail(msg, -EBADMSG, "token: not a JSON object");
	}
	*ret = obj;
	return 0;
}

/* A field: 1 and *ret if present, 0 if absent and optional. */
static int field(json_object *obj, const char *key, bool required,
		 json_object **ret, char msg[TPM2TOKEN_MSG_MAX])
{
	if (!json_object_object_get_ex(obj, key, ret))
		return required ? fail(msg, -ENODATA, "'%s': missing", key) : 0;
	return 1;
}

/* A string field without NUL bytes (json-c allows "\u0000"). */
static int string_field(json_object *obj, const char *key, bool required,
			const char **ret, size_t *ret_len,
			char msg[TPM2TOKEN_MSG_MAX])
{
	json_object *v;
	const char *s;
	size_t n;
	int r;

	r = field(obj, key, required, &v, msg);
	if (r <= 0)
		return r;
	if (!json_object_is_type(v, json_type_string))
		return fail(msg, -EINVAL, "'%s': not a string", key);
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (memchr(s, 0, n))
		return fail(msg, -EINVAL, "'%s': contains a NUL", key);
	*ret = s;
	*ret_len = n;
	return 1;
}

/* ---- the fields ---- */

static int parse_type(json_object *obj, struct tpm2token *t,
		      char msg[TPM2TOKEN_MSG_MAX])
{
	static const char type[] = "systemd-tpm2";
	const char *s;
	size_t n;
	int r;

	(void)t;
	r = string_field(obj, "type", true, &s, &n, msg);
	if (r < 0)
		return r == -EINVAL ? -EMEDIUMTYPE : r;
	if (n != strlen(type) || memcmp(s, type, n) != 0)
		return fail(msg, -EMEDIUMTYPE, "'type': not \"%s\"", type);
	return 0;
}

/* A canonical decimal keyslot: digits only, no leading zero; the range
 * check inside the loop also keeps v from overflowing. */
static int parse_keyslot_string(const char *s, size_t n, uint32_t *ret)
{
	uint32_t v = 0;

	if (n == 0 || (n > 1 && s[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint32_t)(s[i] - '0');
		if (v >= TPM2TOKEN_KEYSLOTS)
			return -ERANGE;
	}
	*ret = v;
	return 0;
}

static int parse_keyslots(json_object *obj, struct tpm2token *t,
			  char msg[TPM2TOKEN_MSG_MAX])
{
	json_object *a, *e;
	const char *s;
	int r;

	r = field(obj, "keyslots", true, &a, msg);
	if (r < 0)
		return r;
	if (!json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) != 1)
		return fail(msg, -EINVAL, "'keyslots': not an array of one");
	e = json_object_array_get_idx(a, 0);
	if (!json_object_is_type(e, json_type_string))
		return fail(msg, -EINVAL, "'keyslots': not a string");
	s = json_object_get_string(e);
	r = parse_keyslot_string(s, (size_t)json_object_get_string_len(e),
				 &t->keyslot);
	if (r == -ERANGE)
		return fail(msg, r, "'keyslots': keyslot above %d",
			    TPM2TOKEN_KEYSLOTS - 1);
	if (r < 0)
		return fail(msg, r, "'keyslots': not a decimal keyslot");
	return 0;
}

static int parse_pcr(json_object *e, uint32_t *mask,
		     char msg[TPM2TOKEN_MSG_MAX])
{
	int64_t v;

	if (!json_object_is_type(e, json_type_int))
		return fail(msg, -EINVAL, "'tpm2-pcrs': not an integer");
	v = json_object_get_int64(e);
	if (v < 0 || v >= TPM2TOKEN_PCRS)
		return fail(msg, -ERANGE, "'tpm2-pcrs': PCR %lld out of 0..%d",
			    (long long)v, TPM2TOKEN_PCRS - 1);
	if (*mask & UINT32_C(1) << v)
		return fail(msg, -ENOTUNIQ, "'tpm2-pcrs': PCR %lld twice",
			    (long long)v);
	*mask |= UINT32_C(1) << v;
	return 0;
}

static int parse_pcrs(json_object *obj, struct tpm2token *t,
		      char msg[TPM2TOKEN_MSG_MAX])
{
	json_object *a;
	size_t n;
	int r;

	r = field(obj, "tpm2-pcrs", true, &a, msg);
	if (r < 0)
		return r;
	if (!json_object_is_type(a, json_type_array))
		return fail(msg, -EINVAL, "'tpm2-pcrs': not an array");
	n = json_object_array_length(a);
	for (size_t i = 0; i < n; i++) {
		r = parse_pcr(json_object_array_get_idx(a, i), &t->pcr_mask, msg);
		if (r < 0)
			return r;
	}
	return 0;
}

/* An optional algorithm name from table tab; *ret untouched if absent. */
static int parse_alg(json_object *obj, const char *key,
		     const struct alg_name *tab, size_t n, uint16_t *ret,
		     char msg[TPM2TOKEN_MSG_MAX])
{
	const struct alg_name *a;
	const char *s;
	size_t len;
	int r;

	r = string_field(obj, key, false, &s, &len, msg);
	if (r <= 0)
		return r;
	a = alg_by_name(tab, n, s, len);
	if (!a)
		return fail(msg, -EOPNOTSUPP, "'%s': unknown algorithm", key);
	*ret = a->alg;
	return 0;
}

static int parse_bank(json_object *obj, struct tpm2token *t,
		      char msg[TPM2TOKEN_MSG_MAX])
{
	return parse_alg(obj, "tpm2-pcr-bank", banks, ARRAY_SIZE(banks),
			 &t->pcr_bank, msg);
}

/* Absent: ECC, the only primary before systemd 250. */
static int parse_primary_alg(json_object *obj, struct tpm2token *t,
			     char msg[TPM2TOKEN_MSG_MAX])
{
	t->primary_alg = TPM2TOKEN_ALG_ECC;
	return parse_alg(obj, "tpm2-primary-alg", primary_algs,
			 ARRAY_SIZE(primary_algs), &t->primary_alg, msg);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* One TPM2B at *off: a 2-byte big-endian size, then 1..max bytes. */
static int split_tpm2b(const uint8_t *blob, size_t n, size_t *off,
		       const char *what, size_t max, uint8_t *dst,
		       uint16_t *ret_size, char msg[TPM2TOKEN_MSG_MAX])
{
	size_t size;

	if (n - *off < 2)
		return fail(msg, -EPROTO, "'tpm2-blob': %s missing", what);
	size = be16(blob + *off);
	if (size == 0)
		return fail(msg, -EPROTO, "'tpm2-blob': %s empty", what);
	if (size > max)
		return fail(msg, -EMSGSIZE, "'tpm2-blob': %s of %zu bytes, more than %zu",
			    what, size, max);
	if (n - *off - 2 < size)
		return fail(msg, -EPROTO, "'tpm2-blob': %s truncated", what);
	memcpy(dst, blob + *off + 2, size);
	*ret_size = (uint16_t)size;
	*off += 2 + size;
	return 0;
}

int tpm2token_blob_split(const uint8_t *blob, size_t n, struct tpm2token *t,
			 char msg[TPM2TOKEN_MSG_MAX])
{
	size_t off = 0;
	int r;

	r = split_tpm2b(blob, n, &off, "TPM2B_PRIVATE", TPM2TOKEN_PRIVATE_MAX,
			t->private_area, &t->private_size, msg);
	if (r < 0)
		return r;
	r = split_tpm2b(blob, n, &off, "TPM2B_PUBLIC", TPM2TOKEN_PUBLIC_MAX,
			t->public_area, &t->public_size, msg);
	if (r < 0)
		return r;
	if (off != n)
		return fail(msg, -EPROTO, "'tpm2-blob': %zu bytes after TPM2B_PUBLIC",
			    n - off);
	return 0;
}

static int parse_blob(json_object *obj, struct tpm2token *t,
		      char msg[TPM2TOKEN_MSG_MAX])
{
	uint8_t blob[TPM2TOKEN_BLOB_MAX];
	size_t len, n;
	const char *s;
	int r;

	r = string_field(obj, "tpm2-blob", true, &s, &len, msg);
	if (r < 0)
		return r;
	r = b64_decode(s, len, blob, sizeof(blob), &n);
	if (r == -EMSGSIZE)
		return fail(msg, r, "'tpm2-blob': more than %d bytes",
			    TPM2TOKEN_BLOB_MAX);
	if (r < 0)
		return fail(msg, r, "'tpm2-blob': not strict padded base64");
	return tpm2token_blob_split(blob, n, t, msg);
}

static int parse_policy_hash(json_object *obj, struct tpm2token *t,
			     char msg[TPM2TOKEN_MSG_MAX])
{
	const char *s;
	size_t n;
	int r;

	r = string_field(obj, "tpm2-policy-hash", true, &s, &n, msg);
	if (r < 0)
		return r;
	if (hex_decode(s, n, t->policy_hash, sizeof(t->policy_hash)) < 0)
		return fail(msg, -EINVAL,
			    "'tpm2-policy-hash': not %d lower-case hex digits",
			    2 * TPM2TOKEN_DIGEST_SIZE);
	return 0;
}

static int parse_pin(json_object *obj, struct tpm2token *t,
		     char msg[TPM2TOKEN_MSG_MAX])
{
	json_object *v;
	int r;

	r = field(obj, "tpm2-pin", false, &v, msg);
	if (r <= 0)
		return r;
	if (!json_object_is_type(v, json_type_boolean))
		return fail(msg, -EINVAL, "'tpm2-pin': not a boolean");
	t->pin = json_object_get_boolean(v);
	return 0;
}

/* A PCR policy signed by a key (systemd-measure): not supported. */
static int parse_signed_policy(json_object *obj, struct tpm2token *t,
			       char msg[TPM2TOKEN_MSG_MAX])
{
	static const char *const keys[] = { "tpm2_pubkey_pcrs", "tpm2_pubkey" };
	json_object *v;

	(void)t;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (json_object_object_get_ex(obj, keys[i], &v))
			return fail(msg, -EOPNOTSUPP,
				    "'%s': signed PCR policies not supported",
				    keys[i]);
	return 0;
}

static int parse_primary_handle(json_object *obj, struct tpm2token *t,
				char msg[TPM2TOKEN_MSG_MAX])
{
	json_object *v;
	int64_t h;

	json_object_object_get_ex(obj, "sealroot_primary_handle", &v);
	if (!json_object_is_type(v, json_type_int))
		return fail(msg, -EINVAL,
			    "'sealroot_primary_handle': not an integer");
	h = json_object_get_int64(v);
	if (h < TPM2TOKEN_HANDLE_FIRST || h > TPM2TOKEN_HANDLE_LAST)
		return fail(msg, -ERANGE,
			    "'sealroot_primary_handle': not an owner persistent handle");
	t->primary_handle = (uint32_t)h;
	return 0;
}

/* sealroot's own pair: both or neither; the name a sha256 TPM2B_NAME. */
static int parse_sealroot_primary(json_object *obj, struct tpm2token *t,
				  char msg[TPM2TOKEN_MSG_MAX])
{
	bool has_handle = json_object_object_get_ex(obj, "sealroot_primary_handle", NULL);
	const char *s;
	size_t n;
	int r;

	r = string_field(obj, "sealroot_primary_name", has_handle, &s, &n, msg);
	if (r <= 0)
		return r;
	if (!has_handle)
		return fail(msg, -ENODATA, "'sealroot_primary_handle': missing");
	if (hex_decode(s, n, t->primary_name, sizeof(t->primary_name)) < 0 ||
	    be16(t->primary_name) != TPM2TOKEN_ALG_SHA256)
		return fail(msg, -EINVAL,
			    "'sealroot_primary_name': not a sha256 name in hex");
	return parse_primary_handle(obj, t, msg);
}

/* The recorded values concatenated in ascending PCR order, as
 * tpm2token_policy_pcr takes them: 0 if they give policy_hash, -EINVAL
 * if not (or if there may be none: another bank, a PIN). */
static int pcr_values_match(const struct tpm2token *t)
{
	uint8_t values[TPM2TOKEN_PCRS * TPM2TOKEN_DIGEST_SIZE];
	uint8_t digest[TPM2TOKEN_DIGEST_SIZE];
	size_t n = 0;
	int r;

	if (t->pcr_bank != TPM2TOKEN_ALG_SHA256 || t->pin)
		return -EINVAL;
	for (uint32_t i = 0; i < TPM2TOKEN_PCRS; i++)
		if (t->pcr_mask & UINT32_C(1) << i) {
			memcpy(values + n, t->pcr_values[i], TPM2TOKEN_DIGEST_SIZE);
			n += TPM2TOKEN_DIGEST_SIZE;
		}
	r = tpm2token_policy_pcr(t->pcr_bank, t->pcr_mask, values, n, digest);
	if (r < 0)
		return r;
	return memcmp(digest, t->policy_hash, sizeof(digest)) ? -EINVAL : 0;
}

static int parse_pcr_value(json_object *e, uint8_t value[TPM2TOKEN_DIGEST_SIZE],
			   char msg[TPM2TOKEN_MSG_MAX])
{
	if (!json_object_is_type(e, json_type_string) ||
	    hex_decode(json_object_get_string(e),
		       (size_t)json_object_get_string_len(e), value,
		       TPM2TOKEN_DIGEST_SIZE) < 0)
		return fail(msg, -EINVAL,
			    "'sealroot_pcr_values': a value not %d lower-case hex digits",
			    2 * TPM2TOKEN_DIGEST_SIZE);
	return 0;
}

/* sealroot's PCR values at sealing: an array, one value per PCR of the
 * mask in ascending order (position names the PCR, so none can repeat),
 * held to the policy hash they must reproduce. */
static int parse_sealroot_pcr_values(json_object *obj, struct tpm2token *t,
				     char msg[TPM2TOKEN_MSG_MAX])
{
	json_object *a;
	size_t k = 0;
	int r;

	r = field(obj, "sealroot_pcr_values", false, &a, msg);
	if (r <= 0)
		return r;
	if (t->pcr_bank != TPM2TOKEN_ALG_SHA256 || t->pin)
		return fail(msg, -EINVAL,
			    "'sealroot_pcr_values': only with bank sha256 and no PIN");
	if (!json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) != (size_t)__builtin_popcount(t->pcr_mask))
		return fail(msg, -EINVAL,
			    "'sealroot_pcr_values': not one value per PCR of 'tpm2-pcrs'");
	for (uint32_t i = 0; i < TPM2TOKEN_PCRS; i++) {
		if (!(t->pcr_mask & UINT32_C(1) << i))
			continue;
		r = parse_pcr_value(json_object_array_get_idx(a, k++),
				    t->pcr_values[i], msg);
		if (r < 0)
			return r;
	}
	r = pcr_values_match(t);
	if (r == -EINVAL)
		return fail(msg, r,
			    "'sealroot_pcr_values': do not give 'tpm2-policy-hash'");
	if (r < 0)
		return fail(msg, r, "'sealroot_pcr_values': cannot hash them");
	t->has_pcr_values = true;
	return 0;
}

int tpm2token_parse(const char *json, size_t len, struct tpm2token *ret,
		    char msg[TPM2TOKEN_MSG_MAX])
{
	static int (*const steps[])(json_object *, struct tpm2token *, char *) = {
		parse_type, parse_keyslots, parse_pcrs, parse_bank,
		parse_primary_alg, parse_blob, parse_policy_hash, parse_pin,
		parse_signed_policy, parse_sealroot_primary,
		parse_sealroot_pcr_values,
	};
	json_object *obj = NULL;
	struct tpm2token t;
	int r;

	r = json_load(json, len, &obj, msg);
	if (r < 0)
		return r;
	memset(&t, 0, sizeof(t));
	for (size_t i = 0; i < ARRAY_SIZE(steps) && r == 0; i++)
		r = steps[i](obj, &t, msg);
	json_object_put(obj);
	if (r < 0)
		return r;
	memcpy(ret, &t, sizeof(t));
	return 0;
}

/* ---- the serializer ---- */

/* Output into buf, or only counted when buf is NULL. */
struct out {
	char *buf;
	size_t size;
	size_t len;
	int err;
};

static void out_mem(struct out *o, const char *s, size_t n)
{
	if (o->buf && o->len + n < o->size)
		memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void out_str(struct out *o, const char *s)
{
	out_mem(o, s, strlen(s));
}

static void out_uint(struct out *o, uint32_t v)
{
	char num[11];
	int n = snprintf(num, sizeof(num), "%u", (unsigned int)v);

	out_mem(o, num, (size_t)n);
}

/* An algorithm's name; an id the table lacks fails the output. */
static void out_alg(struct out *o, const struct alg_name *tab, size_t n,
		    uint16_t alg)
{
	const struct alg_name *a = alg_by_id(tab, n, alg);

	if (a)
		out_str(o, a->name);
	else
		o->err = -EINVAL;
}

static void out_hex(struct out *o, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char h[2] = { hex_digits[p[i] >> 4], hex_digits[p[i] & 15] };

		out_mem(o, h, 2);
	}
}

size_t tpm2token_blob_join(const struct tpm2token *t,
			   uint8_t blob[TPM2TOKEN_BLOB_MAX])
{
	size_t n = 0;

	blob[n++] = (uint8_t)(t->private_size >> 8);
	blob[n++] = (uint8_t)t->private_size;
	memcpy(blob + n, t->private_area, t->private_size);
	n += t->private_size;
	blob[n++] = (uint8_t)(t->public_size >> 8);
	blob[n++] = (uint8_t)t->public_size;
	memcpy(blob + n, t->public_area, t->public_size);
	return n + t->public_size;
}

/* The blob: TPM2B_PRIVATE then TPM2B_PUBLIC, each with its size. */
static void out_blob(struct out *o, const struct tpm2token *t)
{
	uint8_t blob[TPM2TOKEN_BLOB_MAX];
	size_t n = tpm2token_blob_join(t, blob);

	if (o->buf && o->len + B64_LEN(n) < o->size)
		b64_encode(blob, n, o->buf + o->len);
	o->len += B64_LEN(n);
}

static void out_pcrs(struct out *o, uint32_t mask)
{
	bool first = true;

	for (uint32_t i = 0; i < TPM2TOKEN_PCRS; i++) {
		if (!(mask & UINT32_C(1) << i))
			continue;
		if (!first)
			out_str(o, ",");
		out_uint(o, i);
		first = false;
	}
}

static void out_pcr_values(struct out *o, const struct tpm2token *t)
{
	const char *sep = "";

	out_str(o, ",\"sealroot_pcr_values\":[");
	for (uint32_t i = 0; i < TPM2TOKEN_PCRS; i++) {
		if (!(t->pcr_mask & UINT32_C(1) << i))
			continue;
		out_str(o, sep);
		out_str(o, "\"");
		out_hex(o, t->pcr_values[i], TPM2TOKEN_DIGEST_SIZE);
		out_str(o, "\"");
		sep = ",";
	}
	out_str(o, "]");
}

/* Field names, order and types of v252's tpm2_make_luks2_json. */
static void out_token(struct out *o, const struct tpm2token *t)
{
	out_str(o, "{\"type\":\"systemd-tpm2\",\"keyslots\":[\"");
	out_uint(o, t->keyslot);
	out_str(o, "\"],\"tpm2-blob\":\"");
	out_blob(o, t);
	out_str(o, "\",\"tpm2-pcrs\":[");
	out_pcrs(o, t->pcr_mask);
	out_str(o, "]");
	if (t->pcr_bank) {
		out_str(o, ",\"tpm2-pcr-bank\":\"");
		out_alg(o, banks, ARRAY_SIZE(banks), t->pcr_bank);
		out_str(o, "\"");
	}
	out_str(o, ",\"tpm2-primary-alg\":\"");
	out_alg(o, primary_algs, ARRAY_SIZE(primary_algs), t->primary_alg);
	out_str(o, "\",\"tpm2-policy-hash\":\"");
	out_hex(o, t->policy_hash, sizeof(t->policy_hash));
	out_str(o, t->pin ? "\",\"tpm2-pin\":true" : "\",\"tpm2-pin\":false");
	if (t->primary_handle) {
		out_str(o, ",\"sealroot_primary_handle\":");
		out_uint(o, t->primary_handle);
		out_str(o, ",\"sealroot_primary_name\":\"");
		out_hex(o, t->primary_name, sizeof(t->primary_name));
		out_str(o, "\"");
	}
	if (t->has_pcr_values)
		out_pcr_values(o, t);
	out_str(o, "}");
}

/* What tpm2token_parse would refuse (unknown algorithms: out_alg). */
static bool token_valid(const struct tpm2token *t)
{
	if (t->keyslot >= TPM2TOKEN_KEYSLOTS || t->pcr_mask >> TPM2TOKEN_PCRS)
		return false;
	if (!t->private_size || t->private_size > TPM2TOKEN_PRIVATE_MAX ||
	    !t->public_size || t->public_size > TPM2TOKEN_PUBLIC_MAX)
		return false;
	if (t->has_pcr_values && pcr_values_match(t) < 0)
		return false;
	if (!t->primary_handle)
		return true;
	return t->primary_handle >= TPM2TOKEN_HANDLE_FIRST &&
	       t->primary_handle <= TPM2TOKEN_HANDLE_LAST &&
	       be16(t->primary_name) == TPM2TOKEN_ALG_SHA256;
}

int tpm2token_format(const struct tpm2token *t, char *buf, size_t size,
		     size_t *ret_len)
{
	struct out o = { 0 };

	if (!token_valid(t))
		return -EINVAL;
	out_token(&o, t);
	if (o.err)
		return o.err;
	if (o.len >= size)
		return -ENOBUFS;
	o = (struct out){ .buf = buf, .size = size };
	out_token(&o, t);
	buf[o.len] = 0;
	*ret_len = o.len;
	return 0;
}

/* Only the rows of the mask are recorded (the masks are compared). */
static bool pcr_values_equal(const struct tpm2token *a,
			     const struct tpm2token *b)
{
	if (a->has_pcr_values != b->has_pcr_values)
		return false;
	for (uint32_t i = 0; a->has_pcr_values && i < TPM2TOKEN_PCRS; i++)
		if (a->pcr_mask & UINT32_C(1) << i &&
		    memcmp(a->pcr_values[i], b->pcr_values[i], TPM2TOKEN_DIGEST_SIZE))
			return false;
	return true;
}

bool tpm2token_equal(const struct tpm2token *a, const struct tpm2token *b)
{
	return a->keyslot == b->keyslot && a->pcr_mask == b->pcr_mask &&
	       a->pcr_bank == b->pcr_bank && a->primary_alg == b->primary_alg &&
	       a->pin == b->pin &&
	       !memcmp(a->policy_hash, b->policy_hash, sizeof(a->policy_hash)) &&
	       a->private_size == b->private_size &&
	       !memcmp(a->private_area, b->private_area, a->private_size) &&
	       a->public_size == b->public_size &&
	       !memcmp(a->public_area, b->public_area, a->public_size) &&
	       a->primary_handle == b->primary_handle &&
	       !memcmp(a->primary_name, b->primary_name, sizeof(a->primary_name)) &&
	       pcr_values_equal(a, b);
}

/* ---- PolicyPCR ---- */

static int sha256(const void *data, size_t n, uint8_t ret[32])
{
	unsigned int len = 0;

	if (!EVP_Digest(data, n, ret, &len, EVP_sha256(), NULL) || len != 32)
		return -EIO;
	return 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int tpm2token_policy_pcr(uint16_t bank, uint32_t pcr_mask,
			 const uint8_t *values, size_t values_size,
			 uint8_t ret_digest[TPM2TOKEN_DIGEST_SIZE])
{
	/* old digest, command code, TPML_PCR_SELECTION, pcrDigest */
	uint8_t buf[32 + 4 + 4 + 2 + 1 + TPM2TOKEN_SIZEOF_SELECT + 32];
	uint8_t digest[TPM2TOKEN_DIGEST_SIZE];
	const struct alg_name *a = alg_by_id(banks, ARRAY_SIZE(banks), bank);
	int r;

	if (!a || pcr_mask >> TPM2TOKEN_PCRS ||
	    values_size != (size_t)__builtin_popcount(pcr_mask) * a->digest_size)
		return -EINVAL;
	memset(buf, 0, sizeof(buf));
	if (!pcr_mask) {
		memcpy(ret_digest, buf, TPM2TOKEN_DIGEST_SIZE);
		return 0;
	}
	put_be32(buf + 32, TPM2TOKEN_CC_POLICY_PCR);
	put_be32(buf + 36, 1);
	buf[40] = (uint8_t)(bank >> 8);
	buf[41] = (uint8_t)bank;
	buf[42] = TPM2TOKEN_SIZEOF_SELECT;
	for (int i = 0; i < TPM2TOKEN_SIZEOF_SELECT; i++)
		buf[43 + i] = (uint8_t)(pcr_mask >> (8 * i));
	r = sha256(values, values_size, buf + 46);
	if (r == 0)
		r = sha256(buf, sizeof(buf), digest);
	if (r == 0)
		memcpy(ret_digest, digest, sizeof(digest));
	return r;
}

/* ---- the recorded PCR values: diagnostics ---- */

int tpm2token_pcr_diff(const struct tpm2token *t,
		       const uint8_t current[TPM2TOKEN_PCRS][TPM2TOKEN_DIGEST_SIZE],
		       uint32_t *ret_mask)
{
	uint32_t diff = 0;

	if (!t->has_pcr_values)
		return -ENODATA;
	for (uint32_t i = 0; i < TPM2TOKEN_PCRS; i++)
		if (t->pcr_mask & UINT32_C(1) << i &&
		    memcmp(t->pcr_values[i], current[i], TPM2TOKEN_DIGEST_SIZE))
			diff |= UINT32_C(1) << i;
	*ret_mask = diff;
	return 0;
}

static void hex_string(const uint8_t *p, size_t n, char *dst)
{
	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = hex_digits[p[i] >> 4];
		dst[2 * i + 1] = hex_digits[p[i] & 15];
	}
	dst[2 * n] = 0;
}

int tpm2token_pcr_line(const struct tpm2token *t, unsigned int pcr,
		       const uint8_t value_now[TPM2TOKEN_DIGEST_SIZE],
		       char ret[TPM2TOKEN_PCR_LINE_MAX])
{
	char was[2 * TPM2TOKEN_DIGEST_SIZE + 1], now[2 * TPM2TOKEN_DIGEST_SIZE + 1];

	if (!t->has_pcr_values)
		return -ENODATA;
	if (pcr >= TPM2TOKEN_PCRS || !(t->pcr_mask & UINT32_C(1) << pcr))
		return -EINVAL;
	hex_string(t->pcr_values[pcr], TPM2TOKEN_DIGEST_SIZE, was);
	hex_string(value_now, TPM2TOKEN_DIGEST_SIZE, now);
	snprintf(ret, TPM2TOKEN_PCR_LINE_MAX, "PCR %u expected %s read %s", pcr,
		 was, now);
	return 0;
}

/* ---- secrets ---- */

int tpm2token_passphrase(const uint8_t secret[TPM2TOKEN_SECRET_SIZE],
			 char ret[TPM2TOKEN_PASSPHRASE_LEN + 1])
{
	b64_encode(secret, TPM2TOKEN_SECRET_SIZE, ret);
	return 0;
}

int tpm2token_recovery_format(const uint8_t key[TPM2TOKEN_RECOVERY_SIZE],
			      char ret[TPM2TOKEN_RECOVERY_LEN + 1])
{
	size_t j = 0;

	for (size_t i = 0; i < TPM2TOKEN_RECOVERY_SIZE; i++) {
		if (i > 0 && i % 4 == 0)
			ret[j++] = '-';
		ret[j++] = modhex[key[i] >> 4];
		ret[j++] = modhex[key[i] & 15];
	}
	ret[j] = 0;
	return 0;
}

static int modhex_value(char c)
{
	const char *p;

	c = (char)tolower((unsigned char)c);
	p = c ? memchr(modhex, c, sizeof(modhex)) : NULL;
	return p ? (int)(p - modhex) : -1;
}

int tpm2token_recovery_normalize(const char *input,
				 char ret[TPM2TOKEN_RECOVERY_LEN + 1])
{
	uint8_t key[TPM2TOKEN_RECOVERY_SIZE];
	size_t n = 0;
	int r = -EINVAL, v = 0;

	if (strnlen(input, TPM2TOKEN_RECOVERY_INPUT_MAX + 1) >
	    TPM2TOKEN_RECOVERY_INPUT_MAX)
		return -E2BIG;
	for (const char *p = input; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '-')
			continue;
		v = modhex_value(*p);
		if (v < 0 || n == 2 * sizeof(key))
			goto out_wipe_key;
		key[n / 2] = (uint8_t)(n % 2 ? key[n / 2] | v : v << 4);
		n++;
	}
	if (n == 2 * sizeof(key))
		r = tpm2token_recovery_format(key, ret);
out_wipe_key:
	explicit_bzero(key, sizeof(key));
	explicit_bzero(&v, sizeof(v));
	return r;
}
