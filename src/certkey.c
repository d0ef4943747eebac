#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "certkey.h"
#include "util.h"

/* One DER element at p (of at most len bytes): its tag, where its content
 * starts and how long it is. Definite lengths only, as DER requires. */
struct tlv {
	uint8_t tag;
	const uint8_t *content;
	size_t len;		/* of the content */
	size_t total;		/* header and content */
};

static int der_next(const uint8_t *p, size_t len, struct tlv *ret)
{
	size_t n, hdr = 2, clen = 0;

	if (len < 2 || (p[0] & 0x1f) == 0x1f)
		return -EBADMSG;
	if (p[1] < 0x80) {
		clen = p[1];
	} else {
		n = p[1] & 0x7f;
		if (n == 0 || n > sizeof(size_t) - 1 || len < 2 + n)
			return -EBADMSG;
		for (size_t i = 0; i < n; i++)
			clen = clen << 8 | p[2 + i];
		hdr += n;
	}
	if (clen > len - hdr)
		return -EBADMSG;
	ret->tag = p[0];
	ret->content = p + hdr;
	ret->len = clen;
	ret->total = hdr + clen;
	return 0;
}

/* Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version
 * OPTIONAL, serialNumber, signature, issuer, validity, subject,
 * subjectPublicKeyInfo, ... }, ... } */
int certkey_from_der(const uint8_t *der, size_t len, struct certkey *ret)
{
	struct tlv cert, tbs, f;
	const uint8_t *p;
	size_t left;
	int skip = 5;

	if (der_next(der, len, &cert) < 0 || cert.tag != 0x30 ||
	    der_next(cert.content, cert.len, &tbs) < 0 || tbs.tag != 0x30)
		return -EBADMSG;
	p = tbs.content;
	left = tbs.len;
	if (der_next(p, left, &f) < 0)
		return -EBADMSG;
	if (f.tag == 0xa0) {
		p += f.total;
		left -= f.total;
	}
	while (skip--) {
		if (der_next(p, left, &f) < 0)
			return -EBADMSG;
		p += f.total;
		left -= f.total;
	}
	if (der_next(p, left, &f) < 0 || f.tag != 0x30 || f.total > sizeof(ret->spki))
		return -EBADMSG;
	memcpy(ret->spki, p, f.total);
	ret->len = f.total;
	return 0;
}

/* The base64 body of the first PEM certificate in text, decoded into out
 * (which has room for len bytes); -EBADMSG if there is none. */
static int pem_decode(const char *text, size_t len, uint8_t *out,
		      size_t *ret_len)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	const char *p = memmem(text, len, begin, sizeof(begin) - 1), *end;
	unsigned acc = 0, bits = 0;
	size_t o = 0;

	if (!p)
		return -EBADMSG;
	p += sizeof(begin) - 1;
	end = memmem(p, len - (size_t)(p - text), "-----END", 8);
	if (!end)
		return -EBADMSG;
	for (; p < end && *p != '='; p++) {
		int v = b64_value(*p);

		if (v < 0) {
			if (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t')
				continue;
			return -EBADMSG;
		}
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	*ret_len = o;
	return 0;
}

int certkey_read(const char *path, struct certkey *ret)
{
	static char buf[CERTKEY_FILE_MAX];
	static uint8_t der[CERTKEY_FILE_MAX];
	size_t len = 0, dlen = 0;
	int r;

	r = read_file(path, buf, sizeof(buf), &len);
	if (r < 0)
		return r;
	if (len && (uint8_t)buf[0] == 0x30)
		return certkey_from_der((const uint8_t *)buf, len, ret);
	r = pem_decode(buf, len, der, &dlen);
	if (r < 0)
		return r;
	return certkey_from_der(der, dlen, ret);
}
