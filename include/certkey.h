/* The public key of an X.509 certificate, for telling apart the keys that
 * sign UKIs (sealroot-audit: a development image signed with a production
 * key). A DER walk to the SubjectPublicKeyInfo, nothing more: no signature
 * or validity is checked, which comparing two keys does not need. Host
 * only. */
#ifndef SEALROOT_CERTKEY_H
#define SEALROOT_CERTKEY_H

#include <stddef.h>
#include <stdint.h>

#define CERTKEY_FILE_MAX (256u * 1024)
#define CERTKEY_SPKI_MAX 4096

struct certkey {
	uint8_t spki[CERTKEY_SPKI_MAX];	/* SubjectPublicKeyInfo, DER */
	size_t len;
};

/* The key of a DER certificate. -EBADMSG if it is not one. */
int certkey_from_der(const uint8_t *der, size_t len, struct certkey *ret);

/* The key of the first certificate in a file, PEM ("-----BEGIN
 * CERTIFICATE-----") or DER. -EBADMSG if it holds none. */
int certkey_read(const char *path, struct certkey *ret);

#endif
