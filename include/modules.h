/* Kernel modules packed by mkinitramfs: /lib/modules/sealroot.order lists
 * their paths in dependency order, one per line. They come from the
 * signed initramfs and are signed themselves, so they load under
 * lockdown. */
#ifndef SEALROOT_MODULES_H
#define SEALROOT_MODULES_H

#include <stddef.h>

#define MODULES_DIR "/lib/modules"
#define MODULES_ORDER_PATH MODULES_DIR "/sealroot.order"
#define MODULES_PATH_MAX 256

typedef int (*modules_fn)(const char *path, void *userdata);

/* Call fn for every path in an order file's text. A malformed line (not
 * an absolute path to a .ko under /lib/modules/, or too long) stops the
 * walk with -EINVAL and its number in *ret_line. fn's errors stop it too. */
int modules_parse_order(const char *text, size_t len, modules_fn fn,
			void *userdata, unsigned *ret_line);

/* Load every module the order file lists, in order; a module that is
 * already loaded is fine. *ret_count is how many were loaded. */
int modules_load_all(const char *order_path, unsigned *ret_count);

#endif
