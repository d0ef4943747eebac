/* First-boot personalization: the factory tree of the verified root
 * copied onto the new state volume once EVM and IMA are active, so that
 * every file's security.ima and security.evm are made on this device,
 * under its own EVM key.
 *
 * Owners, modes, extended attributes and symlinks are kept (hard links
 * become separate files; sockets are skipped). A regular file's
 * security.ima: the factory's if it is a signature (kept: appraised
 * against the _ima keyring, and immutable), else its SHA-256 made here.
 * All of a file's metadata is set while it is still open from its
 * creation: until that last close the kernel treats it as new, and EVM
 * lets a new file's protected attributes be set before it has an HMAC. */
#ifndef SEALROOT_PERSONALIZE_H
#define SEALROOT_PERSONALIZE_H

#include <stdbool.h>
#include <stdint.h>

#define PERSONALIZE_DEPTH_MAX 64

struct personalize_stats {
	unsigned files, dirs, symlinks, nodes, signed_files, skipped;
	uint64_t bytes;
};

/* Copy the tree at src into the directory dst (which exists: the volume's
 * root; entries that exist there already, e.g. lost+found, must be
 * directories and are reused). label: set security.ima (off when IMA is
 * off: copied, not labelled). */
int personalize_tree(const char *src, const char *dst, bool label,
		     struct personalize_stats *ret);

/* Open every regular file under dst for reading, as the booted system
 * will: with a policy that appraises the volume, the kernel checks each
 * file's security.ima and security.evm now, and a file that does not
 * pass is named. With label, each must carry both attributes. */
int personalize_verify(const char *dst, bool label, unsigned *ret_files);

#endif
