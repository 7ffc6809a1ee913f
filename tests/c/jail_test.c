/* The FreeBSD jail plan and containers through the C ABI, as strict C99. The plan: a
 * config made for a FreeBSD host rendered as JSON, text and jail.conf, jail names, and
 * refusals. Containers (root, and knast-shim beside the library): busybox `sh -c 'echo hi;
 * exit 3'` with stdout on a pipe, wait with a timeout, exec, stop, logs, forced removal,
 * and bad input (NULL handles, options versions, bad JSON). Prints "N passed, M failed". */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include "check.h"
#include "scratch_dir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONTAINS(text, part) ((text) != NULL && strstr((text), (part)) != NULL)

static char dir[64];
static char rootfs[128];

static const char *busybox_config =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},"
    "\"config\":{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\"Cmd\":[\"sh\"]}}";

/* A busybox root: /bin/busybox (static) with its sh, true and sleep links, the mount
 * points, and a passwd of root. */
static void make_rootfs(void) {
  char command[2048];
  snprintf(rootfs, sizeof rootfs, "%s/rootfs", dir);
  snprintf(command, sizeof command,
           "mkdir -p %s/etc %s/bin %s/tmp %s/proc %s/dev %s/sys && "
           "echo 'root:x:0:0:root:/root:/bin/sh' > %s/etc/passwd && echo 'root:x:0:' > %s/etc/group && "
           "cp /bin/busybox %s/bin/busybox && for a in sh true sleep; do ln -s busybox %s/bin/$a; done",
           rootfs, rootfs, rootfs, rootfs, rootfs, rootfs, rootfs, rootfs, rootfs, rootfs);
  CHECK(system(command) == 0);
}

/* The config.json text of busybox running @p args on @p host_os. */
static char *config_for(const char *host_os, const char *const *args, size_t count, const char *memory) {
  knast_run_overrides opts = KNAST_RUN_OVERRIDES_INIT;
  char *json = NULL;
  opts.container_id = "0123456789abcdef0123456789abcdef";
  opts.host_os = host_os;
  opts.args = args;
  opts.arg_count = count;
  opts.memory = memory;
  CHECK(knast_make_run_spec(&json, busybox_config, rootfs, &opts) == KNAST_OK);
  return json;
}

static void test_plan(void) {
  const char *args[] = {"sh", "-c", "echo hi"};
  char *config = config_for("freebsd", args, 3, NULL);
  knast_jail_plan_options opts = KNAST_JAIL_PLAN_OPTIONS_INIT;
  char *json = NULL, *text = NULL, *conf = NULL, *name = NULL;

  opts.container_id = "0123456789abcdef0123456789abcdef";
  opts.root_path = "/var/db/knast/rootfs/c1";
  CHECK(knast_plan_freebsd_jail(&json, config, KNAST_PLAN_JSON, &opts) == KNAST_OK);
  CHECK(CONTAINS(json, "\"knast-0123456789ab\""));
  CHECK(CONTAINS(json, "/var/db/knast/rootfs/c1"));
  CHECK(CONTAINS(json, "linux64")); /* a Linux image: the Linuxulator's module */
  CHECK(knast_plan_freebsd_jail(&text, config, KNAST_PLAN_TEXT, &opts) == KNAST_OK);
  CHECK(CONTAINS(text, "knast-0123456789ab"));
  CHECK(CONTAINS(text, "kldload"));
  CHECK(knast_plan_freebsd_jail(&conf, config, KNAST_PLAN_JAIL_CONF, &opts) == KNAST_OK);
  CHECK(CONTAINS(conf, "knast-0123456789ab {"));
  CHECK(CONTAINS(conf, "mount +="));
  CHECK(text != NULL && conf != NULL && strstr(text, conf) != NULL); /* the text ends with the stanza */
  knast_string_free(json);
  knast_string_free(text);
  knast_string_free(conf);

  /* The image platform given explicitly wins over the config's annotation. */
  opts.image_platform = "linux/386";
  CHECK(knast_plan_freebsd_jail(&json, config, KNAST_PLAN_JSON, &opts) == KNAST_OK);
  CHECK(CONTAINS(json, "\"linux\"") && !CONTAINS(json, "linux64"));
  knast_string_free(json);

  CHECK(knast_jail_name(&name, "0123456789abcdef") == KNAST_OK);
  CHECK(name != NULL && strcmp(name, "knast-0123456789ab") == 0);
  knast_string_free(name);
  CHECK(knast_jail_name(&name, "bad.id") == KNAST_EINVALID);
  CHECK(name == NULL);
  CHECK(knast_jail_name(NULL, "abc") == KNAST_EINVALID);

  /* Refusals: options, formats, JSON, what a FreeBSD host cannot do. */
  opts.image_platform = NULL;
  CHECK(knast_plan_freebsd_jail(&json, config, 9, &opts) == KNAST_EINVALID);
  CHECK(CONTAINS(knast_last_error()->message, "KNAST_PLAN_JAIL_CONF"));
  CHECK(knast_plan_freebsd_jail(&json, config, KNAST_PLAN_JSON, NULL) == KNAST_EINVALID);
  CHECK(knast_plan_freebsd_jail(&json, "{\"ociVersion\":", KNAST_PLAN_JSON, &opts) == KNAST_EINVALID);
  CHECK(knast_plan_freebsd_jail(&json, NULL, KNAST_PLAN_JSON, &opts) == KNAST_EINVALID);
  opts.image_platform = "windows/amd64";
  CHECK(knast_plan_freebsd_jail(&json, config, KNAST_PLAN_JSON, &opts) == KNAST_EUNSUPPORTED);
  opts.image_platform = NULL;
  opts.container_id = NULL;
  CHECK(knast_plan_freebsd_jail(&json, config, KNAST_PLAN_JSON, &opts) == KNAST_EINVALID);
  opts.container_id = "0123456789abcdef";
  opts.version = 2;
  CHECK(knast_plan_freebsd_jail(&json, config, KNAST_PLAN_JSON, &opts) == KNAST_EINVALID);
  CHECK(json == NULL);
  CHECK(knast_jail_plan_options_init(&opts, KNAST_JAIL_PLAN_OPTIONS_VERSION) == KNAST_OK);
  CHECK(opts.container_id == NULL && opts.include_32bit == 0);
  CHECK(knast_jail_plan_options_init(&opts, 7) == KNAST_EINVALID);
  knast_string_free(config);

  /* A config made for Linux has Linux mounts (proc, sysfs, ...) a jail cannot make. */
  config = config_for("linux", args, 3, NULL);
  opts.container_id = "0123456789abcdef";
  CHECK(knast_plan_freebsd_jail(&json, config, KNAST_PLAN_JSON, &opts) == KNAST_EINVALID);
  knast_string_free(config);
}

/* A memory limit becomes an rctl rule of the jail, in every rendering. */
static void test_plan_rctl(void) {
  const char *args[] = {"sh"};
  char *config = config_for("freebsd", args, 1, "512m");
  knast_jail_plan_options opts = KNAST_JAIL_PLAN_OPTIONS_INIT;
  char *json = NULL, *conf = NULL;
  opts.container_id = "0123456789abcdef";
  CHECK(knast_plan_freebsd_jail(&json, config, KNAST_PLAN_JSON, &opts) == KNAST_OK);
  CHECK(CONTAINS(json, "\"jail:knast-0123456789ab:memoryuse:deny=536870912\""));
  CHECK(knast_plan_freebsd_jail(&conf, config, KNAST_PLAN_JAIL_CONF, &opts) == KNAST_OK);
  CHECK(CONTAINS(conf, "jail:knast-0123456789ab:memoryuse:deny=536870912"));
  knast_string_free(json);
  knast_string_free(conf);
  knast_string_free(config);
}

/* ---- Containers (need root and the supervisor, knast-shim) ---------------------------- */

static char state_root[512];
static int no_executor; /* no container executor for the OS, or a chroot: nothing to run */

/* A bundle named @p name running busybox @p args on this host. */
static void make_bundle(char *bundle, size_t size, const char *name, const char *const *args, size_t count) {
  char *config = config_for(NULL, args, count, NULL);
  snprintf(bundle, size, "%s/%s", dir, name);
  CHECK(knast_write_bundle(bundle, config) == KNAST_OK);
  knast_string_free(config);
}

static void test_run_to_a_pipe(void) {
  const char *args[] = {"sh", "-c", "echo hi; exit 3"};
  knast_jail_options opts = KNAST_JAIL_OPTIONS_INIT;
  knast_jail *jail = NULL, *again = NULL;
  char bundle[512], output[64];
  char *json = NULL;
  int fds[2] = {-1, -1}, code = -1;
  ssize_t n;

  make_bundle(bundle, sizeof bundle, "hi", args, 3);
  CHECK(pipe(fds) == 0);
  opts.state_root = state_root;
  opts.bundle = bundle;
  opts.id = "jbindhi0";
  opts.name = "hi";
  opts.image = "busybox";
  opts.stdio.mode = KNAST_STDIO_FDS;
  opts.stdio.fds[1] = fds[1];
  opts.stdio.fds[2] = fds[1];
  if (knast_jail_create(&jail, &opts) == KNAST_EUNSUPPORTED &&
      (strstr(knast_last_error()->message, "no container executor") != NULL ||
       strstr(knast_last_error()->message, "cannot make a container here") != NULL)) {
    printf("containers SKIPPED: %s\n", knast_last_error()->message);
    no_executor = 1;
  }
  CHECK(jail != NULL || no_executor);
  close(fds[1]);
  if (jail == NULL) {
    close(fds[0]);
    return;
  }
  CHECK(strcmp(knast_jail_id(jail), "jbindhi0") == 0);
  CHECK(knast_jail_state(&json, jail) == KNAST_OK);
  CHECK(CONTAINS(json, "\"created\""));
  knast_string_free(json);
  CHECK(knast_jail_list(&json, state_root) == KNAST_OK);
  CHECK(json != NULL && json[0] == '[' && CONTAINS(json, "\"jbindhi0\""));
  knast_string_free(json);
  CHECK(knast_jail_open(&again, state_root, "hi") == KNAST_OK);
  CHECK(again != NULL && strcmp(knast_jail_id(again), "jbindhi0") == 0);
  CHECK(knast_jail_spec(&json, again) == KNAST_OK);
  CHECK(CONTAINS(json, "echo hi; exit 3"));
  knast_string_free(json);

  CHECK(knast_jail_start(jail) == KNAST_OK);
  CHECK(knast_jail_wait(&code, again, 20000) == KNAST_OK);
  CHECK(code == 3);
  n = read(fds[0], output, sizeof output - 1);
  CHECK(n == 3);
  output[n > 0 ? n : 0] = '\0';
  CHECK(strcmp(output, "hi\n") == 0);
  close(fds[0]);
  CHECK(knast_jail_state(&json, jail) == KNAST_OK);
  CHECK(CONTAINS(json, "\"stopped\""));
  knast_string_free(json);
  CHECK(knast_jail_start(jail) == KNAST_EINVALID); /* only a created container starts */

  CHECK(knast_jail_remove(jail, 0) == KNAST_OK);
  knast_jail_free(again);
  again = NULL;
  CHECK(knast_jail_open(&again, state_root, "jbindhi0") == KNAST_ENOTFOUND);
  CHECK(again == NULL);
  knast_jail_free(jail);
}

static void test_wait_exec_stop(void) {
  const char *args[] = {"sh", "-c", "sleep 60"};
  knast_jail_options opts = KNAST_JAIL_OPTIONS_INIT;
  knast_stdio quiet = KNAST_STDIO_INIT;
  knast_jail *jail = NULL;
  char bundle[512];
  int code = -1;

  make_bundle(bundle, sizeof bundle, "sleeper", args, 3);
  opts.state_root = state_root;
  opts.bundle = bundle;
  opts.stdio.mode = KNAST_STDIO_NULL;
  CHECK(knast_jail_create(&jail, &opts) == KNAST_OK);
  if (jail == NULL) return;
  CHECK(strlen(knast_jail_id(jail)) == 64); /* a new random id */
  CHECK(knast_jail_exec(&code, jail, "{\"args\":[\"true\"]}", NULL) == KNAST_EINVALID); /* not running yet */
  CHECK(knast_jail_start(jail) == KNAST_OK);
  CHECK(knast_jail_wait(&code, jail, 200) == KNAST_ETIMEDOUT);
  CHECK(knast_last_error()->status == KNAST_ETIMEDOUT);
  CHECK(strcmp(knast_status_name(KNAST_ETIMEDOUT), "timed_out") == 0);
  CHECK(code == -1);

  quiet.mode = KNAST_STDIO_NULL;
  CHECK(knast_jail_exec(&code, jail, "{\"args\":[\"sh\",\"-c\",\"test \\\"$PATH\\\" && exit 7\"]}", &quiet) == KNAST_OK);
  CHECK(code == 7); /* the container's env was kept */
  CHECK(knast_jail_exec(&code, jail, "{\"args\":[\"sh\",\"-c\",\"exit 9\"],\"cwd\":\"/tmp\"}", &quiet) == KNAST_OK);
  CHECK(code == 9);
  CHECK(knast_jail_exec(&code, jail, "{\"args\":[\"no-such-program\"]}", &quiet) == KNAST_ENOTFOUND);
  CHECK(knast_jail_exec(&code, jail, "{\"args\":", &quiet) == KNAST_EINVALID);
  CHECK(knast_jail_exec(&code, jail, "[1]", &quiet) == KNAST_EINVALID);
  CHECK(knast_jail_exec(&code, jail, "{\"args\":[]}", &quiet) == KNAST_EINVALID);
  CHECK(knast_jail_exec(&code, jail, NULL, &quiet) == KNAST_EINVALID);
  quiet.mode = KNAST_STDIO_LOG;
  CHECK(knast_jail_exec(&code, jail, "{\"args\":[\"true\"]}", &quiet) == KNAST_EINVALID);
  quiet.mode = 42;
  CHECK(knast_jail_exec(&code, jail, "{\"args\":[\"true\"]}", &quiet) == KNAST_EINVALID);

  CHECK(knast_jail_remove(jail, 0) == KNAST_EBUSY); /* running: only with force */
  code = -1;
  CHECK(knast_jail_stop(&code, jail, 2000) == KNAST_OK);
  CHECK(code == 128 + 15 || code == 128 + 9);
  CHECK(knast_jail_kill(jail, 15, 1) == KNAST_OK); /* not an error once stopped */
  CHECK(knast_jail_remove(jail, 0) == KNAST_OK);
  knast_jail_free(jail);
}

struct log_capture {
  char out[256];
  char err[256];
  int chunks;
};

static void append(char *buffer, size_t capacity, const char *data, size_t size) {
  size_t used = strlen(buffer);
  if (size > capacity - 1 - used) size = capacity - 1 - used;
  memcpy(buffer + used, data, size);
  buffer[used + size] = '\0';
}

static int capture_log(int stream, const char *data, size_t size, void *payload) {
  struct log_capture *log = (struct log_capture *)payload;
  ++log->chunks;
  append(stream == 2 ? log->err : log->out, sizeof log->out, data, size);
  return 0;
}

static int stop_reading(int stream, const char *data, size_t size, void *payload) {
  (void)stream;
  (void)data;
  (void)size;
  (void)payload;
  return 1;
}

static void test_log(void) {
  const char *args[] = {"sh", "-c", "echo out; echo err >&2; exit 0"};
  knast_jail_options opts = KNAST_JAIL_OPTIONS_INIT;
  knast_jail *jail = NULL;
  struct log_capture log;
  char bundle[512];
  int code = -1;

  memset(&log, 0, sizeof log);
  make_bundle(bundle, sizeof bundle, "logger", args, 3);
  opts.state_root = state_root;
  opts.bundle = bundle;
  opts.stdio.mode = KNAST_STDIO_LOG;
  CHECK(knast_jail_create(&jail, &opts) == KNAST_OK);
  if (jail == NULL) return;
  CHECK(knast_jail_start(jail) == KNAST_OK);
  CHECK(knast_jail_wait(&code, jail, 20000) == KNAST_OK);
  CHECK(code == 0);
  CHECK(knast_jail_read_logs(jail, capture_log, &log, 1) == KNAST_OK);
  CHECK(strcmp(log.out, "out\n") == 0);
  CHECK(strcmp(log.err, "err\n") == 0);
  CHECK(knast_jail_read_logs(jail, stop_reading, NULL, 0) == KNAST_ECANCELLED);
  CHECK(knast_jail_read_logs(jail, NULL, NULL, 0) == KNAST_EINVALID);
  CHECK(knast_jail_remove(jail, 0) == KNAST_OK);
  knast_jail_free(jail);
}

static void test_forced_removal(void) {
  const char *args[] = {"sleep", "60"};
  knast_jail_options opts = KNAST_JAIL_OPTIONS_INIT;
  knast_jail *jail = NULL, *again = NULL;
  char bundle[512];

  make_bundle(bundle, sizeof bundle, "doomed", args, 2);
  opts.state_root = state_root;
  opts.bundle = bundle;
  opts.id = "jbinddoomed";
  opts.stdio.mode = KNAST_STDIO_NULL;
  CHECK(knast_jail_create(&jail, &opts) == KNAST_OK);
  if (jail == NULL) return;
  CHECK(knast_jail_start(jail) == KNAST_OK);
  CHECK(knast_jail_remove(jail, 1) == KNAST_OK);
  CHECK(knast_jail_open(&again, state_root, "jbinddoomed") == KNAST_ENOTFOUND);
  knast_jail_free(jail);
}

static void test_bad_input(void) {
  knast_jail_options opts = KNAST_JAIL_OPTIONS_INIT;
  knast_jail *jail = NULL;
  char missing[512];
  char *json = NULL;
  int code = 0;

  CHECK(knast_jail_options_init(&opts, KNAST_JAIL_OPTIONS_VERSION) == KNAST_OK);
  CHECK(opts.state_root == NULL && opts.stdio.mode == KNAST_STDIO_INHERIT && opts.stdio.fds[1] == -1);
  CHECK(knast_jail_options_init(&opts, KNAST_JAIL_OPTIONS_VERSION + 1) == KNAST_EINVALID);
  CHECK(knast_jail_create(&jail, NULL) == KNAST_EINVALID);
  CHECK(knast_jail_create(&jail, &opts) == KNAST_EINVALID); /* no state root, no bundle */
  snprintf(missing, sizeof missing, "%s/no-bundle", dir);
  opts.state_root = state_root;
  opts.bundle = missing;
  CHECK(knast_jail_create(&jail, &opts) == KNAST_ENOTFOUND || knast_last_error()->status == KNAST_EINVALID);
  CHECK(jail == NULL);
  opts.stdio.mode = 17;
  CHECK(knast_jail_create(&jail, &opts) == KNAST_EINVALID);
  opts.version = 99;
  CHECK(knast_jail_create(&jail, &opts) == KNAST_EINVALID);
  CHECK(CONTAINS(knast_last_error()->message, "version 99"));
  CHECK(knast_jail_create(NULL, &opts) == KNAST_EINVALID);
  CHECK(knast_jail_open(&jail, state_root, "nothing-here") == KNAST_ENOTFOUND);
  CHECK(knast_jail_open(&jail, NULL, "x") == KNAST_EINVALID);
  CHECK(knast_jail_list(NULL, state_root) == KNAST_EINVALID);
  CHECK(knast_jail_state(&json, NULL) == KNAST_EINVALID);
  CHECK(json == NULL);
  CHECK(knast_jail_spec(&json, NULL) == KNAST_EINVALID);
  CHECK(knast_jail_start(NULL) == KNAST_EINVALID);
  CHECK(knast_jail_wait(&code, NULL, 0) == KNAST_EINVALID);
  CHECK(knast_jail_kill(NULL, 9, 0) == KNAST_EINVALID);
  CHECK(knast_jail_stop(&code, NULL, 0) == KNAST_EINVALID);
  CHECK(knast_jail_exec(&code, NULL, "{}", NULL) == KNAST_EINVALID);
  CHECK(knast_jail_remove(NULL, 1) == KNAST_EINVALID);
  CHECK(knast_jail_read_logs(NULL, capture_log, NULL, 0) == KNAST_EINVALID);
  CHECK(knast_jail_id(NULL) == NULL);
  knast_jail_free(NULL);
}

int main(void) {
  if (make_scratch_dir(dir, sizeof dir, "jail") != 0) return 2;
  make_rootfs();
  test_plan();
  test_plan_rctl();
  snprintf(state_root, sizeof state_root, "%s/state", dir);
  test_bad_input();
  test_run_to_a_pipe();
  if (!no_executor) {
    test_wait_exec_stop();
    test_log();
    test_forced_removal();
  }
  remove_scratch_dir(dir);
  return REPORT();
}
