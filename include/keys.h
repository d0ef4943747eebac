/* The kernel's keyrings, by the add_key and keyctl system calls (no
 * libkeyutils: four calls do not need a library). Used for what EVM and
 * IMA need from them: the EVM key pair (evm.c) and the certificates that
 * appraise signatures. */
#ifndef SEALROOT_KEYS_H
#define SEALROOT_KEYS_H

#include <stddef.h>
#include <stdint.h>

/* Special keyring ids (linux/keyctl.h). */
#define KEYS_PROCESS (-2)		/* this process; searched by request_key */
#define KEYS_USER (-4)			/* root's user keyring */

/* add_key(2): the new key's id in *ret_id. */
int keys_add(const char *type, const char *desc, const void *payload,
	     size_t len, int32_t ring, int32_t *ret_id);

/* KEYCTL_READ into buf: -EMSGSIZE if it does not fit (nothing cut). */
int keys_read(int32_t id, char *buf, size_t size, size_t *ret_len);

/* Unlink from ring and invalidate: the key is gone for every holder
 * (the kernel's garbage collector frees and wipes it). */
void keys_drop(int32_t id, int32_t ring);

/* The id of the keyring named name in the text of /proc/keys (a
 * description "name" or "name: ..."), -ENOENT if none. */
int keys_find_keyring(const char *proc_keys, const char *name, int32_t *ret_id);

/* Certificates: every regular file in dir (x509, DER: mkinitramfs
 * converts PEM) added as an asymmetric key to a keyring named ring_name
 * (_ima, _evm: the names the kernel looks up where it has no trusted
 * keyring of its own) made in root's user keyring; the keyring is then
 * closed to further keys. A certificate the kernel rejects is an error
 * naming the file. No dir, or an empty one: 0 keys, no keyring. Where
 * the kernel has a trusted keyring of its own for them (.ima, .evm), the
 * certificates go there (it takes only ones signed by a key it trusts). */
int keys_load_certs(const char *stage, const char *dir, const char *ring_name,
		    unsigned *ret_count);

#endif
