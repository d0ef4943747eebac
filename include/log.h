/* Logging: one grammar for every message,
 *   sealroot: <stage>: <text>
 * written to /dev/kmsg (so it lands in the kernel log with a timestamp and
 * on the console), or to stderr when kmsg is not available (host tools,
 * very early boot). Secrets are never passed to these functions. */
#ifndef SEALROOT_LOG_H
#define SEALROOT_LOG_H

enum log_level {
	LOG_CRIT = 2,
	LOG_ERR = 3,
	LOG_WARNING = 4,
	LOG_NOTICE = 5,
	LOG_INFO = 6,
};

/* Open /dev/kmsg; until this succeeds messages go to stderr. */
int log_open_kmsg(void);
void log_close_kmsg(void);

void log_msg(enum log_level level, const char *stage, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_info(stage, ...) log_msg(LOG_INFO, stage, __VA_ARGS__)
#define log_notice(stage, ...) log_msg(LOG_NOTICE, stage, __VA_ARGS__)
#define log_warn(stage, ...) log_msg(LOG_WARNING, stage, __VA_ARGS__)
#define log_err(stage, ...) log_msg(LOG_ERR, stage, __VA_ARGS__)
#define log_crit(stage, ...) log_msg(LOG_CRIT, stage, __VA_ARGS__)

#endif
